"""A model's architecture from its config.json: tensors, parameters, KV cache, quantization (pure).

llmplane sizes a model by the fields its config.json has, not by its family's name:
- attention: grouped-query (per-head K and V), or multi-head latent attention (MLA: DeepSeek-V2/V3,
  Kimi-K2), whose cache per layer is one latent of `kv_lora_rank + qk_rope_head_dim` values;
- mixture of experts in its current shapes: routed experts (`n_routed_experts`,
  `num_local_experts`, `num_experts`) of `moe_intermediate_size`, shared experts
  (`n_shared_experts`, `shared_expert_intermediate_size`, Llama 4's shared expert), and which
  layers are sparse (`first_k_dense_replace`, `moe_layer_freq`, `interleave_moe_layer_step`,
  `moe_layers`, `decoder_sparse_step`, `mlp_only_layers`); dense layers use `intermediate_size`
  (Llama 4: `intermediate_size_mlp`);
- per-layer attention types: `layer_types`, `sliding_window` with `sliding_window_pattern` or
  `use_sliding_window`/`max_window_layers`, Llama 4's `attention_chunk_size` with
  `no_rope_layers`; a local layer's KV cache is bounded by its window;
- multimodal checkpoints (`text_config` + `vision_config`: Gemma 3, Llama 4, Mistral 3): the text
  model as above, plus the vision tower and projector, counted exactly for SigLIP, Pixtral and
  Llama 4's encoder and approximated as a plain ViT from its fields for any other;
- biases and sinks: `attention_bias`, `mlp_bias`, Qwen2's q/k/v biases, gpt-oss's expert and
  router biases and one attention sink per head.

Per-family facts (which families tie the head, normalise twice, carry q/k norms) mirror the
model classes of transformers 5.24.0, checked by tests/unit/test_oracle.py. A `model_type`
llmplane does not know is sized from the same standard fields and marked `family_inferred`;
only fields that change the size and that llmplane cannot read make it refuse, naming them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config_fields import check_fields, layer_windows, read_int, read_opt
from .families import FAMILIES, WRAPPERS, Family
from .quantization import Scheme, scheme_of
from .tensors import Weights, attention_tensors, feed_forward_tensors
from .vision import vision_tensors

__all__ = ["FAMILIES", "Architecture", "Weights", "from_config"]


@dataclass(frozen=True, eq=False)
class Architecture:
    """The facts about a decoder-only transformer that decide its memory and speed."""

    family: str
    """config.json `model_type` of the text model."""
    layers: int
    """Decoder layers."""
    hidden: int
    """Hidden size."""
    heads: int
    """Attention (query) heads."""
    kv_heads: int
    """Key/value heads (fewer than `heads` with grouped-query attention)."""
    head_dim: int
    """Size of one attention head (MLA: the query/key head, nope + rope)."""
    intermediate: int
    """Inner size of a dense MLP layer (of one routed expert when every layer is sparse)."""
    vocab: int
    """Vocabulary size."""
    tied_embeddings: bool
    """Whether the output head shares the token-embedding matrix."""
    experts: int
    """Routed experts per MoE layer; 1 for a dense model."""
    experts_per_token: int
    """Routed experts each token runs through; 1 for a dense model."""
    max_context: int
    """The longest context the model supports: its position limit, or what rope scaling extends."""
    checkpoint_quantization: str | None
    """Quantization the checkpoint ships in (config.json `quantization_config`), if any."""
    checkpoint_bits: int | None
    """Bits per quantized weight of that checkpoint."""
    parameters_override: int | None = None
    """Exact parameter count from safetensors metadata, when known; else derived from shape."""
    family_inferred: bool = False
    """The model_type is not in llmplane's table: sized from its standard fields alone."""
    kv_latent: int = 0
    """MLA: values cached per token per layer (kv_lora_rank + qk_rope_head_dim); 0: K and V."""
    layer_windows: tuple[int | None, ...] = ()
    """Per layer, the tokens of KV it keeps (sliding window or chunk); None: every token."""
    weights: tuple[Weights, ...] = ()
    """Every tensor of the model (text, vision and projector), by kind and shape."""
    quantization: Scheme | None = None
    """How the checkpoint stores its weights, from quantization_config; None: 16-bit."""
    expert_intermediate: int = 0
    """Inner size of one routed expert; 0 for a dense model."""
    moe_layers: int = 0
    """Decoder layers with routed experts."""
    notes: tuple[str, ...] = ()
    """What the output must say about how the model was sized (inferred family, estimates)."""

    @property
    def embedding_parameters(self) -> int:
        """Token embeddings plus, unless tied, the output head: kept in 16 bits when quantized."""
        return self.vocab * self.hidden * (1 if self.tied_embeddings else 2)

    @property
    def expert_parameters(self) -> int:
        """One routed expert of one layer (gate, up and down projections, and any biases)."""
        found = [w for w in self.weights if w.kind == "experts"]
        if not found:
            return 3 * self.hidden * (self.expert_intermediate or self.intermediate)
        one_layer = [w for w in found if w.layers[:1] == found[0].layers[:1]]
        return sum(w.rows * w.cols + w.bias for w in one_layer)

    @property
    def routed_expert_parameters(self) -> int:
        """All routed experts of all layers: the parameters a token mostly skips."""
        return sum(w.parameters for w in self.weights if w.kind == "experts")

    @property
    def vision_parameters(self) -> int:
        """The vision tower and its projector; 0 for a text-only model."""
        return sum(w.parameters for w in self.weights if w.vision)

    @property
    def linear_parameters(self) -> int:
        """Weights of the decoder's projections and experts: what a quantization compresses."""
        return sum(
            w.rows * w.cols * w.copies * w.count
            for w in self.weights
            if w.kind in ("linear", "experts") and not w.vision
        )

    @property
    def parameters(self) -> int:
        """All parameters: safetensors' exact count when known, else the sum of the tensors."""
        if self.parameters_override is not None:
            return self.parameters_override
        return sum(w.parameters for w in self.weights)

    @property
    def active_parameters(self) -> int:
        """Parameters one token passes through: all of them but the routed experts it skips."""
        if self.experts <= 1:
            return self.parameters
        idle = self.routed_expert_parameters * (self.experts - self.experts_per_token)
        return self.parameters - idle // self.experts

    @property
    def attention(self) -> str:
        """mla (one latent per token and layer) or gqa (K and V per key/value head)."""
        return "mla" if self.kv_latent else "gqa"

    def kv_bytes_per_token(self, kv_bytes: int = 2) -> int:
        """KV cache per token over all layers, as if every layer kept every token.

        Grouped-query attention: 2 (K and V) x kv_heads x head_dim per layer; MLA: the latent.
        """
        per_layer = self.kv_latent or 2 * self.kv_heads * self.head_dim
        return self.layers * per_layer * kv_bytes

    def kv_split(self, shards: int) -> int:
        """Ways `shards` tensor-parallel GPUs split the KV cache (K and V split by KV head).

        An MLA latent is one "head": vLLM and SGLang keep a whole copy on every GPU.
        """
        return 1 if self.kv_latent else max(1, min(shards, self.kv_heads))

    def kv_cache_bytes(self, tokens: int, kv_bytes: int = 2) -> int:
        """KV cache of one sequence of `tokens` tokens, across all layers.

        The one entry point fits and speed estimates use: a sliding-window or chunked layer keeps
        at most its window of tokens; a full-attention layer keeps them all.
        """
        per_layer = self.kv_bytes_per_token(kv_bytes) // self.layers
        windows = self.layer_windows or (None,) * self.layers
        return sum(per_layer * (tokens if w is None else min(tokens, w)) for w in windows)


