"""scale-to-zero-holds-requests: passes a held service, fails one that refuses requests at zero."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pulumi_policy import StackValidationArgs, StackValidationPolicy
from pulumi_policy.proxy import UnknownValueError

from llmplane.components.kubernetes import activator
from llmplane.policies.offline import from_plan, policy_resources
from llmplane.policies.pack import pack_policies
from llmplane.policies.rules import build_registry, default_registry, scale_to_zero
from tests.components.held import held_plan
from tests.plans import Plan
from tests.policies.harness import UNKNOWN, resource

NAME = "scale-to-zero-holds-requests"
SCALER = "kubernetes:keda.sh/v1alpha1:ScaledObject"
HELD = "kubernetes:http.keda.sh/v1alpha1:HTTPScaledObject"


def check(plan: Plan) -> list[tuple[str, str | None]]:
    """The (message, urn) pairs the policy reports, run as the CLI runs a stack policy."""
    # Until the registry lists it, the policy runs from a registry that adds it.
    registry = default_registry()
    if NAME not in registry:
        registry = build_registry(registry.rules, scale_to_zero.RULES)
    (policy,) = pack_policies(only=[NAME], registry=registry)
    assert isinstance(policy, StackValidationPolicy)
    assert policy.enforcement_level is not None
    assert policy.enforcement_level.value == "mandatory"
    found: list[tuple[str, str | None]] = []
    args = StackValidationArgs(policy_resources(from_plan(plan)), {})
    policy.validate(args, lambda message, urn=None: found.append((message, urn)))
    return found


@pytest.fixture(scope="module")
def held() -> Plan:
    plan, _ = held_plan()
    return plan


@pytest.fixture(scope="module")
def refused() -> Plan:
    """The same service at zero replicas with no activator."""
    plan, _ = held_plan(with_activator=False)
    return plan


def _scaler(plan: Plan) -> dict[str, Any]:
    return resource(plan, SCALER, "llm-scaler")


def test_a_held_service_passes(held: Plan) -> None:
    assert check(held) == []


def test_zero_replicas_with_nothing_to_hold_requests_fail(refused: Plan) -> None:
    ((message, urn),) = check(refused)
    assert message == (
        "llm-scaler: Deployment llm/llm may scale to zero, and nothing holds its requests "
        "meanwhile (no HTTPScaledObject for it, no external-push trigger to KEDA's HTTP add-on)"
    )
    assert urn == _scaler(refused)["urn"]


def test_held_requests_that_wake_nothing_fail(held: Plan) -> None:
    plan = copy.deepcopy(held)
    spec = _scaler(plan)["inputs"]["spec"]
    spec["triggers"] = [t for t in spec["triggers"] if t["type"] != "external-push"]
    ((message, _),) = check(plan)
    assert "HTTPScaledObject llm-held holds the requests of Deployment llm/llm" in message
    assert "no external-push trigger names it" in message
    # Without the annotation the add-on's operator makes its own trigger: nothing to report.
    resource(plan, HELD, "llm-held")["inputs"]["metadata"]["annotations"] = {}
    assert check(plan) == []


def test_an_http_scaled_object_for_another_workload_holds_nothing(held: Plan) -> None:
    plan = copy.deepcopy(held)
    resource(plan, HELD, "llm-held")["inputs"]["spec"]["scaleTargetRef"]["name"] = "other"
    spec = _scaler(plan)["inputs"]["spec"]
    spec["triggers"] = [t for t in spec["triggers"] if t["type"] != "external-push"]
    ((message, _),) = check(plan)
    assert "nothing holds its requests" in message


def test_a_trigger_naming_an_interceptor_route_holds_requests(refused: Plan) -> None:
    """The add-on's successor API (0.14+): an InterceptorRoute routes, the trigger names it."""
    plan = copy.deepcopy(refused)
    spec = _scaler(plan)["inputs"]["spec"]
    address = "keda-add-ons-http-external-scaler.keda:9090"
    push = {"scalerAddress": address, scale_to_zero.ROUTE_KEY: "llm"}
    spec["triggers"].append({"type": "external-push", "metadata": push})
    assert check(plan) == []


@pytest.mark.parametrize(
    ("change", "violations"),
    [
        ({}, 1),  # minReplicaCount left out: KEDA's default is 0
        ({"minReplicaCount": 1}, 0),
        ({"minReplicaCount": 1, "idleReplicaCount": 0}, 1),
    ],
)
def test_a_missing_min_replica_count_means_zero(
    refused: Plan, change: dict[str, int], violations: int
) -> None:
    plan = copy.deepcopy(refused)
    spec = _scaler(plan)["inputs"]["spec"]
    del spec["minReplicaCount"]
    spec.update(change)
    assert len(check(plan)) == violations


def test_an_unknown_min_replica_count_leaves_it_unevaluated(refused: Plan) -> None:
    plan = copy.deepcopy(refused)
    _scaler(plan)["inputs"]["spec"]["minReplicaCount"] = UNKNOWN
    with pytest.raises(UnknownValueError):
        check(plan)


def test_the_policy_reads_the_names_the_components_write() -> None:
    assert scale_to_zero.SKIP_SCALED_OBJECT == activator.SKIP_SCALED_OBJECT
    assert scale_to_zero.PUSH_TRIGGER == activator.TRIGGER
    assert (
        f"kubernetes:{activator.API_VERSION}:{activator.KIND}" == scale_to_zero.HTTP_SCALED_OBJECT
    )
