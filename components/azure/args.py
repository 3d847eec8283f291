"""Typed args of the Azure components: plain values, and Inputs where a value may be another's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pulumi

from ..cloud import GpuPoolSpec, require_cloud, require_version
from ..cluster import Workload
from .aks import DEFAULT_VERSION, SUPPORTED_VERSIONS

__all__ = [
    "AcrMirrorArgs",
    "AksControlPlaneArgs",
    "AksControlPlaneSpec",
    "AksGpuClusterArgs",
    "AksGpuNodePoolArgs",
    "AksWorkloadIdentityArgs",
    "AzureNetworkArgs",
    "AzureNetworkSpec",
    "ExistingSubnets",
    "KeyVaultKeyArgs",
]

Tags = Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class AksControlPlaneSpec:
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

    def __post_init__(self) -> None:
        """Refuse a version AKS does not offer for new clusters."""
        require_version(self.kubernetes_version, SUPPORTED_VERSIONS, "AKS")


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
class AzureNetworkSpec:
    """The VNet to create, or the existing subnets to use instead."""

    cidr: str = "10.0.0.0/16"
    """Private IPv4 range of the VNet to create: nodes get half, the rest holds two /28s."""
    existing: ExistingSubnets | None = None
    """Existing subnets; when set, no VNet, NAT gateway or subnet is created."""


@dataclass(frozen=True, kw_only=True)
class KeyVaultKeyArgs:
    """A Key Vault and its customer-managed key, in a resource group of the caller's."""

    vault_name: str
    """Key Vault name, unique across Azure: 3 to 24 letters, digits and hyphens."""
    resource_group_name: pulumi.Input[str]
    """The resource group the vault goes in."""
    tenant_id: pulumi.Input[str] | None = None
    """The Entra ID tenant whose role holders reach the vault; None: the deployer's."""
    tags: Tags = field(default_factory=dict)
    """Tags on the vault and the key."""

    def __post_init__(self) -> None:
        """Refuse a vault name Azure would reject."""
        name = self.vault_name
        if not 3 <= len(name) <= 24 or not name.replace("-", "").isalnum():
            raise ValueError(f"vault_name {name!r} must be 3 to 24 letters, digits and hyphens")


@dataclass(frozen=True, kw_only=True)
class AzureNetworkArgs:
    """A VNet with node, API-server and endpoint subnets and a NAT gateway, or existing subnets."""

    resource_group_name: pulumi.Input[str]
    """The resource group the VNet and NAT gateway go in."""
    network: AzureNetworkSpec = field(default_factory=AzureNetworkSpec)
    """The range of the VNet to create, or the existing subnets to use."""
    tags: Tags = field(default_factory=dict)
    """Tags on every network resource that takes them."""


@dataclass(frozen=True, kw_only=True)
class AksControlPlaneArgs:
    """An AKS cluster with its system pool, on subnets and a key that may come from elsewhere."""

    cluster_name: str
    """The AKS cluster's name and DNS prefix (a DNS label)."""
    resource_group_name: pulumi.Input[str]
    """The resource group the cluster and its identities go in."""
    vnet_id: pulumi.Input[str]
    """The VNet's resource id: the scope of the control plane's Network Contributor role."""
    node_subnet_id: pulumi.Input[str]
    """The subnet the system nodes join; it must have a NAT gateway for egress."""
    api_subnet_id: pulumi.Input[str]
    """The subnet delegated to AKS for API server VNet integration."""
    vault_id: pulumi.Input[str]
    """The Key Vault's resource id: the scope of the control plane's and the disks' key roles."""
    key_uri: pulumi.Input[str]
    """The key's versionless URI, which the disk encryption set follows across rotations."""
    kms_key_id: pulumi.Input[str]
    """The key's versioned URI, which AKS KMS requires to encrypt etcd."""
    control_plane: AksControlPlaneSpec = field(default_factory=AksControlPlaneSpec)
    """Version, API server exposure, admins and tier."""
    subscription_id: pulumi.Input[str] | None = None
    """The subscription of the role definitions; None: the deployer's."""
    tags: Tags = field(default_factory=dict)
    """Tags on every resource that takes them."""


