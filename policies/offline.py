"""Run the pack's own policy objects with no Pulumi CLI: on a Plan, a preview or a stack export.

The Pulumi CLI does three things for a policy pack that this module does in its place:
- it reads resources (here from `llmplane plan`, `pulumi preview --json` or `pulumi stack export`);
- it merges each policy's config-schema defaults with `--policy-pack-config` (same file format);
- it calls `validate` with props wrapped so that reading a value not known yet raises
  UnknownValueError, which it reports as "can't run policy during preview".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc
from pulumi_policy import (
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from .pack import Policy, build_policies
from .rules import SECRET, ResourceRule, Rule, StackResource, default_registry


class PolicyInputError(ValueError):
    """A bad policy config or resources file: the flag, what is wrong, and what would be right.

    The pack imports nothing from llmplane's program; the CLI turns this into its one-line
    exit-code-2 error.
    """

    def __init__(self, flag: str, problem: str, fix: str) -> None:
        self.flag, self.problem, self.fix = flag, problem, fix
        super().__init__(f"{flag}: {problem}; {fix}")


LEVELS = ("mandatory", "advisory", "disabled")
_SOURCES = "pass `pulumi preview --json`, `pulumi stack export` or `llmplane plan --json` output"


# The three sources all read into the stack rules' own view of a resource.
Resource = StackResource


@dataclass(frozen=True)
class Finding:
    """One violation, as every output format reports it."""

    policy: str
    """The policy's name."""
    enforcement: str
    """mandatory or advisory, after config and waivers."""
    severity: str
    """low, medium, high or critical."""
    message: str
    """What is wrong."""
    urn: str | None
    """The resource it concerns; None for the stack as a whole."""
    resource_type: str | None
    """Its type token."""
    frameworks: tuple[str, ...]
    """Checkov and CIS ids of the same check."""
    remediation: str
    """What to change."""
    waived: str | None = None
    """The stack's written reason, when it waives this policy."""

    @property
    def resource_name(self) -> str | None:
        """The logical name of the resource it concerns; None for the stack as a whole."""
        return urn_name(self.urn) if self.urn else None

    def as_json(self) -> dict[str, Any]:
        """The Plan-JSON form (camelCase, like the rest of the plan)."""
        data = asdict(self)
        data["resourceType"] = data.pop("resource_type")
        data["frameworks"] = list(self.frameworks)
        return data


@dataclass(frozen=True)
class Report:
    """Everything one stack's check found: violations, and the policies it could not run."""

    findings: list[Finding]
    """Violations in policy order, then resource order."""
    not_evaluated: list[tuple[str, str]]
    """(policy, why): props a preview does not know yet, as the CLI reports them."""
    waivers: dict[str, str]
    """Policy -> reason, as the stack file states them."""

    @property
    def mandatory(self) -> list[Finding]:
        """Violations that fail the check (exit code 1)."""
        return [f for f in self.findings if f.enforcement == "mandatory"]


def evaluate(
    resources: Sequence[Resource],
    policy_config: Mapping[str, Any] | None = None,
    waivers: Mapping[str, str] | None = None,
) -> Report:
    """Run every policy over the resources, as `pulumi preview --policy-pack` would."""
    waivers = dict(waivers or {})
    config = normalize_config(policy_config or {})
    rules = default_registry()
    findings: list[Finding] = []
    not_evaluated: list[tuple[str, str]] = []
    by_urn = {r.urn: r for r in resources}
    # Read-only views, built once and shared by every policy that reads them.
    guarded_props = [(r, guarded(r.props)) for r in resources]
    stack_view: list[PolicyResource] | None = None
    for policy in build_policies(waivers):
        level, settings = _level_and_settings(policy, config, policy.name in waivers)
        if level == "disabled":
            continue
        rule = rules[policy.name]

        def found(message: str, urn: str | None, *, rule: Rule = rule, level: str = level) -> None:
            resource = by_urn.get(urn) if urn else None
            findings.append(
                Finding(
                    rule.name,
                    level,
                    rule.severity,
                    message,
                    urn,
                    resource.type if resource else None,
                    rule.frameworks,
                    rule.remediation,
                    waivers.get(rule.name),
                )
            )

        if isinstance(policy, ResourceValidationPolicy):
            assert isinstance(rule, ResourceRule)
            # As the CLI does: one call per resource, so a value unknown in one resource leaves
            # the policy unevaluated there only. Resources of other types would return at once.
            for resource, props in guarded_props:
                if resource.type not in rule.types:
                    continue
                args = ResourceValidationArgs(
                    resource.type, props, resource.urn, resource.name, _OPTIONS, None, settings
                )
                try:
                    policy.validate(args, lambda m, u=None, urn=resource.urn: found(m, u or urn))
                except UnknownValueError as unknown:
                    not_evaluated.append((policy.name, f"{resource.name}: {unknown.message}"))
        else:
            stack_view = stack_view or policy_resources(resources)
            try:
                policy.validate(StackValidationArgs(stack_view, settings), found)
            except UnknownValueError as unknown:
                not_evaluated.append((policy.name, unknown.message))
    return Report(findings, not_evaluated, waivers)


def guarded(props: Mapping[str, Any]) -> Any:
    """Props as the CLI hands them to a policy: reading a value not known yet raises."""
    return unknown_checking_proxy(dict(props))


_OPTIONS = PolicyResourceOptions(False, [], False, [], None, [], None)  # type: ignore[arg-type]


