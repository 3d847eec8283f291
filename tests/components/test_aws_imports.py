"""components/aws/ is a library: none of its files imports the program or the policies."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "components" / "aws"
# infra/ depends on the components, never the reverse; policies/ stands apart from both.
FORBIDDEN = ("infra", "policies")


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every absolute module a file imports, wherever the import sits (top level, function, if)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_package_has_files_to_scan() -> None:
    """Guard the scan below against passing because it found nothing."""
    names = {path.name for path in _files()}
    assert {"__init__.py", "args.py", "eks.py", "network.py"} <= names


@pytest.mark.parametrize("path", _files(), ids=lambda path: str(path.relative_to(REPO)))
def test_no_import_of_infra_or_policies(path: Path) -> None:
    """`import infra…` / `from infra… import` (or policies) anywhere in the file fails."""
    bad = [
        f"{path.relative_to(REPO)}:{line}: {module}"
        for line, module in _imported_modules(path)
        if module.split(".")[0] in FORBIDDEN
    ]
    assert not bad, "components/aws imports the program or the policies:\n" + "\n".join(bad)
