"""Typed args of the GCP components: plain values, or Inputs where a resource may supply one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from ..cloud import GpuPoolSpec, require_cloud, require_version
from ..cluster import Workload

__all__ = [
    "SUPPORTED_VERSIONS",
    "ArtifactRegistryMirrorArgs",
    "CloudKmsKeyArgs",
    "GcpNetworkArgs",
    "GcpNetworkSpec",
    "GkeControlPlaneArgs",
    "GkeControlPlaneSpec",
    "GkeGpuClusterArgs",
    "GkeGpuNodePoolArgs",
    "GkeWorkloadIdentityArgs",
]

# Minors offered for new clusters on the Regular channel, as for EKS and AKS; refresh from
# `gcloud container get-server-config --region REGION` when GKE moves on.
SUPPORTED_VERSIONS = ("1.35", "1.36")


def _require(owner: str, **values: object) -> None:
    """Refuse an empty required field, naming it."""
    for name, value in values.items():
        if isinstance(value, str) and not value:
            raise ValueError(f"{owner}.{name} is empty; {owner} needs a project and a region")


@dataclass(frozen=True, kw_only=True)
class GkeControlPlaneSpec:
    """The GKE control plane: its version, how its API server is reached, what it admits."""

    kubernetes_version: str | None = None
    """Minimum minor version, one of SUPPORTED_VERSIONS; None lets the release channel pick."""
    private_endpoint: bool = True
    """API server reachable only from inside the VPC."""
    authorized_cidrs: tuple[str, ...] = ()
    """CIDRs allowed to reach a public API server; ignored when the endpoint is private."""
    binary_authorization: bool = False
    """Admit only images that Binary Authorization's project policy allows."""

    def __post_init__(self) -> None:
        """Unset, the release channel picks the version; set, it must be one the channel offers."""
        if self.kubernetes_version is not None:
            require_version(self.kubernetes_version, SUPPORTED_VERSIONS, "GKE")


@dataclass(frozen=True, kw_only=True)
class GcpNetworkSpec:
    """The VPC to create, with one node subnet and its pod and service ranges."""

    cidr: str = "10.0.0.0/16"
    """Private IPv4 range split into pods (half), nodes and services (a quarter each)."""


@dataclass(frozen=True, kw_only=True)
class CloudKmsKeyArgs:
    """A key ring and a rotating key that only the named Google service agents may use."""

    project: str
    """The project whose service agents get key access (looked up for its number if needed)."""
    region: str
    """The key ring's location: the region of everything the key encrypts."""
    key_ring_name: str
    """The key ring's name; key rings are never deleted, so it must be new in the project."""
    project_number: pulumi.Input[str] | None = None
    """The project's number, which names its service agents; None looks it up from `project`."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the key ring waits for: the enabled Cloud KMS API, usually."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the key."""

    def __post_init__(self) -> None:
        """A key ring needs a project and a region."""
        _require("CloudKmsKeyArgs", project=self.project, region=self.region)
        if not self.key_ring_name:
            raise ValueError("CloudKmsKeyArgs.key_ring_name is empty; name the key ring")


@dataclass(frozen=True, kw_only=True)
class GcpNetworkArgs:
    """A custom-mode VPC with one node subnet, Cloud Router and Cloud NAT, in one region."""

    region: str
    """The region of the subnet, the router and the NAT."""
    cidr: str = "10.0.0.0/16"
    """Private IPv4 range split into pods (half), nodes and services (a quarter each)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the VPC waits for: the enabled Compute Engine API, usually."""

    def __post_init__(self) -> None:
        """The subnet needs a region."""
        if not self.region:
            raise ValueError("GcpNetworkArgs.region is empty; name the subnet's region")


@dataclass(frozen=True, kw_only=True)
class GkeControlPlaneArgs:
    """A regional GKE Standard cluster on a given VPC and subnet, its node account, system pool."""

    project: str
    """The GCP project id; it names the workload identity pool and gets the node account's roles."""
    region: str
    """The region of the regional cluster and its system pool."""
    cluster_name: str
    """Name of the GKE cluster (a DNS label); it also prefixes the node service account."""
    network: pulumi.Input[str]
    """The VPC's id (projects/P/global/networks/N)."""
    subnetwork: pulumi.Input[str]
    """The node subnet's id; it must have the secondary ranges named `pods` and `services`."""
    key_id: pulumi.Input[str]
    """The Cloud KMS key for secrets encryption and the system nodes' boot disks."""
    control_plane: GkeControlPlaneSpec = field(default_factory=GkeControlPlaneSpec)
    """Version, API server reach, Binary Authorization."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the cluster waits for: the GKE and Compute Engine service agents' key access."""
    node_depends_on: Sequence[pulumi.Resource] = ()
    """What the system pool waits for: the Compute Engine service agent's key access."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the cluster."""

    def __post_init__(self) -> None:
        """A cluster needs a project, a region and a name."""
        _require("GkeControlPlaneArgs", project=self.project, region=self.region)
        if not self.cluster_name:
            raise ValueError("GkeControlPlaneArgs.cluster_name is empty; name the cluster")


