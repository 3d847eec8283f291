"""A loopback stand-in for the API server's discovery endpoints, so `kubectl --dry-run=client` runs.

A client dry run never writes, but kubectl still maps each kind to a resource through discovery
and asks whether the object exists. This serves exactly that: the groups, versions and kinds it is
told about, and "not found" for every object, so kubectl reports each one as "created (dry run)".
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Kinds that live outside namespaces; every other kind is namespaced.
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "StorageClass",
    "PriorityClass",
    "PersistentVolume",
    "CustomResourceDefinition",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
}
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def plural(kind: str) -> str:
    """The resource name Kubernetes derives from a kind: NetworkPolicy -> networkpolicies."""
    lower = kind.lower()
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + ("es" if lower.endswith(("s", "x")) else "s")


def discovery(kinds: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Path -> JSON body of /api, /api/v1, /apis and /apis/<group>/<version>."""
    by_version: dict[str, set[str]] = {}
    for api_version, kind in kinds:
        by_version.setdefault(api_version, set()).add(kind)
    by_version.setdefault("v1", set())
    bodies: dict[str, Any] = {
        "/api": {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}
            ],
        },
        "/version": {"major": "1", "minor": "35", "gitVersion": "v1.35.0"},
    }
    groups = []
    for api_version, names in sorted(by_version.items()):
        resources = [
            {
                "name": plural(k),
                "singularName": k.lower(),
                "namespaced": k not in CLUSTER_SCOPED,
                "kind": k,
                "verbs": VERBS,
            }
            for k in sorted(names)
        ]
        path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        bodies[path] = {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": api_version,
            "resources": resources,
        }
        if api_version != "v1":
            group, version = api_version.split("/")
            entry = {"groupVersion": api_version, "version": version}
            groups.append({"name": group, "versions": [entry], "preferredVersion": entry})
    bodies["/apis"] = {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
    return bodies


@contextmanager
def discovery_server(kinds: Iterable[tuple[str, str]]) -> Iterator[str]:
    """Serve discovery for these (apiVersion, kind) pairs on 127.0.0.1; yields the server URL."""
    bodies = discovery(kinds)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            body = bodies.get(path)
            status = 200 if body is not None else 404
            if body is None:
                body = {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "reason": "NotFound",
                    "code": 404,
                }
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output clean."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
