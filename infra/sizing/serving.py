"""What a stack serves, resolved: the GPU shape (chosen when `auto`), shards, packing and limits.

Every figure comes from sizing.py's estimates. A stack that could never serve is refused here
with a one-line SettingsError before any resource is planned: a context above the model's, a
shape or GPU count too small for the model, replicas its node pool cannot hold, or a model that
only a multi-node layout holds (llmplane serves a replica on one node for now).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from llmplane.components.kubernetes.engines import ServeRequest

from ..config.errors import SettingsError
from ..config.settings import StackSettings
from .architecture import Architecture
from .catalog import (
    Gpu,
    Price,
    Shape,
    gpu_of,
    gpus,
    nearest_names,
    prices,
    regions,
    require_shape,
    shapes,
)
from .cost import HOURS_PER_MONTH, Packing, packing
from .fit import (
    ASSUMPTIONS,
    FIT_MARGIN,
    GIB,
    MEMORY_FRACTION,
    Fit,
    Needs,
    Workload,
    best_fit,
    context_limit,
    engine_limits,
    fit,
    multi_node,
    needs_of,
    shm_gib,
    startup_seconds,
    supports,
    valid_shards,
    weight_bytes,
    workload_for,
)
from .models import builtin, gated
from .quantization import check as check_quantize

FALLBACKS = 3
MIN_CACHE_GIB = 100
# Share of a node's CPU and memory a replica may request; the rest is for the kubelet, the
# system daemons and, on shapes with spare GPUs, other replicas.
NODE_SHARE = 0.8
HOST_GIB_PER_GPU = 4
"""Existing cluster: host memory per engine rank besides the weights it pages in (CUDA
context, pinned transfer buffers, tokenizer)."""
CPU_PER_GPU = 4
"""Existing cluster: CPU cores per GPU, for each rank's scheduler, tokenizers and HTTP server."""
USABLE_SHARE = 0.93
"""Usable share of a GPU's nominal memory when gpu.memoryGiB matches no catalog GPU: the lowest
share in the catalog (the L4 and A10G report 22888 of 24576 MiB)."""
SUGGESTIONS = 3
"""Shapes an error message names."""


@dataclass(frozen=True)
class Option:
    """One shape that holds the model, with what it costs per hour in the region."""

    fit: Fit
    """Memory arithmetic at the fewest shards that fit."""
    hourly_usd: float
    """Price of one node per hour (spot or on-demand, as asked)."""
    price: Price
    """The catalog row behind it, with its source and date."""
    replicas: int = 1
    """Replicas priced: they share nodes where the shape has GPUs to spare."""

    @property
    def packing(self) -> Packing:
        """Nodes the replicas take and the GPUs left idle on them."""
        return packing(self.replicas, self.fit.gpus, self.fit.shape.gpu_count)

    @property
    def fleet_hourly_usd(self) -> float:
        """Every node the replicas need, per hour."""
        return self.packing.nodes * self.hourly_usd

    @property
    def monthly_usd(self) -> float:
        """Every node the replicas need, around the clock for a month."""
        return self.fleet_hourly_usd * HOURS_PER_MONTH


def _priced(cloud: str, region: str, spot: bool) -> list[tuple[Shape, Price, float]]:
    """The cloud's shapes with a price in the region, and that price."""
    found: list[tuple[Shape, Price, float]] = []
    priced = prices(cloud)
    for shape in shapes(cloud).values():
        price = priced.get((shape.name, region))
        hourly = price.hourly(spot) if price is not None else None
        if price is not None and hourly is not None:
            found.append((shape, price, hourly))
    return found


def rank(
    arch: Architecture,
    workload: Workload,
    cloud: str,
    region: str,
    spot: bool,
    shards: int | None = None,
    replicas: int = 1,
    needs: Needs | None = None,
) -> list[Option]:
    """Every priced shape of the region that holds one replica on one node, cheapest first.

    The price is that of all the nodes `replicas` replicas take, so a shape whose spare GPUs
    hold further replicas ranks by what those replicas really cost.
    """
    needs = needs or needs_of(arch, workload)
    options = [
        Option(fitted, hourly, price, replicas)
        for shape, price, hourly in _priced(cloud, region, spot)
        if (fitted := best_fit(arch, shape, workload, shards, needs)) is not None
    ]
    # Ties go to fewer idle GPUs, then fewer GPUs (less to lose to a stockout), then the name.
    return sorted(
        options,
        key=lambda o: (
            o.fleet_hourly_usd,
            o.packing.idle_gpus,
            o.fit.shape.gpu_count,
            o.fit.shape.name,
        ),
    )


