"""A GPU machine shape: what the components need to know of one, wherever it was looked up."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Shape"]


@dataclass(frozen=True)
class Shape:
    """One GPU machine shape: its GPUs, CPUs and memory, and where those figures come from."""

    cloud: str
    """aws, azure or gcp."""
    name: str
    """The cloud's instance type, VM size or machine type."""
    gpu: str
    """GPU model, as gpus.csv names it."""
    gpu_count: int
    """GPUs on one node."""
    gpu_memory_gib: int
    """Nominal memory of one GPU."""
    vcpu: int
    """vCPUs on one node."""
    memory_gib: int
    """Host memory on one node."""
    local_disk_gib: int
    """Azure: the temp disk that can hold an ephemeral OS disk; 0 elsewhere."""
    source: str
    """Where the figures come from."""
    as_of: str
    """When they were taken."""
