"""Quantization: the bytes a checkpoint's weights take on the GPU, and which methods can serve it.

Pure functions over an architecture's tensor inventory (`architecture.Weights`). A scheme says
which tensors a method compresses, to how many bits, and what scales and zero points it stores
beside them; every other tensor stays in 16 bits. Facts about each method's storage, from the
libraries that write and read these checkpoints (checked 2026-12-01):

- fp8 with block scales (DeepSeek-V3, `weight_block_size: [128, 128]`): e4m3 weights, one fp32
  `weight_scale_inv` per 128 x 128 block; embeddings, head, norms and router in bf16.
- MXFP4 (gpt-oss): 4-bit e2m1 values with one 8-bit e8m0 scale per 32 values (OCP MX spec),
  experts only; `modules_to_not_convert` lists what stays in bf16.
- AWQ / GPTQ: `bits`-bit packed weights, an fp16 scale and a packed `bits`-bit zero per
  `group_size` input columns (GPTQ adds an int32 `g_idx` per input column); decoder
  projections only, never the head (GPTQ: unless `lm_head: true`).
- compressed-tensors: per config group `weights.num_bits`, `strategy` (tensor, channel, group,
  block) and `group_size`; targets Linear layers, minus the `ignore` list.
- bitsandbytes: 4-bit NF4/FP4 with an fp32 absmax per 64 values (double quantization: an 8-bit
  absmax plus an fp32 per 256 blocks), or int8 with an fp32 scale per output row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..config.errors import SettingsError

if TYPE_CHECKING:
    from .architecture import Architecture, Weights

# llmplane's quantization names (TGI's `--quantize` values) and the bits of their common form.
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
# Methods an engine applies while loading a 16-bit checkpoint.
ON_THE_FLY = ("fp8", "eetq", "bitsandbytes", "bitsandbytes-nf4", "bitsandbytes-fp4")
# Methods that only read a checkpoint already quantized that way.
PRE_QUANTIZED = ("awq", "gptq", "marlin", "exl2", "compressed-tensors")
# `model.quantize` values that name a checkpoint's own method: marlin kernels serve 4-bit GPTQ
# and AWQ checkpoints (TGI's launcher: "Marlin kernels will be used automatically").
_SAME_AS = {"marlin": ("gptq", "awq", "marlin")}
# Checkpoint methods TGI cannot read: its launcher's `Quantization` enum (3.3.7) has no mxfp4
# nor fbgemm_fp8, and it reads a bitsandbytes 4-bit checkpoint's `quant_method` as 8-bit.
_TGI_UNREADABLE = ("mxfp4", "fbgemm_fp8", "bitsandbytes-nf4", "bitsandbytes-fp4")


@dataclass(frozen=True)
class Scheme:
    """How one method stores weights: what it compresses, to how many bits, and its scales."""

    method: str
    """llmplane's name of the method (a QUANTIZED_BITS key, or mxfp4 / fbgemm_fp8)."""
    bits: float
    """Bits per compressed weight."""
    group: int | None = None
    """Input columns sharing one scale; None: one scale per output row (or per block)."""
    block: tuple[int, int] | None = None
    """Rows x columns sharing one scale (fp8 block quantization); None if not blocked."""
    scale_bytes: float = 2.0
    """Bytes of one scale."""
    zero: bool = False
    """Whether each scale has a zero point of `bits` bits beside it (asymmetric)."""
    per_tensor: bool = False
    """One scale for the whole tensor (fp8 per-tensor): no per-row cost."""
    experts_only: bool = False
    """Compresses the routed experts only (MXFP4)."""
    head: bool = False
    """Compresses the output head too."""
    vision: bool = False
    """Compresses the vision tower's projections too."""
    index: bool = False
    """Stores an int32 group index per input column (GPTQ's g_idx)."""
    skip: tuple[str, ...] = ()
    """Module patterns kept in 16 bits (modules_to_not_convert, ignore, skip modules)."""


def _bits(value: Any, default: float) -> float:
    """A numeric `bits` field, or `default` when absent or not a number."""
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


def _patterns(*values: Any) -> tuple[str, ...]:
    """The strings of whichever of `values` are lists (module patterns)."""
    found: list[str] = []
    for value in values:
        if isinstance(value, list | tuple):
            found.extend(str(item) for item in value if isinstance(item, str))
    return tuple(found)


