"""AKS: a private, Entra-ID-only cluster with KMS etcd encryption, and a GPU pool from zero."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_azure_native as azure
import yaml

from ..cloud import GPU_TAINT, POOL_LABEL, GpuPoolSpec, Placement, Toleration
from .network import VnetRef
from .vault import VaultRef

if TYPE_CHECKING:
    # Only for annotations: args.py imports this module's version facts at run time.
    from .args import AksControlPlaneArgs

__all__ = [
    "AKS_SERVER_APP",
    "DEFAULT_VERSION",
    "OS_DISK_GIB",
    "SPOT_TAINT",
    "SUPPORTED_VERSIONS",
    "SYSTEM_VM",
    "Identities",
    "azure_cli_login",
    "build_cluster",
    "build_gpu_pool",
    "kubeconfig",
    "taint",
]

# AKS versions on 2026-11-28: 1.34 reaches end of life on 2026-11-30, 1.35 and 1.36 are GA
# (learn.microsoft.com/azure/aks/supported-kubernetes-versions, updated 2026-08-05).
SUPPORTED_VERSIONS = ("1.35", "1.36")
DEFAULT_VERSION = "1.35"
SYSTEM_VM = "Standard_D4ds_v5"
OS_DISK_GIB = 128
# AKS taints every spot node with this; pods meant for spot GPUs must tolerate it.
SPOT_TAINT = Toleration(
    key="kubernetes.azure.com/scalesetpriority", operator="Equal", value="spot", effect="NoSchedule"
)
# The Entra ID application that issues AKS tokens (kubelogin's --server-id for AKS).
AKS_SERVER_APP = "6dae42f8-4368-4678-94ff-3960e28e3630"


@dataclass(frozen=True)
class Identities:
    """User-assigned identities: the control plane's and the kubelet's."""

    control_plane: azure.managedidentity.UserAssignedIdentity
    """The identity AKS's control plane acts as: it joins the VNet and uses the key."""
    kubelet: azure.managedidentity.UserAssignedIdentity
    """The identity the nodes' kubelet acts as: it pulls from the registry."""


def taint(toleration: Toleration) -> str:
    """The `key=value:Effect` form AKS takes node taints in."""
    return f"{toleration.key}={toleration.value}:{toleration.effect}"


def build_cluster(
    name: str,
    cluster_name: str,
    group: pulumi.Output[str],
    plane: AksControlPlaneArgs,
    vnet: VnetRef,
    vault: VaultRef,
    identities: Identities,
    disk_encryption_set_id: pulumi.Output[str],
    needs: Sequence[pulumi.Resource],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> azure.containerservice.ManagedCluster:
    """The managed cluster with its CPU system pool, its control plane as `plane` says."""
    private = plane.private_endpoint
    return azure.containerservice.ManagedCluster(
        f"{name}-aks",
        resource_group_name=group,
        resource_name_=cluster_name,
        dns_prefix=cluster_name,
        kubernetes_version=plane.kubernetes_version,
        sku=azure.containerservice.ManagedClusterSKUArgs(
            name="Base", tier="Standard" if plane.tier == "standard" else "Free"
        ),
        identity=azure.containerservice.ManagedClusterIdentityArgs(
            type=azure.containerservice.ResourceIdentityType.USER_ASSIGNED,
            user_assigned_identities=[identities.control_plane.id],
        ),
        identity_profile={
            "kubeletidentity": azure.containerservice.UserAssignedIdentityArgs(
                resource_id=identities.kubelet.id,
                client_id=identities.kubelet.client_id,
                object_id=identities.kubelet.principal_id,
            )
        },
        enable_rbac=True,
        disable_local_accounts=True,
        aad_profile=azure.containerservice.ManagedClusterAADProfileArgs(
            managed=True,
            enable_azure_rbac=True,
            admin_group_object_ids=list(plane.admin_group_ids) or None,
        ),
        api_server_access_profile=azure.containerservice.ManagedClusterAPIServerAccessProfileArgs(
            enable_private_cluster=private,
            authorized_ip_ranges=None if private else list(plane.authorized_cidrs),
            # The API server lives in the VNet, so it can reach the private Key Vault (KMS).
            enable_vnet_integration=True,
            subnet_id=vnet.api_subnet_id,
            disable_run_command=True,
        ),
        network_profile=azure.containerservice.ContainerServiceNetworkProfileArgs(
            network_plugin="azure",
            network_plugin_mode="overlay",
            network_dataplane="cilium",
            network_policy="cilium",
            outbound_type="userAssignedNATGateway",
            pod_cidr="192.168.0.0/16",
            service_cidr="172.16.0.0/16",
            dns_service_ip="172.16.0.10",
        ),
        oidc_issuer_profile=azure.containerservice.ManagedClusterOIDCIssuerProfileArgs(
            enabled=True
        ),
        security_profile=azure.containerservice.ManagedClusterSecurityProfileArgs(
            workload_identity=azure.containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(
                enabled=True
            ),
            azure_key_vault_kms=azure.containerservice.AzureKeyVaultKmsArgs(
                enabled=True,
                # KMS takes a versioned key id; after a rotation, the next `pulumi up` moves it.
                key_id=vault.key_uri_with_version,
                key_vault_network_access="Private",
                key_vault_resource_id=vault.vault.id,
            ),
        ),
        auto_upgrade_profile=azure.containerservice.ManagedClusterAutoUpgradeProfileArgs(
            upgrade_channel="patch", node_os_upgrade_channel="NodeImage"
        ),
        addon_profiles={
            "azurepolicy": azure.containerservice.ManagedClusterAddonProfileArgs(enabled=True)
        },
        disk_encryption_set_id=disk_encryption_set_id,
        agent_pool_profiles=[
            azure.containerservice.ManagedClusterAgentPoolProfileArgs(
                name="system",
                mode="System",
                vm_size=SYSTEM_VM,
                os_type="Linux",
                count=2,
                enable_auto_scaling=True,
                min_count=2,
                max_count=3,
                enable_encryption_at_host=True,
                enable_node_public_ip=False,
                os_disk_type="Managed",
                os_disk_size_gb=OS_DISK_GIB,
                vnet_subnet_id=vnet.node_subnet_id,
                node_labels={POOL_LABEL: "system"},
                # Keep application pods off the system pool.
                node_taints=["CriticalAddonsOnly=true:NoSchedule"],
            )
        ],
        tags=tags,
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=list(needs),
            # The autoscaler owns the system pool's node count.
            ignore_changes=["agentPoolProfiles[0].count"],
        ),
    )


