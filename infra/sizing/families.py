"""What llmplane knows of each config.json `model_type`: what its model class adds (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAMILIES", "VISION_PREFIX", "WRAPPERS", "Family"]

# These facts mirror the model classes of transformers 5.24.0, checked by
# tests/unit/test_oracle.py; a model_type missing here is sized from the standard fields alone.


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
WRAPPERS = {"gemma3": "gemma3_text", "llama4": "llama4_text", "mistral3": "mistral"}
# The text model's and the vision tower's module prefixes in multimodal checkpoints.
VISION_PREFIX = {"llama4": "vision_model"}
