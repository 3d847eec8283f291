"""Plan several stacks at once: one forked worker per cloud, so each SDK is imported only once.

Most of an offline plan's time is importing provider SDKs (pulumi_aws alone is about a second);
running the program under mocks takes a fraction of that. Stacks of the same cloud therefore go
to the same worker, and workers for different clouds overlap on separate cores.
"""

from __future__ import annotations

import importlib
import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ..cloud_args import cluster_for, engine_workload
from ..config.errors import SettingsError
from ..config.settings import StackSettings
from .synth import Plan, plan_validated

Parsed = tuple[StackSettings, dict[str, Any], frozenset[str]]


def _plan_group(group: list[Parsed]) -> list[Plan]:
    # The cloud adapters finish validation (shapes, versions). They import their SDK modules,
    # which is why this happens here, in parallel, rather than in the parent beforehand.
    for settings, _, _ in group:
        cluster_for(settings, engine_workload(settings))
    return [plan_validated(*stack) for stack in group]


# Rough CPU seconds to import each cloud's SDK modules (measured here, GC off): the heaviest
# groups start first, so the light ones fill in around them.
IMPORT_WEIGHT = {"gcp": 1.0, "azure": 0.8, "aws": 0.7, "kubernetes": 0.0}
# Rough CPU seconds to plan one stack once its SDK is loaded.
PLAN_WEIGHT = 0.2


def plan_all(parsed: Sequence[Parsed]) -> list[Plan]:
    """Plans in the order given, or the first stack's SettingsError in that order.

    Stacks arrive parsed but not yet checked by their cloud adapter. Nothing is written or
    printed until every stack has passed, so a bad stack still stops the whole run.
    """
    groups: dict[str, list[Parsed]] = {}
    for stack in parsed:
        groups.setdefault(stack[0].cloud, []).append(stack)
    ordered = sorted(
        groups.values(),
        key=lambda group: IMPORT_WEIGHT.get(group[0][0].cloud, 1.0) + PLAN_WEIGHT * len(group),
        reverse=True,
    )
    # One process per cloud even on two cores: the groups are CPU-bound and of similar size, so
    # the OS's time-slicing finishes three of them sooner than two workers taking turns would.
    workers = len(groups)
    # Forking a process that already runs threads (a previous plan's executor) can deadlock.
    if workers < 2 or threading.active_count() > 1:
        return _plan_group(list(parsed))
    # Every program builds KEDA and Prometheus and an InferenceService, and every plan runs the
    # policy pack: load those once, before the fork, not once per worker.
    for module in (
        "llmplane.components.kubernetes.addons",
        "llmplane.components.kubernetes.inference",
    ):
        importlib.import_module(module)
    importlib.import_module("llmplane.policies.offline")
    importlib.import_module("llmplane.policies.rules").load_all()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_plan_group, group) for group in ordered]
        errors = [future.exception() for future in futures]
    order = [stack[0].stack for stack in parsed]
    failed = [error for error in errors if isinstance(error, SettingsError)]
    if failed:
        raise min(failed, key=lambda error: order.index(error.stack))
    by_stack = {plan["stack"]: plan for future in futures for plan in future.result()}
    return [by_stack[name] for name in order]
