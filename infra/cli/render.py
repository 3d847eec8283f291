"""Kubernetes manifests from a Plan: the objects a stack applies, as YAML, one file per object."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..offline.synth import Plan

# Helm releases are not Kubernetes objects: the chart renders them inside the cluster.
_NOT_OBJECTS = ("kubernetes:helm.sh/",)


def kubernetes_manifests(plan: Plan) -> list[dict[str, Any]]:
    """The Kubernetes objects of a plan, as the API server would receive them.

    Secret values are "[secret]"; a Secret's `data`/`stringData` keep their key names, so the
    object stays the map of key to string that Kubernetes requires (see infra/offline/synth.py).
    """
    return [
        resource["inputs"]
        for resource in plan["resources"]
        if resource["custom"]
        and resource["type"].startswith("kubernetes:")
        and not resource["type"].startswith(_NOT_OBJECTS)
    ]


def to_yaml(manifests: list[dict[str, Any]]) -> str:
    """A multi-document YAML stream, stable across runs."""
    return yaml.safe_dump_all(manifests, sort_keys=True, default_flow_style=False)


def file_name(manifest: dict[str, Any]) -> str:
    """`<kind>-<namespace>-<name>.yaml`, lowercase, safe on every file system."""
    meta = manifest.get("metadata") or {}
    parts = [manifest.get("kind", "object"), meta.get("namespace") or "cluster", meta.get("name")]
    return re.sub(r"[^a-z0-9.-]+", "-", "-".join(str(p) for p in parts if p).lower()) + ".yaml"


def write_manifests(plan: Plan, out: Path) -> list[Path]:
    """Write every object of the plan to `out`, one file each; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for manifest in kubernetes_manifests(plan):
        path = out / file_name(manifest)
        path.write_text(to_yaml([manifest]), encoding="utf-8")
        written.append(path)
    return sorted(written)
