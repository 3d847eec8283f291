"""The `azure` target: Key Vault CMK, a VNet, private AKS with a GPU pool from zero, and ACR."""

from __future__ import annotations

import hashlib

import pulumi
import pulumi_azure_native as azure
import pulumi_kubernetes as k8s

from ..cloud import ClusterRef, KeyRef, Placement, RegistryRef, WorkloadIdentity
from ..kubernetes.device_plugin import nvidia_device_plugin
from .acr import AcrMirror
from .aks import AksControlPlane, AksGpuNodePool, AksWorkloadIdentity
from .args import (
    AcrMirrorArgs,
    AksControlPlaneArgs,
    AksControlPlaneSpec,
    AksGpuClusterArgs,
    AksGpuNodePoolArgs,
    AksWorkloadIdentityArgs,
    AzureNetworkArgs,
    AzureNetworkSpec,
    ExistingSubnets,
    KeyVaultKeyArgs,
)
from .network import AzureNetwork
from .vault import KeyVaultKey
from .weights import BlobWeightsContainer, BlobWeightsContainerArgs

__all__ = [
    "AcrMirror",
    "AcrMirrorArgs",
    "AksControlPlane",
    "AksControlPlaneArgs",
    "AksControlPlaneSpec",
    "AksGpuCluster",
    "AksGpuClusterArgs",
    "AksGpuNodePool",
    "AksGpuNodePoolArgs",
    "AksWorkloadIdentity",
    "AksWorkloadIdentityArgs",
    "AzureNetwork",
    "AzureNetworkArgs",
    "AzureNetworkSpec",
    "BlobWeightsContainer",
    "BlobWeightsContainerArgs",
    "ExistingSubnets",
    "KeyVaultKey",
    "KeyVaultKeyArgs",
    "global_name",
]

# Service annotations that put an AKS LoadBalancer Service on an internal address.
INTERNAL_LB = {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}
# Azure Files Premium, built into AKS: one ReadWriteMany weights cache for all replicas.
SHARED_CACHE_CLASS = "azurefile-csi-premium"


def global_name(seed: str, kind: str, limit: int) -> str:
    """A Key Vault or ACR name, global across Azure: `llm`, the seed, a short stable suffix."""
    suffix = hashlib.sha256(f"{seed}/{kind}".encode()).hexdigest()[:6]
    base = "".join(ch for ch in f"llm{seed}" if ch.isalnum()).lower()
    return f"{base[: limit - len(suffix)]}{suffix}"


