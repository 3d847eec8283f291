"""Import contract: components/azure/, gcp/ and kubernetes.py import nothing from infra/."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

COMPONENTS = REPO / "components"
CHECKED = sorted(
    [
        *(COMPONENTS / "azure").rglob("*.py"),
        *(COMPONENTS / "gcp").rglob("*.py"),
        COMPONENTS / "kubernetes.py",
    ]
)


def infra_imports(path: Path) -> list[str]:
    """Every `import infra…` or `from infra… import …` in a file, as `line: module`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        found += [f"{node.lineno}: {m}" for m in modules if m == "infra" or m.startswith("infra.")]
    return found


def test_the_scan_covers_every_cloud_target_module() -> None:
    names = {path.relative_to(COMPONENTS).as_posix() for path in CHECKED}
    assert {"azure/__init__.py", "azure/args.py", "gcp/__init__.py", "gcp/args.py"} <= names
    assert "kubernetes.py" in names


def test_the_scan_finds_an_import_anywhere(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from infra.settings import StackSettings\n"
        "def f():\n    import infra.errors as errors\n"
        "import infrastructure\n"
    )
    assert infra_imports(source) == ["3: infra.settings", "5: infra.errors"]


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: p.relative_to(COMPONENTS).as_posix())
def test_cloud_targets_import_nothing_from_infra(path: Path) -> None:
    assert infra_imports(path) == []


def test_importing_the_cloud_targets_loads_no_infra_module() -> None:
    """What the AST scan cannot see: an import of infra through another components module."""
    code = (
        "import sys, components.azure, components.gcp, components.kubernetes\n"
        "print(sorted(m for m in sys.modules if m == 'infra' or m.startswith('infra.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
