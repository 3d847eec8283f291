"""The `kubernetes` target: an existing cluster, reached through a kubeconfig or a context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from .cloud import (
    ClusterRef,
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


class ExistingCluster(pulumi.ComponentResource):
    """A cluster llmplane did not create: a provider for it and where its GPU pods go.

    It creates no key, cluster or registry. The provider is explicit, so that nothing silently
    deploys to whatever cluster the ambient kubeconfig points at.
    """

    cluster: ClusterRef
    placement: Placement
    registry: RegistryRef | None
    identity: WorkloadIdentity
    kubeconfig: pulumi.Output[str] | None
    weights_uri: pulumi.Output[str] | None
    weights_account: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        args: ExistingClusterArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """A Kubernetes provider for the cluster, named `<name>-cluster`, and a Placement."""
        super().__init__("llmplane:kubernetes:ExistingCluster", name, None, opts)
        provider_name = f"{name}-cluster"
        provider = k8s.Provider(
            provider_name,
            k8s.ProviderArgs(kubeconfig=args.kubeconfig, context=args.kube_context),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.kubeconfig = args.kubeconfig
        self.cluster = ClusterRef(name=provider_name, provider=provider, kubeconfig=args.kubeconfig)
        self.placement = Placement(
            # Sorted, so that the same selector gives the same pod spec whatever its order.
            node_selector=dict(sorted(args.node_selector.items())),
            tolerations=tuple(Toleration(key=key) for key in args.taint_keys),
            gpu_resource=args.gpu_resource,
        )
        # Images come straight from their public registries, and which identity system the
        # cluster has (if any) is its owner's business: nothing to bind.
        self.registry = None
        self.identity = WorkloadIdentity()
        # A bucket would need a cloud identity this component does not know about.
        self.weights_uri = None
        self.weights_account = None
        self.register_outputs({"gpuResource": args.gpu_resource})
