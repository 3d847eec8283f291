"""AKS: a private, Entra-ID-only cluster with KMS etcd, a GPU pool from zero, workload identity."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_azure_native as azure
import yaml

from ..cloud import GPU_TAINT, POOL_LABEL, Placement, Toleration, WorkloadIdentity
from .roles import (
    KEY_VAULT_CONTRIBUTOR,
    KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
    KEY_VAULT_CRYPTO_USER,
    MANAGED_IDENTITY_OPERATOR,
    NETWORK_CONTRIBUTOR,
    assign,
    deployer_subscription,
)

if TYPE_CHECKING:
    # Only for annotations: args.py imports this module's version facts at run time.
    from .args import AksControlPlaneArgs, AksGpuNodePoolArgs, AksWorkloadIdentityArgs

__all__ = [
    "AKS_SERVER_APP",
    "DEFAULT_VERSION",
    "OS_DISK_GIB",
    "SPOT_TAINT",
    "SUPPORTED_VERSIONS",
    "SYSTEM_VM",
    "AksControlPlane",
    "AksGpuNodePool",
    "AksWorkloadIdentity",
    "Identities",
    "azure_cli_login",
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


class AksControlPlane(pulumi.ComponentResource):
    """A private, Entra-ID-only AKS cluster with KMS etcd encryption and its CPU system pool."""

    cluster_name: pulumi.Output[str]
    """The managed cluster's name."""
    cluster_id: pulumi.Output[str]
    """The managed cluster's resource id."""
    oidc_issuer: pulumi.Output[str]
    """The cluster's OIDC issuer URL, which workload identities federate with."""
    kubelet_principal_id: pulumi.Output[str]
    """The kubelet identity's principal: grant it AcrPull on a registry the nodes pull from."""
    kubelet_identity_id: pulumi.Output[str]
    """The kubelet identity's resource id."""
    control_plane_principal_id: pulumi.Output[str]
    """The control plane identity's principal."""
    kubeconfig: pulumi.Output[str]
    """A user kubeconfig that logs in with the Azure CLI, a Pulumi secret."""

    def __init__(
        self, name: str, args: AksControlPlaneArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Identities and their roles, the disk encryption set and its key role, then AKS."""
        super().__init__("llmplane:azure:ControlPlane", name, None, opts)
        group, tags = args.resource_group_name, dict(args.tags)
        subscription = deployer_subscription(args.subscription_id, self)
        child = pulumi.ResourceOptions(parent=self)
        identities = Identities(
            control_plane=azure.managedidentity.UserAssignedIdentity(
                f"{name}-control-plane", resource_group_name=group, tags=tags, opts=child
            ),
            kubelet=azure.managedidentity.UserAssignedIdentity(
                f"{name}-kubelet", resource_group_name=group, tags=tags, opts=child
            ),
        )
        plane = identities.control_plane.principal_id
        grants = [
            # Attach the kubelet identity to the nodes it creates.
            assign(
                f"{name}-cp-kubelet",
                MANAGED_IDENTITY_OPERATOR,
                plane,
                identities.kubelet.id,
                subscription,
                self,
            ),
            # Join nodes and the API server to the VNet and its NAT gateway.
            assign(
                f"{name}-cp-network", NETWORK_CONTRIBUTOR, plane, args.vnet_id, subscription, self
            ),
            # KMS: encrypt etcd with the key, and (private vault) set up its private link.
            assign(
                f"{name}-cp-crypto", KEY_VAULT_CRYPTO_USER, plane, args.vault_id, subscription, self
            ),
            assign(
                f"{name}-cp-vault", KEY_VAULT_CONTRIBUTOR, plane, args.vault_id, subscription, self
            ),
        ]
        disks = azure.compute.DiskEncryptionSet(
            f"{name}-disks",
            resource_group_name=group,
            identity=azure.compute.EncryptionSetIdentityArgs(type="SystemAssigned"),
            encryption_type="EncryptionAtRestWithCustomerKey",
            active_key=azure.compute.KeyForDiskEncryptionSetArgs(
                key_url=args.key_uri,
                source_vault=azure.compute.SourceVaultArgs(id=args.vault_id),
            ),
            rotation_to_latest_key_version_enabled=True,
            tags=tags,
            opts=child,
        )
        grants.append(
            assign(
                f"{name}-disks-key",
                KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
                disks.identity.principal_id,
                args.vault_id,
                subscription,
                self,
            )
        )
        cluster = _managed_cluster(name, args, identities, disks.id, grants, self)
        self.cluster_name = cluster.name
        self.cluster_id = cluster.id
        self.oidc_issuer = cluster.oidc_issuer_profile.apply(
            lambda profile: (profile.issuer_url if profile is not None else None) or ""
        )
        self.kubelet_principal_id = identities.kubelet.principal_id
        self.kubelet_identity_id = identities.kubelet.id
        self.control_plane_principal_id = plane
        self.kubeconfig = kubeconfig(group, cluster.name)
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "clusterId": self.cluster_id,
                "oidcIssuer": self.oidc_issuer,
                "kubeletPrincipalId": self.kubelet_principal_id,
                "kubeconfig": self.kubeconfig,
            }
        )


def _managed_cluster(
    name: str,
    args: AksControlPlaneArgs,
    identities: Identities,
    disk_encryption_set_id: pulumi.Output[str],
    needs: Sequence[pulumi.Resource],
    parent: pulumi.Resource,
) -> azure.containerservice.ManagedCluster:
    """The managed cluster with its CPU system pool, its control plane as `args` says."""
    plane = args.control_plane
    private = plane.private_endpoint
    cluster_name = args.cluster_name
    return azure.containerservice.ManagedCluster(
        f"{name}-aks",
        resource_group_name=args.resource_group_name,
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
            subnet_id=args.api_subnet_id,
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
                key_id=args.kms_key_id,
                key_vault_network_access="Private",
                key_vault_resource_id=args.vault_id,
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
                vnet_subnet_id=args.node_subnet_id,
                node_labels={POOL_LABEL: "system"},
                # Keep application pods off the system pool.
                node_taints=["CriticalAddonsOnly=true:NoSchedule"],
            )
        ],
        tags=dict(args.tags),
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=list(needs),
            # The autoscaler owns the system pool's node count.
            ignore_changes=["agentPoolProfiles[0].count"],
        ),
    )


class AksGpuNodePool(pulumi.ComponentResource):
    """A GPU agent pool on any AKS cluster, scaling from min to max nodes (0 allowed)."""

    pool_name: pulumi.Output[str]
    """The agent pool's name in the cluster."""
    placement: Placement
    """Where GPU pods go: the pool's label, its taints, the GPU resource."""

    def __init__(
        self, name: str, args: AksGpuNodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """The agent pool `gpu` as `<name>-gpu`; AKS installs the NVIDIA driver on its nodes."""
        super().__init__("llmplane:azure:GpuNodePool", name, None, opts)
        pool = args.gpu_pool
        spot = pool.spot
        # An ephemeral OS disk lives on the VM's temp disk: faster, free, and only if it fits.
        ephemeral = pool.shape.local_disk_gib >= OS_DISK_GIB
        agent_pool = azure.containerservice.AgentPool(
            f"{name}-gpu",
            resource_group_name=args.resource_group_name,
            resource_name_=args.cluster_name,
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
            vnet_subnet_id=args.vnet_subnet_id,
            node_labels={POOL_LABEL: "gpu"},
            node_taints=[taint(GPU_TAINT)],
            # AKS installs the NVIDIA driver; the device plugin is ours.
            gpu_profile=azure.containerservice.GPUProfileArgs(driver="Install"),
            scale_set_priority="Spot" if spot else "Regular",
            scale_set_eviction_policy="Delete" if spot else None,
            # -1: pay up to the on-demand price, so nodes are evicted only for capacity.
            spot_max_price=-1 if spot else None,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["count"]),
        )
        tolerations = (GPU_TAINT, SPOT_TAINT) if spot else (GPU_TAINT,)
        self.pool_name = agent_pool.name
        self.placement = Placement(
            node_selector={POOL_LABEL: "gpu"},
            tolerations=tolerations,
            gpu_resource="nvidia.com/gpu",
        )
        self.register_outputs({"poolName": self.pool_name})


class AksWorkloadIdentity(pulumi.ComponentResource):
    """A managed identity with no roles, federated with one ServiceAccount's tokens."""

    client_id: pulumi.Output[str]
    """The identity's client id, which the ServiceAccount's annotation names."""
    principal_id: pulumi.Output[str]
    """The identity's principal: grant it roles to let the workload reach Azure resources."""
    identity: WorkloadIdentity
    """The ServiceAccount annotation and the pod label AKS's identity webhook needs."""

    def __init__(
        self, name: str, args: AksWorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """`<name>-engine` and its federated credential `<name>-engine-federation`."""
        super().__init__("llmplane:azure:WorkloadIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        group, workload = args.resource_group_name, args.workload
        identity = azure.managedidentity.UserAssignedIdentity(
            f"{name}-engine", resource_group_name=group, tags=dict(args.tags), opts=child
        )
        azure.managedidentity.FederatedIdentityCredential(
            f"{name}-engine-federation",
            resource_group_name=group,
            resource_name_=identity.name,
            issuer=args.oidc_issuer,
            subject=f"system:serviceaccount:{workload.namespace}:{workload.service_account}",
            audiences=["api://AzureADTokenExchange"],
            opts=child,
        )
        self.client_id = identity.client_id
        self.principal_id = identity.principal_id
        self.identity = WorkloadIdentity(
            annotations={"azure.workload.identity/client-id": self.client_id},
            pod_labels={"azure.workload.identity/use": "true"},
        )
        self.register_outputs({"clientId": self.client_id, "principalId": self.principal_id})


def kubeconfig(group: pulumi.Input[str], cluster_name: pulumi.Input[str]) -> pulumi.Output[str]:
    """The user kubeconfig, switched to the Azure CLI's login so it works without a browser."""
    credentials = azure.containerservice.list_managed_cluster_user_credentials_output(
        resource_group_name=group, resource_name=cluster_name
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
