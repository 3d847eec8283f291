"""What a stack serves, resolved: the GPU shape (chosen when `auto`), shards, packing and limits.

Every figure comes from fit.py's estimates. A stack that could never serve is refused here
with a one-line SettingsError before any resource is planned: a context above the model's, a
shape or GPU count too small for the model, replicas its node pool cannot hold, or a model that
only a multi-node layout holds (llmplane serves a replica on one node for now); placement.py
holds the checks of shapes, GPU counts and pools.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from llmplane.components.kubernetes.engines import ServeRequest

from ..config.errors import SettingsError
from ..config.settings import ExistingClusterStack, StackSettings
from .architecture import Architecture
from .catalog import Shape, require_shape
from .coldstart import ColdStart
from .fit import GIB, Fit, engine_limits, shm_gib, weight_bytes
from .models import builtin, gated
from .options import rank
from .packing import Packing
from .placement import check_pool, choose, existing_fit, explicit_fit
from .quantization import check as check_quantize
from .startup import UNKNOWN_MODEL_SECONDS, stack_cold_start, warm_job_seconds, weights_source
from .workload import ASSUMPTIONS, Workload, context_limit, workload_for

# rank is listed too: the tests import it from here.
__all__ = [
    "CPU_PER_GPU",
    "HOST_GIB_PER_GPU",
    "MIN_CACHE_GIB",
    "NODE_SHARE",
    "Serving",
    "gpu_summary",
    "rank",
    "serving_for",
]

MIN_CACHE_GIB = 100
# Share of a node's CPU and memory a replica may request; the rest is for the kubelet, the
# system daemons and, on shapes with spare GPUs, other replicas.
NODE_SHARE = 0.8
HOST_GIB_PER_GPU = 4
"""Existing cluster: host memory per engine rank besides the weights it pages in (CUDA
context, pinned transfer buffers, tokenizer)."""
CPU_PER_GPU = 4
"""Existing cluster: CPU cores per GPU, for each rank's scheduler, tokenizers and HTTP server."""


@dataclass(frozen=True)
class Serving:
    """The GPU shape and server settings of one stack, sized from the model where it is known."""

    shape: Shape | None
    """The GPU shape; None on an existing cluster, whose nodes llmplane does not choose."""
    gpus: int
    """GPUs per replica: the tensor-parallel shard count."""
    automatic: bool
    """Whether llmplane chose the shape (gpu.shape: auto)."""
    fallbacks: tuple[str, ...]
    """Next-cheapest shapes that also fit, for stockouts; empty unless the shape was chosen."""
    fit: Fit | None
    """Memory arithmetic; None when the model or (existing cluster) the GPU is unknown."""
    workload: Workload | None
    """The context and headroom sized for; None when the model is unknown."""
    request: ServeRequest
    """What the server's command line is built from."""
    startup_seconds: int
    """How long a pod may take to download and load the model before it is restarted."""
    shm_gib: int
    """Size of the memory-backed /dev/shm."""
    cpu: int | None
    """CPU cores a replica requests; None where neither node nor model is known."""
    memory_gib: int | None
    """Memory a replica requests (with /dev/shm); None where neither node nor model is known."""
    cache_gib: int
    """Size limit of the weights cache: the weights plus a tenth, at least 100 GiB."""
    cold_start: ColdStart | None = None
    """Zero replicas to first token, part by part (estimate); None when the model is unknown."""
    warm_job_seconds: int | None = None
    """The warm-cache Job's deadline; None when the stack has no warm cache or model size."""
    packing: Packing | None = None
    """How the expected replicas (replicas.min, at least 1) share nodes; None: existing cluster."""
    expected_nodes: int | None = None
    """GPU nodes the pool runs at its expected size, within gpu.minNodes and gpu.maxNodes."""


def _workload(settings: StackSettings, arch: Architecture) -> Workload:
    """The stack's workload, its context checked against the model's own limit."""
    model = settings.model
    limit = context_limit(arch)
    if model.max_total_tokens is not None and model.max_total_tokens > limit:
        raise SettingsError(
            settings.stack,
            "llmplane:model.maxTotalTokens",
            f"is {model.max_total_tokens}, above the {limit} tokens {model.id} supports "
            "(the position limit of its config.json)",
            f"set it to {limit} or less",
        )
    return workload_for(
        arch,
        model.max_total_tokens,
        model.max_input_tokens,
        concurrency=model.concurrency,
        quantize=model.quantize,
        kv_cache_dtype=model.kv_cache_dtype,
    )


