"""The registry, built by a function in report order, and the pack builder users embed."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from llmplane.policies import rules
from llmplane.policies.pack import build_policies, pack_policies
from llmplane.policies.rules import (
    ResourceRule,
    StackRule,
    build_registry,
    default_registry,
    load_all,
)
from tests.conftest import REPO

DOMAINS = ["aws", "azure", "gcp", "inference", "stack", "workloads", "tags", "scale_to_zero"]
WAIVER = "the debug pod runs only in the isolated tools cluster"


def _rule_modules() -> list[str]:
    found = pkgutil.walk_packages(rules.__path__, f"{rules.__name__}.")
    return [module.name for module in found]


def test_the_registry_lists_the_domains_in_report_order() -> None:
    registry = default_registry()
    expected = [
        r.name for d in DOMAINS for r in importlib.import_module(f"{rules.__name__}.{d}").RULES
    ]
    assert [r.name for r in registry] == expected
    assert [r.name for r in load_all()] == expected
    # New policies go last, so that SARIF rule indices stay put.
    assert expected[-2:] == ["required-tags", "scale-to-zero-holds-requests"]


def test_every_rule_a_module_declares_is_in_its_rules_and_the_registry() -> None:
    registered = {id(rule) for rule in default_registry()}
    for name in _rule_modules():
        module = importlib.import_module(name)
        declared = [v for v in vars(module).values() if isinstance(v, ResourceRule | StackRule)]
        listed = {id(r) for r in getattr(module, "RULES", ())}
        # A rule declared but not listed would silently never run.
        assert all(id(r) in listed and id(r) in registered for r in declared), name


def test_the_two_rule_types_are_told_apart_by_type() -> None:
    kinds = {type(r) for r in load_all()}
    assert kinds == {ResourceRule, StackRule}
    assert all(r.types for r in load_all() if isinstance(r, ResourceRule))
    assert sum(isinstance(r, StackRule) for r in load_all()) == 7
    assert all(r.is_stack_rule == isinstance(r, StackRule) for r in load_all())


def test_a_name_used_twice_is_refused_and_the_list_is_a_copy() -> None:
    (first, *_) = load_all()
    with pytest.raises(ValueError, match=f"two policies are named {first.name}"):
        build_registry([first], [first])
    load_all().clear()
    assert len(load_all()) == len(default_registry())


def test_the_builder_by_default_is_the_whole_pack() -> None:
    built = pack_policies()
    assert [p.name for p in built] == [r.name for r in load_all()]
    assert [p.enforcement_level for p in built] == [p.enforcement_level for p in build_policies()]
    for policy, rule in zip(built, load_all(), strict=True):
        kind = StackValidationPolicy if isinstance(rule, StackRule) else ResourceValidationPolicy
        assert isinstance(policy, kind)


def test_the_builder_overrides_levels_and_takes_a_subset_in_report_order() -> None:
    names = ["k8s-image-digest", "aws-eks-secrets-encrypted", "required-tags"]
    built = pack_policies(
        only=names,
        skip=["required-tags"],
        enforcement={"k8s-image-digest": "mandatory", "aws-eks-secrets-encrypted": "disabled"},
    )
    assert [(p.name, p.enforcement_level) for p in built] == [
        ("aws-eks-secrets-encrypted", EnforcementLevel.DISABLED),
        ("k8s-image-digest", EnforcementLevel.MANDATORY),
    ]


def test_a_waiver_caps_an_override_at_advisory_and_says_why() -> None:
    (policy,) = pack_policies(
        only=["k8s-no-privileged-containers"],
        enforcement={"k8s-no-privileged-containers": EnforcementLevel.MANDATORY},
        waivers={"k8s-no-privileged-containers": WAIVER, "a-policy-of-a-newer-pack": WAIVER},
    )
    assert policy.enforcement_level == EnforcementLevel.ADVISORY


@pytest.mark.parametrize("where", ["enforcement", "only", "skip"])
def test_a_name_that_is_no_policy_is_an_error_not_a_silent_no_op(where: str) -> None:
    arguments = {"enforcement": {"k8s-no-such": "advisory"}, "only": ["k8s-no-such"]}
    arguments["skip"] = ["k8s-no-such"]
    with pytest.raises(ValueError, match=f"{where} names no policy of the pack: k8s-no-such"):
        pack_policies(**{where: arguments[where]})  # type: ignore[arg-type]


def test_the_cli_pack_is_built_by_the_builder() -> None:
    main = (REPO / "policies" / "__main__.py").read_text()
    assert "pack_policies(" in main and "PolicyPack(" in main
