"""The declarative value check: defaults, missing values, spellings and unknowns, decided once."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from llmplane.policies.rules import ANY_VALUE, POD_SPEC_PATHS, ValueCheck, load_all
from tests.policies.harness import UNKNOWN


def messages(check: ValueCheck, props: dict[str, Any], type_: str = "t") -> list[str]:
    """What the check reports, reading props through the preview proxy as the CLI hands them."""
    return list(check(type_, unknown_checking_proxy(props), {}))


TIER = ValueCheck(
    path="sku.tier",
    forbidden=("free",),
    ignore_case=True,
    default="free",
    message="sku.tier is {shown} ({value})",
)
ON = ValueCheck(path="a.on", allowed=(True,), message="a.on is {shown}")
NOT_OFF = ValueCheck(path="on", forbidden=(False,), message="on is false")
CHANNEL = ValueCheck(
    path="channel",
    forbidden=("UNSPECIFIED",),
    missing="fail",
    missing_message="channel is not set",
    message="channel is {value}",
)
KEY = ValueCheck(path="key", allowed=(ANY_VALUE,), message="key is not set")


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({}, ["sku.tier is not set (free)"]),  # absent reads as the provider's default
        ({"sku": {"tier": ""}}, ['sku.tier is "" (free)']),
        ({"sku": {"tier": False}}, ["sku.tier is false (free)"]),  # an empty enum value
        ({"sku": {"tier": "Free"}}, ['sku.tier is "Free" (Free)']),  # enums ignore case
        ({"sku": {"tier": "Standard"}}, []),
    ],
)
def test_a_forbidden_value_with_a_default(props: dict[str, Any], expected: list[str]) -> None:
    assert messages(TIER, props) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, []),
        ("true", []),
        ("True", []),
        (False, ["a.on is false"]),
        ("yes", ['a.on is "yes"']),
    ],
)
def test_booleans_match_as_providers_carry_them(value: Any, expected: list[str]) -> None:
    assert messages(ON, {"a": {"on": value}}) == expected


def test_an_absent_required_value_fails_and_an_absent_forbidden_one_passes() -> None:
    assert messages(ON, {}) == ["a.on is not set"]
    assert messages(NOT_OFF, {}) == []
    assert messages(NOT_OFF, {"on": "false"}) == ["on is false"]


def test_a_missing_value_can_fail_with_its_own_message() -> None:
    assert messages(CHANNEL, {}) == ["channel is not set"]
    assert messages(CHANNEL, {"channel": "UNSPECIFIED"}) == ["channel is UNSPECIFIED"]
    assert messages(CHANNEL, {"channel": "REGULAR"}) == []


def test_any_value_needs_a_value_but_not_a_known_one() -> None:
    assert messages(KEY, {}) == ["key is not set"]
    assert messages(KEY, {"key": ""}) == ["key is not set"]
    assert messages(KEY, {"key": "arn:aws:kms:k"}) == []
    # A key ARN created in the same update is unknown during a preview, but it is set.
    assert messages(KEY, {"key": UNKNOWN}) == []


def test_an_unknown_value_otherwise_leaves_the_rule_not_evaluated() -> None:
    with pytest.raises(UnknownValueError):
        messages(TIER, {"sku": {"tier": UNKNOWN}})


def test_a_path_under_each_types_pod_spec_and_a_guard() -> None:
    token = ValueCheck(
        path="automountServiceAccountToken",
        forbidden=(True,),
        missing="fail",
        under=POD_SPEC_PATHS,
        applies=lambda props: props.get("kind") != "skipped",
        message="automount is {shown}",
    )
    pod = {"spec": {"automountServiceAccountToken": True}}
    cron = {"spec": {"jobTemplate": {"spec": {"template": {"spec": {}}}}}}
    assert messages(token, pod, "kubernetes:core/v1:Pod") == ["automount is true"]
    assert messages(token, cron, "kubernetes:batch/v1:CronJob") == ["automount is not set"]
    assert messages(token, {**pod, "kind": "skipped"}, "kubernetes:core/v1:Pod") == []


def test_a_check_takes_allowed_or_forbidden_values_never_both() -> None:
    with pytest.raises(ValueError, match="not both"):
        ValueCheck(path="p", allowed=("a",), forbidden=("b",), message="m")
    with pytest.raises(ValueError, match="not both"):
        ValueCheck(path="p", message="m")


def test_value_checks_are_declared_as_data_where_they_are_data() -> None:
    declared = [r for r in load_all() if isinstance(getattr(r, "check", None), ValueCheck)]
    assert len(declared) >= 29
