"""Model + GPU -> memory per GPU, shards, engine limits, /dev/shm, startup budget, speed (pure).

Every figure here is an estimate from the model's shape and a few stated assumptions (the
ASSUMPTIONS constants below), not a measurement; outputs say so and list the assumptions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infra.architecture import QUANTIZED_BITS, Architecture
from infra.catalog import Gpu, Shape, gpu_of

GIB = 1024**3
SHARD_COUNTS = (1, 2, 4, 8)

# --- Assumptions (each one is printed next to every estimate) ----------------------------
MEMORY_FRACTION = 0.90
"""Share of a GPU's usable memory the engine may claim (vLLM's default utilisation)."""
OVERHEAD_GIB = 1.0
"""Per-GPU activations and CUDA graphs inside the engine's share; the CUDA context and
fragmentation live in the 10% the memory fraction leaves, so 1-3 GB of overhead in all."""
GROUP_SCALES = 0.04
"""Extra storage of 4-bit group quantization: an fp16 scale and a 4-bit zero per 128 weights."""
DEFAULT_CONTEXT = 8192
"""Prompt plus answer, in tokens, when the stack does not set model.maxTotalTokens."""
DEFAULT_CONCURRENCY = 4
"""Full-length requests whose KV cache must fit at once: the headroom a shape must have."""
DOWNLOAD_MB_S = 150.0
"""Weights download speed from the Hugging Face Hub into a fresh node, MB/s."""
LOAD_GB_S = 1.0
"""Speed of reading weights from the node's disk into GPU memory, GB/s."""
WARMUP_SECONDS = 120
"""Engine warm-up after loading: CUDA graph capture, KV allocation, a prefill test."""
STARTUP_MARGIN = 1.5
"""Factor on the startup estimate before a pod is considered stuck."""
MIN_STARTUP_SECONDS = 600
"""Startup budget floor: even a small model gets ten minutes before a restart."""
ETA = 0.7
"""Share of HBM bandwidth decoding achieves (0.6-0.8 is typical of a bandwidth-bound step)."""
ASSUMPTIONS = {
    "memoryFraction": MEMORY_FRACTION,
    "overheadGiBPerGpu": OVERHEAD_GIB,
    "defaultContextTokens": DEFAULT_CONTEXT,
    "defaultConcurrency": DEFAULT_CONCURRENCY,
    "downloadMBps": DOWNLOAD_MB_S,
    "loadGBps": LOAD_GB_S,
    "warmupSeconds": WARMUP_SECONDS,
    "bandwidthEfficiency": ETA,
    "kvBytes": 2,
}


@dataclass(frozen=True)
class Workload:
    """What the server must hold at once: the longest request and how many of them."""

    max_total_tokens: int
    """Longest prompt plus answer, in tokens."""
    max_input_tokens: int
    """Longest prompt, in tokens."""
    concurrency: int = DEFAULT_CONCURRENCY
    """Full-length requests whose KV cache must fit at the same time."""
    quantize: str | None = None
    """Quantization to serve with (llmplane's names), on top of the checkpoint's own."""


