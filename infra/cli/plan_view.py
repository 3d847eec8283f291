"""`llmplane plan` as people read it: the component tree, repeats folded, one line each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.markup import escape
from rich.text import Text
from rich.tree import Tree

__all__ = ["FOLD_AT", "plan_tree", "value_line"]

Plan = dict[str, Any]

FOLD_AT = 3
"""Sibling resources of one type fold into one line from this many on (`8 × aws:ec2/subnet`)."""
_NAMES_SHOWN = 3


def value_line(value: Any) -> str:
    """An output's value on one line: a mapping's plain fields as `key=value, …`, a list joined.

    A mapping's nested fields (the GPU estimate's assumptions, its packing) stay out of the
    tree; `llmplane plan --json` has them all.
    """
    if isinstance(value, Mapping):
        plain = {k: v for k, v in value.items() if not isinstance(v, Mapping | list | tuple)}
        text = ", ".join(f"{key}={item}" for key, item in plain.items() if item is not None)
        nested = len(plain) < len(value)
        return f"{text} (more with --json)" if nested else text
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def _line(markup: str) -> Text:
    # One line whatever the terminal's width: a long value ends in an ellipsis, never wraps.
    text = Text.from_markup(markup, overflow="ellipsis")
    text.no_wrap = True
    return text


def _short_type(type_: str) -> str:
    """`aws:ec2/subnet:Subnet` -> `aws:ec2/subnet`: the module already names the kind."""
    head, _, last = type_.rpartition(":")
    return head if head and head.rsplit("/", 1)[-1].lower() == last.lower() else type_


def _folded(siblings: Sequence[dict[str, Any]], show_all: bool) -> list[tuple[str, list[Any]]]:
    """Each sibling as its own line, or runs of leaf resources of one type as one line."""
    if show_all:
        return [("one", [r]) for r in siblings]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for resource in siblings:
        by_type.setdefault(resource["type"], []).append(resource)
    lines: list[tuple[str, list[Any]]] = []
    done: set[str] = set()
    for resource in siblings:
        same = by_type[resource["type"]]
        if resource["custom"] and len(same) >= FOLD_AT:
            if resource["type"] not in done:
                done.add(resource["type"])
                lines.append(("many", same))
            continue
        lines.append(("one", [resource]))
    return lines


# What KEDA's HTTP add-on creates for a service whose requests it holds at zero replicas.
_HELD = "kubernetes:http.keda.sh/v1alpha1:HTTPScaledObject"


def cold_start_in(gpu: object) -> Mapping[str, Any] | None:
    """The cold-start estimate in a stack's `gpu` output (a plan's, or a deployed stack's).

    None when the model is unknown (no estimate) or the output predates it.
    """
    cold = gpu.get("coldStart") if isinstance(gpu, Mapping) else None
    return cold if isinstance(cold, Mapping) else None


def cold_start_of(stack_plan: Plan) -> Mapping[str, Any] | None:
    """The stack's cold-start estimate, from its plan's `gpu` output."""
    return cold_start_in(stack_plan["outputs"].get("gpu"))


def cold_start_line(stack_plan: Plan) -> str | None:
    """`cold start ≈ 583 s (estimate): GPU node 300 s + …`, and whether requests are held."""
    cold = cold_start_of(stack_plan)
    if cold is None:
        return None
    line = str(cold["summary"])
    if any(resource["type"] == _HELD for resource in stack_plan["resources"]):
        return f"{line}; at zero replicas requests are held up to {cold['timeoutSeconds']} s"
    return line


def plan_tree(stack_plan: Plan, show_all: bool = False) -> Tree:
    """A rich tree of components and resources, with counts, for one stack."""
    resources: list[dict[str, Any]] = stack_plan["resources"]
    children: dict[str | None, list[dict[str, Any]]] = {}
    for resource in resources:
        children.setdefault(resource["parent"], []).append(resource)
    custom = sum(1 for r in resources if r["custom"])
    components = sum(1 for r in resources if not r["custom"] and r["parent"] is not None)
    tree = Tree(
        f"[bold]{stack_plan['stack']}[/] ({stack_plan['cloud']}): "
        f"{custom} resources in {components} components"
    )

    def add(node: Tree, parent: str | None) -> None:
        for kind, group in _folded(children.get(parent, []), show_all):
            if kind == "many":
                names = ", ".join(r["name"] for r in group[:_NAMES_SHOWN])
                more = ", …" if len(group) > _NAMES_SHOWN else ""
                node.add(
                    _line(f"[dim]{len(group)} × {escape(_short_type(group[0]['type']))}[/] "
                          f"{escape(names + more)}")
                )  # fmt: skip
                continue
            (resource,) = group
            style = "bold" if not resource["custom"] else "dim"
            label = f"[{style}]{escape(resource['type'])}[/] {escape(resource['name'])}"
            add(node.add(_line(label)), resource["urn"])

    add(tree, None)
    outputs = tree.add("[bold]outputs[/]")
    for name, value in stack_plan["outputs"].items():
        # Wrapped where the terminal is narrow, but one line of text: no dict spread over lines.
        outputs.add(escape(f"{name} = {value_line(value)}"))
    findings = stack_plan.get("violations") or []
    if findings:
        # The same findings `llmplane check` reports, so that a plan review sees them too.
        branch = tree.add(f"[bold]policy findings[/]: {len(findings)}; see `llmplane check`")
        for finding in findings:
            where = finding["urn"].rsplit("::", 1)[-1] if finding.get("urn") else "stack"
            text = f"{finding['enforcement']} {finding['policy']} ({where}): {finding['message']}"
            # Wrapped, not cut: a finding's message is what the reader needs whole.
            branch.add(escape(text))
    cold = cold_start_line(stack_plan)
    if cold is not None:
        tree.add(escape(cold))
    monthly = stack_plan["cost"]["monthly"]
    if monthly["max"]:
        tree.add(
            f"[bold]estimated cost[/]: ${monthly['expected']:,.0f}/month expected "
            f"(${monthly['min']:,.0f} to ${monthly['max']:,.0f}); see `llmplane cost "
            f"{stack_plan['stack']}`"
        )
    return tree
