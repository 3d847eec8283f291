"""Build components directly under the offline engine's mocks, with no stack settings at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.sync_await import _sync_await

from llmplane.components.cloud import (
    Cloud,
    ClusterRef,
    KeyRef,
    Placement,
    RegistryRef,
    WorkloadIdentity,
)
from llmplane.components.naming import PROJECT
from llmplane.infra.mocks import PlanMocks
from llmplane.infra.synth import CapturingMonitor, Plan


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


class Parent(pulumi.ComponentResource):
    """A bare component the adapters create their resources under, as GpuPlatform would."""

    def __init__(self, name: str) -> None:
        """A component of type test:index:Parent named `name`."""
        super().__init__("test:index:Parent", name)


def drive(cloud: Cloud, name: str = "llm") -> dict[str, Any]:
    """Call the Cloud protocol in its order (key, cluster, GPU pool, registry, identity)."""
    parent = Parent(name)
    key: KeyRef | None = cloud.key(parent)
    cluster: ClusterRef = cloud.cluster(parent, key)
    placement: Placement = cloud.gpu_pool(parent, cluster)
    registry: RegistryRef | None = cloud.registry(parent, key)
    identity: WorkloadIdentity = cloud.workload_identity(parent, "llm", "llm")
    return {
        "key": key,
        "cluster": cluster,
        "placement": placement,
        "registry": registry,
        "identity": identity,
    }
