"""The EKS control plane from raw pulumi_aws resources: encrypted, logged, private, with IRSA."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from ..cloud import POOL_LABEL, require_version
from ..kubeconfig import exec_kubeconfig
from ..naming import dns_label
from .account import partition_of
from .iam import irsa_role, managed_policy, service_role
from .iam_documents import to_json, use_key_for_volumes
from .kms import control_plane_log_group
from .nodes import SYSTEM_INSTANCE, NodeGroupSpec, node_group, node_role

__all__ = [
    "ADMIN_POLICY",
    "DEFAULT_VERSION",
    "LOG_TYPES",
    "SUPPORTED_VERSIONS",
    "EksControlPlane",
    "EksControlPlaneArgs",
    "addon",
    "kubeconfig",
]

# Minor versions in EKS standard support on 2026-11-28: 1.34 until 2026-12-02 (so not offered for
# new clusters), 1.35 until 2027-03-27, 1.36 until 2027-08-02 (AWS EKS Kubernetes version calendar).
SUPPORTED_VERSIONS = ("1.35", "1.36")
DEFAULT_VERSION = "1.35"
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


@dataclass(frozen=True, kw_only=True)
class EksControlPlaneArgs:
    """The EKS control plane's choices (version, API exposure, admins) and its wiring."""

    # The first five fields are choices; the rest wire the cluster to its name, network and key.
    # EksGpuCluster fills those in from its own args and children; alone, set them all.

    kubernetes_version: str = DEFAULT_VERSION
    """Kubernetes minor version, one of SUPPORTED_VERSIONS."""
    private_endpoint: bool = True
    """True: the API server is reachable only from inside the VPC."""
    authorized_cidrs: Sequence[str] = ()
    """Networks allowed to reach a public API endpoint; required when `private_endpoint` is off."""
    allow_open_endpoint: bool = False
    """Accept 0.0.0.0/0 in `authorized_cidrs` (insecure: the API is open to the internet)."""
    admin_arns: Sequence[str] = ()
    """IAM role or user ARNs granted cluster admin through access entries."""
    cluster_name: str | None = None
    """The EKS cluster's name (a DNS label); it also names the control-plane log group."""
    region: str | None = None
    """The AWS region the cluster is in, which the kubeconfig's `aws eks get-token` names."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None
    """Private subnets, in two or more zones, for the API's interfaces and the system nodes."""
    key_arn: pulumi.Input[str] | None = None
    """The KMS key that encrypts Kubernetes secrets, the log group and the system nodes' disks."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every taggable resource of the control plane."""

    def __post_init__(self) -> None:
        """Refuse an unsupported version or an API endpoint open to anyone not asked for."""
        require_version(self.kubernetes_version, SUPPORTED_VERSIONS, "EKS")
        if self.cluster_name is not None and dns_label(self.cluster_name) != self.cluster_name:
            raise ValueError(
                f"cluster_name {self.cluster_name!r} is not a DNS label"
                " (lowercase letters, digits and '-', at most 63 characters)"
            )
        if self.region is not None and not self.region:
            raise ValueError("region is empty; name the AWS region, e.g. us-east-1")
        if isinstance(self.subnet_ids, (list, tuple)) and len(self.subnet_ids) < 2:
            raise ValueError("subnet_ids needs at least two private subnets, in different zones")
        if self.private_endpoint:
            return
        if not self.authorized_cidrs:
            raise ValueError(
                "a public API endpoint needs authorized_cidrs; without them anyone could reach it"
            )
        open_cidrs = [c for c in self.authorized_cidrs if ipaddress.ip_network(c).prefixlen == 0]
        if open_cidrs and not self.allow_open_endpoint:
            raise ValueError(
                f"authorized_cidrs holds {open_cidrs[0]}, which opens the API to the internet;"
                " set allow_open_endpoint to accept that"
            )

    @property
    def wiring(self) -> dict[str, object]:
        """The fields that place the cluster, by name; the ones EksGpuCluster sets itself."""
        return {
            "cluster_name": self.cluster_name,
            "region": self.region,
            "subnet_ids": self.subnet_ids,
            "key_arn": self.key_arn,
        }


