"""Kubernetes label selection across a stack: which objects select which workloads' pods.

Stack rules ask it for every workload, so workloads are indexed by namespace and label: a check
over 5,000 resources costs about five times one over 1,000, not twenty-five.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .core import POD_SPEC_PATHS, StackResource, dig, items


def pod_labels(resource: StackResource) -> Mapping[str, Any]:
    """The labels a workload's pods carry: in the metadata beside its pod spec."""
    # spec.template.spec → spec.template.metadata.labels; a Pod's spec → metadata.labels.
    template, _, _ = POD_SPEC_PATHS[resource.type].rpartition(".")
    return (
        dig(resource.props, f"{template}.metadata.labels" if template else "metadata.labels") or {}
    )


def namespace_of(resource: StackResource) -> str:
    """A resource's namespace; absent means default."""
    return str(dig(resource.props, "metadata.namespace", "default"))


def selects(selector: Any, labels: Mapping[str, Any]) -> bool:
    """Whether a Kubernetes label selector matches a set of labels (an empty one matches all)."""
    for key, value in (dig(selector, "matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in items(dig(selector, "matchExpressions")):
        key, operator = dig(expression, "key"), dig(expression, "operator")
        values = list(items(dig(expression, "values")))
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if (operator == "Exists") != present and operator in ("Exists", "DoesNotExist"):
            return False
    return True


def _hashable(value: Any) -> bool:
    """Whether a label value can key an index (a list in a malformed selector cannot)."""
    try:
        hash(value)
    except TypeError:
        return False
    return True


_Labelled = tuple[StackResource, Mapping[str, Any]]


class Pods:
    """Workloads indexed by namespace and by each label their pods carry, in stack order.

    A selector can only select pods that carry every one of its matchLabels, so it is compared
    only with the workloads that carry the rarest of them: a stack where every pod shares one
    label (part-of: llmplane) still costs one comparison per workload a selector could match.
    """

    def __init__(self, workloads: Iterable[StackResource]) -> None:
        self._in: dict[str, list[_Labelled]] = defaultdict(list)
        self._by_label: dict[tuple[str, Any, Any], list[_Labelled]] = defaultdict(list)
        for workload in workloads:
            labels, namespace = pod_labels(workload), namespace_of(workload)
            self._in[namespace].append((workload, labels))
            for key, value in labels.items():
                if _hashable(value):
                    self._by_label[(namespace, key, value)].append((workload, labels))

    def selected_by(self, namespace: str, selector: Any) -> list[StackResource]:
        """The workloads in `namespace` whose pods a label selector matches, in stack order."""
        wanted = dig(selector, "matchLabels") or {}
        pairs = list(wanted.items()) if isinstance(wanted, Mapping) else []
        if pairs and all(_hashable(value) for _, value in pairs):
            candidates = min(
                (self._by_label.get((namespace, *pair), []) for pair in pairs), key=len
            )
        else:
            candidates = self._in.get(namespace, [])
        return [workload for workload, labels in candidates if selects(selector, labels)]


def unselected(
    workloads: Sequence[StackResource], objects: Iterable[StackResource], selector_path: str
) -> list[StackResource]:
    """The workloads no object in their namespace selects (a NetworkPolicy, a budget), in order."""
    pods = Pods(workloads)
    covered: set[int] = set()
    for found in objects:
        selector = dig(found.props, selector_path, {})
        covered.update(id(w) for w in pods.selected_by(namespace_of(found), selector))
    return [workload for workload in workloads if id(workload) not in covered]
