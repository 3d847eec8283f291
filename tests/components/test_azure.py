"""The Azure target under mocks: every security property the issue names, and real dependencies."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from llmplane.components.azure import (
    AcrMirror,
    AcrMirrorArgs,
    AksControlPlane,
    AksControlPlaneArgs,
    AksControlPlaneSpec,
    AksGpuCluster,
    AksGpuClusterArgs,
    AksGpuNodePool,
    AksGpuNodePoolArgs,
    AksWorkloadIdentity,
    AksWorkloadIdentityArgs,
    AzureNetwork,
    AzureNetworkArgs,
    AzureNetworkSpec,
    ExistingSubnets,
    KeyVaultKey,
    KeyVaultKeyArgs,
    global_name,
)
from llmplane.components.azure.aks import AKS_SERVER_APP, SUPPORTED_VERSIONS, azure_cli_login
from llmplane.components.azure.roles import (
    ACR_PULL,
    KEY_VAULT_CONTRIBUTOR,
    KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
    KEY_VAULT_CRYPTO_USER,
    KEY_VAULT_SECRETS_USER,
    MANAGED_IDENTITY_OPERATOR,
    NETWORK_CONTRIBUTOR,
)
from llmplane.components.cloud import GpuPoolSpec, WorkloadIdentity
from llmplane.components.cluster import Workload
from llmplane.components.shapes import Shape
from llmplane.infra.cloud_args.azure import azure_args
from llmplane.infra.config.errors import SettingsError
from llmplane.infra.config.settings import AzureStack
from llmplane.infra.config.stackfile import read_stack_file
from tests.cli.test_cli import assert_bad_input, run
from tests.components.direct import capture
from tests.conftest import STACKS, parse_as
from tests.plans import chain_depth, of_type, one, plan_config, pod_spec, shipped, upstream

CLUSTER = "azure-native:containerservice:ManagedCluster"
POOL = "azure-native:containerservice:AgentPool"
VAULT = "azure-native:keyvault:Vault"
KEY = "azure-native:keyvault:Key"
REGISTRY = "azure-native:containerregistry:Registry"
ROLE = "azure-native:authorization:RoleAssignment"


def _dev_config(**changes: Any) -> dict[str, Any]:
    _, config, _ = read_stack_file(STACKS / "Pulumi.azure-dev.yaml")
    return {**config, **changes}


@pytest.fixture(scope="module")
def dev() -> dict[str, Any]:
    return shipped("azure-dev")


@pytest.fixture(scope="module")
def private() -> dict[str, Any]:
    """azure-dev as a private cluster with mirror credentials for the cache rule."""
    config = _dev_config(
        **{
            "llmplane:cluster": {"privateEndpoint": True, "tier": "standard"},
            "llmplane:mirrorUsername": "octocat",
            "llmplane:mirrorToken": "ghp_AzureTok3n",
        }
    )
    return plan_config("azure-private", config, frozenset({"llmplane:mirrorToken"}))


def _id(plan: dict[str, Any], type_: str, name: str | None = None) -> str:
    """The mocked ARM id of a resource, which other resources' inputs refer to."""
    resource = one(plan, type_, name)
    return _ids(plan)[resource["urn"]]


def _ids(plan: dict[str, Any]) -> dict[str, str]:
    from llmplane.infra.offline.mocks_azure import resource as arm

    return {
        r["urn"]: arm(r["name"], r["inputs"], r["type"])["id"]
        for r in plan["resources"]
        if r["type"].startswith("azure-native:")
    }


def test_etcd_is_encrypted_by_kms_through_a_private_vault(dev: dict[str, Any]) -> None:
    cluster = one(dev, CLUSTER)["inputs"]
    kms = cluster["securityProfile"]["azureKeyVaultKms"]
    assert kms["enabled"] is True
    assert kms["keyVaultNetworkAccess"] == "Private"
    assert kms["keyVaultResourceId"] == _id(dev, VAULT)
    assert kms["keyId"].startswith("https://") and "/keys/cmk/" in kms["keyId"]
    # A private vault needs the API server inside the VNet.
    assert cluster["apiServerAccessProfile"]["enableVnetIntegration"] is True


