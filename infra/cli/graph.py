"""A Plan's resources and dependencies as a Mermaid flowchart."""

from __future__ import annotations

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
