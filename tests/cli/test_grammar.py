"""One grammar on every command: `--json` is `--format json`, and `--format markdown` exists."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_cli import run


@pytest.mark.parametrize(
    "command",
    [
        ("plan", "kubernetes-dev"),
        ("cost", "kubernetes-dev"),
        ("check", "kubernetes-dev"),
        ("size", "--model", "Qwen/Qwen2.5-7B-Instruct"),
        ("graph", "kubernetes-dev"),
    ],
)
def test_json_is_the_same_as_format_json(command: tuple[str, ...]) -> None:
    short, long = run(*command, "--json"), run(*command, "--format", "json")
    assert short.returncode == long.returncode and short.returncode in (0, 1), short.stderr
    assert short.stdout == long.stdout
    json.loads(short.stdout)


def test_plan_and_size_in_markdown_are_headed_fenced_blocks() -> None:
    plan = run("plan", "aws-dev", "kubernetes-dev", "--format", "markdown")
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.count("```text\n") == 2
    assert plan.stdout.startswith("### aws-dev: plan\n\n```text\naws-dev (aws):")
    assert "cold start ≈" in plan.stdout
    size = run("size", "--model", "Qwen/Qwen2.5-7B-Instruct", "--format", "markdown")
    assert size.returncode == 0 and size.stdout.startswith("### Qwen/Qwen2.5-7B-Instruct: sizing")


def test_cost_shows_the_cold_start_in_every_format() -> None:
    table = run("cost", "azure-dev")
    assert table.returncode == 0, table.stderr
    assert "cold start ≈" in table.stdout and "requests are held up to" in table.stdout
    document = json.loads(run("cost", "azure-dev", "--json").stdout)
    (stack,) = document["stacks"]
    cold = stack["coldStart"]
    assert cold["estimate"] is True
    assert cold["totalSeconds"] == sum(part["seconds"] for part in cold["parts"])
    assert [part["name"] for part in cold["parts"]] == ["node", "image", "weights", "warmup"]
