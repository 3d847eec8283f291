"""Stack settings -> AzureCloudArgs: names, tags, control plane, network and pool, resolved."""

from __future__ import annotations

from llmplane.components.azure import global_name
from llmplane.components.azure.aks import DEFAULT_VERSION, SUPPORTED_VERSIONS
from llmplane.components.azure.args import (
    AksControlPlaneArgs,
    AzureCloudArgs,
    AzureNetworkArgs,
    ExistingSubnets,
)
from llmplane.components.cluster import Workload
from llmplane.components.engines import ENGINES
from llmplane.components.naming import dns_label, tags

from ..settings import NetworkSettings, StackSettings
from . import ClusterFactory, kubernetes_version, mirror_credentials, pool_spec

__all__ = ["azure_args", "azure_cluster"]


def azure_args(settings: StackSettings) -> AzureCloudArgs:
    """The Azure target's args for a validated stack; SettingsError if the version is not AKS's."""
    # The pool first, then the version: the order the checks ran in before the args existed.
    pool = pool_spec(settings)
    version = kubernetes_version(settings, SUPPORTED_VERSIONS, DEFAULT_VERSION, "AKS")
    cluster = settings.cluster
    return AzureCloudArgs(
        cluster_name=dns_label("llm", settings.stack),
        # Key Vault and ACR names are global across Azure, so they derive from the stack.
        vault_name=global_name(settings.stack, "vault", 24),
        registry_name=global_name(settings.stack, "registry", 50),
        gpu_pool=pool,
        engine_image=ENGINES[settings.engine].image,
        tags=tags(settings.stack, settings.tags),
        control_plane=AksControlPlaneArgs(
            kubernetes_version=version,
            private_endpoint=cluster.private_endpoint,
            authorized_cidrs=cluster.authorized_cidrs,
            admin_group_ids=cluster.admin_group_ids,
            tier=cluster.tier,
        ),
        network=AzureNetworkArgs(
            cidr=settings.network.cidr, existing=existing_subnets(settings.network)
        ),
        mirror_credentials=mirror_credentials(settings),
    )


def existing_subnets(network: NetworkSettings) -> ExistingSubnets | None:
    """The stack's own subnets when it names all three (the settings rules allow no fewer)."""
    if network.subnet_id and network.api_server_subnet_id and network.endpoint_subnet_id:
        return ExistingSubnets(
            nodes=network.subnet_id,
            api_server=network.api_server_subnet_id,
            endpoints=network.endpoint_subnet_id,
        )
    return None


def azure_cluster(settings: StackSettings, workload: Workload) -> ClusterFactory:
    """The stack's azure cluster component, its args built (and checked) now."""
    from llmplane.components.azure import AzureCloud
    from llmplane.components.platform import GpuPlatform

    adapter = AzureCloud(azure_args(settings))
    pair = (workload.namespace, workload.service_account)
    return lambda name, opts=None: GpuPlatform(name, adapter, opts, workload=pair)
