"""Where a replica runs, checked: the chosen or stated shape, its pool, a cluster's GPUs."""

from __future__ import annotations

import math

from ..config.errors import SettingsError, choices
from ..config.settings import ExistingClusterStack, ManagedStack, StackSettings
from .architecture import Architecture
from .catalog import Gpu, Shape, gpu_of, gpus, regions
from .fit import Fit, best_fit, fit, multi_node, needs_of, supports, valid_shards
from .options import Option, layout_text, multi_node_options, rank
from .packing import Packing, packing
from .workload import FIT_MARGIN, MEMORY_FRACTION, Workload

# Each check refuses a stack that could never serve, with a one-line SettingsError that names
# a fix, before any resource is planned.
__all__ = [
    "FALLBACKS",
    "SUGGESTIONS",
    "USABLE_SHARE",
    "check_pool",
    "choose",
    "existing_fit",
    "existing_shape",
    "explicit_fit",
    "gpu_with_memory",
]

FALLBACKS = 3
"""Next-cheapest fitting shapes kept for stockouts when the shape is chosen."""
USABLE_SHARE = 0.93
"""Usable share of a GPU's nominal memory when gpu.memoryGiB matches no catalog GPU: the lowest
share in the catalog (the L4 and A10G report 22888 of 24576 MiB)."""
SUGGESTIONS = 3
"""Shapes an error message names."""


def _region(settings: StackSettings) -> str:
    region = settings.provider.region()
    assert region is not None, "settings require a region on every managed cloud"
    return region


def _at(workload: Workload) -> str:
    return f"at {workload.max_total_tokens} tokens x {workload.concurrency} requests"


def _need(fitted: Fit) -> str:
    """What one GPU would need and what it has, for messages."""
    return (
        f"it needs about {fitted.used_gib:.1f} GiB per GPU (weights {fitted.weights_gib:.1f}, "
        f"KV {fitted.kv_gib:.1f}, runtime and activations {fitted.overhead_gib:.1f}) and each "
        f"{fitted.gpu.name} has {fitted.usable_gib:.1f} GiB for them (an estimate: "
        f"{1 - FIT_MARGIN:.0%} of the engine's {MEMORY_FRACTION:.0%} share)"
    )


def _multi_node_problem(settings: StackSettings, layout: Option, workload: Workload) -> str:
    return (
        f"no single {settings.cloud} machine in {_region(settings)} holds {settings.model.id} "
        f"{_at(workload)}: the smallest layout is {layout_text(layout.fit)}, about "
        f"${layout.monthly_usd:,.0f}/month per replica (an estimate), and llmplane serves a "
        "replica on one node for now"
    )


_SMALLER = (
    "quantize (model.quantize), use an fp8 KV cache (model.kvCacheDtype: fp8), or lower "
    "model.maxTotalTokens or model.concurrency"
)
_MULTI_NODE_FIX = f"{_SMALLER}; or try another region (`llmplane compare`)"


def choose(
    settings: ManagedStack, arch: Architecture | None, workload: Workload | None
) -> tuple[Option, tuple[str, ...]]:
    """The cheapest fitting shape in the stack's region whose pool holds the replicas."""
    if arch is None or workload is None:
        raise SettingsError(
            settings.stack,
            "llmplane:gpu.shape",
            f"is auto, but {settings.model.id} is not in llmplane's built-in model table, so it "
            "cannot be sized offline",
            f"set gpu.shape; `llmplane size --model {settings.model.id}` suggests one",
        )
    count = settings.gpu.count if "count" in settings.gpu.model_fields_set else None
    region = _region(settings)
    priced = regions(settings.cloud)
    if region not in priced:
        raise SettingsError(
            settings.stack,
            "llmplane:gpu.shape",
            f"is auto, but llmplane's catalog has no {settings.cloud} prices for {region}",
            f"set gpu.shape, or use a priced region: {choices(region, sorted(priced))}",
        )
    needs = needs_of(arch, workload)
    replicas = max(1, settings.replicas.min)
    spot = settings.gpu.spot
    options = rank(arch, workload, settings.cloud, region, spot, count, replicas, needs)
    if not options:
        layouts = multi_node_options(arch, workload, settings.cloud, region, spot, 1, needs)
        if layouts and not rank(arch, workload, settings.cloud, region, spot, None, 1, needs):
            raise SettingsError(
                settings.stack,
                "llmplane:gpu.shape",
                f"is auto, but {_multi_node_problem(settings, layouts[0], workload)}",
                _MULTI_NODE_FIX,
            )
        raise SettingsError(
            settings.stack,
            "llmplane:gpu.shape",
            f"is auto, but no priced {settings.cloud} shape in {region} holds "
            f"{settings.model.id} {_at(workload)}"
            + (f" on {count} GPU(s)" if count is not None else ""),
            "lower model.maxTotalTokens or model.concurrency, set model.quantize, "
            + ("change gpu.count, " if count is not None else "")
            + "or try another region (`llmplane compare` lists where it fits)",
        )
    held = [o for o in options if _pool_problem(settings, o.fit.shape, o.fit.gpus) is None]
    if not held:
        # Not one shape's pool holds the replicas: the cheapest shape's problem is the one to fix.
        check_pool(settings, options[0].fit.shape, options[0].fit.gpus)
    return held[0], tuple(o.fit.shape.name for o in held[1 : 1 + FALLBACKS])