def test_node_disks_use_the_encryption_set_and_encryption_at_host(dev: dict[str, Any]) -> None:
    disks = one(dev, "azure-native:compute:DiskEncryptionSet")["inputs"]
    assert disks["encryptionType"] == "EncryptionAtRestWithCustomerKey"
    assert disks["activeKey"]["keyUrl"].endswith("/keys/cmk")
    assert disks["rotationToLatestKeyVersionEnabled"] is True
    cluster = one(dev, CLUSTER)["inputs"]
    assert cluster["diskEncryptionSetID"] == _id(dev, "azure-native:compute:DiskEncryptionSet")
    (system,) = cluster["agentPoolProfiles"]
    gpu = one(dev, POOL)["inputs"]
    for pool in (system, gpu):
        assert pool["enableEncryptionAtHost"] is True
        assert pool["enableNodePublicIP"] is False


def test_entra_id_only_no_local_accounts(dev: dict[str, Any]) -> None:
    cluster = one(dev, CLUSTER)["inputs"]
    assert cluster["disableLocalAccounts"] is True
    assert cluster["aadProfile"] == {"enableAzureRBAC": True, "managed": True}
    assert cluster["oidcIssuerProfile"]["enabled"] is True
    assert cluster["securityProfile"]["workloadIdentity"]["enabled"] is True
    assert cluster["networkProfile"]["networkPolicy"] == "cilium"
    assert cluster["addonProfiles"]["azurepolicy"]["enabled"] is True
    assert cluster["autoUpgradeProfile"] == {
        "nodeOSUpgradeChannel": "NodeImage",
        "upgradeChannel": "patch",
    }
    assert cluster["kubernetesVersion"] in SUPPORTED_VERSIONS


def test_private_by_default_and_never_open(dev: dict[str, Any], private: dict[str, Any]) -> None:
    access = one(private, CLUSTER)["inputs"]["apiServerAccessProfile"]
    assert access["enablePrivateCluster"] is True
    assert "authorizedIPRanges" not in access
    assert one(private, CLUSTER)["inputs"]["sku"]["tier"] == "Standard"
    # dev opts into a public endpoint, limited to the networks it lists.
    dev_access = one(dev, CLUSTER)["inputs"]["apiServerAccessProfile"]
    assert dev_access["enablePrivateCluster"] is False
    assert dev_access["authorizedIPRanges"] == ["203.0.113.0/24"]


def test_gpu_pool_taint_matches_the_device_plugin_and_engine(dev: dict[str, Any]) -> None:
    pool = one(dev, POOL)["inputs"]
    assert pool["nodeTaints"] == ["nvidia.com/gpu=true:NoSchedule"]
    assert pool["minCount"] == 0 and pool["enableAutoScaling"] is True
    assert pool["scaleSetPriority"] == "Spot"
    assert pool["scaleSetEvictionPolicy"] == "Delete" and pool["spotMaxPrice"] == -1
    # AKS adds this taint to every spot node by itself.
    taints = [*pool["nodeTaints"], "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"]
    plugin = pod_spec(one(dev, "kubernetes:apps/v1:DaemonSet"))
    engine = pod_spec(one(dev, "kubernetes:apps/v1:Deployment", "llm"))
    for pod in (plugin, engine):
        tolerated = {
            f"{t['key']}={t.get('value')}:{t['effect']}"
            for t in pod["tolerations"]
            if t.get("value")
        }
        assert set(taints) <= tolerated
        assert pod["nodeSelector"].items() <= pool["nodeLabels"].items()


def test_ephemeral_os_disk_only_where_the_vm_has_room(dev: dict[str, Any]) -> None:
    assert one(dev, POOL)["inputs"]["osDiskType"] == "Ephemeral"  # NV36ads_A10_v5: 1440 GiB temp
    # maxNodes 2: the pool must hold azure-dev's two replicas, one per single-GPU node.
    gpu = {"shape": "Standard_NC24ads_A100_v4", "minNodes": 0, "maxNodes": 2}
    small = _dev_config(**{"llmplane:gpu": gpu})
    plan = plan_config("azure-a100", small)
    assert one(plan, POOL)["inputs"]["osDiskType"] == "Managed"  # 64 GiB temp disk < 128 GiB


def test_vault_is_rbac_purge_protected_and_firewalled(dev: dict[str, Any]) -> None:
    vault = one(dev, VAULT)["inputs"]["properties"]
    assert vault["enableRbacAuthorization"] is True
    assert vault["enablePurgeProtection"] is True and vault["enableSoftDelete"] is True
    assert vault["networkAcls"] == {"bypass": "AzureServices", "defaultAction": "Deny"}
    assert vault["publicNetworkAccess"] == "Disabled"
    policy = one(dev, KEY)["inputs"]["properties"]["rotationPolicy"]
    actions = {a["action"]["type"]: a["trigger"] for a in policy["lifetimeActions"]}
    assert actions["rotate"] == {"timeAfterCreate": "P90D"}
    assert policy["attributes"]["expiryTime"] == "P1Y"