def policy_resources(resources: Sequence[Resource]) -> list[PolicyResource]:
    """The stack view the CLI hands a stack policy, dependencies resolved to their resources."""
    built: dict[str, PolicyResource] = {}
    for r in resources:
        built[r.urn] = PolicyResource(
            r.type, guarded(r.props), r.urn, r.name, _OPTIONS, None, None, [], {}
        )
    for r in resources:
        built[r.urn].dependencies = [built[d] for d in r.dependencies if d in built]
    return list(built.values())


def normalize_config(raw: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`--policy-pack-config` content, checked: {"all": level, policy: level | {...}}."""
    known = default_registry()
    result: dict[str, dict[str, Any]] = {}
    for name, value in raw.items():
        if name != "all" and name not in known:
            raise PolicyInputError(
                "--policy-config",
                f"names no policy {name!r}",
                "use a name from `llmplane check --list`",
            )
        entry = {"enforcementLevel": value} if isinstance(value, str) else dict(value)
        level = entry.get("enforcementLevel")
        if level is not None and level not in LEVELS:
            raise PolicyInputError(
                "--policy-config",
                f"{name}: enforcementLevel {level!r}",
                f"use one of {', '.join(LEVELS)}",
            )
        if name != "all":
            _check_properties(name, entry, known[name].config)
        result[name] = entry
    return result


def _check_properties(
    name: str, entry: Mapping[str, Any], schema: Mapping[str, Mapping[str, Any]]
) -> None:
    kinds = {
        "integer": int,
        "number": (int, float),
        "string": str,
        "boolean": bool,
        "array": list,
        "object": dict,
    }
    for key, value in entry.items():
        if key == "enforcementLevel":
            continue
        if key not in schema:
            known = ", ".join(schema) or "none"
            raise PolicyInputError(
                "--policy-config",
                f"{name}.{key} is not a setting of {name}",
                f"its settings: {known}",
            )
        expected = schema[key].get("type", "string")
        if not isinstance(value, kinds[expected]) or (expected != "boolean" and value is True):
            raise PolicyInputError(
                "--policy-config", f"{name}.{key} is {value!r}", f"give a {expected}"
            )


def _level_and_settings(
    policy: Policy, config: Mapping[str, Mapping[str, Any]], waived: bool
) -> tuple[str, dict[str, Any]]:
    """Enforcement: the policy's own, then "all", then its own entry; a waiver caps it."""
    assert policy.enforcement_level is not None
    entry = config.get(policy.name, {})
    level = (
        entry.get("enforcementLevel")
        or config.get("all", {}).get("enforcementLevel")
        or policy.enforcement_level.value
    )
    if waived and level == "mandatory":
        # The stack file decided, with a written reason; a blanket "all" does not undo it.
        level = "advisory"
    settings = {k: v for k, v in entry.items() if k != "enforcementLevel"}
    return level, settings


# --- Readers: three sources, one Resource list --------------------------------------------------


def from_plan(plan: Mapping[str, Any]) -> list[Resource]:
    """The custom resources of an llmplane Plan (secrets are already "[secret]")."""
    return [
        Resource(r["type"], r["name"], r["urn"], r["inputs"], tuple(r["dependencies"]))
        for r in plan["resources"]
        if r["custom"]
    ]


def read_resources(path: Path) -> list[Resource]:
    """Resources from `pulumi preview --json` or `pulumi stack export` output, told by shape."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyInputError(
            "--resources", f"cannot read {path}: {error}", "name a JSON file"
        ) from None
    except json.JSONDecodeError as error:
        raise PolicyInputError(
            "--resources", f"{path} is not JSON ({error.msg}, line {error.lineno})", _SOURCES
        ) from None
    if isinstance(data, dict) and isinstance(data.get("steps"), list):
        states = [s.get("newState") for s in data["steps"] if s.get("op") != "delete"]
    elif isinstance(data, dict) and isinstance(data.get("deployment"), dict):
        states = data["deployment"].get("resources") or []
    elif isinstance(data, dict) and isinstance(data.get("stacks"), list):
        return [r for plan in data["stacks"] for r in from_plan(plan)]
    else:
        raise PolicyInputError(
            "--resources", f"{path} is neither a preview nor a stack export", _SOURCES
        )
    return [_from_state(state) for state in states if _is_custom(state)]


def urn_name(urn: str) -> str:
    """A resource's logical name: the last part of its URN."""
    return urn.rsplit("::", 1)[-1]


def _is_custom(state: Any) -> bool:
    return isinstance(state, dict) and bool(state.get("custom")) and "type" in state


def _from_state(state: Mapping[str, Any]) -> Resource:
    urn = str(state.get("urn", ""))
    inputs = state.get("inputs") or {}
    return Resource(
        str(state["type"]),
        urn_name(urn),
        urn,
        _without_secrets(inputs),
        tuple(state.get("dependencies") or ()),
    )


def _without_secrets(value: Any) -> Any:
    """Pulumi's serialized secrets ({sig: secret, ciphertext|plaintext}) become "[secret]"."""
    if isinstance(value, dict):
        # The same signature the SDK puts on secrets on the wire (the offline engine reads it too).
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return SECRET
        return {k: _without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


def findings_json(reports: Iterable[tuple[str, Report]]) -> list[dict[str, Any]]:
    """Per stack, its violations and what could not be evaluated, for --format json."""
    return [
        {
            "stack": stack,
            "violations": [f.as_json() for f in report.findings],
            "notEvaluated": [{"policy": p, "reason": why} for p, why in report.not_evaluated],
            "waivers": report.waivers,
        }
        for stack, report in reports
    ]
