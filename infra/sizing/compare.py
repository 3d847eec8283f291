"""Compare clouds and regions for one model: best shape, fit, $/h, $/month, tokens/s (pure).

All figures are estimates: list prices from the catalog, memory from sizing.py, speed from the
bandwidth roofline, unless a `llmplane bench` result replaces the speed of the rows it measured.
Each row prices every node the asked-for replicas take: replicas share a node where its GPUs
allow, and the GPUs left over are shown as idle. A region where no single machine holds the model
gets its smallest multi-node layout instead, marked as such (llmplane cannot deploy it yet).
Fixed fees are the platform llmplane deploys around the GPUs by default
(control plane, system nodes, NAT, KMS key, registry, endpoints), priced like `llmplane cost`;
a test keeps them equal to the cost of the shipped dev stacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from .architecture import Architecture
from .catalog import CLOUDS, fee_or_proxy, regions, system_price
from .cost import GKE_ZONES, HOURS_PER_MONTH
from .fit import Workload, decode_speed, needs_of
from .measured import Measured
from .options import Option, multi_node_options, rank

# What each managed cloud's default dev stack runs besides GPUs: (fee item, units per month).
# Hourly fees count 730 units a month. Mirrors the adapters' defaults; tests/unit/test_compare.py
# checks it against the priced plans of the shipped dev stacks.
PLATFORM: dict[str, tuple[tuple[str, float], ...]] = {
    "aws": (
        ("control_plane", HOURS_PER_MONTH),
        ("nat_gateway", HOURS_PER_MONTH),
        ("public_ip", HOURS_PER_MONTH),
        ("vpc_endpoint", 3 * 3 * HOURS_PER_MONTH),  # ECR API, ECR Docker, STS in 3 zones
        ("load_balancer", HOURS_PER_MONTH),  # the engine's internal load balancer
        ("kms_key", 1),
        ("disk_ssd", 2 * 50 + 200),  # two 50 GB system disks, one 200 GB GPU node disk
    ),
    "azure": (
        ("control_plane_free", HOURS_PER_MONTH),
        ("load_balancer", HOURS_PER_MONTH),
        ("nat_gateway", HOURS_PER_MONTH),
        ("public_ip", HOURS_PER_MONTH),
        ("kms_key", 1),
        ("disk_ssd", 2 * 128),  # two system OS disks; GPU sizes use their ephemeral temp disk
        ("registry", 1),
    ),
    "gcp": (
        ("control_plane", HOURS_PER_MONTH),
        ("load_balancer", HOURS_PER_MONTH),
        ("kms_key", 1),
        ("disk_ssd", GKE_ZONES * 50 + 200),
        ("nat_gateway", (GKE_ZONES + 1) * HOURS_PER_MONTH),  # per VM-hour: system + one GPU
    ),
}
SYSTEM_NODES = {
    "aws": ("m6i.large", 2),
    "azure": ("Standard_D4ds_v5", 2),
    "gcp": ("e2-standard-4", 3),
}


@dataclass(frozen=True)
class Fixed:
    """The monthly fees around the GPUs in one region, and the ones the catalog cannot price."""

    monthly_usd: float
    """Sum of the priced fees."""
    missing: tuple[str, ...]
    """Fee items with no catalog price in any region (left out of the sum)."""
    proxied: tuple[str, ...] = ()
    """Fee items priced at another region's list price, for want of this region's."""


def fixed_fees(cloud: str, region: str) -> Fixed:
    """The platform's monthly fees in one region (an estimate at list prices).

    Where the catalog lacks a fee for this region, the cloud's reference region stands in and
    the fee is named in `proxied`: leaving it out would make such regions look cheaper.
    """
    total, missing, proxied = 0.0, [], []
    for item, units in PLATFORM[cloud]:
        found, proxy = fee_or_proxy(cloud, item, region)
        if proxy:
            proxied.append(item)
        if found is None:
            missing.append(item)
        else:
            total += found.usd * units
    shape, count = SYSTEM_NODES[cloud]
    system = system_price(cloud, shape, region)
    if system is None or system.on_demand is None:
        missing.append(f"system nodes ({shape})")
    else:
        total += system.on_demand * count * HOURS_PER_MONTH
    return Fixed(round(total, 2), tuple(missing), tuple(proxied))


@dataclass(frozen=True)
class Row:
    """The best way to serve the model in one cloud region (an estimate)."""

    cloud: str
    """aws, azure or gcp."""
    region: str
    """Region id."""
    option: Option
    """The cheapest shape that fits, its fit and price."""
    fallbacks: tuple[str, ...]
    """The next-cheapest shapes that fit."""
    fixed: Fixed
    """Fees around the GPUs."""
    tokens_per_second: float
    """Output tokens per second of one replica at the workload's concurrency."""
    speed_source: Literal["estimate", "measured"] = "estimate"
    """Whether tokens_per_second is the roofline estimate or a bench measurement."""

    @property
    def multi_node(self) -> bool:
        """Whether one replica spans several nodes (a layout llmplane cannot deploy yet)."""
        return self.option.fit.pipeline > 1

    @property
    def monthly_usd(self) -> float:
        """Every GPU node the replicas take, around the clock, plus the fixed fees."""
        return round(self.option.monthly_usd + self.fixed.monthly_usd, 2)

    @property
    def usd_per_million_tokens(self) -> float:
        """GPU node cost per million output tokens, every replica decoding at tokens_per_second.

        Idle GPUs on the nodes are paid for too, so they are in the figure.
        """
        tokens_per_hour = self.tokens_per_second * self.option.replicas * 3600
        return self.option.fleet_hourly_usd / tokens_per_hour * 1e6


def compare(
    arch: Architecture,
    workload: Workload,
    spot: bool,
    wanted_regions: Sequence[str] = (),
    fallbacks: int = 3,
    replicas: int = 1,
) -> list[Row]:
    """The best option in every cloud region (or those asked for), cheapest per month first.

    Rows a single machine serves come first; multi-node layouts, for regions that have no such
    machine, after them.
    """
    rows: list[Row] = []
    needs = needs_of(arch, workload)
    for cloud in CLOUDS:
        for region in regions(cloud):
            if wanted_regions and region not in wanted_regions:
                continue
            options = rank(arch, workload, cloud, region, spot, replicas=replicas, needs=needs)
            if not options:
                layouts = multi_node_options(arch, workload, cloud, region, spot, replicas, needs)
                options = layouts[:1]
            if not options:
                continue
            best = options[0]
            rows.append(
                Row(
                    cloud=cloud,
                    region=region,
                    option=best,
                    fallbacks=tuple(o.fit.shape.name for o in options[1 : 1 + fallbacks]),
                    fixed=fixed_fees(cloud, region),
                    tokens_per_second=decode_speed(arch, workload, best.fit).tokens_per_second,
                )
            )
    return sorted(rows, key=lambda row: (row.multi_node, row.monthly_usd, row.cloud, row.region))


def with_measured(model: str, rows: Sequence[Row], measured: Measured) -> list[Row]:
    """The rows, with the measured speed in place of the estimate where the bench ran on them."""
    return [
        replace(row, tokens_per_second=measured.tokens_per_second, speed_source="measured")
        if measured.applies_to(model, row.option.fit.gpu.name, row.option.fit.shards)
        else row
        for row in rows
    ]


def measured_in(rows: Sequence[Row], measured: Measured | None) -> Measured | None:
    """The measurement, if any of these rows uses it; None when all are estimates."""
    return measured if any(row.speed_source == "measured" for row in rows) else None
