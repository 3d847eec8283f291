"""What a stack serves, resolved: the GPU shape (chosen when `auto`), shards and server limits."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from components.engines import ServeRequest
from infra.architecture import Architecture
from infra.catalog import Price, Shape, nearest_names, prices, regions, require_shape, shapes
from infra.errors import SettingsError
from infra.model_source import builtin
from infra.settings import StackSettings
from infra.sizing import (
    ASSUMPTIONS,
    GIB,
    Fit,
    Workload,
    best_fit,
    engine_limits,
    fit,
    shm_gib,
    startup_seconds,
    weight_bytes,
    workload_for,
)

FALLBACKS = 3
MIN_CACHE_GIB = 100
# Share of a node's CPU and memory a replica may request; the rest is for the kubelet, the
# system daemons and, on shapes with spare GPUs, other replicas.
NODE_SHARE = 0.8


@dataclass(frozen=True)
class Option:
    """One shape that holds the model, with what it costs per hour in the region."""

    fit: Fit
    """Memory arithmetic at the fewest shards that fit."""
    hourly_usd: float
    """Node price per hour (spot or on-demand, as asked)."""
    price: Price
    """The catalog row behind it, with its source and date."""


def rank(
    arch: Architecture,
    workload: Workload,
    cloud: str,
    region: str,
    spot: bool,
    shards: int | None = None,
) -> list[Option]:
    """Every priced shape of the cloud and region that holds the workload, cheapest first."""
    options: list[Option] = []
    priced = prices(cloud)
    for shape in shapes(cloud).values():
        price = priced.get((shape.name, region))
        hourly = price.hourly(spot) if price is not None else None
        if price is None or hourly is None:
            continue
        fitted = best_fit(arch, shape, workload, shards)
        if fitted is not None:
            options.append(Option(fitted, hourly, price))
    # Ties go to fewer GPUs (less to lose to a stockout), then to the name, for determinism.
    return sorted(options, key=lambda o: (o.hourly_usd, o.fit.shape.gpu_count, o.fit.shape.name))


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
    """Memory arithmetic; None when the model is not in the built-in table."""
    workload: Workload | None
    """The context and headroom sized for; None when the model is unknown."""
    request: ServeRequest
    """What the server's command line is built from."""
    startup_seconds: int
    """How long a pod may take to download and load the model before it is restarted."""
    shm_gib: int
    """Size of the memory-backed /dev/shm."""
    cpu: int | None
    """CPU cores a replica requests; None where the node shape is unknown."""
    memory_gib: int | None
    """Memory a replica requests; None where the node shape is unknown."""
    cache_gib: int
    """Size limit of the weights cache: the weights plus a tenth, at least 100 GiB."""


def _region(settings: StackSettings) -> str:
    region = settings.provider.region(settings.cloud)
    assert region is not None, "settings require a region on every managed cloud"
    return region


def _choose(
    settings: StackSettings, arch: Architecture | None, workload: Workload | None
) -> tuple[Option, tuple[str, ...]]:
    """The cheapest fitting shape in the stack's region, and the ranked fallbacks."""
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
    options = rank(arch, workload, settings.cloud, region, settings.gpu.spot, count)
    if not options:
        raise SettingsError(
            settings.stack,
            "llmplane:gpu.shape",
            f"is auto, but no priced {settings.cloud} shape in {region} holds "
            f"{settings.model.id} at {workload.max_total_tokens} tokens x "
            f"{workload.concurrency} requests",
            "lower model.maxTotalTokens, set model.quantize, or try another region "
            "(`llmplane compare` lists where it fits)",
        )
    return options[0], tuple(o.fit.shape.name for o in options[1 : 1 + FALLBACKS])


def _explicit_fit(
    settings: StackSettings, shape: Shape, arch: Architecture, workload: Workload
) -> Fit:
    """The stack's own shape and GPU count, checked against the model's memory needs."""
    fitted = best_fit(arch, shape, workload, settings.gpu.count)
    if fitted is None:
        needed = fit_at(arch, shape, settings.gpu.count, workload)
        raise SettingsError(
            settings.stack,
            "llmplane:gpu.shape",
            f"{settings.gpu.count} x {shape.gpu} of {shape.name} cannot hold {settings.model.id}: "
            f"it needs about {needed} per GPU at {workload.max_total_tokens} tokens x "
            f"{workload.concurrency} requests (an estimate)",
            "set gpu.shape: auto, raise gpu.count, quantize, or lower model.maxTotalTokens",
        )
    return fitted


def fit_at(arch: Architecture, shape: Shape, shards: int, workload: Workload) -> str:
    """'X GiB of Y GiB': what one GPU would need and what it has (for messages)."""
    fitted = fit(arch, shape, shards, workload)
    return f"{fitted.used_gib:.1f} GiB of {fitted.budget_gib:.1f} GiB"


def serving_for(settings: StackSettings) -> Serving:
    """The stack's resolved serving plan; a one-line SettingsError if it cannot be sized."""
    arch = builtin(settings.model.id)
    model = settings.model
    workload = (
        workload_for(arch, model.max_total_tokens, model.max_input_tokens, quantize=model.quantize)
        if arch is not None
        else None
    )
    shape: Shape | None = None
    fallbacks: tuple[str, ...] = ()
    fitted: Fit | None = None
    automatic = settings.cloud != "kubernetes" and settings.gpu.shape == "auto"
    if automatic:
        best, fallbacks = _choose(settings, arch, workload)
        shape, fitted = best.fit.shape, best.fit
    elif settings.cloud != "kubernetes":
        shape = require_shape(settings)
        if arch is not None and workload is not None:
            fitted = _explicit_fit(settings, shape, arch, workload)
    gpus = fitted.shards if fitted is not None else settings.gpu.count
    limits = engine_limits(workload, fitted) if workload and fitted else None
    share = gpus / shape.gpu_count * NODE_SHARE if shape is not None else 0.0
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
        ),
        startup_seconds=startup_seconds(arch, workload, gpus) if arch and workload else 1800,
        shm_gib=shm_gib(gpus),
        cpu=max(1, int(shape.vcpu * share)) if shape is not None else None,
        memory_gib=max(1, int(shape.memory_gib * share)) if shape is not None else None,
        cache_gib=_cache_gib(arch, workload),
    )


def _cache_gib(arch: Architecture | None, workload: Workload | None) -> int:
    if arch is None or workload is None:
        return MIN_CACHE_GIB
    return max(MIN_CACHE_GIB, math.ceil(weight_bytes(arch, workload.quantize) * 1.1 / GIB))


def gpu_summary(serving: Serving) -> dict[str, Any]:
    """The stack output `gpu`: what was chosen, why, and what to fall back to (estimates)."""
    summary: dict[str, Any] = {
        "shape": serving.shape.name if serving.shape is not None else None,
        "gpusPerReplica": serving.gpus,
        "chosen": "auto" if serving.automatic else "stack",
        "fallbacks": list(serving.fallbacks),
    }
    if serving.fit is not None and serving.workload is not None:
        summary["estimate"] = {
            "gibPerGpu": round(serving.fit.used_gib, 1),
            "gibAvailablePerGpu": round(serving.fit.budget_gib, 1),
            "kvCapacityTokens": serving.fit.kv_capacity_tokens,
            "contextTokens": serving.workload.max_total_tokens,
            "concurrency": serving.workload.concurrency,
            "assumptions": ASSUMPTIONS,
        }
    return summary
