"""EKS managed node groups: node role, launch templates, and a GPU pool for any EKS cluster."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from ..cloud import GPU_TAINT, POOL_LABEL, GpuPoolSpec, Placement, require_cloud
from ..shapes import Shape
from .iam import service_role

__all__ = [
    "GPU_VOLUME_GIB",
    "NODE_POLICIES",
    "SYSTEM_INSTANCE",
    "EksGpuNodePool",
    "EksGpuNodePoolArgs",
    "NodeGroupSpec",
    "node_group",
    "node_role",
]

SYSTEM_INSTANCE = "m6i.large"
NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    # Pull-only ECR access (2024): no push, no repository administration.
    "AmazonEC2ContainerRegistryPullOnly",
)
# Room for the node image, the container images (an engine image is about 10 GB) and a model
# cache; the sizing engine will derive this from the model.
GPU_VOLUME_GIB = 200
_AUTOSCALER_TAG = "k8s.io/cluster-autoscaler/node-template"


def node_role(
    name: str, partition: pulumi.Input[str], tags: Mapping[str, str], parent: pulumi.Resource
) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    """The role every node runs as: join the cluster, run the CNI, pull images; nothing more."""
    return service_role(f"{name}-node", "ec2.amazonaws.com", NODE_POLICIES, partition, tags, parent)


@dataclass(frozen=True, kw_only=True)
class NodeGroupSpec:
    """One managed node group: where it joins, what it runs on, and how it is labelled."""

    cluster_name: pulumi.Input[str]
    """The EKS cluster the group joins."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """The (private) subnets its nodes run in."""
    node_role_arn: pulumi.Input[str]
    """The IAM role its nodes run as."""
    key_arn: pulumi.Input[str] | None
    """The KMS key of the root volumes; None: the account's default EBS key."""
    ami_type: str
    """The EKS-optimized AMI family."""
    capacity_type: str
    """ON_DEMAND or SPOT."""
    instance_types: list[str]
    """The instance types, first preferred."""
    sizes: tuple[int, int, int]
    """Minimum, initial desired and maximum node count."""
    volume_gib: int
    """The root volume's size."""
    labels: dict[str, str]
    """Kubernetes labels on its nodes."""
    taints: list[aws.eks.NodeGroupTaintArgs] | None = None
    """Kubernetes taints on its nodes."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the group, its template, and the instances and volumes it launches."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist before nodes can join: the role's policies, the networking add-ons."""


def node_group(name: str, spec: NodeGroupSpec, parent: pulumi.Resource) -> aws.eks.NodeGroup:
    """One managed node group `name`, through its own launch template of the same name."""
    template = _launch_template(name, spec.key_arn, spec.volume_gib, spec.tags, parent)
    low, desired, high = spec.sizes
    return aws.eks.NodeGroup(
        name,
        cluster_name=spec.cluster_name,
        node_role_arn=spec.node_role_arn,
        subnet_ids=spec.subnet_ids,
        ami_type=spec.ami_type,
        capacity_type=spec.capacity_type,
        instance_types=spec.instance_types,
        scaling_config=aws.eks.NodeGroupScalingConfigArgs(
            min_size=low, desired_size=desired, max_size=high
        ),
        update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
        launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
            id=template.id, version=template.latest_version.apply(str)
        ),
        labels=spec.labels,
        taints=spec.taints,
        tags=dict(spec.tags),
        # The cluster autoscaler owns the desired size once the group exists.
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=list(spec.depends_on),
            ignore_changes=["scalingConfig.desiredSize"],
        ),
    )


def _launch_template(
    name: str,
    key_arn: pulumi.Input[str] | None,
    volume_gib: int,
    tags: Mapping[str, str],
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
            aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=dict(tags))
            for kind in ("instance", "volume")
        ],
        update_default_version=True,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )


