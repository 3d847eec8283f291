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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..config.errors import SettingsError
from .quantization import Scheme, scheme_of

__all__ = ["FAMILIES", "Architecture", "Weights", "from_config"]


@dataclass(frozen=True)
class Family:
    """What a known `model_type`'s model class adds to the standard fields."""

    tied: bool = False
    """Whether the head is tied to the embeddings when the config does not say."""
    norms: int = 2
    """Norm weight vectors per decoder layer (Gemma 2/3 normalise before and after both blocks)."""
    qkv_bias: bool = False
    """Q, K and V carry biases and the output projection none (Qwen2)."""
    qk_norm: bool = False
    """Per-head q_norm and k_norm weights of head_dim each (Qwen3, Gemma 3)."""
    sinks: bool = False
    """One learned attention sink per head (gpt-oss)."""
    expert_bias: bool = False
    """Routed experts and the router carry biases (gpt-oss)."""
    mlp: str = "mlp"
    """The feed-forward block's module name in checkpoints."""
    router: str = "gate"
    """The router's module name in checkpoints."""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """transformers' defaults for fields published configs leave out."""


# transformers 5.24.0 Gemma3TextConfig defaults: Gemma 3 checkpoints omit most of these.
_GEMMA3_DEFAULTS = {
    "vocab_size": 262208,
    "hidden_size": 2304,
    "intermediate_size": 9216,
    "num_hidden_layers": 26,
    "num_attention_heads": 8,
    "num_key_value_heads": 4,
    "head_dim": 256,
    "sliding_window": 4096,
    "sliding_window_pattern": 6,
    "max_position_embeddings": 131072,
}
FAMILIES: dict[str, Family] = {
    "llama": Family(),
    "mistral": Family(),
    "mixtral": Family(mlp="block_sparse_moe"),
    "qwen2": Family(qkv_bias=True),
    "qwen2_moe": Family(qkv_bias=True),
    "qwen3": Family(qk_norm=True),
    "qwen3_moe": Family(qk_norm=True),
    "gemma": Family(tied=True),
    "gemma2": Family(tied=True, norms=4),
    "gemma3_text": Family(tied=True, norms=4, qk_norm=True, defaults=_GEMMA3_DEFAULTS),
    "phi3": Family(),
    "deepseek_v2": Family(),
    "deepseek_v3": Family(),
    "gpt_oss": Family(
        sinks=True, expert_bias=True, router="router", defaults={"attention_bias": True}
    ),
    "llama4_text": Family(mlp="feed_forward", router="router"),
}
# Multimodal wrappers: the text model's family when its text_config names none.
_WRAPPERS = {"gemma3": "gemma3_text", "llama4": "llama4_text", "mistral3": "mistral"}
# The text model's and the vision tower's module prefixes in multimodal checkpoints.
_VISION_PREFIX = {"llama4": "vision_model"}

