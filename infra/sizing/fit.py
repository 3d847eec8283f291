"""Model + GPU -> memory per GPU, shards, engine limits, /dev/shm, startup budget, speed (pure).

Every figure here is an estimate from the model's shape and a few stated assumptions (the
ASSUMPTIONS in workload.py), not a measurement; outputs say so and list the assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..config.errors import SettingsError
from .architecture import Architecture
from .catalog import Gpu, Shape, gpu_of
from .coldstart import probe_budget
from .quantization import served_scheme, stored_bytes
from .workload import (
    ACTIVATION_BYTES,
    ASSUMPTIONS,
    DEFAULT_CONCURRENCY,
    ETA,
    FIT_MARGIN,
    KV_BYTES,
    KV_CACHE_DTYPES,
    MAX_PIPELINE_NODES,
    MEMORY_FRACTION,
    OVERHEAD_GIB,
    KvCacheDtype,
    Workload,
    workload_for,
)

# The workload's names are listed too: infra/cli and the tests import them from here.
__all__ = [
    "ASSUMPTIONS",
    "DEFAULT_CONCURRENCY",
    "ETA",
    "FIT_MARGIN",
    "GIB",
    "KV_BYTES",
    "KV_CACHE_DTYPES",
    "MAX_PIPELINE_NODES",
    "MEMORY_FRACTION",
    "SHARD_COUNTS",
    "EngineLimits",
    "Fit",
    "KvCacheDtype",
    "Needs",
    "Speed",
    "Workload",
    "best_fit",
    "bf16_weight_bytes",
    "check_heads",
    "decode_speed",
    "engine_limits",
    "experts_read",
    "fit",
    "multi_node",
    "needs_of",
    "shm_gib",
    "startup_seconds",
    "step_weight_bytes",
    "supports",
    "valid_shards",
    "weight_bytes",
    "workload_for",
]

GIB = 1024**3
SHARD_COUNTS = (1, 2, 4, 8)


def check_heads(arch: Architecture, source: str, stack: str = "-") -> None:
    """Refuse KV heads that cannot be shared out: each serves the same number of query heads."""
    if arch.kv_heads <= 0 or arch.heads % arch.kv_heads:
        raise SettingsError(
            stack,
            f"{source}: num_key_value_heads",
            f"is {arch.kv_heads}, which does not divide num_attention_heads ({arch.heads}): "
            "grouped-query attention gives every KV head the same number of query heads",
            "pass the model's own config.json (a divisor of its attention heads)",
        )


def weight_bytes(arch: Architecture, quantize: str | None = None) -> int:
    """Bytes of weights the GPUs hold: the checkpoint as shipped, or quantized while loading.

    A quantized checkpoint is sized as its quantization_config stores it (a `quantize` naming
    its own method changes nothing; `quantization.check` refuses any other); a 16-bit one in
    16 bits, or in the on-the-fly `quantize` method.
    """
    return stored_bytes(arch, served_scheme(arch, quantize))


def bf16_weight_bytes(arch: Architecture) -> int:
    """Bytes of the same weights in bf16: the figure shown beside the as-shipped one."""
    return arch.parameters * 2


def valid_shards(arch: Architecture, gpus_on_node: int) -> list[int]:
    """Tensor-parallel degrees that split the heads evenly and fit on one node."""
    return [
        s
        for s in SHARD_COUNTS
        if s <= gpus_on_node and arch.heads % s == 0 and arch.kv_heads % s == 0
    ]


@dataclass(frozen=True)
class Needs:
    """What one replica holds whatever GPU it runs on (bytes), computed once per model."""

    weights_bytes: int
    """Weights as the GPUs hold them."""
    kv_bytes: int
    """KV cache of `concurrency` full-length requests."""
    kv_token_bytes: float
    """KV cache per token of one full-length request (an average where windows bound it)."""
    replicated_activation_bytes: float
    """Prefill activations every tensor-parallel shard holds in full (hidden-size vectors)."""
    split_activation_bytes: float
    """Prefill activations split over the tensor-parallel shards (MLP-width vectors)."""
    context_tokens: int
    """Prompt plus answer of one full-length request."""
    kv_split_by_tensor: bool = True
    """Whether tensor parallelism splits the KV cache (K and V heads); an MLA latent is not
    split: every shard keeps the whole latent of its layers."""


def needs_of(arch: Architecture, workload: Workload) -> Needs:
    """The model's memory needs at this workload; fits divide them over GPUs."""
    sequence = arch.kv_cache_bytes(workload.max_total_tokens, workload.kv_bytes)
    # A MoE layer's dispatch holds each token's activations once per expert it is routed to.
    experts = (arch.expert_intermediate or arch.intermediate) * arch.experts_per_token
    mlp = max(arch.intermediate, experts if arch.experts > 1 else 0)
    return Needs(
        weights_bytes=weight_bytes(arch, workload.quantize),
        kv_bytes=sequence * workload.concurrency,
        kv_token_bytes=sequence / workload.max_total_tokens,
        replicated_activation_bytes=ACTIVATION_BYTES * 4 * arch.hidden * workload.prefill_tokens,
        split_activation_bytes=ACTIVATION_BYTES * 2 * mlp * workload.prefill_tokens,
        context_tokens=workload.max_total_tokens,
        kv_split_by_tensor=arch.attention != "mla",
    )