def test_registry_is_private_encrypted_and_reached_privately(dev: dict[str, Any]) -> None:
    registry = one(dev, REGISTRY)["inputs"]
    assert registry["sku"] == {"name": "Premium"}
    assert registry["adminUserEnabled"] is False
    assert registry["anonymousPullEnabled"] is False
    assert registry["publicNetworkAccess"] == "Disabled"
    assert registry["encryption"]["status"] == "enabled"
    assert registry["policies"]["retentionPolicy"]["status"] == "enabled"
    endpoint = one(dev, "azure-native:network:PrivateEndpoint")["inputs"]
    (connection,) = endpoint["privateLinkServiceConnections"]
    assert connection["privateLinkServiceId"] == _id(dev, REGISTRY)
    assert connection["groupIds"] == ["registry"]


def test_cache_rule_mirrors_the_engine_image(dev: dict[str, Any], private: dict[str, Any]) -> None:
    rule = one(dev, "azure-native:containerregistry:CacheRule")["inputs"]
    assert rule["sourceRepository"] == "ghcr.io/huggingface/text-generation-inference"
    assert rule["targetRepository"] == "huggingface/text-generation-inference"
    assert "credentialSetResourceId" not in rule
    image = pod_spec(one(dev, "kubernetes:apps/v1:Deployment", "llm"))["containers"][0]["image"]
    login = one(dev, REGISTRY)["inputs"]["registryName"]
    assert image == f"{login}.azurecr.io/huggingface/text-generation-inference:3.3.7"
    # With credentials: a credential set reads them from Key Vault; they never appear in clear.
    credential_set = one(private, "azure-native:containerregistry:CredentialSet")["inputs"]
    assert credential_set["loginServer"] == "ghcr.io"
    assert one(private, "azure-native:containerregistry:CacheRule")["inputs"][
        "credentialSetResourceId"
    ]
    for secret in of_type(private, "azure-native:keyvault:Secret"):
        assert (
            secret["inputs"]["properties"] == "[secret]"
            or secret["inputs"]["properties"]["value"] == "[secret]"
        )
    assert "ghp_AzureTok3n" not in json.dumps(private)


def test_each_role_assignment_is_scoped_to_one_resource(private: dict[str, Any]) -> None:
    ids = _ids(private)
    by_urn = {r["urn"]: r for r in private["resources"]}
    vault = _id(private, VAULT)
    expected = {
        "llm-cp-kubelet": (MANAGED_IDENTITY_OPERATOR, "userAssignedIdentities/llm-kubelet"),
        "llm-cp-network": (NETWORK_CONTRIBUTOR, "virtualNetworks/"),
        "llm-cp-crypto": (KEY_VAULT_CRYPTO_USER, vault),
        "llm-cp-vault": (KEY_VAULT_CONTRIBUTOR, vault),
        "llm-disks-key": (KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER, vault),
        "llm-registry-key": (KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER, vault),
        "llm-kubelet-acrpull": (ACR_PULL, _id(private, REGISTRY)),
        "llm-upstream-secrets": (KEY_VAULT_SECRETS_USER, vault),
    }
    assignments = {r["name"]: r["inputs"] for r in of_type(private, ROLE)}
    assert set(assignments) == set(expected)
    for name, (role, scope) in expected.items():
        inputs = assignments[name]
        assert inputs["roleDefinitionId"].endswith(f"/roleDefinitions/{role}")
        assert inputs["principalType"] == "ServicePrincipal"
        assert scope in inputs["scope"], (name, inputs["scope"])
        # Never a resource group or the subscription: always one named resource.
        assert "/providers/" in inputs["scope"]
    assert by_urn and ids


