"""DESIGN.md's one-way dependencies, checked by import-linter over the whole import graph."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from tests.conftest import REPO

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["importlinter"]["contracts"]


def test_the_library_and_the_pack_are_declared_independent() -> None:
    forbidden = {
        tuple(c["source_modules"]): set(c["forbidden_modules"])
        for c in _contracts()
        if c["type"] == "forbidden"
    }
    assert forbidden[("llmplane.components",)] >= {"llmplane.infra", "llmplane.policies"}
    assert forbidden[("llmplane.policies",)] >= {"llmplane.infra", "llmplane.components"}


def test_every_import_contract_is_kept() -> None:
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "0 broken" in result.stdout


def test_a_broken_contract_is_reported(tmp_path: Path) -> None:
    """The check can fail: infra/ imports the components, so forbidding that must break."""
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["llmplane.infra", "llmplane.components"]\n'
        '[[tool.importlinter.contracts]]\nname = "inverted"\ntype = "forbidden"\n'
        'source_modules = ["llmplane.infra"]\nforbidden_modules = ["llmplane.components"]\n'
    )
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(config)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout[-2000:]
    assert "1 broken" in result.stdout


def test_importing_every_cloud_target_loads_no_program_module() -> None:
    """At run time too: no `llmplane.infra` module arrives through another library module."""
    code = (
        "import sys, llmplane.components.aws, llmplane.components.azure, "
        "llmplane.components.gcp, llmplane.components.existing, "
        "llmplane.components.kubernetes.inference\n"
        "print(sorted(m for m in sys.modules if m.startswith(('llmplane.infra', "
        "'llmplane.policies', 'infra', 'policies'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