def _check_divides(settings: StackSettings, arch: Architecture, count: int, on_node: int) -> None:
    """Tensor parallelism splits the attention heads: the GPU count must divide them."""
    if count in valid_shards(arch, on_node):
        return
    fitting = valid_shards(arch, on_node)
    raise SettingsError(
        settings.stack,
        "llmplane:gpu.count",
        f"is {count}, which does not split {settings.model.id}'s {arch.heads} attention heads "
        f"and {arch.kv_heads} KV heads evenly",
        f"use one of: {', '.join(map(str, fitting))}" if fitting else "use another model",
    )


def explicit_fit(
    settings: ManagedStack, shape: Shape, arch: Architecture, workload: Workload
) -> Fit:
    """The stack's own shape and GPU count, checked against the model's memory needs."""
    count = settings.gpu.count
    model = settings.model.id
    gpu = gpu_of(shape)
    _check_divides(settings, arch, count, shape.gpu_count)
    if not supports(gpu, workload.quantize):
        raise SettingsError(
            settings.stack,
            "llmplane:model.quantize",
            f"fp8 needs an Ada or Hopper GPU, and {shape.name} has {gpu.name}",
            "use a shape with L4, L40S, H100 or H200 GPUs, or another quantization",
        )
    fitted = fit(arch, shape, count, workload)
    if fitted.fits:
        return fitted
    problem = f"{count} x {gpu.name} of {shape.name} cannot hold {model} {_at(workload)}: "
    more = best_fit(arch, shape, workload)
    if more is not None:
        raise SettingsError(
            settings.stack,
            "llmplane:gpu.count",
            problem + _need(fitted),
            f"set gpu.count to {more.shards} ({more.used_gib:.1f} of {more.usable_gib:.1f} GiB "
            "per GPU), or gpu.shape: auto",
        )
    raise SettingsError(
        settings.stack,
        "llmplane:gpu.shape",
        problem + _need(fitted),
        _bigger(settings, arch, workload),
    )


def _bigger(settings: ManagedStack, arch: Architecture, workload: Workload) -> str:
    """The fix for a shape too small: the smallest shapes of the region that hold the model."""
    region = _region(settings)
    needs = needs_of(arch, workload)
    spot = settings.gpu.spot
    options = rank(arch, workload, settings.cloud, region, spot, needs=needs)
    if options:
        # Smallest: the least GPU memory on the machine, then the cheaper.
        smallest = sorted(
            options,
            key=lambda o: (
                o.fit.shape.gpu_count * o.fit.gpu.memory_gib,
                o.fleet_hourly_usd,
                o.fit.shape.name,
            ),
        )[:SUGGESTIONS]
        names = ", ".join(f"{o.fit.shape.name} with gpu.count {o.fit.shards}" for o in smallest)
        return f"use one of the smallest shapes in {region} that fit: {names}; or gpu.shape: auto"
    layouts = multi_node_options(arch, workload, settings.cloud, region, spot, 1, needs)
    if layouts:
        return f"{_multi_node_problem(settings, layouts[0], workload)}: {_MULTI_NODE_FIX}"
    return _MULTI_NODE_FIX


def gpu_with_memory(memory_gib: int) -> Gpu:
    """The GPU an existing cluster's gpu.memoryGiB describes, at the catalog's most cautious.

    GPUs of the catalog with that nominal memory lend their least usable memory and bandwidth;
    any other size is taken at USABLE_SHARE of its nominal memory.
    """
    alike = [g for g in gpus().values() if g.memory_gib == memory_gib]
    names = " or ".join(sorted({g.name for g in alike}))
    return Gpu(
        name=f"{memory_gib} GiB GPU" + (f" ({names})" if names else ""),
        memory_gib=memory_gib,
        usable_mib=min(
            (g.usable_mib for g in alike), default=int(memory_gib * 1024 * USABLE_SHARE)
        ),
        hbm_bandwidth_tbs=min(g.hbm_bandwidth_tbs for g in alike or gpus().values()),
        # Unknown which GPU it is: fp8 is not refused on a cluster llmplane cannot see.
        fp8=True,
        source="llmplane:gpu.memoryGiB" + (f", as the catalog's {names}" if names else ""),
        as_of="",
    )


