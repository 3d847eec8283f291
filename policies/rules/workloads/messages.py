"""How the workload rules word their messages and remediations."""

from __future__ import annotations

from typing import Any

from .. import dig

# Most remediations start by saying llmplane's own workloads already comply.
OURS = "llmplane's engine, gateway, device plugin and cluster autoscaler already do"


def container_label(container: Any) -> str:
    """How a message names a container."""
    return f'container "{dig(container, "name", "?")}"'
