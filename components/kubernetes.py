"""The `kubernetes` target: an existing cluster, reached through a kubeconfig or a context."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s

from components.cloud import (
    ClusterRef,
    KeyRef,
    Placement,
    RegistryRef,
    Toleration,
    WorkloadIdentity,
    as_secret,
)

if TYPE_CHECKING:
    from infra.settings import StackSettings


class ExistingCluster:
    """Creates no key, cluster or registry: only a provider for the cluster and a Placement."""

    def __init__(self, settings: StackSettings) -> None:
        self._settings = settings

    def key(self, parent: pulumi.Resource) -> KeyRef | None:
        """None: encryption at rest is the cluster owner's business."""
        return None

    def cluster(self, parent: pulumi.Resource, key: KeyRef | None) -> ClusterRef:
        """An explicit provider, so that nothing silently deploys to the ambient kubeconfig."""
        provider_settings = self._settings.provider
        kubeconfig = as_secret(provider_settings.kubeconfig)
        name = f"{parent.pulumi_resource_name}-cluster"
        provider = k8s.Provider(
            name,
            k8s.ProviderArgs(kubeconfig=kubeconfig, context=provider_settings.kube_context),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        return ClusterRef(name=name, provider=provider, kubeconfig=kubeconfig)

    def gpu_pool(self, parent: pulumi.Resource, cluster: ClusterRef) -> Placement:
        """The GPU nodes the user selected, and the taints they carry."""
        gpu = self._settings.gpu
        return Placement(
            node_selector=dict(sorted(gpu.node_selector.items())),
            tolerations=tuple(Toleration(key=key) for key in gpu.taint_keys),
            gpu_resource=gpu.resource_name,
        )

    def registry(self, parent: pulumi.Resource, key: KeyRef | None) -> RegistryRef | None:
        """None: images come straight from their public registries."""
        return None

    def workload_identity(
        self, parent: pulumi.Resource, namespace: str, service_account: str
    ) -> WorkloadIdentity:
        """None to bind: which identity system the cluster has is the owner's business."""
        return WorkloadIdentity()
