"""Stack settings -> EksGpuClusterArgs: every value the AWS target reads, resolved and checked."""

from __future__ import annotations

from llmplane.components.aws import DEFAULT_VERSION, SUPPORTED_VERSIONS
from llmplane.components.aws.args import AwsNetworkArgs, EksControlPlaneArgs, EksGpuClusterArgs
from llmplane.components.cluster import Workload
from llmplane.components.kubernetes.engines import ENGINES
from llmplane.components.naming import dns_label, tags

from ..config.settings import AwsStack
from ..sizing.catalog import interchangeable
from . import ClusterFactory, kubernetes_version, mirror_credentials, pool_spec

__all__ = ["SPOT_FALLBACKS", "aws_args", "aws_cluster"]

# Instance types a spot GPU group may fall back to, after the stack's own: two more capacity
# pools survive most single-type shortages without spreading over much dearer machines.
SPOT_FALLBACKS = 2


def aws_args(settings: AwsStack, workload: Workload | None = None) -> EksGpuClusterArgs:
    """The AWS target's args for a validated stack; SettingsError for what EKS refuses."""
    region = settings.provider.aws_region
    pool = pool_spec(settings)
    cluster, network = settings.cluster, settings.network
    return EksGpuClusterArgs(
        region=region,
        cluster_name=dns_label("llm", settings.stack),
        pool=pool,
        engine_image=ENGINES[settings.engine].image,
        tags=tags(settings.stack, settings.tags),
        control_plane=EksControlPlaneArgs(
            # Checked here, so an unsupported version is a one-line SettingsError naming the key.
            kubernetes_version=kubernetes_version(
                settings, SUPPORTED_VERSIONS, DEFAULT_VERSION, "EKS"
            ),
            private_endpoint=cluster.private_endpoint,
            authorized_cidrs=cluster.authorized_cidrs,
            allow_open_endpoint=cluster.allow_open_endpoint,
            admin_arns=cluster.admin_arns,
        ),
        network=AwsNetworkArgs(
            cidr=network.cidr,
            nat_gateways=network.nat_gateways,
            private_endpoints=network.private_endpoints,
            vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            public_subnet_ids=network.public_subnet_ids,
        ),
        # Spot groups list instance types with the same GPUs, so one type's shortage is survivable.
        spot_fallbacks=tuple(interchangeable(pool.shape)[:SPOT_FALLBACKS]) if pool.spot else (),
        mirror_credentials=mirror_credentials(settings),
        workload=workload,
        weights_bucket=settings.weights.bucket,
    )


def aws_cluster(settings: AwsStack, workload: Workload) -> ClusterFactory:
    """The stack's EksGpuCluster, its args built (and checked) now."""
    from llmplane.components.aws import EksGpuCluster

    args = aws_args(settings, workload)
    return lambda name, opts=None: EksGpuCluster(name, args, opts)
