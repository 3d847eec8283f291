"""The catalog: GPU shapes, GPU models, prices and fixed fees per cloud, from catalog/*.csv."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from llmplane.components.shapes import Shape

from ..config.errors import SettingsError, choices

if TYPE_CHECKING:
    from ..config.settings import ManagedStack

CATALOG = Path(__file__).with_name("catalog")
CLOUDS = ("aws", "azure", "gcp")
# A prices.csv of your own (from `llmplane prices import`) replaces the shipped one.
PRICES_ENV = "LLMPLANE_PRICES"


@cache
def rows(name: str) -> tuple[dict[str, str], ...]:
    """Every row of one catalog CSV file, as read."""
    override = os.environ.get(PRICES_ENV) if name == "prices.csv" else None
    path = Path(override) if override else CATALOG / name
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return tuple(csv.DictReader(handle))
    except OSError as error:
        raise SettingsError(
            "-", PRICES_ENV, f"cannot read {path}: {error.strerror}", "point it at a prices.csv"
        ) from None


@cache
def shapes(cloud: str) -> dict[str, Shape]:
    """Every known shape of one cloud, by name."""
    return {
        row["shape"]: Shape(
            cloud=row["cloud"],
            name=row["shape"],
            gpu=row["gpu"],
            gpu_count=int(row["gpu_count"]),
            gpu_memory_gib=int(row["gpu_memory_gib"]),
            vcpu=int(row["vcpu"]),
            memory_gib=int(row["memory_gib"]),
            local_disk_gib=int(row["local_disk_gib"]),
            source=row["source"],
            as_of=row["as_of"],
        )
        for row in rows("shapes.csv")
        if row["cloud"] == cloud
    }


@dataclass(frozen=True)
class Gpu:
    """One GPU model: the memory a program can use and how fast it reads it."""

    name: str
    """GPU model, as shapes.csv names it."""
    memory_gib: int
    """Nominal memory, which tells the 40 and 80 GB A100 apart."""
    usable_mib: int
    """Memory the driver reports, below the nominal figure."""
    hbm_bandwidth_tbs: float
    """Memory bandwidth in TB/s, which bounds decoding speed."""
    fp8: bool
    """Whether the GPU computes in fp8 (Ada and Hopper)."""
    source: str
    """Where the figures come from."""
    as_of: str
    """When they were taken."""


@cache
def gpus() -> dict[tuple[str, int], Gpu]:
    """Every GPU model, by (name, nominal memory in GiB)."""
    return {
        (row["gpu"], int(row["memory_gib"])): Gpu(
            name=row["gpu"],
            memory_gib=int(row["memory_gib"]),
            usable_mib=int(row["usable_mib"]),
            hbm_bandwidth_tbs=float(row["hbm_bandwidth_tbs"]),
            fp8=row["fp8"] == "yes",
            source=row["source"],
            as_of=row["as_of"],
        )
        for row in rows("gpus.csv")
    }


def gpu_of(shape: Shape) -> Gpu:
    """The GPU model a shape carries."""
    return gpus()[(shape.gpu, shape.gpu_memory_gib)]


@dataclass(frozen=True)
class Price:
    """What one shape costs per hour in one region; spot is None where no figure is known."""

    on_demand: float | None
    """On-demand USD per hour, Linux."""
    spot: float | None
    """Spot / preemptible USD per hour, if known."""
    source: str
    """Where the figure comes from."""
    as_of: str
    """When it was taken."""

    def hourly(self, spot: bool) -> float | None:
        """The price a pool pays: spot for spot pools, on-demand otherwise."""
        return self.spot if spot else self.on_demand


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


def _price(row: dict[str, str]) -> Price:
    """A prices.csv or system_prices.csv row (the latter has no spot column)."""
    return Price(
        on_demand=_number(row["on_demand_usd_hour"]),
        spot=_number(row.get("spot_usd_hour", "")),
        source=row["source"],
        as_of=row["as_of"],
    )


@cache
def prices(cloud: str) -> dict[tuple[str, str], Price]:
    """Prices of one cloud's shapes, by (shape, region)."""
    return {
        (row["shape"], row["region"]): _price(row)
        for row in rows("prices.csv")
        if row["cloud"] == cloud
    }


