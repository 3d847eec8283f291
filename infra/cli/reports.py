"""Cost, comparison and sizing results as rich tables, Markdown and JSON; each says it estimates."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from rich.table import Table

from ..sizing.architecture import Architecture
from ..sizing.compare import Row, measured_in
from ..sizing.cost import ASSUMPTIONS as COST_ASSUMPTIONS
from ..sizing.fit import ASSUMPTIONS as SIZING_ASSUMPTIONS
from ..sizing.fit import FIT_MARGIN, Workload
from ..sizing.measured import Measured

Format = Literal["table", "json", "markdown"]
ESTIMATE = "Estimates, not measurements or quotes"


def assumptions_line(*groups: dict[str, Any]) -> str:
    """`key=value` pairs of every assumption, for table captions and Markdown footers."""
    merged = {key: value for group in groups for key, value in group.items()}
    return "; ".join(f"{key}={value}" for key, value in sorted(merged.items()))


def markdown_table(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(lines)


def rich_table(
    title: str, header: Sequence[str], body: Sequence[Sequence[str]], note: str
) -> Table:
    """A rich table whose caption carries the estimate label and its assumptions."""
    table = Table(title=title, caption=note, caption_justify="left")
    for index, column in enumerate(header):
        table.add_column(column, justify="left" if index < 2 else "right")
    for cells in body:
        table.add_row(*cells)
    return table


# --- llmplane cost ------------------------------------------------------------------------


def cost_rows(cost: dict[str, Any]) -> list[list[str]]:
    """One row per priced component: resource, component, unit price, monthly min/exp/max."""
    return [
        [
            item["resource"],
            item["component"],
            f"{item['unitPrice']:g}/{item['unit']}",
            f"{item['monthly']['min']:,.2f}",
            f"{item['monthly']['expected']:,.2f}",
            f"{item['monthly']['max']:,.2f}",
        ]
        for item in cost["items"]
    ]


COST_HEADER = ("resource", "component", "unit price", "$/month min", "$/month expected", "max")


def usage_lines(items: Sequence[dict[str, Any]]) -> list[str]:
    """One line per usage-billed component and price, naming the resources that share it.

    Three NAT gateways billed per GB read 'NAT data processed (per GB) $0.045/GB on each of
    3 resources (llm-nat-us-east-1a, llm-nat-us-east-1b, llm-nat-us-east-1c)', not three times.
    """
    groups: dict[tuple[str, float, str], list[str]] = {}
    for item in items:
        key = (item["component"], item["unitPrice"], item["unit"])
        groups.setdefault(key, []).append(item["resource"])
    lines = []
    for (component, price, unit), resources in groups.items():
        line = f"{component} ${price:g}/{unit}"
        if len(resources) > 1:
            line += f" on each of {len(resources)} resources ({', '.join(resources)})"
        lines.append(line)
    return lines


def cost_note(cost: dict[str, Any]) -> str:
    """What the cost figures are: estimate, usage-based items left out, gaps, assumptions."""
    usage = "; ".join(usage_lines(cost["usageBased"]))
    gaps = ", ".join(f"{i['resource']}: {i['component']}" for i in cost["unpriced"])
    parts = [f"{ESTIMATE}: list prices in USD, {cost.get('region', 'no region')}."]
    if usage:
        parts.append(f"Billed by use, not in the totals: {usage}.")
    if gaps:
        parts.append(f"No catalog price, not in the totals: {gaps}.")
    parts.append(f"Assumptions: {assumptions_line(cost['assumptions'])}.")
    return " ".join(parts)


def render_cost(stack: str, cost: dict[str, Any], fmt: Format) -> str | Table:
    """`llmplane cost` output in the chosen format."""
    if fmt == "json":
        return json.dumps({"stack": stack, "cost": cost}, indent=2, sort_keys=True)
    totals = cost["monthly"]
    body = cost_rows(cost)
    body.append(["total", "", "", *(f"{totals[k]:,.2f}" for k in ("min", "expected", "max"))])
    note = cost.get("note") or cost_note(cost)
    if fmt == "markdown":
        return (
            f"### {stack}: monthly cost (estimate)\n\n{markdown_table(COST_HEADER, body)}\n\n{note}"
        )
    return rich_table(f"{stack}: monthly cost (estimate)", COST_HEADER, body, note)


# --- llmplane compare ---------------------------------------------------------------------


def compare_header(workload: Workload) -> tuple[str, ...]:
    """The compare table's columns; $/1M tok names the concurrency it assumes."""
    return (
        "cloud",
        "region",
        "shape x shards",
        "nodes (idle GPUs)",
        "fit GiB/GPU",
        "headroom tok",
        "$/h",
        "$/month",
        "tok/s",
        f"$/1M tok @{workload.concurrency}",
        "fallbacks",
    )


def shape_cell(row: Row) -> str:
    """'g6.xlarge x1', or for a multi-node layout 'p4de.24xlarge x8 on 2 nodes'."""
    fit = row.option.fit
    if row.multi_node:
        return f"{fit.shape.name} x{fit.shards} on {fit.pipeline} nodes"
    return f"{fit.shape.name} x{fit.shards}"


