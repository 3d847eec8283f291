"""Reading config.json: typed field readers, which fields change the size, per-layer layouts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config.errors import SettingsError
from .families import FAMILIES

__all__ = [
    "OWN_CONFIG",
    "check_fields",
    "layer_windows",
    "read_int",
    "read_ints",
    "read_opt",
    "refuse",
    "sparse_layers",
]

# The fix every refusal of a malformed field names: published configs are what llmplane reads.
OWN_CONFIG = "pass the model's own config.json"

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


def refuse(source: str, key: str, problem: str, fix: str) -> SettingsError:
    """The one-line error for a config field: `<source>: <key>: <problem>; <fix>`."""
    return SettingsError("-", f"{source}: {key}", problem, fix)


def read_int(config: Mapping[str, Any], key: str, source: str) -> int:
    """A required positive integer field."""
    value = config.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise refuse(source, key, f"is {value!r}, not a positive integer", OWN_CONFIG)
    return value


def read_opt(config: Mapping[str, Any], key: str, source: str) -> int | None:
    """An optional non-negative integer field; None when absent or null."""
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise refuse(source, key, f"is {value!r}, not a non-negative integer", OWN_CONFIG)
    return value


def read_ints(config: Mapping[str, Any], key: str, source: str) -> list[int] | None:
    """An optional list-of-integers field; None when absent or null."""
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise refuse(source, key, f"is {value!r}, not a list of integers", OWN_CONFIG)
    return list(value)


def check_fields(text: Mapping[str, Any], known: bool, source: str) -> list[str]:
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
        raise refuse(
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
            raise refuse(
                source,
                ", ".join(missing),
                f"missing: model_type {text.get('model_type')!r} is not a family llmplane knows, "
                "so it is sized from the standard fields, and these are required",
                f"use a model of one of: {', '.join(FAMILIES)}; or set gpu.shape yourself",
            )
    return [key for key in unknown if not any(word in key for word in _SIZE_WORDS)]


def layer_windows(
    text: Mapping[str, Any], family: str, layers: int, source: str
) -> tuple[int | None, ...]:
    """Per layer: the tokens of KV a local-attention layer keeps; None for full attention."""
    window = read_opt(text, "sliding_window", source) or None
    chunk = read_opt(text, "attention_chunk_size", source) if family == "llama4_text" else None
    if family == "llama4_text" and "attention_chunk_size" not in text:
        chunk = 8192  # transformers' Llama4TextConfig default
    types = text.get("layer_types")
    if isinstance(types, list) and len(types) == layers:
        bound = {"full_attention": None, "sliding_attention": window, "chunked_attention": chunk}
        return tuple(bound[str(t)] for t in types)
    if family == "llama4_text":
        # no_rope_layers: 1 where a layer uses RoPE, and those layers attend within a chunk;
        # empty means transformers' default of a NoPE (global) layer every 4th.
        rope = read_ints(text, "no_rope_layers", source) or []
        interval = read_opt(text, "no_rope_layer_interval", source) or 4
        if len(rope) != layers:
            rope = [int((i + 1) % interval != 0) for i in range(layers)]
        return tuple(chunk if r else None for r in rope)
    if window is None:
        return (None,) * layers
    if family.startswith("qwen"):
        # Qwen keeps every token unless use_sliding_window; then layers from max_window_layers.
        if not text.get("use_sliding_window"):
            return (None,) * layers
        first = read_opt(text, "max_window_layers", source) or 0
        return tuple(window if i >= first else None for i in range(layers))
    if family == "gemma2":
        return tuple(window if i % 2 == 0 else None for i in range(layers))
    pattern = read_opt(text, "sliding_window_pattern", source)
    if pattern:
        return tuple(window if (i + 1) % pattern else None for i in range(layers))
    if text.get("use_sliding_window") is False:
        return (None,) * layers
    return (window,) * layers


def sparse_layers(text: Mapping[str, Any], family: str, layers: int, source: str) -> list[int]:
    """Indices of the decoder layers with routed experts."""
    listed = read_ints(text, "moe_layers", source)
    if listed is not None:
        return [i for i in listed if 0 <= i < layers]
    if family == "llama4_text" or "interleave_moe_layer_step" in text:
        step = read_opt(text, "interleave_moe_layer_step", source) or 1
        return list(range(step - 1, layers, step))
    first = read_opt(text, "first_k_dense_replace", source) or 0
    freq = text.get("moe_layer_freq", 1)
    sparse_step = read_opt(text, "decoder_sparse_step", source) or 1
    dense_only = set(read_ints(text, "mlp_only_layers", source) or [])
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
