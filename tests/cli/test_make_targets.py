"""`make preview` and `make up` as a new user meets them: the offline check runs before anything."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

MAKE = shutil.which("make")
# `-o` marks the install stamps up to date, so a test never rebuilds the venv it runs in.
# LINKED names the link stamp after the one `-o` keeps: a module added since the last install
# would otherwise make the target relink first.
NO_REINSTALL = (
    "-s", "-o", ".venv/.installed", "-o", ".venv-checkov/.installed", "LINKED=.venv/.installed"
)  # fmt: skip


def _make(target: str, stack: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run a target with no Pulumi CLI on PATH; `-o` keeps make from reinstalling the venv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    # find, sort, cksum and cut compute the link stamp's name when make reads the Makefile.
    for tool in ("sh", "test", "env", "find", "sort", "cksum", "cut"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    assert MAKE is not None
    return subprocess.run(
        [MAKE, *NO_REINSTALL, target, f"STACK={stack}"],
        cwd=REPO,
        env={**os.environ, "PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
@pytest.mark.parametrize("target", ["preview", "up"])
def test_a_bad_stack_is_reported_before_the_missing_cli(target: str, tmp_path: Path) -> None:
    result = _make(target, "nosuch", tmp_path)
    assert result.returncode != 0
    assert "llmplane plan: STACK: there is no stack nosuch in stacks" in result.stderr
    assert "Pulumi CLI" not in result.stderr


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_a_good_stack_then_needs_the_cli(tmp_path: Path) -> None:
    result = _make("preview", "kubernetes-dev", tmp_path)
    assert result.returncode != 0
    assert "the Pulumi CLI is not installed" in result.stderr
