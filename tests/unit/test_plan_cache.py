"""The plan cache: a hit is byte-identical to planning again; a change of input is a miss."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

from llmplane.infra.cli.grammar import plans_json
from llmplane.infra.config.errors import SettingsError
from llmplane.infra.config.settings import parse
from llmplane.infra.config.stackfile import read_stack_file
from llmplane.infra.offline import cache
from tests.conftest import STACKS


@pytest.fixture(autouse=True)
def _cache_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(folder))
    return folder


def _refuse(*_: object) -> NoReturn:
    raise AssertionError("a cached stack was read, validated or planned again")


def test_a_hit_is_byte_identical_and_reads_validates_and_plans_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    paths = [STACKS / "Pulumi.kubernetes-dev.yaml"]
    first = cache.plan_through_cache(paths, read_stack_file, parse)
    monkeypatch.setattr("llmplane.infra.offline.parallel.plan_all", _refuse)
    assert cache.plan_through_cache(paths, _refuse, _refuse) == first
    # --no-cache plans again.
    with pytest.raises(AssertionError, match="again"):
        cache.plan_through_cache(paths, read_stack_file, parse, use_cache=False)


def test_the_cached_text_is_what_plan_json_prints() -> None:
    (text,) = cache.plan_through_cache(
        [STACKS / "Pulumi.kubernetes-dev.yaml"], read_stack_file, parse
    )
    plan = json.loads(text)
    assert text == json.dumps(plan, indent=2, sort_keys=True)
    assert plans_json([text, text]) == json.dumps(
        {"stacks": [plan, plan]}, indent=2, sort_keys=True
    )
    assert plans_json([]) == json.dumps({"stacks": []}, indent=2, sort_keys=True)


def test_any_change_of_input_is_a_new_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = (STACKS / "Pulumi.kubernetes-dev.yaml").read_bytes()
    key = cache.plan_key("kubernetes-dev", data)
    assert cache.plan_key("kubernetes-dev", data) == key
    assert cache.plan_key("other", data) != key
    assert cache.plan_key("kubernetes-dev", data + b"\n# a comment\n") != key
    prices = tmp_path / "prices.csv"
    prices.write_text("cloud,shape\n")
    monkeypatch.setenv("LLMPLANE_PRICES", str(prices))
    with_prices = cache.plan_key("kubernetes-dev", data)
    assert with_prices != key
    prices.write_text("cloud,shape,region\n")
    assert cache.plan_key("kubernetes-dev", data) != with_prices


def test_a_failed_plan_is_not_stored(tmp_path: Path, _cache_in: Path) -> None:
    # It parses, but its explicit shape (one 24 GB L4) cannot hold a 70B model: refused when
    # the cluster's args are built, inside the planner.
    path = tmp_path / "Pulumi.too-small.yaml"
    text = (STACKS / "Pulumi.aws-dev.yaml").read_text()
    path.write_text(
        text.replace("meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-70B-Instruct")
    )
    assert "70B" in path.read_text()
    with pytest.raises(SettingsError, match="cannot hold"):
        cache.plan_through_cache([path], read_stack_file, parse)
    assert list(_cache_in.glob("*.json")) == []


def test_a_copy_of_a_stack_under_another_name_is_planned_for_that_name(tmp_path: Path) -> None:
    shutil.copy(STACKS / "Pulumi.kubernetes-dev.yaml", tmp_path / "Pulumi.lab.yaml")
    (first,) = cache.plan_through_cache(
        [STACKS / "Pulumi.kubernetes-dev.yaml"], read_stack_file, parse
    )
    (copy,) = cache.plan_through_cache([tmp_path / "Pulumi.lab.yaml"], read_stack_file, parse)
    assert json.loads(first)["stack"] == "kubernetes-dev" and json.loads(copy)["stack"] == "lab"


def test_an_unreadable_entry_is_a_miss(_cache_in: Path) -> None:
    assert cache.load("abc") is None
