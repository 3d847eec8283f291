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


Outcome = Plan | SettingsError
"""One stack's plan, or why its cloud's checks refused it."""


def _plan_group(group: list[Parsed], keep_going: bool) -> list[Outcome]:
    """Each stack's outcome; with `keep_going` off, nothing is planned once a stack is refused."""
    # The cloud adapters finish validation (shapes, versions). They import their SDK modules,
    # which is why this happens here, in parallel, rather than in the parent beforehand.
    refused: dict[str, SettingsError] = {}
    for settings, _, _ in group:
        try:
            cluster_for(settings, engine_workload(settings))
        except SettingsError as error:
            refused[settings.stack] = error
    if refused and not keep_going:
        return list(refused.values())
    return [refused.get(stack[0].stack) or plan_validated(*stack) for stack in group]


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
    outcomes = _outcomes(parsed, keep_going=False)
    plans: list[Plan] = []
    for stack in parsed:
        # A refused stack's group plans nothing, so its other stacks have no outcome here.
        outcome = outcomes.get(stack[0].stack)
        if isinstance(outcome, SettingsError):
            raise outcome
    for stack in parsed:
        outcome = outcomes[stack[0].stack]
        assert not isinstance(outcome, SettingsError)
        plans.append(outcome)
    return plans


def plan_each(parsed: Sequence[Parsed]) -> list[Outcome]:
    """Every stack's plan or refusal, in the order given: one bad stack hides no other."""
    outcomes = _outcomes(parsed, keep_going=True)
    return [outcomes[stack[0].stack] for stack in parsed]


def _outcomes(parsed: Sequence[Parsed], keep_going: bool) -> dict[str, Outcome]:
    """The stacks' outcomes by stack name, planned in forked workers where that is faster."""
    groups: dict[str, list[Parsed]] = {}
    for stack in parsed:
        groups.setdefault(stack[0].cloud, []).append(stack)
    chunks = _spread(list(groups.values()), _cores())
    # Forking a process that already runs threads (a previous plan's executor) can deadlock.
    if len(chunks) < 2 or threading.active_count() > 1:
        return _by_stack(_plan_group(list(parsed), keep_going))
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
        futures = [pool.submit(_plan_group, chunk, keep_going) for chunk in chunks]
        return _by_stack([outcome for future in futures for outcome in future.result()])


def _by_stack(outcomes: list[Outcome]) -> dict[str, Outcome]:
    return {
        outcome.stack if isinstance(outcome, SettingsError) else outcome["stack"]: outcome
        for outcome in outcomes
    }


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