def system_price(cloud: str, shape: str, region: str) -> Price | None:
    """On-demand price of a CPU shape llmplane uses for system node pools."""
    for row in rows("system_prices.csv"):
        if (row["cloud"], row["shape"], row["region"]) == (cloud, shape, region):
            return _price(row)
    return None


def regions(cloud: str) -> list[str]:
    """Regions with at least one priced shape."""
    return sorted({region for _, region in prices(cloud)})


@dataclass(frozen=True)
class Fee:
    """A fixed or usage fee of the platform around the GPUs: control plane, NAT, KMS, disks."""

    item: str
    """What is charged, e.g. control_plane or nat_gateway."""
    unit: str
    """Per what: hour, month, GB or GB-month."""
    usd: float
    """USD per unit."""
    source: str
    """Where the figure comes from."""
    as_of: str
    """When it was taken."""


def fee_or_proxy(cloud: str, item: str, region: str) -> tuple[Fee | None, bool]:
    """A fee in a region, else another region's as a stand-in (True when it is one).

    Leaving a fee out where the catalog lacks the region would make that region look cheaper;
    another region's list price is the better estimate, and callers label it.
    """
    found = fee(cloud, item, region)
    if found is not None:
        return found, False
    for row in rows("fees.csv"):
        if row["cloud"] == cloud and row["item"] == item:
            proxy = fee(cloud, item, row["region"])
            assert proxy is not None
            return replace(proxy, source=f"{row['region']} list price, for want of {region}'s: "
                           f"{proxy.source}"), True  # fmt: skip
    return None, False


def fee(cloud: str, item: str, region: str) -> Fee | None:
    """One fee in a region: the region's own row, else the row for every region ('*')."""
    found: dict[str, Fee] = {}
    for row in rows("fees.csv"):
        if row["cloud"] == cloud and row["item"] == item and row["region"] in (region, "*"):
            found[row["region"]] = Fee(
                item=item,
                unit=row["unit"],
                usd=float(row["usd_per_unit"]),
                source=row["source"],
                as_of=row["as_of"],
            )
    return found.get(region) or found.get("*")


def interchangeable(shape: Shape) -> list[Shape]:
    """Other shapes a spot pool can fall back to: the same GPU count and GPU memory each.

    Closest in vCPU first, so a fallback node is neither starved nor much dearer.
    """
    return sorted(
        (
            other
            for other in shapes(shape.cloud).values()
            if other.name != shape.name
            and other.gpu_count == shape.gpu_count
            and other.gpu_memory_gib == shape.gpu_memory_gib
        ),
        key=lambda other: (abs(other.vcpu - shape.vcpu), other.vcpu, other.name),
    )


def require_shape(settings: ManagedStack) -> Shape:
    """The stack's GPU shape from its cloud's catalog, or a one-line error saying what would do."""
    gpu = settings.gpu
    known = shapes(settings.cloud)
    shape = known.get(gpu.shape)
    if shape is None:
        raise SettingsError(
            settings.stack,
            "llmplane:gpu.shape",
            f"{gpu.shape!r} is not a GPU shape llmplane knows on {settings.cloud}",
            f"use auto or one of: {choices(gpu.shape, sorted(known))}",
        )
    if gpu.count > shape.gpu_count:
        raise SettingsError(
            settings.stack,
            "llmplane:gpu.count",
            f"is {gpu.count}, but {shape.name} has {shape.gpu_count} GPU(s)",
            "lower gpu.count or choose a larger shape (a replica cannot span nodes)",
        )
    return shape