def test_dependencies_are_real_and_minimal(dev: dict[str, Any]) -> None:
    cluster = one(dev, CLUSTER)
    pool = one(dev, POOL)
    assert cluster["urn"] in pool["dependencies"]
    assert one(dev, KEY)["urn"] in cluster["dependencies"]
    subnets = {s["urn"] for s in of_type(dev, "azure-native:network:Subnet")}
    assert {s for s in subnets if s.endswith("llm-nodes")} <= set(cluster["dependencies"])
    # The registry waits for its key and identity, not for the network.
    registry = one(dev, REGISTRY)
    assert not [u for u in upstream(dev, registry) if ":azure-native:network:" in u]
    # The longest chain, asserted so it does not creep: resource group -> vault -> key ->
    # disk encryption set -> its role on the vault -> AKS -> provider -> namespace -> service
    # account -> engine -> its ScaledObject.
    # Two more since #18: the warm-cache Job before the engine, and (azure-dev scales to zero)
    # the HTTP add-on's HTTPScaledObject, which waits for the add-on's release, before the scaler.
    assert chain_depth(dev) == 13


def test_kubeconfig_logs_in_with_the_azure_cli() -> None:
    from llmplane.infra.offline.mocks_azure import user_credentials

    encoded = user_credentials({"resourceName": "llm-x"})["kubeconfigs"][0]["value"]
    original = yaml.safe_load(base64.b64decode(encoded))
    assert "devicecode" in original["users"][0]["user"]["exec"]["args"]
    converted = json.loads(azure_cli_login(encoded))
    args = converted["users"][0]["user"]["exec"]["args"]
    assert args == ["get-token", "--login", "azurecli", "--server-id", AKS_SERVER_APP]
    assert converted["clusters"] == original["clusters"]


def test_existing_vnet_creates_no_network() -> None:
    subnet = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/net/providers/"
        "Microsoft.Network/virtualNetworks/hub/subnets/{}"
    )
    network = {
        "subnetId": subnet.format("aks"),
        "apiServerSubnetId": subnet.format("apiserver"),
        "endpointSubnetId": subnet.format("endpoints"),
    }
    plan = plan_config("azure-byo", _dev_config(**{"llmplane:network": network}))
    assert not [r for r in plan["resources"] if r["type"].startswith("azure-native:network:Subnet")]
    assert not of_type(plan, "azure-native:network:VirtualNetwork")
    assert not of_type(plan, "azure-native:network:NatGateway")
    cluster = one(plan, CLUSTER)["inputs"]
    assert cluster["agentPoolProfiles"][0]["vnetSubnetID"] == subnet.format("aks")
    assert cluster["apiServerAccessProfile"]["subnetId"] == subnet.format("apiserver")
    role = one(plan, ROLE, "llm-cp-network")["inputs"]
    assert role["scope"] == subnet.format("aks").rsplit("/subnets/", 1)[0]


# Built directly from typed args: no stack file, no StackSettings, no catalog lookup.
A10 = Shape(
    cloud="azure",
    name="Standard_NV36ads_A10_v5",
    gpu="A10",
    gpu_count=1,
    gpu_memory_gib=24,
    vcpu=36,
    memory_gib=440,
    local_disk_gib=1440,
    source="test",
    as_of="2026-11-28",
)
IMAGE = "ghcr.io/huggingface/text-generation-inference:3.3.7"


SUBNET = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/net/providers/"
    "Microsoft.Network/virtualNetworks/hub/subnets/{}"
)
# A vault and a key llmplane did not create, as a user would pass them.
THEIR_VAULT = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/keys/providers/"
    "Microsoft.KeyVault/vaults/theirvault"
)
THEIR_KEY = "https://theirvault.vault.azure.net/keys/cmk"
SUBSCRIPTION = "11111111-1111-1111-1111-111111111111"
WORKLOAD = Workload(namespace="llm", service_account="llm")
A10_POOL = GpuPoolSpec(shape=A10, count=1, spot=False, min_nodes=0, max_nodes=3)


def _args(**changes: Any) -> AksGpuClusterArgs:
    args: dict[str, Any] = {
        "cluster_name": "gpu-east",
        "vault_name": "gpueastvault1",
        "registry_name": "gpueastregistry1",
        "gpu_pool": A10_POOL,
        "engine_image": IMAGE,
        "tags": {"team": "ml"},
        "control_plane": AksControlPlaneSpec(kubernetes_version="1.36"),
        "workload": WORKLOAD,
    }
    return AksGpuClusterArgs(**{**args, **changes})


def _children(plan: dict[str, Any], parent_type: str) -> list[tuple[str, str]]:
    """(type, name) of every resource whose parent is the one component of `parent_type`."""
    (parent,) = [r["urn"] for r in plan["resources"] if r["type"] == parent_type]
    return sorted((r["type"], r["name"]) for r in plan["resources"] if r.get("parent") == parent)


