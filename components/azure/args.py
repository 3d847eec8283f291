"""Typed args of the Azure target: everything AzureCloud reads, already resolved to plain values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pulumi

from ..cloud import GpuPoolSpec
from .aks import DEFAULT_VERSION

__all__ = [
    "AksControlPlaneArgs",
    "AzureCloudArgs",
    "AzureNetworkArgs",
    "ExistingSubnets",
]


@dataclass(frozen=True, kw_only=True)
class AksControlPlaneArgs:
    """The AKS control plane: its version, how its API server is reached, who administers it."""

    kubernetes_version: str = DEFAULT_VERSION
    """Kubernetes minor version, one of components.azure.aks.SUPPORTED_VERSIONS."""
    private_endpoint: bool = True
    """API server reachable only from inside the VNet."""
    authorized_cidrs: tuple[str, ...] = ()
    """CIDRs allowed to reach a public API server; ignored when the endpoint is private."""
    admin_group_ids: tuple[str, ...] = ()
    """Entra ID group object ids granted cluster admin."""
    tier: Literal["free", "standard"] = "standard"
    """Control-plane tier: standard has an uptime SLA, free does not."""


@dataclass(frozen=True, kw_only=True)
class ExistingSubnets:
    """Subnets of an existing VNet to use instead of creating one: all three resource ids."""

    nodes: str
    """The node subnet's resource id; it must have a NAT gateway for egress."""
    api_server: str
    """A /28 or larger subnet delegated to Microsoft.ContainerService/managedClusters."""
    endpoints: str
    """The subnet the registry's and the vault's private endpoints go in."""


@dataclass(frozen=True, kw_only=True)
class AzureNetworkArgs:
    """The VNet to create, or the existing subnets to use instead."""

    cidr: str = "10.0.0.0/16"
    """Private IPv4 range of the VNet to create: nodes get half, the rest holds two /28s."""
    existing: ExistingSubnets | None = None
    """Existing subnets; when set, no VNet, NAT gateway or subnet is created."""


@dataclass(frozen=True, kw_only=True)
class AzureCloudArgs:
    """Everything the Azure target creates from: names, tags, control plane, network, GPU pool."""

    cluster_name: str
    """Name of the resource group and the AKS cluster (a DNS label)."""
    vault_name: str
    """Key Vault name, unique across Azure: 3 to 24 letters, digits and hyphens."""
    registry_name: str
    """Container registry name, unique across Azure: 5 to 50 letters and digits."""
    gpu_pool: GpuPoolSpec
    """The GPU agent pool; its shape must be an Azure VM size."""
    engine_image: str
    """The public engine image the registry caches, e.g. ghcr.io/org/image:tag."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every Azure resource that takes them."""
    control_plane: AksControlPlaneArgs = field(default_factory=AksControlPlaneArgs)
    """The AKS control plane."""
    network: AzureNetworkArgs = field(default_factory=AzureNetworkArgs)
    """The VNet, created or existing."""
    mirror_credentials: tuple[str, pulumi.Output[str]] | None = None
    """User name and secret token for the image's upstream registry; None pulls anonymously."""