def _context_limit(text: Mapping[str, Any]) -> int:
    """`max_position_embeddings`, or more where rope scaling stretches the trained positions.

    Llama 3.1 and DeepSeek-V3 already write the scaled limit there; Qwen2.5 ships yarn with a
    factor of 4 over 32k positions but writes 32768, so the scaled figure is the larger one.
    """
    limit = int(text.get("max_position_embeddings") or 4096)
    scaling = text.get("rope_scaling")
    if not isinstance(scaling, Mapping):
        return limit
    factor, original = scaling.get("factor"), scaling.get("original_max_position_embeddings")
    original = original or text.get("original_max_position_embeddings") or limit
    if isinstance(factor, (int, float)) and not isinstance(factor, bool) and factor > 1:
        return max(limit, int(factor * int(original)))
    return limit


def from_config(
    config: Mapping[str, Any], source: str, parameters: int | None = None
) -> Architecture:
    """Read a config.json mapping; `source` names it in errors (a model id or a file path)."""
    nested = config.get("text_config")
    text: Mapping[str, Any] = nested if isinstance(nested, Mapping) else config
    wrapper = str(config.get("model_type") or "")
    family = str(text.get("model_type") or WRAPPERS.get(wrapper) or wrapper)
    fam = FAMILIES.get(family)
    known = fam is not None
    if fam is None:
        fam = Family(tied=True)  # transformers' PretrainedConfig ties the head by default
    if fam.defaults:
        text = {**fam.defaults, **text}
    unread = check_fields(text, known, source)
    multimodal = nested is not None or isinstance(config.get("vision_config"), Mapping)
    prefix = "language_model.model" if multimodal else "model"
    hidden = read_int(text, "hidden_size", source)
    heads = read_int(text, "num_attention_heads", source)
    layers = read_int(text, "num_hidden_layers", source)
    vocab = read_int(text, "vocab_size", source)
    every = tuple(range(layers))
    found, latent, head_dim = attention_tensors(text, fam, prefix, every, source)
    mlp, experts, picks, expert_inner, sparse = feed_forward_tensors(
        text, fam, family, prefix, source
    )
    found += mlp
    found.append(Weights(f"{prefix}.layers.{{}}.norms", "vector", fam.norms * hidden, layers=every))
    tie = text.get("tie_word_embeddings", config.get("tie_word_embeddings", fam.tied))
    found += [
        Weights(f"{prefix}.embed_tokens", "embedding", vocab, hidden),
        Weights(f"{prefix}.norm", "vector", hidden),
    ]
    if not tie:
        head = "language_model.lm_head" if multimodal else "lm_head"
        found.append(Weights(head, "head", vocab, hidden))
    notes: list[str] = []
    if not known:
        notes.append(
            f"family inferred: model_type {family!r} is not in llmplane's table, so it was "
            "sized from its standard fields"
            + (f" (not read: {', '.join(unread)})" if unread else "")
        )
    vision = config.get("vision_config")
    if isinstance(vision, Mapping):
        tower, note = vision_tensors(vision, config, hidden, source)
        found += tower
        if note:
            notes.append(note)
    quant = config.get("quantization_config") or text.get("quantization_config")
    scheme = scheme_of(quant)
    kv_heads = read_opt(text, "num_key_value_heads", source) or heads
    return Architecture(
        family=family,
        layers=layers,
        hidden=hidden,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate=read_opt(text, "intermediate_size_mlp", source)
        or read_opt(text, "intermediate_size", source)
        or expert_inner,
        vocab=vocab,
        tied_embeddings=bool(tie),
        experts=experts,
        experts_per_token=picks,
        max_context=_context_limit(text),
        checkpoint_quantization=scheme.method if scheme else None,
        checkpoint_bits=int(scheme.bits) if scheme else None,
        parameters_override=parameters,
        family_inferred=not known,
        kv_latent=latent,
        layer_windows=layer_windows(text, family, layers, source),
        weights=tuple(found),
        quantization=scheme,
        expert_intermediate=expert_inner,
        moe_layers=sparse,
        notes=tuple(notes),
    )
