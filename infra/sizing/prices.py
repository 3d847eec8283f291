"""Convert public GPU price catalogs (gpuhunt, SkyPilot) into llmplane's prices.csv format."""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Generic, TypeVar

from ..config.errors import SettingsError
from .catalog import Shape, shapes

CLOUDS = ("aws", "azure", "gcp")
HEADER = ("cloud", "shape", "region", "on_demand_usd_hour", "spot_usd_hour", "source", "as_of")
GPUHUNT = "gpuhunt"
SKYPILOT = "SkyPilot"
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    GPUHUNT: ("instance_name", "location", "price", "spot"),
    SKYPILOT: (
        "InstanceType",
        "AcceleratorName",
        "AcceleratorCount",
        "Price",
        "SpotPrice",
        "Region",
    ),
}

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no", ""})
# gpuhunt lists some offers per zone: us-east-1a on AWS, us-central1-a on GCP.
_AWS_ZONE = re.compile(r"(.*\d)[a-z]")
_GCP_ZONE = re.compile(r"(.*\d)-[a-z]")
_FIX_FILE = "export the file again with gpuhunt or SkyPilot, or fix it by hand"

_Key = tuple[str, str]  # (shape, region)
_GpuKey = tuple[str, float, str]  # (SkyPilot accelerator name, count, region)
_K = TypeVar("_K", _Key, _GpuKey)


@dataclass(frozen=True)
class PriceRow:
    """One shape's hourly prices in one region: a line of prices.csv."""

    cloud: str
    """The cloud: aws, azure or gcp."""
    shape: str
    """The instance type or VM size, as named in shapes.csv."""
    region: str
    """The cloud region (never a zone)."""
    on_demand: float | None
    """On-demand USD per hour, or None when the catalog lists only spot offers."""
    spot: float | None
    """Lowest spot USD per hour across the region's zones, or None when unknown."""
    source: str
    """Where the price came from: the format name and the file name."""
    as_of: str
    """The date the prices were taken, YYYY-MM-DD."""


@dataclass(frozen=True)
class ImportResult:
    """The prices of known shapes, and how many input rows were left out."""

    rows: list[PriceRow]
    """One row per (cloud, shape, region), sorted by those three."""
    skipped: int
    """Input rows of shapes llmplane does not know, or without any price."""


@dataclass(frozen=True)
class _Table:
    """A CSV file's header and data rows, each row with its line number."""

    name: str
    header: tuple[str, ...]
    rows: list[tuple[int, dict[str, str]]]
    modified: str

    def number(self, line: int, row: dict[str, str], column: str) -> float | None:
        """The column's value as a number, None when empty; a one-line error when it is not."""
        text = row.get(column, "").strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            value = math.nan  # falls through to the same error as nan, inf and negatives
        if not math.isfinite(value) or value < 0:
            raise SettingsError(
                "-",
                "FILE",
                f"{self.name} line {line}: {column} is {text!r}, not a non-negative number",
                _FIX_FILE,
            )
        return value


class _Cheapest(Generic[_K]):
    """The lowest on-demand and spot price per key: catalogs repeat an offer once per zone."""

    def __init__(self) -> None:
        self.on_demand: dict[_K, float] = {}
        self.spot: dict[_K, float] = {}

    def add(self, key: _K, on_demand: float | None, spot: float | None) -> None:
        """Keep each price if it is the first or the lowest seen for the key."""
        _lower(self.on_demand, key, on_demand)
        _lower(self.spot, key, spot)

    def priced(self) -> list[_K]:
        """Every key with at least one price, in a stable order."""
        return sorted(self.on_demand.keys() | self.spot.keys())


def _lower(prices: dict[_K, float], key: _K, value: float | None) -> None:
    if value is not None and (key not in prices or value < prices[key]):
        prices[key] = value


def import_prices(path: Path, cloud: str | None = None, as_of: str | None = None) -> ImportResult:
    """Read a gpuhunt provider CSV or a SkyPilot vms.csv into llmplane price rows."""
    table = _read(path)
    fmt = _detect(table)
    cloud = _cloud(fmt, path, cloud)
    date_taken = _as_of(as_of) if as_of is not None else table.modified
    if fmt == GPUHUNT:
        prices, skipped = _from_gpuhunt(table, cloud)
    elif cloud == "gcp":
        prices, skipped = _from_skypilot_gcp(table)
    else:
        prices, skipped = _from_skypilot_vms(table, cloud)
    source = f"{fmt} {path.name}"
    rows = [
        PriceRow(
            cloud=cloud,
            shape=shape,
            region=region,
            on_demand=prices.on_demand.get((shape, region)),
            spot=prices.spot.get((shape, region)),
            source=source,
            as_of=date_taken,
        )
        for shape, region in prices.priced()
    ]
    return ImportResult(rows=rows, skipped=skipped)


