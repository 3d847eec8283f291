"""Stack files (`Pulumi.<stack>.yaml`) read as the Pulumi CLI reads them, without decrypting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from llmplane.components.naming import PROJECT

from .errors import SettingsError

# What an offline plan reads where a `secure:` value stands: the ciphertext can't be decrypted
# without the stack's secrets provider, and the plan only needs to know that a secret is there.
# It is a value every secret key accepts (one valid API key, text with no credential in it), so
# the settings rules never need to know whether they read a real value or this stand-in; under
# `pulumi up` they check the real, decrypted one.
SECRET_PLACEHOLDER = "offline-stand-in-for-an-encrypted-value-not-decrypted"

STACK_FILE_KEYS = {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"}


# A stack file is a handful of settings: anything much deeper or larger is a mistake (or a YAML
# alias bomb), and reading it further would only fail later with a less helpful message.
MAX_DEPTH = 32
MAX_NODES = 100_000
# No llmplane setting is a number this large; a longer one is text and needs quotes. It also keeps
# every number printable: Python refuses to turn an integer of over 4,300 digits into text.
MAX_INT_BITS = 128


def read_stack_file(path: Path) -> tuple[str, dict[str, Any], frozenset[str]]:
    """Read `Pulumi.<stack>.yaml`: the stack name, its config map and which keys are secure."""
    stack = stack_name(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SettingsError(
            stack, str(path), f"cannot be read ({error.strerror})", "check the path"
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise SettingsError(
            stack,
            str(path),
            f"is not UTF-8 text (byte 0x{data[error.start]:02x} at line {line})",
            "save the stack file as UTF-8, as the Pulumi CLI reads it",
        ) from None
    document = _load_yaml(stack, path, text)
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


def _load_yaml(stack: str, path: Path, text: str) -> Any:
    """safe_load, with every way a YAML text can fail turned into a SettingsError.

    The text is composed into nodes first, so that a scalar that cannot be built (an integer too
    long, a date that does not exist) is reported with its key and line, and nesting and aliases
    are bounded before anything is built from them. Scalar values are never quoted back: they
    may be secrets.
    """
    loader: yaml.SafeLoader | None = None
    try:
        # The reader refuses control characters as soon as it is made.
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(stack, loader, node)
        return loader.construct_document(node)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise SettingsError(
            stack, str(path), f"is not valid YAML{line}", "fix the syntax of the stack file"
        ) from None
    except RecursionError:
        raise SettingsError(
            stack,
            str(path),
            f"nests more than {MAX_DEPTH} levels deep",
            "a stack file holds a few levels of settings; flatten it",
        ) from None
    finally:
        if loader is not None:
            loader.dispose()


def _check_nodes(stack: str, loader: yaml.SafeLoader, root: yaml.Node) -> None:
    """Refuse deep nesting, alias bombs and scalars that do not build, naming the key."""
    # Aliases share nodes: each is walked again wherever it is used, so that the count is of what
    # the document expands to, and an alias bomb stops at MAX_NODES instead of filling memory.
    pending: list[tuple[yaml.Node, tuple[str, ...]]] = [(root, ())]
    nodes = 0
    while pending:
        node, where = pending.pop()
        nodes += 1
        key = _key_name(where[:3])
        if len(where) > MAX_DEPTH:
            raise SettingsError(
                stack,
                key,
                f"nests more than {MAX_DEPTH} levels deep (line {node.start_mark.line + 1})",
                "a stack file holds a few levels of settings; flatten it",
            )
        if nodes > MAX_NODES:
            raise SettingsError(
                stack,
                key,
                f"expands to more than {MAX_NODES:,} values (YAML aliases?)",
                "write the settings out without repeated anchors",
            )
        if isinstance(node, yaml.ScalarNode):
            _check_scalar(stack, loader, node, key)
            continue
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                label = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                pending.append((key_node, where))
                pending.append((value_node, (*where, str(label))))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend((item, (*where, f"[{i}]")) for i, item in enumerate(node.value))


def _check_scalar(stack: str, loader: yaml.SafeLoader, node: yaml.ScalarNode, key: str) -> None:
    line = node.start_mark.line + 1
    try:
        value = loader.construct_object(node)
    except (ValueError, OverflowError):
        # Raised by the constructors of ints (over Python's digit limit) and dates (2024-02-30).
        kind = node.tag.rsplit(":", 1)[-1]
        what = {"int": "an integer too long", "timestamp": "a date that does not exist"}
        raise SettingsError(
            stack,
            key,
            f"holds {what.get(kind, f'a {kind} that cannot be read')} (line {line})",
            "write a valid value, or quote it if it is text",
        ) from None
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise SettingsError(
            stack,
            key,
            f"holds an integer of {len(node.value.lstrip('+-'))} characters (line {line}), "
            "larger than any setting takes",
            "write a smaller number, or quote it if it is text",
        )


def _key_name(where: tuple[str, ...]) -> str:
    """`("config", "llmplane:replicas", "min")` -> `llmplane:replicas.min`, as settings say."""
    parts = list(where)
    if not parts:
        return "stack file"
    if parts[0] == "config" and len(parts) > 1:
        parts = parts[1:]
        parts[0] = parts[0] if ":" in parts[0] else f"{PROJECT}:{parts[0]}"
    return parts[0] + "".join(p if p.startswith("[") else f".{p}" for p in parts[1:])