@dataclass(frozen=True, kw_only=True)
class GkeGpuNodePoolArgs:
    """A GPU node pool for any GKE cluster, given by name or id: nothing else of llmplane's."""

    cluster: pulumi.Input[str]
    """The cluster the pool joins: its name, or its id (projects/P/locations/L/clusters/C)."""
    location: pulumi.Input[str]
    """The cluster's location (its region, for a regional cluster)."""
    service_account: pulumi.Input[str]
    """Email of the Google service account the nodes run as; never the default compute one."""
    gpu_pool: GpuPoolSpec
    """The pool's shape (a GCE machine type with GPUs), spot, and node count bounds."""
    key_id: pulumi.Input[str] | None = None
    """The Cloud KMS key of the boot disks; None uses Google-managed encryption."""
    pool_name: str = "gpu"
    """The node pool's name in the cluster, also its `llmplane/pool` node label."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the pool waits for: the Compute Engine service agent's key access, for CMEK disks."""

    def __post_init__(self) -> None:
        """The shape must be a GCE one."""
        require_cloud(self.gpu_pool.shape, "gcp", "GkeGpuNodePoolArgs.gpu_pool")
        if not self.pool_name:
            raise ValueError("GkeGpuNodePoolArgs.pool_name is empty; name the node pool")


@dataclass(frozen=True, kw_only=True)
class ArtifactRegistryMirrorArgs:
    """A remote repository caching the engine image's registry and one for your own images."""

    project: str
    """The project of the repositories, which their image paths name."""
    region: str
    """The repositories' location."""
    repository_prefix: str
    """Prefix of both repository ids: `<prefix>-cache` and `<prefix>-images`."""
    engine_image: str
    """The public engine image whose registry the remote repository caches."""
    key_id: pulumi.Input[str]
    """The Cloud KMS key both repositories are encrypted with."""
    readers: Sequence[pulumi.Input[str]] = ()
    """IAM members (e.g. serviceAccount:nodes@...) that may pull from both repositories."""
    registry_agent: pulumi.Input[str] | None = None
    """The Artifact Registry service agent's member, which reads the upstream token."""
    credentials: tuple[str, pulumi.Output[str]] | None = None
    """User name and secret token for the image's upstream registry; None pulls anonymously."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the repositories wait for: the Artifact Registry service agent's key access."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the repositories."""

    def __post_init__(self) -> None:
        """Repositories need a project, a region and a prefix; a token needs its reader."""
        _require("ArtifactRegistryMirrorArgs", project=self.project, region=self.region)
        if not self.repository_prefix:
            raise ValueError("ArtifactRegistryMirrorArgs.repository_prefix is empty")
        if not self.engine_image:
            raise ValueError("ArtifactRegistryMirrorArgs.engine_image is empty")
        if self.credentials is not None and self.registry_agent is None:
            raise ValueError(
                "ArtifactRegistryMirrorArgs.registry_agent is required with credentials: "
                "the Artifact Registry service agent reads the upstream token"
            )


@dataclass(frozen=True, kw_only=True)
class GkeWorkloadIdentityArgs:
    """A Google service account with no roles that one Kubernetes ServiceAccount may act as."""

    project: pulumi.Input[str]
    """The project of the cluster's workload identity pool (<project>.svc.id.goog)."""
    account_prefix: str
    """Prefix of the account id (`<prefix>-engine`, at most 30 characters): the cluster's name."""
    workload: Workload
    """The Kubernetes ServiceAccount that may act as the Google service account."""

    def __post_init__(self) -> None:
        """An account id needs a prefix; the binding needs a ServiceAccount."""
        if not self.account_prefix:
            raise ValueError("GkeWorkloadIdentityArgs.account_prefix is empty")
        if not self.workload.namespace or not self.workload.service_account:
            raise ValueError("GkeWorkloadIdentityArgs.workload needs a namespace and an account")


@dataclass(frozen=True, kw_only=True)
class GkeGpuClusterArgs:
    """Everything a GKE GPU cluster is built from: project, region, names, control plane, pool."""

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
    control_plane: GkeControlPlaneSpec = field(default_factory=GkeControlPlaneSpec)
    """The GKE control plane."""
    network: GcpNetworkSpec = field(default_factory=GcpNetworkSpec)
    """The VPC."""
    mirror_credentials: tuple[str, pulumi.Output[str]] | None = None
    """User name and secret token for the image's upstream registry; None pulls anonymously."""
    workload: Workload | None = None
    """The ServiceAccount to bind a Google service account to; None creates no identity."""
    weights_bucket: bool = False
    """Create a Cloud Storage bucket of weights, CMEK-encrypted, only the workload may read."""

    def __post_init__(self) -> None:
        """A project, a region, a cluster name and a GCE shape; a bucket only with a reader."""
        _require("GkeGpuClusterArgs", project=self.project, region=self.region)
        if not self.cluster_name:
            raise ValueError("GkeGpuClusterArgs.cluster_name is empty; name the cluster")
        if self.weights_bucket and self.workload is None:
            raise ValueError(
                "GkeGpuClusterArgs.weights_bucket needs workload: only its Google service "
                "account may read the bucket"
            )
        require_cloud(self.gpu_pool.shape, "gcp", "GkeGpuClusterArgs.gpu_pool")
