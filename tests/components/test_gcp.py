"""The GCP components under mocks: the issue's security properties, each component alone.

Every property the issue names and real dependencies, on the shipped stack and on typed args;
then each nested component built by itself, on resources llmplane did not create.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pulumi
import pytest

from llmplane.components.cloud import GpuPoolSpec, WorkloadIdentity
from llmplane.components.cluster import Workload
from llmplane.components.gcp import (
    ArtifactRegistryMirror,
    ArtifactRegistryMirrorArgs,
    CloudKmsKey,
    CloudKmsKeyArgs,
    GcpNetwork,
    GcpNetworkArgs,
    GcpNetworkSpec,
    GkeControlPlane,
    GkeControlPlaneArgs,
    GkeControlPlaneSpec,
    GkeGpuCluster,
    GkeGpuClusterArgs,
    GkeGpuNodePool,
    GkeGpuNodePoolArgs,
    GkeWorkloadIdentity,
    GkeWorkloadIdentityArgs,
)
from llmplane.components.gcp.kms import ENCRYPTER, ROTATION
from llmplane.components.shapes import Shape
from llmplane.infra.cloud_args import cluster_for
from llmplane.infra.cloud_args.gcp import gcp_args
from llmplane.infra.config.errors import SettingsError
from llmplane.infra.config.settings import GcpStack, parse
from llmplane.infra.config.stackfile import read_stack_file
from llmplane.infra.offline.synth import plan_stack
from tests.cli.test_cli import assert_bad_input, run
from tests.components.direct import capture
from tests.conftest import parse_as
from tests.plans import chain_depth, of_type, one, plan_config, pod_spec, upstream

STACK = Path(__file__).resolve().parents[2] / "stacks" / "Pulumi.gcp-dev.yaml"
CLUSTER = "gcp:container/cluster:Cluster"
POOL = "gcp:container/nodePool:NodePool"
KEY = "gcp:kms/cryptoKey:CryptoKey"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
KEY_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"


@pytest.fixture(scope="module")
def dev() -> dict[str, Any]:
    return plan_stack(STACK)


def _key_id(plan: dict[str, Any]) -> str:
    from llmplane.infra.offline.mocks_gcp import resource

    key = one(plan, KEY)
    return resource(key["name"], key["inputs"], key["type"])["id"]


def test_nodes_are_private_and_the_api_is_limited(dev: dict[str, Any]) -> None:
    cluster = one(dev, CLUSTER)["inputs"]
    assert cluster["privateClusterConfig"]["enablePrivateNodes"] is True
    assert cluster["privateClusterConfig"]["enablePrivateEndpoint"] is False
    blocks = cluster["masterAuthorizedNetworksConfig"]["cidrBlocks"]
    assert [b["cidrBlock"] for b in blocks] == ["203.0.113.0/24"]
    _, config, _ = read_stack_file(STACK)
    config["llmplane:cluster"] = {"privateEndpoint": True}
    private = one(plan_config("gcp-private", config), CLUSTER)["inputs"]
    assert private["privateClusterConfig"]["enablePrivateEndpoint"] is True
    assert private["masterAuthorizedNetworksConfig"].get("cidrBlocks", []) == []


def test_secrets_disks_and_registries_use_the_cmek(dev: dict[str, Any]) -> None:
    key_id = _key_id(dev)
    cluster = one(dev, CLUSTER)["inputs"]
    assert cluster["databaseEncryption"] == {"keyName": key_id, "state": "ENCRYPTED"}
    for pool in of_type(dev, POOL):
        assert pool["inputs"]["nodeConfig"]["bootDiskKmsKey"] == key_id
    for repository in of_type(dev, REPOSITORY):
        assert repository["inputs"]["kmsKeyName"] == key_id
    assert one(dev, KEY)["inputs"]["rotationPeriod"] == ROTATION == "7776000s"


def test_workload_identity_shielded_nodes_and_node_account(dev: dict[str, Any]) -> None:
    cluster = one(dev, CLUSTER)["inputs"]
    assert cluster["workloadIdentityConfig"] == {"workloadPool": "my-llmplane-project.svc.id.goog"}
    assert cluster["enableShieldedNodes"] is True
    assert cluster["enableLegacyAbac"] is False
    assert cluster["datapathProvider"] == "ADVANCED_DATAPATH"
    assert cluster["monitoringConfig"]["managedPrometheus"] == {"enabled": True}
    assert cluster["removeDefaultNodePool"] is True
    account = one(dev, "gcp:serviceaccount/account:Account", "llm-nodes")["inputs"]
    email = f"{account['accountId']}@my-llmplane-project.iam.gserviceaccount.com"
    for pool in of_type(dev, POOL):
        node = pool["inputs"]["nodeConfig"]
        assert node["serviceAccount"] == email, "never the default compute account"
        assert node["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
        assert node["shieldedInstanceConfig"] == {
            "enableIntegrityMonitoring": True,
            "enableSecureBoot": True,
        }
        assert node["imageType"] == "COS_CONTAINERD"
    project_roles = {r["inputs"]["role"] for r in of_type(dev, "gcp:projects/iAMMember:IAMMember")}
    assert project_roles == {"roles/logging.logWriter", "roles/monitoring.metricWriter"}
    readers = of_type(dev, "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")
    assert {r["inputs"]["role"] for r in readers} == {"roles/artifactregistry.reader"}
    assert {r["inputs"]["member"] for r in readers} == {f"serviceAccount:{email}"}


def test_gpu_pool_placement(dev: dict[str, Any]) -> None:
    gpu = one(dev, POOL, "llm-gpu")["inputs"]
    (accelerator,) = gpu["nodeConfig"]["guestAccelerators"]
    assert accelerator["type"] == "nvidia-l4" and accelerator["count"] == 1
    assert accelerator["gpuDriverInstallationConfig"] == {"gpuDriverVersion": "LATEST"}
    assert gpu["autoscaling"]["totalMinNodeCount"] == 0
    assert gpu["nodeConfig"]["spot"] is True
    engine = pod_spec(one(dev, "kubernetes:apps/v1:Deployment", "llm"))
    assert engine["nodeSelector"]["cloud.google.com/gke-accelerator"] == "nvidia-l4"
    # GKE taints GPU nodes nvidia.com/gpu=present:NoSchedule by itself.
    assert {
        "key": "nvidia.com/gpu",
        "operator": "Equal",
        "value": "present",
        "effect": "NoSchedule",
    } in engine["tolerations"]
    assert not of_type(dev, "kubernetes:apps/v1:DaemonSet"), "GKE runs the device plugin itself"


def test_remote_repository_caches_ghcr(dev: dict[str, Any]) -> None:
    cache = one(dev, REPOSITORY, "llm-cache")["inputs"]
    assert cache["mode"] == "REMOTE_REPOSITORY"
    custom = cache["remoteRepositoryConfig"]["dockerRepository"]["customRepository"]
    assert custom == {"uri": "https://ghcr.io"}
    images = one(dev, REPOSITORY, "llm-images")["inputs"]
    assert images["dockerConfig"] == {"immutableTags": True}
    assert images["cleanupPolicies"]
    image = pod_spec(one(dev, "kubernetes:apps/v1:Deployment", "llm"))["containers"][0]["image"]
    assert image == (
        "us-central1-docker.pkg.dev/my-llmplane-project/llm-gcp-dev-cache/"
        "huggingface/text-generation-inference:3.3.7"
    )


def test_each_cmek_use_waits_for_its_service_agent_binding(dev: dict[str, Any]) -> None:
    members = {m["name"].rsplit("-", 1)[1]: m for m in of_type(dev, KEY_MEMBER)}
    assert {m["inputs"]["role"] for m in members.values()} == {ENCRYPTER}
    assert members["gke"]["inputs"]["member"].endswith(
        "@container-engine-robot.iam.gserviceaccount.com"
    )
    assert members["compute"]["inputs"]["member"].endswith(
        "@compute-system.iam.gserviceaccount.com"
    )
    assert members["registry"]["inputs"]["member"].endswith(
        "@gcp-sa-artifactregistry.iam.gserviceaccount.com"
    )
    assert members["gke"]["urn"] in one(dev, CLUSTER)["dependencies"]
    for pool in of_type(dev, POOL):
        assert members["compute"]["urn"] in pool["dependencies"]
    for repository in of_type(dev, REPOSITORY):
        assert members["registry"]["urn"] in repository["dependencies"]


def test_dependencies_are_real_and_minimal(dev: dict[str, Any]) -> None:
    services = {s["urn"] for s in of_type(dev, "gcp:projects/service:Service")}
    assert services & set(one(dev, "gcp:compute/network:Network")["dependencies"])
    cluster = one(dev, CLUSTER)
    for pool in of_type(dev, POOL):
        assert cluster["urn"] in pool["dependencies"]
    # The registries wait for the key, not for the network or the cluster.
    for repository in of_type(dev, REPOSITORY):
        assert not [
            u for u in upstream(dev, repository) if ":gcp:compute/" in u or ":gcp:container/" in u
        ]
    # APIs -> key ring -> key -> agent binding -> cluster -> provider -> namespace -> service
    # account -> engine -> its ScaledObject.
    # One more since #18: the engine waits for the Job that warms the shared weights cache.
    assert chain_depth(dev) == 11


def test_upstream_token_is_a_secret_only_the_registry_agent_reads() -> None:
    _, config, _ = read_stack_file(STACK)
    config |= {"llmplane:mirrorUsername": "octocat", "llmplane:mirrorToken": "ghp_GcpTok3n"}
    plan = plan_config("gcp-mirror", config, frozenset({"llmplane:mirrorToken"}))
    assert "ghp_GcpTok3n" not in json.dumps(plan)
    version = one(plan, "gcp:secretmanager/secretVersion:SecretVersion")["inputs"]
    assert version["secretData"] == "[secret]"
    access = one(plan, "gcp:secretmanager/secretIamMember:SecretIamMember")["inputs"]
    assert access["role"] == "roles/secretmanager.secretAccessor"
    assert access["member"].endswith("@gcp-sa-artifactregistry.iam.gserviceaccount.com")
    credentials = one(plan, REPOSITORY, "llm-cache")["inputs"]["remoteRepositoryConfig"][
        "upstreamCredentials"
    ]
    assert credentials["usernamePasswordCredentials"]["username"] == "octocat"


def test_kubernetes_version_must_be_one_the_channel_offers() -> None:
    _, config, _ = read_stack_file(STACK)
    pinned = plan_config("gcp-pinned", config | {"llmplane:cluster": {"kubernetesVersion": "1.36"}})
    assert one(pinned, CLUSTER)["inputs"]["minMasterVersion"] == "1.36"
    old = parse(
        "gcp-old", config | {"llmplane:cluster": {"kubernetesVersion": "1.20"}}, frozenset()
    )
    with pytest.raises(SettingsError, match=r"1\.20 is not a version GKE supports"):
        cluster_for(old, ENGINE)


def test_an_unsupported_version_exits_2_with_one_line(tmp_path: Path) -> None:
    text = STACK.read_text().replace(
        "  llmplane:cluster:\n", "  llmplane:cluster:\n    kubernetesVersion: '1.20'\n"
    )
    (tmp_path / "Pulumi.gcp-old.yaml").write_text(text)
    result = run("plan", "--json", "--stacks-dir", str(tmp_path))
    assert_bad_input(result, "stack gcp-old", "llmplane:cluster.kubernetesVersion", "GKE", "1.35")


# Built directly from typed args: no stack file, no StackSettings, no catalog lookup.
L4 = Shape(
    cloud="gcp",
    name="g2-standard-8",
    gpu="L4",
    gpu_count=1,
    gpu_memory_gib=24,
    vcpu=8,
    memory_gib=32,
    local_disk_gib=0,
    source="test",
    as_of="2026-11-28",
)
IMAGE = "ghcr.io/huggingface/text-generation-inference:3.3.7"
POOL_SPEC = GpuPoolSpec(shape=L4, count=1, spot=False, min_nodes=1, max_nodes=4)
ENGINE = Workload(namespace="llm", service_account="llm")
COMPONENTS = {
    "llmplane:gcp:EncryptionKey",
    "llmplane:gcp:Network",
    "llmplane:gcp:ControlPlane",
    "llmplane:gcp:GpuNodePool",
    "llmplane:gcp:RegistryMirror",
    "llmplane:gcp:WorkloadIdentity",
}


def _args(**changes: Any) -> GkeGpuClusterArgs:
    args: dict[str, Any] = {
        "project": "direct-project",
        "region": "europe-west4",
        "cluster_name": "gpu-west",
        "gpu_pool": POOL_SPEC,
        "engine_image": IMAGE,
        "labels": {"team": "ml"},
        "workload": ENGINE,
    }
    return GkeGpuClusterArgs(**{**args, **changes})


def _children(plan: dict[str, Any], parent: dict[str, Any]) -> list[dict[str, Any]]:
    """The resources whose parent is `parent`."""
    return [r for r in plan["resources"] if r["parent"] == parent["urn"]]


def _created(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Every resource of the plan but the stack itself."""
    return [r for r in plan["resources"] if r["type"] != "pulumi:pulumi:Stack"]


