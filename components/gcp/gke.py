"""GKE Standard: private nodes, workload identity, shielded COS nodes, CMEK, GPUs from zero."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from ..cloud import POOL_LABEL, Placement, Toleration
from ..kubeconfig import exec_kubeconfig
from ..shapes import Shape
from .args import SUPPORTED_VERSIONS
from .network import PODS, SERVICES

if TYPE_CHECKING:
    from .args import GkeControlPlaneArgs, GkeGpuNodePoolArgs

__all__ = [
    "ACCELERATOR_LABEL",
    "GKE_GPU_TAINT",
    "MASTER_CIDR",
    "NODE_ROLES",
    "SHARED_CACHE_CLASS",
    "SUPPORTED_VERSIONS",
    "SYSTEM_MACHINE",
    "GkeControlPlane",
    "GkeGpuNodePool",
    "accelerator",
    "kubeconfig",
    "node_config",
    "shared_cache_class",
]

# GKE taints every GPU node with this itself (cloud.google.com/kubernetes-engine/docs/how-to/gpus).
GKE_GPU_TAINT = Toleration(
    key="nvidia.com/gpu", operator="Equal", value="present", effect="NoSchedule"
)
ACCELERATOR_LABEL = "cloud.google.com/gke-accelerator"
MASTER_CIDR = "172.16.0.0/28"
SYSTEM_MACHINE = "e2-standard-4"
NODE_ROLES = ("roles/logging.logWriter", "roles/monitoring.metricWriter")
# The StorageClass of the shared weights cache: Filestore Basic HDD (100 GiB minimum from GKE
# 1.33), on the stack's VPC, encrypted with the stack's key.
SHARED_CACHE_CLASS = "llmplane-filestore"


def accelerator(shape: Shape) -> str:
    """The GCE accelerator type of a shape's GPU."""
    if shape.gpu == "A100":
        return "nvidia-a100-80gb" if shape.gpu_memory_gib == 80 else "nvidia-tesla-a100"
    return {"L4": "nvidia-l4", "H100": "nvidia-h100-80gb", "H200": "nvidia-h200-141gb"}[shape.gpu]


def _management() -> gcp.container.NodePoolManagementArgs:
    """GKE repairs and upgrades every pool's nodes itself."""
    return gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True)


def node_config(
    service_account: pulumi.Input[str],
    key_id: pulumi.Input[str] | None,
    machine_type: str,
    labels: dict[str, str],
    spot: bool = False,
    accelerators: list[gcp.container.NodePoolNodeConfigGuestAcceleratorArgs] | None = None,
) -> gcp.container.NodePoolNodeConfigArgs:
    """Hardened nodes: own service account, GKE metadata server, shielded COS, CMEK boot disk."""
    return gcp.container.NodePoolNodeConfigArgs(
        machine_type=machine_type,
        service_account=service_account,
        oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
        image_type="COS_CONTAINERD",
        disk_type="pd-balanced",
        disk_size_gb=200 if accelerators else 50,
        boot_disk_kms_key=key_id,
        shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
            enable_secure_boot=True, enable_integrity_monitoring=True
        ),
        workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
            mode="GKE_METADATA"
        ),
        metadata={"disable-legacy-endpoints": "true"},
        labels=labels,
        spot=spot,
        guest_accelerators=accelerators,
    )


