"""Stack files (`Pulumi.<stack>.yaml`) read as the Pulumi CLI reads them, without decrypting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from llmplane.components.naming import PROJECT

from .errors import SettingsError

# What offline plans put where a `secure:` value stands: the ciphertext can't be decrypted without
# the stack's secrets provider, and the plan only needs to know that a secret is there.
SECRET_PLACEHOLDER = "[secret]"

STACK_FILE_KEYS = {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"}


def read_stack_file(path: Path) -> tuple[str, dict[str, Any], frozenset[str]]:
    """Read `Pulumi.<stack>.yaml`: the stack name, its config map and which keys are secure."""
    stack = stack_name(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SettingsError(
            stack, str(path), f"cannot be read ({error.strerror})", "check the path"
        ) from None
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise SettingsError(
            stack, str(path), f"is not valid YAML{line}", "fix the syntax of the stack file"
        ) from None
    document = {} if document is None else document
    if not isinstance(document, dict):
        raise SettingsError(stack, str(path), "is not a YAML mapping", "start with `config:`")
    unknown = sorted(set(map(str, document)) - STACK_FILE_KEYS)
    if unknown:
        raise SettingsError(
            stack,
            unknown[0],
            "is not a stack file key",
            f"use one of: {', '.join(sorted(STACK_FILE_KEYS))}",
        )
    raw = document.get("config") or {}
    if not isinstance(raw, dict):
        raise SettingsError(
            stack, "config", "is not a mapping", "write `key: value` lines under it"
        )
    config: dict[str, Any] = {}
    secret: set[str] = set()
    for key, value in raw.items():
        full_key = str(key) if ":" in str(key) else f"{PROJECT}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full_key] = SECRET_PLACEHOLDER
            secret.add(full_key)
        else:
            config[full_key] = value
    return stack, config, frozenset(secret)


def stack_name(path: Path) -> str:
    """`stacks/Pulumi.aws-dev.yaml` -> `aws-dev`."""
    name = path.name
    for prefix, suffix in (("Pulumi.", ".yaml"), ("Pulumi.", ".yml")):
        if name.startswith(prefix) and name.endswith(suffix):
            return name[len(prefix) : -len(suffix)]
    return path.stem
