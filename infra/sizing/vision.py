"""A multimodal checkpoint's vision tower and projector tensors: SigLIP, Pixtral, Llama 4, ViT."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .config_fields import read_int, read_opt
from .families import VISION_PREFIX
from .tensors import Weights, mlp_tensors

__all__ = ["vision_tensors"]

# transformers' SiglipVisionConfig defaults, for the fields a SigLIP vision_config leaves out.
_SIGLIP_DEFAULTS = {
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "image_size": 224,
    "patch_size": 16,
    "num_channels": 3,
}


def vision_tensors(
    vision: Mapping[str, Any], top: Mapping[str, Any], text_hidden: int, source: str
) -> tuple[list[Weights], str | None]:
    """The vision tower and projector tensors, and a note when they are approximated."""
    kind = str(vision.get("model_type") or "")
    wrapper = str(top.get("model_type") or "")
    if kind == "siglip_vision_model":
        vision = {**_SIGLIP_DEFAULTS, **vision}
    where = f"{source}: vision_config"
    h = read_int(vision, "hidden_size", where)
    inner = read_int(vision, "intermediate_size", where)
    layers = read_int(vision, "num_hidden_layers", where)
    patch = read_int(vision, "patch_size", where)
    channels = read_opt(vision, "num_channels", where) or 3
    image = read_opt(vision, "image_size", where) or 0
    at = tuple(range(layers))
    tower = VISION_PREFIX.get(wrapper, "vision_tower")
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
            *mlp_tensors(f"{name}.feed_forward", h, inner, at, False),
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
            pin = read_int(vision, "projector_input_dim", where)
            pout = read_int(vision, "projector_output_dim", where)
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
