"""Stack settings -> ExistingClusterArgs: the kubeconfig or context, and the GPU nodes' labels."""

from __future__ import annotations

from llmplane.components.existing import ExistingClusterArgs

from ..config.settings import ExistingClusterStack
from . import ClusterFactory, as_secret

__all__ = ["kubernetes_args", "kubernetes_cluster"]


def kubernetes_args(settings: ExistingClusterStack) -> ExistingClusterArgs:
    """The existing-cluster target's args: kubernetes:kubeconfig stays a secret all the way."""
    provider, gpu = settings.provider, settings.gpu
    return ExistingClusterArgs(
        kube_context=provider.kube_context,
        kubeconfig=as_secret(provider.kubeconfig),
        node_selector=dict(gpu.node_selector),
        taint_keys=gpu.taint_keys,
        gpu_resource=gpu.resource_name,
    )


def kubernetes_cluster(settings: ExistingClusterStack) -> ClusterFactory:
    """The existing-cluster component: a provider for the user's cluster and their GPU nodes."""
    from llmplane.components.existing import ExistingCluster

    args = kubernetes_args(settings)
    return lambda name, opts=None: ExistingCluster(name, args, opts)