class AksGpuCluster(pulumi.ComponentResource):
    """A private AKS cluster with a GPU pool from zero, its key, network and registry mirror."""

    cluster: ClusterRef
    """The cluster: its Kubernetes provider, kubeconfig, internal LB and shared cache facts."""
    placement: Placement
    """Where GPU pods go: the GPU pool's label and taints."""
    registry: RegistryRef | None
    """The ACR mirror of the engine image."""
    identity: WorkloadIdentity
    """The managed identity federated with `args.workload`; empty when there is none."""
    kubeconfig: pulumi.Output[str] | None
    """A kubeconfig that logs in with the Azure CLI, a Pulumi secret."""
    key: KeyRef
    """The customer-managed key that encrypts etcd, node disks and the registry."""
    resource_group_name: pulumi.Output[str]
    """The resource group everything is in."""
    vault_id: pulumi.Output[str]
    """The Key Vault's resource id."""
    cluster_name: pulumi.Output[str]
    """The AKS cluster's name."""
    oidc_issuer: pulumi.Output[str]
    """The cluster's OIDC issuer URL, for more workload identities."""
    kubelet_principal_id: pulumi.Output[str]
    """The kubelet identity's principal, which pulls images."""
    node_subnet_id: pulumi.Output[str]
    """The subnet the nodes are in, for more node pools."""
    weights_uri: pulumi.Output[str] | None
    """`az://<container>` of the weights container; None without `args.weights_bucket`."""
    weights_account: pulumi.Output[str] | None
    """The weights' storage account (the streamer's AZURE_STORAGE_ACCOUNT_NAME); else None."""

    def __init__(
        self, name: str, args: AksGpuClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Resource group, then key, network, control plane, GPU pool, mirror and identity."""
        super().__init__("llmplane:azure:GpuCluster", name, None, opts)
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        group = azure.resources.ResourceGroup(
            f"{name}-rg", resource_group_name=args.cluster_name, tags=tags, opts=child
        )
        client = azure.authorization.get_client_config_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        )
        key = KeyVaultKey(
            name,
            KeyVaultKeyArgs(
                vault_name=args.vault_name,
                resource_group_name=group.name,
                tenant_id=client.tenant_id,
                tags=tags,
            ),
            child,
        )
        network = AzureNetwork(
            name,
            AzureNetworkArgs(resource_group_name=group.name, network=args.network, tags=tags),
            child,
        )
        plane = AksControlPlane(
            name,
            AksControlPlaneArgs(
                cluster_name=args.cluster_name,
                resource_group_name=group.name,
                vnet_id=network.vnet_id,
                node_subnet_id=network.node_subnet_id,
                api_subnet_id=network.api_subnet_id,
                vault_id=key.vault_id,
                key_uri=key.key_uri,
                kms_key_id=key.key_uri_with_version,
                control_plane=args.control_plane,
                subscription_id=client.subscription_id,
                tags=tags,
            ),
            child,
        )
        provider = k8s.Provider(f"{name}-k8s", kubeconfig=plane.kubeconfig, opts=child)
        pool = AksGpuNodePool(
            name,
            AksGpuNodePoolArgs(
                resource_group_name=group.name,
                cluster_name=plane.cluster_name,
                gpu_pool=args.gpu_pool,
                vnet_subnet_id=network.node_subnet_id,
            ),
            child,
        )
        # AKS installs only the driver; the device plugin advertises the GPUs.
        nvidia_device_plugin(
            f"{name}-device-plugin",
            pool.placement,
            pulumi.ResourceOptions(parent=self, provider=provider),
        )
        mirror = AcrMirror(
            name,
            AcrMirrorArgs(
                registry_name=args.registry_name,
                resource_group_name=group.name,
                vault_id=key.vault_id,
                key_uri=key.key_uri,
                vault_name=key.vault_name,
                endpoint_subnet_id=network.endpoint_subnet_id,
                vnet_id=network.vnet_id,
                pull_principal_ids={"kubelet": plane.kubelet_principal_id},
                engine_image=args.engine_image,
                credentials=args.mirror_credentials,
                subscription_id=client.subscription_id,
                tags=tags,
            ),
            child,
        )
        identity = WorkloadIdentity()
        self.weights_uri = self.weights_account = None
        if args.workload is not None:
            bound = AksWorkloadIdentity(
                name,
                AksWorkloadIdentityArgs(
                    resource_group_name=group.name,
                    oidc_issuer=plane.oidc_issuer,
                    workload=args.workload,
                    tags=tags,
                ),
                child,
            )
            identity = bound.identity
            if args.weights_bucket:
                # The stack's own key; the engine's identity is the only reader.
                weights = BlobWeightsContainer(
                    name,
                    BlobWeightsContainerArgs(
                        # Global across Azure like the vault's and registry's, so derived alike.
                        account_name=global_name(args.cluster_name, "weights", 24),
                        resource_group_name=group.name,
                        vault_id=key.vault_id,
                        key_uri=key.key_uri,
                        endpoint_subnet_id=network.endpoint_subnet_id,
                        vnet_id=network.vnet_id,
                        reader_principal_ids={"engine": bound.principal_id},
                        subscription_id=client.subscription_id,
                        tags=tags,
                    ),
                    child,
                )
                self.weights_uri = weights.uri
                self.weights_account = weights.account_name
        self.cluster = ClusterRef(
            name=args.cluster_name,
            provider=provider,
            kubeconfig=plane.kubeconfig,
            internal_lb_annotations=INTERNAL_LB,
            shared_cache_class=SHARED_CACHE_CLASS,
        )
        self.placement = pool.placement
        self.registry = mirror.registry
        self.identity = identity
        self.kubeconfig = plane.kubeconfig
        self.key = key.key
        self.resource_group_name = group.name
        self.vault_id = key.vault_id
        self.cluster_name = plane.cluster_name
        self.oidc_issuer = plane.oidc_issuer
        self.kubelet_principal_id = plane.kubelet_principal_id
        self.node_subnet_id = network.node_subnet_id
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "keyId": self.key.id,
                "registry": mirror.prefix,
                "oidcIssuer": self.oidc_issuer,
            }
        )
