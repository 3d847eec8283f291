"""Shared fixtures: stack files written from Python dicts, and the shipped stacks."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from llmplane.infra import offline

# The tests plan offline as the `llmplane` command does: with its speed-ups, switched on once,
# before any test module imports a provider SDK.
offline.enable()

REPO = Path(__file__).resolve().parents[1]
STACKS = REPO / "stacks"

# A valid existing-cluster stack that tests change one key at a time.
BASE_CONFIG: dict[str, Any] = {
    "llmplane:cloud": "kubernetes",
    "llmplane:model": {"id": "meta-llama/Llama-3.1-8B-Instruct"},
}

StackWriter = Callable[..., Path]


def write_stack(directory: Path, config: dict[str, Any], name: str = "test", **top: Any) -> Path:
    """Write `Pulumi.<name>.yaml` holding `config` (and any other top-level keys)."""
    path = directory / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump({"config": config, **top}, sort_keys=True), encoding="utf-8")
    return path


def config_with(**changes: Any) -> dict[str, Any]:
    """BASE_CONFIG with `llmplane:<key>` entries replaced; a value of None removes the key."""
    config = copy.deepcopy(BASE_CONFIG)
    for key, value in changes.items():
        full = key if ":" in key else f"llmplane:{key}"
        if value is None:
            config.pop(full, None)
        else:
            config[full] = value
    return config


@pytest.fixture
def stack_file(tmp_path: Path) -> StackWriter:
    """A function that writes a stack file into a fresh folder and returns its path."""

    def write(config: dict[str, Any] | None = None, name: str = "test", **top: Any) -> Path:
        return write_stack(tmp_path, BASE_CONFIG if config is None else config, name, **top)

    return write


StackModel = TypeVar("StackModel")


def parse_as(
    model: type[StackModel],
    stack: str,
    config: dict[str, Any],
    secret_keys: frozenset[str] = frozenset(),
) -> StackModel:
    """A stack's settings, checked to be its target's own model (AwsStack, GcpStack, ...)."""
    from llmplane.infra.config.settings import parse

    settings = parse(stack, config, secret_keys)
    assert isinstance(settings, model), type(settings).__name__
    return settings