# Fields llmplane reads (text model).
_READ = frozenset(
    {
        "model_type", "hidden_size", "num_hidden_layers", "num_attention_heads",
        "num_key_value_heads", "head_dim", "intermediate_size", "vocab_size",
        "tie_word_embeddings", "max_position_embeddings", "attention_bias", "mlp_bias",
        "qkv_bias", "num_experts", "n_routed_experts", "num_local_experts", "num_experts_per_tok",
        "experts_per_token", "moe_intermediate_size", "n_shared_experts",
        "shared_expert_intermediate_size", "first_k_dense_replace", "moe_layer_freq",
        "interleave_moe_layer_step", "moe_layers", "decoder_sparse_step", "mlp_only_layers",
        "intermediate_size_mlp", "kv_lora_rank", "q_lora_rank", "qk_rope_head_dim",
        "qk_nope_head_dim", "v_head_dim", "layer_types", "sliding_window",
        "sliding_window_pattern", "use_sliding_window", "max_window_layers",
        "attention_chunk_size", "no_rope_layers", "no_rope_layer_interval",
        "quantization_config", "text_config", "vision_config", "num_nextn_predict_layers",
        "use_qk_norm",
    }
)  # fmt: skip
# Fields that do not change the size of the weights or the KV cache.
_NEUTRAL = frozenset(
    {
        "architectures", "auto_map", "torch_dtype", "dtype", "transformers_version",
        "bos_token_id", "eos_token_id", "pad_token_id", "hidden_act", "hidden_activation",
        "initializer_range", "rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon", "norm_eps",
        "rope_theta", "rope_scaling", "rope_parameters", "rope_interleave", "rope_local_base_freq",
        "partial_rotary_factor", "original_max_position_embeddings", "attention_dropout",
        "hidden_dropout", "embd_pdrop", "resid_pdrop", "use_cache", "pretraining_tp",
        "output_router_logits", "router_aux_loss_coef", "router_jitter_noise", "aux_loss_alpha",
        "seq_aux", "norm_topk_prob", "scoring_func", "topk_method", "topk_group", "n_group",
        "routed_scaling_factor", "ep_size", "attn_logit_softcapping", "final_logit_softcapping",
        "query_pre_attn_scalar", "cache_implementation", "_name_or_path", "tokenizer_class",
        "swiglu_limit", "initial_context_length", "attn_temperature_tuning", "attn_scale",
        "floor_scale", "for_llm_compressor", "image_token_index", "image_token_id",
        "boi_token_index", "eoi_token_index", "mm_tokens_per_image", "vision_feature_layer",
        "vision_feature_select_strategy", "projector_hidden_act", "multimodal_projector_bias",
        "spatial_merge_size", "is_decoder", "return_dict", "use_bidirectional_attention",
    }
)  # fmt: skip
# Fields that change the size and that llmplane cannot read: a config with one is refused.
_UNREADABLE = frozenset(
    {
        "index_n_heads", "index_head_dim", "index_topk", "hc_mult", "compress_ratios",
        "o_lora_rank", "o_groups", "linear_num_key_heads", "linear_num_value_heads",
        "linear_key_head_dim", "linear_value_head_dim", "linear_conv_kernel_dim",
        "full_attention_interval", "ssm_state_size", "mamba_d_state", "mamba_n_heads",
        "mamba_expand", "hybrid_override_pattern", "attn_layer_period", "expert_layer_period",
        "num_kv_shared_layers", "hidden_size_per_layer_input", "altup_num_inputs", "laurel_rank",
        "new_decoder_architecture", "parallel_attn", "multi_query",
    }
)  # fmt: skip
# In an unknown family, a field whose name has one of these may well change the size.
_SIZE_WORDS = ("expert", "layer", "head", "dim", "size", "rank", "window", "mamba", "ssm")
_LAYER_TYPES = ("full_attention", "sliding_attention", "chunked_attention")
_REQUIRED = ("hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size")


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


# --- reading config.json ------------------------------------------------------------------


def _refuse(source: str, key: str, problem: str, fix: str) -> SettingsError:
    """The one-line error for a config field: `<source>: <key>: <problem>; <fix>`."""
    return SettingsError("-", f"{source}: {key}", problem, fix)


def _int(config: Mapping[str, Any], key: str, source: str) -> int:
    """A required positive integer field."""
    value = config.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise _refuse(source, key, f"is {value!r}, not a positive integer", _OWN_CONFIG)
    return value


def _opt(config: Mapping[str, Any], key: str, source: str) -> int | None:
    """An optional non-negative integer field; None when absent or null."""
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _refuse(source, key, f"is {value!r}, not a non-negative integer", _OWN_CONFIG)
    return value


def _ints(config: Mapping[str, Any], key: str, source: str) -> list[int] | None:
    """An optional list-of-integers field; None when absent or null."""
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise _refuse(source, key, f"is {value!r}, not a list of integers", _OWN_CONFIG)
    return list(value)


_OWN_CONFIG = "pass the model's own config.json"