def _compressed_tensors(quant: Mapping[str, Any]) -> Scheme:
    """The first config group's weight format; mixed-precision checkpoints are rare."""
    groups = quant.get("config_groups")
    weights: Mapping[str, Any] = {}
    if isinstance(groups, Mapping):
        for group in groups.values():
            if isinstance(group, Mapping) and isinstance(group.get("weights"), Mapping):
                weights = group["weights"]
                break
    bits = _bits(weights.get("num_bits"), 8.0)
    strategy = str(weights.get("strategy") or "tensor")
    size = weights.get("group_size")
    block = weights.get("block_structure")
    return Scheme(
        method="compressed-tensors",
        bits=bits,
        group=int(size) if strategy == "group" and isinstance(size, int) and size > 0 else None,
        block=(int(block[0]), int(block[1]))
        if strategy == "block" and isinstance(block, list) and len(block) == 2
        else None,
        per_tensor=strategy == "tensor",
        zero=weights.get("symmetric") is False,
        head=True,
        vision=True,
        skip=_patterns(quant.get("ignore")),
    )


def scheme_of(quant: Any) -> Scheme | None:
    """The storage scheme a config.json `quantization_config` describes; None if unquantized."""
    if not isinstance(quant, Mapping):
        return None
    method = str(quant.get("quant_method") or "").lower()
    skip = _patterns(quant.get("modules_to_not_convert"))
    if method == "fp8":
        block = quant.get("weight_block_size")
        if isinstance(block, list) and len(block) == 2:
            return Scheme("fp8", 8, block=(int(block[0]), int(block[1])), scale_bytes=4, skip=skip)
        return Scheme("fp8", 8, per_tensor=True, scale_bytes=4, skip=skip)
    if method == "fbgemm_fp8":
        return Scheme("fbgemm_fp8", 8, scale_bytes=4, skip=skip)
    if method == "mxfp4":
        return Scheme("mxfp4", 4, group=32, scale_bytes=1, experts_only=True, skip=skip)
    if method in ("awq", "gptq"):
        size = quant.get("group_size")
        group = int(size) if isinstance(size, int) and size > 0 else None
        return Scheme(
            method,
            _bits(quant.get("bits") or quant.get("w_bit"), 4.0),
            group=group,
            # GPTQ always stores packed zeros; AWQ unless `zero_point: false`.
            zero=method == "gptq" or quant.get("zero_point", True) is not False,
            head=method == "gptq" and quant.get("lm_head") is True,
            index=method == "gptq",
            skip=skip,
        )
    if method == "compressed-tensors":
        return _compressed_tensors(quant)
    if method == "bitsandbytes":
        skip = _patterns(quant.get("llm_int8_skip_modules")) or skip
        if quant.get("load_in_4bit"):
            kind = str(quant.get("bnb_4bit_quant_type") or "fp4").lower()
            double = bool(quant.get("bnb_4bit_use_double_quant"))
            return Scheme(
                f"bitsandbytes-{'nf4' if kind == 'nf4' else 'fp4'}",
                4,
                group=64,
                scale_bytes=1 + 4 / 256 if double else 4,
                vision=True,
                skip=skip,
            )
        return Scheme("bitsandbytes", 8, scale_bytes=4, vision=True, skip=skip)
    if method == "exl2":
        return Scheme("exl2", _bits(quant.get("bits"), 4.0), group=32, skip=skip)
    if method == "eetq":
        return Scheme("eetq", 8, skip=skip)
    # An unknown method: assume its `bits` (8 if not given) with fp16 group-128 scales.
    return Scheme(method or "unknown", _bits(quant.get("bits"), 8.0), group=128, skip=skip)


def on_the_fly(method: str) -> Scheme:
    """What an engine holds after quantizing a 16-bit checkpoint while loading it."""
    if method == "fp8":
        # vLLM and TGI quantize every decoder projection to e4m3 with per-tensor scales.
        return Scheme("fp8", 8, per_tensor=True, scale_bytes=4)
    if method == "eetq":
        return Scheme("eetq", 8)
    if method in ("bitsandbytes-nf4", "bitsandbytes-fp4"):
        return Scheme(method, 4, group=64, scale_bytes=4)
    if method == "bitsandbytes":
        return Scheme("bitsandbytes", 8, scale_bytes=4)
    # A pre-quantized method named for a 16-bit checkpoint is refused by `check`; size it as
    # its common form so a direct call still gives a figure.
    return Scheme(method, QUANTIZED_BITS.get(method, 8), group=128, zero=True)


# --- which tensors a scheme compresses ----------------------------------------------------

# transformers' `should_convert_module` semantics: a pattern matches from the start up to a
# module boundary, as a regex with that boundary, or as a suffix; compressed-tensors' "re:"
# patterns are regexes matched from the start.
_BOUNDARY = r"(?:(?<=\.)|(?=\.|$))"


def _matches(name: str, pattern: str) -> bool:
    """Whether a skip/ignore pattern names the module `name`."""
    if pattern.startswith("re:"):
        return re.match(pattern[3:], name) is not None
    try:
        if re.match(rf"(?:{pattern}){_BOUNDARY}", name):
            return True
    except re.error:
        pass
    return name.endswith(pattern)


