"""Value checks declared as data: one property, what it must (or must not) be, and the messages.

In the style of Checkov's BaseResourceValueCheck and BaseResourceNegativeValueCheck: a rule that
reads one property path states the path, the allowed or forbidden values and the provider's
default, and this module does the rest once for all of them:
- absent (null or "", or any empty value where a string enum is expected) reads as the
  provider's default where there is one; otherwise an allowed value is missing (a violation)
  and a forbidden one is not there (compliance), unless `missing` says otherwise;
- booleans match the way providers carry them, `true` or the string "true" (see `truthy`);
- `ignore_case` compares strings as the clouds' enums do, case-insensitively;
- a value a preview cannot know yet leaves the rule "not evaluated", as the Pulumi CLI reports it,
  except where any value will do (ANY_VALUE): a property that is set, with an ID known only at
  deployment, already complies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, Unpack

from pulumi_policy.proxy import UnknownValueError

from .core import Config, Props, ResourceRule, RuleText, dig, has_property, info, shown, truthy


class _AnyValue:
    """The sentinel of ANY_VALUE; one instance, shown by its name."""

    def __repr__(self) -> str:
        return "ANY_VALUE"


ANY_VALUE: Final = _AnyValue()
"""Required: any value that is set and not empty (a key ARN, an ID, a pool name)."""


def _absent(value: Any, enum: bool) -> bool:
    """Whether a property is left to the provider: null or "" always, any empty value in an enum.

    Where a string enum is expected (a tier, a policy engine), `false`, 0 or [] set nothing either.
    """
    if value is None or (isinstance(value, str) and value == ""):
        return True
    return enum and not isinstance(value, str) and not value


def matches(actual: Any, wanted: Any, ignore_case: bool = False) -> bool:
    """Whether a property's value is the wanted one, as the provider would read it."""
    if wanted is ANY_VALUE:
        return bool(actual)
    if isinstance(wanted, bool):
        # Some providers carry booleans as strings, "true" and "false".
        if wanted:
            return truthy(actual)
        return actual is False or (isinstance(actual, str) and actual.lower() == "false")
    if ignore_case and isinstance(wanted, str):
        return str(actual).lower() == wanted.lower()
    return actual == wanted


@dataclass(frozen=True, kw_only=True)
class ValueCheck:
    """The check of a rule that reads one property: a resource check, called like one."""

    path: str
    """Dotted wire-name path, relative to `under[type]` where that is given."""
    message: str
    """The violation; `{value}` is the value compared (the default where absent), `{shown}` the
    value as read (quoted, or "not set")."""
    allowed: tuple[Any, ...] = ()
    """The value must match one of these (required: exactly one)."""
    forbidden: tuple[Any, ...] = ()
    """The value must match none of these."""
    ignore_case: bool = False
    """Compare strings case-insensitively."""
    default: Any = None
    """What the provider assumes when the property is absent; None: no default."""
    missing: Literal["pass", "fail"] | None = None
    """An absent property without a default: fail for allowed values, pass for forbidden ones."""
    missing_message: str | None = None
    """The violation when an absent property fails, where it says more than `message`."""
    under: Mapping[str, str] | None = None
    """Per resource type, where the object the path starts from lives (a workload's pod spec)."""
    applies: Callable[[Props], bool] | None = None
    """Whether the resource is one the check is about at all (a Premium registry)."""

    def __post_init__(self) -> None:
        if bool(self.allowed) == bool(self.forbidden):
            raise ValueError(f"{self.path}: give allowed values or forbidden ones, not both")

    def __call__(self, type_: str, props: Props, config: Config) -> Iterator[str]:
        """One message if the property breaks the rule, none if it complies."""
        if self.applies is not None and not self.applies(props):
            return
        path = f"{self.under[type_]}.{self.path}" if self.under is not None else self.path
        if self.allowed == (ANY_VALUE,) and has_property(props, path):
            try:
                raw = dig(props, path)
            except UnknownValueError:
                return  # set, to a value known only at deployment: it will be there
        else:
            raw = dig(props, path)
        enum = all(isinstance(wanted, str) for wanted in (*self.allowed, *self.forbidden))
        value = self.default if _absent(raw, enum) else raw
        if _absent(value, enum):
            if (self.missing or ("fail" if self.allowed else "pass")) == "fail":
                yield (self.missing_message or self.message).format(value="", shown=shown(raw))
            return
        if self._complies(value):
            return
        yield self.message.format(value=value, shown=shown(raw))

    def _complies(self, value: Any) -> bool:
        if self.allowed:
            return any(matches(value, wanted, self.ignore_case) for wanted in self.allowed)
        return not any(matches(value, wanted, self.ignore_case) for wanted in self.forbidden)


def value_rule(
    name: str,
    *,
    types: Sequence[str],
    path: str,
    message: str,
    required: Any = None,
    allowed: Sequence[Any] = (),
    forbidden: Any = None,
    ignore_case: bool = False,
    default: Any = None,
    missing: Literal["pass", "fail"] | None = None,
    missing_message: str | None = None,
    under: Mapping[str, str] | None = None,
    applies: Callable[[Props], bool] | None = None,
    **text: Unpack[RuleText],
) -> ResourceRule:
    """Declare a resource rule whose check is one property compared with values.

    `required=X` is `allowed=[X]`; `forbidden` takes one value or a list of them.
    """
    wanted = (required,) if required is not None else tuple(allowed)
    banned = tuple(forbidden) if isinstance(forbidden, list | tuple) else (forbidden,)
    check = ValueCheck(
        path=path,
        message=message,
        allowed=wanted,
        forbidden=() if forbidden is None else banned,
        ignore_case=ignore_case,
        default=default,
        missing=missing,
        missing_message=missing_message,
        under=under,
        applies=applies,
    )
    return ResourceRule(name=name, types=tuple(types), check=check, **info(text))
