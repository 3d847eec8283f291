"""`llmplane size`, `compare`, `cost` and `prices import`: sizing and money, all estimates."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ..config.errors import SettingsError
from ..sizing.architecture import Architecture
from ..sizing.catalog import CLOUDS, Shape, nearest_names, prices, regions, shapes
from ..sizing.compare import Row, compare, measured_in, with_measured
from ..sizing.cost import HOURS_PER_MONTH
from ..sizing.fit import (
    ASSUMPTIONS,
    DEFAULT_CONCURRENCY,
    FIT_MARGIN,
    KV_CACHE_DTYPES,
    MAX_PIPELINE_NODES,
    MEMORY_FRACTION,
    Fit,
    KvCacheDtype,
    Workload,
    best_fit,
    check_heads,
    engine_limits,
    multi_node,
    needs_of,
    shm_gib,
    startup_seconds,
    weight_bytes,
    workload_for,
)
from ..sizing.measured import Measured, read_measured
from ..sizing.models import resolve
from ..sizing.quantization import QUANTIZED_BITS, engine_reads
from ..sizing.quantization import check as check_quantize
from .reports import (
    ESTIMATE,
    Format,
    assumptions_line,
    compare_header,
    compare_json,
    compare_note,
    compare_rows,
    markdown_table,
    render_cost,
    rich_table,
)
from .terminal import emit

_out = Console(highlight=False, width=160)

ModelOption = Annotated[
    str | None,
    typer.Option("--model", help="Hugging Face model id, e.g. Qwen/Qwen2.5-7B-Instruct."),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--model-config", help="A model's config.json, instead of --model (offline)."),
]
ContextOption = Annotated[
    int | None,
    typer.Option("--context", min=2, help="Prompt + answer tokens per request; default 8192."),
]
ConcurrencyOption = Annotated[
    int,
    typer.Option("--concurrency", min=1, help="Full-length requests that must fit at once."),
]
QuantizeOption = Annotated[
    str | None, typer.Option("--quantize", help=f"One of: {', '.join(QUANTIZED_BITS)}.")
]
FormatOption = Annotated[Format, typer.Option("--format", help="table, json or markdown.")]
KvDtypeOption = Annotated[
    KvCacheDtype,
    typer.Option(
        "--kv-cache-dtype",
        help=f"KV cache element type: {', '.join(KV_CACHE_DTYPES)} (fp8 halves it).",
    ),
]


def _workload(
    arch: Architecture,
    context: int | None,
    concurrency: int,
    quantize: str | None,
    name: str,
    kv_cache_dtype: KvCacheDtype = "auto",
) -> Workload:
    if quantize is not None and quantize not in QUANTIZED_BITS:
        raise SettingsError(
            "-",
            "--quantize",
            f"{quantize!r} is not a quantization llmplane knows",
            f"use one of: {', '.join(nearest_names(quantize, QUANTIZED_BITS))}",
        )
    check_quantize(arch, quantize, name, key="--quantize")
    check_heads(arch, name)
    return workload_for(
        arch, context, concurrency=concurrency, quantize=quantize, kv_cache_dtype=kv_cache_dtype
    )


# --- size ---------------------------------------------------------------------------------


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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Size a model from its config.json: weights, KV cache, GPUs and engine flags (estimates)."""
    arch = resolve(model, model_config)
    name = model or str(model_config)
    workload = _workload(arch, context, concurrency, quantize, name, kv_cache_dtype)
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
    if as_json:
        emit(json.dumps(document, indent=2, sort_keys=True))
        return
    family = f"{arch.family}, family inferred" if arch.family_inferred else arch.family
    _out.print(f"[bold]{name}[/] ({family}): {document['parameters'] / 1e9:.2f}B parameters")
    shipped = (
        f" {arch.checkpoint_quantization} as shipped"
        if arch.checkpoint_quantization
        else f" {quantize} on load"
        if quantize
        else ""
    )
    _out.print(
        f"weights {document['weightsGB']:.1f} GB{shipped} ({document['weightsBf16GB']:.1f} GB in "
        f"bf16), KV cache {document['kvBytesPerToken'] // 1024} KiB per token "
        f"({workload.kv_cache_dtype}), context {workload.max_total_tokens} x {concurrency} requests"
    )
    for arch_note in arch.notes:
        _out.print(f"note: {arch_note}")
    rule = (
        f"A fit holds the weights, runtime and activations, and the KV cache of {concurrency} "
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


# --- compare ------------------------------------------------------------------------------


def _check_regions(wanted: Sequence[str]) -> None:
    known = {region for cloud in CLOUDS for region in regions(cloud)}
    for region in wanted:
        if region not in known:
            raise SettingsError(
                "-",
                "--regions",
                f"{region!r} is not a region with catalog prices",
                f"use one of: {', '.join(nearest_names(region, known))}",
            )


def compare_command(
    models: Annotated[
        list[str] | None,
        typer.Option("--model", help="Hugging Face model id; repeat to compare several."),
    ] = None,
    model_config: ConfigOption = None,
    context: ContextOption = None,
    concurrency: ConcurrencyOption = DEFAULT_CONCURRENCY,
    quantize: QuantizeOption = None,
    kv_cache_dtype: KvDtypeOption = "auto",
    replicas: Annotated[
        int,
        typer.Option("--replicas", min=1, help="Replicas to price; they share nodes that fit."),
    ] = 1,
    spot: Annotated[bool, typer.Option("--spot", help="Price spot capacity.")] = False,
    region_list: Annotated[
        str | None, typer.Option("--regions", help="Comma-separated regions; default: all.")
    ] = None,
    fmt: FormatOption = "table",
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Also write a bar chart of $/month (PNG).")
    ] = None,
    measured_file: Annotated[
        Path | None,
        typer.Option(
            "--measured",
            help="A `llmplane bench --json` result: its measured tokens/s replaces the estimate "
            "on the rows of the model and GPU it ran on (marked m).",
        ),
    ] = None,
) -> None:
    """Compare clouds and regions for a model: shape, fit, $/h, $/month, tokens/s (estimates)."""
    wanted = [r.strip() for r in region_list.split(",") if r.strip()] if region_list else []
    _check_regions(wanted)
    measured = read_measured(measured_file) if measured_file is not None else None
    names = list(models or []) or ([str(model_config)] if model_config else [])
    if not names:
        raise SettingsError("-", "--model", "is missing", "pass --model ID or --model-config FILE")
    results: list[tuple[str, Architecture, Workload, list[Row]]] = []
    for name in names:
        arch = resolve(None if model_config else name, model_config)
        workload = _workload(arch, context, concurrency, quantize, name, kv_cache_dtype)
        rows = compare(arch, workload, spot, wanted, replicas=replicas)
        if not rows:
            raise SettingsError(
                "-",
                "--model",
                f"{name} fits no priced shape{' in ' + ', '.join(wanted) if wanted else ''} at "
                f"{workload.max_total_tokens} tokens x {concurrency} requests",
                "lower --context or --concurrency, pass --kv-cache-dtype fp8 or --quantize fp8, "
                "or drop --regions",
            )
        if measured is not None:
            rows = with_measured(name, rows, measured)
        results.append((name, arch, workload, rows))
    if measured is not None:
        _check_measured_used(measured, results)
    if plot is not None:
        from .plot import bar_chart

        bar_chart(plot, [(name, rows) for name, _, _, rows in results], spot)
    _print_comparison(results, spot, fmt, measured, replicas)


