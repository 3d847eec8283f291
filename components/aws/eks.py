"""The EKS control plane from raw pulumi_aws resources: encrypted, logged, private, with IRSA."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..cloud import require_version
from ..kubeconfig import exec_kubeconfig
from .account import Account
from .iam import service_role
from .kms import control_plane_log_group
from .network import NetworkRef

__all__ = [
    "ADMIN_POLICY",
    "DEFAULT_VERSION",
    "LOG_TYPES",
    "SUPPORTED_VERSIONS",
    "EksControlPlaneArgs",
    "EksRef",
    "addon",
    "build_control_plane",
    "kubeconfig",
]

# Minor versions in EKS standard support on 2026-11-28: 1.34 until 2026-12-02 (so not offered for
# new clusters), 1.35 until 2027-03-27, 1.36 until 2027-08-02 (AWS EKS Kubernetes version calendar).
SUPPORTED_VERSIONS = ("1.35", "1.36")
DEFAULT_VERSION = "1.35"
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


@dataclass(frozen=True)
class EksControlPlaneArgs:
    """The EKS control plane's version, API endpoint exposure and cluster admins."""

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

    def __post_init__(self) -> None:
        """Refuse an unsupported version or an API endpoint open to anyone not asked for."""
        require_version(self.kubernetes_version, SUPPORTED_VERSIONS, "EKS")
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


@dataclass(frozen=True)
class EksRef:
    """The control plane and what workloads and node groups need from it."""

    cluster: aws.eks.Cluster
    """The EKS cluster resource."""
    name: pulumi.Output[str]
    """The cluster's name, known once EKS has it."""
    oidc_provider_arn: pulumi.Output[str]
    """The IAM OIDC provider IRSA roles trust."""
    oidc_issuer: pulumi.Output[str]
    """The cluster's OIDC issuer URL, which IRSA trust conditions name."""
    kubeconfig: pulumi.Output[str]
    """A kubeconfig that authenticates with `aws eks get-token`, as a secret."""
    early_addons: list[aws.eks.Addon]
    """The networking add-ons every node group waits for."""


def build_control_plane(
    name: str,
    cluster_name: str,
    args: EksControlPlaneArgs,
    network: NetworkRef,
    key_arn: pulumi.Output[str],
    account: Account,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> EksRef:
    """Cluster role, encrypted log group, cluster, OIDC provider, admins and networking add-ons."""
    opts = pulumi.ResourceOptions(parent=parent)
    role, attachments = service_role(
        f"{name}-cluster", "eks.amazonaws.com", ["AmazonEKSClusterPolicy"], account, tags, parent
    )
    # Created first, encrypted and with retention, so EKS does not create a plain one itself.
    logs = aws.cloudwatch.LogGroup(
        f"{name}-control-plane-logs",
        name=control_plane_log_group(cluster_name),
        retention_in_days=90,
        kms_key_id=key_arn,
        tags=tags,
        opts=opts,
    )
    public = not args.private_endpoint
    cluster = aws.eks.Cluster(
        f"{name}-eks",
        name=cluster_name,
        role_arn=role.arn,
        version=args.kubernetes_version,
        vpc_config=aws.eks.ClusterVpcConfigArgs(
            subnet_ids=network.private_subnet_ids,
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
            provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key_arn),
        ),
        enabled_cluster_log_types=list(LOG_TYPES),
        # The networking add-ons below are EKS-managed, so EKS installs no unmanaged copies.
        bootstrap_self_managed_addons=False,
        # Never slide silently into paid extended support when a version ages out.
        upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*attachments, logs]),
    )
    # The cluster's OIDC issuer URL, which IRSA trust policies are scoped to.
    issuer = cluster.identities[0].oidcs[0].issuer
    oidc = aws.iam.OpenIdConnectProvider(
        f"{name}-oidc",
        url=issuer,
        client_id_lists=["sts.amazonaws.com"],
        tags=tags,
        opts=opts,
    )
    for index, principal in enumerate(args.admin_arns):
        entry = aws.eks.AccessEntry(
            f"{name}-admin-{index}",
            cluster_name=cluster.name,
            principal_arn=principal,
            type="STANDARD",
            opts=opts,
        )
        aws.eks.AccessPolicyAssociation(
            f"{name}-admin-{index}",
            cluster_name=cluster.name,
            principal_arn=entry.principal_arn,
            policy_arn=ADMIN_POLICY,
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            opts=opts,
        )
    # Nodes cannot become Ready without the pod network, so these come before any node group.
    early = [addon(name, cluster, a, [], parent) for a in ("vpc-cni", "kube-proxy")]
    return EksRef(
        cluster=cluster,
        name=cluster.name,
        oidc_provider_arn=oidc.arn,
        oidc_issuer=issuer,
        kubeconfig=pulumi.Output.secret(
            pulumi.Output.all(
                cluster.name, cluster.endpoint, cluster.certificate_authority.data
            ).apply(lambda values: kubeconfig(values[0], values[1], values[2], account.region))
        ),
        early_addons=early,
    )


def addon(
    name: str,
    cluster: aws.eks.Cluster,
    addon_name: str,
    depends_on: Sequence[pulumi.Resource],
    parent: pulumi.Resource,
    role_arn: pulumi.Output[str] | None = None,
) -> aws.eks.Addon:
    """An EKS-managed add-on at the cluster version's default release."""
    return aws.eks.Addon(
        f"{name}-{addon_name}",
        cluster_name=cluster.name,
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
