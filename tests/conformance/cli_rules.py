"""The Pulumi CLI's rules for Pulumi.yaml and stack config, restated from pulumi/pulumi's source.

Sources (pulumi/pulumi at 1b5949891b):
- sdk/go/common/workspace/project.json: the JSON schema every Pulumi.yaml is validated against;
- sdk/go/common/workspace/project.go: `ValidateProject`, `Project.Validate`, `ValidateConfigValue`;
- pkg/workspace/config.go: `mergeConfig` (required keys, defaults) and `validateStackConfigValue`.

The Pulumi CLI cannot be installed here, so these tests apply the same rules to our files. Only the
parts llmplane's files can meet are restated; each function names the Go function it follows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# project.json `simpleConfigType`; `object` since v3.186.0 (pulumi#20129).
CONFIG_TYPES = ("string", "integer", "boolean", "array", "object")
# project.json `configTypeDeclaration` has additionalProperties: false.
DECLARATION_ATTRIBUTES = {"type", "items", "description", "secret", "default", "value"}
# project.json `properties`: the top-level attributes whose shape the schema fixes.
_RUNTIME_ATTRIBUTES = {"name", "options"}


class CliError(Exception):
    """What the Pulumi CLI would print before stopping, in its own words."""


class _StrictLoader(yaml.SafeLoader):
    """YAML as the CLI's Go parser reads it: duplicate keys are errors, yes/no/on/off are text."""


def _no_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    keys = [loader.construct_object(key, deep=deep) for key, _ in node.value]
    for key in keys:
        if keys.count(key) > 1:
            raise CliError(f"mapping key {key!r} already defined")
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)
# YAML 1.2, which go-yaml v3 follows, knows only true/false as booleans (PyYAML: YAML 1.1).
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(path: Path) -> Any:
    """Parse a file the way the CLI does, or raise CliError with the parser's complaint."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except yaml.YAMLError as error:
        raise CliError(f"could not parse {path.name}: {error}") from None


@dataclass(frozen=True)
class Declaration:
    """One entry of Pulumi.yaml's `config:` block (`ProjectConfigType`)."""

    type: str | None
    items: Any
    description: str
    secret: bool
    default: Any
    value: Any


@dataclass(frozen=True)
class Project:
    """The parts of a loaded Pulumi.yaml that config validation reads."""

    name: str
    main: str | None
    runtime: Any
    config: dict[str, Declaration]


def load_project(path: Path) -> Project:
    """`LoadProject`: parse, validate against the schema's rules, then `Project.Validate`."""
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise CliError("project file is not a YAML mapping")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise CliError("project is missing a non-empty string 'name' attribute")
    _check_runtime(raw.get("runtime"))
    project = Project(
        name=name,
        main=raw.get("main"),
        runtime=raw.get("runtime"),
        config={key: _declaration(name, key, entry) for key, entry in _config(raw).items()},
    )
    validate_project(project)
    return project


def _config(raw: dict[str, Any]) -> dict[str, Any]:
    config = raw.get("config") or {}
    if not isinstance(config, dict):
        # A string `config:` is the deprecated stack-config folder, which llmplane does not use.
        raise CliError("#/config: llmplane uses stackConfigDir; config must be a mapping")
    return config


def _check_runtime(runtime: Any) -> None:
    """project.json `runtime`: a name, or {name, options} with nothing else."""
    if isinstance(runtime, str) and runtime:
        return
    if not isinstance(runtime, dict) or not isinstance(runtime.get("name"), str):
        raise CliError("#/runtime: expected a runtime name or {name, options}")
    extra = set(runtime) - _RUNTIME_ATTRIBUTES
    if extra:
        raise CliError(f"#/runtime: additionalProperties {sorted(extra)} not allowed")
    if not isinstance(runtime.get("options", {}), dict):
        raise CliError("#/runtime/options: expected object")


def _declaration(project: str, key: str, entry: Any) -> Declaration:
    """One `config:` entry, after `RewriteShorthandConfigValues` and the schema's checks."""
    if not isinstance(entry, dict):
        # Short-hand: a bare value is a default in the project's namespace, a value elsewhere.
        if isinstance(entry, (str, int, bool, list)):
            own = namespaced_by_project(project, key)
            return Declaration(
                None, None, "", False, entry if own else None, None if own else entry
            )
        raise CliError(f"#/config/{key}: expected string, integer, boolean, array or object")
    extra = set(entry) - DECLARATION_ATTRIBUTES
    if extra:
        raise CliError(f"#/config/{key}: additionalProperties {sorted(extra)} not allowed")
    type_ = entry.get("type")
    if type_ is not None and type_ not in CONFIG_TYPES:
        raise CliError(f"#/config/{key}/type: value must be one of {list(CONFIG_TYPES)}")
    if "description" in entry and not isinstance(entry["description"], str):
        raise CliError(f"#/config/{key}/description: expected string")
    if "secret" in entry and not isinstance(entry["secret"], bool):
        raise CliError(f"#/config/{key}/secret: expected boolean")
    return Declaration(
        type=type_,
        items=entry.get("items"),
        description=entry.get("description", ""),
        secret=bool(entry.get("secret", False)),
        default=entry.get("default"),
        value=entry.get("value"),
    )


