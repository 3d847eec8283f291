"""The warm-cache Job under the plan mocks, wired as InferenceService wires it, and its scripts run.

The Job and the engine's init container are built from a resolved ServiceSpec; the Deployment is
built here with `engine_pod` plus the init container, and `depends_on` the Job, as the lead's
wiring in inference.py will. Rendered objects are checked against the strict Kubernetes schemas
and the policy pack; the two shell/Python scripts are run for real against a stub Hub client.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi_kubernetes.apps.v1 import DeploymentSpecArgs
from pulumi_kubernetes.core.v1 import PodTemplateSpecArgs, ServicePortArgs, ServiceSpecArgs
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.policy.v1 import PodDisruptionBudgetSpecArgs

from llmplane.components.aws import eks
from llmplane.components.azure import aks
from llmplane.components.gcp import gke
from llmplane.components.kubernetes.pod import CACHE_PATH, TOKEN_PATH, engine_pod
from llmplane.components.kubernetes.service_spec import InferenceServiceArgs, resolve
from llmplane.components.kubernetes.traffic import network_policies
from llmplane.components.kubernetes.warm_cache import (
    DEFAULT_BACKOFF_LIMIT,
    DEFAULT_TTL_SECONDS,
    DOWNLOAD_SCRIPT,
    MARKER_DIR,
    WAIT_SCRIPT,
    WarmCacheArgs,
    check_warm_cache,
    job_timeout,
    marker_path,
    wait_for_warm_cache,
    warm_cache_job,
)
from llmplane.infra.offline.synth import stack_violations
from tests.components.direct import capture
from tests.plans import Plan, of_type, one

JOB = "kubernetes:batch/v1:Job"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SERVICE = "kubernetes:core/v1:Service"
MODEL = "meta-llama/Llama-3.1-8B-Instruct"
REVISION = "0e9e39f249a16976918f6564b8830bc894c89659"
CLAIM = "svc-model-cache"
TOKEN_SECRET = "svc-hf-token"
ARGS = InferenceServiceArgs(
    model_id=MODEL,
    revision=REVISION,
    engine="vllm",
    namespace="llm",
    placement={
        "node_selector": {"llmplane/pool": "gpu"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true"}],
    },
    shared_cache_class="llmplane-efs",
    hf_token="hf_" + "t" * 34,
    model_gated=True,
)
WARM = WarmCacheArgs(active_deadline_seconds=1800)


def _build() -> None:
    """What InferenceService does with a warm cache: Job, then a Deployment that waits for it."""
    spec = resolve("svc", ARGS)

    def meta(name: str, annotations: Any = None) -> ObjectMetaArgs:
        return ObjectMetaArgs(name=name, namespace="llm", labels=spec.labels)

    child = pulumi.ResourceOptions()
    job = warm_cache_job(spec, WARM, meta, TOKEN_SECRET, CLAIM, child)
    pod = engine_pod(spec, TOKEN_SECRET, "svc", CLAIM)
    pod.init_containers = [wait_for_warm_cache(spec, WARM)]
    k8s.apps.v1.Deployment(
        "svc",
        metadata=meta("svc"),
        spec=DeploymentSpecArgs(
            replicas=1,
            selector=LabelSelectorArgs(match_labels=spec.labels),
            template=PodTemplateSpecArgs(metadata=ObjectMetaArgs(labels=spec.labels), spec=pod),
        ),
        opts=pulumi.ResourceOptions(depends_on=[job]),
    )
    # The engine's own NetworkPolicy and PDB, as InferenceService makes them.
    network_policies(spec, meta, child)
    k8s.policy.v1.PodDisruptionBudget(
        "svc-pdb",
        metadata=meta("svc"),
        spec=PodDisruptionBudgetSpecArgs(
            max_unavailable=1, selector=LabelSelectorArgs(match_labels=spec.labels)
        ),
    )
    k8s.core.v1.Service(
        "svc-svc",
        metadata=meta("svc"),
        spec=ServiceSpecArgs(
            selector=spec.labels, ports=[ServicePortArgs(port=80, target_port="http")]
        ),
    )


@pytest.fixture(scope="module")
def plan() -> Plan:
    return capture(_build)


def _pod(resource: dict[str, Any]) -> dict[str, Any]:
    return resource["inputs"]["spec"]["template"]["spec"]


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def test_the_job_downloads_the_pinned_revision_into_the_engines_cache(plan: Plan) -> None:
    job = one(plan, JOB)["inputs"]
    assert job["metadata"] == {
        "name": "svc-warm",
        "namespace": "llm",
        "labels": job["spec"]["template"]["metadata"]["labels"],
    }
    (container,) = _pod(one(plan, JOB))["containers"]
    engine = one(plan, DEPLOYMENT)
    (served,) = _pod(engine)["containers"]
    # The engine's own image: its python3 and huggingface_hub, the env its engine resolves with.
    assert container["image"] == served["image"] == "vllm/vllm-openai:v0.31.0"
    assert container["command"] == ["python3", "-c", DOWNLOAD_SCRIPT]
    env = _env(container)
    assert env["HF_HOME"] == _env(served)["HF_HOME"] == CACHE_PATH
    assert env["LLMPLANE_MODEL_ID"] == MODEL
    assert env["LLMPLANE_REVISION"] == REVISION
    assert (
        env["LLMPLANE_WARM_MARKER"]
        == f"{MARKER_DIR}/meta-llama--Llama-3.1-8B-Instruct@{REVISION}.done"
    )
    assert "*.safetensors" in json.loads(env["LLMPLANE_ALLOW_PATTERNS"])
    # The gated model's token: a file outside the shared cache, read-only.
    token_path = env["HF_TOKEN_PATH"]
    assert not token_path.startswith(CACHE_PATH) and token_path != TOKEN_PATH
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts["hf-token"]["readOnly"] is True
    assert token_path.startswith(mounts["hf-token"]["mountPath"])
    assert mounts["cache"]["mountPath"] == CACHE_PATH
    volumes = {v["name"]: v for v in _pod(one(plan, JOB))["volumes"]}
    assert volumes["cache"]["persistentVolumeClaim"] == {"claimName": CLAIM}
    assert volumes["hf-token"]["secret"]["secretName"] == TOKEN_SECRET


def test_the_job_is_bounded_hardened_and_placed_with_the_engine(plan: Plan) -> None:
    job = one(plan, JOB)["inputs"]["spec"]
    assert job["backoffLimit"] == DEFAULT_BACKOFF_LIMIT
    assert job["activeDeadlineSeconds"] == 1800
    assert job["ttlSecondsAfterFinished"] == DEFAULT_TTL_SECONDS
    pod = _pod(one(plan, JOB))
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False
    assert "serviceAccountName" not in pod, "not the engine's account and its cloud identity"
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert container["resources"]["requests"] == container["resources"]["limits"]
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "8Gi"}
    engine = _pod(one(plan, DEPLOYMENT))
    assert pod["nodeSelector"] == engine["nodeSelector"]
    assert pod["tolerations"] == engine["tolerations"]
    # Pulumi's Job await defaults to 10 minutes; it must outlast the deadline.
    assert job_timeout(WARM) == "35m"
    assert job_timeout(WarmCacheArgs()) == "65m"


def test_the_deployment_waits_for_the_job_and_its_pods_for_the_marker(plan: Plan) -> None:
    job, engine = one(plan, JOB), one(plan, DEPLOYMENT)
    assert job["urn"] in engine["dependencies"]
    (wait,) = _pod(engine)["initContainers"]
    (download,) = _pod(job)["containers"]
    assert _env(wait)["LLMPLANE_WARM_MARKER"] == _env(download)["LLMPLANE_WARM_MARKER"]
    assert _env(wait)["LLMPLANE_WARM_WAIT"] == "1800"
    assert wait["volumeMounts"] == [{"name": "cache", "mountPath": CACHE_PATH, "readOnly": True}]
    assert "cache" in {v["name"] for v in _pod(engine)["volumes"]}
    assert wait["securityContext"]["readOnlyRootFilesystem"] is True
    assert wait["resources"]["limits"] == wait["resources"]["requests"]


def test_no_engine_selector_picks_up_the_download_pod(plan: Plan) -> None:
    labels = one(plan, JOB)["inputs"]["spec"]["template"]["metadata"]["labels"]
    selectors = [
        one(plan, DEPLOYMENT)["inputs"]["spec"]["selector"]["matchLabels"],
        one(plan, SERVICE)["inputs"]["spec"]["selector"],
    ]
    for selector in selectors:
        assert not all(labels.get(k) == v for k, v in selector.items())


def test_the_download_pod_may_reach_dns_and_https_only(plan: Plan) -> None:
    spec = one(plan, POLICY, "svc-warm")["inputs"]["spec"]
    assert (
        spec["podSelector"]["matchLabels"]
        == (one(plan, JOB)["inputs"]["spec"]["template"]["metadata"]["labels"])
    )
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in spec
    ports = sorted(p["port"] for rule in spec["egress"] for p in rule["ports"])
    assert ports == [53, 53, 443]
    https = spec["egress"][1]["to"][0]["ipBlock"]
    assert https["except"] == ["169.254.169.254/32"]


def test_the_rendered_objects_pass_the_strict_schemas(plan: Plan) -> None:
    validator = _validator()
    versions = sorted(
        {*eks.SUPPORTED_VERSIONS, *aks.SUPPORTED_VERSIONS, *gke.SUPPORTED_VERSIONS},
        key=lambda v: tuple(int(p) for p in v.split(".")),
    )
    for resource in [one(plan, JOB), one(plan, DEPLOYMENT), *of_type(plan, POLICY)]:
        for version in (versions[0], versions[-1]):
            validator.validate(resource["inputs"], version, strict=True)


def test_the_policy_pack_finds_nothing_mandatory(plan: Plan) -> None:
    findings = stack_violations(plan["resources"], {})
    mandatory = [f for f in findings if f["enforcement"] == "mandatory"]
    assert mandatory == []


def test_bad_warm_cache_args_are_refused() -> None:
    with pytest.raises(ValueError, match="needs shared_cache_class"):
        check_warm_cache("svc", WarmCacheArgs(), None)
    with pytest.raises(ValueError, match="active_deadline_seconds must be at least 60"):
        check_warm_cache("svc", WarmCacheArgs(active_deadline_seconds=5), "llmplane-efs")
    with pytest.raises(ValueError, match="backoff_limit"):
        check_warm_cache("svc", WarmCacheArgs(backoff_limit=-1), "llmplane-efs")
    with pytest.raises(ValueError, match="allow_patterns"):
        check_warm_cache("svc", WarmCacheArgs(allow_patterns="*.json"), "llmplane-efs")  # type: ignore[typeddict-item]
    check_warm_cache("svc", WARM, "llmplane-efs")


def test_one_marker_per_model_and_revision() -> None:
    request = resolve("svc", ARGS).request
    branch = dataclasses.replace(request, revision="refs/pr/3")
    assert marker_path(request) != marker_path(branch)
    assert marker_path(branch).endswith("@refs--pr--3.done")
    assert marker_path(dataclasses.replace(request, revision=None)).endswith("@default.done")
    other = dataclasses.replace(request, model_id="Qwen/Qwen2.5-7B-Instruct")
    assert marker_path(other) != marker_path(request)


# --- The scripts, run ------------------------------------------------------------------------

STUB_HUB = """
import json, os, pathlib
def snapshot_download(repo_id, revision=None, allow_patterns=None, ignore_patterns=None):
    log = pathlib.Path(os.environ["STUB_LOG"])
    with log.open("a") as out:
        out.write(json.dumps([repo_id, revision, allow_patterns, ignore_patterns]) + "\\n")
    folder = "models--" + repo_id.replace("/", "--")
    path = pathlib.Path(os.environ["HF_HOME"], "hub", folder, "snapshots", revision or "main")
    path.mkdir(parents=True, exist_ok=True)
    weights = os.environ.get("STUB_WEIGHTS", "model.safetensors")
    if "*.bin" in allow_patterns or weights.endswith(".safetensors"):
        (path / weights).write_text("w")
    return str(path)
