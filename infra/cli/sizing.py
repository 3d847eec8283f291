"""`llmplane size`, `compare`, `cost` and `prices import`: sizing and money, all estimates."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ..config.errors import SettingsError
from ..sizing.architecture import Architecture
from ..sizing.catalog import CLOUDS, regions
from ..sizing.compare import Row, compare, measured_in, with_measured
from ..sizing.fit import (
    DEFAULT_CONCURRENCY,
    KV_CACHE_DTYPES,
    KvCacheDtype,
    Workload,
    check_heads,
    workload_for,
)
from ..sizing.measured import Measured, read_measured
from ..sizing.models import resolve
from ..sizing.quantization import QUANTIZED_BITS
from ..sizing.quantization import check as check_quantize
from .grammar import (
    FormatOption,
    JsonFlag,
    StackNames,
    StacksDir,
    one_of,
    output_format,
    plan_files,
    stack_files,
)
from .plan_view import cold_start_line, cold_start_of
from .reports import (
    Format,
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

# Bounds far above any real model or fleet, so that arithmetic on a typo stays finite.
MAX_CONTEXT = 2**24
MAX_REQUESTS = 100_000

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
    typer.Option(
        "--context",
        min=2,
        max=MAX_CONTEXT,
        help="Prompt + answer tokens per request; default 8192.",
    ),
]
ConcurrencyOption = Annotated[
    int,
    typer.Option(
        "--concurrency",
        min=1,
        max=MAX_REQUESTS,
        help="Full-length requests that must fit at once.",
    ),
]
QuantizeOption = Annotated[
    str | None, typer.Option("--quantize", help=f"One of: {', '.join(QUANTIZED_BITS)}.")
]
KvDtypeOption = Annotated[
    KvCacheDtype,
    typer.Option(
        "--kv-cache-dtype",
        help=f"KV cache element type: {', '.join(KV_CACHE_DTYPES)} (fp8 halves it).",
    ),
]


def workload_of(
    arch: Architecture,
    context: int | None,
    concurrency: int,
    quantize: str | None,
    name: str,
    kv_cache_dtype: KvCacheDtype = "auto",
) -> Workload:
    """The workload the flags describe, once --quantize and the model's heads are checked."""
    if quantize is not None and quantize.lower() in QUANTIZED_BITS:
        quantize = quantize.lower()  # the engines take these names in lower case only
    if quantize is not None and quantize not in QUANTIZED_BITS:
        raise SettingsError(
            "-",
            "--quantize",
            f"{quantize!r} is not a quantization llmplane knows",
            one_of(quantize, QUANTIZED_BITS),
        )
    check_quantize(arch, quantize, name, key="--quantize")
    check_heads(arch, name)
    return workload_for(
        arch, context, concurrency=concurrency, quantize=quantize, kv_cache_dtype=kv_cache_dtype
    )


# --- compare ------------------------------------------------------------------------------


def _check_regions(wanted: Sequence[str]) -> None:
    known = {region for cloud in CLOUDS for region in regions(cloud)}
    for region in wanted:
        if region not in known:
            raise SettingsError(
                "-",
                "--regions",
                f"{region!r} is not a region with catalog prices",
                one_of(region, known),
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
        typer.Option(
            "--replicas",
            min=1,
            max=MAX_REQUESTS,
            help="Replicas to price; they share nodes that fit.",
        ),
    ] = 1,
    spot: Annotated[bool, typer.Option("--spot", help="Price spot capacity.")] = False,
    region_list: Annotated[
        str | None, typer.Option("--regions", help="Comma-separated regions; default: all.")
    ] = None,
    fmt: FormatOption = "table",
    as_json: JsonFlag = False,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Also write a bar chart of $/month (.png, .svg or .pdf)."),
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
    if plot is not None:
        from .plot import check_plot_path

        check_plot_path(plot)
    wanted = [r.strip() for r in region_list.split(",") if r.strip()] if region_list else []
    _check_regions(wanted)
    measured = read_measured(measured_file) if measured_file is not None else None
    names = list(models or []) or ([str(model_config)] if model_config else [])
    if not names:
        raise SettingsError("-", "--model", "is missing", "pass --model ID or --model-config FILE")
    results: list[tuple[str, Architecture, Workload, list[Row]]] = []
    for name in names:
        arch = resolve(None if model_config else name, model_config)
        workload = workload_of(arch, context, concurrency, quantize, name, kv_cache_dtype)
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
        from .plot import write_chart

        write_chart(plot, [(name, rows) for name, _, _, rows in results], spot)
    _print_comparison(results, spot, output_format(fmt, as_json), measured, replicas)


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
    stacks: StackNames = None,
    stacks_dir: StacksDir = Path("stacks"),
    fmt: FormatOption = "table",
    as_json: JsonFlag = False,
) -> None:
    """Price stacks' plans: each resource's cost components and monthly totals (estimates).

    Each stack also shows its cold start: the seconds from a request at zero replicas to the
    first token, part by part (an estimate).
    """
    plans = plan_files(stack_files(stacks or [], stacks_dir))
    if output_format(fmt, as_json) == "json":
        # The shape of `plan --json` and `check --format json`: one entry per stack.
        documents = [
            {"stack": plan["stack"], "cost": plan["cost"], "coldStart": cold_start_of(plan)}
            for plan in plans
        ]
        emit(json.dumps({"stacks": documents}, indent=2, sort_keys=True))
        return
    for stack_plan in plans:
        rendered = render_cost(stack_plan["stack"], stack_plan["cost"], fmt)
        if isinstance(rendered, str):
            emit(rendered)
        else:
            _out.print(rendered)
        cold = cold_start_line(stack_plan)
        if cold is not None:
            emit(f"{cold}\n" if fmt == "markdown" else cold)


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