def _check_fields(text: Mapping[str, Any], known: bool, source: str) -> list[str]:
    """Refuse unreadable size-changing fields; return the unknown ones an inferred family has."""
    present = {key for key, value in text.items() if value is not None}
    blocked = sorted(present & _UNREADABLE)
    layer_types = text.get("layer_types")
    if isinstance(layer_types, list) and any(t not in _LAYER_TYPES for t in layer_types):
        odd = sorted({str(t) for t in layer_types if t not in _LAYER_TYPES})
        blocked.append(f"layer_types ({', '.join(odd)})")
    unknown = sorted(present - _READ - _NEUTRAL - _UNREADABLE)
    if not known:
        blocked += [key for key in unknown if any(word in key for word in _SIZE_WORDS)]
    if blocked:
        raise _refuse(
            source,
            ", ".join(blocked),
            f"change the model's size and llmplane cannot read them ({text.get('model_type')!r})",
            "set gpu.shape and model.maxTotalTokens yourself, or size it with a config "
            "llmplane reads",
        )
    if not known:
        missing = [key for key in _REQUIRED if not isinstance(text.get(key), int)]
        if not any(
            isinstance(text.get(k), int) for k in ("intermediate_size", "moe_intermediate_size")
        ):
            missing.append("intermediate_size")
        if missing:
            raise _refuse(
                source,
                ", ".join(missing),
                f"missing: model_type {text.get('model_type')!r} is not a family llmplane knows, "
                "so it is sized from the standard fields, and these are required",
                f"use a model of one of: {', '.join(FAMILIES)}; or set gpu.shape yourself",
            )
    return [key for key in unknown if not any(word in key for word in _SIZE_WORDS)]


def _layer_windows(
    text: Mapping[str, Any], family: str, layers: int, source: str
) -> tuple[int | None, ...]:
    """Per layer: the tokens of KV a local-attention layer keeps; None for full attention."""
    window = _opt(text, "sliding_window", source) or None
    chunk = _opt(text, "attention_chunk_size", source) if family == "llama4_text" else None
    if family == "llama4_text" and "attention_chunk_size" not in text:
        chunk = 8192  # transformers' Llama4TextConfig default
    types = text.get("layer_types")
    if isinstance(types, list) and len(types) == layers:
        bound = {"full_attention": None, "sliding_attention": window, "chunked_attention": chunk}
        return tuple(bound[str(t)] for t in types)
    if family == "llama4_text":
        # no_rope_layers: 1 where a layer uses RoPE, and those layers attend within a chunk;
        # empty means transformers' default of a NoPE (global) layer every 4th.
        rope = _ints(text, "no_rope_layers", source) or []
        interval = _opt(text, "no_rope_layer_interval", source) or 4
        if len(rope) != layers:
            rope = [int((i + 1) % interval != 0) for i in range(layers)]
        return tuple(chunk if r else None for r in rope)
    if window is None:
        return (None,) * layers
    if family.startswith("qwen"):
        # Qwen keeps every token unless use_sliding_window; then layers from max_window_layers.
        if not text.get("use_sliding_window"):
            return (None,) * layers
        first = _opt(text, "max_window_layers", source) or 0
        return tuple(window if i >= first else None for i in range(layers))
    if family == "gemma2":
        return tuple(window if i % 2 == 0 else None for i in range(layers))
    pattern = _opt(text, "sliding_window_pattern", source)
    if pattern:
        return tuple(window if (i + 1) % pattern else None for i in range(layers))
    if text.get("use_sliding_window") is False:
        return (None,) * layers
    return (window,) * layers


def _sparse_layers(text: Mapping[str, Any], family: str, layers: int, source: str) -> list[int]:
    """Indices of the decoder layers with routed experts."""
    listed = _ints(text, "moe_layers", source)
    if listed is not None:
        return [i for i in listed if 0 <= i < layers]
    if family == "llama4_text" or "interleave_moe_layer_step" in text:
        step = _opt(text, "interleave_moe_layer_step", source) or 1
        return list(range(step - 1, layers, step))
    first = _opt(text, "first_k_dense_replace", source) or 0
    freq = text.get("moe_layer_freq", 1)
    sparse_step = _opt(text, "decoder_sparse_step", source) or 1
    dense_only = set(_ints(text, "mlp_only_layers", source) or [])
    chosen: list[int] = []
    for i in range(first, layers):
        if isinstance(freq, list):
            if not freq[i % len(freq)]:
                continue
        elif isinstance(freq, int) and freq > 1 and i % freq:
            continue
        if (i + 1) % sparse_step or i in dense_only:
            continue
        chosen.append(i)
    return chosen


