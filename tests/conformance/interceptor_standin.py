"""A loopback stand-in for KEDA's HTTP add-on interceptor, which holds requests at zero replicas.

The real interceptor cannot run here: it is published only as a container image
(ghcr.io/kedacore/http-add-on-interceptor), no registry this machine reaches packages it, and it
needs a Kubernetes API server for its informers. So this restates its contract, read from
kedacore/http-add-on at tag v0.15.0 (commit 4ea8a863bd7c16464dc5afbe9ebc8a26e563fac0); the facts
and their files are in tests/conformance/research/keda-interceptor-contract.md. What it reproduces:

- routing (pkg/routing/key.go, tablememory.go): the key is `host/path/` from the Host header
  without its port; the longest stored prefix wins, an exact host first, then `*.domain`
  wildcards from the most specific, then the catch-all (a route without hosts, or `*`). A
  request no route matches gets 404 and is not counted;
- counting (interceptor/middleware/counting.go, pkg/queue/queue.go): a routed request adds 1 to
  its route's `namespace/name` count for its whole life (held, then streamed), and 1 to a
  monotonic RequestCount; the admin server's GET /queue answers them as JSON
  (pkg/queue/queue_rpc.go, queue_counts.go);
- holding (interceptor/middleware/endpoint_resolver.go, pkg/k8s/ready_endpoints_cache.go): with
  no ready endpoint it waits until one is ready, up to the readiness timeout
  (KEDA_HTTP_READINESS_TIMEOUT; 0, the default, waits without a bound of its own) and the request
  timeout (KEDA_HTTP_REQUEST_TIMEOUT, default 0: none); past either it answers 504 with Go's
  `http.Error` body, "Gateway Timeout" and a newline, as text/plain (interceptor/handler/static.go);
- a client that goes away while held is dropped at once, its count released (the request's
  context is cancelled, so the wait ends);
- forwarding (interceptor/handler/upstream.go): httputil.ReverseProxy keeping the Host header,
  adding X-Forwarded-For/-Host/-Proto, dropping hop-by-hop headers; X-KEDA-HTTP-Cold-Start
  says whether the request had to wait; a dial retried every 50 ms (pkg/net/dial_context.go);
  response headers within KEDA_HTTP_RESPONSE_HEADER_TIMEOUT (300 s), else 504; a backend that
  fails before answering gets 502 (504 if it was a timeout);
- streaming: every read from the backend is written and flushed at once, as ReverseProxy does
  for text/event-stream and for bodies of unknown length; a backend that breaks mid-body gets the
  client connection aborted, without the last chunk, so the answer cannot pass for complete.

The scale-up is KEDA's, not the interceptor's: KEDA's external scaler polls /queue and activates
the ScaledObject. Here a scaler with no polling delay stands in: the first request counted while
the workload has 0 replicas sets it to 1 and calls `scale_up_hook` once; the replica counts as
ready when the test says so (`mark_ready`), as an EndpointSlice would.
"""

from __future__ import annotations

import json
import re
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http import HTTPStatus
from http.client import HTTPConnection, HTTPException, HTTPResponse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