def _types(resources: list[dict[str, Any]]) -> list[str]:
    return sorted(r["type"] for r in resources)


def test_gke_gpu_cluster_builds_from_its_args_alone() -> None:
    built: dict[str, GkeGpuCluster] = {}
    plan = capture(lambda: built.update(gke=GkeGpuCluster("llm", _args())))
    cluster = one(plan, CLUSTER)
    inputs = cluster["inputs"]
    assert inputs["name"] == "gpu-west" and inputs["location"] == "europe-west4"
    # No version: the release channel chooses; and the endpoint is private by default.
    assert "minMasterVersion" not in inputs
    assert inputs["privateClusterConfig"]["enablePrivateEndpoint"] is True
    assert inputs["binaryAuthorization"] == {"evaluationMode": "DISABLED"}
    assert inputs["resourceLabels"] == {"team": "ml"}
    assert inputs["workloadIdentityConfig"] == {"workloadPool": "direct-project.svc.id.goog"}
    gpu = one(plan, POOL, "llm-gpu")
    assert cluster["urn"] in gpu["dependencies"]
    assert gpu["inputs"]["nodeConfig"]["machineType"] == "g2-standard-8"
    assert gpu["inputs"]["nodeConfig"]["spot"] is False
    assert gpu["inputs"]["autoscaling"]["totalMinNodeCount"] == 1
    assert gpu["inputs"]["autoscaling"]["totalMaxNodeCount"] == 4
    cache = one(plan, REPOSITORY, "llm-cache")["inputs"]
    assert cache["mode"] == "REMOTE_REPOSITORY" and cache["location"] == "europe-west4"
    assert cache["remoteRepositoryConfig"]["dockerRepository"]["customRepository"] == {
        "uri": "https://ghcr.io"
    }
    assert "upstreamCredentials" not in cache["remoteRepositoryConfig"]
    gke = built["gke"]
    assert gke.placement.node_selector == {
        "cloud.google.com/gke-accelerator": "nvidia-l4",
        "llmplane/pool": "gpu",
    }
    assert gke.cluster.name == "gpu-west"
    assert gke.cluster.shared_cache_class == "llmplane-filestore"
    assert gke.kubeconfig is gke.cluster.kubeconfig and gke.kubeconfig is not None
    assert gke.registry is not None
    assert set(gke.identity.annotations) == {"iam.gke.io/gcp-service-account"}
    account = one(plan, "gcp:serviceaccount/account:Account", "llm-engine")["inputs"]
    assert account["accountId"] == "gpu-west-engine"
    binding = one(plan, "gcp:serviceaccount/iAMMember:IAMMember")["inputs"]
    assert binding["role"] == "roles/iam.workloadIdentityUser"
    assert binding["member"] == "serviceAccount:direct-project.svc.id.goog[llm/llm]"