def existing_shape(gpu: Gpu, count: int) -> Shape:
    """An existing cluster's GPUs as a shape: `count` GPUs of one node, nothing else known."""
    return Shape(
        cloud="kubernetes",
        name=f"{count} x {gpu.name}",
        gpu=gpu.name,
        gpu_count=count,
        gpu_memory_gib=gpu.memory_gib,
        vcpu=0,
        memory_gib=0,
        local_disk_gib=0,
        source=gpu.source,
        as_of=gpu.as_of,
    )


def existing_fit(
    settings: ExistingClusterStack, arch: Architecture, workload: Workload
) -> Fit | None:
    """An existing cluster's gpu.count checked against gpu.memoryGiB; None when that is unset.

    Unset, only what no GPU llmplane knows could hold is refused, and the fit stays unchecked.
    """
    count = settings.gpu.count
    model = settings.model.id
    _check_divides(settings, arch, count, count)
    memory = settings.gpu.memory_gib
    gpu = (
        gpu_with_memory(memory)
        if memory is not None
        else max(gpus().values(), key=lambda g: (g.usable_mib, g.name))
    )
    fitted = fit(arch, existing_shape(gpu, count), count, workload, gpu=gpu)
    if fitted.fits:
        return fitted if memory is not None else None
    which = (
        f"{count} x {memory} GiB GPU"
        if memory is not None
        else f"{count} GPU(s), even of the largest GPU llmplane knows ({gpu.name} "
        f"{gpu.memory_gib} GB),"
    )
    raise SettingsError(
        settings.stack,
        "llmplane:gpu.count",
        f"{which} cannot hold {model} {_at(workload)}: {_need(fitted)}",
        _more_gpus(arch, workload, gpu, count)
        + ("" if memory is not None else "; and set gpu.memoryGiB"),
    )


def _more_gpus(arch: Architecture, workload: Workload, gpu: Gpu, count: int) -> str:
    """The fix on an existing cluster: the GPU count that fits, or the multi-node layout."""
    needs = needs_of(arch, workload)
    for more in valid_shards(arch, 8):
        candidate = fit(arch, existing_shape(gpu, more), more, workload, gpu=gpu, needs=needs)
        if more > count and candidate.fits:
            return f"set gpu.count to {more} ({more} x {gpu.name} on one node)"
    layout = multi_node(arch, existing_shape(gpu, 8), workload, needs, gpu=gpu)
    if layout is not None:
        return (
            f"it needs {layout.pipeline} nodes x 8 such GPUs (tensor parallel "
            f"{layout.shards} within each node, pipeline parallel {layout.pipeline} across "
            f"nodes), which llmplane cannot serve yet: {_SMALLER}"
        )
    return _SMALLER


def _pool_problem(settings: ManagedStack, shape: Shape, gpus: int) -> SettingsError | None:
    """Why the pool's node bounds cannot hold the stack's replicas, if they cannot."""
    gpu, replicas = settings.gpu, settings.replicas
    per_node = packing(1, gpus, shape.gpu_count).replicas_per_node
    capacity = gpu.max_nodes * per_node
    for key, wanted in (("replicas.min", replicas.min), ("replicas.max", replicas.max)):
        if wanted > capacity:
            return SettingsError(
                settings.stack,
                f"llmplane:{key}",
                f"is {wanted}, but gpu.maxNodes ({gpu.max_nodes}) {shape.name} nodes hold at most "
                f"{capacity} replica(s) of {gpus} GPU(s) ({per_node} per node of "
                f"{shape.gpu_count} GPUs)",
                f"raise gpu.maxNodes to {math.ceil(wanted / per_node)}, or lower {key} to "
                f"{capacity}",
            )
    if gpu.min_nodes > replicas.max:
        return SettingsError(
            settings.stack,
            "llmplane:gpu.minNodes",
            f"is {gpu.min_nodes}, above replicas.max ({replicas.max}): "
            f"{gpu.min_nodes - replicas.max} GPU node(s) could never run a replica but would "
            "be paid for",
            f"lower gpu.minNodes to {replicas.max} or less",
        )
    return None


def check_pool(settings: ManagedStack, shape: Shape, gpus: int) -> Packing:
    """The expected replicas' packing, once the pool's node bounds are known to hold them."""
    problem = _pool_problem(settings, shape, gpus)
    if problem is not None:
        raise problem
    return packing(max(1, settings.replicas.min), gpus, shape.gpu_count)
