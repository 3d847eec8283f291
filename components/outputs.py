"""Read nested provider outputs the same way whether they arrive typed or as plain dicts."""

from __future__ import annotations

from typing import Any

from pydantic.alias_generators import to_camel


def field(value: Any, name: str) -> Any:
    """`value.name`: typed output classes are dicts keyed by Python names, plain ones by wire names.

    Under Pulumi's mocks, nested outputs reach `apply` as plain wire-name dicts; during a real
    deployment they are the SDK's output classes. Both must work.
    """
    if isinstance(value, dict):
        return value.get(name, value.get(to_camel(name)))
    return getattr(value, name)
