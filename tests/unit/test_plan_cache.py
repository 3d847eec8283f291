"""The plan cache: a hit is byte-identical to planning again; a change of input is a miss."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmplane.infra.config.errors import SettingsError
from llmplane.infra.config.settings import parse
from llmplane.infra.offline import cache
from llmplane.infra.offline.synth import parse_stack_file
from tests.conftest import STACKS


@pytest.fixture(autouse=True)
def _cache_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(folder))
    return folder


def _dump(plans: list[dict[str, object]]) -> str:
    return json.dumps({"stacks": plans}, indent=2, sort_keys=True)


def test_a_hit_is_byte_identical_and_plans_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = [parse_stack_file(STACKS / "Pulumi.kubernetes-dev.yaml")]
    first = _dump(cache.plan_through_cache(parsed))

    def no_planning(_: object) -> list[dict[str, object]]:
        raise AssertionError("a cached stack was planned again")

    monkeypatch.setattr("llmplane.infra.offline.parallel.plan_all", no_planning)
    assert _dump(cache.plan_through_cache(parsed)) == first
    # --no-cache plans again.
    with pytest.raises(AssertionError, match="planned again"):
        cache.plan_through_cache(parsed, use_cache=False)


def test_any_change_of_input_is_a_new_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, config, secrets = parse_stack_file(STACKS / "Pulumi.kubernetes-dev.yaml")
    key = cache.plan_key(settings.stack, config, secrets)
    assert cache.plan_key(settings.stack, config, secrets) == key
    assert cache.plan_key("other", config, secrets) != key
    assert cache.plan_key(settings.stack, {**config, "llmplane:engine": "vllm"}, secrets) != key
    assert cache.plan_key(settings.stack, config, secrets | {"llmplane:hfToken"}) != key
    prices = tmp_path / "prices.csv"
    prices.write_text("cloud,shape\n")
    monkeypatch.setenv("LLMPLANE_PRICES", str(prices))
    with_prices = cache.plan_key(settings.stack, config, secrets)
    assert with_prices != key
    prices.write_text("cloud,shape,region\n")
    assert cache.plan_key(settings.stack, config, secrets) != with_prices


def test_a_failed_plan_is_not_stored(_cache_in: Path) -> None:
    # It parses, but its explicit shape (one 24 GB L4) cannot hold a 70B model: refused when
    # the cluster's args are built, inside the planner.
    _, config, secrets = parse_stack_file(STACKS / "Pulumi.aws-dev.yaml")
    config = {**config, "llmplane:model": {"id": "meta-llama/Llama-3.1-70B-Instruct"}}
    parsed = [(parse("too-small", config, secrets), config, secrets)]
    with pytest.raises(SettingsError, match="cannot hold"):
        cache.plan_through_cache(parsed)
    assert list(_cache_in.glob("*.json")) == []


def test_a_damaged_entry_is_a_miss(_cache_in: Path) -> None:
    _cache_in.mkdir(parents=True)
    (_cache_in / "abc.json").write_text("{not json")
    assert cache.load("abc") is None
