"""Build components directly under the offline engine's mocks, with no stack settings at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.sync_await import _sync_await

from llmplane.components.naming import PROJECT
from llmplane.infra.offline.mocks import PlanMocks
from llmplane.infra.offline.synth import CapturingMonitor, Plan


def capture(build: Callable[[], object], stack: str = "direct", project: str = PROJECT) -> Plan:
    """Run `build` as a Pulumi program under the plan mocks: its resources and stack exports."""
    monitor = CapturingMonitor(PlanMocks())
    # A fresh root stack, so that nothing from an earlier program in this process leaks in.
    runtime_settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi.runtime.set_mocks(monitor.mocks, project=project, stack=stack, monitor=monitor)
    pulumi.runtime.test(build)()
    exports: dict[str, Any] = getattr(runtime_settings.get_root_resource(), "outputs", {})
    return {
        "resources": [monitor.captured[urn] for urn in sorted(monitor.captured)],
        "outputs": {
            name: _sync_await(pulumi.Output.from_input(value).future())
            for name, value in exports.items()
        },
    }
