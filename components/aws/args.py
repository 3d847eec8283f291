"""What EksGpuCluster takes: plain, typed values, so any program can build it without settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from ..cloud import GpuPoolSpec, require_cloud
from ..cluster import Workload
from ..shapes import Shape
from .eks import EksControlPlaneArgs
from .kms import require_region_and_name
from .network import AwsNetworkArgs
from .nodes import GPU_VOLUME_GIB

__all__ = ["GPU_VOLUME_GIB", "AwsNetworkArgs", "EksControlPlaneArgs", "EksGpuClusterArgs"]


@dataclass(frozen=True)
class EksGpuClusterArgs:
    """Everything EksGpuCluster builds from: region, names, tags, cluster, network, pool, mirror."""

    region: str
    """The AWS region every resource goes in, e.g. us-east-1."""
    cluster_name: str
    """The EKS cluster's name (a DNS label); it also names the key alias, log group and ECR repo."""
    pool: GpuPoolSpec
    """The GPU node group: its instance shape (cloud aws), spot or on-demand, and its size range."""
    engine_image: str
    """The public engine image whose registry the ECR pull-through cache mirrors."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every taggable resource (policies expect project, stack and managed-by)."""
    control_plane: EksControlPlaneArgs = field(default_factory=EksControlPlaneArgs)
    """The EKS control plane's choices: Kubernetes version, endpoint exposure, admins."""
    network: AwsNetworkArgs = field(default_factory=AwsNetworkArgs)
    """The VPC: a new one, or an existing one with its subnets."""
    spot_fallbacks: Sequence[Shape] = ()
    """More instance types for the GPU group, with the same GPUs, tried when the first is short."""
    mirror_credentials: tuple[str, pulumi.Output[str]] | None = None
    """User name and secret token on the engine image's registry; None: no pull-through cache."""
    gpu_volume_gib: int = GPU_VOLUME_GIB
    """Root volume of a GPU node: node image, engine image and a model cache."""
    workload: Workload | None = None
    """The ServiceAccount to bind an IRSA role (with no permissions) to; None: no identity."""
    weights_bucket: bool = False
    """Create an S3 bucket of weights, KMS-encrypted, that only the workload's role may read."""

    def __post_init__(self) -> None:
        """Refuse values AWS would reject later, with a message that names the field."""
        require_region_and_name(self.region, self.cluster_name)
        for shape in (self.pool.shape, *self.spot_fallbacks):
            require_cloud(shape, "aws", "EksGpuCluster")
        if self.weights_bucket and self.workload is None:
            raise ValueError(
                "weights_bucket needs workload: only its IRSA role may read the bucket"
            )
        if self.gpu_volume_gib <= 0:
            raise ValueError(f"gpu_volume_gib is {self.gpu_volume_gib}; it must be positive")
        # The composite wires these from its own fields and children; a second value would lose.
        for name, value in self.control_plane.wiring.items():
            if value is not None:
                raise ValueError(
                    f"control_plane.{name} is set; EksGpuCluster sets it from its own args"
                )
        if self.network.region not in (None, self.region):
            raise ValueError(
                f"network.region is {self.network.region!r}, not the cluster's {self.region!r};"
                " leave it None"
            )
