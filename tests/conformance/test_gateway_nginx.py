"""The public gateway under real nginx: the program's own config and keys, in the image's layout.

nginx runs on loopback in front of a small recording backend, with the main nginx.conf of the
pinned nginx-unprivileged image (see nginx_gateway.py) and the generated `default.conf` and
`keys.map` where the pod mounts them. Only paths and the port move; where the installed nginx is
older than the image's, one directive is rewritten, narrowly and checked.
"""

from __future__ import annotations

import http.client
import itertools
import secrets
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from llmplane.components.kubernetes.gateway import (
    MAX_API_KEY_LENGTH,
    api_keys_problem,
    keys_map,
    nginx_config,
)
from tests.conformance.nginx_gateway import (
    HTTP2_DIRECTIVE,
    Gateway,
    at_port,
    for_nginx,
    free_port,
    nginx_version,
)
from tests.conformance.tools import require_tool

PROBE = "X-Llmplane-Probe"
EVENTS, EVENT_GAP_SECONDS = 4, 0.3
TOKEN68 = "ABCXYZabcxyz0189-._~+/"
# The longest key the settings accept, holding every character a Bearer token may hold.
LONGEST_KEY = (TOKEN68 * 20)[: MAX_API_KEY_LENGTH - 2] + "=="
# Two keys that differ only in case: different keys, which nginx once refused to load together.
CASE_KEY = "Case-Sensitive.Key~" + "Qx" * 10


# The backend: it records what reaches it, and streams server-sent events slowly.


class BackendServer(ThreadingHTTPServer):
    """A loopback engine stand-in that remembers each request's headers by probe id."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: dict[str, dict[str, str]] = {}
        self.sent_at: dict[str, list[float]] = {}


class _Handler(BaseHTTPRequestHandler):
    @property
    def backend(self) -> BackendServer:
        """The server this handler answers for, with its records."""
        assert isinstance(self.server, BackendServer)
        return self.server

    def do_GET(self) -> None:
        """Answer `/v1/stream` with slow events, anything else with a small JSON body."""
        probe = self.headers.get(PROBE, "")
        self.backend.seen[probe] = {name.lower(): value for name, value in self.headers.items()}
        if self.path == "/v1/stream":
            self._stream(probe)
            return
        body = b'{"object": "list", "data": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, probe: str) -> None:
        """Events EVENT_GAP_SECONDS apart, each written and flushed on its own."""
        sent = self.backend.sent_at.setdefault(probe, [])
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for number in range(EVENTS):
            if number:
                time.sleep(EVENT_GAP_SECONDS)
            sent.append(time.monotonic())
            self.wfile.write(f"data: {number}\n\n".encode())
            self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: pytest shows nginx's log on failure, which is the one that matters."""


@pytest.fixture(scope="module")
def backend() -> Iterator[BackendServer]:
    server = BackendServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


# Tools, certificate and keys.


@pytest.fixture(scope="module")
def nginx() -> str:
    return require_tool("nginx")


@pytest.fixture(scope="module")
def openssl() -> str:
    return require_tool("openssl")


