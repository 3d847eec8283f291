"""The GCP target under mocks: every security property the issue names, and real dependencies."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pulumi
import pytest

from llmplane.components.cloud import GpuPoolSpec
from llmplane.components.gcp import GcpCloud, GcpCloudArgs, GcpNetworkArgs, GkeControlPlaneArgs
from llmplane.components.gcp.kms import ENCRYPTER, ROTATION
from llmplane.components.shapes import Shape
from llmplane.infra.cloud_args import cloud_for
from llmplane.infra.cloud_args.gcp import gcp_args
from llmplane.infra.errors import SettingsError
from llmplane.infra.settings import parse
from llmplane.infra.stackfile import read_stack_file
from llmplane.infra.synth import plan_stack
from tests.cli.test_cli import assert_bad_input, run
from tests.components.direct import capture, drive
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
    from llmplane.infra.mocks_gcp import resource

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
    assert chain_depth(dev) == 10


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
        cloud_for(old)


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


def _args(**changes: Any) -> GcpCloudArgs:
    args: dict[str, Any] = {
        "project": "direct-project",
        "region": "europe-west4",
        "cluster_name": "gpu-west",
        "gpu_pool": GpuPoolSpec(shape=L4, count=1, spot=False, min_nodes=1, max_nodes=4),
        "engine_image": IMAGE,
        "labels": {"team": "ml"},
    }
    return GcpCloudArgs(**{**args, **changes})


def test_gcp_cloud_builds_from_its_args_alone() -> None:
    handles: dict[str, Any] = {}
    plan = capture(lambda: handles.update(drive(GcpCloud(_args()))))
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
    placement = handles["placement"]
    assert placement.node_selector == {
        "cloud.google.com/gke-accelerator": "nvidia-l4",
        "llmplane/pool": "gpu",
    }
    assert handles["cluster"].name == "gpu-west"


def test_gcp_cloud_pins_a_version_and_reads_mirror_credentials() -> None:
    def build() -> None:
        args = _args(
            control_plane=GkeControlPlaneArgs(
                kubernetes_version="1.36",
                private_endpoint=False,
                authorized_cidrs=("198.51.100.0/24",),
                binary_authorization=True,
            ),
            network=GcpNetworkArgs(cidr="10.8.0.0/16"),
            mirror_credentials=("me", pulumi.Output.secret("ghp_Direct7oken")),
        )
        drive(GcpCloud(args))

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
    assert "ghp_Direct7oken" not in json.dumps(plan)


def test_gcp_cloud_refuses_what_gke_cannot_run() -> None:
    old = GkeControlPlaneArgs(kubernetes_version="1.20")
    with pytest.raises(ValueError, match=r"^Kubernetes 1\.20 is not a version GKE supports"):
        GcpCloud(_args(control_plane=old))
    with pytest.raises(ValueError, match="needs a project and a region"):
        GcpCloud(_args(project=""))
    pool = GpuPoolSpec(
        shape=replace(L4, cloud="azure"), count=1, spot=False, min_nodes=0, max_nodes=1
    )
    with pytest.raises(ValueError, match="GcpCloud needs one of gcp"):
        GcpCloud(_args(gpu_pool=pool))


def test_stack_settings_map_onto_the_args() -> None:
    _, config, _ = read_stack_file(STACK)
    args = gcp_args(parse("gcp-dev", config, frozenset()))
    assert (args.project, args.region) == ("my-llmplane-project", "us-central1")
    assert args.cluster_name == "llm-gcp-dev"
    assert args.labels == {
        "team": "ml-platform",
        "env": "dev",
        "project": "llmplane",
        "stack": "gcp-dev",
        "managed-by": "pulumi",
    }
    assert args.control_plane == GkeControlPlaneArgs(
        kubernetes_version=None, private_endpoint=False, authorized_cidrs=("203.0.113.0/24",)
    )
    assert args.network == GcpNetworkArgs(cidr="10.0.0.0/16")
    assert args.gpu_pool.shape.name == "g2-standard-8" and args.gpu_pool.spot
    assert args.engine_image == IMAGE
    assert args.mirror_credentials is None
