"""The offline engine's SDK speed-ups are switched on by one call, never by an import."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

PROBE = """
import sys
import pulumi.runtime.resource as resource
original = resource._get_stack_trace
{setup}
from llmplane.infra.offline.sdk_loader import _PartialFinder
loader = any(isinstance(finder, _PartialFinder) for finder in sys.meta_path)
print(loader, resource._get_stack_trace is not original)
"""


def _probe(setup: str) -> str:
    code = PROBE.format(setup=setup)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_importing_the_engine_changes_nothing_in_the_sdk() -> None:
    # What `pulumi up` may import through the program's modules: none of it patches the SDK.
    setup = (
        "import llmplane.infra.offline.synth, llmplane.infra.offline.parallel, "
        "llmplane.infra.cli.app"
    )
    assert _probe(setup) == "False False"


def test_enable_switches_on_the_loader_and_drops_source_positions() -> None:
    assert _probe("from llmplane.infra import offline; offline.enable(); offline.enable()") == (
        "True True"
    )


def test_the_installed_sdks_are_the_ones_the_speed_ups_were_checked_against() -> None:
    from importlib.metadata import version

    from llmplane.infra.offline import CHECKED_WITH

    installed = {name: version(name) for name in CHECKED_WITH}
    assert installed == CHECKED_WITH, (
        "an SDK changed: rerun tests/unit/test_sdk_loader.py and the plan comparisons, then "
        "update CHECKED_WITH in infra/offline/__init__.py"
    )
