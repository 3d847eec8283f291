"""The `azure` target: Key Vault CMK, a VNet, private AKS with a GPU pool from zero, and ACR."""

from __future__ import annotations

import hashlib

import pulumi
import pulumi_azure_native as azure
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
from ..device_plugin import nvidia_device_plugin
from .acr import build_acr
from .aks import (
    SUPPORTED_VERSIONS,
    Identities,
    build_cluster,
    build_gpu_pool,
    kubeconfig,
)
from .args import (
    AksControlPlaneArgs,
    AzureCloudArgs,
    AzureNetworkArgs,
    ExistingSubnets,
)
from .network import VnetRef, build_vnet
from .roles import (
    KEY_VAULT_CONTRIBUTOR,
    KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
    KEY_VAULT_CRYPTO_USER,
    MANAGED_IDENTITY_OPERATOR,
    NETWORK_CONTRIBUTOR,
    assign,
)
from .vault import VaultRef, build_vault

__all__ = [
    "AksControlPlaneArgs",
    "AzureCloud",
    "AzureCloudArgs",
    "AzureNetworkArgs",
    "ExistingSubnets",
    "global_name",
]


def global_name(seed: str, kind: str, limit: int) -> str:
    """A Key Vault or ACR name, global across Azure: `llm`, the seed, a short stable suffix."""
    suffix = hashlib.sha256(f"{seed}/{kind}".encode()).hexdigest()[:6]
    base = "".join(ch for ch in f"llm{seed}" if ch.isalnum()).lower()
    return f"{base[: limit - len(suffix)]}{suffix}"


