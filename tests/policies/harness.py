"""Run policy objects on hand-built resources the way the Pulumi CLI would, and the shared cases."""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from pulumi.runtime import rpc
from pulumi_policy import PolicyResourceOptions, ResourceValidationArgs, ResourceValidationPolicy
from pulumi_policy.proxy import unknown_checking_proxy

from llmplane.policies.pack import build_policies
from llmplane.policies.rules import ResourceRule, load_all
from tests.plans import Plan, of_type, shipped

POLICIES = {policy.name: policy for policy in build_policies()}
# What a preview holds for a value not known yet: the SDK's own sentinel.
UNKNOWN = rpc.UNKNOWN

Props = dict[str, Any]
Mutation = Callable[[Props], None]


def check(
    policy: str, type_: str, props: Mapping[str, Any], config: Mapping[str, Any] | None = None
) -> list[str]:
    """The messages `policy` reports for one resource; [] when it complies."""
    target = POLICIES[policy]
    assert isinstance(target, ResourceValidationPolicy), f"{policy} is a stack policy"
    messages: list[str] = []
    options = PolicyResourceOptions(False, [], False, [], None, [], None)  # type: ignore[arg-type]
    args = ResourceValidationArgs(
        type_, unknown_checking_proxy(dict(props)), f"urn:pulumi:t::p::{type_}::r", "r",
        options, None, dict(config or {}),
    )  # fmt: skip
    target.validate(args, lambda message, urn=None: messages.append(message))
    return messages


def inputs(plan: Plan, type_: str, name: str | None = None) -> dict[str, Any]:
    """A deep copy of one resource's inputs from a shipped plan, ready to be broken.

    By name where the plan has several of the type: plans list resources in URN order, which
    moves whenever a component is added or renamed.
    """
    found = [r for r in of_type(plan, type_) if name is None or r["name"] == name]
    names = [r["name"] for r in found]
    assert len(found) == 1, f"{type_} {name or ''}: expected one, found {names}"
    return copy.deepcopy(found[0]["inputs"])


def shipped_props(stack: str, type_: str, name: str | None = None) -> Callable[[], Props]:
    """A maker of fresh copies of one resource a shipped stack deploys, for a case table."""
    return lambda: inputs(shipped(stack), type_, name)


def check_stack(
    policy: str, plan: Plan, config: Mapping[str, Any] | None = None
) -> list[tuple[str, str | None]]:
    """The (message, urn) pairs a stack policy reports for a whole plan."""
    from pulumi_policy import StackValidationArgs, StackValidationPolicy

    from llmplane.policies.offline import from_plan, policy_resources

    target = POLICIES[policy]
    assert isinstance(target, StackValidationPolicy), f"{policy} is a resource policy"
    found: list[tuple[str, str | None]] = []
    args = StackValidationArgs(policy_resources(from_plan(plan)), dict(config or {}))
    target.validate(args, lambda message, urn=None: found.append((message, urn)))
    return found


def resource(plan: Plan, type_: str, name: str) -> dict[str, Any]:
    """One resource of a plan, by type and name, to change in place."""
    (match,) = [r for r in plan["resources"] if r["type"] == type_ and r["name"] == name]
    return match


def put(path: str, value: Any) -> Mutation:
    """Set a dotted path (digits index lists), creating objects on the way."""

    def mutate(props: Props) -> None:
        *parents, last = path.split(".")
        node: Any = props
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        node[int(last) if last.isdigit() else last] = value

    return mutate


def drop(path: str) -> Mutation:
    """Remove a dotted path, as if the program never set it."""

    def mutate(props: Props) -> None:
        *parents, last = path.split(".")
        node: Any = props
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[last]

    return mutate


def rules_of(package: str) -> list[ResourceRule]:
    """The resource rules llmplane.policies.rules.<package> lists, each also in the registry."""
    listed = importlib.import_module(f"llmplane.policies.rules.{package}").RULES
    registered = {id(rule) for rule in load_all()}
    assert all(id(rule) in registered for rule in listed)
    return [rule for rule in listed if isinstance(rule, ResourceRule)]


def findings(plan: Plan, rules: Sequence[ResourceRule]) -> list[tuple[str, str, str, str]]:
    """(enforcement, policy, resource name, message) for every violation `rules` find in a plan."""
    return [
        (rule.enforcement, rule.name, resource["name"], message)
        for resource in plan["resources"]
        for rule in rules
        if resource["type"] in rule.types
        for message in check(rule.name, resource["type"], resource["inputs"])
    ]


