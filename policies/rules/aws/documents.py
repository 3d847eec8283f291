"""AWS policy documents (IAM, KMS key and ECR repository policies) and their statements."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .. import Props, dig, items, json_document


def statements(props: Props, key: str, where: str = "") -> Iterator[tuple[str, Mapping]]:
    """The statements of the document at `key`, labelled; Statement may be one object or a list."""
    document = json_document(dig(props, key))
    if document is None:
        return
    found = document.get("Statement")
    listed = [found] if isinstance(found, Mapping) else items(found)
    for index, statement in enumerate(listed):
        if isinstance(statement, Mapping):
            sid = statement.get("Sid")
            name = f"statement {sid!r}" if sid else f"statement {index}"
            yield f"{where}{name}", statement


def strings(value: Any) -> list[str]:
    """An IAM field that may be one string or a list of them."""
    if isinstance(value, str):
        return [value]
    return [v for v in items(value) if isinstance(v, str)]


def allows(statement: Mapping) -> bool:
    """Whether a statement grants (Effect Allow) rather than denies."""
    return statement.get("Effect") == "Allow"


def grants_everyone(statement: Mapping) -> bool:
    """An Allow for Principal "*" (or {"AWS": "*"}, or NotPrincipal) with no Condition."""
    if not allows(statement) or "Condition" in statement:
        return False
    if "NotPrincipal" in statement:
        return True
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return "*" in strings(principal.get("AWS"))
    return False
