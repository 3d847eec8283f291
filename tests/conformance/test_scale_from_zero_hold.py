"""Requests held through a scale from zero, through a stand-in of KEDA's HTTP add-on interceptor.

The real interceptor cannot run here (no registry this machine reaches ships it, and it needs a
Kubernetes API server), so interceptor_standin.py restates its contract from the source of
kedacore/http-add-on v0.15.0 (tests/conformance/research/keda-interceptor-contract.md).
In front of it the
client is llmplane's own, huggingface_hub's InferenceClient as `llmplane smoke` builds it; behind
it, the loopback engine the endpoint tests use (tests/endpoint/fake_server.py), streaming
server-sent events with a pause before each.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from llmplane.infra.endpoint.client import classify, inference_client
from llmplane.infra.endpoint.smoke import Backoff, smoke
from llmplane.infra.endpoint.stream import StreamTally, add_chunk
from llmplane.infra.endpoint.target import Target
from tests.conformance.interceptor_standin import (
    COLD_START_HEADER,
    InterceptorStandIn,
    Route,
    RoutingTable,
    Timeouts,
    go_duration,
    running,
)
from tests.endpoint.fake_server import MODEL, WORDS, FakeEndpoint, Script

TOKENS, TOKEN_DELAY = 8, 0.15
# The fake engine sleeps before each token and before `[DONE]`: its stream lasts at least this.
STREAM_SECONDS = (TOKENS + 1) * TOKEN_DELAY
HOLD_SECONDS = 1.0  # how long the replica takes to be ready after the scale-up
READINESS = "1.5s"  # KEDA_HTTP_READINESS_TIMEOUT for the requests that must time out
# A loaded machine answers late, never early: a generous bound above, a tight one below.
LATE_MARGIN = 1.5
HOST = "127.0.0.1"  # the Host the client sends (port stripped), as the route's spec.hosts


@pytest.fixture(autouse=True)
def no_ambient_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither the developer's keys nor offline mode may reach these requests."""
    for name in ("LLMPLANE_API_KEY", "HF_TOKEN", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def engine() -> Iterator[FakeEndpoint]:
    """The inference engine behind the interceptor: TGI's chat API, tokens TOKEN_DELAY apart."""
    endpoint = FakeEndpoint(Script(tokens=TOKENS, token_delay=TOKEN_DELAY)).start()
    yield endpoint
    endpoint.stop()


def llm_route(engine: FakeEndpoint) -> Route:
    """The HTTPScaledObject llmplane would make: its host, the engine's Service as the target."""
    return Route("llm", "llm-dev", engine.url, hosts=(HOST,))


@dataclass
class Scaler:
    """The scale-up hook: when KEDA would activate the ScaledObject, and how often."""

    calls: list[float] = field(default_factory=list)

    def __call__(self, route: Route) -> None:
        self.calls.append(time.monotonic())


def queue(standin: InterceptorStandIn) -> dict[str, Any]:
    """GET /queue on the admin port, as KEDA's external scaler polls it."""
    port = int(standin.admin_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/queue")
        response = connection.getresponse()
        assert response.status == 200
        return json.loads(response.read())
    finally:
        connection.close()


def wait_for(condition: Any, seconds: float, what: str) -> None:
    """Poll `condition` until it holds; fail the test, saying `what`, if it does not in time."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds} s: {what}")
        time.sleep(0.01)


def raw_request(
    standin: InterceptorStandIn, path: str = "/health", host: str = HOST
) -> tuple[http.client.HTTPResponse, bytes, float]:
    """One plain HTTP request to the proxy port: the response, its body, the seconds it took."""
    port = int(standin.proxy_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.monotonic()
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        return response, response.read(), time.monotonic() - started
    finally:
        connection.close()


@dataclass
class Streamed:
    """One streamed chat completion as the client saw it."""

    headers_at: float | None = None
    """When chat_completion returned: the response's status and headers had come."""
    arrivals: list[float] = field(default_factory=list)
    """When each chunk with text came."""
    text: str = ""
    tally: StreamTally = field(default_factory=StreamTally)
    error: BaseException | None = None


def stream_chat(url: str, result: Streamed) -> None:
    """A streamed chat_completion through llmplane's own client, as `smoke`'s chat-stream."""
    client = inference_client(Target(url=url), timeout=10)
    started = time.perf_counter()
    try:
        stream = client.chat_completion(
            [{"role": "user", "content": "Name the three primary colours."}],
            model=MODEL,
            max_tokens=TOKENS,
            stream=True,
        )
        result.headers_at = time.monotonic()
        for chunk in stream:
            before = result.tally.tokens
            add_chunk(result.tally, chunk, started)
            if result.tally.tokens > before:
                result.arrivals.append(time.monotonic())
                result.text += chunk.choices[0].delta.content or ""
    except BaseException as error:
        result.error = error


def test_streams_at_zero_replicas_are_held_scaled_once_then_streamed_unbuffered(
    engine: FakeEndpoint,
) -> None:
    scaler = Scaler()
    route = llm_route(engine)
    standin = InterceptorStandIn([route], Timeouts(readiness=30.0), scale_up_hook=scaler)
    with running(standin):
        assert standin.replicas(route) == 0
        results = [Streamed() for _ in range(3)]
        threads = [
            threading.Thread(target=stream_chat, args=(standin.proxy_url, result))
            for result in results
        ]
        for thread in threads:
            thread.start()
        # All three are counted, where the scaler looks, and none has an answer yet.
        wait_for(lambda: queue(standin)["llm-dev/llm"]["Concurrency"] == 3, 5, "3 requests pending")
        assert all(r.headers_at is None and r.error is None for r in results)
        assert len(scaler.calls) == 1, "one activation for three requests"
        assert standin.replicas(route) == 1
        # The replica becomes ready a while after the scale-up; the requests wait for it.
        time.sleep(max(0.0, scaler.calls[0] + HOLD_SECONDS - time.monotonic()))
        assert all(r.headers_at is None for r in results), "answered before a replica was ready"
        standin.mark_ready(route)
        ready_at = standin.ready_at(route)
        assert ready_at is not None
        for thread in threads:
            thread.join(timeout=15)
        assert not any(thread.is_alive() for thread in threads)

        expected = "".join(WORDS[i % len(WORDS)] for i in range(TOKENS))
        for result in results:
            assert result.error is None, repr(result.error)
            assert result.headers_at is not None and result.headers_at >= ready_at
            assert (result.text, result.tally.finish) == (expected, "length")
            # Buffered, the first event would come after the engine's last one, which it sends
            # no sooner than STREAM_SECONDS after it got the request, itself after ready_at.
            first, last = result.arrivals[0], result.arrivals[-1]
            assert first < ready_at + STREAM_SECONDS, "the first event waited for the last"
            assert last - first >= (TOKENS - 1) * TOKEN_DELAY * 0.5, "the events came together"
        assert [(h.outcome, h.status, h.cold_start) for h in standin.held] == [
            ("forwarded", 200, True)
        ] * 3
        assert all(h.released is not None and h.released >= ready_at for h in standin.held)
        assert queue(standin)["llm-dev/llm"] == {"Concurrency": 0, "RequestCount": 3}

        # Warm now: no wait, no second activation, and the header says it was no cold start.
        response, _, _ = raw_request(standin)
        assert response.status == 200
        assert response.getheader(COLD_START_HEADER) == "false"
        assert len(scaler.calls) == 1


def test_past_the_readiness_timeout_the_client_gets_a_504_promptly_not_a_hang(
    engine: FakeEndpoint,
) -> None:
    timeout = go_duration(READINESS)
    scaler = Scaler()  # activates, but the replica never becomes ready
    route = llm_route(engine)
    timeouts = Timeouts.from_env({"KEDA_HTTP_READINESS_TIMEOUT": READINESS})
    assert timeouts.readiness == timeout == 1.5
    standin = InterceptorStandIn([route], timeouts, scale_up_hook=scaler)
    seen_before = len(engine.seen)
    with running(standin):
        # A plain request beside the streamed one: the exact answer the interceptor gives.
        raw: dict[str, Any] = {}

        def plain() -> None:
            raw["response"], raw["body"], raw["seconds"] = raw_request(standin)

        beside = threading.Thread(target=plain)
        beside.start()
        result = Streamed()
        started = time.monotonic()
        stream_chat(standin.proxy_url, result)
        elapsed = time.monotonic() - started
        beside.join(timeout=15)

        assert timeout - 0.01 <= elapsed <= timeout + LATE_MARGIN, elapsed
        assert result.headers_at is None and result.error is not None
        failure = classify(result.error, Target(url=standin.proxy_url))
        # llmplane's one line for it: the status, and the interceptor's short text/plain body.
        assert (failure.kind, failure.detail, failure.not_ready) == (
            "http-504",
            "HTTP 504: Gateway Timeout",
            True,
        )

        response, body = raw["response"], raw["body"]
        assert timeout - 0.01 <= raw["seconds"] <= timeout + LATE_MARGIN
        assert (response.status, body) == (504, b"Gateway Timeout\n")
        assert response.getheader("Content-Type") == "text/plain; charset=utf-8"
        assert response.getheader("X-Content-Type-Options") == "nosniff"
        assert response.getheader(COLD_START_HEADER) is None
        assert len(scaler.calls) == 1
        assert [h.outcome for h in standin.held] == ["readiness-timeout"] * 2
        assert len(engine.seen) == seen_before, "nothing reaches the engine"
        assert queue(standin)["llm-dev/llm"] == {"Concurrency": 0, "RequestCount": 2}


def test_smoke_says_what_failed_in_one_line_when_no_replica_comes(engine: FakeEndpoint) -> None:
    route = llm_route(engine)
    timeouts = Timeouts.from_env({"KEDA_HTTP_READINESS_TIMEOUT": READINESS})
    with running(InterceptorStandIn([route], timeouts)) as standin:
        target = Target(url=standin.proxy_url, engine="tgi", wait_seconds=2.0, wait_source="test")
        report = smoke(
            target, timeout=10, max_new_tokens=4, checks=("health",), backoff=Backoff(first=0.1)
        )
    failed = report.failed
    assert failed is not None and failed.attempts == 2
    # 504 counts as "not ready yet", so smoke asks again within its wait budget, then says so,
    # and that a stack scaling from zero may need its whole cold-start budget.
    assert report.failure_line() == (
        f"smoke failed for {standin.proxy_url}: health: still HTTP 504: Gateway Timeout after "
        "2 attempts over 2 s (wait budget: test); a stack scaling from zero may still be "
        "starting its GPU node and engine; pass --wait SECONDS of at least its cold-start "
        "budget, which is also how long it holds a request"
    )


def test_a_client_that_hangs_up_while_held_is_let_go_at_once(engine: FakeEndpoint) -> None:
    route = llm_route(engine)
    # The defaults: no readiness timeout and no request timeout, so only the client ends it.
    standin = InterceptorStandIn([route], Timeouts.from_env({}))
    assert standin.timeouts.readiness == standin.timeouts.request == 0
    with running(standin):
        port = int(standin.proxy_url.rsplit(":", 1)[1])
        body = b'{"model": "m", "messages": [], "stream": true}'
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            wait_for(lambda: queue(standin)["llm-dev/llm"]["Concurrency"] == 1, 5, "held")
            client.settimeout(0.3)
            with pytest.raises(TimeoutError):
                client.recv(1)  # still held: nothing comes
        hung_up = time.monotonic()
        wait_for(lambda: queue(standin)["llm-dev/llm"]["Concurrency"] == 0, 1, "let go")
        assert time.monotonic() - hung_up < 1
        assert [h.outcome for h in standin.held] == ["client-gone"]


def test_an_engine_that_breaks_mid_stream_leaves_the_client_a_broken_stream() -> None:
    # One event, then the engine's connection drops: no last chunk, so no clean end.
    listener = socket.create_server(("127.0.0.1", 0))
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    event = b"data: {}\n\n"

    def break_off() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(head + f"{len(event):x}\r\n".encode() + event + b"\r\n")

    engine = threading.Thread(target=break_off, daemon=True)
    engine.start()
    route = Route("llm", "llm-dev", f"http://127.0.0.1:{listener.getsockname()[1]}", hosts=(HOST,))
    standin = InterceptorStandIn([route])
    standin.mark_ready(route)
    try:
        with running(standin):
            port = int(standin.proxy_url.rsplit(":", 1)[1])
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/v1/stream", headers={"Host": HOST})
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader(COLD_START_HEADER) == "false"
            assert response.readline() == b"data: {}\n"
            with pytest.raises(http.client.IncompleteRead):
                response.read()
            connection.close()
            assert [h.outcome for h in standin.held] == ["aborted"]
    finally:
        listener.close()
        engine.join(timeout=5)


def test_a_host_no_route_names_gets_404_and_is_not_counted(engine: FakeEndpoint) -> None:
    scaler = Scaler()
    standin = InterceptorStandIn([llm_route(engine)], scale_up_hook=scaler)
    with running(standin):
        response, body, seconds = raw_request(standin, host="other.example")
        assert (response.status, body) == (404, b"Not Found\n")
        assert seconds < 1
        assert queue(standin)["llm-dev/llm"] == {"Concurrency": 0, "RequestCount": 0}
        assert scaler.calls == [] and standin.held == []


def test_the_routing_table_matches_as_the_interceptors_does() -> None:
    def route(name: str, hosts: tuple[str, ...] = (), paths: tuple[str, ...] = ()) -> Route:
        return Route(name, "ns", "http://127.0.0.1:9", hosts=hosts, path_prefixes=paths)

    table = RoutingTable(
        [
            route("exact", ("llm.example.com",)),
            route("chat", ("llm.example.com:8080",), ("/v1/chat/",)),
            route("wild", ("*.example.com",)),
            route("wider", ("*.com",)),
            route("any", (), ("/health",)),
        ]
    )

    def name(host: str, path: str) -> str | None:
        found = table.route(host, path)
        return None if found is None else found.name

    assert name("llm.example.com:443", "/v1/models") == "exact"  # the port is ignored
    assert name("llm.example.com", "/v1/chat/completions") == "chat"  # the longest prefix
    assert name("llm.example.com", "/v1/chatter") == "exact"  # prefixes end at a slash
    assert name("a.b.example.com", "/") == "wild"
    assert name("x.org.com", "/") == "wider"
    assert name("x.org", "/health") == "any"
    assert name("x.org", "/other") is None


def test_timeouts_read_from_the_environment_as_the_interceptor_reads_them() -> None:
    assert Timeouts.from_env({}) == Timeouts(
        request=0.0, response_header=300.0, readiness=0.0, connect=0.5
    )
    # The deprecated names, when set above 0, win over the new ones.
    old_and_new = {
        "KEDA_CONDITION_WAIT_TIMEOUT": "20s",
        "KEDA_HTTP_READINESS_TIMEOUT": "1m30s",
        "KEDA_RESPONSE_HEADER_TIMEOUT": "500ms",
    }
    assert Timeouts.from_env(old_and_new) == Timeouts(readiness=20.0, response_header=0.5)
    assert Timeouts.from_env({"KEDA_HTTP_READINESS_TIMEOUT": "1m30s"}).readiness == 90.0
    with pytest.raises(ValueError):
        go_duration("90")  # Go wants a unit on anything but 0
