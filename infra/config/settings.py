"""A stack's config map -> StackSettings, with pydantic's first complaint as one line for users."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from llmplane.components.naming import PROJECT

from .clouds import PROVIDER_KEYS
from .errors import SettingsError, choices
from .models import (
    ActiveHours,
    ExistingGpuSettings,
    ManagedGpuSettings,
    ModelSettings,
    ReplicaSettings,
)
from .secrets import SECRET_KEYS, holds_secret, refuse_plaintext, shape, shown
from .stacks import (
    CLOUDS,
    STACK_ADAPTER,
    STACK_MODELS,
    AwsStack,
    AzureStack,
    ExistingClusterStack,
    GcpStack,
    ManagedStack,
    StackBase,
    StackSettings,
)
from .types import RULE_ERROR

__all__ = [
    "ActiveHours",
    "AwsStack",
    "AzureStack",
    "ExistingClusterStack",
    "ExistingGpuSettings",
    "GcpStack",
    "ManagedGpuSettings",
    "ManagedStack",
    "ModelSettings",
    "ReplicaSettings",
    "StackSettings",
    "from_pulumi",
    "parse",
]


def parse(
    stack: str, config: Mapping[str, Any], secret_keys: frozenset[str] = frozenset()
) -> StackSettings:
    """Validate a stack's config map (full keys such as `llmplane:cloud`) into StackSettings."""
    config = {key: value for key, value in config.items() if not _unset(key, value)}
    llm: dict[str, Any] = {}
    provider: dict[str, Any] = {}
    for full_key in sorted(config):
        namespace, _, key = full_key.rpartition(":")
        namespace = namespace or PROJECT
        value = _decode(config[full_key])
        if namespace == PROJECT:
            llm[key] = value
        elif namespace in PROVIDER_KEYS:
            if key not in PROVIDER_KEYS[namespace]:
                known = [f"{namespace}:{k}" for k in PROVIDER_KEYS[namespace]]
                raise SettingsError(
                    stack,
                    full_key,
                    "is not a key llmplane reads",
                    f"use one of: {choices(full_key, known)}",
                )
            provider[f"{namespace}:{key}"] = value
        elif namespace != "pulumi":
            raise SettingsError(
                stack,
                full_key,
                f"llmplane reads no config in the {namespace!r} namespace",
                "remove it, or use llmplane:, aws:, azure-native:, gcp: or kubernetes: keys",
            )
    reserved = sorted(set(llm) & {"stack", "provider"})
    if reserved:
        key = f"{PROJECT}:{reserved[0]}"
        raise SettingsError(
            stack,
            key,
            "is not a known key",
            f"use one of: {choices(reserved[0], _known_keys(_model_named(llm.get('cloud')), ()))}",
        )
    # First, because a plaintext secret in a stack file is already a leak, whatever else is wrong.
    refuse_plaintext(stack, {_full(key): value for key, value in config.items()}, secret_keys)
    document = {**llm, "stack": stack, "provider": provider}
    try:
        # JSON mode, because that is how Pulumi hands structured config to a program, and strict,
        # so that "yes" is not a boolean and "2" is not a number.
        settings = STACK_ADAPTER.validate_json(_json(stack, document), strict=True)
    except ValidationError as error:
        raise _settings_error(stack, error, document) from None
    if isinstance(settings, ExistingClusterStack):
        # A managed cloud's stack is sized when its GPU pool's args are built (cluster_for); an
        # existing cluster has no pool, so its model, context and GPU count are checked here.
        # Imported here: sizing reads the model table and the catalog, which only this needs.
        from ..sizing.serving import serving_for

        serving_for(settings)
    return settings


def _model_named(cloud: Any) -> type[StackBase]:
    """The stack model `cloud` names, or the keys every stack shares if it names none."""
    return STACK_MODELS.get(cloud.lower() if isinstance(cloud, str) else "", StackBase)


def _full(key: str) -> str:
    return key if ":" in key else f"{PROJECT}:{key}"


# Optional text keys (tokens, keys, the certificate): Pulumi.yaml declares them with the default
# "", because the Pulumi CLI refuses every stack that leaves a declared key without a default unset.
_EMPTY_MEANS_UNSET = frozenset(
    f"{PROJECT}:{field.alias or name}"
    for model in STACK_MODELS.values()
    for name, field in model.model_fields.items()
    if field.default is None
)


