"""Plan several stacks at once in forked workers, grouped by cloud and spread over the cores.

Most of a small run's time is importing provider SDKs (pulumi_aws alone is about a second);
running the program under mocks takes a fraction of that per stack. Stacks of one cloud
therefore share a worker, and workers for different clouds overlap on separate cores, until a
cloud has so many stacks that planning them outweighs a second import: then its stacks are
split over more workers, each importing the SDK once.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
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
    chunks = _spread(list(groups.values()), _cores())
    # Forking a process that already runs threads (a previous plan's executor) can deadlock.
    if len(chunks) < 2 or threading.active_count() > 1:
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
    with ProcessPoolExecutor(max_workers=len(chunks), mp_context=context) as pool:
        futures = [pool.submit(_plan_group, chunk) for chunk in chunks]
        errors = [future.exception() for future in futures]
    order = [stack[0].stack for stack in parsed]
    failed = [error for error in errors if isinstance(error, SettingsError)]
    if failed:
        raise min(failed, key=lambda error: order.index(error.stack))
    by_stack = {plan["stack"]: plan for future in futures for plan in future.result()}
    return [by_stack[name] for name in order]


def _cores() -> int:
    """The cores this process may run on (a container's share, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _cost(cloud: str, stacks: int) -> float:
    return IMPORT_WEIGHT.get(cloud, 1.0) + PLAN_WEIGHT * stacks


def _spread(groups: list[list[Parsed]], cores: int) -> list[list[Parsed]]:
    """Work for the workers: one chunk per cloud, a large cloud's stacks split, heaviest first.

    There are at least as many chunks as clouds (one process per cloud even on two cores: the
    groups are CPU-bound and of similar size, so the OS's time-slicing finishes three of them
    sooner than two workers taking turns would). A cloud whose planning alone would take longer
    than an even share of the whole run is split, round-robin, into about that many chunks,
    each of which pays the cloud's import once more, so each must plan for at least as long as
    that import takes; at most one chunk per core for that cloud.
    """
    share = sum(_cost(g[0][0].cloud, len(g)) for g in groups) / max(cores, len(groups))
    chunks: list[list[Parsed]] = []
    for group in groups:
        cloud = group[0][0].cloud
        imports = IMPORT_WEIGHT.get(cloud, 1.0)
        # Each chunk must plan for at least as long as its extra import takes.
        pieces = int(PLAN_WEIGHT * len(group) // max(share - imports, imports, PLAN_WEIGHT))
        pieces = max(1, min(pieces, cores, len(group)))
        chunks += [group[start::pieces] for start in range(pieces)]
    return sorted(chunks, key=lambda c: _cost(c[0][0].cloud, len(c)), reverse=True)
