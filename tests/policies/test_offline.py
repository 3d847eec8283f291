"""The offline runner: the pack's objects over plans, previews and exports; config and waivers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from llmplane.policies.offline import (
    PolicyInputError,
    Resource,
    evaluate,
    from_plan,
    read_resources,
)
from llmplane.policies.pack import build_policies
from llmplane.policies.rules import load_all
from tests.conftest import REPO
from tests.plans import shipped
from tests.policies.harness import UNKNOWN

SHIPPED = ["aws-dev", "aws-prod", "azure-dev", "gcp-dev", "kubernetes-dev"]
FIXTURES = REPO / "tests" / "fixtures" / "pulumi"
LB = "k8s-load-balancers-internal-or-gated"


@pytest.mark.parametrize("stack", SHIPPED)
def test_every_shipped_stack_has_no_mandatory_violation(stack: str) -> None:
    plan = shipped(stack)
    report = evaluate(from_plan(plan))
    assert report.mandatory == []
    assert report.not_evaluated == []
    # Every advisory comes with its reason and its fix; the plan carries the same findings.
    assert all(f.message and f.remediation for f in report.findings)
    assert plan["violations"] == [f.as_json() for f in report.findings]


def test_the_pack_has_fifty_documented_policies_each_with_a_test() -> None:
    rules = load_all()
    assert len(rules) >= 50
    assert len({r.name for r in rules}) == len(rules)
    tests = "\n".join(p.read_text() for p in (REPO / "tests" / "policies").glob("test_*.py"))
    for rule in rules:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.name), rule.name
        assert rule.description.endswith(".") and rule.remediation and rule.frameworks, rule.name
        assert all("default" in schema for schema in rule.config.values()), rule.name
        assert f'"{rule.name}"' in tests, f"{rule.name} has no test"
    policies = build_policies()
    assert sum(isinstance(p, StackValidationPolicy) for p in policies) >= 5
    assert all(isinstance(p, ResourceValidationPolicy | StackValidationPolicy) for p in policies)


def test_a_preview_is_read_with_its_unknowns_and_secrets() -> None:
    resources = read_resources(FIXTURES / "kubernetes-dev.preview.json")
    engine = next(r for r in resources if r.urn.endswith("Deployment::llm"))
    assert engine.props["spec"]["template"]["spec"]["serviceAccountName"] == UNKNOWN
    assert all(r.type != "llmplane:index:InferenceService" for r in resources)  # components
    report = evaluate(resources)
    ((finding),) = report.mandatory
    assert (finding.policy, finding.urn) == (
        LB,
        "urn:pulumi:kubernetes-dev::llmplane::kubernetes:core/v1:Service::debug-lb",
    )


def test_a_stack_export_is_read_without_its_ciphertext() -> None:
    text = (FIXTURES / "aws-dev.stack-export.json").read_text()
    assert "ciphertext" in text
    resources = read_resources(FIXTURES / "aws-dev.stack-export.json")
    assert len(resources) > 80
    assert "ciphertext" not in json.dumps([r.props for r in resources])
    assert evaluate(resources).mandatory == []


def test_a_value_a_preview_cannot_know_skips_the_policy_instead_of_failing() -> None:
    service = Resource(
        "kubernetes:core/v1:Service", "lb", "urn:lb",
        {"metadata": {"annotations": UNKNOWN}, "spec": {"type": "LoadBalancer"}},
    )  # fmt: skip
    report = evaluate([service])
    assert [f for f in report.findings if f.policy == LB] == []
    assert (LB, "object value at .metadata.annotations can't be known during preview") in [
        (p, why.replace("string", "object")) for p, why in report.not_evaluated
    ]


def test_policy_config_sets_levels_and_thresholds() -> None:
    resources = read_resources(FIXTURES / "kubernetes-dev.preview.json")
    assert evaluate(resources, {LB: "advisory"}).mandatory == []
    assert evaluate(resources, {LB: {"enforcementLevel": "disabled"}}).findings == [
        f for f in evaluate(resources).findings if f.policy != LB
    ]
    everything = evaluate(resources, {"all": "mandatory"})
    assert len(everything.mandatory) == len(everything.findings) > 1
    # A threshold in the policy's own config schema.
    lowered = evaluate(resources, {LB: {"gatewayKeysSecret": "other"}})
    assert lowered.mandatory


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"no-such-policy": "advisory"}, "names no policy 'no-such-policy'"),
        ({LB: "sometimes"}, "enforcementLevel 'sometimes'"),
        ({LB: {"colour": "red"}}, "colour is not a setting"),
        ({LB: {"gatewayKeysSecret": 7}}, "give a string"),
    ],
)
def test_bad_policy_config_is_one_clear_error(config: dict, words: str) -> None:
    with pytest.raises(PolicyInputError, match=re.escape(words)):
        evaluate([], config)


def test_a_waiver_turns_a_violation_advisory_and_says_why() -> None:
    resources = read_resources(FIXTURES / "kubernetes-dev.preview.json")
    reason = "debug endpoint for the load test, removed on 2026-12-01"
    report = evaluate(resources, {"all": "mandatory", LB: "mandatory"}, {LB: reason})
    waived = [f for f in report.findings if f.policy == LB]
    assert waived and all(f.enforcement == "advisory" and f.waived == reason for f in waived)
    assert all(f"(waived: {reason})" in f.message for f in waived)
    assert report.waivers == {LB: reason}


def test_the_policy_pack_entry_point_is_never_imported() -> None:
    # Building a PolicyPack starts a server that never returns: only the Pulumi CLI runs it.
    main = (REPO / "policies" / "__main__.py").read_text()
    assert main.count("PolicyPack(") == 1
    for path in [
        *REPO.glob("infra/*.py"),
        *REPO.glob("policies/**/*.py"),
        *REPO.glob("tests/**/*.py"),
    ]:
        if path.name != "__main__.py" and path != Path(__file__):
            assert "policies.__main__" not in path.read_text(), path


def test_an_unknown_value_skips_only_the_resource_that_holds_it() -> None:
    def service(name: str, kind: str) -> Resource:
        props = {"metadata": {"name": name, "namespace": "apps"}, "spec": {"type": kind}}
        return Resource("kubernetes:core/v1:Service", name, f"urn:{name}", props)

    report = evaluate([service("pending", UNKNOWN), service("exposed", "NodePort")])
    nodeport = [f for f in report.findings if f.policy == "k8s-no-nodeport-services"]
    assert [f.urn for f in nodeport] == ["urn:exposed"]
    assert (
        "k8s-no-nodeport-services",
        "pending: string value at .spec.type can't be known during preview",
    ) in report.not_evaluated
