"""The production InferenceService in every shipped stack: pod, availability, scaling, traffic."""

from __future__ import annotations

import json
from typing import Any

import pytest

from llmplane.components.kubernetes.engines import ENGINES
from llmplane.components.kubernetes.pod import ENGINE_UID, GRACE_SECONDS, PROBE_PERIOD
from llmplane.infra.config.settings import parse
from llmplane.infra.config.stackfile import read_stack_file
from llmplane.infra.sizing.serving import Serving, serving_for
from tests.conftest import STACKS, config_with
from tests.plans import Plan, of_type, one, plan_config, pod_spec, shipped

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
SCALER = "kubernetes:keda.sh/v1alpha1:ScaledObject"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
MIRROR_RULE = "azure-native:containerregistry:CacheRule"
AZURE_IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
MANAGED = ["aws-dev", "aws-prod", "azure-dev", "gcp-dev"]
ALL = [*MANAGED, "kubernetes-dev"]


def _serving(stack: str) -> Serving:
    _, config, secret = read_stack_file(STACKS / f"Pulumi.{stack}.yaml")
    return serving_for(parse(stack, config, secret))


def _engine_pod(plan: Plan) -> dict[str, Any]:
    return pod_spec(one(plan, DEPLOYMENT, "llm"))


@pytest.mark.parametrize("stack", ALL)
def test_probes_give_the_model_its_startup_budget(stack: str) -> None:
    plan = shipped(stack)
    (container,) = _engine_pod(plan)["containers"]
    startup = container["startupProbe"]
    budget = startup["periodSeconds"] * startup["failureThreshold"]
    assert startup["periodSeconds"] == PROBE_PERIOD and budget >= 600
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http"}
    # The budget comes from the model's size (8B: the 10-minute floor; 70B: 27 minutes).
    assert budget == _serving(stack).startup_seconds


