"""A weights cache all EKS replicas share: EFS, under the stack's key, via the EFS CSI driver."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from .account import partition_of
from .eks import addon
from .iam import irsa_role, managed_policy
from .network import one_port_group

__all__ = ["ENGINE_GID", "NFS_PORT", "STORAGE_CLASS", "EfsSharedCache", "EfsSharedCacheArgs"]

# The StorageClass the engine's ReadWriteMany cache claim names.
STORAGE_CLASS = "llmplane-efs"
NFS_PORT = 2049
# Directories the driver creates per claim belong to the engine's uid (see kubernetes/pod.py).
ENGINE_GID = "10001"


@dataclass(frozen=True, kw_only=True)
class EfsSharedCacheArgs:
    """The cluster and network the shared weights cache serves."""

    cluster_name: pulumi.Input[str]
    """The EKS cluster the EFS CSI driver add-on is installed on."""
    vpc_id: pulumi.Input[str]
    """The VPC of the mount targets."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """The private subnets, one mount target each (one per zone)."""
    node_security_group_id: pulumi.Input[str]
    """The nodes' security group, the only source NFS is open to."""
    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider, which the driver's IRSA role trusts."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's OIDC issuer URL."""
    key_arn: pulumi.Input[str] | None = None
    """The KMS key that encrypts the file system; None: the account's default EFS key."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the file system, its security group and the driver's role."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the add-on and the StorageClass wait for: nodes to run the driver on."""

    def __post_init__(self) -> None:
        """Refuse a cache no node could reach."""
        if not self.subnet_ids:
            raise ValueError("subnet_ids is empty; name the private subnets of the nodes")


class EfsSharedCache(pulumi.ComponentResource):
    """EFS with one mount target per private subnet, NFS open only to the nodes, and its class."""

    storage_class: str
    """The ReadWriteMany StorageClass's name."""
    file_system_id: pulumi.Output[str]
    """The EFS file system's id."""

    def __init__(
        self, name: str, args: EfsSharedCacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """`<name>-cache`: file system, NFS group, mount targets, CSI driver and StorageClass.

        The StorageClass uses the `kubernetes` provider that `opts` gives.
        """
        super().__init__("llmplane:aws:SharedCache", name, None, opts)
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        filesystem = aws.efs.FileSystem(
            f"{name}-cache",
            encrypted=True,
            kms_key_id=args.key_arn,
            # Elastic throughput: a model download is a burst that bursting credits would throttle.
            throughput_mode="elastic",
            tags={**tags, "Name": f"{name}-cache"},
            opts=child,
        )
        group = one_port_group(
            f"{name}-cache-nfs",
            "NFS from the cluster's nodes to the weights cache",
            args.vpc_id,
            NFS_PORT,
            aws.ec2.SecurityGroupIngressArgs(
                description="NFS from EKS nodes", protocol="tcp", from_port=NFS_PORT,
                to_port=NFS_PORT, security_groups=[args.node_security_group_id],
            ),
            tags,
            child,
        )  # fmt: skip
        for index, subnet in enumerate(args.subnet_ids):
            aws.efs.MountTarget(
                f"{name}-cache-{index}",
                file_system_id=filesystem.id,
                subnet_id=subnet,
                security_groups=[group.id],
                opts=child,
            )
        role = irsa_role(
            f"{name}-efs-csi",
            args.oidc_provider_arn,
            args.oidc_issuer,
            "kube-system",
            "efs-csi-controller-sa",
            tags,
            self,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-efs-csi",
            role=role.name,
            policy_arn=managed_policy(partition_of(self), "service-role/AmazonEFSCSIDriverPolicy"),
            opts=child,
        )
        driver = addon(
            name, args.cluster_name, "aws-efs-csi-driver", args.depends_on, self, role_arn=role.arn
        )
        k8s.storage.v1.StorageClass(
            f"{name}-cache-class",
            metadata=ObjectMetaArgs(name=STORAGE_CLASS),
            provisioner="efs.csi.aws.com",
            # One access point per claim, owned by the engine's uid, with its own directory.
            parameters={
                "provisioningMode": "efs-ap",
                "fileSystemId": filesystem.id,
                "directoryPerms": "700",
                "uid": ENGINE_GID,
                "gid": ENGINE_GID,
                "basePath": "/llmplane",
            },
            reclaim_policy="Retain",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.depends_on, driver]),
        )
        self.storage_class = STORAGE_CLASS
        self.file_system_id = filesystem.id
        self.register_outputs(
            {"storageClass": self.storage_class, "fileSystemId": self.file_system_id}
        )
