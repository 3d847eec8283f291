"""Typed args of the GCP target: everything GcpCloud reads, already resolved to plain values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from ..cloud import GpuPoolSpec

__all__ = ["GcpCloudArgs", "GcpNetworkArgs", "GkeControlPlaneArgs"]


@dataclass(frozen=True, kw_only=True)
class GkeControlPlaneArgs:
    """The GKE control plane: its version, how its API server is reached, what it admits."""

    kubernetes_version: str | None = None
    """Minimum minor version, one of gke.SUPPORTED_VERSIONS; None lets the release channel pick."""
    private_endpoint: bool = True
    """API server reachable only from inside the VPC."""
    authorized_cidrs: tuple[str, ...] = ()
    """CIDRs allowed to reach a public API server; ignored when the endpoint is private."""
    binary_authorization: bool = False
    """Admit only images that Binary Authorization's project policy allows."""


@dataclass(frozen=True, kw_only=True)
class GcpNetworkArgs:
    """The VPC to create, with one node subnet and its pod and service ranges."""

    cidr: str = "10.0.0.0/16"
    """Private IPv4 range split into pods (half), nodes and services (a quarter each)."""


@dataclass(frozen=True, kw_only=True)
class GcpCloudArgs:
    """Everything the GCP target creates from: project, region, names, control plane, pool."""

    project: str
    """The GCP project id everything is created in."""
    region: str
    """The region of the regional cluster, the key ring and the registries."""
    cluster_name: str
    """Name of the GKE cluster (a DNS label); it also prefixes the key ring and accounts."""
    gpu_pool: GpuPoolSpec
    """The GPU node pool; its shape must be a GCE machine type with GPUs attached."""
    engine_image: str
    """The public engine image the remote repository caches, e.g. ghcr.io/org/image:tag."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on every GCP resource that takes them (lowercase keys and values)."""
    control_plane: GkeControlPlaneArgs = field(default_factory=GkeControlPlaneArgs)
    """The GKE control plane."""
    network: GcpNetworkArgs = field(default_factory=GcpNetworkArgs)
    """The VPC."""
    mirror_credentials: tuple[str, pulumi.Output[str]] | None = None
    """User name and secret token for the image's upstream registry; None pulls anonymously."""
