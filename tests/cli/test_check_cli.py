"""`llmplane check` through the installed console script: exit codes and every output format."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import assert_bad_input, run
from tests.conftest import REPO, StackWriter, config_with

FIXTURES = REPO / "tests" / "fixtures" / "pulumi"
PREVIEW = str(FIXTURES / "kubernetes-dev.preview.json")
EXPORT = str(FIXTURES / "aws-dev.stack-export.json")
LB = "k8s-load-balancers-internal-or-gated"


def test_every_shipped_stack_passes_and_advisories_show_their_reason() -> None:
    result = run("check")
    assert result.returncode == 0, result.stdout + result.stderr
    for stack in ("aws-dev", "aws-prod", "azure-dev", "gcp-dev", "kubernetes-dev"):
        assert f"✓ {stack}: 0 mandatory" in result.stdout
    assert "advisory engine-image-from-private-registry" in result.stdout
    assert "fix: " in result.stdout


def test_a_preview_with_a_public_load_balancer_fails_with_exit_1() -> None:
    result = run("check", "--resources", PREVIEW)
    assert result.returncode == 1
    assert f"mandatory {LB} on kubernetes:core/v1:Service debug-lb" in result.stdout


def test_sarif_for_code_scanning(tmp_path: Path) -> None:
    result = run("check", "--resources", PREVIEW, "--format", "sarif")
    assert result.returncode == 1
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    (run_,) = sarif["runs"]
    rules = run_["tool"]["driver"]["rules"]
    assert len(rules) >= 50
    errors = [r for r in run_["results"] if r["level"] == "error"]
    (error,) = errors
    assert rules[error["ruleIndex"]]["id"] == error["ruleId"] == LB
    location = error["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == PREVIEW
    assert location["logicalLocations"][0]["fullyQualifiedName"].endswith("::debug-lb")
    assert float(rules[error["ruleIndex"]]["properties"]["security-severity"]) >= 9


def test_markdown_and_json_for_pull_requests_and_scripts() -> None:
    markdown = run("check", "--resources", EXPORT, "--format", "markdown")
    assert markdown.returncode == 0
    assert "| aws-dev.stack-export | 0 |" in markdown.stdout
    data = json.loads(run("check", "kubernetes-dev", "--format", "json").stdout)
    (stack,) = data["stacks"]
    assert stack["stack"] == "kubernetes-dev" and stack["waivers"] == {}
    assert {v["enforcement"] for v in stack["violations"]} == {"advisory"}


def test_policy_config_in_pulumis_format(tmp_path: Path) -> None:
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({LB: {"enforcementLevel": "advisory"}}))
    assert run("check", "--resources", PREVIEW, "--policy-config", str(config)).returncode == 0
    config.write_text(json.dumps({"no-such-policy": "advisory"}))
    assert_bad_input(
        run("check", "--resources", PREVIEW, "--policy-config", str(config)),
        "--policy-config",
        "no-such-policy",
        "llmplane check --list",
    )
    config.write_text("{not json")
    assert_bad_input(run("check", "--policy-config", str(config)), "is not JSON")


def test_a_file_that_is_neither_preview_nor_export_is_bad_input(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    assert_bad_input(run("check", "--resources", str(other)), "neither a preview nor")
    assert_bad_input(run("check", "--resources", str(tmp_path / "missing.json")), "cannot read")


def test_a_stack_waives_a_policy_only_with_a_reason(stack_file: StackWriter) -> None:
    reason = "the cluster's own cache operator keeps models on local NVMe"
    path = stack_file(config_with(policyWaivers={"gpu-model-cache-persistent": reason}))
    result = run("check", "test", "--stacks-dir", str(path.parent))
    assert result.returncode == 0
    assert f"waived gpu-model-cache-persistent: {reason}" in result.stdout
    plan = json.loads(run("plan", "test", "--json", "--stacks-dir", str(path.parent)).stdout)
    (stack,) = plan["stacks"]
    assert stack["waivers"] == {"gpu-model-cache-persistent": reason}
    assert any(v["waived"] == reason for v in stack["violations"])
    # With --resources, a named stack lends its waivers.
    waiver = run("check", "test", "--stacks-dir", str(path.parent), "--resources", PREVIEW)
    assert "waived gpu-model-cache-persistent" in waiver.stdout

    short = stack_file(config_with(policyWaivers={"gpu-model-cache-persistent": "ok"}), name="s")
    assert_bad_input(
        run("check", "s", "--stacks-dir", str(short.parent)),
        "llmplane:policyWaivers.gpu-model-cache-persistent",
        "20 characters",
    )
    typo = stack_file(config_with(policyWaivers={"gpu-model-cache": reason}), name="t")
    assert_bad_input(
        run("check", "t", "--stacks-dir", str(typo.parent)),
        "not a policy of the llmplane pack",
        "gpu-model-cache-persistent",
    )


def test_list_shows_every_policy() -> None:
    result = run("check", "--list")
    assert result.returncode == 0
    assert LB in result.stdout and "hf-token-never-literal" in result.stdout


def test_a_preview_that_scales_to_zero_with_nothing_holding_requests_fails(tmp_path: Path) -> None:
    # The shipped preview's ScaledObject keeps one replica; at zero, with no HTTP add-on in front
    # of the engine, a request would be refused: a mandatory finding.
    preview = json.loads(Path(PREVIEW).read_text())
    (step,) = [s for s in preview["steps"] if s["newState"]["type"].endswith(":ScaledObject")]
    step["newState"]["inputs"]["spec"]["minReplicaCount"] = 0
    path = tmp_path / "preview.json"
    path.write_text(json.dumps(preview))
    result = run("check", "--resources", str(path))
    assert result.returncode == 1
    assert "mandatory scale-to-zero-holds-requests" in result.stdout
    assert "scale-to-zero-holds-requests" not in run("check", "--resources", PREVIEW).stdout