@dataclass(frozen=True)
class Cases:
    """A rule module's case tables; each row names a policy, a resource type and its props."""

    rules: Sequence[ResourceRule]
    """The rules the tables must cover."""
    compliant: Sequence[tuple[Any, ...]]
    """(policy, type, props): what is shipped, which complies."""
    violations: Sequence[tuple[Any, ...]]
    """(policy, type, props, mutation, a fragment the one message must hold)."""
    missing: Sequence[tuple[Any, ...]]
    """(policy, type, props, the property removed, a fragment, or None: still complies)."""
    configured: Sequence[tuple[Any, ...]]
    """(policy, type, props, mutation, policy config, a fragment, or None: complies so)."""
    also_compliant: Sequence[tuple[Any, ...]]
    """(policy, type, props, mutation): shapes that must not be mistaken for a violation."""


class RuleCases:
    """The checks every rule module's tests run over its case tables.

    A test module subclasses this as a Test... class and sets `cases`; pytest runs each check once
    per row of the table `_TABLES` names for it.
    """

    cases: ClassVar[Cases]
    _TABLES: ClassVar[dict[str, tuple[str, str]]] = {
        "test_what_is_shipped_complies": ("policy,type_,props", "compliant"),
        "test_a_broken_copy_is_reported_with_its_value": (
            "policy,type_,props,mutate,expected",
            "violations",
        ),
        "test_a_missing_property_reads_as_the_default": (
            "policy,type_,props,path,expected",
            "missing",
        ),
        "test_policy_config_moves_the_threshold": (
            "policy,type_,props,mutate,config,expected",
            "configured",
        ),
        "test_legitimate_variants_comply": ("policy,type_,props,mutate", "also_compliant"),
    }

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Parametrize each check with the rows of its table."""
        argnames, table = self._TABLES.get(metafunc.function.__name__, ("", ""))
        if table:
            metafunc.parametrize(argnames, getattr(self.cases, table))

    def test_every_policy_has_a_compliant_and_a_violating_case(self) -> None:
        names = {r.name for r in self.cases.rules}
        assert names
        assert names == {case[0] for case in self.cases.compliant}
        assert names == {case[0] for case in self.cases.violations}
        assert {r.name for r in self.cases.rules if r.config} == {
            case[0] for case in self.cases.configured
        }

    def test_what_is_shipped_complies(
        self, policy: str, type_: str, props: Callable[[], Props]
    ) -> None:
        assert check(policy, type_, props()) == []

    def test_a_broken_copy_is_reported_with_its_value(
        self, policy: str, type_: str, props: Callable[[], Props], mutate: Mutation, expected: str
    ) -> None:
        resource = props()
        mutate(resource)
        messages = check(policy, type_, resource)
        assert len(messages) == 1, messages
        assert expected in messages[0]

    def test_a_missing_property_reads_as_the_default(
        self, policy: str, type_: str, props: Callable[[], Props], path: str, expected: str | None
    ) -> None:
        resource = props()
        drop(path)(resource)
        messages = check(policy, type_, resource)
        if expected is None:
            assert messages == []
        else:
            assert any(expected in m for m in messages), messages

    def test_policy_config_moves_the_threshold(
        self,
        policy: str,
        type_: str,
        props: Callable[[], Props],
        mutate: Mutation,
        config: dict[str, Any],
        expected: str | None,
    ) -> None:
        resource = props()
        mutate(resource)
        messages = check(policy, type_, resource, config)
        if expected is None:
            assert messages == []
            assert check(policy, type_, resource) != []  # the default would have reported it
        else:
            assert len(messages) == 1 and expected in messages[0], messages

    def test_legitimate_variants_comply(
        self, policy: str, type_: str, props: Callable[[], Props], mutate: Mutation
    ) -> None:
        resource = props()
        mutate(resource)
        assert check(policy, type_, resource) == []


def mutated(make: Callable[[], Props], mutation: Mutation) -> Callable[[], Props]:
    """A maker of copies of `make`'s resource with one mutation applied, for a case table."""

    def build() -> Props:
        props = make()
        mutation(props)
        return props

    return build