def to_csv(rows: Sequence[PriceRow]) -> str:
    """The rows in prices.csv format: its header, then one line per row, in the given order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(
        (r.cloud, r.shape, r.region, _price(r.on_demand), _price(r.spot), r.source, r.as_of)
        for r in rows
    )
    return buffer.getvalue()


def _price(value: float | None) -> str:
    if value is None:
        return ""
    # Rounding hides float noise from sums (0.29 + 0.56); Decimal avoids exponents like 1e-05.
    return format(Decimal(repr(round(value, 10))), "f")


def _read(path: Path) -> _Table:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).date().isoformat()
    except UnicodeDecodeError:
        raise _unreadable(path, "it is not UTF-8 text") from None
    except OSError as error:
        raise _unreadable(path, error.strerror or type(error).__name__) from None
    header, rows = _parse(str(path), text)
    return _Table(name=str(path), header=header, rows=rows, modified=modified)


def _unreadable(path: Path, reason: str) -> SettingsError:
    return SettingsError(
        "-",
        "FILE",
        f"cannot read {path}: {reason}",
        "pass the path of a gpuhunt provider CSV (e.g. aws.csv) or a SkyPilot vms.csv",
    )


def _parse(name: str, text: str) -> tuple[tuple[str, ...], list[tuple[int, dict[str, str]]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = tuple(cell.strip() for cell in next(reader, []))
        rows = [
            (reader.line_num, _by_column(header, cells))
            for cells in reader
            if any(cell.strip() for cell in cells)
        ]
    except csv.Error as error:
        raise SettingsError(
            "-", "FILE", f"{name} line {reader.line_num}: not valid CSV ({error})", _FIX_FILE
        ) from None
    return header, rows


def _by_column(header: tuple[str, ...], cells: list[str]) -> dict[str, str]:
    # A short row leaves its trailing columns empty rather than missing.
    return {column: cells[i] if i < len(cells) else "" for i, column in enumerate(header)}


def _detect(table: _Table) -> str:
    columns = set(table.header)
    for fmt, required in REQUIRED_COLUMNS.items():
        if columns.issuperset(required):
            return fmt
    expected = " or ".join(
        f"({' '.join(required)}) for {fmt}" for fmt, required in REQUIRED_COLUMNS.items()
    )
    raise SettingsError(
        "-",
        "FILE",
        f"{table.name} has neither gpuhunt nor SkyPilot vms.csv columns: expected {expected}",
        "pass a gpuhunt provider CSV (e.g. aws.csv) or a SkyPilot catalog vms.csv",
    )


def _cloud(fmt: str, path: Path, given: str | None) -> str:
    if given is not None:
        cloud = given.strip().lower()
        if cloud not in CLOUDS:
            raise SettingsError(
                "-",
                "--cloud",
                f"{given!r} is not a cloud llmplane has prices for",
                f"use one of: {', '.join(CLOUDS)}",
            )
        return cloud
    # gpuhunt names its files after the provider; SkyPilot keeps vms.csv in a folder per cloud.
    where = "file name" if fmt == GPUHUNT else "folder"
    guess = path.stem if fmt == GPUHUNT else path.absolute().parent.name
    if guess.lower() in CLOUDS:
        return guess.lower()
    raise SettingsError(
        "-",
        "--cloud",
        f"is missing, and the {where} of {path} does not say which cloud it prices",
        f"pass --cloud with one of: {', '.join(CLOUDS)}",
    )


def _as_of(given: str) -> str:
    try:
        return date.fromisoformat(given.strip()).isoformat()
    except ValueError:
        raise SettingsError(
            "-", "--as-of", f"{given!r} is not a date", "use YYYY-MM-DD, e.g. 2026-11-28"
        ) from None


def _region(cloud: str, location: str) -> str:
    pattern = {"aws": _AWS_ZONE, "gcp": _GCP_ZONE}.get(cloud)
    match = pattern.fullmatch(location) if pattern else None
    return match.group(1) if match else location


def _is_spot(table: _Table, line: int, row: dict[str, str]) -> bool:
    text = row["spot"].strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingsError(
        "-",
        "FILE",
        f"{table.name} line {line}: spot is {row['spot']!r}, not true or false",
        _FIX_FILE,
    )


def _from_gpuhunt(table: _Table, cloud: str) -> tuple[_Cheapest[_Key], int]:
    known = shapes(cloud)
    prices = _Cheapest[_Key]()
    skipped = 0
    for line, row in table.rows:
        shape = row["instance_name"].strip()
        region = _region(cloud, row["location"].strip())
        price = table.number(line, row, "price")
        spot = _is_spot(table, line, row)
        if shape not in known or not region or price is None:
            skipped += 1
        elif spot:
            prices.add((shape, region), None, price)
        else:
            prices.add((shape, region), price, None)
    return prices, skipped


def _from_skypilot_vms(table: _Table, cloud: str) -> tuple[_Cheapest[_Key], int]:
    known = shapes(cloud)
    prices = _Cheapest[_Key]()
    skipped = 0
    for line, row in table.rows:
        shape = row["InstanceType"].strip()
        region = row["Region"].strip()
        on_demand = table.number(line, row, "Price")
        spot = table.number(line, row, "SpotPrice")
        if shape not in known or not region or (on_demand is None and spot is None):
            skipped += 1
        else:
            # One row per zone: the on-demand price is the same in each, spot prices differ.
            prices.add((shape, region), on_demand, spot)
    return prices, skipped


def _skypilot_gpu(shape: Shape) -> str | None:
    """SkyPilot's GCP accelerator name for a shape's GPU, or None when llmplane has no mapping."""
    if shape.gpu == "A100":
        return "A100-80GB" if shape.gpu_memory_gib >= 80 else "A100"
    return {"L4": "L4", "H100": "H100", "H200": "H200"}.get(shape.gpu)


# Assumption: SkyPilot's GCP vms.csv in its split form, where a machine row (InstanceType set,
# AcceleratorName empty) prices the VM alone and a GPU row (InstanceType empty, AcceleratorName and
# AcceleratorCount set) prices the attached GPUs. Some SkyPilot versions fold the GPU into the a2,
# a3 and g2 machine rows instead; such combined rows (both columns set) are skipped, never summed,
# so a GPU is not paid for twice.
def _from_skypilot_gcp(table: _Table) -> tuple[_Cheapest[_Key], int]:
    known = shapes("gcp")
    machines = _Cheapest[_Key]()
    gpus = _Cheapest[_GpuKey]()
    machine_rows: Counter[_Key] = Counter()
    skipped = 0
    for line, row in table.rows:
        instance = row["InstanceType"].strip()
        accelerator = row["AcceleratorName"].strip()
        region = row["Region"].strip()
        on_demand = table.number(line, row, "Price")
        spot = table.number(line, row, "SpotPrice")
        if instance in known and not accelerator and region:
            machines.add((instance, region), on_demand, spot)
            machine_rows[instance, region] += 1
        elif accelerator and not instance and region:
            count = table.number(line, row, "AcceleratorCount") or 0.0
            gpus.add((accelerator, count, region), on_demand, spot)
        else:
            skipped += 1
    prices = _with_gpus(known, machines, gpus)
    priced = set(prices.priced())
    skipped += sum(n for key, n in machine_rows.items() if key not in priced)
    return prices, skipped


def _with_gpus(
    known: dict[str, Shape], machines: _Cheapest[_Key], gpus: _Cheapest[_GpuKey]
) -> _Cheapest[_Key]:
    prices = _Cheapest[_Key]()
    for shape, region in machines.priced():
        machine = known[shape]
        gpu: _GpuKey = (_skypilot_gpu(machine) or "", float(machine.gpu_count), region)
        prices.add(
            (shape, region),
            _total(machines.on_demand.get((shape, region)), gpus.on_demand.get(gpu)),
            _total(machines.spot.get((shape, region)), gpus.spot.get(gpu)),
        )
    return prices


def _total(machine: float | None, gpu: float | None) -> float | None:
    # A price missing for either part leaves the whole shape unpriced at that tier.
    if machine is None or gpu is None:
        return None
    return round(machine + gpu, 10)
