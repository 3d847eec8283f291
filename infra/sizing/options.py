"""The priced shapes of a region that hold a model, cheapest first, and multi-node layouts."""

from __future__ import annotations

from dataclasses import dataclass

from .architecture import Architecture
from .catalog import Price, Shape, prices, shapes
from .fit import Fit, Needs, best_fit, multi_node, needs_of
from .line_items import HOURS_PER_MONTH
from .packing import Packing, packing
from .workload import Workload

__all__ = ["Option", "layout_text", "multi_node_options", "rank"]


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