@dataclass(frozen=True)
class Tls:
    """A self-signed certificate for 127.0.0.1, and a client context that trusts only it."""

    cert: Path
    key: Path

    def context(self) -> ssl.SSLContext:
        """A client context verifying the gateway against this certificate."""
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="module")
def tls(openssl: str, tmp_path_factory: pytest.TempPathFactory) -> Tls:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "tls.crt", folder / "tls.key"
    subprocess.run(
        [
            openssl,
            *("req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=llmplane-gateway"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return Tls(cert, key)


@pytest.fixture(scope="module")
def keys(openssl: str) -> dict[str, str]:
    """Five keys at once, in the shapes users make them."""

    def rand(*args: str) -> str:
        return subprocess.run(
            [openssl, "rand", *args], check=True, capture_output=True, text=True, timeout=30
        ).stdout.strip()

    found = {
        "hex": rand("-hex", "32"),  # the README's `openssl rand -hex 32`
        "base64": rand("-base64", "48"),
        "longest": LONGEST_KEY,
        "case": CASE_KEY,
        "lower case": CASE_KEY.lower(),
    }
    assert len(found["hex"]) == 64 and len(found["longest"]) == MAX_API_KEY_LENGTH
    assert api_keys_problem(",".join(found.values())) is None, "the settings would refuse these"
    return found


# nginx with the generated config.


@dataclass
class Running:
    """A started gateway: where it listens and how to talk to it."""

    gateway: Gateway
    port: int
    tls: Tls
    config_test: subprocess.CompletedProcess[str]
    probes: Iterator[int] = field(default_factory=itertools.count)

    def request(
        self, path: str = "/v1/models", authorization: str | None = None
    ) -> tuple[http.client.HTTPResponse, bytes, str]:
        """GET `path` over TLS; the response, its body, and the probe id the backend sees."""
        probe = f"probe-{next(self.probes)}"
        headers = {PROBE: probe}
        if authorization is not None:
            headers["Authorization"] = authorization
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.port, context=self.tls.context(), timeout=10
        )
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            return response, response.read(), probe
        finally:
            connection.close()


@contextmanager
def start(nginx: str, root: Path, api_keys: str, upstream: str, tls: Tls) -> Iterator[Running]:
    """Lay out, `nginx -t`, and run the gateway on a free port; stop it when done."""
    version = nginx_version(nginx)
    gateway = Gateway(nginx, root)
    # A port free when picked can be taken before nginx binds it; then try another.
    for _attempt in range(5):
        port = free_port()
        gateway.lay_out(
            at_port(for_nginx(nginx_config(upstream), version), port),
            keys_map(api_keys),
            tls.cert,
            tls.key,
        )
        config_test = gateway.test_config()
        assert config_test.returncode == 0, config_test.stderr
        with gateway.running() as process:
            running = Running(gateway, port, tls, config_test)
            if _ready(running, process):
                yield running
                return
        if "Address already in use" not in gateway.log():
            break
    pytest.fail(f"nginx did not start:\n{gateway.log()}")


def _ready(running: Running, process: subprocess.Popen[bytes]) -> bool:
    """True once this nginx answers /healthz over TLS; False if it exited first."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            response, _, _ = running.request("/healthz")
            return response.status == 200
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)
    pytest.fail(f"nginx did not answer within 10 s:\n{running.gateway.log()}")


@pytest.fixture(scope="module")
def gateway(
    nginx: str,
    tls: Tls,
    keys: dict[str, str],
    backend: BackendServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Running]:
    upstream = f"http://127.0.0.1:{backend.server_address[1]}"
    # As a user writes the stack value: comma-separated, with spaces.
    api_keys = ", ".join(keys.values())
    with start(nginx, tmp_path_factory.mktemp("gateway"), api_keys, upstream, tls) as running:
        yield running


# What the gateway does.


def test_nginx_accepts_the_generated_config(gateway: Running) -> None:
    shown = gateway.config_test.stderr
    assert "syntax is ok" in shown and "test is successful" in shown


def test_the_only_change_for_older_nginx_is_the_http2_spelling(
    nginx: str, tls: Tls, tmp_path: Path
) -> None:
    version = nginx_version(nginx)
    if version >= HTTP2_DIRECTIVE:
        pytest.skip(f"nginx {version} reads the generated config as it is")
    generated = Gateway(nginx, tmp_path)
    api_keys = "a" * 64
    server_conf, port = nginx_config("http://127.0.0.1:9"), free_port()
    generated.lay_out(at_port(server_conf, port), keys_map(api_keys), tls.cert, tls.key)
    refused = generated.test_config()
    assert refused.returncode != 0 and 'unknown directive "http2"' in refused.stderr
    rewritten = at_port(for_nginx(server_conf, version), port)
    generated.lay_out(rewritten, keys_map(api_keys), tls.cert, tls.key)
    assert generated.test_config().returncode == 0


def test_health_answers_without_a_key(gateway: Running) -> None:
    response, body, _ = gateway.request("/healthz")
    assert (response.status, body) == (200, b"ok\n")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        f"Bearer {'0123456789abcdef' * 4}",  # a well-formed key nobody configured
        f"Bearer {LONGEST_KEY.upper()}",
        f"Bearer {CASE_KEY.upper()}",
        f"Bearer {CASE_KEY.swapcase()}",
        f"Bearer {LONGEST_KEY[:-1]}",
        f"Bearer {LONGEST_KEY}A",
        f"Bearer {LONGEST_KEY.replace('.', 'x').replace('+', 'x')}",  # no regex wildcards
        f"Bearer x{CASE_KEY}",
        f"Basic {CASE_KEY}",
        CASE_KEY,
        f"Bearer {CASE_KEY}, Bearer {CASE_KEY.lower()}",
        "Bearer",
    ],
)
def test_requests_without_a_known_key_get_401(
    gateway: Running, backend: BackendServer, authorization: str | None
) -> None:
    response, _, probe = gateway.request(authorization=authorization)
    assert response.status == 401
    assert response.getheader("Server") == "nginx"  # no version for scanners
    assert probe not in backend.seen


@pytest.mark.parametrize("name", ["hex", "base64", "longest", "case", "lower case"])
def test_each_key_gets_in_and_stays_at_the_gateway(
    gateway: Running, backend: BackendServer, keys: dict[str, str], name: str
) -> None:
    for scheme in ("Bearer", "bearer"):  # RFC 7235: the scheme is case-insensitive, the key not
        response, body, probe = gateway.request(authorization=f"{scheme} {keys[name]}")
        assert (response.status, body) == (200, b'{"object": "list", "data": []}')
        reached = backend.seen[probe]
        assert "authorization" not in reached
        assert keys[name] not in str(reached)


def test_a_stream_arrives_unbuffered(
    gateway: Running, backend: BackendServer, keys: dict[str, str]
) -> None:
    connection = http.client.HTTPSConnection(
        "127.0.0.1", gateway.port, context=gateway.tls.context(), timeout=10
    )
    try:
        probe = "stream"
        headers = {PROBE: probe, "Authorization": f"Bearer {keys['hex']}"}
        connection.request("GET", "/v1/stream", headers=headers)
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type") == "text/event-stream"
        arrived: list[tuple[float, bytes]] = []
        while line := response.readline():
            if line.strip():
                arrived.append((time.monotonic(), line.strip()))
    finally:
        connection.close()
    assert [event for _, event in arrived] == [f"data: {n}".encode() for n in range(EVENTS)]
    assert "authorization" not in backend.seen[probe]
    sent = backend.sent_at[probe]
    # Buffered, the first event would come with the last, after the backend closed the stream.
    assert arrived[0][0] < sent[-1], "the first event waited for the last"


def test_plain_http_to_the_tls_port_is_refused(gateway: Running) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as plain:
        plain.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := plain.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"The plain HTTP request was sent to HTTPS port" in answer


def test_http2_is_offered(gateway: Running) -> None:
    context = gateway.tls.context()
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as secure,
    ):
        assert secure.selected_alpn_protocol() == "h2"
        assert secure.version() in ("TLSv1.2", "TLSv1.3")


def test_many_keys_load_and_each_matches_exactly(
    nginx: str, tls: Tls, backend: BackendServer, tmp_path: Path
) -> None:
    many = [secrets.token_hex(32) for _ in range(300)]
    upstream = f"http://127.0.0.1:{backend.server_address[1]}"
    with start(nginx, tmp_path, ",".join(many), upstream, tls) as running:
        for key in (many[0], many[150], many[-1]):
            assert running.request(authorization=f"Bearer {key}")[0].status == 200
            assert running.request(authorization=f"Bearer {key.upper()}")[0].status == 401


def test_keys_nginx_once_choked_on_load_and_match_only_themselves(
    nginx: str, tls: Tls, backend: BackendServer, tmp_path: Path
) -> None:
    # The stack check refuses these; the component must still write a config nginx loads and
    # that admits exactly them: the offline placeholder, a quote, `$`, `;`, `}` and a backslash.
    odd = ["[secret]", 'a"quote', "a$http_host", "semi;colon}", "back\\slash", "dot.+plus"]
    upstream = f"http://127.0.0.1:{backend.server_address[1]}"
    with start(nginx, tmp_path, ",".join(odd), upstream, tls) as running:
        for key in odd:
            assert running.request(authorization=f"Bearer {key}")[0].status == 200
            assert running.request(authorization=f"Bearer {key}x")[0].status == 401
        for near in ("[SECRET]", "s", "dotx+plus", "dot.plus", "dot.....plus", "back/slash"):
            assert running.request(authorization=f"Bearer {near}")[0].status == 401