def test_the_composite_is_a_tree_of_few_nested_components() -> None:
    plan = capture(lambda: GkeGpuCluster("llm", _args()))
    root = one(plan, "llmplane:gcp:GpuCluster", "llm")
    direct = _children(plan, root)
    nested = [r for r in direct if r["type"].startswith("llmplane:")]
    assert {r["type"] for r in nested} == COMPONENTS
    # Each nested component has the composite's name, so its children keep theirs (llm-gke...).
    assert {r["name"] for r in nested} == {"llm"}
    # Besides them, only what belongs to the whole: the APIs, the provider, the cache's class.
    assert _types([r for r in direct if not r["type"].startswith("llmplane:")]) == [
        "gcp:projects/service:Service"
    ] * 6 + ["kubernetes:storage.k8s.io/v1:StorageClass", "pulumi:providers:kubernetes"]
    assert len(direct) == 14 < len(plan["resources"]) - 20
    by_type = {r["type"]: r for r in nested}
    assert _types(_children(plan, by_type["llmplane:gcp:ControlPlane"])) == [
        "gcp:container/cluster:Cluster",
        "gcp:container/nodePool:NodePool",
        "gcp:projects/iAMMember:IAMMember",
        "gcp:projects/iAMMember:IAMMember",
        "gcp:serviceaccount/account:Account",
    ]
    assert _types(_children(plan, by_type["llmplane:gcp:GpuNodePool"])) == [POOL]
    # Components wait for nothing themselves: their children carry every dependency.
    assert all(r["dependencies"] == [] for r in nested)


