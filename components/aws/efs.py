"""A weights cache all EKS replicas share: EFS, under the stack's key, via the EFS CSI driver."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from .account import Account
from .eks import EksRef, addon
from .iam import irsa_role, managed_policy
from .network import NetworkRef, one_port_group

__all__ = ["ENGINE_GID", "NFS_PORT", "STORAGE_CLASS", "build_shared_cache", "node_security_group"]

# The StorageClass the engine's ReadWriteMany cache claim names.
STORAGE_CLASS = "llmplane-efs"
NFS_PORT = 2049
# Directories the driver creates per claim belong to the engine's uid (components/pod.py).
ENGINE_GID = "10001"


def node_security_group(eks: EksRef) -> pulumi.Output[str]:
    """The cluster security group, which EKS gives every managed node without its own groups."""
    return eks.cluster.vpc_config.cluster_security_group_id


def build_shared_cache(
    name: str,
    eks: EksRef,
    network: NetworkRef,
    key_arn: pulumi.Output[str],
    account: Account,
    depends_on: list[pulumi.Resource],
    tags: dict[str, str],
    parent: pulumi.Resource,
    k8s_opts: pulumi.ResourceOptions,
) -> k8s.storage.v1.StorageClass:
    """EFS with one mount target per private subnet, NFS open only to the nodes, and its class."""
    opts = pulumi.ResourceOptions(parent=parent)
    filesystem = aws.efs.FileSystem(
        f"{name}-cache",
        encrypted=True,
        kms_key_id=key_arn,
        # Elastic throughput: a model download is a burst that bursting credits would throttle.
        throughput_mode="elastic",
        tags={**tags, "Name": f"{name}-cache"},
        opts=opts,
    )
    group = one_port_group(
        f"{name}-cache-nfs",
        "NFS from the cluster's nodes to the weights cache",
        network.vpc_id,
        NFS_PORT,
        aws.ec2.SecurityGroupIngressArgs(
            description="NFS from EKS nodes", protocol="tcp", from_port=NFS_PORT,
            to_port=NFS_PORT, security_groups=[node_security_group(eks)],
        ),
        tags,
        opts,
    )  # fmt: skip
    for index, subnet in enumerate(network.private_subnet_ids):
        aws.efs.MountTarget(
            f"{name}-cache-{index}",
            file_system_id=filesystem.id,
            subnet_id=subnet,
            security_groups=[group.id],
            opts=opts,
        )
    role = irsa_role(f"{name}-efs-csi", eks, "kube-system", "efs-csi-controller-sa", tags, parent)
    aws.iam.RolePolicyAttachment(
        f"{name}-efs-csi",
        role=role.name,
        policy_arn=managed_policy(account, "service-role/AmazonEFSCSIDriverPolicy"),
        opts=opts,
    )
    driver = addon(name, eks.cluster, "aws-efs-csi-driver", depends_on, parent, role_arn=role.arn)
    return k8s.storage.v1.StorageClass(
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
        opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[driver])),
    )
