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


# The files a render wrote, one name a line, so that the next render into the same folder removes
# the ones it no longer writes (an object deleted from the stack) and nothing else: a folder may
# also hold the user's own files (a kustomization.yaml), which are never touched. kubectl and
# Checkov skip a file without a .yaml or .json ending.
MARKER = ".llmplane-render"


def helm_releases(plan: Plan) -> list[str]:
    """The plan's Helm releases, described: `render` cannot write their objects.

    Their charts are fetched and templated by Helm at deploy time; offline there is no chart, so
    `render` names them (on stderr) rather than leaving them out silently.
    """
    described = []
    for resource in plan["resources"]:
        if resource["custom"] and resource["type"].startswith(_NOT_OBJECTS):
            inputs = resource["inputs"]
            chart = f"{inputs.get('chart', '?')} {inputs.get('version', '')}".strip()
            namespace = inputs.get("namespace") or "default"
            described.append(
                f"{inputs.get('name') or resource['name']} (chart {chart}, {namespace})"
            )
    return described


def write_manifests(plan: Plan, out: Path) -> list[Path]:
    """Write every object of the plan to `out`, one file each; returns the files written.

    Files an earlier render wrote there and this one does not are removed; other files stay.
    Raises OSError when the folder cannot be made or written.
    """
    texts = {file_name(manifest): to_yaml([manifest]) for manifest in kubernetes_manifests(plan)}
    out.mkdir(parents=True, exist_ok=True)
    marker = out / MARKER
    before = _rendered_before(marker)
    written = []
    for name, text in sorted(texts.items()):
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    for stale in sorted(before - set(texts)):
        (out / stale).unlink(missing_ok=True)
    marker.write_text(
        "# Written by `llmplane render`; the next render removes these files if it no longer "
        "writes them.\n" + "".join(f"{name}\n" for name in sorted(texts)),
        encoding="utf-8",
    )
    return written


def _rendered_before(marker: Path) -> set[str]:
    """The file names the marker lists: plain names only, so that nothing outside is removed."""
    try:
        lines = marker.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return set()
    return {
        line
        for line in lines
        if line
        and not line.startswith("#")
        and line == Path(line).name
        and line.endswith(".yaml")
        and line != MARKER
    }