def test_without_a_workload_the_composite_creates_no_identity() -> None:
    built: dict[str, GkeGpuCluster] = {}
    plan = capture(lambda: built.update(gke=GkeGpuCluster("llm", _args(workload=None))))
    assert of_type(plan, "llmplane:gcp:WorkloadIdentity") == []
    assert of_type(plan, "gcp:serviceaccount/iAMMember:IAMMember") == []
    accounts = of_type(plan, "gcp:serviceaccount/account:Account")
    assert [a["name"] for a in accounts] == ["llm-nodes"]
    assert built["gke"].identity == WorkloadIdentity()
    assert built["gke"].workload_identity_email is None


def test_gke_gpu_cluster_pins_a_version_and_reads_mirror_credentials() -> None:
    def build() -> None:
        args = _args(
            control_plane=GkeControlPlaneSpec(
                kubernetes_version="1.36",
                private_endpoint=False,
                authorized_cidrs=("198.51.100.0/24",),
                binary_authorization=True,
            ),
            network=GcpNetworkSpec(cidr="10.8.0.0/16"),
            mirror_credentials=("me", pulumi.Output.secret("ghp_Direct7oken")),
        )
        GkeGpuCluster("llm", args)

    plan = capture(build)
    cluster = one(plan, CLUSTER)["inputs"]
    assert cluster["minMasterVersion"] == "1.36"
    assert cluster["binaryAuthorization"] == {"evaluationMode": "PROJECT_SINGLETON_POLICY_ENFORCE"}
    blocks = cluster["masterAuthorizedNetworksConfig"]["cidrBlocks"]
    assert [b["cidrBlock"] for b in blocks] == ["198.51.100.0/24"]
    subnet = one(plan, "gcp:compute/subnetwork:Subnetwork")["inputs"]
    assert subnet["ipCidrRange"] == "10.8.128.0/18"
    credentials = one(plan, REPOSITORY, "llm-cache")["inputs"]["remoteRepositoryConfig"][
        "upstreamCredentials"
    ]
    assert credentials["usernamePasswordCredentials"]["username"] == "me"
    access = one(plan, "gcp:secretmanager/secretIamMember:SecretIamMember")["inputs"]
    assert access["member"] == (
        "serviceAccount:service-123456789012@gcp-sa-artifactregistry.iam.gserviceaccount.com"
    )
    assert "ghp_Direct7oken" not in json.dumps(plan)


