"""The `aws` target: KMS, a VPC, EKS with GPU node groups that scale from zero, and ECR.

`EksGpuCluster` builds it all as a tree of components; each of them also stands alone
(a key, a network, a GPU pool for a cluster llmplane did not create, a registry mirror...).
"""

from __future__ import annotations

from dataclasses import replace

import pulumi
import pulumi_kubernetes as k8s

from ..cloud import ClusterRef, Placement, RegistryRef, WorkloadIdentity
from ..kubernetes.device_plugin import nvidia_device_plugin
from .args import GPU_VOLUME_GIB, AwsNetworkArgs, EksControlPlaneArgs, EksGpuClusterArgs
from .autoscaler import EksClusterAutoscaler, EksClusterAutoscalerArgs
from .ecr import EcrMirror, EcrMirrorArgs
from .efs import EfsSharedCache, EfsSharedCacheArgs
from .eks import DEFAULT_VERSION, SUPPORTED_VERSIONS, EksControlPlane
from .iam import EksWorkloadIdentity, EksWorkloadIdentityArgs
from .kms import KmsKey, KmsKeyArgs
from .network import AwsNetwork
from .nodes import EksGpuNodePool, EksGpuNodePoolArgs
from .weights import S3WeightsBucket, S3WeightsBucketArgs

__all__ = [
    "DEFAULT_VERSION",
    "GPU_VOLUME_GIB",
    "SUPPORTED_VERSIONS",
    "AwsNetwork",
    "AwsNetworkArgs",
    "EcrMirror",
    "EcrMirrorArgs",
    "EfsSharedCache",
    "EfsSharedCacheArgs",
    "EksClusterAutoscaler",
    "EksClusterAutoscalerArgs",
    "EksControlPlane",
    "EksControlPlaneArgs",
    "EksGpuCluster",
    "EksGpuClusterArgs",
    "EksGpuNodePool",
    "EksGpuNodePoolArgs",
    "EksWorkloadIdentity",
    "EksWorkloadIdentityArgs",
    "KmsKey",
    "KmsKeyArgs",
    "S3WeightsBucket",
    "S3WeightsBucketArgs",
]

# The AWS cloud controller's NLB, in the private subnets only.
INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
}