def compare_rows(rows: Sequence[Row]) -> list[list[str]]:
    """One line per cloud region, in the order given."""
    return [
        [
            row.cloud,
            row.region,
            shape_cell(row),
            f"{row.option.packing.nodes} ({row.option.packing.idle_gpus})",
            f"{row.option.fit.used_gib:.1f} / {row.option.fit.usable_gib:.1f}",
            f"{row.option.fit.headroom_tokens:,}",
            f"{row.option.fleet_hourly_usd:.3f}",
            f"{row.monthly_usd:,.0f}"
            + ("*" if row.fixed.missing else "")
            + ("~" if row.fixed.proxied else ""),
            f"{row.tokens_per_second:,.0f}" + (" m" if row.speed_source == "measured" else ""),
            f"{row.usd_per_million_tokens:.2f}",
            ", ".join(row.fallbacks) or "-",
        ]
        for row in rows
    ]


def compare_note(
    workload: Workload, spot: bool, measured: Measured | None = None, replicas: int = 1
) -> str:
    """The label and assumptions every compare output carries, and the measurement, if used."""
    label = ESTIMATE if measured is None else f"{ESTIMATE}, except the tok/s marked m"
    return (
        f"{label}. {'Spot' if spot else 'On-demand'} list prices in USD (catalog sources and "
        f"dates in infra/sizing/catalog); $/h and $/month are every GPU node {replicas} replica(s) "
        "take (replicas share a node where its GPUs allow; idle GPUs are paid for too), "
        "$/month around the clock plus the platform's fixed fees (~ = some fee priced at another "
        "region's list price, * = some fee has no catalog price at all); a fit leaves "
        f"{FIT_MARGIN:.0%} of the engine's share unplanned, and headroom tok is the KV cache a "
        f"replica holds beyond {workload.concurrency} requests of {workload.max_total_tokens} "
        f"tokens ({workload.kv_cache_dtype} KV cache); tok/s is a bandwidth-roofline estimate "
        f"of one replica decoding {workload.concurrency} streams; $/1M tok @"
        f"{workload.concurrency} is the GPU nodes alone with every replica decoding "
        f"{workload.concurrency} streams non-stop. Rows 'on N nodes' are multi-node layouts "
        "(tensor parallel within a node, pipeline parallel across nodes) for regions where no "
        "single machine holds the model; llmplane cannot deploy them yet. "
        f"{measured_note(workload, measured)}"
        f"Assumptions: {assumptions_line(SIZING_ASSUMPTIONS)}."
    )


def measured_note(workload: Workload, measured: Measured | None) -> str:
    """What the rows marked m measured, and how it differs from the estimate's workload."""
    if measured is None:
        return ""
    errors = f"; {measured.error_rate:.1%} of its requests failed" if measured.error_rate else ""
    return (
        f"m = measured by llmplane bench ({measured.source}, {measured.finished_at}): "
        f"{measured.tokens_per_second:,.1f} output tokens/s for the whole endpoint on "
        f"{measured.on()}, engine {measured.engine or 'unknown'}, at {measured.concurrency} "
        f"concurrent streams (the estimates assume {workload.concurrency}){errors}; $/1M tok "
        "on those rows follows from it. "
    )


def compare_json(
    model: str,
    arch: Architecture,
    workload: Workload,
    spot: bool,
    rows: Sequence[Row],
    measured: Measured | None = None,
    replicas: int = 1,
) -> dict[str, Any]:
    """The JSON document of one model's comparison."""
    used = measured_in(rows, measured)
    return {
        "model": model,
        "estimate": True,
        "measured": None
        if used is None
        else {
            "source": used.source,
            "tokensPerSecond": used.tokens_per_second,
            "concurrency": used.concurrency,
            "engine": used.engine,
            "gpu": used.gpu,
            "shards": used.shards,
            "finishedAt": used.finished_at,
            "errorRate": used.error_rate,
        },
        "spot": spot,
        "parameters": arch.parameters,
        "contextTokens": workload.max_total_tokens,
        "concurrency": workload.concurrency,
        "quantize": workload.quantize,
        "kvCacheDtype": workload.kv_cache_dtype,
        "replicas": replicas,
        "fitMargin": FIT_MARGIN,
        "assumptions": {**SIZING_ASSUMPTIONS, **COST_ASSUMPTIONS},
        "rows": [
            {
                "cloud": row.cloud,
                "region": row.region,
                "shape": row.option.fit.shape.name,
                "gpu": row.option.fit.gpu.name,
                "shards": row.option.fit.shards,
                "multiNode": row.multi_node,
                "pipelineNodes": row.option.fit.pipeline,
                "nodes": row.option.packing.nodes,
                "replicasPerNode": row.option.packing.replicas_per_node,
                "idleGpus": row.option.packing.idle_gpus,
                "gibPerGpu": round(row.option.fit.used_gib, 2),
                "gibAvailablePerGpu": round(row.option.fit.usable_gib, 2),
                "headroomGiBPerGpu": round(row.option.fit.headroom_gib, 2),
                "headroomTokens": row.option.fit.headroom_tokens,
                "usdPerNodeHour": row.option.hourly_usd,
                "usdPerHour": row.option.fleet_hourly_usd,
                "usdPerMonth": row.monthly_usd,
                "fixedUsdPerMonth": row.fixed.monthly_usd,
                "feesWithoutPrice": list(row.fixed.missing),
                "feesPricedFromAnotherRegion": list(row.fixed.proxied),
                "tokensPerSecond": round(row.tokens_per_second, 1),
                "tokensPerSecondSource": row.speed_source,
                "usdPerMillionTokens": round(row.usd_per_million_tokens, 4),
                "fallbacks": list(row.fallbacks),
                "priceSource": row.option.price.source,
                "priceAsOf": row.option.price.as_of,
            }
            for row in rows
        ],
    }