def test_the_args_refuse_what_gke_cannot_run() -> None:
    with pytest.raises(ValueError, match=r"^Kubernetes 1\.20 is not a version GKE supports"):
        _args(control_plane=GkeControlPlaneSpec(kubernetes_version="1.20"))
    with pytest.raises(ValueError, match=r"GkeGpuClusterArgs\.project is empty"):
        _args(project="")
    with pytest.raises(ValueError, match=r"GkeGpuClusterArgs\.region is empty"):
        _args(region="")
    with pytest.raises(ValueError, match=r"GkeGpuClusterArgs\.cluster_name is empty"):
        _args(cluster_name="")
    pool = GpuPoolSpec(
        shape=replace(L4, cloud="azure"), count=1, spot=False, min_nodes=0, max_nodes=1
    )
    with pytest.raises(ValueError, match=r"GkeGpuClusterArgs\.gpu_pool needs one of gcp"):
        _args(gpu_pool=pool)
    with pytest.raises(ValueError, match=r"GkeGpuNodePoolArgs\.gpu_pool needs one of gcp"):
        GkeGpuNodePoolArgs(cluster="c", location="l", service_account="sa", gpu_pool=pool)
    with pytest.raises(ValueError, match=r"ArtifactRegistryMirrorArgs\.registry_agent"):
        ArtifactRegistryMirrorArgs(
            project="p",
            region="r",
            repository_prefix="x",
            engine_image=IMAGE,
            key_id="k",
            credentials=("me", pulumi.Output.secret("t")),
        )
    with pytest.raises(ValueError, match=r"GkeWorkloadIdentityArgs\.workload"):
        GkeWorkloadIdentityArgs(
            project="p", account_prefix="x", workload=Workload(namespace="", service_account="a")
        )
    with pytest.raises(ValueError, match=r"CloudKmsKeyArgs\.key_ring_name is empty"):
        CloudKmsKeyArgs(project="p", region="r", key_ring_name="")
    with pytest.raises(ValueError, match=r"GcpNetworkArgs\.region is empty"):
        GcpNetworkArgs(region="")
    with pytest.raises(ValueError, match=r"GkeControlPlaneArgs\.cluster_name is empty"):
        GkeControlPlaneArgs(
            project="p", region="r", cluster_name="", network="n", subnetwork="s", key_id="k"
        )


