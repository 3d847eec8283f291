"""The `gcp` target: APIs, Cloud KMS, a VPC with NAT, private GKE with GPUs, Artifact Registry."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from ..cloud import ClusterRef, Placement, RegistryRef, WorkloadIdentity
from .args import (
    ArtifactRegistryMirrorArgs,
    CloudKmsKeyArgs,
    GcpNetworkArgs,
    GcpNetworkSpec,
    GkeControlPlaneArgs,
    GkeControlPlaneSpec,
    GkeGpuClusterArgs,
    GkeGpuNodePoolArgs,
    GkeWorkloadIdentityArgs,
)
from .gke import SHARED_CACHE_CLASS, GkeControlPlane, GkeGpuNodePool, shared_cache_class
from .identity import GkeWorkloadIdentity
from .kms import CloudKmsKey, project_number
from .network import GcpNetwork
from .registry import ArtifactRegistryMirror
from .weights import GcsWeightsBucket, GcsWeightsBucketArgs

__all__ = [
    "SERVICES",
    "ArtifactRegistryMirror",
    "ArtifactRegistryMirrorArgs",
    "CloudKmsKey",
    "CloudKmsKeyArgs",
    "GcpNetwork",
    "GcpNetworkArgs",
    "GcpNetworkSpec",
    "GcsWeightsBucket",
    "GcsWeightsBucketArgs",
    "GkeControlPlane",
    "GkeControlPlaneArgs",
    "GkeControlPlaneSpec",
    "GkeGpuCluster",
    "GkeGpuClusterArgs",
    "GkeGpuNodePool",
    "GkeGpuNodePoolArgs",
    "GkeWorkloadIdentity",
    "GkeWorkloadIdentityArgs",
]

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


class GkeGpuCluster(pulumi.ComponentResource):
    """A private GKE cluster: CMEK, an autoscaling GPU pool, a registry mirror, a shared cache."""

    cluster: ClusterRef
    """The cluster: its provider `<name>-k8s`, kubeconfig, internal LB and shared cache class."""
    placement: Placement
    """Where GPU pods go: the GPU pool's labels and GKE's GPU taint."""
    registry: RegistryRef | None
    """The Artifact Registry remote repository that mirrors the engine image's registry."""
    identity: WorkloadIdentity
    """The Google service account bound to `args.workload`; empty when there is none."""
    kubeconfig: pulumi.Output[str] | None
    """A kubeconfig that authenticates with gke-gcloud-auth-plugin, a Pulumi secret."""
    cluster_name: pulumi.Output[str]
    """The GKE cluster's name."""
    cluster_id: pulumi.Output[str]
    """The GKE cluster's id, which further node pools attach to."""
    key_id: pulumi.Output[str]
    """The Cloud KMS key that encrypts secrets, boot disks, registries and the shared cache."""
    node_service_account_email: pulumi.Output[str]
    """Email of the service account every node runs as."""
    workload_identity_email: pulumi.Output[str] | None
    """Email of the workload's Google service account; None without a workload."""
    weights_uri: pulumi.Output[str] | None
    """`gs://<bucket>` of the weights bucket; None without `args.weights_bucket`."""
    weights_account: pulumi.Output[str] | None
    """Always None: only Azure names a storage account."""

    def __init__(
        self, name: str, args: GkeGpuClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """The APIs, then the nested key, network, control plane, GPU pool, mirror and identity."""
        super().__init__("llmplane:gcp:GpuCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        project, region, labels = args.project, args.region, dict(args.labels)
        services: list[pulumi.Resource] = [
            gcp.projects.Service(
                f"{name}-{service.split('.')[0]}",
                service=service,
                project=project,
                disable_on_destroy=False,
                opts=child,
            )
            for service in SERVICES
        ]
        number = project_number(None, project, self)
        key = CloudKmsKey(
            name,
            CloudKmsKeyArgs(
                project=project,
                region=region,
                key_ring_name=args.cluster_name,
                project_number=number,
                depends_on=services,
                labels=labels,
            ),
            child,
        )
        grants = key.grants
        network = GcpNetwork(
            name,
            GcpNetworkArgs(region=region, cidr=args.network.cidr, depends_on=services),
            child,
        )
        plane = GkeControlPlane(
            name,
            GkeControlPlaneArgs(
                project=project,
                region=region,
                cluster_name=args.cluster_name,
                network=network.network_id,
                subnetwork=network.subnet_id,
                key_id=key.key_id,
                control_plane=args.control_plane,
                # Secrets encryption and CMEK boot disks need the agents' key access first.
                depends_on=[grants.gke, grants.compute],
                node_depends_on=[grants.compute],
                labels=labels,
            ),
            child,
        )
        provider = k8s.Provider(f"{name}-k8s", kubeconfig=plane.kubeconfig, opts=child)
        shared_cache_class(
            name,
            network.network_name,
            key.key_id,
            grants.filestore,
            pulumi.ResourceOptions(parent=self, provider=provider),
        )
        pool = GkeGpuNodePool(
            name,
            GkeGpuNodePoolArgs(
                cluster=plane.cluster_id,
                location=region,
                service_account=plane.node_service_account_email,
                gpu_pool=args.gpu_pool,
                key_id=key.key_id,
                depends_on=[grants.compute],
            ),
            child,
        )
        mirror = ArtifactRegistryMirror(
            name,
            ArtifactRegistryMirrorArgs(
                project=project,
                region=region,
                repository_prefix=args.cluster_name,
                engine_image=args.engine_image,
                key_id=key.key_id,
                readers=[plane.node_service_account_member],
                registry_agent=key.agents["registry"],
                credentials=args.mirror_credentials,
                # A CMEK repository needs the Artifact Registry service agent's key access first.
                depends_on=[grants.registry],
                labels=labels,
            ),
            child,
        )
        self.workload_identity_email = None
        self.identity = WorkloadIdentity()
        self.weights_uri = self.weights_account = None
        if args.workload is not None:
            bound = GkeWorkloadIdentity(
                name,
                GkeWorkloadIdentityArgs(
                    project=project, account_prefix=args.cluster_name, workload=args.workload
                ),
                child,
            )
            self.workload_identity_email = bound.email
            self.identity = bound.identity
            if args.weights_bucket:
                # In the cluster's region, under the stack's CMEK; the workload is the only reader.
                bucket = GcsWeightsBucket(
                    name,
                    GcsWeightsBucketArgs(
                        project=project,
                        region=region,
                        key_id=key.key_id,
                        reader_emails={"engine": bound.email},
                        project_number=number,
                        labels=labels,
                    ),
                    child,
                )
                self.weights_uri = bucket.uri
        self.kubeconfig = plane.kubeconfig
        self.cluster = ClusterRef(
            name=args.cluster_name,
            provider=provider,
            kubeconfig=plane.kubeconfig,
            internal_lb_annotations={"networking.gke.io/load-balancer-type": "Internal"},
            shared_cache_class=SHARED_CACHE_CLASS,
        )
        self.placement = pool.placement
        self.registry = mirror.registry
        self.cluster_name = plane.cluster_name
        self.cluster_id = plane.cluster_id
        self.key_id = key.key_id
        self.node_service_account_email = plane.node_service_account_email
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "keyId": self.key_id,
                "registry": mirror.prefix,
                "nodeServiceAccountEmail": self.node_service_account_email,
            }
        )