def namespaced_by_project(project: str, key: str) -> bool:
    """`configKeyIsNamespacedByProject`."""
    return ":" not in key or key.startswith(f"{project}:")


def validate_project(project: Project) -> None:
    """`Project.Validate`: the rules for each config declaration."""
    for key, declaration in project.config.items():
        if declaration.default is not None and declaration.value is not None:
            raise CliError(
                f"project config '{key}' cannot have both a 'default' and 'value' attribute"
            )
        if namespaced_by_project(project.name, key):
            if declaration.type == "array" and declaration.items is None:
                raise CliError(
                    f"The configuration key '{key}' declares an array but does not specify "
                    "the underlying type via the 'items' attribute"
                )
            if (
                declaration.type is not None
                and declaration.default is not None
                and not value_has_type(declaration.type, declaration.items, declaration.default)
            ):
                raise CliError(
                    f"The default value specified for configuration key '{key}' is not of the "
                    f"expected type '{declaration.type}'"
                )
        elif declaration.type is not None:
            raise CliError(
                f"Configuration key '{key}' is not namespaced by the project and should not "
                "define a type"
            )
        elif declaration.default is not None:
            raise CliError(
                f"Configuration key '{key}' is not namespaced by the project and should not "
                "define a default value"
            )
        elif declaration.value is None:
            raise CliError(
                f"Configuration key '{key}' is namespaced and must provide an attribute 'value'"
            )


def value_has_type(type_: str, items: Any, value: Any) -> bool:
    """`ValidateConfigValue`: integers may be whole floats or digit text, booleans true/false."""
    if type_ == "string":
        return isinstance(value, str)
    if type_ == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            return True
        return isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value) is not None
    if type_ == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if type_ == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or not isinstance(items, dict):
        return False
    return all(value_has_type(items.get("type", ""), items.get("items"), item) for item in value)


@dataclass(frozen=True)
class StackValue:
    """A stack config value as the CLI holds it (`config.Value`): text, and whether it is secure."""

    text: str
    secure: bool = False
    is_object: bool = False


def stack_values(config: dict[str, Any], secure_keys: frozenset[str]) -> dict[str, StackValue]:
    """A stack file's `config:` map as `config.Map`: scalars as text, objects and lists as JSON."""
    values: dict[str, StackValue] = {}
    for key, value in config.items():
        if isinstance(value, (dict, list)):
            values[key] = StackValue(json.dumps(value, separators=(",", ":")), is_object=True)
        elif isinstance(value, bool):
            values[key] = StackValue("true" if value else "false")
        else:
            values[key] = StackValue(str(value), secure=key in secure_keys)
    return values


def merge_config(
    project: Project, stack: str, values: dict[str, StackValue]
) -> dict[str, StackValue]:
    """`ValidateStackConfigAndApplyProjectConfig`: add defaults, refuse missing or mistyped keys."""
    merged = dict(values)
    missing = []
    for key in sorted(project.config):
        declaration = project.config[key]
        full = key if ":" in key else f"{project.name}:{key}"
        if full in merged:
            continue
        if declaration.default is None and declaration.value is None:
            if full.startswith(f"{project.name}:"):
                missing.append(key)
            continue
        default = declaration.value if declaration.default is None else declaration.default
        merged[full] = _config_value(default)
    if missing:
        quoted = [f"'{key}'" for key in missing]
        listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" and {quoted[-1]}"
        plural = "value" if len(missing) == 1 else "values"
        raise CliError(f"Stack '{stack}' is missing configuration {plural} {listed}")
    for key in sorted(project.config):
        declaration = project.config[key]
        full = key if ":" in key else f"{project.name}:{key}"
        if declaration.type is not None and full in merged:
            _check_stack_value(stack, key, declaration, merged[full])
    return merged


def _config_value(value: Any) -> StackValue:
    """`createConfigValue`: primitives become text, anything else a JSON object value."""
    if isinstance(value, bool):
        return StackValue("true" if value else "false")
    if isinstance(value, (str, int)):
        return StackValue(str(value))
    return StackValue(json.dumps(value, separators=(",", ":")), is_object=True)


def _check_stack_value(stack: str, key: str, declaration: Declaration, value: StackValue) -> None:
    """`validateStackConfigValue`: secret keys must be encrypted; the value must have the type."""
    if declaration.secret and not value.secure:
        raise CliError(
            f"Stack '{stack}' with configuration key '{key}' must be encrypted as it's secret"
        )
    content: Any = json.loads(value.text) if value.is_object else value.text
    assert declaration.type is not None
    if not value_has_type(declaration.type, declaration.items, content):
        raise CliError(
            f"Stack '{stack}' with configuration key '{key}' must be of type '{declaration.type}'"
        )


def program_config(merged: dict[str, StackValue]) -> tuple[dict[str, str], list[str]]:
    """What the language host hands the program: PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS."""
    return (
        {key: value.text for key, value in sorted(merged.items())},
        sorted(key for key, value in merged.items() if value.secure),
    )