@dataclass(frozen=True, kw_only=True)
class AksGpuNodePoolArgs:
    """A GPU agent pool on any AKS cluster, given by name: it need not be one llmplane made."""

    resource_group_name: pulumi.Input[str]
    """The cluster's resource group."""
    cluster_name: pulumi.Input[str]
    """The AKS cluster the pool joins."""
    gpu_pool: GpuPoolSpec
    """The pool's VM size (an Azure shape), spot or regular, and its node range."""
    vnet_subnet_id: pulumi.Input[str] | None = None
    """The subnet the GPU nodes join; None: the cluster's default."""

    def __post_init__(self) -> None:
        """Refuse a machine shape of another cloud."""
        require_cloud(self.gpu_pool.shape, "azure", "AksGpuNodePool")


@dataclass(frozen=True, kw_only=True)
class AcrMirrorArgs:
    """ACR Premium caching the engine image, CMK-encrypted, reached only by a private endpoint."""

    registry_name: str
    """Container registry name, unique across Azure: 5 to 50 letters and digits."""
    resource_group_name: pulumi.Input[str]
    """The resource group the registry, its identity and its endpoint go in."""
    vault_id: pulumi.Input[str]
    """The Key Vault's resource id: the scope of the registry's key role."""
    key_uri: pulumi.Input[str]
    """The customer-managed key's versionless URI that encrypts the registry."""
    endpoint_subnet_id: pulumi.Input[str]
    """Required: the registry allows no public access, so its private endpoint is the only way."""
    engine_image: str
    """The public engine image the registry caches, e.g. ghcr.io/org/image:tag."""
    vnet_id: pulumi.Input[str] | None = None
    """The VNet linked to the registry's private DNS zone; None: the endpoint subnet's VNet."""
    pull_principal_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Principals granted AcrPull, by a label that names the grant: `<name>-<label>-acrpull`."""
    credentials: tuple[str, pulumi.Input[str]] | None = None
    """User name and secret token for the image's upstream registry; None pulls anonymously."""
    vault_name: pulumi.Input[str] | None = None
    """The Key Vault's name, where the credentials are kept; required with credentials."""
    vault_resource_group_name: pulumi.Input[str] | None = None
    """The Key Vault's resource group; None: resource_group_name."""
    subscription_id: pulumi.Input[str] | None = None
    """The subscription of the role definitions; None: the deployer's."""
    tags: Tags = field(default_factory=dict)
    """Tags on every resource that takes them."""

    def __post_init__(self) -> None:
        """Refuse a registry name Azure would reject, and credentials with nowhere to keep them."""
        name = self.registry_name
        if not 5 <= len(name) <= 50 or not name.isalnum():
            raise ValueError(f"registry_name {name!r} must be 5 to 50 letters and digits")
        if self.credentials is not None and self.vault_name is None:
            raise ValueError("credentials need vault_name: the Key Vault that keeps them")


@dataclass(frozen=True, kw_only=True)
class AksWorkloadIdentityArgs:
    """A managed identity with no roles, federated with one ServiceAccount of an AKS cluster."""

    resource_group_name: pulumi.Input[str]
    """The resource group the identity goes in."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's OIDC issuer URL, which signs the ServiceAccount's tokens."""
    workload: Workload
    """The ServiceAccount (namespace and name) that becomes the identity."""
    tags: Tags = field(default_factory=dict)
    """Tags on the identity."""


@dataclass(frozen=True, kw_only=True)
class AksGpuClusterArgs:
    """Everything AksGpuCluster creates from: names, tags, control plane, network, GPU pool."""

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
    tags: Tags = field(default_factory=dict)
    """Tags on every Azure resource that takes them."""
    control_plane: AksControlPlaneSpec = field(default_factory=AksControlPlaneSpec)
    """The AKS control plane."""
    network: AzureNetworkSpec = field(default_factory=AzureNetworkSpec)
    """The VNet, created or existing."""
    mirror_credentials: tuple[str, pulumi.Output[str]] | None = None
    """User name and secret token for the image's upstream registry; None pulls anonymously."""
    workload: Workload | None = None
    """The ServiceAccount to federate a managed identity with; None: no identity."""
    weights_bucket: bool = False
    """Create a Blob container of weights, CMK-encrypted, that only the workload may read."""

    def __post_init__(self) -> None:
        """Refuse a machine shape of another cloud, and a weights container nobody could read."""
        require_cloud(self.gpu_pool.shape, "azure", "AksGpuCluster")
        if self.weights_bucket and self.workload is None:
            raise ValueError(
                "weights_bucket needs workload: only its managed identity may read the container"
            )