def _azure(plan: dict[str, Any]) -> list[tuple[str, str]]:
    """(type, name) of every Azure resource in a plan."""
    return sorted(
        (r["type"], r["name"]) for r in plan["resources"] if r["type"].startswith("azure-native:")
    )


def test_aks_gpu_cluster_builds_from_its_args_alone() -> None:
    handles: dict[str, AksGpuCluster] = {}
    plan = capture(lambda: handles.update(target=AksGpuCluster("llm", _args())))
    cluster = one(plan, CLUSTER)["inputs"]
    assert cluster["resourceName"] == "gpu-east"
    assert cluster["kubernetesVersion"] == "1.36"
    # Secure defaults: a private API server, the standard tier.
    assert cluster["apiServerAccessProfile"]["enablePrivateCluster"] is True
    assert cluster["sku"]["tier"] == "Standard"
    assert cluster["tags"] == {"team": "ml"}
    pool = one(plan, POOL)
    assert pool["inputs"]["vmSize"] == "Standard_NV36ads_A10_v5"
    assert (pool["inputs"]["minCount"], pool["inputs"]["maxCount"]) == (0, 3)
    assert pool["inputs"]["scaleSetPriority"] == "Regular"
    assert one(plan, CLUSTER)["urn"] in pool["dependencies"]
    rule = one(plan, "azure-native:containerregistry:CacheRule")["inputs"]
    assert rule["sourceRepository"] == "ghcr.io/huggingface/text-generation-inference"
    assert "credentialSetResourceId" not in rule
    assert one(plan, REGISTRY)["inputs"]["registryName"] == "gpueastregistry1"
    assert one(plan, VAULT)["inputs"]["vaultName"] == "gpueastvault1"
    target = handles["target"]
    placement = target.placement
    assert placement.node_selector == {"llmplane/pool": "gpu"}
    assert [t.key for t in placement.tolerations] == ["nvidia.com/gpu"]
    assert target.cluster.name == "gpu-east"
    assert target.cluster.shared_cache_class == "azurefile-csi-premium"
    assert target.cluster.internal_lb_annotations == {
        "service.beta.kubernetes.io/azure-load-balancer-internal": "true"
    }
    assert target.registry is not None and target.kubeconfig is not None
    assert set(target.identity.annotations) == {"azure.workload.identity/client-id"}
    assert target.identity.pod_labels == {"azure.workload.identity/use": "true"}
    federation = one(plan, "azure-native:managedidentity:FederatedIdentityCredential")["inputs"]
    assert federation["subject"] == "system:serviceaccount:llm:llm"
    assert (
        federation["issuer"].startswith("https://")
        and ".oic.prod-aks.azure.com/" in (federation["issuer"])
    )


def test_the_composite_is_a_tree_of_its_parts() -> None:
    plan = capture(lambda: AksGpuCluster("llm", _args()))
    assert _children(plan, "llmplane:azure:GpuCluster") == [
        ("azure-native:resources:ResourceGroup", "llm-rg"),
        ("kubernetes:apps/v1:DaemonSet", "llm-device-plugin"),
        ("llmplane:azure:ControlPlane", "llm"),
        ("llmplane:azure:EncryptionKey", "llm"),
        ("llmplane:azure:GpuNodePool", "llm"),
        ("llmplane:azure:Network", "llm"),
        ("llmplane:azure:RegistryMirror", "llm"),
        ("llmplane:azure:WorkloadIdentity", "llm"),
        ("pulumi:providers:kubernetes", "llm-k8s"),
    ]
    assert _children(plan, "llmplane:azure:EncryptionKey") == [
        (KEY, "llm-key"),
        (VAULT, "llm-vault"),
    ]
    assert (POOL, "llm-gpu") in _children(plan, "llmplane:azure:GpuNodePool")
    assert (CLUSTER, "llm-aks") in _children(plan, "llmplane:azure:ControlPlane")
    assert (REGISTRY, "llm-acr") in _children(plan, "llmplane:azure:RegistryMirror")
    # The device plugin deploys through the cluster's provider.
    plugin = one(plan, "kubernetes:apps/v1:DaemonSet")
    assert plugin["provider"] and "llm-k8s" in plugin["provider"]


