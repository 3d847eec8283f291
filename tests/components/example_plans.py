"""Plan an example program offline: its project's config merged as the CLI does, then run it."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

from pulumi.runtime.config import set_all_config

from tests.components.direct import capture
from tests.conformance.cli_rules import load_project, merge_config, program_config, stack_values

Resource = dict[str, Any]
Plan = tuple[list[Resource], dict[str, Any]]


def plan_example(
    example: Path, config: dict[str, Any], secret_keys: frozenset[str] = frozenset()
) -> Plan:
    """The example's resources and stack outputs for one stack's config."""
    project = load_project(example / "Pulumi.yaml")
    merged = merge_config(project, "dev", stack_values(config, secret_keys))
    values, secret = program_config(merged)
    set_all_config(values, secret)

    def program() -> None:
        # Returns nothing: pulumi.runtime.test would otherwise await the module's globals.
        runpy.run_path(str(example / "__main__.py"), run_name="__main__")

    plan = capture(program, stack="dev", project=project.name)
    return plan["resources"], plan["outputs"]


def of_type(resources: list[Resource], type_: str) -> list[Resource]:
    """Every resource of one type token."""
    return [r for r in resources if r["type"] == type_]
