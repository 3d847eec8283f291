"""What a policy rule is, how one is declared, and the helpers rules read props with.

A resource rule is `check(type_token, props, config) -> Iterable[str]`: it yields one message per
problem and nothing when the resource complies. A stack rule is
`check(resources, config) -> Iterable[tuple[str, str | None]]`: a message and the URN it is about.
`props` uses wire (camelCase) names, exactly as CrossGuard's `args.props`; it may be a read-only
proxy that raises `UnknownValueError` on values a preview cannot know yet, so rules read it only
through `Mapping`/`Sequence` operations and the helpers below, never `isinstance(x, dict)`.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, TypedDict, Unpack

Severity = Literal["low", "medium", "high", "critical"]
Enforcement = Literal["mandatory", "advisory"]
Props = Mapping[str, Any]
Config = Mapping[str, Any]
ResourceCheck = Callable[[str, Props, Config], Iterable[str]]
StackCheck = Callable[[Sequence["StackResource"], Config], Iterable[tuple[str, str | None]]]

# How a secret reaches a policy offline: the plan, `pulumi preview --json` and `stack export` all
# withhold the value. Under the Pulumi CLI a policy sees the plaintext instead.
SECRET = "[secret]"


@dataclass(frozen=True)
class StackResource:
    """One resource as a stack rule sees it, whichever source it was read from."""

    type: str
    """Pulumi type token, e.g. kubernetes:apps/v1:Deployment."""
    name: str
    """The resource's logical name."""
    urn: str
    """The resource's URN."""
    props: Props
    """Inputs with wire names."""
    dependencies: tuple[str, ...] = ()
    """URNs this resource depends on."""


@dataclass(frozen=True, kw_only=True)
class RuleInfo:
    """What every policy has besides its check: everything a report and pack.py show of it."""

    name: str
    """Unique kebab-case id; users waive and configure policies by it."""
    description: str
    """One sentence: what must hold."""
    severity: Severity
    """How bad a violation is."""
    enforcement: Enforcement = "mandatory"
    """mandatory blocks a deployment (exit 1); advisory only reports."""
    frameworks: tuple[str, ...]
    """Ids in other catalogues (Checkov, CIS, PSS), so users can map findings."""
    remediation: str
    """What to change, in the stack file where a key controls it."""
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """JSON-schema properties of tunable thresholds, each with its default."""

    def defaults(self) -> dict[str, Any]:
        """Config values when neither the user nor a policy-config file sets them."""
        return {key: schema["default"] for key, schema in self.config.items()}


@dataclass(frozen=True, kw_only=True)
class ResourceRule(RuleInfo):
    """A policy that sees one resource of the listed types at a time."""

    types: tuple[str, ...]
    """Resource types the rule applies to."""
    check: ResourceCheck
    """The plain function (or value check) that finds violations."""

    @property
    def is_stack_rule(self) -> Literal[False]:
        """Resource rules see one resource at a time."""
        return False


@dataclass(frozen=True, kw_only=True)
class StackRule(RuleInfo):
    """A policy that sees every resource of the stack at once."""

    check: StackCheck
    """The plain function that finds violations, each with the URN it is about."""

    @property
    def is_stack_rule(self) -> Literal[True]:
        """Stack rules see every resource at once."""
        return True


Rule = ResourceRule | StackRule


class RuleText(TypedDict):
    """What a rule declaration takes besides its name (and a resource rule's types)."""

    description: str
    severity: Severity
    frameworks: Sequence[str]
    remediation: str
    enforcement: NotRequired[Enforcement]
    config: NotRequired[Mapping[str, Mapping[str, Any]] | None]


def info(text: RuleText) -> dict[str, Any]:
    """A declaration's text as RuleInfo fields: frameworks a tuple, no config an empty one."""
    return {
        "description": text["description"],
        "severity": text["severity"],
        "enforcement": text.get("enforcement", "mandatory"),
        "frameworks": tuple(text["frameworks"]),
        "remediation": text["remediation"],
        "config": text.get("config") or {},
    }


