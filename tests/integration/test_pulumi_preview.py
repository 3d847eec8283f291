"""Opt-in: the real Pulumi CLI previews a stack, and the offline plan predicted the same resources.

Needs the Pulumi CLI, a state backend (`pulumi login --local` will do), PULUMI_CONFIG_PASSPHRASE
(or another secrets provider), and credentials for the stack's target: for kubernetes-dev, a
kubeconfig whose current context reaches a cluster with GPU nodes. Run with

    LLMPLANE_INTEGRATION=1 LLMPLANE_STACK=kubernetes-dev .venv/bin/pytest tests/integration
"""

from __future__ import annotations

import os
import shutil

import pytest

from llmplane.infra.offline.synth import plan_stack
from tests.conftest import REPO, STACKS

STACK = os.environ.get("LLMPLANE_STACK", "kubernetes-dev")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        os.environ.get("LLMPLANE_INTEGRATION") != "1",
        reason="real deploy path: set LLMPLANE_INTEGRATION=1 with the Pulumi CLI and credentials",
    ),
    pytest.mark.skipif(shutil.which("pulumi") is None, reason="the Pulumi CLI is not installed"),
]


def test_real_preview_matches_the_offline_plan() -> None:
    from pulumi import automation as auto

    stack = auto.create_or_select_stack(stack_name=STACK, work_dir=str(REPO))
    seen: set[str] = set()

    def record(event: auto.EngineEvent) -> None:
        if event.resource_pre_event is not None:
            seen.add(event.resource_pre_event.metadata.urn)

    stack.preview(on_event=record)
    offline = {r["urn"] for r in plan_stack(STACKS / f"Pulumi.{STACK}.yaml")["resources"]}
    # The engine adds default providers the offline plan does not model; everything else matches.
    real = {urn for urn in seen if "pulumi:providers:" not in urn or "::default" not in urn}
    assert offline == real
