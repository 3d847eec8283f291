"""How the planner spreads stacks over workers: by cloud, and a large cloud over the cores."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from llmplane.infra.offline.parallel import Parsed, _spread


def _stacks(cloud: str, count: int) -> list[Parsed]:
    return [
        cast(Parsed, (SimpleNamespace(cloud=cloud, stack=f"{cloud}-{i}"), {}, frozenset()))
        for i in range(count)
    ]


def _shape(chunks: list[list[Parsed]]) -> list[tuple[str, int]]:
    return [(chunk[0][0].cloud, len(chunk)) for chunk in chunks]


def test_the_shipped_mix_gets_one_worker_per_cloud() -> None:
    groups = [_stacks("aws", 2), _stacks("azure", 1), _stacks("gcp", 1), _stacks("kubernetes", 1)]
    # Heaviest first: GCP's SDK imports slowest, then AWS with two stacks to plan.
    assert _shape(_spread(groups, cores=2)) == [
        ("gcp", 1), ("aws", 2), ("azure", 1), ("kubernetes", 1)
    ]  # fmt: skip


def test_many_stacks_of_one_cloud_are_split_over_the_cores() -> None:
    assert _shape(_spread([_stacks("aws", 50)], cores=2)) == [("aws", 25), ("aws", 25)]
    assert len(_spread([_stacks("aws", 50)], cores=8)) == 8
    # Every stack is planned exactly once.
    chunks = _spread([_stacks("aws", 51)], cores=4)
    names = sorted(settings.stack for chunk in chunks for settings, _, _ in chunk)
    assert names == sorted(f"aws-{i}" for i in range(51))


def test_a_few_stacks_are_never_split_to_pay_a_second_import() -> None:
    assert _shape(_spread([_stacks("aws", 3)], cores=8)) == [("aws", 3)]


def test_a_mixed_fleet_splits_only_the_cloud_that_dominates() -> None:
    chunks = _spread([_stacks("aws", 60), _stacks("gcp", 2), _stacks("kubernetes", 2)], cores=2)
    shape: dict[str, list[int]] = {}
    for cloud, size in _shape(chunks):
        shape.setdefault(cloud, []).append(size)
    assert shape == {"aws": [30, 30], "gcp": [2], "kubernetes": [2]}