# Sections (gpu, cluster, network, tags...) that Pulumi.yaml declares with the default {}: the CLI
# hands that to every stack, also to one whose target has no such section (an existing cluster's
# stack has no cluster or network), so an empty section is the same as none.
_EMPTY_SECTIONS = frozenset(
    f"{PROJECT}:{field.alias or name}"
    for model in STACK_MODELS.values()
    for name, field in model.model_fields.items()
    if field.default_factory is not None
)


def _unset(key: str, value: Any) -> bool:
    """Whether `key: value` is a project default ("" or {}) that stands for "not set"."""
    if value in ({}, "{}"):
        return _full(key) in _EMPTY_SECTIONS
    return value == "" and _full(key) in _EMPTY_MEANS_UNSET


def _decode(value: Any) -> Any:
    """Undo Pulumi's encoding: structured config reaches a program as JSON text."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):  # not JSON, a 4,300+ digit number, too deep
            return value
    return value


def _json(stack: str, document: dict[str, Any]) -> str:
    """The document as JSON text; a value Python cannot write as JSON is the user's error."""
    try:
        return json.dumps(document, default=str, sort_keys=True)
    except (ValueError, RecursionError):
        pass
    for key in sorted(document):
        try:
            json.dumps(document[key], default=str)
        except (ValueError, RecursionError):
            name = key if key == "provider" else f"{PROJECT}:{key}"
            raise SettingsError(
                stack,
                name,
                "holds a number too long or a structure too deep to read",
                "use numbers of ordinary size and a few levels of nesting",
            ) from None
    raise AssertionError("unreachable: one of the keys failed above")  # pragma: no cover


def _settings_error(stack: str, error: ValidationError, document: dict[str, Any]) -> SettingsError:
    """Turn pydantic's first complaint into the one-line form users get.

    The location is pydantic's own, after the tag of the cloud's model: it reports the aliases
    (stack-file spelling) that the input used, and the provider fields' aliases are their full keys.
    """
    first = error.errors(include_url=False)[0]
    kind, value = first["type"], first.get("input")
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        return _cloud_error(stack, document.get("cloud"))
    tag, *rest = first["loc"]
    cloud, model = str(tag), STACK_MODELS[str(tag)]
    loc = tuple(rest)
    if kind == RULE_ERROR:
        ctx = first.get("ctx", {})
        key = _config_key((*loc, *str(ctx["rule_key"]).split(".")))
        return SettingsError(stack, key, first["msg"], str(ctx["rule_fix"]))
    key = _config_key(loc)
    if kind == "extra_forbidden":
        return _unknown_key(stack, key, cloud, loc)
    # An entry of a list or map (a tag, a waiver) is described by the list's or map's own field.
    field = _field_at(model, loc)
    hint = field.description if field is not None and field.description else "see the README"
    if kind == "missing":
        when = f" when llmplane:cloud is {cloud}" if loc[:1] == ("provider",) else ""
        return SettingsError(stack, key, f"is required{when}", f"set it to {hint}")
    if _secret(key, field):
        # Whatever the value's shape, none of it is quoted back: only its kind.
        return SettingsError(
            stack,
            key,
            f"is {shape(value)}, not text (a secret's value is not shown)",
            f"expected {hint}: run `pulumi config set --secret {key} <value>`",
        )
    valid = _choices(field) if kind == "literal_error" else first.get("ctx", {}).get("choices")
    if valid is not None:
        return SettingsError(
            stack,
            key,
            f"is {shown(value)}, not a valid value",
            f"use one of: {choices(value, valid)}",
        )
    if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        return _number_for_text(stack, key, value, hint)
    message = first["msg"].removeprefix("Value error, ")
    if kind == "string_pattern_mismatch":
        message = "has the wrong format"
    if kind != "value_error":
        # Value errors quote the bad value themselves.
        message += f" (got {shown(value)})"
    return SettingsError(stack, key, message[0].lower() + message[1:], f"expected {hint}")


def _cloud_error(stack: str, cloud: Any) -> SettingsError:
    """No model reads the document: `llmplane:cloud` is missing or names no target."""
    key = f"{PROJECT}:cloud"
    if cloud is None:
        return SettingsError(stack, key, "is required", f"set it to one of: {', '.join(CLOUDS)}")
    return SettingsError(
        stack, key, f"is {shown(cloud)}, not a valid value", f"use one of: {choices(cloud, CLOUDS)}"
    )


