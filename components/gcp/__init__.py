"""The `gcp` target: APIs, Cloud KMS, a VPC with NAT, private GKE with GPUs, Artifact Registry."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from ..cloud import (
    ClusterRef,
    KeyRef,
    Placement,
    RegistryRef,
    WorkloadIdentity,
    require_cloud,
    require_version,
)
from .args import GcpCloudArgs, GcpNetworkArgs, GkeControlPlaneArgs
from .gke import (
    NODE_ROLES,
    SHARED_CACHE_CLASS,
    SUPPORTED_VERSIONS,
    build_cluster,
    build_pools,
    kubeconfig,
    shared_cache_class,
)
from .kms import AgentGrants, build_key, service_agents
from .network import NetworkRef, build_network
from .registry import build_registries

__all__ = ["GcpCloud", "GcpCloudArgs", "GcpNetworkArgs", "GkeControlPlaneArgs"]

# The APIs the stack uses. They stay enabled on destroy: other workloads in the project may
# depend on them, and disabling an API can take its other resources down with it.
SERVICES = (
    "compute.googleapis.com",
    "container.googleapis.com",
    "artifactregistry.googleapis.com",
    "cloudkms.googleapis.com",
    "secretmanager.googleapis.com",
    "file.googleapis.com",
)


class GcpCloud:
    """Implements the Cloud protocol on GCP; one instance per cluster."""

    def __init__(self, args: GcpCloudArgs) -> None:
        """Check the args; nothing is created until the protocol's methods run."""
        if not args.project or not args.region:
            raise ValueError("GcpCloud needs a project and a region")
        version = args.control_plane.kubernetes_version
        # Unset, the release channel picks the version; set, it must be one the channel offers.
        if version is not None:
            require_version(version, SUPPORTED_VERSIONS, "GKE")
        require_cloud(args.gpu_pool.shape, "gcp", "GcpCloud")
        self._args, self._project, self._region = args, args.project, args.region
        self._labels = dict(args.labels)
        self._cluster_name = args.cluster_name
        # Set by key() and cluster(), which the protocol always calls first, in that order.
        self._grants: AgentGrants | None = None
        self._key_id: pulumi.Output[str] | None = None
        self._project_number: pulumi.Output[str] | None = None
        self._node_account: gcp.serviceaccount.Account | None = None
        self._network: NetworkRef | None = None
        self._cluster: gcp.container.Cluster | None = None
        self._services: list[pulumi.Resource] = []

    def key(self, parent: pulumi.Resource) -> KeyRef | None:
        """Enable the APIs, then the key ring, the key and the service agents' key access."""
        name = parent.pulumi_resource_name
        services: list[pulumi.Resource] = [
            gcp.projects.Service(
                f"{name}-{service.split('.')[0]}",
                service=service,
                project=self._project,
                disable_on_destroy=False,
                opts=pulumi.ResourceOptions(parent=parent),
            )
            for service in SERVICES
        ]
        project = gcp.organizations.get_project_output(
            project_id=self._project, opts=pulumi.InvokeOutputOptions(parent=parent)
        )
        self._project_number = project.number
        self._services = services
        key, self._grants = build_key(
            name, self._cluster_name, self._region, project.number, services, self._labels, parent
        )
        self._key_id = key.id
        return KeyRef(id=key.id)

    def cluster(self, parent: pulumi.Resource, key: KeyRef | None) -> ClusterRef:
        """The node service account, the network, and the GKE control plane."""
        assert self._grants and self._key_id, "key() runs first"
        name = parent.pulumi_resource_name
        opts = pulumi.ResourceOptions(parent=parent)
        account = self._service_account(name, "nodes", "nodes", opts)
        roles = [
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.split('/')[1]}",
                project=self._project,
                role=role,
                member=account.member,
                opts=opts,
            )
            for role in NODE_ROLES
        ]
        self._node_account = account
        network = build_network(name, self._args.network.cidr, self._region, self._services, parent)
        self._network = network
        self._cluster = build_cluster(
            name,
            self._cluster_name,
            self._project,
            self._region,
            self._args.control_plane,
            network,
            self._key_id,
            account.email,
            # Secrets encryption needs the GKE service agent's key access first.
            [self._grants.gke, self._grants.compute, *roles],
            self._labels,
            parent,
        )
        config = kubeconfig(self._cluster)
        provider = k8s.Provider(f"{name}-k8s", kubeconfig=config, opts=opts)
        return ClusterRef(
            name=self._cluster_name,
            provider=provider,
            kubeconfig=config,
            internal_lb_annotations={"networking.gke.io/load-balancer-type": "Internal"},
            shared_cache_class=SHARED_CACHE_CLASS,
        )

    def gpu_pool(self, parent: pulumi.Resource, cluster: ClusterRef) -> Placement:
        """Node pools (GKE installs the GPU driver and device plugin) and the cache's class."""
        assert self._cluster and self._node_account and self._grants and self._key_id
        assert self._network is not None, "cluster() runs first"
        shared_cache_class(
            parent.pulumi_resource_name,
            self._network,
            self._key_id,
            self._grants.filestore,
            pulumi.ResourceOptions(parent=parent, provider=cluster.provider),
        )
        return build_pools(
            parent.pulumi_resource_name,
            self._cluster,
            self._region,
            self._args.gpu_pool,
            self._node_account.email,
            self._key_id,
            # CMEK boot disks need the Compute Engine service agent's key access first.
            [self._grants.compute],
            parent,
        )

    def _service_account(
        self, name: str, role: str, description: str, opts: pulumi.ResourceOptions
    ) -> gcp.serviceaccount.Account:
        """A service account of this cluster's; account ids are at most 30 characters."""
        return gcp.serviceaccount.Account(
            f"{name}-{role}",
            account_id=f"{self._cluster_name}-{role}"[:30],
            display_name=f"llmplane {self._cluster_name} {description}",
            opts=opts,
        )

    def workload_identity(
        self, parent: pulumi.Resource, namespace: str, service_account: str
    ) -> WorkloadIdentity:
        """A Google service account with no roles that the engine's ServiceAccount may act as."""
        name = parent.pulumi_resource_name
        opts = pulumi.ResourceOptions(parent=parent)
        account = self._service_account(name, "engine", "inference engine", opts)
        gcp.serviceaccount.IAMMember(
            f"{name}-engine-workload-identity",
            service_account_id=account.name,
            role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{self._project}.svc.id.goog[{namespace}/{service_account}]",
            opts=opts,
        )
        return WorkloadIdentity(annotations={"iam.gke.io/gcp-service-account": account.email})

    def registry(self, parent: pulumi.Resource, key: KeyRef | None) -> RegistryRef | None:
        """The remote cache of the engine's registry and a repository for your own images."""
        assert self._grants and self._key_id and self._node_account and self._project_number
        return build_registries(
            parent.pulumi_resource_name,
            self._cluster_name,
            self._project,
            self._region,
            self._args.engine_image,
            self._key_id,
            self._node_account.member,
            service_agents(self._project_number)["registry"],
            self._args.mirror_credentials,
            # A CMEK repository needs the Artifact Registry service agent's key access first.
            [self._grants.registry],
            self._labels,
            parent,
        )
