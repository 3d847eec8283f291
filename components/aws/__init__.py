"""The `aws` target: KMS, a VPC, EKS with GPU node groups that scale from zero, and ECR."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..cloud import (
    ClusterRef,
    KeyRef,
    Placement,
    RegistryRef,
    WorkloadIdentity,
)
from ..device_plugin import nvidia_device_plugin
from .account import Account
from .args import (
    GPU_VOLUME_GIB,
    AwsCloudArgs,
    AwsNetworkArgs,
    EksControlPlaneArgs,
)
from .autoscaler import build_autoscaler
from .ecr import build_registry
from .efs import STORAGE_CLASS as SHARED_CACHE_CLASS
from .efs import build_shared_cache
from .eks import (
    DEFAULT_VERSION,
    SUPPORTED_VERSIONS,
    EksRef,
    addon,
    build_control_plane,
)
from .iam import irsa_role, managed_policy
from .iam_documents import to_json, use_key_for_volumes
from .kms import build_key
from .network import NetworkRef, build_network
from .nodes import build_node_groups, node_role

__all__ = [
    "DEFAULT_VERSION",
    "GPU_VOLUME_GIB",
    "SUPPORTED_VERSIONS",
    "AwsCloud",
    "AwsCloudArgs",
    "AwsNetworkArgs",
    "EksControlPlaneArgs",
]


class AwsCloud:
    """Implements the Cloud protocol on AWS; one instance per stack run."""

    def __init__(self, args: AwsCloudArgs) -> None:
        """`args` holds every value the target reads; it never sees the stack's settings."""
        self._args = args
        self._region = args.region
        self._version = args.control_plane.kubernetes_version
        self._tags = dict(args.tags)
        self._cluster_name = args.cluster_name
        self._account: Account | None = None
        self._eks: EksRef | None = None
        self._node_role: aws.iam.Role | None = None
        self._node_role_attachments: list[aws.iam.RolePolicyAttachment] = []
        # Set by cluster(), which the protocol always calls before gpu_pool() and registry().
        self._network: NetworkRef | None = None
        self._key_arn: pulumi.Output[str] | None = None

    def _name(self, parent: pulumi.Resource) -> str:
        return parent.pulumi_resource_name

    def _account_for(self, parent: pulumi.Resource) -> Account:
        if self._account is None:
            self._account = Account.lookup(self._region, parent)
        return self._account

    def key(self, parent: pulumi.Resource) -> KeyRef | None:
        """The customer-managed key for EKS secrets, node volumes, ECR and control-plane logs."""
        account = self._account_for(parent)
        return build_key(self._name(parent), self._cluster_name, account, self._tags, parent)

    def cluster(self, parent: pulumi.Resource, key: KeyRef | None) -> ClusterRef:
        """The VPC and the EKS control plane, and a provider that deploys into it."""
        assert key is not None, "the AWS key step always returns a key"
        name, account = self._name(parent), self._account_for(parent)
        network = build_network(name, self._args.network, self._region, self._tags, parent)
        self._eks = build_control_plane(
            name,
            self._cluster_name,
            self._args.control_plane,
            network,
            key.id,
            account,
            self._tags,
            parent,
        )
        self._node_role, self._node_role_attachments = node_role(name, account, self._tags, parent)
        self._network = network
        self._key_arn = key.id
        provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self._eks.kubeconfig,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        return ClusterRef(
            name=self._cluster_name,
            provider=provider,
            kubeconfig=self._eks.kubeconfig,
            # The AWS cloud controller's NLB, in the private subnets only.
            internal_lb_annotations={
                "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
                "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
            },
            # EFS, built with the node groups below: one weights cache for every replica.
            shared_cache_class=SHARED_CACHE_CLASS,
        )

    def gpu_pool(self, parent: pulumi.Resource, cluster: ClusterRef) -> Placement:
        """Node groups, the add-ons that need nodes, the device plugin and the autoscaler."""
        eks, network, key_arn = self._eks, self._network, self._key_arn
        assert eks and network and key_arn and self._node_role, "cluster() runs first"
        name, account = self._name(parent), self._account_for(parent)
        system, _gpu, placement = build_node_groups(
            name,
            eks,
            network,
            self._node_role,
            self._node_role_attachments,
            key_arn,
            self._args.pool,
            self._args.spot_fallbacks,
            self._args.gpu_volume_gib,
            self._tags,
            parent,
        )
        addon(name, eks.cluster, "coredns", [system], parent)
        ebs_role = irsa_role(
            f"{name}-ebs-csi", eks, "kube-system", "ebs-csi-controller-sa", self._tags, parent
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-ebs-csi",
            role=ebs_role.name,
            policy_arn=managed_policy(account, "service-role/AmazonEBSCSIDriverPolicy"),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        aws.iam.RolePolicy(
            f"{name}-ebs-csi-key",
            role=ebs_role.id,
            policy=key_arn.apply(lambda arn: to_json(use_key_for_volumes(arn))),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        addon(name, eks.cluster, "aws-ebs-csi-driver", [system], parent, role_arn=ebs_role.arn)
        k8s_opts = pulumi.ResourceOptions(
            parent=parent, provider=cluster.provider, depends_on=[system]
        )
        nvidia_device_plugin(f"{name}-device-plugin", placement, k8s_opts)
        build_shared_cache(
            name, eks, network, key_arn, account, [system], self._tags, parent, k8s_opts
        )
        build_autoscaler(name, eks, account, self._version, self._tags, parent, k8s_opts)
        return placement

    def workload_identity(
        self, parent: pulumi.Resource, namespace: str, service_account: str
    ) -> WorkloadIdentity:
        """An IRSA role only the engine's ServiceAccount can assume, with no policy attached."""
        assert self._eks is not None, "cluster() runs first"
        role = irsa_role(
            f"{self._name(parent)}-engine",
            self._eks,
            namespace,
            service_account,
            self._tags,
            parent,
        )
        return WorkloadIdentity(annotations={"eks.amazonaws.com/role-arn": role.arn})

    def registry(self, parent: pulumi.Resource, key: KeyRef | None) -> RegistryRef | None:
        """ECR, and the pull-through cache the nodes pull the engine image through."""
        assert key is not None and self._node_role is not None, "key() and cluster() run first"
        return build_registry(
            self._name(parent),
            self._cluster_name,
            self._args.engine_image,
            key.id,
            self._account_for(parent),
            self._args.mirror_credentials,
            self._node_role,
            self._tags,
            parent,
        )