class AzureCloud:
    """Implements the Cloud protocol on Azure; one instance per cluster."""

    def __init__(self, args: AzureCloudArgs) -> None:
        """Check the args; nothing is created until the protocol's methods run."""
        require_version(args.control_plane.kubernetes_version, SUPPORTED_VERSIONS, "AKS")
        require_cloud(args.gpu_pool.shape, "azure", "AzureCloud")
        self._args = args
        self._tags = dict(args.tags)
        self._cluster_name = args.cluster_name
        self._group: azure.resources.ResourceGroup | None = None
        self._client: pulumi.Output[azure.authorization.GetClientConfigResult] | None = None
        # Set by key() and cluster(), which the protocol always calls first, in that order.
        self._vault: VaultRef | None = None
        self._vnet: VnetRef | None = None
        self._identities: Identities | None = None
        self._cluster: azure.containerservice.ManagedCluster | None = None

    def _group_name(self, parent: pulumi.Resource) -> pulumi.Output[str]:
        if self._group is None:
            self._group = azure.resources.ResourceGroup(
                f"{parent.pulumi_resource_name}-rg",
                resource_group_name=self._cluster_name,
                tags=self._tags,
                opts=pulumi.ResourceOptions(parent=parent),
            )
            self._client = azure.authorization.get_client_config_output(
                opts=pulumi.InvokeOutputOptions(parent=parent)
            )
        return self._group.name

    def _subscription(self) -> pulumi.Output[str]:
        assert self._client is not None, "the resource group is created first"
        return self._client.subscription_id

    def key(self, parent: pulumi.Resource) -> KeyRef | None:
        """Key Vault and the customer-managed key for etcd, node disks and the registry."""
        name, group = parent.pulumi_resource_name, self._group_name(parent)
        assert self._client is not None
        self._vault = build_vault(
            name,
            self._args.vault_name,
            group,
            self._client.tenant_id,
            self._tags,
            parent,
        )
        return KeyRef(id=self._vault.key_uri)

    def cluster(self, parent: pulumi.Resource, key: KeyRef | None) -> ClusterRef:
        """Identities and their roles, the VNet, the disk encryption set, and AKS."""
        name, group, vault = parent.pulumi_resource_name, self._group_name(parent), self._vault
        assert vault is not None, "key() runs first"
        subscription = self._subscription()
        opts = pulumi.ResourceOptions(parent=parent)
        identities = Identities(
            control_plane=azure.managedidentity.UserAssignedIdentity(
                f"{name}-control-plane", resource_group_name=group, tags=self._tags, opts=opts
            ),
            kubelet=azure.managedidentity.UserAssignedIdentity(
                f"{name}-kubelet", resource_group_name=group, tags=self._tags, opts=opts
            ),
        )
        vnet = self._vnet = build_vnet(name, group, self._args.network, self._tags, parent)
        self._identities = identities
        plane = identities.control_plane.principal_id
        grants = [
            # Attach the kubelet identity to the nodes it creates.
            assign(
                f"{name}-cp-kubelet",
                MANAGED_IDENTITY_OPERATOR,
                plane,
                identities.kubelet.id,
                subscription,
                parent,
            ),
            # Join nodes and the API server to the VNet and its NAT gateway.
            assign(
                f"{name}-cp-network",
                NETWORK_CONTRIBUTOR,
                plane,
                vnet.vnet_id,
                subscription,
                parent,
            ),
            # KMS: encrypt etcd with the key, and (private vault) set up its private link.
            assign(
                f"{name}-cp-crypto",
                KEY_VAULT_CRYPTO_USER,
                plane,
                vault.vault.id,
                subscription,
                parent,
            ),
            assign(
                f"{name}-cp-vault",
                KEY_VAULT_CONTRIBUTOR,
                plane,
                vault.vault.id,
                subscription,
                parent,
            ),
        ]
        disks = azure.compute.DiskEncryptionSet(
            f"{name}-disks",
            resource_group_name=group,
            identity=azure.compute.EncryptionSetIdentityArgs(type="SystemAssigned"),
            encryption_type="EncryptionAtRestWithCustomerKey",
            active_key=azure.compute.KeyForDiskEncryptionSetArgs(
                key_url=vault.key_uri,
                source_vault=azure.compute.SourceVaultArgs(id=vault.vault.id),
            ),
            rotation_to_latest_key_version_enabled=True,
            tags=self._tags,
            opts=opts,
        )
        disk_principal = disks.identity.principal_id
        grants.append(
            assign(
                f"{name}-disks-key",
                KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
                disk_principal,
                vault.vault.id,
                subscription,
                parent,
            )
        )
        self._cluster = build_cluster(
            name,
            self._cluster_name,
            group,
            self._args.control_plane,
            vnet,
            vault,
            identities,
            disks.id,
            grants,
            self._tags,
            parent,
        )
        config = kubeconfig(group, self._cluster)
        provider = k8s.Provider(f"{name}-k8s", kubeconfig=config, opts=opts)
        return ClusterRef(
            name=self._cluster_name,
            provider=provider,
            kubeconfig=config,
            internal_lb_annotations={
                "service.beta.kubernetes.io/azure-load-balancer-internal": "true"
            },
            # Azure Files Premium, built into AKS: one ReadWriteMany weights cache for all replicas.
            shared_cache_class="azurefile-csi-premium",
        )

    def gpu_pool(self, parent: pulumi.Resource, cluster: ClusterRef) -> Placement:
        """The GPU agent pool and the NVIDIA device plugin (AKS installs only the driver)."""
        name, group = parent.pulumi_resource_name, self._group_name(parent)
        assert self._cluster and self._vnet, "cluster() runs first"
        placement = build_gpu_pool(
            name, group, self._cluster, self._args.gpu_pool, self._vnet, parent
        )
        nvidia_device_plugin(
            f"{name}-device-plugin",
            placement,
            pulumi.ResourceOptions(parent=parent, provider=cluster.provider),
        )
        return placement

    def workload_identity(
        self, parent: pulumi.Resource, namespace: str, service_account: str
    ) -> WorkloadIdentity:
        """A managed identity with no roles, federated with the engine's ServiceAccount."""
        assert self._cluster is not None, "cluster() runs first"
        name, group = parent.pulumi_resource_name, self._group_name(parent)
        opts = pulumi.ResourceOptions(parent=parent)
        identity = azure.managedidentity.UserAssignedIdentity(
            f"{name}-engine", resource_group_name=group, tags=self._tags, opts=opts
        )
        issuer = self._cluster.oidc_issuer_profile.apply(
            lambda profile: profile.issuer_url if profile is not None else None
        )
        azure.managedidentity.FederatedIdentityCredential(
            f"{name}-engine-federation",
            resource_group_name=group,
            resource_name_=identity.name,
            issuer=issuer.apply(lambda url: url or ""),
            subject=f"system:serviceaccount:{namespace}:{service_account}",
            audiences=["api://AzureADTokenExchange"],
            opts=opts,
        )
        return WorkloadIdentity(
            annotations={"azure.workload.identity/client-id": identity.client_id},
            pod_labels={"azure.workload.identity/use": "true"},
        )

    def registry(self, parent: pulumi.Resource, key: KeyRef | None) -> RegistryRef | None:
        """ACR Premium, private, CMK-encrypted, caching the engine image."""
        name, group, vault = parent.pulumi_resource_name, self._group_name(parent), self._vault
        assert vault and self._vnet and self._identities, "key() and cluster() run first"
        subscription = self._subscription()
        identity = azure.managedidentity.UserAssignedIdentity(
            f"{name}-registry",
            resource_group_name=group,
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        grant = assign(
            f"{name}-registry-key",
            KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
            identity.principal_id,
            vault.vault.id,
            subscription,
            parent,
        )
        args = self._args
        return build_acr(
            name,
            args.registry_name,
            group,
            vault,
            self._vnet,
            identity,
            self._identities.kubelet.principal_id,
            subscription,
            args.engine_image,
            args.mirror_credentials,
            [grant],
            self._tags,
            parent,
        )