class GkeControlPlane(pulumi.ComponentResource):
    """A regional GKE Standard control plane, its node service account and a CPU system pool."""

    cluster_name: pulumi.Output[str]
    """The cluster's name."""
    cluster_id: pulumi.Output[str]
    """The cluster's id (projects/P/locations/L/clusters/C), which node pools attach to."""
    endpoint: pulumi.Output[str]
    """The API server's address (no scheme)."""
    kubeconfig: pulumi.Output[str]
    """A kubeconfig that authenticates with gke-gcloud-auth-plugin, a Pulumi secret."""
    node_service_account_email: pulumi.Output[str]
    """Email of the service account every node runs as."""
    node_service_account_member: pulumi.Output[str]
    """The node service account as an IAM member (serviceAccount:...), for pull access."""

    def __init__(
        self,
        name: str,
        args: GkeControlPlaneArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """The node account and its roles, the cluster `<name>-gke`, the pool `<name>-system`."""
        super().__init__("llmplane:gcp:ControlPlane", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = gcp.serviceaccount.Account(
            f"{name}-nodes",
            # Account ids are at most 30 characters.
            account_id=f"{args.cluster_name}-nodes"[:30],
            display_name=f"llmplane {args.cluster_name} nodes",
            opts=child,
        )
        roles = [
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.split('/')[1]}",
                project=args.project,
                role=role,
                member=account.member,
                opts=child,
            )
            for role in NODE_ROLES
        ]
        cluster = _cluster(
            name,
            args,
            account.email,
            # Secrets encryption needs the GKE service agent's key access first.
            pulumi.ResourceOptions(parent=self, depends_on=[*args.depends_on, *roles]),
        )
        gcp.container.NodePool(
            f"{name}-system",
            name="system",
            cluster=cluster.id,
            location=args.region,
            node_count=1,
            management=_management(),
            node_config=node_config(
                account.email, args.key_id, SYSTEM_MACHINE, {POOL_LABEL: "system"}
            ),
            # CMEK boot disks need the Compute Engine service agent's key access first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.node_depends_on)),
        )
        self.cluster_name = cluster.name
        self.cluster_id = cluster.id
        self.endpoint = cluster.endpoint
        self.kubeconfig = kubeconfig(cluster)
        self.node_service_account_email = account.email
        self.node_service_account_member = account.member
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "clusterId": self.cluster_id,
                "endpoint": self.endpoint,
                "kubeconfig": self.kubeconfig,
                "nodeServiceAccountEmail": self.node_service_account_email,
            }
        )


def _cluster(
    name: str,
    args: GkeControlPlaneArgs,
    service_account: pulumi.Output[str],
    opts: pulumi.ResourceOptions,
) -> gcp.container.Cluster:
    """The regional control plane, as `args` says; its default pool is removed for ours."""
    plane = args.control_plane
    public = not plane.private_endpoint
    return gcp.container.Cluster(
        f"{name}-gke",
        name=args.cluster_name,
        location=args.region,
        network=args.network,
        subnetwork=args.subnetwork,
        min_master_version=plane.kubernetes_version,
        release_channel=gcp.container.ClusterReleaseChannelArgs(channel="REGULAR"),
        # The Filestore CSI driver backs the weights cache every replica shares.
        addons_config=gcp.container.ClusterAddonsConfigArgs(
            gcp_filestore_csi_driver_config=gcp.container.ClusterAddonsConfigGcpFilestoreCsiDriverConfigArgs(
                enabled=True
            )
        ),
        remove_default_node_pool=True,
        initial_node_count=1,
        # The default pool exists for a moment; even so it runs as the stack's node account.
        node_config=gcp.container.ClusterNodeConfigArgs(
            service_account=service_account,
            oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
            shielded_instance_config=gcp.container.ClusterNodeConfigShieldedInstanceConfigArgs(
                enable_secure_boot=True, enable_integrity_monitoring=True
            ),
            workload_metadata_config=gcp.container.ClusterNodeConfigWorkloadMetadataConfigArgs(
                mode="GKE_METADATA"
            ),
        ),
        ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
            cluster_secondary_range_name=PODS, services_secondary_range_name=SERVICES
        ),
        private_cluster_config=gcp.container.ClusterPrivateClusterConfigArgs(
            enable_private_nodes=True,
            enable_private_endpoint=not public,
            master_ipv4_cidr_block=MASTER_CIDR,
        ),
        master_authorized_networks_config=gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
            cidr_blocks=[
                gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                    cidr_block=cidr, display_name=f"authorized-{index}"
                )
                for index, cidr in enumerate(plane.authorized_cidrs if public else ())
            ]
        ),
        workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
            workload_pool=f"{args.project}.svc.id.goog"
        ),
        enable_shielded_nodes=True,
        enable_legacy_abac=False,
        # Dataplane V2 (Cilium) enforces NetworkPolicy.
        datapath_provider="ADVANCED_DATAPATH",
        database_encryption=gcp.container.ClusterDatabaseEncryptionArgs(
            state="ENCRYPTED", key_name=args.key_id
        ),
        binary_authorization=gcp.container.ClusterBinaryAuthorizationArgs(
            evaluation_mode="PROJECT_SINGLETON_POLICY_ENFORCE"
            if plane.binary_authorization
            else "DISABLED"
        ),
        monitoring_config=gcp.container.ClusterMonitoringConfigArgs(
            enable_components=["SYSTEM_COMPONENTS"],
            # Managed Prometheus scrapes the engines' queue metrics for autoscaling.
            managed_prometheus=gcp.container.ClusterMonitoringConfigManagedPrometheusArgs(
                enabled=True
            ),
        ),
        logging_config=gcp.container.ClusterLoggingConfigArgs(
            enable_components=["SYSTEM_COMPONENTS", "WORKLOADS"]
        ),
        master_auth=gcp.container.ClusterMasterAuthArgs(
            client_certificate_config=gcp.container.ClusterMasterAuthClientCertificateConfigArgs(
                issue_client_certificate=False
            )
        ),
        resource_labels=dict(args.labels),
        opts=opts,
    )