def test_without_a_workload_the_composite_creates_no_identity() -> None:
    handles: dict[str, AksGpuCluster] = {}
    plan = capture(lambda: handles.update(target=AksGpuCluster("llm", _args(workload=None))))
    assert not of_type(plan, "azure-native:managedidentity:FederatedIdentityCredential")
    assert not of_type(plan, "llmplane:azure:WorkloadIdentity")
    identities = {
        r["name"] for r in of_type(plan, "azure-native:managedidentity:UserAssignedIdentity")
    }
    assert identities == {"llm-control-plane", "llm-kubelet", "llm-registry"}
    assert handles["target"].identity == WorkloadIdentity()


def test_aks_gpu_cluster_uses_existing_subnets_and_mirror_credentials() -> None:
    existing = ExistingSubnets(
        nodes=SUBNET.format("aks"),
        api_server=SUBNET.format("apiserver"),
        endpoints=SUBNET.format("endpoints"),
    )

    def build() -> None:
        token = pulumi.Output.secret("ghp_Direct7oken")
        args = _args(network=AzureNetworkSpec(existing=existing), mirror_credentials=("me", token))
        AksGpuCluster("llm", args)

    plan = capture(build)
    assert not of_type(plan, "azure-native:network:VirtualNetwork")
    assert one(plan, POOL)["inputs"]["vnetSubnetID"] == SUBNET.format("aks")
    assert one(plan, "azure-native:containerregistry:CacheRule")["inputs"][
        "credentialSetResourceId"
    ]
    assert "ghp_Direct7oken" not in json.dumps(plan)


def test_aks_gpu_cluster_refuses_what_aks_cannot_run() -> None:
    with pytest.raises(ValueError, match=r"^Kubernetes 1\.20 is not a version AKS supports"):
        _args(control_plane=AksControlPlaneSpec(kubernetes_version="1.20"))
    pool = GpuPoolSpec(
        shape=replace(A10, cloud="gcp"), count=1, spot=False, min_nodes=0, max_nodes=1
    )
    with pytest.raises(ValueError, match="AksGpuCluster needs one of azure"):
        _args(gpu_pool=pool)
    with pytest.raises(ValueError, match="AksGpuNodePool needs one of azure"):
        AksGpuNodePoolArgs(resource_group_name="rg", cluster_name="aks", gpu_pool=pool)


def _mirror_args(**changes: Any) -> AcrMirrorArgs:
    args: dict[str, Any] = {
        "registry_name": "theirmirror1",
        "resource_group_name": "their-rg",
        "vault_id": THEIR_VAULT,
        "key_uri": THEIR_KEY,
        "endpoint_subnet_id": SUBNET.format("endpoints"),
        "engine_image": IMAGE,
        "subscription_id": SUBSCRIPTION,
    }
    return AcrMirrorArgs(**{**args, **changes})


def test_the_standalone_args_refuse_names_azure_rejects() -> None:
    with pytest.raises(ValueError, match=r"^vault_name 'a_b' must be 3 to 24"):
        KeyVaultKeyArgs(vault_name="a_b", resource_group_name="rg")
    with pytest.raises(ValueError, match=r"^registry_name 'my-registry' must be 5 to 50"):
        _mirror_args(registry_name="my-registry")
    with pytest.raises(ValueError, match=r"^credentials need vault_name"):
        _mirror_args(credentials=("me", "token"))


def test_the_key_alone() -> None:
    plan = capture(
        lambda: KeyVaultKey(
            "cmk",
            KeyVaultKeyArgs(
                vault_name="theirvault", resource_group_name="their-rg", tags={"team": "ml"}
            ),
        )
    )
    assert _azure(plan) == [(KEY, "cmk-key"), (VAULT, "cmk-vault")]
    vault = one(plan, VAULT)["inputs"]
    assert vault["resourceGroupName"] == "their-rg"
    assert vault["vaultName"] == "theirvault" and vault["tags"] == {"team": "ml"}
    # No tenant given: the deployer's, from the client config.
    from llmplane.infra.offline.mocks_azure import TENANT

    assert vault["properties"]["tenantId"] == TENANT
    key = one(plan, KEY)
    assert key["inputs"]["vaultName"] == "theirvault" and key["inputs"]["keyName"] == "cmk"
    assert one(plan, VAULT)["urn"] in key["dependencies"]