def serving_for(settings: StackSettings) -> Serving:
    """The stack's resolved serving plan; a one-line SettingsError if it cannot be sized."""
    model = settings.model
    arch = builtin(model.id)
    if arch is not None:
        check_quantize(arch, model.quantize, model.id, settings.stack, engine=settings.engine)
    workload = _workload(settings, arch) if arch is not None else None
    shape: Shape | None = None
    fallbacks: tuple[str, ...] = ()
    fitted: Fit | None = None
    existing = isinstance(settings, ExistingClusterStack)
    automatic = not existing and settings.gpu.shape == "auto"
    expected_nodes: int | None = None
    if isinstance(settings, ExistingClusterStack):
        if arch is not None and workload is not None:
            fitted = existing_fit(settings, arch, workload)
    elif automatic:
        best, fallbacks = choose(settings, arch, workload)
        shape, fitted = best.fit.shape, best.fit
    else:
        shape = require_shape(settings)
        if arch is not None and workload is not None:
            fitted = explicit_fit(settings, shape, arch, workload)
    gpus = fitted.shards if fitted is not None else settings.gpu.count
    packed = None
    if shape is not None and not isinstance(settings, ExistingClusterStack):
        packed = check_pool(settings, shape, gpus)
        gpu = settings.gpu
        expected_nodes = min(gpu.max_nodes, max(gpu.min_nodes, packed.nodes))
    limits = engine_limits(workload, fitted) if workload and fitted else None
    shm = shm_gib(gpus)
    weights = weight_bytes(arch, workload.quantize) if arch and workload else None
    cold = None
    if weights is not None:
        cold = stack_cold_start(settings, shape.name if shape else None, gpus, weights)
    cpu, memory = _requests(shape, arch, workload, gpus, shm)
    return Serving(
        shape=shape,
        gpus=gpus,
        automatic=automatic,
        fallbacks=fallbacks,
        fit=fitted,
        workload=workload,
        request=ServeRequest(
            model_id=model.id,
            revision=model.revision,
            shards=gpus,
            quantize=model.quantize,
            max_input_tokens=limits.max_input_tokens if limits else model.max_input_tokens,
            max_total_tokens=limits.max_total_tokens if limits else model.max_total_tokens,
            batch_prefill_tokens=limits.batch_prefill_tokens if limits else None,
            memory_fraction=limits.memory_fraction if limits else None,
            kv_cache_dtype=model.kv_cache_dtype,
            gated=gated(model.id),
            fit_checked=fitted is not None,
        ),
        startup_seconds=cold.probe_seconds if cold is not None else UNKNOWN_MODEL_SECONDS,
        cold_start=cold,
        warm_job_seconds=(
            warm_job_seconds(settings, weights)
            if weights is not None and weights_source(settings) == "cache"
            else None
        ),
        shm_gib=shm,
        cpu=cpu,
        memory_gib=memory,
        cache_gib=_cache_gib(arch, workload),
        packing=packed,
        expected_nodes=expected_nodes,
    )


def _requests(
    shape: Shape | None,
    arch: Architecture | None,
    workload: Workload | None,
    gpus: int,
    shm: int,
) -> tuple[int | None, int | None]:
    """CPU cores and memory (GiB) a replica requests.

    On a managed pool, its share of the node. On an existing cluster, what the model needs:
    room to page in its weights, HOST_GIB_PER_GPU for each engine rank, and /dev/shm (memory-
    backed, so it counts against the limit); None where the model is unknown too.
    """
    if shape is not None:
        share = gpus / shape.gpu_count * NODE_SHARE
        return max(1, int(shape.vcpu * share)), max(1, int(shape.memory_gib * share))
    if arch is None or workload is None:
        return None, None
    weights = weight_bytes(arch, workload.quantize) / GIB
    return CPU_PER_GPU * gpus, math.ceil(weights + HOST_GIB_PER_GPU * gpus + shm)


def _cache_gib(arch: Architecture | None, workload: Workload | None) -> int:
    if arch is None or workload is None:
        return MIN_CACHE_GIB
    return max(MIN_CACHE_GIB, math.ceil(weight_bytes(arch, workload.quantize) * 1.1 / GIB))


def gpu_summary(serving: Serving) -> dict[str, Any]:
    """The stack output `gpu`: what was chosen, why, how it packs, and what to fall back to."""
    summary: dict[str, Any] = {
        "shape": serving.shape.name if serving.shape is not None else None,
        "gpusPerReplica": serving.gpus,
        "chosen": "auto" if serving.automatic else "stack",
        "fallbacks": list(serving.fallbacks),
        "fit": "checked (an estimate)"
        if serving.fit is not None
        else "unchecked: "
        + (
            "the model is not in llmplane's built-in table"
            if serving.workload is None
            else "set llmplane:gpu.memoryGiB to the cluster's GPU memory"
        ),
    }
    if serving.cold_start is not None:
        summary["coldStart"] = serving.cold_start.as_dict()
    if serving.packing is not None and serving.shape is not None:
        nodes = serving.expected_nodes or serving.packing.nodes
        summary["packing"] = {
            "replicasPerNode": serving.packing.replicas_per_node,
            "expectedReplicas": serving.packing.replicas,
            "expectedNodes": nodes,
            "idleGpus": nodes * serving.shape.gpu_count - serving.packing.replicas * serving.gpus,
        }
    if serving.fit is not None and serving.workload is not None:
        fitted = serving.fit
        summary["estimate"] = {
            "gibPerGpu": round(fitted.used_gib, 1),
            "gibAvailablePerGpu": round(fitted.usable_gib, 1),
            "headroomGiBPerGpu": round(fitted.headroom_gib, 1),
            "headroomTokens": fitted.headroom_tokens,
            "kvCapacityTokens": fitted.kv_capacity_tokens,
            "maxConcurrentRequests": fitted.max_requests,
            "contextTokens": serving.workload.max_total_tokens,
            "concurrency": serving.workload.concurrency,
            "kvCacheDtype": serving.workload.kv_cache_dtype,
            "assumptions": ASSUMPTIONS,
        }
    return summary
