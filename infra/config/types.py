"""The settings models' shared parts: the model base, value types (CIDR, ARN, GPU count), rules.

A value type carries its own check, so every field of that kind refuses a bad value the same way,
and a rule across fields raises `rule_error`, which names the key the user must change.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal, LiteralString, cast, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

__all__ = [
    "RULE_ERROR",
    "Cidr",
    "EntraObjectId",
    "GpuCount",
    "IamPrincipalArn",
    "PositiveInt",
    "PrivateNetworkCidr",
    "Spec",
    "SubnetId",
    "any_case",
    "rule_error",
]


class Spec(BaseModel):
    """Shared model rules: immutable, camelCase keys as in the stack file, no unknown keys."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True, strict=True
    )


def any_case(literal: Any) -> BeforeValidator:
    """Match a `Literal`'s text values in any letter case (`AWS`, `perzone`), keeping the spelling.

    The parsed settings hold the canonical value, so plans do not change with the user's case.
    """
    canonical = {c.lower(): c for c in get_args(literal) if isinstance(c, str)}
    return BeforeValidator(lambda v: canonical.get(v.lower(), v) if isinstance(v, str) else v)


# The error type of a rule across fields; settings.py reads the key and the fix from its context.
RULE_ERROR = "settings_rule"


def rule_error(key: str, problem: str, fix: str) -> PydanticCustomError:
    """A broken rule across fields, reported at `key` (a stack-file path below the model)."""
    # pydantic fills only `{rule_key}`/`{rule_fix}` placeholders, which no problem text contains.
    return PydanticCustomError(
        RULE_ERROR, cast(LiteralString, problem), {"rule_key": key, "rule_fix": fix}
    )


def _matching(pattern: str, what: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a CIDR block ({error})") from None
    return value


def _private_network(value: str) -> str:
    network = ipaddress.ip_network(_cidr(value))
    if network.version != 4 or not network.is_private or not 16 <= network.prefixlen <= 20:
        raise ValueError(f"{value!r} is not a private IPv4 range from /16 to /20")
    return value


PositiveInt = Annotated[int, Field(ge=1)]
"""A count of at least one."""
GpuCount = Literal[1, 2, 4, 8]
"""GPUs per replica: the tensor-parallel shard counts the engines split attention heads into."""
Cidr = Annotated[str, AfterValidator(_cidr)]
"""An IPv4 or IPv6 CIDR block with no host bits set, e.g. 203.0.113.0/24."""
PrivateNetworkCidr = Annotated[str, AfterValidator(_private_network)]
"""A private IPv4 range from /16 to /20: room for the subnets llmplane carves out of it."""
IamPrincipalArn = Annotated[
    str,
    _matching(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$", "an IAM role or user ARN"),
]
"""An AWS IAM role or user ARN."""
SubnetId = Annotated[str, _matching(r"^subnet-[0-9a-f]{8,17}$", "a subnet id (subnet-0123abcd...)")]
"""An AWS subnet id."""
EntraObjectId = Annotated[
    str,
    _matching(
        r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", "an Entra ID object id (a GUID)"
    ),
]
"""A Microsoft Entra ID object id (a GUID)."""
