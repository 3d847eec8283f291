"""Checkov, an independent scanner, reads what `llmplane render` writes for every shipped stack."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from llmplane.infra.cli.render import write_manifests
from tests.components.test_gateway import PUBLIC, SECRETS
from tests.conftest import REPO, STACKS, config_with
from tests.plans import plan_config, shipped

CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
CONFIG = REPO / "checkov.yaml"


def _checkov(folder: Path) -> dict:
    result = subprocess.run(
        [str(CHECKOV), "-d", str(folder), "--framework", "kubernetes", "-o", "json",
         "--config-file", str(CONFIG)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    report = json.loads(result.stdout)
    return report["results"] if isinstance(report, dict) else report[0]["results"]


def test_the_skip_list_is_short_and_every_skip_is_explained() -> None:
    skips = yaml.safe_load(CONFIG.read_text())["skip-check"]
    assert 0 < len(skips) <= 3
    text = CONFIG.read_text()
    for check in skips:
        # The comment right above each id says why it is skipped.
        assert re.search(rf"#[^\n]+\n(  #[^\n]+\n)*  - {check}\n", text), check


@pytest.mark.skipif(not CHECKOV.exists(), reason="checkov is installed by `make install`")
def test_checkov_passes_every_shipped_stack(tmp_path: Path) -> None:
    stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in STACKS.glob("Pulumi.*.yaml"))
    for stack in stacks:
        write_manifests(shipped(stack), tmp_path / stack)
    # A public stack with a Hugging Face token: its gateway and Secrets are scanned too.
    config = config_with(hfToken="hf_TokenThatMustNotReachTheManifests", **PUBLIC)
    token_plan = plan_config("scan", config, SECRETS | {"llmplane:hfToken"})
    files = write_manifests(token_plan, tmp_path / "scan")
    assert not any("hf_TokenThatMustNotReachTheManifests" in f.read_text() for f in files)

    results = _checkov(tmp_path)
    failed = {(c["check_id"], c["resource"]) for c in results["failed_checks"]}
    passed = results["passed_checks"]
    assert not failed, sorted(failed)
    assert len(passed) > 900  # about 40 checks on each of ~90 objects; a scan that ran
    engine_checks = {c["check_id"] for c in passed if c["resource"].startswith("Deployment.llm-")}
    # The engine pods' hardening, as Checkov sees it.
    for check in ("CKV_K8S_20", "CKV_K8S_22", "CKV_K8S_28", "CKV_K8S_31", "CKV_K8S_37",
                  "CKV_K8S_38", "CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_11", "CKV_K8S_13"):  # fmt: skip
        assert check in engine_checks, check
    plugin_checks = {c["check_id"] for c in passed if c["resource"].startswith("DaemonSet.")}
    assert {"CKV_K8S_8", "CKV_K8S_9"} <= plugin_checks  # the device plugin's socket probes
