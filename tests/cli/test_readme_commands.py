"""The README's command table names every flag of every command, so that it stays the reference."""

from __future__ import annotations

import re

import pytest
from typer.main import get_command

from llmplane.infra.cli.app import app
from tests.conftest import REPO


def _commands() -> dict[str, list[str]]:
    """`plan` -> its long flags; a group's commands as `prices import`."""
    found: dict[str, list[str]] = {}
    root = get_command(app)
    for name, command in getattr(root, "commands", {}).items():
        for sub, leaf in getattr(command, "commands", {}).items():
            found[f"{name} {sub}"] = _flags(leaf)
        if not getattr(command, "commands", None):
            found[name] = _flags(command)
    return found


def _flags(command: object) -> list[str]:
    return [
        opt
        for param in getattr(command, "params", [])
        for opt in getattr(param, "opts", [])
        if opt.startswith("--") and opt != "--help" and not getattr(param, "hidden", False)
    ]


def _rows() -> dict[str, str]:
    """The command table's first column, by command: `llmplane plan [STACK…] …` -> its text."""
    text = (REPO / "README.md").read_text()
    table = text.split("## Commands", 1)[1].split("\n\n", 2)[1]
    rows = {}
    for line in table.splitlines():
        found = re.match(r"\| `llmplane ([a-z]+(?: [a-z]+)?)\b(.*?)` \|", line)
        if found:
            rows[found.group(1)] = found.group(2)
    return rows


@pytest.mark.parametrize(("command", "flags"), sorted(_commands().items()))
def test_the_readme_row_of_every_command_names_each_flag(command: str, flags: list[str]) -> None:
    rows = _rows()
    assert command in rows, f"the README's command table has no row for `llmplane {command}`"
    missing = [flag for flag in flags if not re.search(rf"{re.escape(flag)}\b", rows[command])]
    assert not missing, f"`llmplane {command}` row lacks {missing}"
