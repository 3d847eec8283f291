"""How replicas share GPU nodes: whole replicas per node, as the kubelet and autoscaler do."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Packing", "expected_gpu_nodes", "packing"]


@dataclass(frozen=True)
class Packing:
    """How replicas share GPU nodes: as many whole replicas per node as its GPUs allow."""

    replicas: int
    """Replicas placed."""
    replicas_per_node: int
    """Replicas one node holds; 0 when a replica spans several nodes."""
    nodes: int
    """Nodes that hold them."""
    idle_gpus: int
    """GPUs of those nodes that no replica uses (paid for all the same)."""


def packing(replicas: int, gpus_per_replica: int, gpus_per_node: int) -> Packing:
    """Place `replicas` replicas of `gpus_per_replica` GPUs on nodes of `gpus_per_node` GPUs.

    A replica never splits across nodes unless it is larger than one (a multi-node layout,
    which then takes whole nodes). The kubelet gives each replica its own GPUs, so replicas that
    fit side by side share a node, and the autoscaler adds a node only for a replica that fits
    on none. (With more nodes than this, from gpu.minNodes, the scheduler spreads replicas.)
    """
    if gpus_per_replica > gpus_per_node:
        per_node, nodes = 0, replicas * math.ceil(gpus_per_replica / gpus_per_node)
    else:
        per_node = gpus_per_node // gpus_per_replica
        nodes = math.ceil(replicas / per_node)
    return Packing(replicas, per_node, nodes, nodes * gpus_per_node - replicas * gpus_per_replica)


def expected_gpu_nodes(replicas: int, gpus_per_replica: int, gpus_per_node: int) -> int:
    """Nodes that hold `replicas` replicas of `gpus_per_replica` GPUs each."""
    return packing(replicas, gpus_per_replica, gpus_per_node).nodes