"""


def _run_download(tmp_path: Path, weights: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    stub = tmp_path / "stub"
    (stub / "huggingface_hub").mkdir(parents=True, exist_ok=True)
    (stub / "huggingface_hub" / "__init__.py").write_text(STUB_HUB)
    home = tmp_path / "data"
    marker = home / ".llmplane-warm" / "org--model@rev.done"
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(stub),
        "HF_HOME": str(home),
        "STUB_LOG": str(tmp_path / "calls.jsonl"),
        "STUB_WEIGHTS": weights,
        "LLMPLANE_MODEL_ID": "org/model",
        "LLMPLANE_REVISION": "rev",
        "LLMPLANE_WARM_MARKER": str(marker),
        "LLMPLANE_ALLOW_PATTERNS": json.dumps(["*.json", "*.safetensors"]),
        "LLMPLANE_IGNORE_PATTERNS": json.dumps(["original/*"]),
    }
    done = subprocess.run(
        [sys.executable, "-c", DOWNLOAD_SCRIPT], env=env, capture_output=True, text=True, timeout=60
    )
    return done, marker


def _calls(tmp_path: Path) -> list[list[Any]]:
    log = tmp_path / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_the_download_script_marks_completion_last_and_runs_once(tmp_path: Path) -> None:
    done, marker = _run_download(tmp_path, "model.safetensors")
    assert done.returncode == 0, done.stderr
    snapshot = Path(marker.read_text().strip())
    assert (snapshot / "model.safetensors").is_file()
    assert snapshot.is_relative_to(tmp_path / "data" / "hub")
    assert _calls(tmp_path) == [["org/model", "rev", ["*.json", "*.safetensors"], ["original/*"]]]
    assert not list(marker.parent.glob("*.partial"))
    again, _ = _run_download(tmp_path, "model.safetensors")
    assert again.returncode == 0 and "already warm" in again.stdout
    assert len(_calls(tmp_path)) == 1, "a warm cache is not downloaded again"


def test_the_download_script_falls_back_to_pytorch_weights(tmp_path: Path) -> None:
    done, marker = _run_download(tmp_path, "pytorch_model.bin")
    assert done.returncode == 0, done.stderr
    assert [call[2] for call in _calls(tmp_path)] == [["*.json", "*.safetensors"], ["*.bin"]]
    assert (Path(marker.read_text().strip()) / "pytorch_model.bin").is_file()


def test_the_real_hub_client_takes_the_arguments_the_script_passes() -> None:
    hub = pytest.importorskip("huggingface_hub")
    parameters = inspect.signature(hub.snapshot_download).parameters
    assert {"repo_id", "revision", "allow_patterns", "ignore_patterns"} <= set(parameters)


@pytest.mark.parametrize(("present", "code"), [(True, 0), (False, 1)])
def test_the_wait_script_passes_on_the_marker_and_gives_up_at_the_deadline(
    tmp_path: Path, present: bool, code: int
) -> None:
    marker = tmp_path / "m.done"
    if present:
        marker.write_text("/data/hub/models--org--model/snapshots/rev\n")
    env = {"PATH": os.environ["PATH"], "LLMPLANE_WARM_MARKER": str(marker)}
    done = subprocess.run(
        ["sh", "-c", WAIT_SCRIPT],
        env={**env, "LLMPLANE_WARM_WAIT": "0"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == code
    assert ("weights cache warm" in done.stdout) if present else ("not warm" in done.stderr)


def _validator() -> ModuleType:
    return pytest.importorskip("kubernetes_validate")