def test_the_key_alone_grants_exactly_the_named_project_agents() -> None:
    built: dict[str, CloudKmsKey] = {}

    def build() -> None:
        args = CloudKmsKeyArgs(
            project="key-project",
            region="asia-east1",
            key_ring_name="ring",
            project_number="42",
            labels={"team": "sec"},
        )
        built["key"] = CloudKmsKey("sec", args)

    plan = capture(build)
    assert _types(_created(plan)) == sorted(
        [KEY, "gcp:kms/keyRing:KeyRing", "llmplane:gcp:EncryptionKey", *[KEY_MEMBER] * 4]
    )
    ring = one(plan, "gcp:kms/keyRing:KeyRing", "sec-keyring")
    assert ring["inputs"] == {"name": "ring", "location": "asia-east1"}
    assert ring["dependencies"] == []
    key = one(plan, KEY, "sec-key")
    assert key["inputs"]["labels"] == {"team": "sec"}
    assert key["inputs"]["rotationPeriod"] == ROTATION
    members = {m["name"]: m["inputs"]["member"] for m in of_type(plan, KEY_MEMBER)}
    assert members == {
        "sec-key-gke": "serviceAccount:service-42@container-engine-robot.iam.gserviceaccount.com",
        "sec-key-compute": "serviceAccount:service-42@compute-system.iam.gserviceaccount.com",
        "sec-key-registry": (
            "serviceAccount:service-42@gcp-sa-artifactregistry.iam.gserviceaccount.com"
        ),
        "sec-key-filestore": "serviceAccount:service-42@cloud-filestore.iam.gserviceaccount.com",
    }
    assert all(key["urn"] in m["dependencies"] for m in of_type(plan, KEY_MEMBER))
    assert built["key"].grants.compute is not built["key"].grants.gke


def test_the_key_looks_the_project_number_up_when_not_given() -> None:
    plan = capture(
        lambda: CloudKmsKey("k", CloudKmsKeyArgs(project="p", region="r", key_ring_name="ring"))
    )
    member = one(plan, KEY_MEMBER, "k-key-gke")["inputs"]["member"]
    assert member == (
        "serviceAccount:service-123456789012@container-engine-robot.iam.gserviceaccount.com"
    )