def multi_node_options(
    arch: Architecture,
    workload: Workload,
    cloud: str,
    region: str,
    spot: bool,
    replicas: int = 1,
    needs: Needs | None = None,
) -> list[Option]:
    """Multi-node layouts of the region's priced shapes, the fewest nodes and GPUs first."""
    needs = needs or needs_of(arch, workload)
    options = [
        Option(fitted, hourly, price, replicas)
        for shape, price, hourly in _priced(cloud, region, spot)
        if (fitted := multi_node(arch, shape, workload, needs)) is not None
    ]
    return sorted(
        options,
        key=lambda o: (o.fit.pipeline, o.fit.gpus, o.fleet_hourly_usd, o.fit.shape.name),
    )


def layout_text(fitted: Fit) -> str:
    """'2 x p4de.24xlarge (16 x A100 80 GB: tensor parallel 8 per node, pipeline parallel 2)'."""
    return (
        f"{fitted.pipeline} x {fitted.shape.name} ({fitted.gpus} x {fitted.gpu.name} "
        f"{fitted.gpu.memory_gib} GB: tensor parallel {fitted.shards} within each node, "
        f"pipeline parallel {fitted.pipeline} across nodes)"
    )


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
    packing: Packing | None = None
    """How the expected replicas (replicas.min, at least 1) share nodes; None: existing cluster."""
    expected_nodes: int | None = None
    """GPU nodes the pool runs at its expected size, within gpu.minNodes and gpu.maxNodes."""


def _region(settings: StackSettings) -> str:
    region = settings.provider.region(settings.cloud)
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


def _choose(
    settings: StackSettings, arch: Architecture | None, workload: Workload | None
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
            f"set gpu.shape, or use a priced region: {', '.join(nearest_names(region, priced))}",
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
        _check_pool(settings, options[0].fit.shape, options[0].fit.gpus)
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


def _explicit_fit(
    settings: StackSettings, shape: Shape, arch: Architecture, workload: Workload
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


def _bigger(settings: StackSettings, arch: Architecture, workload: Workload) -> str:
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


def _existing_fit(settings: StackSettings, arch: Architecture, workload: Workload) -> Fit | None:
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


def _pool_problem(settings: StackSettings, shape: Shape, gpus: int) -> SettingsError | None:
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


def _check_pool(settings: StackSettings, shape: Shape, gpus: int) -> Packing:
    """The expected replicas' packing, once the pool's node bounds are known to hold them."""
    problem = _pool_problem(settings, shape, gpus)
    if problem is not None:
        raise problem
    return packing(max(1, settings.replicas.min), gpus, shape.gpu_count)


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
    automatic = settings.cloud != "kubernetes" and settings.gpu.shape == "auto"
    if settings.cloud == "kubernetes":
        if arch is not None and workload is not None:
            fitted = _existing_fit(settings, arch, workload)
    elif automatic:
        best, fallbacks = _choose(settings, arch, workload)
        shape, fitted = best.fit.shape, best.fit
    else:
        shape = require_shape(settings)
        if arch is not None and workload is not None:
            fitted = _explicit_fit(settings, shape, arch, workload)
    gpus = fitted.shards if fitted is not None else settings.gpu.count
    packed = _check_pool(settings, shape, gpus) if shape is not None else None
    limits = engine_limits(workload, fitted) if workload and fitted else None
    shm = shm_gib(gpus)
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
        startup_seconds=startup_seconds(arch, workload, gpus) if arch and workload else 1800,
        shm_gib=shm,
        cpu=cpu,
        memory_gib=memory,
        cache_gib=_cache_gib(arch, workload),
        packing=packed,
        expected_nodes=(
            min(settings.gpu.max_nodes, max(settings.gpu.min_nodes, packed.nodes))
            if packed is not None
            else None
        ),
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
