"""GpuPlatform: key, cluster, GPU pool and registry from whichever Cloud adapter the stack names."""

from __future__ import annotations

import pulumi

from .cloud import (
    Cloud,
    ClusterRef,
    KeyRef,
    Placement,
    RegistryRef,
    WorkloadIdentity,
)

__all__ = ["GpuPlatform"]


class GpuPlatform(pulumi.ComponentResource):
    """Everything below the workload: encryption key, Kubernetes cluster, GPU nodes, registry."""

    key: KeyRef | None
    cluster: ClusterRef
    placement: Placement
    registry: RegistryRef | None
    kubeconfig: pulumi.Output[str] | None
    identity: WorkloadIdentity

    def __init__(
        self,
        name: str,
        spec: Cloud,
        opts: pulumi.ResourceOptions | None = None,
        workload: tuple[str, str] = ("", ""),
    ) -> None:
        """`spec` is the stack cloud's adapter; `workload` the engine's (namespace, account)."""
        super().__init__("llmplane:index:GpuPlatform", name, None, opts)
        cloud = spec
        self.key = cloud.key(self)
        self.cluster = cloud.cluster(self, self.key)
        self.placement = cloud.gpu_pool(self, self.cluster)
        self.registry = cloud.registry(self, self.key)
        self.identity = cloud.workload_identity(self, *workload)
        self.kubeconfig = self.cluster.kubeconfig
        self.register_outputs(
            {
                "clusterName": self.cluster.name,
                "keyId": self.key.id if self.key else None,
                "registry": self.registry.prefix if self.registry else None,
            }
        )
