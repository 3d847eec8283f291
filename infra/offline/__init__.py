"""The offline engine: the program under Pulumi's mocks, per-cloud mocks, the SDK loader.

Its speed-ups change how the Pulumi SDK behaves in this process, so importing the engine never
switches them on: `enable()` does, once, and only the offline entry points call it (the
`llmplane` command, the tests, the benchmarks). A program run by the Pulumi CLI never does.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CHECKED_WITH", "enable"]


def _no_source_positions() -> Any:
    from pulumi.runtime.proto import source_pb2

    return source_pb2.StackTrace()


def enable() -> None:
    """Switch on the offline speed-ups, before any provider SDK namespace is imported.

    - The partial SDK loader: a plan then imports only the resource modules it uses.
    - No source positions: the SDK walks the Python stack at every resource to tell the engine
      which line created it; a plan never shows them, and the walk is a tenth of planning time.
    Both are idempotent; namespaces already imported stay as they are. The SDK is imported here,
    not with this package, so that a command that plans nothing (or finds every plan in the
    cache) never loads it.
    """
    from pulumi.runtime import resource as runtime_resource

    from . import sdk_loader

    sdk_loader.install()
    if hasattr(runtime_resource, "_get_stack_trace"):
        setattr(runtime_resource, "_get_stack_trace", _no_source_positions)  # noqa: B010


# The SDK versions the speed-ups were checked against: the loader reads each provider's module
# layout, and the stack-trace hook is a private SDK function. tests/unit/test_offline_switch.py
# fails on any other version, so that an upgrade rechecks them (and the plans) first.
CHECKED_WITH = {
    "pulumi": "3.272.0",
    "pulumi-kubernetes": "4.34.2",
    "pulumi-aws": "7.51.1",
    "pulumi-azure-native": "3.29.0",
    "pulumi-gcp": "10.2.0",
}