def _compressed(weights: Weights, scheme: Scheme, name: str) -> bool:
    """Whether `scheme` compresses the tensor `name` of `weights`."""
    if weights.kind not in ("linear", "experts", "head"):
        return False
    if scheme.experts_only and weights.kind != "experts":
        return False
    if weights.kind == "head" and not scheme.head:
        return False
    if weights.vision and not scheme.vision:
        return False
    return not any(_matches(name, pattern) for pattern in scheme.skip)


def _quantized_bytes(weights: Weights, scheme: Scheme) -> float:
    """One instance (one layer) of `weights` stored in `scheme`."""
    rows, cols, copies = weights.rows, weights.cols, weights.copies
    values = rows * cols * copies * scheme.bits / 8
    if scheme.per_tensor:
        scales = copies * scheme.scale_bytes
    elif scheme.block is not None:
        block_rows, block_cols = scheme.block
        scales = copies * -(-rows // block_rows) * -(-cols // block_cols) * scheme.scale_bytes
    elif scheme.group is not None:
        per_scale = scheme.scale_bytes + (scheme.bits / 8 if scheme.zero else 0)
        scales = copies * rows * -(-cols // scheme.group) * per_scale
    else:
        scales = copies * rows * scheme.scale_bytes
    index = copies * cols * 4 if scheme.index else 0
    return values + scales + index + weights.bias * copies * 2


def _names(weights: Weights) -> Iterable[str]:
    """The module path of each occurrence of `weights`."""
    if not weights.layers:
        yield weights.name
        return
    for layer in weights.layers:
        yield weights.name.format(layer)


@lru_cache(maxsize=512)
def stored_bytes(arch: Architecture, scheme: Scheme | None) -> int:
    """Bytes the GPU holds for `arch`'s weights in `scheme` (16-bit where it compresses none)."""
    if scheme is None or not arch.weights:
        return arch.parameters * 2
    total = 0.0
    for weights in arch.weights:
        plain = (weights.rows * weights.cols + weights.bias) * weights.copies * 2
        if weights.kind not in ("linear", "experts", "head"):
            total += plain * weights.count
            continue
        for name in _names(weights):
            total += (
                _quantized_bytes(weights, scheme) if _compressed(weights, scheme, name) else plain
            )
    return int(total)


# --- which `quantize` a checkpoint can be served with -------------------------------------


def served_scheme(arch: Architecture, quantize: str | None) -> Scheme | None:
    """The scheme the GPU holds: the checkpoint's own, or the on-the-fly `quantize`, or none."""
    if arch.quantization is not None:
        return arch.quantization
    return on_the_fly(quantize) if quantize is not None else None


def engine_reads(arch: Architecture, engine: str) -> bool:
    """Whether `engine` can load the checkpoint's weights as they ship."""
    own = arch.quantization.method if arch.quantization is not None else None
    return not (engine == "tgi" and own in _TGI_UNREADABLE)


def check(
    arch: Architecture,
    quantize: str | None,
    model: str,
    stack: str = "-",
    key: str = "llmplane:model.quantize",
    engine: str | None = None,
) -> None:
    """Refuse a `quantize` the checkpoint cannot be served with, or an engine that cannot read it.

    An on-the-fly method needs a 16-bit checkpoint; a pre-quantized one needs a checkpoint
    quantized that way; naming another method than the checkpoint's own is a conflict. When
    `quantize` is None the engines read the checkpoint's method from config.json (vLLM, SGLang,
    and TGI's launcher: "It is not necessary to specify this option for pre-quantized models").
    """
    own = arch.quantization.method if arch.quantization is not None else None
    if quantize is not None and own is None and quantize not in ON_THE_FLY:
        raise SettingsError(
            stack,
            key,
            f"is {quantize!r}, but {model} is a 16-bit checkpoint, and {quantize} serves only a "
            f"checkpoint quantized with it",
            f"use a checkpoint of the model quantized with {quantize}, or an on-the-fly method: "
            f"{', '.join(ON_THE_FLY)}",
        )
    if quantize is not None and own is not None and own not in _SAME_AS.get(quantize, (quantize,)):
        raise SettingsError(
            stack,
            key,
            f"is {quantize!r}, but {model} ships {own}-quantized weights and the engine would "
            f"load them as {own}",
            f"drop {key} (engines read {own} from config.json), or use a 16-bit checkpoint",
        )
    if engine is not None and not engine_reads(arch, engine):
        raise SettingsError(
            stack,
            "llmplane:engine",
            f"is tgi, which cannot load {model}'s {own} weights",
            "use engine vllm or sglang",
        )