def test_the_network_alone() -> None:
    plan = capture(lambda: AzureNetwork("net", AzureNetworkArgs(resource_group_name="their-rg")))
    assert _azure(plan) == [
        ("azure-native:network:NatGateway", "net-nat"),
        ("azure-native:network:PublicIPAddress", "net-nat-ip"),
        ("azure-native:network:Subnet", "net-apiserver"),
        ("azure-native:network:Subnet", "net-endpoints"),
        ("azure-native:network:Subnet", "net-nodes"),
        ("azure-native:network:VirtualNetwork", "net-vnet"),
    ]
    prefixes = {
        r["name"]: r["inputs"]["addressPrefix"]
        for r in of_type(plan, "azure-native:network:Subnet")
    }
    assert prefixes == {
        "net-nodes": "10.0.0.0/17",
        "net-apiserver": "10.0.128.0/28",
        "net-endpoints": "10.0.128.16/28",
    }
    # Existing subnets: nothing is created.
    existing = ExistingSubnets(
        nodes=SUBNET.format("aks"),
        api_server=SUBNET.format("apiserver"),
        endpoints=SUBNET.format("endpoints"),
    )
    spec = AzureNetworkSpec(existing=existing)
    plan = capture(
        lambda: AzureNetwork("net", AzureNetworkArgs(resource_group_name="rg", network=spec))
    )
    assert _azure(plan) == []


def test_the_control_plane_on_a_network_and_key_it_did_not_create() -> None:
    args = AksControlPlaneArgs(
        cluster_name="their-aks",
        resource_group_name="their-rg",
        vnet_id=SUBNET.format("aks").rsplit("/subnets/", 1)[0],
        node_subnet_id=SUBNET.format("aks"),
        api_subnet_id=SUBNET.format("apiserver"),
        vault_id=THEIR_VAULT,
        key_uri=THEIR_KEY,
        kms_key_id=f"{THEIR_KEY}/0123456789abcdef",
        subscription_id=SUBSCRIPTION,
    )
    plan = capture(lambda: AksControlPlane("cp", args))
    assert not of_type(plan, VAULT) and not of_type(plan, "azure-native:network:VirtualNetwork")
    cluster = one(plan, CLUSTER)
    kms = cluster["inputs"]["securityProfile"]["azureKeyVaultKms"]
    assert kms["keyVaultResourceId"] == THEIR_VAULT
    assert kms["keyId"] == f"{THEIR_KEY}/0123456789abcdef"
    assert cluster["inputs"]["agentPoolProfiles"][0]["vnetSubnetID"] == SUBNET.format("aks")
    roles = {r["name"]: r for r in of_type(plan, ROLE)}
    assert set(roles) == {
        "cp-cp-kubelet",
        "cp-cp-network",
        "cp-cp-crypto",
        "cp-cp-vault",
        "cp-disks-key",
    }
    assert {r["urn"] for r in roles.values()} <= set(cluster["dependencies"])
    for role in roles.values():
        assert role["inputs"]["roleDefinitionId"].startswith(f"/subscriptions/{SUBSCRIPTION}/")


def test_a_gpu_pool_joins_a_cluster_llmplane_did_not_create() -> None:
    handles: dict[str, AksGpuNodePool] = {}
    args = AksGpuNodePoolArgs(
        resource_group_name="their-rg",
        cluster_name="their-aks",
        gpu_pool=replace(A10_POOL, spot=True, min_nodes=1, max_nodes=4),
    )
    plan = capture(lambda: handles.update(pool=AksGpuNodePool("extra", args)))
    assert _azure(plan) == [(POOL, "extra-gpu")]
    pool = one(plan, POOL)
    assert pool["inputs"]["resourceName"] == "their-aks"
    assert pool["inputs"]["resourceGroupName"] == "their-rg"
    assert "vnetSubnetID" not in pool["inputs"]
    assert (pool["inputs"]["minCount"], pool["inputs"]["maxCount"]) == (1, 4)
    assert pool["inputs"]["scaleSetPriority"] == "Spot"
    assert pool["dependencies"] == []
    placement = handles["pool"].placement
    assert [t.key for t in placement.tolerations] == [
        "nvidia.com/gpu",
        "kubernetes.azure.com/scalesetpriority",
    ]