def _attention(
    text: Mapping[str, Any], fam: Family, prefix: str, every: tuple[int, ...], source: str
) -> tuple[list[Weights], int, int]:
    """Attention tensors of every layer, the latent cached per token (MLA) and the head size."""
    hidden = _int(text, "hidden_size", source)
    heads = _int(text, "num_attention_heads", source)
    name = f"{prefix}.layers.{{}}.self_attn"
    bias = bool(text.get("attention_bias"))
    kv_rank = _opt(text, "kv_lora_rank", source)
    if kv_rank:
        rope = _opt(text, "qk_rope_head_dim", source) or 0
        nope = _opt(text, "qk_nope_head_dim", source) or 0
        v_dim = _opt(text, "v_head_dim", source) or nope
        q_rank = _opt(text, "q_lora_rank", source)
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
    kv_heads = _opt(text, "num_key_value_heads", source) or heads
    head_dim = _opt(text, "head_dim", source) or hidden // heads
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


def _mlp(name: str, hidden: int, inner: int, layers: Sequence[int], bias: bool) -> list[Weights]:
    """A gated MLP (gate, up and down projections) on `layers`."""
    at = tuple(layers)
    return [
        Weights(f"{name}.gate_proj", "linear", inner, hidden, bias=inner * bias, layers=at),
        Weights(f"{name}.up_proj", "linear", inner, hidden, bias=inner * bias, layers=at),
        Weights(f"{name}.down_proj", "linear", hidden, inner, bias=hidden * bias, layers=at),
    ]


def _feed_forward(
    text: Mapping[str, Any], fam: Family, family: str, prefix: str, source: str
) -> tuple[list[Weights], int, int, int, int]:
    """MLP and expert tensors; routed experts, picks per token, expert size, sparse layers."""
    hidden = _int(text, "hidden_size", source)
    layers = _int(text, "num_hidden_layers", source)
    name = f"{prefix}.layers.{{}}.{fam.mlp}"
    bias = bool(text.get("mlp_bias"))
    experts = 0
    for key in ("n_routed_experts", "num_local_experts", "num_experts"):
        experts = experts or (_opt(text, key, source) or 0)
    sparse = _sparse_layers(text, family, layers, source) if experts > 1 else []
    dense = [i for i in range(layers) if i not in set(sparse)]
    dense_inner = _opt(text, "intermediate_size_mlp", source) or _opt(
        text, "intermediate_size", source
    )
    found: list[Weights] = []
    if dense:
        if not dense_inner:
            raise _refuse(source, "intermediate_size", "is missing", _OWN_CONFIG)
        found += _mlp(name, hidden, dense_inner, dense, bias)
    if not sparse:
        return found, 1, 1, 0, 0
    picks = _opt(text, "num_experts_per_tok", source) or _opt(text, "experts_per_token", source)
    if not picks:
        raise _refuse(source, "num_experts_per_tok", "is missing for a mixture of experts",
                      _OWN_CONFIG)  # fmt: skip
    inner = _opt(text, "moe_intermediate_size", source) or _opt(text, "intermediate_size", source)
    if not inner:
        raise _refuse(source, "moe_intermediate_size", "is missing", _OWN_CONFIG)
    at = tuple(sparse)
    found += [
        Weights(f"{name}.{fam.router}", "router", experts, hidden,
                bias=experts * fam.expert_bias, layers=at),
        Weights(f"{name}.experts.gate_up_proj", "experts", 2 * inner, hidden, experts,
                bias=2 * inner * fam.expert_bias, layers=at),
        Weights(f"{name}.experts.down_proj", "experts", hidden, inner, experts,
                bias=hidden * fam.expert_bias, layers=at),
    ]  # fmt: skip
    shared = (_opt(text, "n_shared_experts", source) or 0) * inner
    shared_name = f"{name}.shared_experts"
    if family == "llama4_text":
        # Llama 4: one shared expert of intermediate_size beside the routed ones.
        shared, shared_name = _int(text, "intermediate_size", source), f"{name}.shared_expert"
    elif _opt(text, "shared_expert_intermediate_size", source):
        # Qwen2-MoE: a shared expert of its own size, scaled by a one-output gate.
        shared, shared_name = (
            _int(text, "shared_expert_intermediate_size", source),
            f"{name}.shared_expert",
        )
        found.append(Weights(f"{name}.shared_expert_gate", "router", 1, hidden, layers=at))
    if shared:
        found += _mlp(shared_name, hidden, shared, sparse, bias)
    return found, experts, picks, inner, len(sparse)


