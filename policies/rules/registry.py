"""The registry of rules: built by a function from each domain's RULES, in report order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache

from .core import Rule


@dataclass(frozen=True)
class Registry:
    """Rules in the order of every report, and by name."""

    rules: tuple[Rule, ...]
    """Every rule once, in report order."""
    by_name: Mapping[str, Rule] = field(init=False, repr=False, compare=False)
    """The same rules by name."""

    def __post_init__(self) -> None:
        by_name: dict[str, Rule] = {}
        for rule in self.rules:
            if rule.name in by_name:
                raise ValueError(f"two policies are named {rule.name}")
            by_name[rule.name] = rule
        object.__setattr__(self, "by_name", by_name)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __getitem__(self, name: str) -> Rule:
        return self.by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self.by_name


def build_registry(*groups: Iterable[Rule]) -> Registry:
    """A registry of the given groups of rules, in that order; a name used twice is an error."""
    return Registry(tuple(rule for group in groups for rule in group))


@cache
def default_registry() -> Registry:
    """llmplane's own rules: the order of the domains here is the order in every report."""
    # Imported here, not at the top: a domain module imports the helpers from this package.
    from . import aws, azure, gcp, inference, scale_to_zero, stack, tags, workloads

    return build_registry(
        aws.RULES,
        azure.RULES,
        gcp.RULES,
        inference.RULES,
        stack.RULES,
        workloads.RULES,
        tags.RULES,
        # After the others: a new policy goes last, so SARIF rule indices of the rest stay put.
        scale_to_zero.RULES,
    )


def load_all() -> list[Rule]:
    """Every rule of llmplane's pack, in report order (a fresh list of the cached registry)."""
    return list(default_registry().rules)
