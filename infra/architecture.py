"""A model's architecture from its config.json: shape, parameter count and quantization (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.errors import SettingsError

FAMILIES = ("llama", "mistral", "mixtral", "qwen2", "gemma2", "phi3")
# Gemma ties its output head to the token embeddings unless the config says otherwise.
_TIED_BY_DEFAULT = frozenset({"gemma2"})
# Norm weight vectors per decoder layer: Gemma 2 normalises before and after both sub-blocks.
_NORMS_PER_LAYER = {"gemma2": 4}
# Bits per weight of each quantization method in its common form (AWQ/GPTQ/Marlin/EXL2: 4-bit).
QUANTIZED_BITS = {
    "awq": 4,
    "gptq": 4,
    "marlin": 4,
    "exl2": 4,
    "bitsandbytes-nf4": 4,
    "bitsandbytes-fp4": 4,
    "eetq": 8,
    "bitsandbytes": 8,
    "fp8": 8,
    "compressed-tensors": 8,
}


@dataclass(frozen=True)
class Architecture:
    """The facts about a decoder-only transformer that decide its memory and speed."""

    family: str
    """config.json `model_type`: one of FAMILIES."""
    layers: int
    """Decoder layers."""
    hidden: int
    """Hidden size."""
    heads: int
    """Attention (query) heads."""
    kv_heads: int
    """Key/value heads (fewer than `heads` with grouped-query attention)."""
    head_dim: int
    """Size of one attention head."""
    intermediate: int
    """MLP inner size (per expert for mixture-of-experts models)."""
    vocab: int
    """Vocabulary size."""
    tied_embeddings: bool
    """Whether the output head shares the token-embedding matrix."""
    experts: int
    """Experts per MoE layer; 1 for a dense model."""
    experts_per_token: int
    """Experts each token runs through; 1 for a dense model."""
    max_context: int
    """config.json `max_position_embeddings`: the longest context the model was built for."""
    checkpoint_quantization: str | None
    """Quantization the checkpoint ships in (config.json `quantization_config`), if any."""
    checkpoint_bits: int | None
    """Bits per quantized weight of that checkpoint."""
    parameters_override: int | None = None
    """Exact parameter count from safetensors metadata, when known; else derived from shape."""

    @property
    def embedding_parameters(self) -> int:
        """Token embeddings plus, unless tied, the output head: kept in 16 bits when quantized."""
        return self.vocab * self.hidden * (1 if self.tied_embeddings else 2)

    @property
    def attention_parameters(self) -> int:
        """Q, K, V and output projections of one layer (plus Qwen2's Q/K/V biases)."""
        q_out, kv_out = self.heads * self.head_dim, self.kv_heads * self.head_dim
        biases = q_out + 2 * kv_out if self.family == "qwen2" else 0
        return self.hidden * q_out * 2 + self.hidden * kv_out * 2 + biases

    @property
    def expert_parameters(self) -> int:
        """One gated MLP (gate, up and down projections)."""
        return 3 * self.hidden * self.intermediate

    @property
    def linear_parameters(self) -> int:
        """Weights of every layer's projections: what a quantization method compresses."""
        router = self.hidden * self.experts if self.experts > 1 else 0
        per_layer = self.attention_parameters + self.experts * self.expert_parameters + router
        return self.layers * per_layer

    @property
    def parameters(self) -> int:
        """All parameters: safetensors' exact count when known, else derived from the shape."""
        if self.parameters_override is not None:
            return self.parameters_override
        norms = (self.layers * _NORMS_PER_LAYER.get(self.family, 2) + 1) * self.hidden
        return self.embedding_parameters + self.linear_parameters + norms

    @property
    def active_parameters(self) -> int:
        """Parameters one token passes through: all of them, except the idle experts of a MoE."""
        idle = self.layers * (self.experts - self.experts_per_token) * self.expert_parameters
        return self.parameters - idle

    def kv_bytes_per_token(self, kv_bytes: int = 2) -> int:
        """KV cache per token across all layers: 2 (K and V) x layers x kv_heads x head_dim."""
        return 2 * self.layers * self.kv_heads * self.head_dim * kv_bytes

    def kv_cache_bytes(self, tokens: int, kv_bytes: int = 2) -> int:
        """KV cache of one sequence of `tokens` tokens, across all layers.

        The one entry point fits and speed estimates use: attention types whose cache does not
        grow linearly (sliding-window layers, latent attention) change only this method.
        """
        return self.kv_bytes_per_token(kv_bytes) * tokens


def _int(config: Mapping[str, Any], key: str, source: str) -> int:
    value = config.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise SettingsError(
            "-",
            f"{source}: {key}",
            f"is {value!r}, not a positive integer",
            "pass the model's own config.json",
        )
    return value


def _quantization(config: Mapping[str, Any]) -> tuple[str | None, int | None]:
    """The checkpoint's quantization method and bits, from config.json's quantization_config."""
    quant = config.get("quantization_config")
    if not isinstance(quant, Mapping):
        return None, None
    method = str(quant.get("quant_method", "")).lower() or None
    bits = quant.get("bits")
    if method is None:
        return None, None
    return method, bits if isinstance(bits, int) else QUANTIZED_BITS.get(method, 8)


def from_config(
    config: Mapping[str, Any], source: str, parameters: int | None = None
) -> Architecture:
    """Read a config.json mapping; `source` names it in errors (a model id or a file path)."""
    family = config.get("model_type")
    if family not in FAMILIES:
        raise SettingsError(
            "-",
            f"{source}: model_type",
            f"{family!r} is not a family llmplane can size",
            f"use a model of one of: {', '.join(FAMILIES)}; or set gpu.shape yourself",
        )
    hidden = _int(config, "hidden_size", source)
    heads = _int(config, "num_attention_heads", source)
    kv_heads = config.get("num_key_value_heads") or heads
    head_dim = config.get("head_dim") or hidden // heads
    experts = config.get("num_local_experts") or 1
    method, bits = _quantization(config)
    tied = config.get("tie_word_embeddings", family in _TIED_BY_DEFAULT)
    return Architecture(
        family=str(family),
        layers=_int(config, "num_hidden_layers", source),
        hidden=hidden,
        heads=heads,
        kv_heads=int(kv_heads),
        head_dim=int(head_dim),
        intermediate=_int(config, "intermediate_size", source),
        vocab=_int(config, "vocab_size", source),
        tied_embeddings=bool(tied),
        experts=int(experts),
        experts_per_token=int(config.get("num_experts_per_tok") or 1),
        max_context=int(config.get("max_position_embeddings") or 4096),
        checkpoint_quantization=method,
        checkpoint_bits=bits,
        parameters_override=parameters,
    )