def build_gpu_pool(
    name: str,
    group: pulumi.Output[str],
    cluster: azure.containerservice.ManagedCluster,
    pool: GpuPoolSpec,
    vnet: VnetRef,
    parent: pulumi.Resource,
) -> Placement:
    """The GPU agent pool, scaling from min to max (0 allowed), and where its pods go."""
    spot = pool.spot
    # An ephemeral OS disk lives on the VM's temp disk: faster, free, and only if it fits.
    ephemeral = pool.shape.local_disk_gib >= OS_DISK_GIB
    azure.containerservice.AgentPool(
        f"{name}-gpu",
        resource_group_name=group,
        resource_name_=cluster.name,
        agent_pool_name="gpu",
        mode="User",
        vm_size=pool.shape.name,
        os_type="Linux",
        # Azure Linux does not support the A100 and H100 sizes; Ubuntu supports them all.
        os_sku="Ubuntu",
        count=pool.min_nodes,
        enable_auto_scaling=True,
        min_count=pool.min_nodes,
        max_count=pool.max_nodes,
        enable_encryption_at_host=True,
        enable_node_public_ip=False,
        os_disk_type="Ephemeral" if ephemeral else "Managed",
        os_disk_size_gb=OS_DISK_GIB,
        vnet_subnet_id=vnet.node_subnet_id,
        node_labels={POOL_LABEL: "gpu"},
        node_taints=[taint(GPU_TAINT)],
        # AKS installs the NVIDIA driver; the device plugin is ours.
        gpu_profile=azure.containerservice.GPUProfileArgs(driver="Install"),
        scale_set_priority="Spot" if spot else "Regular",
        scale_set_eviction_policy="Delete" if spot else None,
        # -1: pay up to the on-demand price, so nodes are evicted only for capacity.
        spot_max_price=-1 if spot else None,
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["count"]),
    )
    tolerations = (GPU_TAINT, SPOT_TAINT) if spot else (GPU_TAINT,)
    return Placement(
        node_selector={POOL_LABEL: "gpu"}, tolerations=tolerations, gpu_resource="nvidia.com/gpu"
    )


def kubeconfig(
    group: pulumi.Output[str], cluster: azure.containerservice.ManagedCluster
) -> pulumi.Output[str]:
    """The user kubeconfig, switched to the Azure CLI's login so it works without a browser."""
    credentials = azure.containerservice.list_managed_cluster_user_credentials_output(
        resource_group_name=group, resource_name=cluster.name
    )
    return pulumi.Output.secret(
        credentials.kubeconfigs.apply(lambda configs: azure_cli_login(configs[0].value))
    )


def azure_cli_login(encoded: str) -> str:
    """What `kubelogin convert-kubeconfig -l azurecli` does, without needing kubelogin here."""
    config = yaml.safe_load(base64.b64decode(encoded))
    for user in config.get("users", []):
        user["user"]["exec"]["args"] = [
            "get-token", "--login", "azurecli", "--server-id", AKS_SERVER_APP,
        ]  # fmt: skip
    return json.dumps(config, sort_keys=True, indent=2)