# --- vision towers ------------------------------------------------------------------------

_SIGLIP_DEFAULTS = {
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "image_size": 224,
    "patch_size": 16,
    "num_channels": 3,
}


def _vision(
    vision: Mapping[str, Any], top: Mapping[str, Any], text_hidden: int, source: str
) -> tuple[list[Weights], str | None]:
    """The vision tower and projector tensors, and a note when they are approximated."""
    kind = str(vision.get("model_type") or "")
    wrapper = str(top.get("model_type") or "")
    if kind == "siglip_vision_model":
        vision = {**_SIGLIP_DEFAULTS, **vision}
    where = f"{source}: vision_config"
    h = _int(vision, "hidden_size", where)
    inner = _int(vision, "intermediate_size", where)
    layers = _int(vision, "num_hidden_layers", where)
    patch = _int(vision, "patch_size", where)
    channels = _opt(vision, "num_channels", where) or 3
    image = _opt(vision, "image_size", where) or 0
    at = tuple(range(layers))
    tower = _VISION_PREFIX.get(wrapper, "vision_tower")
    name = f"{tower}.encoder.layers.{{}}"
    found: list[Weights] = []
    note = None
    if kind == "pixtral":
        # Pixtral: bias-free projections, RMS norms, a gated MLP, rotary positions (no table).
        found += [
            Weights(f"{tower}.patch_conv", "vector", h, channels * patch * patch),
            Weights(f"{tower}.ln_pre", "vector", h),
            *(Weights(f"{name}.attention.{p}", "linear", h, h, layers=at) for p in "qkvo"),
            Weights(f"{name}.norms", "vector", 2 * h, layers=at),
            *_mlp(f"{name}.feed_forward", h, inner, at, False),
        ]
    else:
        # A ViT (SigLIP, Llama 4's encoder, or any other): biased projections, LayerNorms
        # (weight and bias), a two-matrix MLP and a learned position per patch.
        patches = (image // patch) ** 2
        llama4 = kind == "llama4_vision_model"
        if kind not in ("siglip_vision_model", "llama4_vision_model"):
            note = (
                f"vision tower ({kind or 'unnamed'}) approximated as a plain ViT from "
                "vision_config's hidden_size, intermediate_size, num_hidden_layers, patch_size "
                "and image_size (an estimate)"
            )
        found += [
            Weights(f"{tower}.patch_embedding", "vector", h, channels * patch * patch,
                    bias=0 if llama4 else h),
            Weights(f"{tower}.position_embedding", "vector", h, patches + llama4),
            *(Weights(f"{name}.self_attn.{p}_proj", "linear", h, h, bias=h, layers=at)
              for p in "qkvo"),
            Weights(f"{name}.norms", "vector", 4 * h, layers=at),
            Weights(f"{name}.mlp.fc1", "linear", inner, h, bias=inner, layers=at),
            Weights(f"{name}.mlp.fc2", "linear", h, inner, bias=h, layers=at),
            Weights(f"{tower}.post_layernorm", "vector", 2 * h),
        ]  # fmt: skip
        if llama4:
            # Class token, a second LayerNorm and the pixel-shuffle MLP before the projector.
            pin = _int(vision, "projector_input_dim", where)
            pout = _int(vision, "projector_output_dim", where)
            found += [
                Weights(f"{tower}.class_embedding", "vector", h),
                Weights(f"{tower}.layernorm_pre", "vector", 2 * h),
                Weights(f"{tower}.vision_adapter.mlp.fc1", "linear", pin, inner),
                Weights(f"{tower}.vision_adapter.mlp.fc2", "linear", pout, pout),
            ]
        elif kind == "siglip_vision_model" and vision.get("vision_use_head", True):
            # SigLIP's attention-pooling head: a probe, attention, a LayerNorm and an MLP.
            found += [
                Weights(f"{tower}.head.probe", "vector", h),
                Weights(f"{tower}.head.attention", "linear", 4 * h, h, bias=4 * h),
                Weights(f"{tower}.head.layernorm", "vector", 2 * h),
                Weights(f"{tower}.head.mlp.fc1", "linear", inner, h, bias=inner),
                Weights(f"{tower}.head.mlp.fc2", "linear", h, inner, bias=h),
            ]
    found += _projector(vision, top, wrapper, h, text_hidden)
    return [_as_vision(w) for w in found], note


def _projector(
    vision: Mapping[str, Any], top: Mapping[str, Any], wrapper: str, h: int, text_hidden: int
) -> list[Weights]:
    """The layers that map image features into the text model's hidden size."""
    name = "multi_modal_projector"
    if wrapper == "gemma3":
        return [Weights(f"{name}.mm_input_projection", "linear", text_hidden, h),
                Weights(f"{name}.mm_soft_emb_norm", "vector", h)]  # fmt: skip
    if wrapper == "mistral3":
        merge = int(top.get("spatial_merge_size") or 2)
        bias = bool(top.get("multimodal_projector_bias"))
        return [
            Weights(f"{name}.norm", "vector", h),
            Weights(f"{name}.patch_merger.merging_layer", "linear", h, h * merge * merge),
            Weights(f"{name}.linear_1", "linear", text_hidden, h, bias=text_hidden * bias),
            Weights(f"{name}.linear_2", "linear", text_hidden, text_hidden,
                    bias=text_hidden * bias),
        ]  # fmt: skip
    width = int(vision.get("vision_output_dim") or h)
    return [Weights(f"{name}.linear_1", "linear", text_hidden, width)]


def _as_vision(weights: Weights) -> Weights:
    """`weights` marked as part of the vision tower or projector."""
    return Weights(
        weights.name, weights.kind, weights.rows, weights.cols, weights.copies, weights.bias,
        weights.layers, vision=True,
    )  # fmt: skip


# --- the architecture ---------------------------------------------------------------------


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
    family = str(text.get("model_type") or _WRAPPERS.get(wrapper) or wrapper)
    fam = FAMILIES.get(family)
    known = fam is not None
    if fam is None:
        fam = Family(tied=True)  # transformers' PretrainedConfig ties the head by default
    if fam.defaults:
        text = {**fam.defaults, **text}
    unread = _check_fields(text, known, source)
    multimodal = nested is not None or isinstance(config.get("vision_config"), Mapping)
    prefix = "language_model.model" if multimodal else "model"
    hidden = _int(text, "hidden_size", source)
    heads = _int(text, "num_attention_heads", source)
    layers = _int(text, "num_hidden_layers", source)
    vocab = _int(text, "vocab_size", source)
    every = tuple(range(layers))
    found, latent, head_dim = _attention(text, fam, prefix, every, source)
    mlp, experts, picks, expert_inner, sparse = _feed_forward(text, fam, family, prefix, source)
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
        tower, note = _vision(vision, config, hidden, source)
        found += tower
        if note:
            notes.append(note)
    quant = config.get("quantization_config") or text.get("quantization_config")
    scheme = scheme_of(quant)
    kv_heads = _opt(text, "num_key_value_heads", source) or heads
    return Architecture(
        family=family,
        layers=layers,
        hidden=hidden,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate=_opt(text, "intermediate_size_mlp", source)
        or _opt(text, "intermediate_size", source)
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
        layer_windows=_layer_windows(text, family, layers, source),
        weights=tuple(found),
        quantization=scheme,
        expert_intermediate=expert_inner,
        moe_layers=sparse,
        notes=tuple(notes),
    )
