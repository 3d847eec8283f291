"""Plan several stacks at once: one forked worker per cloud, so each SDK is imported only once.

Most of an offline plan's time is importing provider SDKs (pulumi_aws alone is about a second);
running the program under mocks takes a fraction of that. Stacks of the same cloud therefore go
to the same worker, and workers for different clouds overlap on separate cores.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from infra.settings import StackSettings
from infra.synth import Plan, plan_validated

Validated = tuple[StackSettings, dict[str, Any], frozenset[str]]


def _plan_group(group: list[Validated]) -> list[Plan]:
    return [plan_validated(*stack) for stack in group]


# Rough CPU seconds to import each cloud's SDK modules (measured here, GC off): the heaviest
# groups start first, so the light ones fill in around them.
IMPORT_WEIGHT = {"gcp": 1.3, "azure": 0.9, "aws": 0.7, "kubernetes": 0.0}
# Rough CPU seconds to plan one stack once its SDK is loaded.
PLAN_WEIGHT = 0.2


def plan_all(validated: Sequence[Validated]) -> list[Plan]:
    """Plans in the order given, whether computed here or in forked workers."""
    groups: dict[str, list[Validated]] = {}
    for stack in validated:
        groups.setdefault(stack[0].cloud, []).append(stack)
    ordered = sorted(
        groups.values(),
        key=lambda group: IMPORT_WEIGHT.get(group[0][0].cloud, 1.0) + PLAN_WEIGHT * len(group),
        reverse=True,
    )
    workers = min(len(groups), os.cpu_count() or 1)
    # Forking a process that already runs threads (a previous plan's executor) can deadlock.
    if workers < 2 or threading.active_count() > 1:
        return _plan_group(list(validated))
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        results = list(pool.map(_plan_group, ordered))
    by_stack = {plan["stack"]: plan for group in results for plan in group}
    return [by_stack[stack[0].stack] for stack in validated]
