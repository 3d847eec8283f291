"""Stack settings -> AksGpuClusterArgs: names, tags, control plane, network and pool, resolved."""

from __future__ import annotations

from llmplane.components.azure import global_name
from llmplane.components.azure.aks import DEFAULT_VERSION, SUPPORTED_VERSIONS
from llmplane.components.azure.args import (
    AksControlPlaneSpec,
    AksGpuClusterArgs,
    AzureNetworkSpec,
    ExistingSubnets,
)
from llmplane.components.cluster import Workload
from llmplane.components.kubernetes.engines import ENGINES
from llmplane.components.naming import dns_label, tags

from ..config.clouds import AzureNetworkSettings
from ..config.settings import AzureStack
from . import ClusterFactory, kubernetes_version, mirror_credentials, pool_spec

__all__ = ["azure_args", "azure_cluster"]


def azure_args(settings: AzureStack, workload: Workload | None = None) -> AksGpuClusterArgs:
    """The Azure cluster's args for a validated stack; SettingsError if the version is not AKS's.

    `workload` is the ServiceAccount the cluster federates a managed identity with, if any.
    """
    # The pool first, then the version: the order the checks ran in before the args existed.
    pool = pool_spec(settings)
    version = kubernetes_version(settings, SUPPORTED_VERSIONS, DEFAULT_VERSION, "AKS")
    cluster = settings.cluster
    return AksGpuClusterArgs(
        cluster_name=dns_label("llm", settings.stack),
        # Key Vault and ACR names are global across Azure, so they derive from the stack.
        vault_name=global_name(settings.stack, "vault", 24),
        registry_name=global_name(settings.stack, "registry", 50),
        gpu_pool=pool,
        engine_image=ENGINES[settings.engine].image,
        tags=tags(settings.stack, settings.tags),
        control_plane=AksControlPlaneSpec(
            kubernetes_version=version,
            private_endpoint=cluster.private_endpoint,
            authorized_cidrs=cluster.authorized_cidrs,
            admin_group_ids=cluster.admin_group_ids,
            tier=cluster.tier,
        ),
        network=AzureNetworkSpec(
            cidr=settings.network.cidr, existing=existing_subnets(settings.network)
        ),
        mirror_credentials=mirror_credentials(settings),
        workload=workload,
        weights_bucket=settings.weights.bucket,
    )


def existing_subnets(network: AzureNetworkSettings) -> ExistingSubnets | None:
    """The stack's own subnets when it names all three (the settings rules allow no fewer)."""
    if network.subnet_id and network.api_server_subnet_id and network.endpoint_subnet_id:
        return ExistingSubnets(
            nodes=network.subnet_id,
            api_server=network.api_server_subnet_id,
            endpoints=network.endpoint_subnet_id,
        )
    return None


def azure_cluster(settings: AzureStack, workload: Workload) -> ClusterFactory:
    """The stack's AksGpuCluster, its args built (and checked) now."""
    from llmplane.components.azure import AksGpuCluster

    args = azure_args(settings, workload)
    return lambda name, opts=None: AksGpuCluster(name, args, opts)