def _unknown_key(stack: str, key: str, cloud: str, loc: tuple[Any, ...]) -> SettingsError:
    """A key this cloud's model does not read: another target's key, or a typo."""
    known = _known_keys(STACK_MODELS[cloud], loc[:-1])
    elsewhere = [c for c in CLOUDS if c != cloud and _field_at(STACK_MODELS[c], loc) is not None]
    if not elsewhere:
        return SettingsError(
            stack, key, "is not a known key", f"use one of: {choices(loc[-1], known)}"
        )
    # Why it belongs elsewhere: the section it sits in there (a key of the GPU pool llmplane
    # creates), or the key's own description for a top-level or provider key.
    owner = STACK_MODELS[elsewhere[0]]
    provider = loc[:1] == ("provider",)
    field = _field_at(owner, loc[:-1]) if len(loc) > 1 and not provider else None
    section = _section(field) if field is not None else None
    own = _field_at(owner, loc)
    why = (section.__doc__ if section is not None else own.description if own else None) or ""
    why = why.strip().rstrip(".")
    clouds = ", ".join(elsewhere[:-1]) + " or " * (len(elsewhere) > 1) + elsewhere[-1]
    if provider:
        fix = f"remove it; llmplane:cloud {cloud} reads {', '.join(known) or 'no provider keys'}"
    elif len(loc) > 1:
        fix = f"remove it; here {'.'.join(map(str, loc[:-1]))} takes: {', '.join(known)}"
    else:
        fix = "remove it"
    return SettingsError(
        stack,
        key,
        f"applies only to llmplane:cloud {clouds}, not {cloud} ({why[:1].lower()}{why[1:]})",
        fix,
    )


def _number_for_text(stack: str, key: str, value: float, hint: str) -> SettingsError:
    """YAML reads `1.30` as the number 1.3: say so, and give the quoted text to write instead."""
    text = shown(value)
    if isinstance(value, float) and key.endswith("kubernetesVersion"):
        # A minor version has two digits after the dot: 1.3 was typed 1.30.
        text = f"{value:.2f}"
    return SettingsError(
        stack,
        key,
        f"is the number {shown(value)}, not text (YAML reads an unquoted number as a number)",
        f'quote it: "{text}" - {hint}',
    )


def _secret(key: str, field: FieldInfo | None) -> bool:
    """A secret by its field's type (SecretStr), or by the declared list of secret keys."""
    return key in SECRET_KEYS or (field is not None and holds_secret(field.annotation))


def _choices(field: FieldInfo | None) -> tuple[Any, ...] | None:
    """The values of a `Literal` field (also inside `X | None`), in their declared order."""
    if field is None:
        return None

    def literals(annotation: Any) -> tuple[Any, ...]:
        if get_origin(annotation) is Literal:
            return get_args(annotation)
        return tuple(v for arg in get_args(annotation) for v in literals(arg))

    return literals(field.annotation) or None


def _config_key(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a stack-file key: `gpu.minNodes` -> `llmplane:gpu.minNodes`."""
    if len(loc) > 1 and loc[0] == "provider":
        return str(loc[1])  # the provider fields' aliases are their full keys, e.g. aws:region
    path = ""
    for part in loc:
        # A list entry is `authorizedCidrs[1]`; a map entry (a tag) is `tags.team`.
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return f"{PROJECT}:{path}"


def _by_alias(model: type[BaseModel], part: str) -> FieldInfo | None:
    fields = model.model_fields
    return next((f for name, f in fields.items() if (f.alias or name) == part), fields.get(part))


def _section(field: FieldInfo) -> type[BaseModel] | None:
    """The settings model a field holds, also as an optional section (`X | None`)."""
    found = [
        a
        for a in (field.annotation, *get_args(field.annotation))
        if isinstance(a, type) and issubclass(a, BaseModel)
    ]
    return found[0] if found else None


def _field_at(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> FieldInfo | None:
    """The field at `loc`, or the list's or map's field where `loc` ends inside one."""
    field = None
    for part in loc:
        if model is None:
            break
        field = _by_alias(model, str(part))
        if field is None:
            return None
        model = _section(field)
    return field


def _known_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The stack-file keys accepted at `loc`, for 'use one of' hints."""
    if loc:
        field = _field_at(model, loc)
        section = _section(field) if field is not None else None
        if section is None:
            return []
        model = section
    hidden = {"stack", "provider"} if issubclass(model, StackBase) else set()
    return [f.alias or name for name, f in model.model_fields.items() if name not in hidden]


def from_pulumi() -> StackSettings:
    """Settings of the stack the Pulumi engine (or the offline engine's mocks) is running."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret = {k for k in values if runtime_config.is_config_secret(k)}
    secret |= set(runtime_config.get_config_secret_keys_env())
    return parse(pulumi.get_stack(), values, frozenset(secret))
