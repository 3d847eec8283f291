"""GPU shapes per cloud, read from catalog/shapes.csv: what each instance type or VM size holds."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from infra.errors import SettingsError

if TYPE_CHECKING:
    from infra.settings import StackSettings

SHAPES_CSV = Path(__file__).with_name("catalog") / "shapes.csv"


@dataclass(frozen=True)
class Shape:
    """One GPU machine shape: its GPUs, CPUs and memory, and where those figures come from."""

    cloud: str
    name: str
    gpu: str
    gpu_count: int
    gpu_memory_gib: int
    vcpu: int
    memory_gib: int
    local_disk_gib: int  # Azure: the temp disk that can hold an ephemeral OS disk; 0 elsewhere
    source: str
    as_of: str


@cache
def shapes(cloud: str) -> dict[str, Shape]:
    """Every known shape of one cloud, by name."""
    with SHAPES_CSV.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["cloud"] == cloud]
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
        for row in rows
    }


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


def require_shape(settings: StackSettings, example: str) -> Shape:
    """The stack's GPU shape from its cloud's catalog, or a one-line error saying what would do."""
    gpu = settings.gpu
    known = shapes(settings.cloud)
    if gpu.shape == "auto":
        raise SettingsError(
            settings.stack,
            "llmplane:gpu.shape",
            "is auto, but choosing a shape from the model needs the sizing engine, "
            "which is not built yet",
            f"set one, e.g. {example}; known: {', '.join(sorted(known))}",
        )
    shape = known.get(gpu.shape)
    if shape is None:
        raise SettingsError(
            settings.stack,
            "llmplane:gpu.shape",
            f"{gpu.shape!r} is not a GPU shape llmplane knows on {settings.cloud}",
            f"use one of: {', '.join(sorted(known))}",
        )
    if gpu.count > shape.gpu_count:
        raise SettingsError(
            settings.stack,
            "llmplane:gpu.count",
            f"is {gpu.count}, but {shape.name} has {shape.gpu_count} GPU(s)",
            "lower gpu.count or choose a larger shape (a replica cannot span nodes)",
        )
    return shape
