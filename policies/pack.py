"""CrossGuard policy objects built from the rules: the same objects serve Pulumi and offline.

`pack_policies` is the builder users embed in a CrossGuard pack of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

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

from .rules import Registry, ResourceRule, Rule, StackResource, StackRule, default_registry

PACK_NAME = "llmplane"
# The Pulumi CLI takes a Python pack's version only from PulumiPolicy.yaml (pulumi_policy always
# reports 0.0.1 itself), so that file is the one place the version is written.
PACK_VERSION = str(
    yaml.safe_load(Path(__file__).with_name("PulumiPolicy.yaml").read_text(encoding="utf-8"))[
        "version"
    ]
)
Policy = ResourceValidationPolicy | StackValidationPolicy
Level = EnforcementLevel | Literal["mandatory", "advisory", "disabled"]


def pack_policies(
    *,
    enforcement: Mapping[str, Level] | None = None,
    only: Iterable[str] | None = None,
    skip: Iterable[str] = (),
    waivers: Mapping[str, str] | None = None,
    registry: Registry | None = None,
) -> list[Policy]:
    """llmplane's policies, ready to embed in any CrossGuard PolicyPack, in report order.

    `enforcement` overrides a policy's level by name (mandatory, advisory or disabled); `only`
    keeps just the named policies and `skip` leaves some out. A waiver, a written reason per
    policy, caps a mandatory policy at advisory and gives its reason in every message. A name in
    `enforcement`, `only` or `skip` that is no policy of the pack is a ValueError, so a typo
    never silently does nothing:

        PolicyPack("acme", policies=[*acme_policies, *pack_policies(only=["required-tags"])])
    """
    rules = registry if registry is not None else default_registry()
    overrides: dict[str, Level] = dict(enforcement or {})
    chosen = None if only is None else set(only)
    skipped = set(skip)
    waived = dict(waivers or {})
    # Waivers are not checked: they come from a stack file, which `llmplane check` validates and
    # which may name a policy of a newer pack.
    for what, names in (("enforcement", overrides), ("only", chosen or ()), ("skip", skipped)):
        unknown = sorted(name for name in names if name not in rules)
        if unknown:
            raise ValueError(f"{what} names no policy of the pack: {', '.join(unknown)}")
    return [
        _policy(rule, waived.get(rule.name), overrides.get(rule.name))
        for rule in rules
        if (chosen is None or rule.name in chosen) and rule.name not in skipped
    ]


def build_policies(waivers: Mapping[str, str] | None = None) -> list[Policy]:
    """One policy object per rule; a waived one is advisory and gives its reason in each message."""
    return pack_policies(waivers=waivers)


def _policy(rule: Rule, waiver: str | None, override: Level | None = None) -> Policy:
    level = EnforcementLevel(override if override is not None else rule.enforcement)
    if waiver and level == EnforcementLevel.MANDATORY:
        level = EnforcementLevel.ADVISORY
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
    if isinstance(rule, StackRule):
        return StackValidationPolicy(validate=_stack_validation(rule, suffix), **common)
    return ResourceValidationPolicy(validate=_resource_validation(rule, suffix), **common)


def _config(rule: Rule, given: Mapping[str, object]) -> dict[str, object]:
    # The Pulumi CLI merges schema defaults itself; merging again here is harmless and lets the
    # offline runner and hand-built test arguments behave the same.
    return {**rule.defaults(), **{k: v for k, v in given.items() if k != "enforcementLevel"}}


def _resource_validation(rule: ResourceRule, suffix: str):
    types = frozenset(rule.types)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        config = _config(rule, args.get_config())
        for message in rule.check(args.resource_type, args.props, config):
            report_violation(message + suffix, None)

    return validate


def _stack_validation(rule: StackRule, suffix: str):
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            StackResource(
                r.resource_type, r.name, r.urn, r.props, tuple(d.urn for d in r.dependencies)
            )
            for r in args.resources
        ]
        config = _config(rule, args.get_config())
        for message, urn in rule.check(resources, config):
            report_violation(message + suffix, urn)

    return validate
