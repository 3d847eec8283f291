"""The `llmplane` console script, run as users run it: exit codes, stdout, one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, STACKS, StackWriter, config_with

LLMPLANE = Path(sys.executable).with_name("llmplane")


def run(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script, as a user would (with extra environment variables)."""
    return subprocess.run(
        [str(LLMPLANE), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def assert_bad_input(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2, nothing on stdout, exactly one line on stderr, no traceback."""
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


def test_console_script_is_installed() -> None:
    assert LLMPLANE.exists(), "make install puts `llmplane` in the virtual environment"


def test_plan_json_is_byte_identical_across_runs() -> None:
    first = run("plan", "--json", "kubernetes-dev")
    second = run("plan", "--json", "kubernetes-dev")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    document = json.loads(first.stdout)
    (plan,) = document["stacks"]
    assert set(plan) == {
        "stack",
        "project",
        "cloud",
        "resources",
        "outputs",
        "cost",
        "violations",
        "waivers",
    }
    assert plan["stack"] == "kubernetes-dev"
    for resource in plan["resources"]:
        assert set(resource) == {
            "urn", "type", "name", "parent", "custom", "provider", "dependencies", "inputs",
        }  # fmt: skip


def test_plan_json_never_shows_a_secure_value(tmp_path: Path) -> None:
    ciphertext = "v1:AAAAEncryptedTokenCiphertextAAAA"
    text = (STACKS / "Pulumi.kubernetes-dev.yaml").read_text()
    text = text.replace("config:\n", f"config:\n  llmplane:hfToken:\n    secure: {ciphertext}\n", 1)
    (tmp_path / "Pulumi.kubernetes-dev.yaml").write_text(text)
    result = run("plan", "--json", "--stacks-dir", str(tmp_path), "kubernetes-dev")
    assert result.returncode == 0, result.stderr
    assert ciphertext not in result.stdout + result.stderr
    (plan,) = json.loads(result.stdout)["stacks"]
    secrets = [r for r in plan["resources"] if r["type"] == "kubernetes:core/v1:Secret"]
    assert secrets and secrets[0]["inputs"]["stringData"] == {"HF_TOKEN": "[secret]"}


def test_plaintext_token_in_a_stack_file_is_refused_and_not_printed(
    stack_file: StackWriter,
) -> None:
    path = stack_file(config_with(hfToken="hf_PlainTextTokenValue"))
    result = run("plan", "--json", "--stacks-dir", str(path.parent))
    assert_bad_input(result, "llmplane:hfToken", "--secret")
    assert "hf_PlainTextTokenValue" not in result.stderr


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"cloud": "oracle"}, "llmplane:cloud"),
        ({"replicas": {"min": 3, "max": 1}}, "llmplane:replicas.min"),
        ({"gpuCount": 2}, "llmplane:gpuCount"),
    ],
)
def test_bad_stacks_exit_2_with_one_line(stack_file: StackWriter, changes: dict, key: str) -> None:
    path = stack_file(config_with(**changes), name="broken")
    result = run("plan", "--stacks-dir", str(path.parent))
    assert_bad_input(result, "stack broken", key)


def test_one_bad_stack_stops_the_whole_run(tmp_path: Path) -> None:
    shutil.copy(STACKS / "Pulumi.kubernetes-dev.yaml", tmp_path)
    (tmp_path / "Pulumi.zz-bad.yaml").write_text("config:\n  llmplane:cloud: oracle\n")
    assert_bad_input(run("plan", "--json", "--stacks-dir", str(tmp_path)), "zz-bad")


def test_cloud_checks_in_parallel_workers_report_the_first_stack(tmp_path: Path) -> None:
    # Shape and version checks run inside the per-cloud workers; the error reported must still
    # be the first bad stack in file order, and nothing may be printed on stdout.
    for source, name in (("gcp-dev", "b-gcp"), ("aws-dev", "a-aws")):
        text = (STACKS / f"Pulumi.{source}.yaml").read_text()
        text = text.replace(
            "  llmplane:cluster:\n", "  llmplane:cluster:\n    kubernetesVersion: '1.20'\n"
        )
        (tmp_path / f"Pulumi.{name}.yaml").write_text(text)
    shutil.copy(STACKS / "Pulumi.azure-dev.yaml", tmp_path)
    result = run("plan", "--json", "--stacks-dir", str(tmp_path))
    assert_bad_input(result, "stack a-aws", "kubernetesVersion", "EKS", "1.35")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("plan", "no-such-stack"), ("no-such-stack", "kubernetes-dev")),
        (("plan", "--stacks-dir", "/no/such/dir"), ("--stacks-dir",)),
        (("plan", "--colour"), ("--colour",)),
        (("graph",), ("llmplane graph: STACK: is missing",)),
        (("frobnicate",), ("frobnicate",)),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: tuple[str, ...], words: tuple[str, ...]) -> None:
    assert_bad_input(run(*args), *words)


def test_human_plan_shows_the_tree_and_counts() -> None:
    result = run("plan")
    assert result.returncode == 0, result.stderr
    assert "kubernetes-dev (kubernetes):" in result.stdout
    # The existing-cluster target, KEDA with Prometheus, and the service.
    assert "kubernetes-dev (kubernetes): 13 resources in 3 components" in result.stdout
    assert "llmplane:index:InferenceService" in result.stdout
    assert "kubernetes:apps/v1:Deployment" in result.stdout
    assert "endpoint = http://" in result.stdout


def test_graph_prints_mermaid_with_dependency_edges() -> None:
    result = run("graph", "kubernetes-dev")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "flowchart TD"
    ids = {
        line.split("[")[0].strip(): line for line in lines[1:] if "[" in line and "-->" not in line
    }
    namespace = next(i for i, line in ids.items() if "Namespace<br/>llm-ns" in line)
    deployment = next(i for i, line in ids.items() if "Deployment" in line)
    assert f"    {namespace} --> {deployment}" in lines


def test_help_explains_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "plan" in result.stdout and "graph" in result.stdout
