"""Helpers that query a Plan the way tests need: by type, by name, through dependencies."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from llmplane.infra.config.settings import parse
from llmplane.infra.offline.synth import Plan, plan_stack, plan_validated
from tests.conftest import STACKS

Resource = dict[str, Any]


@cache
def _shipped(name: str) -> str:
    return json.dumps(plan_stack(STACKS / f"Pulumi.{name}.yaml"))


def shipped(name: str) -> Plan:
    """The plan of a shipped stack, computed once per test session (a fresh copy each call)."""
    return json.loads(_shipped(name))


def plan_config(
    stack: str, config: dict[str, Any], secret_keys: frozenset[str] = frozenset()
) -> Plan:
    """Plan a config map directly, as `pulumi up` would hand it over (secrets already decrypted)."""
    return plan_validated(parse(stack, config, secret_keys), config, secret_keys)


def of_type(plan: Plan, type_: str) -> list[Resource]:
    """Every resource of one type token."""
    return [r for r in plan["resources"] if r["type"] == type_]


def one(plan: Plan, type_: str, name: str | None = None) -> Resource:
    """The single resource of a type (and name, when given)."""
    matches = [r for r in of_type(plan, type_) if name is None or r["name"] == name]
    assert len(matches) == 1, f"expected one {type_} {name or ''}, found {len(matches)}"
    return matches[0]


def upstream(plan: Plan, resource: Resource) -> set[str]:
    """Every URN a resource depends on, directly or through others."""
    by_urn = {r["urn"]: r for r in plan["resources"]}
    seen: set[str] = set()
    todo = list(resource["dependencies"])
    while todo:
        urn = todo.pop()
        if urn not in seen:
            seen.add(urn)
            todo.extend(by_urn[urn]["dependencies"] if urn in by_urn else [])
    return seen


def chain_depth(plan: Plan) -> int:
    """The longest chain of dependencies: how many resources must be created one after another.

    A resource also waits for its provider (a Kubernetes provider waits for its cluster).
    """
    by_urn = {r["urn"]: r for r in plan["resources"]}

    @cache
    def depth(urn: str) -> int:
        resource = by_urn[urn]
        deps = [d for d in [*resource["dependencies"], resource["provider"]] if d in by_urn]
        return 1 + max((depth(d) for d in deps), default=0)

    return max(depth(urn) for urn in by_urn)


def pod_spec(resource: Resource) -> dict[str, Any]:
    """The pod template's spec of a Deployment or DaemonSet."""
    return resource["inputs"]["spec"]["template"]["spec"]
