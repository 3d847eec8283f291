"""What every cluster component hands to workloads, and the workload a cloud identity binds to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pulumi

from .cloud import ClusterRef, Placement, RegistryRef, WorkloadIdentity

__all__ = ["GpuClusterTarget", "Workload"]


@dataclass(frozen=True)
class Workload:
    """A Kubernetes ServiceAccount that a cluster component binds a cloud identity to."""

    namespace: str
    """The ServiceAccount's namespace."""
    service_account: str
    """The ServiceAccount's name (InferenceService names it after the service's object name)."""


class GpuClusterTarget(Protocol):
    """What a cluster component exposes, whoever made the cluster: the program reads only this.

    EksGpuCluster, AksGpuCluster, GkeGpuCluster and ExistingCluster all have these attributes,
    set in their constructors; nothing on them is filled in later by another call.
    """

    @property
    def cluster(self) -> ClusterRef:
        """The cluster: a Kubernetes provider for it, its kubeconfig, its storage and LB facts."""
        ...

    @property
    def placement(self) -> Placement:
        """Where GPU pods go: node selector, tolerations, GPU resource name."""
        ...

    @property
    def registry(self) -> RegistryRef | None:
        """The private mirror of the engine image's registry; None: images come from upstream."""
        ...

    @property
    def identity(self) -> WorkloadIdentity:
        """The cloud identity bound to the workload the cluster was given; empty if none."""
        ...

    @property
    def kubeconfig(self) -> pulumi.Output[str] | None:
        """A kubeconfig for the cluster, a Pulumi secret; None if the user brings their own."""
        ...

    @property
    def weights_uri(self) -> pulumi.Output[str] | None:
        """The weights bucket's root URI (s3://, gs://, az://); None: weights come from the Hub."""
        ...

    @property
    def weights_account(self) -> pulumi.Output[str] | None:
        """The storage account of an az:// weights_uri, which the streamer needs; else None."""
        ...