def test_the_network_alone() -> None:
    built: dict[str, GcpNetwork] = {}
    plan = capture(
        lambda: built.update(
            net=GcpNetwork("edge", GcpNetworkArgs(region="us-east4", cidr="10.20.0.0/16"))
        )
    )
    assert _types(_created(plan)) == [
        "gcp:compute/network:Network",
        "gcp:compute/router:Router",
        "gcp:compute/routerNat:RouterNat",
        "gcp:compute/subnetwork:Subnetwork",
        "llmplane:gcp:Network",
    ]
    vpc = one(plan, "gcp:compute/network:Network", "edge-vpc")
    assert vpc["inputs"] == {"name": "edge-vpc", "autoCreateSubnetworks": False}
    assert vpc["dependencies"] == []
    subnet = one(plan, "gcp:compute/subnetwork:Subnetwork", "edge-nodes")
    assert subnet["inputs"]["region"] == "us-east4"
    assert subnet["inputs"]["ipCidrRange"] == "10.20.128.0/18"
    assert subnet["inputs"]["privateIpGoogleAccess"] is True
    assert {r["rangeName"]: r["ipCidrRange"] for r in subnet["inputs"]["secondaryIpRanges"]} == {
        "pods": "10.20.0.0/17",
        "services": "10.20.192.0/18",
    }
    assert vpc["urn"] in subnet["dependencies"]
    nat = one(plan, "gcp:compute/routerNat:RouterNat", "edge-nat")["inputs"]
    assert nat["sourceSubnetworkIpRangesToNat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"


def test_a_gpu_pool_joins_a_cluster_llmplane_did_not_create() -> None:
    built: dict[str, GkeGpuNodePool] = {}

    def build() -> None:
        spot = replace(POOL_SPEC, spot=True, min_nodes=0, max_nodes=3)
        args = GkeGpuNodePoolArgs(
            cluster="their-cluster",
            location="us-west1",
            service_account="nodes@their-project.iam.gserviceaccount.com",
            gpu_pool=spot,
            pool_name="l4",
        )
        built["pool"] = GkeGpuNodePool("theirs", args)

    plan = capture(build)
    assert _types(_created(plan)) == [POOL, "llmplane:gcp:GpuNodePool"]
    pool = one(plan, POOL, "theirs-l4")
    assert pool["dependencies"] == []
    inputs = pool["inputs"]
    assert (inputs["cluster"], inputs["location"], inputs["name"]) == (
        "their-cluster",
        "us-west1",
        "l4",
    )
    assert inputs["autoscaling"] == {
        "totalMinNodeCount": 0,
        "totalMaxNodeCount": 3,
        "locationPolicy": "ANY",
    }
    node = inputs["nodeConfig"]
    assert node["serviceAccount"] == "nodes@their-project.iam.gserviceaccount.com"
    assert node["spot"] is True and node["labels"] == {"llmplane/pool": "l4"}
    # No key given: Google-managed boot disk encryption, not an empty key name.
    assert "bootDiskKmsKey" not in node
    assert node["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    placement = built["pool"].placement
    assert placement.node_selector == {
        "cloud.google.com/gke-accelerator": "nvidia-l4",
        "llmplane/pool": "l4",
    }
    assert [t.value for t in placement.tolerations] == ["present"]


def test_the_control_plane_alone_on_a_network_llmplane_did_not_create() -> None:
    def build() -> None:
        args = GkeControlPlaneArgs(
            project="p",
            region="us-west1",
            cluster_name="solo",
            network="projects/p/global/networks/shared",
            subnetwork="projects/p/regions/us-west1/subnetworks/gke",
            key_id="projects/p/locations/us-west1/keyRings/r/cryptoKeys/k",
        )
        GkeControlPlane("solo", args)

    plan = capture(build)
    cluster = one(plan, CLUSTER, "solo-gke")
    assert cluster["inputs"]["network"] == "projects/p/global/networks/shared"
    assert cluster["inputs"]["databaseEncryption"]["keyName"].endswith("/cryptoKeys/k")
    system = one(plan, POOL, "solo-system")
    assert system["inputs"]["nodeConfig"]["machineType"] == "e2-standard-4"
    assert cluster["urn"] in system["dependencies"]
    assert not of_type(plan, "llmplane:gcp:GpuNodePool")


def test_the_registry_mirror_needs_no_cluster() -> None:
    built: dict[str, ArtifactRegistryMirror] = {}

    def build() -> None:
        args = ArtifactRegistryMirrorArgs(
            project="reg-project",
            region="us-east1",
            repository_prefix="team",
            engine_image="vllm/vllm-openai:v0.11.0",
            key_id="projects/reg-project/locations/us-east1/keyRings/r/cryptoKeys/k",
            readers=[
                "group:ml@example.com",
                "serviceAccount:ci@reg-project.iam.gserviceaccount.com",
            ],
            labels={"team": "ml"},
        )
        built["mirror"] = mirror = ArtifactRegistryMirror("team", args)
        pulumi.export("image", mirror.registry.mirror("vllm/vllm-openai:v0.11.0"))

    plan = capture(build)
    assert not [r for r in plan["resources"] if r["type"].startswith("gcp:container/")]
    cache = one(plan, REPOSITORY, "team-cache")["inputs"]
    assert cache["repositoryId"] == "team-cache"
    assert cache["remoteRepositoryConfig"]["dockerRepository"]["customRepository"] == {
        "uri": "https://docker.io"
    }
    assert cache["kmsKeyName"].endswith("/cryptoKeys/k")
    assert one(plan, REPOSITORY, "team-images")["inputs"]["labels"] == {"team": "ml"}
    readers = {
        r["name"]: r["inputs"]["member"]
        for r in of_type(plan, "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")
    }
    assert readers == {
        "team-cache-reader": "group:ml@example.com",
        "team-cache-reader-1": "serviceAccount:ci@reg-project.iam.gserviceaccount.com",
        "team-images-reader": "group:ml@example.com",
        "team-images-reader-1": "serviceAccount:ci@reg-project.iam.gserviceaccount.com",
    }
    assert not of_type(plan, "gcp:secretmanager/secret:Secret")
    mirror = built["mirror"]
    assert mirror.registry.prefix is mirror.prefix
    assert plan["outputs"]["image"] == (
        "us-east1-docker.pkg.dev/reg-project/team-cache/vllm/vllm-openai:v0.11.0"
    )


def test_the_workload_identity_alone_from_a_project_string() -> None:
    built: dict[str, GkeWorkloadIdentity] = {}

    def build() -> None:
        args = GkeWorkloadIdentityArgs(
            project="id-project",
            account_prefix="a-rather-long-cluster-name-indeed",
            workload=Workload(namespace="serving", service_account="chat"),
        )
        built["identity"] = GkeWorkloadIdentity("chat", args)

    plan = capture(build)
    assert _types(_created(plan)) == [
        "gcp:serviceaccount/account:Account",
        "gcp:serviceaccount/iAMMember:IAMMember",
        "llmplane:gcp:WorkloadIdentity",
    ]
    account = one(plan, "gcp:serviceaccount/account:Account", "chat-engine")
    assert account["inputs"]["accountId"] == "a-rather-long-cluster-name-ind"
    binding = one(plan, "gcp:serviceaccount/iAMMember:IAMMember", "chat-engine-workload-identity")
    assert binding["inputs"]["member"] == "serviceAccount:id-project.svc.id.goog[serving/chat]"
    assert binding["inputs"]["role"] == "roles/iam.workloadIdentityUser"
    assert account["urn"] in binding["dependencies"]
    # No roles: nothing binds the account to a project or a resource.
    assert not of_type(plan, "gcp:projects/iAMMember:IAMMember")
    identity = built["identity"].identity
    assert list(identity.annotations) == ["iam.gke.io/gcp-service-account"]


def test_stack_settings_map_onto_the_args() -> None:
    _, config, _ = read_stack_file(STACK)
    workload = Workload(namespace="llm", service_account="llm")
    args = gcp_args(parse_as(GcpStack, "gcp-dev", config, frozenset()), workload)
    assert (args.project, args.region) == ("my-llmplane-project", "us-central1")
    assert args.cluster_name == "llm-gcp-dev"
    assert args.labels == {
        "team": "ml-platform",
        "env": "dev",
        "project": "llmplane",
        "stack": "gcp-dev",
        "managed-by": "pulumi",
    }
    assert args.control_plane == GkeControlPlaneSpec(
        kubernetes_version=None, private_endpoint=False, authorized_cidrs=("203.0.113.0/24",)
    )
    assert args.network == GcpNetworkSpec(cidr="10.0.0.0/16")
    assert args.gpu_pool.shape.name == "g2-standard-8" and args.gpu_pool.spot
    assert args.engine_image == IMAGE
    assert args.mirror_credentials is None
    assert args.workload == workload
    assert gcp_args(parse_as(GcpStack, "gcp-dev", config, frozenset())).workload is None