class GkeGpuNodePool(pulumi.ComponentResource):
    """An autoscaling GPU node pool for any GKE cluster; GKE installs its driver and plugin."""

    placement: Placement
    """Where GPU pods go: the pool's accelerator and pool labels, GKE's GPU taint."""
    pool_name: pulumi.Output[str]
    """The node pool's name in the cluster."""

    def __init__(
        self, name: str, args: GkeGpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """The pool `<name>-<pool_name>`, scaling between the spec's bounds (from zero)."""
        super().__init__("llmplane:gcp:GpuNodePool", name, None, opts)
        pool = args.gpu_pool
        gpu_type = accelerator(pool.shape)
        node_pool = gcp.container.NodePool(
            f"{name}-{args.pool_name}",
            name=args.pool_name,
            cluster=args.cluster,
            location=args.location,
            initial_node_count=pool.min_nodes,
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                total_min_node_count=pool.min_nodes,
                total_max_node_count=pool.max_nodes,
                location_policy="ANY",
            ),
            management=_management(),
            node_config=node_config(
                args.service_account,
                args.key_id,
                pool.shape.name,
                {POOL_LABEL: args.pool_name},
                spot=pool.spot,
                accelerators=[
                    gcp.container.NodePoolNodeConfigGuestAcceleratorArgs(
                        type=gpu_type,
                        count=pool.shape.gpu_count,
                        gpu_driver_installation_config=gcp.container.NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfigArgs(
                            gpu_driver_version="LATEST"
                        ),
                    )
                ],
            ),
            # The autoscaler owns the node count once the pool exists.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(args.depends_on),
                ignore_changes=["initialNodeCount"],
            ),
        )
        self.pool_name = node_pool.name
        self.placement = Placement(
            node_selector={ACCELERATOR_LABEL: gpu_type, POOL_LABEL: args.pool_name},
            tolerations=(GKE_GPU_TAINT,),
            gpu_resource="nvidia.com/gpu",
        )
        self.register_outputs({"poolName": self.pool_name, "accelerator": gpu_type})


def kubeconfig(cluster: gcp.container.Cluster) -> pulumi.Output[str]:
    """A kubeconfig that authenticates with gke-gcloud-auth-plugin: no credential inside."""
    plugin = {"command": "gke-gcloud-auth-plugin", "provideClusterInfo": True}
    return pulumi.Output.secret(
        pulumi.Output.all(
            cluster.name, cluster.endpoint, cluster.master_auth.cluster_ca_certificate
        ).apply(
            lambda values: exec_kubeconfig(
                values[0],
                f"https://{values[1]}",
                values[2],
                plugin,
            )
        )
    )


def shared_cache_class(
    name: str,
    network_name: pulumi.Input[str],
    key_id: pulumi.Input[str],
    grant: pulumi.Resource,
    opts: pulumi.ResourceOptions,
) -> k8s.storage.v1.StorageClass:
    """Filestore for ReadWriteMany claims, usable only once Filestore may use the key."""
    return k8s.storage.v1.StorageClass(
        f"{name}-cache-class",
        metadata=ObjectMetaArgs(name=SHARED_CACHE_CLASS),
        provisioner="filestore.csi.storage.gke.io",
        parameters={
            "tier": "standard",
            "network": network_name,
            "instance-encryption-kms-key": key_id,
        },
        allow_volume_expansion=True,
        reclaim_policy="Retain",
        volume_binding_mode="Immediate",
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[grant])),
    )
