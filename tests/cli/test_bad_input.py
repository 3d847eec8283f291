"""Issue 17's bad inputs through the installed console script: exit 2, one line, nothing written."""

from __future__ import annotations

import json
import shutil
from importlib.metadata import version
from pathlib import Path

import pytest

from llmplane.infra.cli.grammar import one_of
from llmplane.infra.cli.render import MARKER
from llmplane.infra.config.errors import ALL_CHOICES_UP_TO
from tests.cli.test_cli import assert_bad_input, run
from tests.conftest import REPO, STACKS

LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct"


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --- 1. stack files that YAML or Python cannot read -----------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "config:\n  llmplane:cloud: kubernetes\n  llmplane:model:\n    id: caf\xe9\n".encode(
                "latin-1"
            ),
            ("Pulumi.bad.yaml", "not UTF-8", "line 4", "save the stack file as UTF-8"),
        ),
        (
            b"config:\n  llmplane:cloud: kubernetes\n  llmplane:replicas:\n    min: "
            + b"9" * 5000
            + b"\n",
            ("llmplane:replicas.min", "integer too long", "line 4"),
        ),
        (
            b"config:\n  llmplane:tags:\n    id: " + b"7" * 60 + b"\n",
            ("llmplane:tags.id", "integer of 60 characters", "quote it"),
        ),
        (
            b"config:\n  llmplane:cloud: " + b"[" * 5000 + b"]" * 5000 + b"\n",
            ("Pulumi.bad.yaml", "nests more than"),
        ),
        (
            b"config:\n  llmplane:cloud: " + b"[" * 40 + b"]" * 40 + b"\n",
            ("llmplane:cloud[0]: nests more than 32",),
        ),
        (b"config:\n  llmplane:cloud: kubernetes\n  x: 2024-02-30\n", ("llmplane:x", "date")),
        (
            b"config:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + b"".join(
                f"  {k}: &{k} [{', '.join([f'*{p}'] * 10)}]\n".encode()
                for p, k in zip("abcdef", "bcdefg", strict=True)
            ),
            ("expands to more than", "aliases"),
        ),
        (b"config: [\n", ("Pulumi.bad.yaml", "not valid YAML")),
    ],
    ids=["latin-1", "5000-digits", "60-digits", "deep-5000", "deep-40", "no-such-date", "aliases",
         "syntax"],
)  # fmt: skip
def test_an_unreadable_stack_file_is_one_line_naming_file_or_key(
    tmp_path: Path, text: bytes, words: tuple[str, ...]
) -> None:
    (tmp_path / "Pulumi.bad.yaml").write_bytes(text)
    result = run("plan", "--stacks-dir", str(tmp_path))
    assert_bad_input(result, "stack bad: ", *words)
    assert "999999" not in result.stderr  # the value itself is never quoted back


# --- 2. files the commands write ------------------------------------------------------------


@pytest.mark.parametrize(
    ("plot", "words"),
    [
        ("/nonexistent/dir/x.png", ("/nonexistent/dir", "does not exist")),
        ("chart.txt", ("chart.txt", ".png")),
        ("/proc/llmplane-chart.png", ("/proc",)),
    ],
)
def test_compare_plot_that_cannot_be_written_prints_nothing(
    tmp_path: Path, plot: str, words: tuple[str, ...]
) -> None:
    result = run("compare", "--model", LLAMA_8B, "--plot", plot, cwd=tmp_path)
    assert_bad_input(result, "llmplane compare: --plot: ", *words)
    assert list(tmp_path.iterdir()) == []


def test_render_out_that_cannot_be_a_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me\n")
    before = _tree(tmp_path)
    below = run("render", "kubernetes-dev", "--out", str(blocker / "k8s"))
    assert_bad_input(below, "llmplane render: --out: ", "a-file", "which is a file")
    assert_bad_input(run("render", "kubernetes-dev", "--out", str(blocker)), "is not a folder")
    assert_bad_input(run("render", "kubernetes-dev", "--out", "/proc/llmplane-k8s"), "--out")
    assert _tree(tmp_path) == before


