"""The `kubernetes` target: an existing cluster, reached through a kubeconfig or a context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from .cloud import (
    ClusterRef,
    KeyRef,
    Placement,
    RegistryRef,
    Toleration,
    WorkloadIdentity,
)

__all__ = ["ExistingCluster", "ExistingClusterArgs"]


@dataclass(frozen=True, kw_only=True)
class ExistingClusterArgs:
    """How to reach a cluster llmplane did not create, and where its GPU pods go."""

    kube_context: str | None = None
    """The kubeconfig context to use; None: the kubeconfig's current context."""
    kubeconfig: pulumi.Output[str] | None = None
    """A kubeconfig's contents, a Pulumi secret; None: the provider's own (KUBECONFIG, ~/.kube)."""
    node_selector: Mapping[str, str] = field(default_factory=dict)
    """Node labels that select the cluster's GPU nodes."""
    taint_keys: tuple[str, ...] = ("nvidia.com/gpu",)
    """Keys of the taints on the GPU nodes that GPU pods tolerate (any value, NoSchedule)."""
    gpu_resource: str = "nvidia.com/gpu"
    """The extended resource name the cluster's device plugin advertises."""


class ExistingCluster:
    """Creates no key, cluster or registry: only a provider for the cluster and a Placement."""

    def __init__(self, args: ExistingClusterArgs) -> None:
        """Keep the args; the provider is created when cluster() runs."""
        self._args = args

    def key(self, parent: pulumi.Resource) -> KeyRef | None:
        """None: encryption at rest is the cluster owner's business."""
        return None

    def cluster(self, parent: pulumi.Resource, key: KeyRef | None) -> ClusterRef:
        """An explicit provider, so that nothing silently deploys to the ambient kubeconfig."""
        kubeconfig = self._args.kubeconfig
        name = f"{parent.pulumi_resource_name}-cluster"
        provider = k8s.Provider(
            name,
            k8s.ProviderArgs(kubeconfig=kubeconfig, context=self._args.kube_context),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        return ClusterRef(name=name, provider=provider, kubeconfig=kubeconfig)

    def gpu_pool(self, parent: pulumi.Resource, cluster: ClusterRef) -> Placement:
        """The GPU nodes the user selected, and the taints they carry."""
        args = self._args
        return Placement(
            # Sorted, so that the same selector gives the same pod spec whatever its order.
            node_selector=dict(sorted(args.node_selector.items())),
            tolerations=tuple(Toleration(key=key) for key in args.taint_keys),
            gpu_resource=args.gpu_resource,
        )

    def registry(self, parent: pulumi.Resource, key: KeyRef | None) -> RegistryRef | None:
        """None: images come straight from their public registries."""
        return None

    def workload_identity(
        self, parent: pulumi.Resource, namespace: str, service_account: str
    ) -> WorkloadIdentity:
        """None to bind: which identity system the cluster has is the owner's business."""
        return WorkloadIdentity()
