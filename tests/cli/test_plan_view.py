"""`llmplane plan`'s tree: repeats fold into one line, --all lists each, outputs on one line."""

from __future__ import annotations

from tests.cli.test_cli import run


def test_repeated_resources_fold_and_all_lists_every_one() -> None:
    folded = run("plan", "aws-dev")
    assert folded.returncode == 0, folded.stderr
    # aws-dev has six subnets under its network component: one line says so.
    assert "6 × aws:ec2/subnet llm-private-us-east-1a" in folded.stdout
    assert folded.stdout.count("aws:ec2/subnet:Subnet") == 0
    every = run("plan", "aws-dev", "--all")
    assert every.returncode == 0, every.stderr
    assert every.stdout.count("aws:ec2/subnet:Subnet") == 6
    assert "×" not in every.stdout
    assert len(folded.stdout.splitlines()) < len(every.stdout.splitlines())


def test_the_gpu_output_is_one_line_of_plain_fields() -> None:
    result = run("plan", "aws-dev")
    (line,) = [line for line in result.stdout.splitlines() if "gpu =" in line]
    assert "chosen=stack" in line and "{" not in line and "'" not in line
