"""The text decoder's tensors from config.json: attention (GQA or MLA), MLPs and experts (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .config_fields import OWN_CONFIG, read_int, read_opt, refuse, sparse_layers
from .families import Family

__all__ = ["Weights", "attention_tensors", "feed_forward_tensors", "mlp_tensors"]

# Sizes are counted tensor by tensor, named as checkpoints name them, so that a quantization
# can store each kind, and skip each module its config leaves out, as the engine does.


@dataclass(frozen=True)
class Weights:
    """One tensor of the model, repeated over `layers` (and over `copies` stacked experts)."""

    name: str
    """Checkpoint module path, with `{}` for the layer index when it repeats over layers."""
    kind: str
    """linear, experts (routed), head, embedding, router or vector (norms, sinks, positions)."""
    rows: int
    """Output features (a vector's length)."""
    cols: int = 1
    """Input features (1 for a vector)."""
    copies: int = 1
    """Experts stacked in one tensor."""
    bias: int = 0
    """Bias values beside the matrix, per copy, kept in 16 bits by every method."""
    layers: tuple[int, ...] = ()
    """Layer indices it repeats over; empty: it occurs once."""
    vision: bool = False
    """Part of the vision tower or projector."""

    @property
    def count(self) -> int:
        """How many times the tensor occurs."""
        return max(1, len(self.layers))

    @property
    def parameters(self) -> int:
        """Parameters over all its occurrences."""
        return (self.rows * self.cols + self.bias) * self.copies * self.count


def attention_tensors(
    text: Mapping[str, Any], fam: Family, prefix: str, every: tuple[int, ...], source: str
) -> tuple[list[Weights], int, int]:
    """Attention tensors of every layer, the latent cached per token (MLA) and the head size."""
    hidden = read_int(text, "hidden_size", source)
    heads = read_int(text, "num_attention_heads", source)
    name = f"{prefix}.layers.{{}}.self_attn"
    bias = bool(text.get("attention_bias"))
    kv_rank = read_opt(text, "kv_lora_rank", source)
    if kv_rank:
        rope = read_opt(text, "qk_rope_head_dim", source) or 0
        nope = read_opt(text, "qk_nope_head_dim", source) or 0
        v_dim = read_opt(text, "v_head_dim", source) or nope
        q_rank = read_opt(text, "q_lora_rank", source)
        qk = nope + rope
        found: list[Weights] = []
        if q_rank:
            found += [
                Weights(f"{name}.q_a_proj", "linear", q_rank, hidden, bias=q_rank * bias),
                Weights(f"{name}.q_a_layernorm", "vector", q_rank),
                Weights(f"{name}.q_b_proj", "linear", heads * qk, q_rank),
            ]
        else:
            found.append(Weights(f"{name}.q_proj", "linear", heads * qk, hidden))
        found += [
            Weights(f"{name}.kv_a_proj_with_mqa", "linear", kv_rank + rope, hidden,
                    bias=(kv_rank + rope) * bias),
            Weights(f"{name}.kv_a_layernorm", "vector", kv_rank),
            Weights(f"{name}.kv_b_proj", "linear", heads * (nope + v_dim), kv_rank),
            Weights(f"{name}.o_proj", "linear", hidden, heads * v_dim, bias=hidden * bias),
        ]  # fmt: skip
        return [_over(w, every) for w in found], kv_rank + rope, qk
    kv_heads = read_opt(text, "num_key_value_heads", source) or heads
    head_dim = read_opt(text, "head_dim", source) or hidden // heads
    q_out, kv_out = heads * head_dim, kv_heads * head_dim
    qkv_bias = bias or (fam.qkv_bias and text.get("qkv_bias", True) is not False)
    found = [
        Weights(f"{name}.q_proj", "linear", q_out, hidden, bias=q_out * qkv_bias),
        Weights(f"{name}.k_proj", "linear", kv_out, hidden, bias=kv_out * qkv_bias),
        Weights(f"{name}.v_proj", "linear", kv_out, hidden, bias=kv_out * qkv_bias),
        Weights(f"{name}.o_proj", "linear", hidden, q_out, bias=hidden * bias),
    ]
    if fam.qk_norm:
        found += [Weights(f"{name}.q_norm", "vector", head_dim),
                  Weights(f"{name}.k_norm", "vector", head_dim)]  # fmt: skip
    if fam.sinks:
        found.append(Weights(f"{name}.sinks", "vector", heads))
    return [_over(w, every) for w in found], 0, head_dim


def _over(weights: Weights, layers: Sequence[int]) -> Weights:
    """`weights` repeated over `layers`."""
    return Weights(
        weights.name, weights.kind, weights.rows, weights.cols, weights.copies, weights.bias,
        tuple(layers), weights.vision,
    )  # fmt: skip


def mlp_tensors(
    name: str, hidden: int, inner: int, layers: Sequence[int], bias: bool
) -> list[Weights]:
    """A gated MLP (gate, up and down projections) on `layers`."""
    at = tuple(layers)
    return [
        Weights(f"{name}.gate_proj", "linear", inner, hidden, bias=inner * bias, layers=at),
        Weights(f"{name}.up_proj", "linear", inner, hidden, bias=inner * bias, layers=at),
        Weights(f"{name}.down_proj", "linear", hidden, inner, bias=hidden * bias, layers=at),
    ]


def feed_forward_tensors(
    text: Mapping[str, Any], fam: Family, family: str, prefix: str, source: str
) -> tuple[list[Weights], int, int, int, int]:
    """MLP and expert tensors; routed experts, picks per token, expert size, sparse layers."""
    hidden = read_int(text, "hidden_size", source)
    layers = read_int(text, "num_hidden_layers", source)
    name = f"{prefix}.layers.{{}}.{fam.mlp}"
    bias = bool(text.get("mlp_bias"))
    experts = 0
    for key in ("n_routed_experts", "num_local_experts", "num_experts"):
        experts = experts or (read_opt(text, key, source) or 0)
    sparse = sparse_layers(text, family, layers, source) if experts > 1 else []
    dense = [i for i in range(layers) if i not in set(sparse)]
    dense_inner = read_opt(text, "intermediate_size_mlp", source) or read_opt(
        text, "intermediate_size", source
    )
    found: list[Weights] = []
    if dense:
        if not dense_inner:
            raise refuse(source, "intermediate_size", "is missing", OWN_CONFIG)
        found += mlp_tensors(name, hidden, dense_inner, dense, bias)
    if not sparse:
        return found, 1, 1, 0, 0
    picks = read_opt(text, "num_experts_per_tok", source) or read_opt(
        text, "experts_per_token", source
    )
    if not picks:
        raise refuse(source, "num_experts_per_tok", "is missing for a mixture of experts",
                     OWN_CONFIG)  # fmt: skip
    inner = read_opt(text, "moe_intermediate_size", source) or read_opt(
        text, "intermediate_size", source
    )
    if not inner:
        raise refuse(source, "moe_intermediate_size", "is missing", OWN_CONFIG)
    at = tuple(sparse)
    found += [
        Weights(f"{name}.{fam.router}", "router", experts, hidden,
                bias=experts * fam.expert_bias, layers=at),
        Weights(f"{name}.experts.gate_up_proj", "experts", 2 * inner, hidden, experts,
                bias=2 * inner * fam.expert_bias, layers=at),
        Weights(f"{name}.experts.down_proj", "experts", hidden, inner, experts,
                bias=hidden * fam.expert_bias, layers=at),
    ]  # fmt: skip
    shared = (read_opt(text, "n_shared_experts", source) or 0) * inner
    shared_name = f"{name}.shared_experts"
    if family == "llama4_text":
        # Llama 4: one shared expert of intermediate_size beside the routed ones.
        shared, shared_name = read_int(text, "intermediate_size", source), f"{name}.shared_expert"
    elif read_opt(text, "shared_expert_intermediate_size", source):
        # Qwen2-MoE: a shared expert of its own size, scaled by a one-output gate.
        shared, shared_name = (
            read_int(text, "shared_expert_intermediate_size", source),
            f"{name}.shared_expert",
        )
        found.append(Weights(f"{name}.shared_expert_gate", "router", 1, hidden, layers=at))
    if shared:
        found += mlp_tensors(shared_name, hidden, shared, sparse, bias)
    return found, experts, picks, inner, len(sparse)