@pytest.mark.parametrize("stack", ALL)
def test_the_engine_runs_restricted(stack: str) -> None:
    pod = _engine_pod(shipped(stack))
    assert pod["securityContext"] == {
        "fsGroup": ENGINE_UID,
        "runAsGroup": ENGINE_UID,
        "runAsNonRoot": True,
        "runAsUser": ENGINE_UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == "inference"
    (container,) = pod["containers"]
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    # The read-only root needs writable places for every cache the engines use.
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/tmp", "/home/engine", "/data", "/dev/shm"} <= mounts
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["HOME"] == "/home/engine" and env["HF_HOME"] == "/data"
    resources = container["resources"]
    assert resources["limits"]["cpu"] == resources["requests"]["cpu"]
    assert resources["limits"]["memory"] == resources["requests"]["memory"]


@pytest.mark.parametrize("stack", ALL)
def test_shared_memory_and_the_weights_cache(stack: str) -> None:
    volumes = {v["name"]: v for v in _engine_pod(shipped(stack))["volumes"]}
    shm = f"{_serving(stack).shm_gib}Gi"  # 1 GiB, 2 GiB for aws-prod's 8 shards
    assert volumes["dshm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": shm}
    plan = shipped(stack)
    claims = of_type(plan, "kubernetes:core/v1:PersistentVolumeClaim")
    shared = {
        "azure-dev": "azurefile-csi-premium",
        "aws-dev": "llmplane-efs",
        "aws-prod": "llmplane-efs",
        "gcp-dev": "llmplane-filestore",
    }
    if stack in shared:
        # One ReadWriteMany cache (Azure Files, EFS, Filestore): no replica downloads twice.
        (claim,) = claims
        assert claim["inputs"]["spec"]["accessModes"] == ["ReadWriteMany"]
        assert claim["inputs"]["spec"]["storageClassName"] == shared[stack]
        claim_name = volumes["cache"]["persistentVolumeClaim"]["claimName"]
        assert claim_name == claim["inputs"]["metadata"]["name"] == "inference-model-cache"
    else:
        # Per pod: sized to the weights plus a tenth, at least 100 GiB.
        cache = f"{_serving(stack).cache_gib}Gi"
        assert not claims and volumes["cache"]["emptyDir"]["sizeLimit"] == cache


def test_the_gke_cache_is_filestore_on_the_vpc_under_the_stack_key() -> None:
    plan = shipped("gcp-dev")
    storage = one(plan, "kubernetes:storage.k8s.io/v1:StorageClass")
    parameters = storage["inputs"]["parameters"]
    assert storage["inputs"]["provisioner"] == "filestore.csi.storage.gke.io"
    assert parameters["network"] == one(plan, "gcp:compute/network:Network")["inputs"]["name"]
    key = one(plan, "gcp:kms/cryptoKey:CryptoKey")
    assert parameters["instance-encryption-kms-key"].endswith("/cryptoKeys/cmk")
    # Filestore's service agent may use the key before any instance is created with it.
    grant = one(plan, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "llm-key-filestore")
    assert grant["urn"] in storage["dependencies"]
    assert "@cloud-filestore.iam.gserviceaccount.com" in grant["inputs"]["member"]
    assert key["urn"] in grant["dependencies"]
    cluster = one(plan, "gcp:container/cluster:Cluster")["inputs"]
    assert cluster["addonsConfig"]["gcpFilestoreCsiDriverConfig"] == {"enabled": True}


def test_the_eks_cache_is_encrypted_and_reachable_only_from_the_nodes() -> None:
    plan = shipped("aws-dev")
    filesystem = one(plan, "aws:efs/fileSystem:FileSystem")["inputs"]
    key = one(plan, "aws:kms/key:Key")
    assert filesystem["encrypted"] is True and filesystem["kmsKeyId"].startswith("arn:aws:kms:")
    assert key["urn"] in one(plan, "aws:efs/fileSystem:FileSystem")["dependencies"]
    (rule,) = one(plan, "aws:ec2/securityGroup:SecurityGroup", "llm-cache-nfs")["inputs"]["ingress"]
    assert (rule["fromPort"], rule["toPort"]) == (2049, 2049)
    assert rule["securityGroups"][0].startswith("sg-") and not rule.get("cidrBlocks")
    assert len(of_type(plan, "aws:efs/mountTarget:MountTarget")) == 3
    storage = one(plan, "kubernetes:storage.k8s.io/v1:StorageClass")["inputs"]
    assert storage["provisioner"] == "efs.csi.aws.com"
    assert storage["parameters"]["uid"] == str(ENGINE_UID)


@pytest.mark.parametrize("stack", ALL)
def test_availability_rollout_pdb_spread_and_drain(stack: str) -> None:
    plan = shipped(stack)
    deployment = one(plan, DEPLOYMENT, "llm")["inputs"]["spec"]
    assert deployment["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    pdb = one(plan, "kubernetes:policy/v1:PodDisruptionBudget")["inputs"]["spec"]
    assert pdb["maxUnavailable"] == 1
    assert pdb["selector"] == deployment["selector"]
    pod = _engine_pod(plan)
    keys = {c["topologyKey"] for c in pod["topologySpreadConstraints"]}
    assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    assert pod["terminationGracePeriodSeconds"] == GRACE_SECONDS
    assert pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"


def _with_engine(stack: str, engine: str) -> Plan:
    _, config, _ = read_stack_file(STACKS / f"Pulumi.{stack}.yaml")
    return plan_config(stack, {**config, "llmplane:engine": engine})


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_keda_scales_on_each_engines_queue_never_on_cpu(engine: str) -> None:
    plan = _with_engine("aws-prod", engine)
    scaler = one(plan, SCALER)["inputs"]
    (trigger,) = scaler["spec"]["triggers"]
    assert trigger["type"] == "prometheus"
    assert trigger["metadata"]["query"] == (
        f'sum({ENGINES[engine].queue_metric}{{namespace="llm-aws-prod",'
        # Only this service's pods: another service in the namespace has its own queue.
        'app_kubernetes_io_instance="aws-prod-inference"})'
    )
    assert trigger["metadata"]["serverAddress"].startswith("http://prometheus-server.monitoring")
    assert scaler["spec"]["scaleTargetRef"] == {"name": "inference"}
    settings = read_stack_file(STACKS / "Pulumi.aws-prod.yaml")[1]["llmplane:replicas"]
    assert scaler["spec"]["minReplicaCount"] == settings["min"]
    assert scaler["spec"]["maxReplicaCount"] == settings["max"]
    assert scaler["spec"]["cooldownPeriod"] >= 300
    assert not of_type(plan, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    # KEDA and Prometheus are part of the platform, from pinned charts.
    releases = {
        r["inputs"]["chart"]: r["inputs"]["version"]
        for r in of_type(plan, "kubernetes:helm.sh/v3:Release")
    }
    assert releases == {"keda": "2.20.2", "prometheus": "27.19.0"}
    assert one(plan, SCALER)["dependencies"], "waits for KEDA's CRDs"


@pytest.mark.parametrize("stack", ALL)
def test_network_policy_denies_by_default_and_opens_only_what_is_needed(stack: str) -> None:
    plan = shipped(stack)
    policies = {p["inputs"]["metadata"]["name"]: p["inputs"]["spec"] for p in of_type(plan, POLICY)}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    engine = policies["inference-traffic"]
    (ingress,) = engine["ingress"]
    assert ingress["ports"] == [{"port": "http", "protocol": "TCP"}]
    peers = [json.dumps(p, sort_keys=True) for p in ingress["from"]]
    assert any('"llmplane.io/client": "true"' in p for p in peers)
    assert any('"kubernetes.io/metadata.name": "monitoring"' in p for p in peers)
    assert not any('"0.0.0.0/0"' in p for p in peers)
    dns, https = engine["egress"]
    assert {p["port"] for p in dns["ports"]} == {53}
    assert https["ports"] == [{"port": 443, "protocol": "TCP"}]
    assert https["to"][0]["ipBlock"]["except"] == ["169.254.169.254/32"]


@pytest.mark.parametrize("stack", ALL)
def test_no_public_unauthenticated_service(stack: str) -> None:
    internal = {
        "aws-dev": "service.beta.kubernetes.io/aws-load-balancer-internal",
        "aws-prod": "service.beta.kubernetes.io/aws-load-balancer-internal",
        "azure-dev": "service.beta.kubernetes.io/azure-load-balancer-internal",
        "gcp-dev": "networking.gke.io/load-balancer-type",
    }
    for service in of_type(shipped(stack), SERVICE):
        kind = service["inputs"]["spec"]["type"]
        # ExternalName: a held service's front door, a DNS alias of the in-cluster interceptor.
        assert kind in {"ClusterIP", "LoadBalancer", "ExternalName"}
        if kind == "ExternalName":
            assert service["inputs"]["spec"]["externalName"].endswith(".svc.cluster.local")
        if kind == "LoadBalancer":
            annotations = service["inputs"]["metadata"]["annotations"]
            assert annotations[internal[stack]] in {"true", "Internal"}


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    """JSON paths where two plans differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b))
        return [d for k in keys for d in _differences(a.get(k), b.get(k), f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _differences(x, y, f"{path}/{i}")
        ]
    return [] if a == b else [path]


# What an engine switch may touch: the engine container, its pod annotations, the queue query.
ALLOWED = (
    "/spec/template/spec/containers/0/name",
    "/spec/template/spec/containers/0/image",
    "/spec/template/spec/containers/0/command",
    "/spec/template/spec/containers/0/args",
    "/spec/template/spec/containers/0/ports/0/containerPort",
    "/spec/template/metadata/annotations/prometheus.io/port",
    "/spec/triggers/0/metadata/query",
    # The warm-cache Job downloads with the engine's own image; the engine pods wait for it
    # with that image too (no second image to pull onto the GPU node).
    "/spec/template/spec/initContainers/0/image",
)
WARM_JOB = "kubernetes:batch/v1:Job"
HELD = "kubernetes:http.keda.sh/v1alpha1:HTTPScaledObject"
RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.mark.parametrize("engine", ["vllm", "sglang"])
@pytest.mark.parametrize("stack", ["kubernetes-dev", "azure-dev"])
def test_switching_engines_changes_only_the_engine(stack: str, engine: str) -> None:
    tgi, other = _with_engine(stack, "tgi"), _with_engine(stack, engine)
    assert [r["urn"] for r in tgi["resources"]] == [r["urn"] for r in other["resources"]]
    changed = []
    for before, after in zip(tgi["resources"], other["resources"], strict=True):
        for path in _differences(before["inputs"], after["inputs"]):
            changed.append((before["type"], path))
    for type_, path in changed:
        if type_ == MIRROR_RULE:  # the private registry caches the engine's image repository
            assert path in {"/sourceRepository", "/targetRepository"}
            continue
        if type_ == WARM_JOB:
            assert path == "/spec/template/spec/containers/0/image", path
            continue
        if type_ in {HELD, RELEASE}:
            # How long a request is held at zero replicas is the engine's cold start.
            assert "imeout" in path, (type_, path)
            continue
        assert type_ in {DEPLOYMENT, SCALER} and path.startswith(ALLOWED), (type_, path)
    assert {DEPLOYMENT, SCALER} <= {t for t, _ in changed}
    # The cold start follows the engine: its image's size and its warm-up.
    outputs = _differences(tgi["outputs"], other["outputs"])
    assert outputs[0] == "/engine" and outputs[1:]
    assert all(path.startswith("/gpu/coldStart/") for path in outputs[1:]), outputs


def test_the_grafana_dashboard_covers_every_engines_metrics() -> None:
    from tests.conftest import REPO

    dashboard = json.loads((REPO / "dashboards" / "llm-inference.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    for engine in ENGINES.values():
        assert engine.queue_metric in exprs, engine.name
    assert {v["name"] for v in dashboard["templating"]["list"]} == {"datasource", "namespace"}


@pytest.mark.parametrize(
    ("stack", "annotation", "identity_type"),
    [
        ("aws-dev", "eks.amazonaws.com/role-arn", "aws:iam/role:Role"),
        ("azure-dev", "azure.workload.identity/client-id", AZURE_IDENTITY),
        ("gcp-dev", "iam.gke.io/gcp-service-account", "gcp:serviceaccount/account:Account"),
    ],
)  # fmt: skip
def test_the_engine_has_its_own_cloud_identity_with_no_permissions(
    stack: str, annotation: str, identity_type: str
) -> None:
    plan = shipped(stack)
    account = one(plan, "kubernetes:core/v1:ServiceAccount", "llm-sa")["inputs"]
    assert account["automountServiceAccountToken"] is False
    assert account["metadata"]["annotations"][annotation]
    identity = one(plan, identity_type, "llm-engine" + ("-irsa" if stack == "aws-dev" else ""))
    # Bound to exactly this namespace's `inference` account...
    text = json.dumps([r["inputs"] for r in plan["resources"] if "llm-engine" in r["name"]])
    assert f"{plan['outputs']['namespace']}" in text and "inference" in text
    # ...and granted nothing: no policy, role assignment or IAM role refers to it.
    grants = ("rolePolicyAttachment", "rolePolicy:", "RoleAssignment", "iAMMember:IAMMember")
    for resource in plan["resources"]:
        # The one binding allowed is the federation itself: the account may act as the identity.
        if resource["name"].endswith("-workload-identity"):
            assert resource["inputs"]["role"] == "roles/iam.workloadIdentityUser"
            continue
        if any(g in resource["type"] for g in grants):
            assert identity["urn"] not in resource["dependencies"], resource["name"]
    labels = _engine_pod_labels(plan)
    assert (labels.get("azure.workload.identity/use") == "true") == (stack == "azure-dev")


def _engine_pod_labels(plan: Plan) -> dict[str, str]:
    deployment = one(plan, DEPLOYMENT, "llm")["inputs"]["spec"]
    return deployment["template"]["metadata"]["labels"]


def test_active_hours_wake_a_service_that_scaled_to_zero() -> None:
    hours = {"timezone": "Europe/Berlin", "start": "0 8 * * 1-5", "end": "0 20 * * 1-5"}
    plan = plan_config("wake", config_with(replicas={"min": 0, "max": 2, "activeHours": hours}))
    scaler = one(plan, SCALER)["inputs"]["spec"]
    assert scaler["minReplicaCount"] == 0
    queue, cron, held = scaler["triggers"]
    assert queue["type"] == "prometheus"
    # The schedule keeps replicas up in working hours; outside them, a request held by KEDA's
    # HTTP add-on (the external-push trigger) brings one back.
    assert cron == {"type": "cron", "metadata": {**hours, "desiredReplicas": "1"}}
    assert held["type"] == "external-push"
    assert len(one(shipped("aws-dev"), SCALER)["inputs"]["spec"]["triggers"]) == 1
