"""The example GitHub workflow: its pre-flight step, run as GitHub runs it, gates the preview."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

WORKFLOW = REPO / ".github" / "workflows" / "llmplane-check.yml"
BASH = shutil.which("bash")


def _workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _step(job: str, command: str) -> str:
    steps = _workflow()["jobs"][job]["steps"]
    return next(step["run"] for step in steps if command in step.get("run", ""))


def test_the_preview_runs_only_after_the_pre_flight() -> None:
    jobs = _workflow()["jobs"]
    assert jobs["preview"]["needs"] == "check"
    assert "--policy-pack policies" in _step("preview", "pulumi preview")


def _run_pre_flight(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The check step's script, with bash -e as GitHub runs `run:` steps, in a checkout's shape."""
    for name in (".venv", "stacks"):
        (tmp_path / name).symlink_to(REPO / name)
    assert BASH is not None
    return subprocess.run(
        [BASH, "-e", "-c", _step("check", "llmplane check")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_the_pre_flight_refuses_a_misspelt_policy_the_cli_would_ignore(tmp_path: Path) -> None:
    config = {"k8s-no-privileged-container": {"enforcementLevel": "mandatory"}}
    (tmp_path / "policy-config.json").write_text(json.dumps(config), encoding="utf-8")
    result = _run_pre_flight(tmp_path)
    assert result.returncode == 2
    assert "k8s-no-privileged-container" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_the_pre_flight_passes_the_shipped_stacks_and_writes_sarif(tmp_path: Path) -> None:
    result = _run_pre_flight(tmp_path)
    assert result.returncode == 0, result.stderr
    sarif = json.loads((tmp_path / "llmplane.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