class EksControlPlane(pulumi.ComponentResource):
    """An EKS cluster ready for workloads: encrypted, logged, with IRSA and system nodes."""

    cluster: aws.eks.Cluster
    """The EKS cluster resource."""
    cluster_name: pulumi.Output[str]
    """The cluster's name, known once EKS has it."""
    endpoint: pulumi.Output[str]
    """The API server's URL."""
    cluster_security_group_id: pulumi.Output[str]
    """The cluster security group, which EKS gives every managed node without its own groups."""
    oidc_provider_arn: pulumi.Output[str]
    """The IAM OIDC provider IRSA roles trust."""
    oidc_issuer: pulumi.Output[str]
    """The cluster's OIDC issuer URL, which IRSA trust conditions name."""
    kubeconfig: pulumi.Output[str]
    """A kubeconfig that authenticates with `aws eks get-token`, as a secret."""
    node_role_arn: pulumi.Output[str]
    """The role every node group of the cluster runs as."""
    node_role_name: pulumi.Output[str]
    """The node role's name, for policies attached to it (the pull-through cache's)."""
    node_dependencies: list[pulumi.Resource]
    """What another node group must wait for: the node role's policies, the networking add-ons."""
    system_nodes: aws.eks.NodeGroup
    """The system node group, which Kubernetes objects that need a running node wait for."""

    def __init__(
        self, name: str, args: EksControlPlaneArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """`<name>-eks` and what must exist before anything else can run on it.

        That is: its role and encrypted log group, the OIDC provider, the networking add-ons,
        the node role, the system node group, CoreDNS and the EBS CSI driver with its IRSA role.
        """
        missing = [wire for wire, value in args.wiring.items() if value is None]
        if missing:
            raise ValueError(f"{missing[0]} is not set; EksControlPlane needs it")
        super().__init__("llmplane:aws:ControlPlane", name, None, opts)
        assert args.cluster_name is not None and args.region is not None
        assert args.subnet_ids is not None and args.key_arn is not None
        tags = dict(args.tags)
        opts_ = pulumi.ResourceOptions(parent=self)
        partition = partition_of(self)
        role, attachments = service_role(
            f"{name}-cluster",
            "eks.amazonaws.com",
            ["AmazonEKSClusterPolicy"],
            partition,
            tags,
            self,
        )
        # Created first, encrypted and with retention, so EKS does not create a plain one itself.
        logs = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=control_plane_log_group(args.cluster_name),
            retention_in_days=90,
            kms_key_id=args.key_arn,
            tags=tags,
            opts=opts_,
        )
        public = not args.private_endpoint
        cluster = aws.eks.Cluster(
            f"{name}-eks",
            name=args.cluster_name,
            role_arn=role.arn,
            version=args.kubernetes_version,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=args.subnet_ids,
                endpoint_private_access=True,
                endpoint_public_access=public,
                public_access_cidrs=list(args.authorized_cidrs) if public else None,
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=True,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                resources=["secrets"],
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=args.key_arn),
            ),
            enabled_cluster_log_types=list(LOG_TYPES),
            # The networking add-ons below are EKS-managed, so EKS installs no unmanaged copies.
            bootstrap_self_managed_addons=False,
            # Never slide silently into paid extended support when a version ages out.
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*attachments, logs]),
        )
        # The cluster's OIDC issuer URL, which IRSA trust policies are scoped to.
        issuer = cluster.identities[0].oidcs[0].issuer
        oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=issuer,
            client_id_lists=["sts.amazonaws.com"],
            tags=tags,
            opts=opts_,
        )
        for index, principal in enumerate(args.admin_arns):
            entry = aws.eks.AccessEntry(
                f"{name}-admin-{index}",
                cluster_name=cluster.name,
                principal_arn=principal,
                type="STANDARD",
                opts=opts_,
            )
            aws.eks.AccessPolicyAssociation(
                f"{name}-admin-{index}",
                cluster_name=cluster.name,
                principal_arn=entry.principal_arn,
                policy_arn=ADMIN_POLICY,
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=opts_,
            )
        # Nodes cannot become Ready without the pod network, so these come before any node group.
        early = [addon(name, cluster.name, a, [], self) for a in ("vpc-cni", "kube-proxy")]
        node, node_attachments = node_role(name, partition, tags, self)
        self.node_dependencies = [*node_attachments, *early]
        self.system_nodes = node_group(
            f"{name}-system",
            NodeGroupSpec(
                cluster_name=cluster.name,
                subnet_ids=args.subnet_ids,
                node_role_arn=node.arn,
                key_arn=args.key_arn,
                ami_type="AL2023_x86_64_STANDARD",
                capacity_type="ON_DEMAND",
                instance_types=[SYSTEM_INSTANCE],
                sizes=(2, 2, 3),
                volume_gib=50,
                labels={POOL_LABEL: "system"},
                tags=tags,
                depends_on=self.node_dependencies,
            ),
            self,
        )
        system = [self.system_nodes]
        addon(name, cluster.name, "coredns", system, self)
        self._ebs_csi(name, cluster, issuer, oidc.arn, args.key_arn, partition, tags)

        region = args.region
        self.cluster = cluster
        self.cluster_name = cluster.name
        self.endpoint = cluster.endpoint
        self.cluster_security_group_id = cluster.vpc_config.cluster_security_group_id
        self.oidc_provider_arn = oidc.arn
        self.oidc_issuer = issuer
        self.node_role_arn = node.arn
        self.node_role_name = node.name
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                cluster.name, cluster.endpoint, cluster.certificate_authority.data
            ).apply(lambda values: kubeconfig(values[0], values[1], values[2], region))
        )
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "endpoint": self.endpoint,
                "oidcIssuer": self.oidc_issuer,
                "oidcProviderArn": self.oidc_provider_arn,
                "nodeRoleArn": self.node_role_arn,
                "kubeconfig": self.kubeconfig,
            }
        )

    def _ebs_csi(
        self,
        name: str,
        cluster: aws.eks.Cluster,
        issuer: pulumi.Output[str],
        oidc_provider_arn: pulumi.Output[str],
        key_arn: pulumi.Input[str],
        partition: pulumi.Output[str],
        tags: Mapping[str, str],
    ) -> None:
        """The EBS CSI driver add-on, with an IRSA role that may use the key for volumes."""
        opts = pulumi.ResourceOptions(parent=self)
        role = irsa_role(
            f"{name}-ebs-csi",
            oidc_provider_arn,
            issuer,
            "kube-system",
            "ebs-csi-controller-sa",
            tags,
            self,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-ebs-csi",
            role=role.name,
            policy_arn=managed_policy(partition, "service-role/AmazonEBSCSIDriverPolicy"),
            opts=opts,
        )
        aws.iam.RolePolicy(
            f"{name}-ebs-csi-key",
            role=role.id,
            policy=pulumi.Output.from_input(key_arn).apply(
                lambda arn: to_json(use_key_for_volumes(arn))
            ),
            opts=opts,
        )
        addon(
            name,
            cluster.name,
            "aws-ebs-csi-driver",
            [self.system_nodes],
            self,
            role_arn=role.arn,
        )


def addon(
    name: str,
    cluster_name: pulumi.Input[str],
    addon_name: str,
    depends_on: Sequence[pulumi.Resource],
    parent: pulumi.Resource,
    role_arn: pulumi.Input[str] | None = None,
) -> aws.eks.Addon:
    """An EKS-managed add-on `<name>-<add-on>` at the cluster version's default release."""
    return aws.eks.Addon(
        f"{name}-{addon_name}",
        cluster_name=cluster_name,
        addon_name=addon_name,
        service_account_role_arn=role_arn,
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )


def kubeconfig(cluster: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig that authenticates with `aws eks get-token`: no long-lived credential in it."""
    token = ["eks", "get-token", "--cluster-name", cluster, "--region", region]
    return exec_kubeconfig(cluster, endpoint, ca_data, {"command": "aws", "args": token})