class EksGpuCluster(pulumi.ComponentResource):
    """An EKS GPU cluster: key, VPC, control plane, GPU pool, autoscaler, cache and ECR mirror."""

    cluster: ClusterRef
    """The cluster: its Kubernetes provider `<name>-k8s`, kubeconfig, LB and storage facts."""
    placement: Placement
    """Where GPU pods go: the GPU pool's label and taint, nvidia.com/gpu."""
    registry: RegistryRef | None
    """The ECR pull-through cache of the engine image's registry; None without credentials."""
    identity: WorkloadIdentity
    """The IRSA role bound to `args.workload`, as annotations; empty when no workload is given."""
    kubeconfig: pulumi.Output[str]
    """A kubeconfig that runs `aws eks get-token`, a Pulumi secret."""
    cluster_name: pulumi.Output[str]
    """The EKS cluster's name, known once EKS has it."""
    endpoint: pulumi.Output[str]
    """The API server's URL."""
    oidc_issuer: pulumi.Output[str]
    """The cluster's OIDC issuer URL, for more IRSA roles."""
    oidc_provider_arn: pulumi.Output[str]
    """The IAM OIDC provider those roles trust."""
    node_role_arn: pulumi.Output[str]
    """The role every node runs as, for more node groups (EksGpuNodePool)."""
    key_arn: pulumi.Output[str]
    """The customer-managed key that encrypts secrets, volumes, logs and the registry."""
    vpc_id: pulumi.Output[str]
    """The VPC the cluster runs in."""
    private_subnet_ids: list[pulumi.Output[str]]
    """The private subnets of the nodes."""
    weights_uri: pulumi.Output[str] | None
    """`s3://<bucket>` of the weights bucket; None without `args.weights_bucket`."""
    weights_account: pulumi.Output[str] | None
    """Always None: only Azure names a storage account."""

    def __init__(
        self, name: str, args: EksGpuClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """The nested components, all named `name`, wired to each other's outputs."""
        super().__init__("llmplane:aws:GpuCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        key = KmsKey(
            name, KmsKeyArgs(cluster_name=args.cluster_name, region=args.region, tags=tags), child
        )
        network = AwsNetwork(
            name,
            replace(args.network, region=args.region, tags={**tags, **args.network.tags}),
            child,
        )
        control_plane = EksControlPlane(
            name,
            replace(
                args.control_plane,
                cluster_name=args.cluster_name,
                region=args.region,
                subnet_ids=network.private_subnet_ids,
                key_arn=key.arn,
                tags={**tags, **args.control_plane.tags},
            ),
            child,
        )
        pool = EksGpuNodePool(
            name,
            EksGpuNodePoolArgs(
                cluster_name=control_plane.cluster_name,
                subnet_ids=network.private_subnet_ids,
                node_role_arn=control_plane.node_role_arn,
                key_arn=key.arn,
                pool=args.pool,
                spot_fallbacks=args.spot_fallbacks,
                volume_gib=args.gpu_volume_gib,
                tags=tags,
                depends_on=control_plane.node_dependencies,
            ),
            child,
        )
        provider = k8s.Provider(f"{name}-k8s", kubeconfig=control_plane.kubeconfig, opts=child)
        # Kubernetes objects wait for the system nodes, where their pods run.
        on_nodes = [control_plane.system_nodes]
        on_cluster = pulumi.ResourceOptions(parent=self, provider=provider)
        nvidia_device_plugin(
            f"{name}-device-plugin",
            pool.placement,
            pulumi.ResourceOptions(parent=self, provider=provider, depends_on=on_nodes),
        )
        cache = EfsSharedCache(
            name,
            EfsSharedCacheArgs(
                cluster_name=control_plane.cluster_name,
                vpc_id=network.vpc_id,
                subnet_ids=network.private_subnet_ids,
                node_security_group_id=control_plane.cluster_security_group_id,
                oidc_provider_arn=control_plane.oidc_provider_arn,
                oidc_issuer=control_plane.oidc_issuer,
                key_arn=key.arn,
                tags=tags,
                depends_on=on_nodes,
            ),
            on_cluster,
        )
        EksClusterAutoscaler(
            name,
            EksClusterAutoscalerArgs(
                cluster_name=control_plane.cluster_name,
                region=args.region,
                kubernetes_version=args.control_plane.kubernetes_version,
                oidc_provider_arn=control_plane.oidc_provider_arn,
                oidc_issuer=control_plane.oidc_issuer,
                tags=tags,
                depends_on=on_nodes,
            ),
            on_cluster,
        )
        mirror = EcrMirror(
            name,
            EcrMirrorArgs(
                repository_name=args.cluster_name,
                engine_image=args.engine_image,
                region=args.region,
                key_arn=key.arn,
                credentials=args.mirror_credentials,
                pull_role_names=[control_plane.node_role_name],
                tags=tags,
            ),
            child,
        )
        self.identity = WorkloadIdentity()
        self.weights_uri = self.weights_account = None
        if args.workload is not None:
            bound = EksWorkloadIdentity(
                name,
                EksWorkloadIdentityArgs(
                    oidc_provider_arn=control_plane.oidc_provider_arn,
                    oidc_issuer=control_plane.oidc_issuer,
                    workload=args.workload,
                    tags=tags,
                ),
                child,
            )
            self.identity = bound.identity
            if args.weights_bucket:
                # The stack's own key, and the engine's role as the only reader.
                bucket = S3WeightsBucket(
                    name,
                    S3WeightsBucketArgs(
                        key_arn=key.arn,
                        region=args.region,
                        reader_role_arns={"engine": bound.role_arn},
                        tags=tags,
                    ),
                    child,
                )
                self.weights_uri = bucket.uri
        self.cluster = ClusterRef(
            name=args.cluster_name,
            provider=provider,
            kubeconfig=control_plane.kubeconfig,
            internal_lb_annotations=INTERNAL_LB_ANNOTATIONS,
            # EFS: one weights cache for every replica.
            shared_cache_class=cache.storage_class,
        )
        self.placement = pool.placement
        self.registry = mirror.registry
        self.kubeconfig = control_plane.kubeconfig
        self.cluster_name = control_plane.cluster_name
        self.endpoint = control_plane.endpoint
        self.oidc_issuer = control_plane.oidc_issuer
        self.oidc_provider_arn = control_plane.oidc_provider_arn
        self.node_role_arn = control_plane.node_role_arn
        self.key_arn = key.arn
        self.vpc_id = network.vpc_id
        self.private_subnet_ids = network.private_subnet_ids
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "keyArn": self.key_arn,
                "oidcIssuer": self.oidc_issuer,
                "registry": mirror.prefix,
            }
        )