def resource_rule(
    name: str, *, types: Sequence[str], **text: Unpack[RuleText]
) -> Callable[[ResourceCheck], ResourceRule]:
    """Declare a resource rule around a plain check; the module lists it in its RULES."""

    def declare(check: ResourceCheck) -> ResourceRule:
        return ResourceRule(name=name, types=tuple(types), check=check, **info(text))

    return declare


def stack_rule(name: str, **text: Unpack[RuleText]) -> Callable[[StackCheck], StackRule]:
    """Declare a stack rule around a plain check; the module lists it in its RULES."""

    def declare(check: StackCheck) -> StackRule:
        return StackRule(name=name, check=check, **info(text))

    return declare


def dig(props: Any, path: str, default: Any = None) -> Any:
    """The value at a dotted wire-name path (`spec.template.spec`), or `default` if absent.

    Digits select list items (`containers.0.image`). Reading goes through the mapping's own
    `__getitem__`, so an unknown value raises the proxy's UnknownValueError instead of passing.
    """
    value = props
    for part in path.split("."):
        if isinstance(value, Mapping):
            if part not in value:
                return default
            value = value[part]
        elif _is_list(value) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return default
        if value is None:
            return default
    return value


def items(value: Any) -> list[Any]:
    """A list-valued property as a list; absent or not a list reads as empty."""
    return list(value) if _is_list(value) else []


def truthy(value: Any) -> bool:
    """True for `true` and for the string "true": some providers carry booleans as strings."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def shown(value: Any) -> str:
    """A property's value as a message quotes it: strings in quotes, booleans in JSON spelling."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)


def has_property(props: Any, path: str) -> bool:
    """Whether the property at `path` is set, without reading it.

    The id of a resource created in the same update (a disk encryption set's) is unknown during a
    preview, but that it is set is known: the keys of a mapping can be listed without reading them.
    """
    parent, _, key = path.rpartition(".")
    holder = dig(props, parent) if parent else props
    return isinstance(holder, Mapping) and key in list(holder)


def is_open_cidr(cidr: Any) -> bool:
    """True for a range that spans every address: 0.0.0.0/0, ::/0 and their spellings."""
    try:
        return ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0
    except ValueError:
        return False


def json_document(value: Any) -> Mapping[str, Any] | None:
    """A JSON policy document from its text (or an already-parsed object); None if unreadable."""
    if isinstance(value, Mapping):
        return value
    # Offline, a secret document reads as SECRET: nothing to check until the CLI has plaintext.
    if not isinstance(value, str) or value == SECRET:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None  # the cloud rejects a malformed document long before it could grant anything
    return parsed if isinstance(parsed, Mapping) else None


DEPLOYMENT = "kubernetes:apps/v1:Deployment"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
REPLICA_SET = "kubernetes:apps/v1:ReplicaSet"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
POD = "kubernetes:core/v1:Pod"
SERVICE = "kubernetes:core/v1:Service"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"

# Where each workload type keeps its pod spec. helm.sh/v3:Release is absent on purpose: a policy
# sees only a release's values, never the objects its chart renders.
POD_SPEC_PATHS: Mapping[str, str] = {
    DEPLOYMENT: "spec.template.spec",
    DAEMON_SET: "spec.template.spec",
    STATEFUL_SET: "spec.template.spec",
    REPLICA_SET: "spec.template.spec",
    JOB: "spec.template.spec",
    CRON_JOB: "spec.jobTemplate.spec.template.spec",
    POD: "spec",
}
WORKLOADS = tuple(POD_SPEC_PATHS)


def pod_spec(type_: str, props: Props) -> Props:
    """The pod spec of a workload, wherever its type keeps it; {} for a type that has none."""
    path = POD_SPEC_PATHS.get(type_)
    spec = dig(props, path, {}) if path else {}
    return spec if isinstance(spec, Mapping) else {}


def containers(pod: Props) -> list[Props]:
    """Every container of a pod spec: init containers first, then the app's, then ephemeral."""
    return [
        *items(dig(pod, "initContainers")),
        *items(dig(pod, "containers")),
        *items(dig(pod, "ephemeralContainers")),
    ]


def _is_list(value: Any) -> bool:
    """Whether a property is a list: a sequence, but not the characters of a string."""
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)