def workload_for(
    arch: Architecture,
    max_total_tokens: int | None = None,
    max_input_tokens: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    quantize: str | None = None,
) -> Workload:
    """Defaults filled in: 8k context (within the model's own limit), prompts up to 3/4 of it."""
    total = max_total_tokens or min(DEFAULT_CONTEXT, arch.max_context)
    prompt = max_input_tokens or max(1, total - max(256, total // 4))
    return Workload(total, min(prompt, total - 1) if total > 1 else 1, concurrency, quantize)


def weight_bytes(arch: Architecture, quantize: str | None = None) -> int:
    """Bytes of weights to hold: 16-bit, or the quantized layers plus 16-bit embeddings."""
    bits = arch.checkpoint_bits if arch.checkpoint_quantization else None
    if bits is None and quantize is not None:
        bits = QUANTIZED_BITS[quantize]
    if bits is None or bits >= 16:
        return arch.parameters * 2
    scales = 1 + (GROUP_SCALES if bits <= 4 else 0.0)
    other = arch.parameters - arch.linear_parameters
    return int(arch.linear_parameters * bits / 8 * scales + other * 2)


def valid_shards(arch: Architecture, gpus_on_node: int) -> list[int]:
    """Tensor-parallel degrees that split the heads evenly and fit on one node."""
    return [
        s
        for s in SHARD_COUNTS
        if s <= gpus_on_node and arch.heads % s == 0 and arch.kv_heads % s == 0
    ]


@dataclass(frozen=True)
class Fit:
    """Memory per GPU of one model on one shape at one shard count (an estimate)."""

    shape: Shape
    """The machine shape."""
    gpu: Gpu
    """Its GPU model's facts."""
    shards: int
    """GPUs per replica (tensor-parallel degree)."""
    weights_gib: float
    """Weights per GPU."""
    kv_gib: float
    """KV cache per GPU for `concurrency` full-length requests."""
    overhead_gib: float
    """Memory per GPU outside weights and KV."""
    budget_gib: float
    """Usable GPU memory times the memory fraction."""
    kv_capacity_tokens: int
    """Tokens of KV cache the rest of the budget holds, per replica."""

    @property
    def used_gib(self) -> float:
        """Weights, KV and overhead per GPU."""
        return self.weights_gib + self.kv_gib + self.overhead_gib

    @property
    def fits(self) -> bool:
        """Whether the replica fits in the budget with its required KV headroom."""
        return self.used_gib <= self.budget_gib


def fit(arch: Architecture, shape: Shape, shards: int, workload: Workload) -> Fit:
    """The memory arithmetic for `shards` GPUs of `shape` serving `workload`."""
    gpu = gpu_of(shape)
    weights = weight_bytes(arch, workload.quantize) / shards / GIB
    kv_token = arch.kv_bytes_per_token() / shards
    kv = kv_token * workload.max_total_tokens * workload.concurrency / GIB
    budget = gpu.usable_mib / 1024 * MEMORY_FRACTION
    spare = max(0.0, budget - weights - OVERHEAD_GIB)
    return Fit(
        shape=shape,
        gpu=gpu,
        shards=shards,
        weights_gib=weights,
        kv_gib=kv,
        overhead_gib=OVERHEAD_GIB,
        budget_gib=budget,
        kv_capacity_tokens=int(spare * GIB / kv_token),
    )


def supports(gpu: Gpu, quantize: str | None) -> bool:
    """fp8 needs an Ada or Hopper GPU; the other methods run on every GPU in the catalog."""
    return quantize != "fp8" or gpu.fp8


def best_fit(
    arch: Architecture, shape: Shape, workload: Workload, shards: int | None = None
) -> Fit | None:
    """The fewest shards (or exactly `shards`) with which the model fits on `shape`."""
    if not supports(gpu_of(shape), workload.quantize):
        return None
    counts = valid_shards(arch, shape.gpu_count)
    for count in counts if shards is None else [s for s in counts if s == shards]:
        candidate = fit(arch, shape, count, workload)
        if candidate.fits:
            return candidate
    return None


@dataclass(frozen=True)
class EngineLimits:
    """The memory-related engine options sizing chooses; engines.Flags spells them per engine."""

    max_input_tokens: int
    """Longest prompt."""
    max_total_tokens: int
    """Longest prompt plus answer."""
    batch_prefill_tokens: int
    """Most prompt tokens processed in one prefill batch."""
    memory_fraction: float
    """Share of GPU memory the engine may claim."""


def engine_limits(workload: Workload, fitted: Fit) -> EngineLimits:
    """Limits that hold the workload: prefill batches of at least one full prompt."""
    prefill = min(max(workload.max_input_tokens + 50, 4096), fitted.kv_capacity_tokens)
    return EngineLimits(
        max_input_tokens=workload.max_input_tokens,
        max_total_tokens=workload.max_total_tokens,
        batch_prefill_tokens=max(prefill, workload.max_input_tokens),
        memory_fraction=MEMORY_FRACTION,
    )


def shm_gib(shards: int) -> int:
    """/dev/shm for NCCL between shards: 1 GiB, plus 1 GiB per further four shards."""
    return 1 + (shards - 1) // 4


def startup_seconds(arch: Architecture, workload: Workload, shards: int) -> int:
    """Startup-probe budget: download + load + warm-up, with a margin, rounded up to a minute."""
    total = weight_bytes(arch, workload.quantize)
    download = total / (DOWNLOAD_MB_S * 1e6)
    load = total / shards / (LOAD_GB_S * 1e9)
    estimate = (download + load + WARMUP_SECONDS) * STARTUP_MARGIN
    return max(MIN_STARTUP_SECONDS, math.ceil(estimate / 60) * 60)


@dataclass(frozen=True)
class Speed:
    """Decode throughput of one replica from the bandwidth roofline (an estimate)."""

    tokens_per_second: float
    """Output tokens per second across `concurrency` streams."""
    concurrency: int
    """Streams decoded together."""


def decode_speed(arch: Architecture, workload: Workload, fitted: Fit) -> Speed:
    """Each step reads the active weights and every stream's KV once: time = bytes / (η x BW)."""
    active_share = arch.active_parameters / arch.parameters
    weights = weight_bytes(arch, workload.quantize) * active_share / fitted.shards
    # On average a stream is halfway through its answer, so half its KV is read per step.
    kv = arch.kv_bytes_per_token() * workload.max_total_tokens / 2 * workload.concurrency
    step_bytes = weights + kv / fitted.shards
    steps = ETA * fitted.gpu.hbm_bandwidth_tbs * 1e12 / step_bytes
    return Speed(tokens_per_second=steps * workload.concurrency, concurrency=workload.concurrency)
