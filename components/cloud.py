"""The cloud-neutral handles cluster components hand to workloads: placement, cluster, registry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi

if TYPE_CHECKING:
    import pulumi_kubernetes as k8s

    from .shapes import Shape

__all__ = [
    "GPU_TAINT",
    "POOL_LABEL",
    "ClusterRef",
    "GpuPoolSpec",
    "KeyRef",
    "Placement",
    "RegistryRef",
    "Toleration",
    "WorkloadIdentity",
    "image_path",
    "require_cloud",
    "require_version",
    "upstream_registry",
]


@dataclass(frozen=True)
class KeyRef:
    """A customer-managed encryption key: its cloud id (ARN, Key Vault key id, KMS key name)."""

    id: pulumi.Output[str]
    """The key's id in its cloud: ARN, Key Vault key URI or KMS key name."""


@dataclass(frozen=True)
class ClusterRef:
    """A Kubernetes cluster to deploy into: a provider for it and, when known, its kubeconfig."""

    name: str
    """The cluster's name."""
    provider: k8s.Provider
    """A Kubernetes provider that deploys into the cluster."""
    kubeconfig: pulumi.Output[str] | None = None
    """A kubeconfig for the cluster, a Pulumi secret; None if the user brings one."""
    internal_lb_annotations: Mapping[str, str] | None = None
    """Service annotations that make the cloud's load balancer internal; None: no load balancer."""
    shared_cache_class: str | None = None
    """A ReadWriteMany storage class for one weights cache shared by all replicas, if any."""


@dataclass(frozen=True)
class WorkloadIdentity:
    """How a Kubernetes ServiceAccount becomes a cloud identity: its annotations, pod labels."""

    annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """ServiceAccount annotations naming the cloud identity."""
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    """Labels the pods need for the cloud's identity webhook (AKS)."""


@dataclass(frozen=True)
class Toleration:
    """A pod toleration for a GPU node taint."""

    key: str
    """The taint key."""
    effect: str = "NoSchedule"
    """The taint effect tolerated."""
    operator: str = "Exists"
    """Exists (any value) or Equal (the value below)."""
    value: str | None = None
    """The taint value, for Equal."""


GPU_TAINT = Toleration(key="nvidia.com/gpu", operator="Equal", value="true", effect="NoSchedule")


# Conventions every managed GPU pool follows, whatever the cloud: one label, one taint.
POOL_LABEL = "llmplane/pool"


@dataclass(frozen=True)
class Placement:
    """Where GPU pods go: node labels to select, taints to tolerate, the GPU resource to request."""

    node_selector: Mapping[str, str] = field(default_factory=dict)
    """Node labels GPU pods must match."""
    tolerations: tuple[Toleration, ...] = ()
    """Taints GPU pods tolerate."""
    gpu_resource: str = "nvidia.com/gpu"
    """Extended resource name the device plugin advertises."""


@dataclass(frozen=True)
class GpuPoolSpec:
    """The managed GPU pool a stack asks for, its shape checked against the cloud's catalog."""

    shape: Shape
    """Machine shape from the catalog."""
    count: int
    """GPUs each replica uses."""
    spot: bool
    """Whether the pool runs on spot capacity."""
    min_nodes: int
    """Fewest nodes; 0 lets the pool scale to zero."""
    max_nodes: int
    """Most nodes the pool may grow to."""


@dataclass(frozen=True)
class RegistryRef:
    """A private registry mirroring public images: the prefix that replaces their registry host."""

    prefix: pulumi.Output[str]
    """Registry host and path that replace an image's public registry host."""

    def mirror(self, image: str) -> pulumi.Output[str]:
        """The mirrored name of a public image, e.g. ghcr.io/org/img:tag -> <prefix>/org/img:tag."""
        path = image_path(image)
        return self.prefix.apply(lambda prefix: f"{prefix}/{path}")


def _split_image(image: str) -> tuple[str, str]:
    """`ghcr.io/org/img:tag` -> (`ghcr.io`, `org/img:tag`); Docker Hub names have no host part."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return "docker.io", image if "/" in image else f"library/{image}"


def upstream_registry(image: str) -> str:
    """The registry host an image comes from (`docker.io` for Docker Hub names)."""
    return _split_image(image)[0]


def image_path(image: str) -> str:
    """An image's repository path and tag within its registry."""
    return _split_image(image)[1]


def require_version(version: str, supported: Sequence[str], platform: str) -> None:
    """Refuse a Kubernetes minor version the platform does not offer for new clusters."""
    if version not in supported:
        raise ValueError(
            f"Kubernetes {version} is not a version {platform} supports for new clusters; "
            f"use one of: {', '.join(supported)}"
        )


def require_cloud(shape: Shape, cloud: str, adapter: str) -> None:
    """Refuse a machine shape of another cloud: its name means nothing to this one's API."""
    if shape.cloud != cloud:
        raise ValueError(
            f"GPU pool shape {shape.name} is a {shape.cloud} shape; {adapter} needs one of {cloud}"
        )
