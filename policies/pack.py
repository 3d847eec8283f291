"""CrossGuard policy objects built from the rules: the same objects serve Pulumi and offline."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from .rules import Rule, StackResource, load_all

PACK_NAME = "llmplane"
# The Pulumi CLI takes a Python pack's version only from PulumiPolicy.yaml (pulumi_policy always
# reports 0.0.1 itself), so that file is the one place the version is written.
PACK_VERSION = str(
    yaml.safe_load(Path(__file__).with_name("PulumiPolicy.yaml").read_text(encoding="utf-8"))[
        "version"
    ]
)
Policy = ResourceValidationPolicy | StackValidationPolicy


def build_policies(waivers: Mapping[str, str] | None = None) -> list[Policy]:
    """One policy object per rule; a waived one is advisory and gives its reason in each message."""
    waivers = waivers or {}
    return [_policy(rule, waivers.get(rule.name)) for rule in load_all()]


def _policy(rule: Rule, waiver: str | None) -> Policy:
    level = EnforcementLevel.ADVISORY if waiver else EnforcementLevel(rule.enforcement)
    common = {
        "name": rule.name,
        "description": rule.description,
        "enforcement_level": level,
        "config_schema": (
            PolicyConfigSchema({k: dict(v) for k, v in rule.config.items()})
            if rule.config
            else None
        ),
        "severity": Severity(rule.severity),
        "framework": PolicyComplianceFramework(
            name=PACK_NAME, version=PACK_VERSION, reference=", ".join(rule.frameworks)
        ),
        "tags": list(rule.frameworks),
        "remediation_steps": rule.remediation,
    }
    suffix = f" (waived: {waiver})" if waiver else ""
    if rule.is_stack_rule:
        return StackValidationPolicy(validate=_stack_validation(rule, suffix), **common)
    return ResourceValidationPolicy(validate=_resource_validation(rule, suffix), **common)


def _config(rule: Rule, given: Mapping[str, object]) -> dict[str, object]:
    # The Pulumi CLI merges schema defaults itself; merging again here is harmless and lets the
    # offline runner and hand-built test arguments behave the same.
    return {**rule.defaults(), **{k: v for k, v in given.items() if k != "enforcementLevel"}}


def _resource_validation(rule: Rule, suffix: str):
    types = frozenset(rule.types)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        config = _config(rule, args.get_config())
        for message in rule.check(args.resource_type, args.props, config):  # type: ignore[call-arg]
            report_violation(message + suffix, None)

    return validate


def _stack_validation(rule: Rule, suffix: str):
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            StackResource(
                r.resource_type, r.name, r.urn, r.props, tuple(d.urn for d in r.dependencies)
            )
            for r in args.resources
        ]
        config = _config(rule, args.get_config())
        for message, urn in rule.check(resources, config):  # type: ignore[call-arg]
            report_violation(message + suffix, urn)

    return validate
