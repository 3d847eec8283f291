"""The gateway's held config under real nginx: the interceptor gets the engine's Host, unbuffered.

A loopback backend stands in for KEDA's interceptor, which routes by the Host header alone. The
layout, certificate and backend are those of tests/conformance/test_gateway_nginx.py.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmplane.components.kubernetes.gateway import keys_map, nginx_config
from tests.conformance import test_gateway_nginx as shared
from tests.conformance.nginx_gateway import Gateway, at_port, for_nginx, free_port, nginx_version
from tests.conformance.test_gateway_nginx import EVENTS, PROBE, BackendServer, Tls

# The shared module's fixtures, under their own names so that pytest finds them here.
backend = shared.backend
nginx = shared.nginx
openssl = shared.openssl
tls = shared.tls

ENGINE_HOST = "llm.llm.svc.cluster.local"
KEY = "held-" + "k" * 40
HOLD_TIMEOUT = 5439


@pytest.fixture(scope="module")
def gateway(
    nginx: str, tls: Tls, backend: BackendServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    """nginx with the held config in front of the backend; yields its port."""
    upstream = f"http://127.0.0.1:{backend.server_address[1]}"
    server = nginx_config(upstream, ENGINE_HOST, HOLD_TIMEOUT)
    layout = Gateway(nginx, Path(tmp_path_factory.mktemp("held")))
    for _attempt in range(5):
        port = free_port()
        layout.lay_out(
            at_port(for_nginx(server, nginx_version(nginx)), port), keys_map(KEY), tls.cert, tls.key
        )
        checked = layout.test_config()
        assert checked.returncode == 0, checked.stderr
        with layout.running() as process:
            if _ready(port, tls, process.poll):
                yield port
                return
        if "Address already in use" not in layout.log():
            break
    pytest.fail(f"nginx did not start:\n{layout.log()}")


def _ready(port: int, tls: Tls, exited: object) -> bool:
    """True once nginx answers /healthz over TLS; False if it exited or stayed silent."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if callable(exited) and exited() is not None:
            return False
        try:
            connection = http.client.HTTPSConnection(
                "127.0.0.1", port, context=tls.context(), timeout=2
            )
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)
    return False


def _get(
    port: int, tls: Tls, path: str, probe: str
) -> tuple[http.client.HTTPResponse, list[tuple[float, bytes]]]:
    """GET `path` with the key, as a client on the internet sends it; the lines as they came."""
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=tls.context(), timeout=10)
    headers = {PROBE: probe, "Authorization": f"Bearer {KEY}", "Host": "public.example.com"}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    lines: list[tuple[float, bytes]] = []
    while line := response.readline():
        if line.strip():
            lines.append((time.monotonic(), line.strip()))
    connection.close()
    return response, lines


def test_the_interceptor_gets_the_engines_host_and_no_key(
    gateway: int, tls: Tls, backend: BackendServer
) -> None:
    response, _ = _get(gateway, tls, "/v1/models", "held-host")
    assert response.status == 200
    seen = backend.seen["held-host"]
    assert seen["host"] == ENGINE_HOST
    assert "authorization" not in seen


def test_a_held_stream_arrives_unbuffered(gateway: int, tls: Tls, backend: BackendServer) -> None:
    response, arrived = _get(gateway, tls, "/v1/stream", "held-stream")
    assert response.status == 200
    assert [event for _, event in arrived] == [f"data: {n}".encode() for n in range(EVENTS)]
    sent = backend.sent_at["held-stream"]
    assert arrived[0][0] < sent[-1], "the first event waited for the last"