@dataclass(frozen=True, kw_only=True)
class EksGpuNodePoolArgs:
    """A GPU node group for any EKS cluster: the cluster, subnets and node role given as values."""

    cluster_name: pulumi.Input[str]
    """The name of the EKS cluster the group joins (one llmplane made or not)."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """The private subnets the GPU nodes run in, ideally one per zone."""
    node_role_arn: pulumi.Input[str]
    """The IAM role the nodes run as (worker, CNI and ECR pull policies attached)."""
    pool: GpuPoolSpec
    """The GPU instance shape (cloud aws), spot or on-demand, and the size range."""
    key_arn: pulumi.Input[str] | None = None
    """The KMS key that encrypts the nodes' root volumes; None: the account's default EBS key."""
    spot_fallbacks: Sequence[Shape] = ()
    """More instance types with the same GPUs, tried when the first is short."""
    volume_gib: int = GPU_VOLUME_GIB
    """Root volume of a GPU node: node image, engine image and a model cache."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the group, its launch template, and the instances and volumes it launches."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist before nodes can join: the role's policy attachments, the CNI add-ons."""

    def __post_init__(self) -> None:
        """Refuse shapes of another cloud, a size range EKS rejects, or no subnets."""
        for shape in (self.pool.shape, *self.spot_fallbacks):
            require_cloud(shape, "aws", "EksGpuNodePool")
        if self.volume_gib <= 0:
            raise ValueError(f"volume_gib is {self.volume_gib}; it must be positive")
        if isinstance(self.subnet_ids, (list, tuple)) and not self.subnet_ids:
            raise ValueError("subnet_ids is empty; name the subnets the GPU nodes run in")
        if not 0 <= self.pool.min_nodes <= self.pool.max_nodes or self.pool.max_nodes < 1:
            raise ValueError(
                f"pool sizes {self.pool.min_nodes}..{self.pool.max_nodes} are not a range EKS"
                " takes: 0 <= min_nodes <= max_nodes, max_nodes >= 1"
            )


class EksGpuNodePool(pulumi.ComponentResource):
    """A tainted GPU managed node group that the cluster autoscaler can grow from zero."""

    placement: Placement
    """Where GPU pods go: the pool's label, its taint, nvidia.com/gpu."""
    node_group_name: pulumi.Output[str]
    """The node group's name in EKS."""
    autoscaling_group_name: pulumi.Output[str]
    """The Auto Scaling group EKS made for the group, which carries the scale-from-zero tags."""

    def __init__(
        self, name: str, args: EksGpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """The group `<name>-gpu`, its launch template, and its node-template tags."""
        super().__init__("llmplane:aws:GpuNodePool", name, None, opts)
        pool = args.pool
        labels = {POOL_LABEL: "gpu", "k8s.amazonaws.com/accelerator": pool.shape.gpu.lower()}
        group = node_group(
            f"{name}-gpu",
            NodeGroupSpec(
                cluster_name=args.cluster_name,
                subnet_ids=args.subnet_ids,
                node_role_arn=args.node_role_arn,
                key_arn=args.key_arn,
                ami_type="AL2023_x86_64_NVIDIA",
                capacity_type="SPOT" if pool.spot else "ON_DEMAND",
                instance_types=[pool.shape.name, *(s.name for s in args.spot_fallbacks)],
                sizes=(pool.min_nodes, pool.min_nodes, pool.max_nodes),
                volume_gib=args.volume_gib,
                labels=labels,
                taints=[
                    aws.eks.NodeGroupTaintArgs(
                        key=GPU_TAINT.key, value=GPU_TAINT.value, effect="NO_SCHEDULE"
                    )
                ],
                tags=args.tags,
                depends_on=args.depends_on,
            ),
            self,
        )
        # The Auto Scaling group EKS created for the managed node group.
        self.autoscaling_group_name = group.resources[0].autoscaling_groups[0].name
        self._scale_from_zero_tags(name, labels, pool.shape)
        self.node_group_name = group.node_group_name
        self.placement = Placement(
            node_selector={POOL_LABEL: "gpu"},
            tolerations=(GPU_TAINT,),
            gpu_resource="nvidia.com/gpu",
        )
        self.register_outputs(
            {
                "nodeGroupName": self.node_group_name,
                "autoscalingGroupName": self.autoscaling_group_name,
            }
        )

    def _scale_from_zero_tags(self, name: str, labels: dict[str, str], shape: Shape) -> None:
        """Tell the cluster autoscaler what an empty GPU group's nodes would look like.

        EKS does not copy node-group labels and taints to the Auto Scaling group, and the
        autoscaler's DescribeNodegroup fallback does not work on private clusters, so the
        node-template tags are set on the group's ASG directly.
        """
        template = {
            **{f"{_AUTOSCALER_TAG}/label/{k}": v for k, v in sorted(labels.items())},
            f"{_AUTOSCALER_TAG}/taint/{GPU_TAINT.key}": f"{GPU_TAINT.value}:{GPU_TAINT.effect}",
            f"{_AUTOSCALER_TAG}/resources/nvidia.com/gpu": str(shape.gpu_count),
        }
        for index, (key, value) in enumerate(template.items()):
            aws.autoscaling.Tag(
                f"{name}-gpu-template-{index}",
                autoscaling_group_name=self.autoscaling_group_name,
                tag=aws.autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=False),
                opts=pulumi.ResourceOptions(parent=self),
            )
