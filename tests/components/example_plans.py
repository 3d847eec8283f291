"""Plan an example program offline: its project's config merged as the CLI does, then run it."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.sync_await import _sync_await

from infra.mocks import PlanMocks
from infra.synth import CapturingMonitor
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
    monitor = CapturingMonitor(PlanMocks())
    runtime_settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi_mocks.set_mocks(
        monitor.mocks, project=project.name, stack="dev", preview=False, monitor=monitor
    )

    @pulumi.runtime.test
    def program() -> None:
        runpy.run_path(str(example / "__main__.py"), run_name="__main__")

    program()
    root = runtime_settings.get_root_resource()
    exports: dict[str, Any] = getattr(root, "outputs", {})
    outputs = {
        name: _sync_await(pulumi.Output.from_input(value).future())
        for name, value in exports.items()
    }
    return sorted(monitor.captured.values(), key=lambda r: r["urn"]), outputs


def of_type(resources: list[Resource], type_: str) -> list[Resource]:
    """Every resource of one type token."""
    return [r for r in resources if r["type"] == type_]