# Go's http.Error: the status text and a newline, as plain text that must not be sniffed.
GO_ERROR_CONTENT_TYPE = "text/plain; charset=utf-8"
COLD_START_HEADER = "X-KEDA-HTTP-Cold-Start"  # pkg/http/headers.go
# httputil.ReverseProxy's hopHeaders, dropped both ways, with those the Connection header lists.
HOP_HEADERS = frozenset(
    {
        "connection",
        "proxy-connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
DIAL_RETRY_SECONDS = 0.05  # pkg/net/dial_context.go retryInterval
DIAL_RETRY_CAP_SECONDS = 60.0  # maxRetryDuration, when the request has no deadline
COPY_BUFFER = 32 * 1024  # interceptor/handler/bufferpool.go
POLL_SECONDS = 0.02  # how often a held request looks for readiness changes and a gone client
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def go_duration(text: str) -> float:
    """Seconds in a Go duration string ("300s", "1.5s", "1m30s", "0"), as env vars take them."""
    text = text.strip()
    if text in ("0", ""):
        return 0.0
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    parts = _DURATION_PART.findall(body)
    if not parts or "".join(number + unit for number, unit in parts) != body:
        raise ValueError(f"not a Go duration: {text!r}")
    return sign * sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


@dataclass(frozen=True)
class Timeouts:
    """interceptor/config/timeouts.go: the global timeouts, in seconds; 0 disables one."""

    request: float = 0.0
    """KEDA_HTTP_REQUEST_TIMEOUT: arrival to the end of the response; default 0, none."""
    response_header: float = 300.0
    """KEDA_HTTP_RESPONSE_HEADER_TIMEOUT: request sent to response headers; default 300 s."""
    readiness: float = 0.0
    """KEDA_HTTP_READINESS_TIMEOUT: the wait for a ready endpoint; default 0, bounded only by
    the request timeout."""
    connect: float = 0.5
    """KEDA_HTTP_CONNECT_TIMEOUT: one dial attempt; default 500 ms."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Timeouts:
        """As MustParseTimeouts reads them: a deprecated variable above 0 takes precedence."""

        def read(name: str, default: float) -> float:
            return go_duration(environ[name]) if name in environ else default

        readiness = read("KEDA_HTTP_READINESS_TIMEOUT", 0.0)
        response_header = read("KEDA_HTTP_RESPONSE_HEADER_TIMEOUT", 300.0)
        if read("KEDA_CONDITION_WAIT_TIMEOUT", 0.0) > 0:
            readiness = read("KEDA_CONDITION_WAIT_TIMEOUT", 0.0)
        if read("KEDA_RESPONSE_HEADER_TIMEOUT", 0.0) > 0:
            response_header = read("KEDA_RESPONSE_HEADER_TIMEOUT", 0.0)
        return cls(
            request=read("KEDA_HTTP_REQUEST_TIMEOUT", 0.0),
            response_header=response_header,
            readiness=readiness,
            connect=read("KEDA_HTTP_CONNECT_TIMEOUT", 0.5),
        )


@dataclass(frozen=True)
class Route:
    """One HTTPScaledObject (or InterceptorRoute) as the routing table holds it."""

    name: str
    namespace: str
    upstream: str
    """The Service's URL, http://<service>.<namespace>:<port> in a cluster; here a loopback one."""
    hosts: tuple[str, ...] = ()
    """spec.hosts; none (or "*") is the catch-all. A port in a host is ignored."""
    path_prefixes: tuple[str, ...] = ()
    """spec.pathPrefixes; none is "/"."""
    readiness: float | None = None
    """spec.timeouts.conditionWait (HTTPScaledObject) or timeouts.readiness; None: global."""
    response_header: float | None = None
    """spec.timeouts.responseHeader; None: the global one."""
    request: float | None = None
    """InterceptorRoute timeouts.request; None: the global one."""

    @property
    def key(self) -> str:
        """The queue counter's key: namespace/name (pkg/k8s ResourceKey)."""
        return f"{self.namespace}/{self.name}"

    @property
    def service(self) -> str:
        """The workload the route scales and waits for, named by its upstream."""
        return self.upstream

    def routing_keys(self) -> list[str]:
        """pkg/routing/key.go newKeysFromRoutingRule."""
        hosts = self.hosts or ("*",)
        paths = self.path_prefixes or ("",)
        keys = []
        for host in hosts:
            hostname = _strip_port(host)
            hostname = "*" if hostname in ("", "*") else hostname
            keys.extend(routing_key(hostname, path) for path in paths)
        return keys


def routing_key(hostname: str, path: str) -> str:
    """pkg/routing/key.go NewKey: `host/` then the path without its outer slashes, then `/`."""
    path = path.strip("/")
    return f"{hostname}/{path}/" if path else f"{hostname}/"


def _strip_port(host: str) -> str:
    if host.startswith("["):
        return host[1 : host.index("]")] if "]" in host else host
    name, colon, port = host.rpartition(":")
    return name if colon and port.isdigit() and ":" not in name else host


class RoutingTable:
    """pkg/routing/tablememory.go: the longest prefix, exact host, then wildcards, then `*`."""

    def __init__(self, routes: list[Route]) -> None:
        self._entries: dict[str, list[Route]] = {}
        for route in routes:  # in creation order: older routes win a shared key
            for key in route.routing_keys():
                self._entries.setdefault(key, []).append(route)

    def route(self, host: str, path: str) -> Route | None:
        """The route for a request's Host header and path, or None."""
        hostname = _strip_port(host)
        for candidate in (hostname, *_wildcards(hostname), "*"):
            found = self._longest_prefix(routing_key(candidate, path))
            if found is not None:
                return found
        return None

    def _longest_prefix(self, key: str) -> Route | None:
        best = max((k for k in self._entries if key.startswith(k)), key=len, default=None)
        return self._entries[best][0] if best is not None else None


def _wildcards(hostname: str) -> list[str]:
    """key.go wildcardHostnames: "a.b.c" -> ["*.b.c", "*.c"]."""
    labels = hostname.split(".")
    return [f"*.{'.'.join(labels[i:])}" for i in range(1, len(labels))] if hostname else []


@dataclass
class Held:
    """One routed request, as the stand-in saw it: when it came, how it ended."""

    route: str
    method: str
    path: str
    arrived: float
    released: float | None = None
    """When the wait ended, for better or worse."""
    cold_start: bool | None = None
    outcome: str = "held"
    """held, forwarded, readiness-timeout, client-gone, upstream-error, aborted, stopped."""
    status: int | None = None


@dataclass
class _Workload:
    replicas: int = 0
    ready: bool = False
    ready_at: float | None = None


@dataclass
class _Count:
    concurrency: int = 0
    request_count: int = 0


@dataclass
class InterceptorStandIn:
    """The proxy and admin servers on loopback ports, the routes, and the workloads' state."""

    routes: list[Route]
    timeouts: Timeouts = field(default_factory=Timeouts)
    scale_up_hook: Callable[[Route], None] = lambda _route: None
    """Called once per activation: the first request counted while its workload has 0 replicas."""
    enable_cold_start_header: bool = True
    """KEDA_HTTP_ENABLE_COLD_START_HEADER (default true)."""

    def __post_init__(self) -> None:
        self.table = RoutingTable(self.routes)
        self.lock = threading.Condition()
        self.stopping = threading.Event()
        self.held: list[Held] = []
        self.scale_ups: list[tuple[str, float]] = []
        self._workloads = {route.service: _Workload() for route in self.routes}
        # routing/table.go EnsureKey: every route's key exists, at 0, before any request.
        self._counts = {route.key: _Count() for route in self.routes}
        self._proxy = _ProxyServer(self)
        self._admin = _AdminServer(self)
        self._threads = [
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            for server in (self._proxy, self._admin)
        ]

    # --- lifecycle ------------------------------------------------------------------------------

    @property
    def proxy_url(self) -> str:
        """The proxy server (KEDA_HTTP_PROXY_PORT), where users' requests go."""
        return f"http://127.0.0.1:{self._proxy.server_address[1]}"

    @property
    def admin_url(self) -> str:
        """The admin server (KEDA_HTTP_ADMIN_PORT): /queue, /livez, /readyz."""
        return f"http://127.0.0.1:{self._admin.server_address[1]}"

    def start(self) -> InterceptorStandIn:
        """Serve both in background threads."""
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Drop held requests and stop serving."""
        self.stopping.set()
        with self.lock:
            self.lock.notify_all()
        for server, thread in zip((self._proxy, self._admin), self._threads, strict=True):
            if thread.is_alive():
                server.shutdown()
            server.server_close()

    # --- the workloads, as KEDA and the EndpointSlices would change them -------------------------

    def replicas(self, route: Route) -> int:
        """The route's workload's replica count (0 until a scale-up)."""
        with self.lock:
            return self._workloads[route.service].replicas

    def mark_ready(self, route: Route) -> None:
        """A replica of the route's workload is ready: its EndpointSlice shows a ready address."""
        with self.lock:
            workload = self._workloads[route.service]
            workload.replicas = max(workload.replicas, 1)
            workload.ready, workload.ready_at = True, time.monotonic()
            self.lock.notify_all()  # ReadyEndpointsCache.broadcast

    def scale_to_zero(self, route: Route) -> None:
        """KEDA scaled the workload to 0: no replica, no ready endpoint."""
        with self.lock:
            workload = self._workloads[route.service]
            workload.replicas, workload.ready, workload.ready_at = 0, False, None
            self.lock.notify_all()

    def ready_at(self, route: Route) -> float | None:
        """When the route's workload last became ready (time.monotonic)."""
        with self.lock:
            return self._workloads[route.service].ready_at

    def counts(self) -> dict[str, dict[str, int]]:
        """What GET /queue answers: {"namespace/name": {"Concurrency", "RequestCount"}}."""
        with self.lock:
            return {
                key: {"Concurrency": count.concurrency, "RequestCount": count.request_count}
                for key, count in self._counts.items()
            }

    # --- what the middleware chain does -----------------------------------------------------------

    def _count_in(self, route: Route) -> bool:
        """Counting middleware, and the scaler's activation: True if this request activated it."""
        with self.lock:
            count = self._counts[route.key]
            count.concurrency += 1
            count.request_count += 1
            workload = self._workloads[route.service]
            activate = workload.replicas == 0
            if activate:
                workload.replicas = 1
                self.scale_ups.append((route.key, time.monotonic()))
        if activate:
            self.scale_up_hook(route)
        return activate

    def _count_out(self, route: Route) -> None:
        with self.lock:
            count = self._counts[route.key]
            count.concurrency = max(0, count.concurrency - 1)  # Memory.Decrease clamps at 0

    def _wait_for_ready(
        self, route: Route, deadline: float | None, gone: Callable[[], bool]
    ) -> tuple[str, bool]:
        """ReadyEndpointsCache.WaitForReady: (ready|timeout|gone|stopped, whether it waited)."""
        with self.lock:
            if self._workloads[route.service].ready:
                return "ready", False
            while True:
                if self.stopping.is_set():
                    return "stopped", True
                if self._workloads[route.service].ready:
                    return "ready", True
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return "timeout", True
                self.lock.wait(POLL_SECONDS if remaining is None else min(POLL_SECONDS, remaining))
                if gone():
                    return "gone", True


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, standin: InterceptorStandIn) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.standin = standin

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: clients that hang up on a held request do it on purpose."""


class _AdminServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, standin: InterceptorStandIn) -> None:
        super().__init__(("127.0.0.1", 0), _AdminHandler)
        self.standin = standin


class _AdminHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        """interceptor/admin.go: /queue (JSON counts), /livez and /readyz."""
        server = self.server
        assert isinstance(server, _AdminServer)
        path = self.path.split("?", 1)[0]
        if path == "/queue":
            body, content_type = json.dumps(server.standin.counts()).encode(), "application/json"
        elif path in ("/livez", "/readyz"):
            body, content_type = b"", "text/plain"
        else:
            body, content_type = b"404 page not found\n", GO_ERROR_CONTENT_TYPE
        self.send_response(200 if path in ("/queue", "/livez", "/readyz") else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Aborted(Exception):
    """The response was cut short: the client connection must close without a last chunk."""


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        """No Nagle: each streamed chunk leaves at once."""
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    @property
    def standin(self) -> InterceptorStandIn:
        server = self.server
        assert isinstance(server, _ProxyServer)
        return server.standin

    def do_GET(self) -> None:
        """Every method goes through the same chain."""
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    # --- the chain: routing, counting, endpoint resolver, upstream -----------------------------

    def _serve(self) -> None:
        standin = self.standin
        # Read first: Go's server drains an unread body before reusing the connection.
        body = self._read_body()
        path = urlsplit(self.path).path or "/"
        route = standin.table.route(self.headers.get("Host", ""), path)
        if route is None:
            self._go_error(HTTPStatus.NOT_FOUND)  # routing.go: unmatched, not counted
            return
        arrived = time.monotonic()
        held = Held(route.key, self.command, self.path, arrived)
        with standin.lock:
            standin.held.append(held)
        standin._count_in(route)
        try:
            self._resolve_and_forward(route, body, held)
        finally:
            standin._count_out(route)

    def _resolve_and_forward(self, route: Route, body: bytes | None, held: Held) -> None:
        standin, timeouts = self.standin, self.standin.timeouts
        request_timeout = route.request if route.request is not None else timeouts.request
        request_deadline = held.arrived + request_timeout if request_timeout > 0 else None
        readiness = route.readiness if route.readiness is not None else timeouts.readiness
        wait_deadline = request_deadline
        if readiness > 0:
            readiness_deadline = held.arrived + readiness
            wait_deadline = min(readiness_deadline, request_deadline or readiness_deadline)
        state, waited = standin._wait_for_ready(route, wait_deadline, self._client_gone)
        held.released = time.monotonic()
        if state != "ready":
            held.outcome = {"timeout": "readiness-timeout", "gone": "client-gone"}.get(state, state)
            if state == "timeout":
                # endpoint_resolver.go: the wait's context expired, so 504 rather than 502.
                held.status = HTTPStatus.GATEWAY_TIMEOUT
                self._go_error(HTTPStatus.GATEWAY_TIMEOUT)
            else:
                # A gone client cannot read the 504 Go writes; a stopping server drops it.
                self.close_connection = True
            return
        held.cold_start = waited
        try:
            self._forward(route, body, held, request_deadline)
        except _Aborted:
            held.outcome = "aborted"
            self._abort()

    def _forward(
        self, route: Route, body: bytes | None, held: Held, request_deadline: float | None
    ) -> None:
        """upstream.go: ReverseProxy to the Service, streaming the answer back unbuffered."""
        timeouts = self.standin.timeouts
        upstream = urlsplit(route.upstream)
        host, port = upstream.hostname or "127.0.0.1", upstream.port or 80
        connection = self._dial(host, port, request_deadline)
        if connection is None:
            # The dial's retries ran into the deadline: DeadlineExceeded, so 504.
            self._upstream_error(held, HTTPStatus.GATEWAY_TIMEOUT)
            return
        try:
            header_timeout = (
                route.response_header
                if route.response_header is not None
                else timeouts.response_header
            )
            try:
                response = self._send_upstream(connection, body, header_timeout, request_deadline)
            except TimeoutError:
                self._upstream_error(held, HTTPStatus.GATEWAY_TIMEOUT)
                return
            except (OSError, ValueError, HTTPException):
                # The backend closed or garbled its answer before the headers were complete.
                self._upstream_error(held, HTTPStatus.BAD_GATEWAY)
                return
            held.outcome, held.status = "forwarded", response.status
            self._relay(response, bool(held.cold_start), connection, request_deadline)
        finally:
            connection.close()

    def _upstream_error(self, held: Held, status: HTTPStatus) -> None:
        """upstream.go ErrorHandler: 504 for timeouts and deadlines, else 502."""
        held.outcome, held.status = "upstream-error", status
        self._go_error(status)

    def _dial(self, host: str, port: int, deadline: float | None) -> HTTPConnection | None:
        """pkg/net/dial_context.go: attempts of KEDA_HTTP_CONNECT_TIMEOUT, 50 ms apart."""
        connect = self.standin.timeouts.connect
        stop = deadline if deadline is not None else time.monotonic() + DIAL_RETRY_CAP_SECONDS
        while True:
            attempt = min(connect, max(stop - time.monotonic(), 0.001)) if connect > 0 else None
            connection = HTTPConnection(host, port, timeout=attempt)
            try:
                connection.connect()
            except OSError:
                connection.close()
                if time.monotonic() + DIAL_RETRY_SECONDS >= stop or self._client_gone():
                    return None
                time.sleep(DIAL_RETRY_SECONDS)
                continue
            assert connection.sock is not None
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return connection

    def _send_upstream(
        self,
        connection: HTTPConnection,
        body: bytes | None,
        header_timeout: float,
        request_deadline: float | None,
    ) -> HTTPResponse:
        """The outbound request as ReverseProxy's Rewrite makes it; the response's headers."""
        incoming = self.headers
        listed = {
            token.strip().lower()
            for value in incoming.get_all("Connection", [])
            for token in value.split(",")
        }
        connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", incoming.get("Host", ""))
        forwarded = ("x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "forwarded")
        for name, value in incoming.items():
            lowered = name.lower()
            if lowered in HOP_HEADERS or lowered in listed or lowered in forwarded:
                continue
            if lowered in ("host", "content-length"):
                continue
            connection.putheader(name, value)
        # Rewrite: the incoming X-Forwarded-For with the client's address appended; Host and
        # Proto as the client sent them, else the incoming Host and "http".
        prior = incoming.get_all("X-Forwarded-For", [])
        client = self.client_address[0]
        connection.putheader("X-Forwarded-For", ", ".join([*prior, client]))
        connection.putheader(
            "X-Forwarded-Host", incoming.get("X-Forwarded-Host") or incoming.get("Host", "")
        )
        connection.putheader("X-Forwarded-Proto", incoming.get("X-Forwarded-Proto") or "http")
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        assert connection.sock is not None
        limits = [header_timeout] if header_timeout > 0 else []
        if request_deadline is not None:
            limits.append(max(request_deadline - time.monotonic(), 0.001))
        connection.sock.settimeout(min(limits) if limits else None)
        return connection.getresponse()

    def _relay(
        self,
        response: HTTPResponse,
        cold_start: bool,
        connection: HTTPConnection,
        request_deadline: float | None,
    ) -> None:
        """Status, headers (hop-by-hop dropped) and the body, each read written and flushed."""
        assert connection.sock is not None
        # Past the headers only the request deadline bounds the body (none by default).
        remaining = None if request_deadline is None else request_deadline - time.monotonic()
        connection.sock.settimeout(None if remaining is None else max(remaining, 0.001))
        listed = {
            token.strip().lower()
            for value in response.headers.get_all("Connection", [])
            for token in value.split(",")
        }
        self.send_response_only(response.status, response.reason)
        if self.enable_cold_start():
            self.send_header(COLD_START_HEADER, "true" if cold_start else "false")
        length = response.getheader("Content-Length")
        chunked = response.chunked or length is None
        for name, value in response.headers.items():
            lowered = name.lower()
            if lowered in HOP_HEADERS or lowered in listed or lowered == "content-length":
                continue
            self.send_header(name, value)
        bodyless = self.command == "HEAD" or response.status in (204, 304) or response.status < 200
        if bodyless:
            self.end_headers()
            return
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        while True:
            try:
                data = response.read1(COPY_BUFFER)
            except (OSError, ValueError, HTTPException) as error:
                # ReverseProxy panics with http.ErrAbortHandler: the client sees a cut stream.
                raise _Aborted from error
            if not data:
                break
            self._write(f"{len(data):x}\r\n".encode() + data + b"\r\n" if chunked else data)
        if chunked:
            self._write(b"0\r\n\r\n")

    def enable_cold_start(self) -> bool:
        """KEDA_HTTP_ENABLE_COLD_START_HEADER."""
        return self.standin.enable_cold_start_header

    # --- plumbing --------------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError as error:
            # The client went away mid-stream: the request's context is cancelled, and the
            # transport closes the backend connection (done by _forward's finally).
            raise _Aborted from error

    def _abort(self) -> None:
        self.close_connection = True
        with suppress(OSError):
            self.request.shutdown(socket.SHUT_RDWR)

    def _read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is not None:
            return self.rfile.read(int(length))
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return b"".join(_chunks(self.rfile))
        return None

    def _client_gone(self) -> bool:
        """Whether the client closed its connection (Go's server cancels the context then)."""
        try:
            readable, _, _ = select.select([self.request], [], [], 0)
            return bool(readable) and self.request.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _go_error(self, status: HTTPStatus) -> None:
        """interceptor/handler/static.go: Go's http.Error(w, StatusText(code), code)."""
        body = f"{status.phrase}\n".encode()
        try:
            self.send_response_only(status)
            self.send_header("Content-Type", GO_ERROR_CONTENT_TYPE)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Date", self.date_time_string())
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True


def _chunks(stream: Any) -> Iterator[bytes]:
    """A chunked request body, decoded."""
    while True:
        size = int(stream.readline().split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while stream.readline() not in (b"\r\n", b"\n", b""):
                pass
            return
        yield stream.read(size)
        stream.readline()


@contextmanager
def running(standin: InterceptorStandIn) -> Iterator[InterceptorStandIn]:
    """The stand-in, serving for the duration of a `with` block."""
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()
