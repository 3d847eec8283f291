"""Kubeconfigs for managed clusters whose credentials come from a cloud CLI, never stored inside."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["exec_kubeconfig"]


def exec_kubeconfig(name: str, server: str, ca_data: str, exec_spec: Mapping[str, Any]) -> str:
    """One cluster, one context, and a user that runs a credential plugin (`exec_spec`)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": name, "cluster": {"server": server, "certificate-authority-data": ca_data}}
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
            "users": [
                {
                    "name": name,
                    "user": {
                        "exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", **exec_spec}
                    },
                }
            ],
        },
        sort_keys=True,
        indent=2,
    )