@dataclass(frozen=True)
class Fit:
    """Memory per GPU of one replica: `shards` GPUs of a node, times `pipeline` nodes (estimate)."""

    shape: Shape
    """The machine shape (on an existing cluster: its GPUs, as the stack states them)."""
    gpu: Gpu
    """Its GPU model's facts."""
    shards: int
    """GPUs per node the replica uses: the tensor-parallel degree."""
    weights_gib: float
    """Weights per GPU."""
    kv_gib: float
    """KV cache per GPU for `concurrency` full-length requests."""
    overhead_gib: float
    """Runtime and prefill activations per GPU."""
    budget_gib: float
    """Usable GPU memory times the memory fraction: what the engine claims."""
    kv_capacity_tokens: int
    """Tokens of KV cache the rest of the budget holds, per replica, at this context length."""
    kv_gib_per_token: float
    """KV cache per token per GPU, for turning headroom into tokens."""
    context_tokens: int
    """Prompt plus answer of one full-length request."""
    pipeline: int = 1
    """Nodes the replica spans (pipeline-parallel stages); 1 on one machine."""

    @property
    def used_gib(self) -> float:
        """Weights, the required KV and overhead per GPU."""
        return self.weights_gib + self.kv_gib + self.overhead_gib

    @property
    def usable_gib(self) -> float:
        """The budget less the fit margin: what weights, KV and overhead may plan to use."""
        return self.budget_gib * (1 - FIT_MARGIN)

    @property
    def headroom_gib(self) -> float:
        """Memory per GPU left within the margin once the required KV is held (negative: short)."""
        return self.usable_gib - self.used_gib

    @property
    def headroom_tokens(self) -> int:
        """KV tokens per replica beyond `concurrency` full-length requests, within the margin."""
        return int(self.headroom_gib / self.kv_gib_per_token) if self.kv_gib_per_token else 0

    @property
    def max_requests(self) -> int:
        """Full-length requests the engine's KV cache holds at once."""
        return self.kv_capacity_tokens // max(1, self.context_tokens)

    @property
    def gpus(self) -> int:
        """GPUs of one replica, across all its nodes."""
        return self.shards * self.pipeline

    @property
    def fits(self) -> bool:
        """Whether weights, overhead and the required KV fit the budget with the margin to spare."""
        return self.used_gib <= self.usable_gib


def fit(
    arch: Architecture,
    shape: Shape,
    shards: int,
    workload: Workload,
    pipeline: int = 1,
    gpu: Gpu | None = None,
    needs: Needs | None = None,
) -> Fit:
    """The memory arithmetic for `shards` GPUs of `shape` (times `pipeline` nodes)."""
    gpu = gpu or gpu_of(shape)
    needs = needs or needs_of(arch, workload)
    # Tensor parallelism splits weights and KV heads; pipeline stages split the layers.
    split = shards * pipeline
    kv_split = split if needs.kv_split_by_tensor else pipeline
    weights = needs.weights_bytes / split / GIB
    kv_token = needs.kv_token_bytes / kv_split / GIB
    overhead = (
        OVERHEAD_GIB
        + (needs.replicated_activation_bytes + needs.split_activation_bytes / shards) / GIB
    )
    budget = gpu.usable_mib / 1024 * MEMORY_FRACTION
    spare = max(0.0, budget - weights - overhead)
    return Fit(
        shape=shape,
        gpu=gpu,
        shards=shards,
        weights_gib=weights,
        kv_gib=needs.kv_bytes / kv_split / GIB,
        overhead_gib=overhead,
        budget_gib=budget,
        kv_capacity_tokens=int(spare / kv_token) if kv_token else 0,
        kv_gib_per_token=kv_token,
        context_tokens=needs.context_tokens,
        pipeline=pipeline,
    )


