"""Stack settings -> GkeGpuClusterArgs: project, region, names, labels, control plane, pool."""

from __future__ import annotations

from llmplane.components.cluster import Workload
from llmplane.components.gcp.args import GcpNetworkSpec, GkeControlPlaneSpec, GkeGpuClusterArgs
from llmplane.components.gcp.gke import SUPPORTED_VERSIONS
from llmplane.components.kubernetes.engines import ENGINES
from llmplane.components.naming import dns_label, tags

from ..config.settings import GcpStack
from . import ClusterFactory, kubernetes_version, mirror_credentials, pool_spec

__all__ = ["gcp_args", "gcp_cluster"]


def gcp_args(settings: GcpStack, workload: Workload | None = None) -> GkeGpuClusterArgs:
    """The GKE cluster's args for a validated stack; SettingsError if GKE lacks the version."""
    project, region = settings.provider.gcp_project, settings.provider.gcp_region
    pool = pool_spec(settings)
    cluster = settings.cluster
    # Unset, the release channel picks the version; set, it must be one the channel offers.
    version = (
        kubernetes_version(settings, SUPPORTED_VERSIONS, SUPPORTED_VERSIONS[0], "GKE")
        if cluster.kubernetes_version is not None
        else None
    )
    return GkeGpuClusterArgs(
        project=project,
        region=region,
        cluster_name=dns_label("llm", settings.stack),
        gpu_pool=pool,
        engine_image=ENGINES[settings.engine].image,
        # GCP labels are lowercase; the shared tag map already is.
        labels=tags(settings.stack, settings.tags),
        control_plane=GkeControlPlaneSpec(
            kubernetes_version=version,
            private_endpoint=cluster.private_endpoint,
            authorized_cidrs=cluster.authorized_cidrs,
            binary_authorization=cluster.binary_authorization,
        ),
        network=GcpNetworkSpec(cidr=settings.network.cidr),
        mirror_credentials=mirror_credentials(settings),
        workload=workload,
        weights_bucket=settings.weights.bucket,
    )


def gcp_cluster(settings: GcpStack, workload: Workload) -> ClusterFactory:
    """The stack's GKE cluster component, its args built (and checked) now."""
    from llmplane.components.gcp import GkeGpuCluster

    args = gcp_args(settings, workload)
    return lambda name, opts=None: GkeGpuCluster(name, args, opts)
