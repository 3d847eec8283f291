"""EKS managed node groups: a small CPU system group and a GPU group that can scale from zero."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..cloud import GPU_TAINT, POOL_LABEL, GpuPoolSpec, Placement
from ..shapes import Shape
from .account import Account
from .eks import EksRef
from .iam import service_role
from .network import NetworkRef

__all__ = ["NODE_POLICIES", "SYSTEM_INSTANCE", "build_node_groups", "node_role"]

SYSTEM_INSTANCE = "m6i.large"
NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    # Pull-only ECR access (2024): no push, no repository administration.
    "AmazonEC2ContainerRegistryPullOnly",
)
_AUTOSCALER_TAG = "k8s.io/cluster-autoscaler/node-template"


def node_role(
    name: str, account: Account, tags: dict[str, str], parent: pulumi.Resource
) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    """The role every node runs as: join the cluster, run the CNI, pull images; nothing more."""
    return service_role(f"{name}-node", "ec2.amazonaws.com", NODE_POLICIES, account, tags, parent)


@dataclass(frozen=True)
class _Where:
    """What every node group of the cluster shares."""

    name: str
    eks: EksRef
    subnet_ids: list[pulumi.Output[str]]
    role: aws.iam.Role
    needs: list[pulumi.Resource]
    key_arn: pulumi.Output[str]
    tags: dict[str, str]
    parent: pulumi.Resource


def _node_group(
    where: _Where,
    pool: str,
    *,
    ami_type: str,
    capacity_type: str,
    instance_types: list[str],
    sizes: tuple[int, int, int],
    volume_gib: int,
    labels: dict[str, str],
    taints: list[aws.eks.NodeGroupTaintArgs] | None = None,
) -> aws.eks.NodeGroup:
    """One managed node group in the private subnets, through its own launch template."""
    name = f"{where.name}-{pool}"
    template = _launch_template(name, where.key_arn, volume_gib, where.tags, where.parent)
    low, desired, high = sizes
    return aws.eks.NodeGroup(
        name,
        cluster_name=where.eks.name,
        node_role_arn=where.role.arn,
        subnet_ids=where.subnet_ids,
        ami_type=ami_type,
        capacity_type=capacity_type,
        instance_types=instance_types,
        scaling_config=aws.eks.NodeGroupScalingConfigArgs(
            min_size=low, desired_size=desired, max_size=high
        ),
        update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
        launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
            id=template.id, version=template.latest_version.apply(str)
        ),
        labels=labels,
        taints=taints,
        tags=where.tags,
        # The cluster autoscaler owns the desired size once the group exists.
        opts=pulumi.ResourceOptions(
            parent=where.parent,
            depends_on=where.needs,
            ignore_changes=["scalingConfig.desiredSize"],
        ),
    )


def _launch_template(
    name: str,
    key_arn: pulumi.Output[str],
    volume_gib: int,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.ec2.LaunchTemplate:
    """IMDSv2 with hop limit 1 (pods cannot reach node credentials), an encrypted gp3 root."""
    return aws.ec2.LaunchTemplate(
        name,
        metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
            http_endpoint="enabled",
            http_tokens="required",
            http_put_response_hop_limit=1,
        ),
        block_device_mappings=[
            aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda",
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=volume_gib,
                    volume_type="gp3",
                    encrypted="true",
                    kms_key_id=key_arn,
                    delete_on_termination="true",
                ),
            )
        ],
        tag_specifications=[
            aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=tags)
            for kind in ("instance", "volume")
        ],
        update_default_version=True,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def build_node_groups(
    name: str,
    eks: EksRef,
    network: NetworkRef,
    role: aws.iam.Role,
    role_attachments: Sequence[pulumi.Resource],
    key_arn: pulumi.Output[str],
    pool: GpuPoolSpec,
    fallbacks: Sequence[Shape],
    volume_gib: int,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> tuple[aws.eks.NodeGroup, aws.eks.NodeGroup, Placement]:
    """System and GPU node groups, the autoscaler's scale-from-zero tags, and the Placement."""
    where = _Where(
        name=name,
        eks=eks,
        subnet_ids=network.private_subnet_ids,
        role=role,
        needs=[*role_attachments, *eks.early_addons],
        key_arn=key_arn,
        tags=tags,
        parent=parent,
    )
    system = _node_group(
        where,
        "system",
        ami_type="AL2023_x86_64_STANDARD",
        capacity_type="ON_DEMAND",
        instance_types=[SYSTEM_INSTANCE],
        sizes=(2, 2, 3),
        volume_gib=50,
        labels={POOL_LABEL: "system"},
    )
    gpu_labels = {POOL_LABEL: "gpu", "k8s.amazonaws.com/accelerator": pool.shape.gpu.lower()}
    gpu = _node_group(
        where,
        "gpu",
        ami_type="AL2023_x86_64_NVIDIA",
        capacity_type="SPOT" if pool.spot else "ON_DEMAND",
        instance_types=[pool.shape.name, *(s.name for s in fallbacks)],
        sizes=(pool.min_nodes, pool.min_nodes, pool.max_nodes),
        volume_gib=volume_gib,
        labels=gpu_labels,
        taints=[
            aws.eks.NodeGroupTaintArgs(
                key=GPU_TAINT.key, value=GPU_TAINT.value, effect="NO_SCHEDULE"
            )
        ],
    )
    _scale_from_zero_tags(name, gpu, gpu_labels, pool.shape, parent)
    placement = Placement(
        node_selector={POOL_LABEL: "gpu"},
        tolerations=(GPU_TAINT,),
        gpu_resource="nvidia.com/gpu",
    )
    return system, gpu, placement


def _scale_from_zero_tags(
    name: str,
    group: aws.eks.NodeGroup,
    labels: dict[str, str],
    shape: Shape,
    parent: pulumi.Resource,
) -> None:
    """Tell the cluster autoscaler what an empty GPU group's nodes would look like.

    EKS does not copy node-group labels and taints to the Auto Scaling group, and the
    autoscaler's DescribeNodegroup fallback does not work on private clusters, so the
    node-template tags are set on the group's ASG directly.
    """
    # The Auto Scaling group EKS created for the managed node group.
    asg_name = group.resources[0].autoscaling_groups[0].name
    template = {
        **{f"{_AUTOSCALER_TAG}/label/{k}": v for k, v in sorted(labels.items())},
        f"{_AUTOSCALER_TAG}/taint/{GPU_TAINT.key}": f"{GPU_TAINT.value}:{GPU_TAINT.effect}",
        f"{_AUTOSCALER_TAG}/resources/nvidia.com/gpu": str(shape.gpu_count),
    }
    for index, (key, value) in enumerate(template.items()):
        aws.autoscaling.Tag(
            f"{name}-gpu-template-{index}",
            autoscaling_group_name=asg_name,
            tag=aws.autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=False),
            opts=pulumi.ResourceOptions(parent=parent),
        )