def test_render_out_empty_writes_nothing_into_the_current_folder(tmp_path: Path) -> None:
    result = run("render", "kubernetes-dev", "--out", "", cwd=tmp_path)
    assert_bad_input(result, "llmplane render: --out: is empty")
    assert list(tmp_path.iterdir()) == []
    # Run from the repository as `make` does: its root gains no YAML either.
    before = sorted(p.name for p in REPO.glob("*.yaml"))
    assert_bad_input(run("render", "kubernetes-dev", "--out", " "), "--out")
    assert sorted(p.name for p in REPO.glob("*.yaml")) == before


def test_render_removes_only_the_files_an_earlier_render_wrote(tmp_path: Path) -> None:
    out = tmp_path / "k8s"
    first = run("render", "kubernetes-dev", "--out", str(out))
    assert first.returncode == 0, first.stderr
    written = sorted(p.name for p in out.glob("*.yaml"))
    assert (out / MARKER).read_text().splitlines()[1:] == written
    # An object the stack no longer has, as an earlier render left it; and the user's own file.
    (out / "deployment-llm-ns-retired.yaml").write_text("kind: Deployment\n")
    with (out / MARKER).open("a") as marker:
        marker.write("deployment-llm-ns-retired.yaml\n../outside.yaml\n")
    (out / "kustomization.yaml").write_text("resources: []\n")
    (tmp_path / "outside.yaml").write_text("not render's\n")
    second = run("render", "kubernetes-dev", "--out", str(out))
    assert second.returncode == 0, second.stderr
    assert not (out / "deployment-llm-ns-retired.yaml").exists()
    assert (out / "kustomization.yaml").read_text() == "resources: []\n"
    assert (tmp_path / "outside.yaml").exists()
    assert sorted(p.name for p in out.glob("*.yaml")) == sorted([*written, "kustomization.yaml"])


def test_render_names_the_helm_releases_it_cannot_render(tmp_path: Path) -> None:
    result = run("render", "kubernetes-dev", "--out", "/dev/null/x")
    assert_bad_input(result, "--out", "/dev/null, which is a file")
    ok = run("render", str(STACKS / "Pulumi.kubernetes-dev.yaml"), "--out", str(tmp_path))
    assert ok.returncode == 0, ok.stderr
    (note,) = ok.stderr.splitlines()
    assert note.startswith("llmplane render: 2 Helm releases are not rendered")
    assert "keda (chart keda" in note and "prometheus (chart prometheus" in note


# --- 3. a stack file's path where a stack name goes -----------------------------------------


def test_plan_takes_a_path_to_a_stack_file(tmp_path: Path) -> None:
    result = run("plan", "stacks/Pulumi.kubernetes-dev.yaml")
    assert result.returncode == 0, result.stderr
    assert "kubernetes-dev (kubernetes): 13 resources" in result.stdout
    assert_bad_input(
        run("plan", "stacks/Pulumi.nope.yaml"), "llmplane plan: STACK: stacks/Pulumi.nope.yaml"
    )
    shutil.copy(STACKS / "Pulumi.kubernetes-dev.yaml", tmp_path)
    twice = run("plan", "kubernetes-dev", str(tmp_path / "Pulumi.kubernetes-dev.yaml"))
    assert_bad_input(twice, "are both stack kubernetes-dev")


# --- 4. one grammar -------------------------------------------------------------------------


def test_version_comes_from_the_package_metadata() -> None:
    result = run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"llmplane {version('llmplane')}\n"


@pytest.mark.parametrize(
    ("args", "start", "words"),
    [
        (("plan", "--colour"), "llmplane plan: --colour: ", ("--json", "--stacks-dir")),
        (("frobnicate",), "llmplane: frobnicate: ", ("bench, check, compare, cost, graph",)),
        (("graph",), "llmplane graph: STACK: is missing", ()),
        (("compare", "--model", LLAMA_8B, "--format", "bogus"), "llmplane compare: --format: ",
         ("json, markdown, table",)),
        (("graph", "kubernetes-dev", "--format", "svg"), "llmplane graph: --format: ",
         ("dot, json, mermaid",)),
        (("size", "--context", "many"), "llmplane size: --context: ", ("integer",)),
        (("size", "--model", LLAMA_8B, "--quantize", "awk"), "llmplane size: --quantize: ",
         ("awq, bitsandbytes, bitsandbytes-fp4, bitsandbytes-nf4, compressed-tensors, eetq, "
          "exl2, fp8, gptq, marlin",)),
        (("compare", "--model", LLAMA_8B, "--regions", "us-east-9"), "llmplane compare: "
         "--regions: ", ("us-east-1",)),
        (("plan", "no-such-stack"), "llmplane plan: STACK: ", ("aws-dev, aws-prod, azure-dev",)),
        (("smoke",), "llmplane smoke: --url: is missing", ()),
        (("bench", "--concurrency", "1", "--requests", "1", "--stacks-dir", "stacks"),
         "llmplane bench: --url: is missing", ()),
        (("prices", "import", "/no/such.csv"), "llmplane prices import: ", ()),
    ],
)  # fmt: skip
def test_every_command_line_error_names_the_command_then_the_flag(
    args: tuple[str, ...], start: str, words: tuple[str, ...]
) -> None:
    result = run(*args, env={"HF_HUB_OFFLINE": "1"})
    assert_bad_input(result, *words)
    assert result.stderr.startswith(start), result.stderr


