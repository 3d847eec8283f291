"""A Plan's resources and dependencies as a Mermaid flowchart, Graphviz DOT or JSON."""

from __future__ import annotations

import json
from typing import Any


def mermaid(plan: dict[str, Any]) -> str:
    """Mermaid text: solid arrows go from a dependency to what needs it, dotted ones to children."""
    resources = plan["resources"]
    node_ids = {resource["urn"]: f"r{index}" for index, resource in enumerate(resources)}
    lines = ["flowchart TD"]
    for resource in resources:
        shape = ('["', '"]') if resource["custom"] else ('[["', '"]]')
        label = f"{resource['type']}<br/>{resource['name']}".replace('"', "#quot;")
        lines.append(f"    {node_ids[resource['urn']]}{shape[0]}{label}{shape[1]}")
    for resource in resources:
        target = node_ids[resource["urn"]]
        if resource["parent"] in node_ids:
            lines.append(f"    {node_ids[resource['parent']]} -.-> {target}")
        for dependency in resource["dependencies"]:
            if dependency in node_ids:
                lines.append(f"    {node_ids[dependency]} --> {target}")
    return "\n".join(lines) + "\n"


def dot(plan: dict[str, Any]) -> str:
    """Graphviz DOT text with the same edges: solid from a dependency, dashed to children."""
    resources = plan["resources"]
    node_ids = {resource["urn"]: f"r{index}" for index, resource in enumerate(resources)}
    lines = [f"digraph {json.dumps(plan['stack'])} {{", "    rankdir=TB;"]
    for resource in resources:
        shape = "box" if resource["custom"] else "box3d"
        label = json.dumps(f"{resource['type']}\n{resource['name']}")
        lines.append(f"    {node_ids[resource['urn']]} [shape={shape}, label={label}];")
    for resource in resources:
        target = node_ids[resource["urn"]]
        if resource["parent"] in node_ids:
            lines.append(f"    {node_ids[resource['parent']]} -> {target} [style=dashed];")
        for dependency in resource["dependencies"]:
            if dependency in node_ids:
                lines.append(f"    {node_ids[dependency]} -> {target};")
    return "\n".join(lines) + "\n}\n"


def graph_json(plan: dict[str, Any]) -> str:
    """The graph as data: nodes (urn, type, name, custom) and edges (from, to, kind)."""
    resources = plan["resources"]
    urns = {resource["urn"] for resource in resources}
    nodes = [
        {key: resource[key] for key in ("urn", "type", "name", "custom")} for resource in resources
    ]
    edges = []
    for resource in resources:
        if resource["parent"] in urns:
            edges.append({"from": resource["parent"], "to": resource["urn"], "kind": "child"})
        edges.extend(
            {"from": dependency, "to": resource["urn"], "kind": "dependency"}
            for dependency in resource["dependencies"]
            if dependency in urns
        )
    document = {"stack": plan["stack"], "nodes": nodes, "edges": edges}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


GRAPH_FORMATS = {"mermaid": mermaid, "dot": dot, "json": graph_json}
