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
    AksControlPlaneArgs,
    AzureCloud,
    AzureCloudArgs,
    AzureNetworkArgs,
    ExistingSubnets,
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
from llmplane.components.cloud import GpuPoolSpec
from llmplane.components.shapes import Shape
from llmplane.infra.cloud_args.azure import azure_args
from llmplane.infra.errors import SettingsError
from llmplane.infra.settings import parse
from llmplane.infra.stackfile import read_stack_file
from tests.cli.test_cli import assert_bad_input, run
from tests.components.direct import capture, drive
from tests.conftest import STACKS
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
    from llmplane.infra.mocks_azure import resource as arm

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
    assert chain_depth(dev) == 11


def test_kubeconfig_logs_in_with_the_azure_cli() -> None:
    from llmplane.infra.mocks_azure import user_credentials

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


def _args(**changes: Any) -> AzureCloudArgs:
    args: dict[str, Any] = {
        "cluster_name": "gpu-east",
        "vault_name": "gpueastvault1",
        "registry_name": "gpueastregistry1",
        "gpu_pool": GpuPoolSpec(shape=A10, count=1, spot=False, min_nodes=0, max_nodes=3),
        "engine_image": IMAGE,
        "tags": {"team": "ml"},
        "control_plane": AksControlPlaneArgs(kubernetes_version="1.36"),
    }
    return AzureCloudArgs(**{**args, **changes})


def test_azure_cloud_builds_from_its_args_alone() -> None:
    handles: dict[str, Any] = {}
    plan = capture(lambda: handles.update(drive(AzureCloud(_args()))))
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
    placement = handles["placement"]
    assert placement.node_selector == {"llmplane/pool": "gpu"}
    assert [t.key for t in placement.tolerations] == ["nvidia.com/gpu"]
    assert handles["cluster"].name == "gpu-east"


def test_azure_cloud_uses_existing_subnets_and_mirror_credentials() -> None:
    subnet = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/net/providers/"
        "Microsoft.Network/virtualNetworks/hub/subnets/{}"
    )
    existing = ExistingSubnets(
        nodes=subnet.format("aks"),
        api_server=subnet.format("apiserver"),
        endpoints=subnet.format("endpoints"),
    )

    def build() -> None:
        token = pulumi.Output.secret("ghp_Direct7oken")
        args = _args(network=AzureNetworkArgs(existing=existing), mirror_credentials=("me", token))
        drive(AzureCloud(args))

    plan = capture(build)
    assert not of_type(plan, "azure-native:network:VirtualNetwork")
    assert one(plan, POOL)["inputs"]["vnetSubnetID"] == subnet.format("aks")
    assert one(plan, "azure-native:containerregistry:CacheRule")["inputs"][
        "credentialSetResourceId"
    ]
    assert "ghp_Direct7oken" not in json.dumps(plan)


def test_azure_cloud_refuses_what_aks_cannot_run() -> None:
    with pytest.raises(ValueError, match=r"^Kubernetes 1\.20 is not a version AKS supports"):
        AzureCloud(_args(control_plane=AksControlPlaneArgs(kubernetes_version="1.20")))
    pool = GpuPoolSpec(
        shape=replace(A10, cloud="gcp"), count=1, spot=False, min_nodes=0, max_nodes=1
    )
    with pytest.raises(ValueError, match="AzureCloud needs one of azure"):
        AzureCloud(_args(gpu_pool=pool))


def test_stack_settings_map_onto_the_args() -> None:
    settings = parse("azure-dev", _dev_config(), frozenset())
    args = azure_args(settings)
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
    assert args.control_plane == AksControlPlaneArgs(
        kubernetes_version="1.35",
        private_endpoint=False,
        authorized_cidrs=("203.0.113.0/24",),
        tier="free",
    )
    assert args.network == AzureNetworkArgs(cidr="10.0.0.0/16", existing=None)
    assert args.gpu_pool.shape.name == "Standard_NV36ads_A10_v5" and args.gpu_pool.spot
    assert args.engine_image == IMAGE
    assert args.mirror_credentials is None


def test_an_unsupported_version_is_a_settings_error() -> None:
    config = _dev_config(**{"llmplane:cluster": {"kubernetesVersion": "1.20"}})
    with pytest.raises(SettingsError) as caught:
        azure_args(parse("azure-old", config, frozenset()))
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
