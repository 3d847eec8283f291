"""Checkov, an independent scanner, reads the manifests the program renders and agrees."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from infra.render import kubernetes_manifests, to_yaml
from infra.settings import parse
from infra.synth import plan_validated
from tests.conftest import REPO, config_with

CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"

# What the first InferenceService must already get right. The hardening of the pod
# (securityContext, NetworkPolicy, image digests) is a separate piece of work.
MUST_PASS = {
    "CKV_K8S_8": "liveness probe",
    "CKV_K8S_9": "readiness probe",
    "CKV_K8S_10": "CPU requests",
    "CKV_K8S_12": "memory requests",
    "CKV_K8S_13": "memory limits",
    "CKV_K8S_14": "image tag is not latest",
    "CKV_K8S_16": "no privileged container",
    "CKV_K8S_17": "no host PID",
    "CKV_K8S_18": "no host IPC",
    "CKV_K8S_19": "no host network",
    "CKV_K8S_21": "not the default namespace",
    "CKV_K8S_26": "no host port",
    "CKV_K8S_27": "no Docker socket",
    "CKV_K8S_38": "no service account token",
}


@pytest.mark.skipif(not CHECKOV.exists(), reason="checkov is installed by `make install`")
def test_checkov_passes_the_basics_on_rendered_manifests(tmp_path: Path) -> None:
    config = config_with(hfToken="hf_TokenThatMustNotReachTheManifests")
    secret = frozenset({"llmplane:hfToken"})
    plan = plan_validated(parse("scan", config, secret), config, secret)
    manifests = to_yaml(kubernetes_manifests(plan))
    assert "hf_TokenThatMustNotReachTheManifests" not in manifests
    (tmp_path / "llmplane.yaml").write_text(manifests)

    result = subprocess.run(
        [str(CHECKOV), "-d", str(tmp_path), "--framework", "kubernetes", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stdout)["results"]
    passed = {(c["check_id"], c["resource"].split(".")[0]) for c in report["passed_checks"]}
    failed = {(c["check_id"], c["resource"].split(".")[0]) for c in report["failed_checks"]}
    for check_id, what in MUST_PASS.items():
        assert (check_id, "Deployment") in passed, f"{check_id} ({what}) should pass"
        assert (check_id, "Deployment") not in failed
    for kind in ("Deployment", "Service", "Secret"):
        assert ("CKV_K8S_21", kind) in passed, f"{kind} must not be in the default namespace"