def _check_measured_used(
    measured: Measured, results: Sequence[tuple[str, Architecture, Workload, list[Row]]]
) -> None:
    """Exit 2 when --measured matches no row: the user asked for a figure that went unused."""
    if any(measured_in(rows, measured) for *_, rows in results):
        return
    names = [name for name, *_ in results]
    if measured.model not in names:
        raise SettingsError(
            "-",
            "--measured",
            f"{measured.source} measured {measured.model}, which is not among the compared "
            f"models ({', '.join(names)})",
            f"compare it: --model {measured.model}",
        )
    raise SettingsError(
        "-",
        "--measured",
        f"{measured.source} measured {measured.model} on {measured.on()}, and no compared row "
        "uses that GPU and shard count",
        "drop --regions, or compare the model at the context and concurrency it ran with",
    )


def _print_comparison(
    results: Sequence[tuple[str, Architecture, Workload, list[Row]]],
    spot: bool,
    fmt: Format,
    measured: Measured | None = None,
    replicas: int = 1,
) -> None:
    if fmt == "json":
        documents = [
            compare_json(n, a, w, spot, rows, measured, replicas) for n, a, w, rows in results
        ]
        emit(json.dumps({"models": documents}, indent=2, sort_keys=True))
        return
    for name, _, workload, rows in results:
        used = measured_in(rows, measured)
        kind = "estimates; tok/s measured where marked m" if used else "estimates"
        title = f"{name}: where to serve it ({kind})"
        note = compare_note(workload, spot, used, replicas)
        if all(row.multi_node for row in rows):
            note = (
                f"No single machine in the compared regions holds {name}: every row is a "
                f"multi-node layout. {note}"
            )
        header = compare_header(workload)
        if fmt == "markdown":
            emit(f"### {title}\n\n{markdown_table(header, compare_rows(rows))}\n\n{note}\n")
        else:
            _out.print(rich_table(title, header, compare_rows(rows), note))


# --- cost ---------------------------------------------------------------------------------


def cost(
    stack: Annotated[str, typer.Argument(help="The stack to price.")],
    stacks_dir: Annotated[
        Path, typer.Option("--stacks-dir", help="Folder holding the Pulumi.<stack>.yaml files.")
    ] = Path("stacks"),
    fmt: FormatOption = "table",
) -> None:
    """Price a stack's plan: each resource's cost components and monthly totals (estimates)."""
    from .app import plan_files, stack_files

    (stack_plan,) = plan_files(stack_files([stack], stacks_dir))
    rendered = render_cost(stack, stack_plan["cost"], fmt)
    if isinstance(rendered, str):
        emit(rendered)
    else:
        _out.print(rendered)


# --- prices import ------------------------------------------------------------------------

prices_app = typer.Typer(
    help="Refresh the price catalog from public tools' files.", no_args_is_help=True
)


@prices_app.command("import")
def prices_import(
    file: Annotated[Path, typer.Argument(help="A gpuhunt <cloud>.csv or a SkyPilot vms.csv.")],
    cloud: Annotated[
        str | None, typer.Option("--cloud", help="aws, azure or gcp; default: from the path.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Date of the prices (YYYY-MM-DD); default: the file's."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", help="Write the catalog CSV here instead of standard output."),
    ] = None,
) -> None:
    """Convert a public price file into llmplane's prices.csv format (use it: LLMPLANE_PRICES)."""
    from ..sizing.prices import import_prices, to_csv

    result = import_prices(file, cloud, as_of)
    text = to_csv(result.rows)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    sys.stderr.write(f"{len(result.rows)} prices imported, {result.skipped} rows skipped\n")