def test_suggestions_list_every_value_or_the_nearest() -> None:
    few = [f"v{i}" for i in range(ALL_CHOICES_UP_TO)]
    assert one_of("x", few) == f"use one of: {', '.join(sorted(few))}"
    many = [f"region-{i:02}" for i in range(40)]
    hint = one_of("region-7", many)
    assert hint.startswith("use one of: region-07, ") and hint.endswith("(the nearest of 40)")
    assert one_of("x" * 10_000, many)  # a pasted paragraph is not quadratic in its length


def test_enum_values_are_case_insensitive() -> None:
    result = run("graph", "kubernetes-dev", "--format", "DOT")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('digraph "kubernetes-dev" {')


# --- 5. the same options on every command ---------------------------------------------------


def test_cost_prices_several_stacks_and_graph_has_formats(tmp_path: Path) -> None:
    for name in ("k1", "k2"):
        shutil.copy(STACKS / "Pulumi.kubernetes-dev.yaml", tmp_path / f"Pulumi.{name}.yaml")
    result = run("cost", "--stacks-dir", str(tmp_path), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert [s["stack"] for s in json.loads(result.stdout)["stacks"]] == ["k1", "k2"]
    graph = run("graph", "k1", "--stacks-dir", str(tmp_path), "--format", "json")
    assert graph.returncode == 0, graph.stderr
    document = json.loads(graph.stdout)
    urns = {node["urn"] for node in document["nodes"]}
    assert document["stack"] == "k1" and len(urns) == len(document["nodes"])
    assert {edge["kind"] for edge in document["edges"]} == {"child", "dependency"}
    assert all(edge["from"] in urns and edge["to"] in urns for edge in document["edges"])


def test_bench_takes_stacks_dir_like_smoke() -> None:
    for command in ("smoke", "bench"):
        assert "--stacks-dir" in run(command, "--help").stdout


# --- 6. one bad stack does not hide the others ----------------------------------------------


def test_check_reports_every_bad_stack_and_the_good_ones(tmp_path: Path) -> None:
    good = [f"good-{i}" for i in range(5)]
    for name in good:
        shutil.copy(STACKS / "Pulumi.kubernetes-dev.yaml", tmp_path / f"Pulumi.{name}.yaml")
    (tmp_path / "Pulumi.bad-cloud.yaml").write_text("config:\n  llmplane:cloud: oracle\n")
    # Passes parsing; the AWS adapter refuses the version inside its planning worker.
    text = (STACKS / "Pulumi.aws-dev.yaml").read_text()
    text = text.replace(
        "  llmplane:cluster:\n", "  llmplane:cluster:\n    kubernetesVersion: '1.20'\n"
    )
    (tmp_path / "Pulumi.bad-version.yaml").write_text(text)
    result = run("check", "--stacks-dir", str(tmp_path), "--format", "sarif")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("stack bad-cloud: llmplane:cloud: ")
    assert lines[1].startswith("stack bad-version: ") and "kubernetesVersion" in lines[1]
    sarif = json.loads(result.stdout)
    uris = {
        location["physicalLocation"]["artifactLocation"]["uri"]
        for run_ in sarif["runs"]
        for result_ in run_["results"]
        for location in result_["locations"]
    }
    assert uris == {str(tmp_path / f"Pulumi.{name}.yaml") for name in good}
