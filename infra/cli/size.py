"""`llmplane size`: a model's weights, KV cache, the GPUs that hold it and its engine flags."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..config.errors import SettingsError
from ..sizing.architecture import Architecture
from ..sizing.catalog import CLOUDS, Shape, prices, shapes
from ..sizing.cost import HOURS_PER_MONTH
from ..sizing.fit import (
    ASSUMPTIONS,
    DEFAULT_CONCURRENCY,
    FIT_MARGIN,
    MAX_PIPELINE_NODES,
    MEMORY_FRACTION,
    Fit,
    Workload,
    best_fit,
    engine_limits,
    multi_node,
    needs_of,
    shm_gib,
    startup_seconds,
    weight_bytes,
)
from ..sizing.models import resolve
from ..sizing.quantization import engine_reads
from .grammar import FormatOption, JsonFlag, output_format
from .reports import ESTIMATE, assumptions_line, rich_table
from .sizing import (
    ConcurrencyOption,
    ConfigOption,
    ContextOption,
    KvDtypeOption,
    ModelOption,
    QuantizeOption,
    _out,
    workload_of,
)
from .terminal import emit, markdown_block


def _largest_shape_per_gpu() -> list[Shape]:
    """For each GPU model, the catalog shape with the most of them (to allow every shard count)."""
    best: dict[tuple[str, int], Shape] = {}
    for cloud in CLOUDS:
        for shape in shapes(cloud).values():
            key = (shape.gpu, shape.gpu_memory_gib)
            if key not in best or shape.gpu_count > best[key].gpu_count:
                best[key] = shape
    return [best[key] for key in sorted(best)]


def _fits(arch: Architecture, workload: Workload) -> list[Fit]:
    needs = needs_of(arch, workload)
    fits = [best_fit(arch, shape, workload, needs=needs) for shape in _largest_shape_per_gpu()]
    return sorted(
        (f for f in fits if f is not None), key=lambda f: (f.shards, f.gpu.usable_mib, f.gpu.name)
    )


def _cheapest_hour(shape: Shape) -> tuple[float, str] | None:
    """The lowest on-demand price of a shape in any region, and that region."""
    found = [
        (price.on_demand, region)
        for (name, region), price in prices(shape.cloud).items()
        if name == shape.name and price.on_demand is not None
    ]
    return min(found) if found else None


def _layouts(arch: Architecture, workload: Workload) -> list[tuple[Fit, tuple[float, str] | None]]:
    """Per GPU model, the fewest nodes of its largest shape that hold one replica, and a price.

    Asked only when no single machine of the catalog holds the model.
    """
    needs = needs_of(arch, workload)
    found: list[tuple[Fit, tuple[float, str] | None]] = []
    for shape in _largest_shape_per_gpu():
        layout = multi_node(arch, shape, workload, needs)
        if layout is not None:
            found.append((layout, _cheapest_hour(shape)))
    return sorted(
        found,
        key=lambda item: (item[0].pipeline, item[0].gpus, item[1] or (float("inf"), ""),
                          item[0].gpu.name),
    )  # fmt: skip


def size(
    model: ModelOption = None,
    model_config: ConfigOption = None,
    context: ContextOption = None,
    concurrency: ConcurrencyOption = DEFAULT_CONCURRENCY,
    quantize: QuantizeOption = None,
    kv_cache_dtype: KvDtypeOption = "auto",
    fmt: FormatOption = "table",
    as_json: JsonFlag = False,
) -> None:
    """Size a model from its config.json: weights, KV cache, GPUs and engine flags (estimates)."""
    arch = resolve(model, model_config)
    name = model or str(model_config)
    workload = workload_of(arch, context, concurrency, quantize, name, kv_cache_dtype)
    fits = _fits(arch, workload)
    layouts = _layouts(arch, workload) if not fits else []
    if not fits and not layouts:
        raise SettingsError(
            "-",
            "--model",
            f"{name} fits no GPU in the catalog at {workload.max_total_tokens} tokens x "
            f"{concurrency} requests, even on {MAX_PIPELINE_NODES} nodes",
            "lower --context or --concurrency, pass --kv-cache-dtype fp8 or --quantize fp8, "
            "or use a quantized checkpoint of the model",
        )
    document = _size_document(name, arch, workload, fits, layouts)
    chosen = output_format(fmt, as_json)
    if chosen == "json":
        emit(json.dumps(document, indent=2, sort_keys=True))
        return
    if chosen == "markdown":
        with markdown_block(f"{name}: sizing (estimates)", _out):
            _print_size(name, arch, workload, fits, layouts, document)
        return
    _print_size(name, arch, workload, fits, layouts, document)


def _print_size(
    name: str,
    arch: Architecture,
    workload: Workload,
    fits: list[Fit],
    layouts: list[tuple[Fit, tuple[float, str] | None]],
    document: dict[str, Any],
) -> None:
    """The table view: the model, where it fits, the engine flags (or multi-node layouts)."""
    family = f"{arch.family}, family inferred" if arch.family_inferred else arch.family
    _out.print(f"[bold]{name}[/] ({family}): {document['parameters'] / 1e9:.2f}B parameters")
    shipped = (
        f" {arch.checkpoint_quantization} as shipped"
        if arch.checkpoint_quantization
        else f" {workload.quantize} on load"
        if workload.quantize
        else ""
    )
    _out.print(
        f"weights {document['weightsGB']:.1f} GB{shipped} ({document['weightsBf16GB']:.1f} GB in "
        f"bf16), KV cache {document['kvBytesPerToken'] // 1024} KiB per token "
        f"({workload.kv_cache_dtype}), context {workload.max_total_tokens} x "
        f"{workload.concurrency} requests"
    )
    for arch_note in arch.notes:
        _out.print(f"note: {arch_note}")
    rule = (
        "A fit holds the weights, runtime and activations, and the KV cache of "
        f"{workload.concurrency} "
        f"requests of {workload.max_total_tokens} tokens within {1 - FIT_MARGIN:.0%} of the "
        f"engine's share ({MEMORY_FRACTION:.0%} of the GPU); headroom is what is left of that."
    )
    note = f"{ESTIMATE}. {rule} Assumptions: {assumptions_line(ASSUMPTIONS)}."
    if not fits:
        _print_layouts(name, workload, layouts, note)
        return
    body = [
        [
            fit.gpu.name,
            f"{fit.gpu.memory_gib} GB",
            str(fit.shards),
            f"{fit.used_gib:.1f} / {fit.usable_gib:.1f}",
            f"{fit.headroom_gib:.1f}",
            f"{fit.kv_capacity_tokens:,}",
            f"{fit.headroom_tokens:,}",
        ]
        for fit in fits
    ]
    header = (
        "GPU",
        "memory",
        "shards",
        "GiB used / usable per GPU",
        "headroom GiB",
        "KV capacity (tokens)",
        "headroom (tokens)",
    )
    _out.print(rich_table("Where it fits (fewest shards per GPU model)", header, body, note))
    chosen = document["suggested"]
    _out.print(
        f"On {chosen['gpu']} x{chosen['shards']}: startup budget {chosen['startupSeconds']} s, "
        f"/dev/shm {chosen['shmGiB']} GiB"
    )
    for engine, args in chosen["engineArgs"].items():
        _out.print(f"  {engine}: {' '.join(args)}")


def _print_layouts(
    name: str,
    workload: Workload,
    layouts: Sequence[tuple[Fit, tuple[float, str] | None]],
    note: str,
) -> None:
    """The multi-node answer of `size`: no single machine holds the model."""
    _out.print(
        f"No single machine in llmplane's catalog holds {name} at {workload.max_total_tokens} "
        f"tokens x {workload.concurrency} requests. The smallest multi-node layouts follow: "
        "tensor parallel within a node, pipeline parallel across nodes. llmplane cannot deploy "
        "them yet; quantizing, an fp8 KV cache or a shorter context may bring it onto one node."
    )
    body = [
        [
            layout.gpu.name,
            f"{layout.gpu.memory_gib} GB",
            f"{layout.pipeline} x {layout.shape.name}",
            f"TP {layout.shards} x PP {layout.pipeline}",
            f"{layout.used_gib:.1f} / {layout.usable_gib:.1f}",
            f"{layout.headroom_tokens:,}",
            f"{price[0] * layout.pipeline:,.2f} ({price[1]})" if price else "-",
            f"{price[0] * layout.pipeline * HOURS_PER_MONTH:,.0f}" if price else "-",
        ]
        for layout, price in layouts
    ]
    header = (
        "GPU",
        "memory",
        "nodes x shape",
        "parallelism",
        "GiB used / usable per GPU",
        "headroom (tokens)",
        "cheapest $/h (region)",
        "$/month",
    )
    title = "Smallest multi-node layouts (one per GPU model)"
    _out.print(rich_table(title, header, body, note))


def _fit_json(fit: Fit) -> dict[str, Any]:
    return {
        "gpu": fit.gpu.name,
        "gpuMemoryGiB": fit.gpu.memory_gib,
        "shards": fit.shards,
        "gibPerGpu": round(fit.used_gib, 2),
        "gibAvailablePerGpu": round(fit.usable_gib, 2),
        "weightsGiBPerGpu": round(fit.weights_gib, 2),
        "kvGiBPerGpu": round(fit.kv_gib, 2),
        "overheadGiBPerGpu": round(fit.overhead_gib, 2),
        "headroomGiBPerGpu": round(fit.headroom_gib, 2),
        "headroomTokens": fit.headroom_tokens,
        "kvCapacityTokens": fit.kv_capacity_tokens,
        "maxConcurrentRequests": fit.max_requests,
    }


def _size_document(
    name: str,
    arch: Architecture,
    workload: Workload,
    fits: Sequence[Fit],
    layouts: Sequence[tuple[Fit, tuple[float, str] | None]] = (),
) -> dict[str, Any]:
    from llmplane.components.kubernetes.engines import ENGINES, ServeRequest

    common = {
        "model": name,
        "estimate": True,
        "family": arch.family,
        "parameters": arch.parameters,
        "activeParameters": arch.active_parameters,
        "weightsGB": round(weight_bytes(arch, workload.quantize) / 1e9, 2),
        "weightsBf16GB": round(arch.parameters * 2 / 1e9, 2),
        "checkpointQuantization": arch.checkpoint_quantization,
        "familyInferred": arch.family_inferred,
        "notes": list(arch.notes),
        "kvBytesPerToken": arch.kv_bytes_per_token(workload.kv_bytes),
        "kvCacheDtype": workload.kv_cache_dtype,
        "contextTokens": workload.max_total_tokens,
        "concurrency": workload.concurrency,
        "quantize": workload.quantize,
        "fitMargin": FIT_MARGIN,
        "assumptions": ASSUMPTIONS,
        "singleNode": bool(fits),
        "fits": [_fit_json(fit) for fit in fits],
        "multiNode": [
            {
                **_fit_json(layout),
                "shape": layout.shape.name,
                "cloud": layout.shape.cloud,
                "nodes": layout.pipeline,
                "gpusPerNode": layout.shape.gpu_count,
                "tensorParallel": layout.shards,
                "pipelineParallel": layout.pipeline,
                "cheapestUsdPerHour": round(price[0] * layout.pipeline, 4) if price else None,
                "cheapestRegion": price[1] if price else None,
            }
            for layout, price in layouts
        ],
    }
    if not fits:
        # No engine command line: llmplane does not start multi-node engines yet.
        return {**common, "suggested": None}
    first = fits[0]
    limits = engine_limits(workload, first)
    request = ServeRequest(
        model_id=name,
        revision=None,
        shards=first.shards,
        quantize=workload.quantize,
        max_input_tokens=limits.max_input_tokens,
        max_total_tokens=limits.max_total_tokens,
        batch_prefill_tokens=limits.batch_prefill_tokens,
        memory_fraction=limits.memory_fraction,
        kv_cache_dtype=workload.kv_cache_dtype,
    )
    return {
        **common,
        "suggested": {
            "gpu": first.gpu.name,
            "shards": first.shards,
            "startupSeconds": startup_seconds(arch, workload, first.shards),
            "shmGiB": shm_gib(first.shards),
            "engineArgs": {
                key: engine.args(request)
                for key, engine in sorted(ENGINES.items())
                if engine_reads(arch, key)  # TGI cannot load MXFP4 (gpt-oss) checkpoints
            },
        },
    }
