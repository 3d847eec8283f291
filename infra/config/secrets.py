"""Which keys are secrets, the refusal of a plaintext one, and quoting values without leaking any.

A key is a secret because its field is typed `SecretStr`, never because of how it is named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

import yaml
from pydantic import BaseModel, SecretStr

from llmplane.components.naming import PROJECT

from .clouds import PROVIDER_MODELS
from .errors import SettingsError
from .stacks import STACK_MODELS

KUBECONFIG = "kubernetes:kubeconfig"


def holds_secret(annotation: Any) -> bool:
    """Whether a field's type is a secret: `SecretStr`, also inside `X | None` or a collection."""
    return annotation is SecretStr or any(holds_secret(arg) for arg in get_args(annotation))


def _secret_keys(model: type[BaseModel], prefix: str) -> tuple[str, ...]:
    return tuple(
        f"{prefix}{field.alias or name}"
        for name, field in model.model_fields.items()
        if holds_secret(field.annotation)
    )


# Keys that must arrive encrypted. Pulumi.yaml cannot mark the llmplane: ones `secret: true` (their
# default "" would then fail the CLI's check), so this is the check that refuses a plaintext value.
SECRET_KEYS: tuple[str, ...] = tuple(
    sorted(
        {key for model in STACK_MODELS.values() for key in _secret_keys(model, f"{PROJECT}:")}
        | {key for model in PROVIDER_MODELS.values() for key in _secret_keys(model, "")}
    )
)


def refuse_plaintext(stack: str, config: Mapping[str, Any], secret_keys: frozenset[str]) -> None:
    """Refuse a secret key stored in plain text, whatever its value's shape, before anything else.

    A plaintext kubeconfig is the one exception: it may name a file, or reach the cluster through
    an exec plugin or certificate files, and then holds no credential. It is refused when it
    holds one (see `kubeconfig_credential`).
    """
    for key in SECRET_KEYS:
        if key not in config or key in secret_keys:
            continue
        fix = f"remove it and run `pulumi config set --secret {key} <value>`"
        if key != KUBECONFIG:
            raise SettingsError(stack, key, "is stored in plain text in the stack file", fix)
        where = kubeconfig_credential(config[key])
        if where is not None:
            raise SettingsError(
                stack,
                key,
                f"holds a credential ({where}) in plain text in the stack file",
                f"{fix}, or let the kubeconfig get its credentials from an exec plugin",
            )


# Fields of a kubeconfig user (client-go's AuthInfo) whose value is itself a credential. Paths to
# files (client-key, tokenFile, client-certificate) and certificates are not.
_USER_CREDENTIALS = ("token", "password", "client-key-data")


def kubeconfig_credential(value: Any) -> str | None:
    """Where a kubeconfig, as text or a path, holds a credential, e.g. `users[0].user.token`.

    None for a path, or a kubeconfig whose users authenticate with an exec plugin, certificate
    and key files or a token file. A credential is a token, a password, inline client key data, a
    legacy auth-provider's config (its tokens and client secret), or environment values an exec
    plugin is given (they often carry secrets; llmplane cannot tell which do). Text that cannot
    be read as YAML counts as a credential: it cannot be shown to hold none.
    """
    document: Any = value
    if isinstance(value, str):
        try:
            document = yaml.safe_load(value)
        except (yaml.YAMLError, ValueError, RecursionError):
            return "text that cannot be read as YAML"
    if document is None or isinstance(document, str):
        return None  # a path to a kubeconfig file
    if not isinstance(document, dict):
        return None  # not a kubeconfig: the settings check refuses its shape without quoting it
    users = document.get("users")
    for index, entry in enumerate(users if isinstance(users, list) else []):
        user = entry.get("user") if isinstance(entry, dict) else None
        if not isinstance(user, dict):
            continue
        where = f"users[{index}].user"
        for field in _USER_CREDENTIALS:
            if user.get(field):
                return f"{where}.{field}"
        provider = user.get("auth-provider")
        if isinstance(provider, dict) and provider.get("config"):
            return f"{where}.auth-provider.config"
        plugin = user.get("exec")
        env = plugin.get("env") if isinstance(plugin, dict) else None
        if isinstance(env, list) and any(isinstance(e, dict) and e.get("value") for e in env):
            return f"{where}.exec.env"
    return None


_SHOWN_UP_TO = 80


def shown(value: Any) -> str:
    """A value of a non-secret key, quoted for an error message: short, and never a private key."""
    if isinstance(value, str) and "PRIVATE KEY" in value:
        return "a private key (not shown)"
    try:
        text = repr(value)
    except ValueError:  # an integer too long to print (Python's 4,300-digit limit)
        return "a number too long to show"
    if "PRIVATE KEY" in text:
        return f"{shape(value)} holding a private key (not shown)"
    return text if len(text) <= _SHOWN_UP_TO else f"{text[: _SHOWN_UP_TO - 3]}..."


def shape(value: Any) -> str:
    """What kind of value a key holds, in stack-file terms: text, a number, a list, a mapping."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "null" if value is None else f"a {type(value).__name__}"
