"""Kubernetes manifests from a Plan: the objects a stack applies, as YAML documents."""

from __future__ import annotations

from typing import Any

import yaml

from infra.synth import Plan


def kubernetes_manifests(plan: Plan) -> list[dict[str, Any]]:
    """The Kubernetes objects of a plan, as the API server would receive them (secrets redacted)."""
    return [
        resource["inputs"]
        for resource in plan["resources"]
        if resource["custom"] and resource["type"].startswith("kubernetes:")
    ]


def to_yaml(manifests: list[dict[str, Any]]) -> str:
    """A multi-document YAML stream, stable across runs."""
    return yaml.safe_dump_all(manifests, sort_keys=True, default_flow_style=False)
