"""Names, tags and labels for every resource llmplane creates, decided in one place."""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = [
    "PROJECT",
    "REQUIRED_TAGS",
    "TAG_KEY_PATTERN",
    "TAG_VALUE_PATTERN",
    "dns_label",
    "labels",
    "tags",
]

PROJECT = "llmplane"

# Tags every taggable resource carries. The `required-tags` policy checks for them; the pack
# cannot import the components, so it keeps its own copy, and a test keeps the two equal.
REQUIRED_TAGS: tuple[str, ...] = ("project", "stack", "managed-by")

# GCP labels are the strictest tag format of the three clouds and Kubernetes labels come close;
# user tags are held to it so the same map is valid everywhere.
TAG_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
TAG_VALUE_PATTERN = re.compile(r"^[a-z0-9_-]{0,63}$")

_DNS_LABEL_MAX = 63


def dns_label(*parts: str) -> str:
    """Join parts into a DNS-1123 label (lowercase, digits and '-', at most 63 characters)."""
    raw = "-".join(part for part in parts if part)
    label = re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")
    label = re.sub(r"-{2,}", "-", label)
    return label[:_DNS_LABEL_MAX].rstrip("-") or PROJECT


def tags(stack: str, extra: Mapping[str, str]) -> dict[str, str]:
    """The tag map for cloud resources: the user's tags plus the required ones, which win."""
    return {**extra, "project": PROJECT, "stack": stack, "managed-by": "pulumi"}


def labels(stack: str, component: str) -> dict[str, str]:
    """Kubernetes recommended labels for objects that belong to one component of a stack."""
    return {
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/instance": dns_label(stack, component),
        "app.kubernetes.io/part-of": PROJECT,
        "app.kubernetes.io/managed-by": "pulumi",
    }