def test_a_registry_mirror_needs_no_cluster() -> None:
    args = _mirror_args(pull_principal_ids={"ci": "22222222-2222-2222-2222-222222222222"})
    plan = capture(lambda: AcrMirror("mirror", args))
    assert not of_type(plan, CLUSTER)
    registry = one(plan, REGISTRY)["inputs"]
    assert registry["registryName"] == "theirmirror1"
    assert registry["encryption"]["keyVaultProperties"]["keyIdentifier"] == THEIR_KEY
    roles = {r["name"]: r["inputs"] for r in of_type(plan, ROLE)}
    assert set(roles) == {"mirror-registry-key", "mirror-ci-acrpull"}
    assert roles["mirror-registry-key"]["scope"] == THEIR_VAULT
    assert roles["mirror-ci-acrpull"]["principalId"] == "22222222-2222-2222-2222-222222222222"
    endpoint = one(plan, "azure-native:network:PrivateEndpoint")["inputs"]
    assert endpoint["subnet"]["id"] == SUBNET.format("endpoints")
    # No VNet given: the DNS zone links the endpoint subnet's VNet.
    link = one(plan, "azure-native:privatedns:VirtualNetworkLink")["inputs"]
    assert link["virtualNetwork"]["id"] == SUBNET.format("endpoints").rsplit("/subnets/", 1)[0]
    rule = one(plan, "azure-native:containerregistry:CacheRule")["inputs"]
    assert rule["targetRepository"] == "huggingface/text-generation-inference"


def test_a_workload_identity_from_an_issuer_string() -> None:
    handles: dict[str, AksWorkloadIdentity] = {}
    args = AksWorkloadIdentityArgs(
        resource_group_name="their-rg",
        oidc_issuer="https://issuer.example/their-aks/",
        workload=Workload(namespace="serving", service_account="engine"),
    )
    plan = capture(lambda: handles.update(identity=AksWorkloadIdentity("wi", args)))
    assert _azure(plan) == [
        ("azure-native:managedidentity:FederatedIdentityCredential", "wi-engine-federation"),
        ("azure-native:managedidentity:UserAssignedIdentity", "wi-engine"),
    ]
    federation = one(plan, "azure-native:managedidentity:FederatedIdentityCredential")["inputs"]
    assert federation["issuer"] == "https://issuer.example/their-aks/"
    assert federation["subject"] == "system:serviceaccount:serving:engine"
    assert federation["audiences"] == ["api://AzureADTokenExchange"]
    # No roles: the identity can do nothing until someone grants it something.
    assert not of_type(plan, ROLE)
    assert handles["identity"].identity.pod_labels == {"azure.workload.identity/use": "true"}


def test_stack_settings_map_onto_the_args() -> None:
    settings = parse_as(AzureStack, "azure-dev", _dev_config(), frozenset())
    args = azure_args(settings, WORKLOAD)
    assert args.workload == WORKLOAD
    assert azure_args(settings).workload is None
    assert args.cluster_name == "llm-azure-dev"
    assert args.vault_name == global_name("azure-dev", "vault", 24)
    assert args.registry_name == global_name("azure-dev", "registry", 50)
    assert args.tags == {
        "team": "ml-platform",
        "env": "dev",
        "project": "llmplane",
        "stack": "azure-dev",
        "managed-by": "pulumi",
    }
    assert args.control_plane == AksControlPlaneSpec(
        kubernetes_version="1.35",
        private_endpoint=False,
        authorized_cidrs=("203.0.113.0/24",),
        tier="free",
    )
    assert args.network == AzureNetworkSpec(cidr="10.0.0.0/16", existing=None)
    assert args.gpu_pool.shape.name == "Standard_NV36ads_A10_v5" and args.gpu_pool.spot
    assert args.engine_image == IMAGE
    assert args.mirror_credentials is None


def test_an_unsupported_version_is_a_settings_error() -> None:
    config = _dev_config(**{"llmplane:cluster": {"kubernetesVersion": "1.20"}})
    with pytest.raises(SettingsError) as caught:
        azure_args(parse_as(AzureStack, "azure-old", config, frozenset()))
    assert str(caught.value) == (
        "stack azure-old: llmplane:cluster.kubernetesVersion: 1.20 is not a version AKS "
        "supports for new clusters; use one of: 1.35, 1.36"
    )


def test_an_unsupported_version_exits_2_with_one_line(tmp_path: Path) -> None:
    text = (STACKS / "Pulumi.azure-dev.yaml").read_text()
    text = text.replace(
        "  llmplane:cluster:\n", "  llmplane:cluster:\n    kubernetesVersion: '1.20'\n"
    )
    (tmp_path / "Pulumi.azure-old.yaml").write_text(text)
    result = run("plan", "--json", "--stacks-dir", str(tmp_path))
    assert_bad_input(result, "stack azure-old", "llmplane:cluster.kubernetesVersion", "AKS", "1.36")