def supports(gpu: Gpu, quantize: str | None) -> bool:
    """fp8 weights need an Ada or Hopper GPU; the other methods run on every catalog GPU.

    An fp8 KV cache is not restricted: TGI, vLLM and SGLang document it for CUDA 11.8+.
    """
    return quantize != "fp8" or gpu.fp8


def best_fit(
    arch: Architecture,
    shape: Shape,
    workload: Workload,
    shards: int | None = None,
    needs: Needs | None = None,
) -> Fit | None:
    """The fewest shards (or exactly `shards`) with which the model fits on `shape`."""
    if not supports(gpu_of(shape), workload.quantize):
        return None
    needs = needs or needs_of(arch, workload)
    counts = valid_shards(arch, shape.gpu_count)
    for count in counts if shards is None else [s for s in counts if s == shards]:
        candidate = fit(arch, shape, count, workload, needs=needs)
        if candidate.fits:
            return candidate
    return None


def multi_node(
    arch: Architecture,
    shape: Shape,
    workload: Workload,
    needs: Needs | None = None,
    gpu: Gpu | None = None,
) -> Fit | None:
    """The fewest nodes of `shape` that hold one replica, or None if MAX_PIPELINE_NODES do not.

    Every GPU of a node works in tensor parallelism; each node is one pipeline stage.
    """
    gpu = gpu or gpu_of(shape)
    if not supports(gpu, workload.quantize):
        return None
    counts = valid_shards(arch, shape.gpu_count)
    if not counts:
        return None
    needs = needs or needs_of(arch, workload)
    # A stage holds whole layers, so there are never more stages than layers.
    for nodes in range(2, min(MAX_PIPELINE_NODES, arch.layers) + 1):
        candidate = fit(arch, shape, counts[-1], workload, nodes, gpu, needs)
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


def startup_seconds(
    arch: Architecture,
    workload: Workload,
    shards: int,
    engine: str | None = None,
    cloud: str | None = None,
) -> int:
    """Startup-probe budget: coldstart's weights + warm-up parts with its margin, to a minute.

    With no engine and no cloud: a Hub download to local disk and the engine-agnostic warm-up.
    """
    return probe_budget(weight_bytes(arch, workload.quantize), shards, engine, cloud)


@dataclass(frozen=True)
class Speed:
    """Decode throughput of one replica from the bandwidth roofline (an estimate)."""

    tokens_per_second: float
    """Output tokens per second across `concurrency` streams."""
    concurrency: int
    """Streams decoded together."""


def experts_read(experts: int, picks: int, streams: int) -> float:
    """Distinct experts of one MoE layer that `streams` streams of `picks` experts each hit.

    E x (1 - (1 - k/E)^c): the expectation under uniform, independent routing.
    """
    if experts <= picks:
        return float(experts)
    return experts * (1 - (1 - picks / experts) ** streams)


def step_weight_bytes(arch: Architecture, quantize: str | None, streams: int) -> float:
    """Weight bytes one decode step of `streams` streams reads from memory.

    A dense model reads all of them. A MoE reads its dense part, its shared experts and every
    routed expert some stream picked: more than the active parameters once streams differ.
    """
    total = weight_bytes(arch, quantize)
    routed = tuple(w for w in arch.weights if w.kind == "experts")
    experts, picks = arch.experts, arch.experts_per_token
    if not routed or experts <= picks:
        return float(total)
    # The experts' own bytes: they may be stored apart from the rest (MXFP4 experts in gpt-oss).
    scheme = served_scheme(arch, quantize)
    expert_bytes = stored_bytes(replace(arch, weights=routed, parameters_override=None), scheme)
    unread = expert_bytes * (1 - experts_read(experts, picks, streams) / experts)
    return total - unread


def decode_speed(arch: Architecture, workload: Workload, fitted: Fit) -> Speed:
    """Each step reads the weights the streams route through and every stream's KV once.

    time = bytes per tensor-parallel group / (η x bandwidth); pipeline stages run in turn.
    """
    weights = step_weight_bytes(arch, workload.quantize, workload.concurrency)
    # On average a stream is halfway through its answer, so half its context's KV is read.
    kv = arch.kv_cache_bytes(workload.max_total_tokens // 2, workload.kv_bytes)
    kv_shards = fitted.shards if arch.attention != "mla" else 1
    step_bytes = weights / fitted.shards + kv * workload.concurrency / kv_shards
    steps = ETA * fitted.gpu.hbm_bandwidth_tbs * 1e12 / step_bytes
    return Speed(tokens_per_second=steps * workload.concurrency, concurrency=workload.concurrency)
