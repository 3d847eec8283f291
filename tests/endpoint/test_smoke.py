"""`smoke` against the loopback endpoint: each engine, slow starts, bursts, hangs, bad bodies."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from llmplane.infra.endpoint.smoke import CHECKS, Backoff, smoke
from llmplane.infra.endpoint.target import Target
from tests.endpoint.fake_server import MODEL, FakeEndpoint

FAST = Backoff(first=0.01, factor=2.0, cap=0.05)


def run(
    fake: FakeEndpoint, wait: float = 2.0, timeout: float = 2.0, **target: str | None
) -> tuple[list[tuple[str, str]], str | None]:
    """Smoke the fake endpoint; [(check, status)] and the failure line."""
    fields: dict = {"model": MODEL, **target}
    report = smoke(
        Target(url=fake.url, wait_seconds=wait, **fields),
        timeout=timeout,
        max_new_tokens=4,
        backoff=FAST,
    )
    return [(c.name, c.status) for c in report.checks], report.failure_line()


@pytest.mark.parametrize("engine", ["tgi", "vllm", "sglang"])
@pytest.mark.parametrize("told", [True, False])
def test_every_engine_passes_told_or_probed(fake: FakeEndpoint, engine: str, told: bool) -> None:
    fake.script.engine = engine
    checks, failure = run(fake, engine=engine if told else None)
    assert failure is None
    text_generation = "ok" if engine == "tgi" else "skipped"
    assert checks == [
        ("health", "ok"),
        ("model", "ok"),
        ("generate", text_generation),
        ("generate-stream", text_generation),
        ("chat", "ok"),
        ("chat-stream", "ok"),
        ("metrics", "ok"),
    ]
    posts = fake.paths("POST")
    if engine == "tgi":
        # text_generation with a URL posts to it as is: llmplane names TGI's routes itself.
        assert posts == ["/generate", "/generate_stream", *["/v1/chat/completions"] * 2]
    else:
        assert posts == ["/v1/chat/completions"] * 2
        # The served name, not huggingface_hub's "dummy": vLLM refuses names it does not serve.
        assert {s.body["model"] for s in fake.seen if s.method == "POST" and s.body} == {MODEL}


def test_the_report_carries_timings_tokens_and_time_to_first_token(fake: FakeEndpoint) -> None:
    fake.script.token_delay = 0.005
    report = smoke(Target(url=fake.url, model=MODEL), timeout=2, max_new_tokens=3, backoff=FAST)
    by_name = {check.name: check for check in report.checks}
    assert by_name["generate"].output_tokens == 3 and by_name["chat"].output_tokens == 3
    for name in ("generate-stream", "chat-stream"):
        check = by_name[name]
        assert check.output_tokens == 3
        assert check.ttft_seconds is not None and check.seconds is not None
        assert 0.004 < check.ttft_seconds < check.seconds
    document = report.to_json()
    assert document["passed"] is True and document["servedModel"] == MODEL
    assert [c["name"] for c in document["checks"]] == list(CHECKS)


def test_slow_start_is_waited_out_with_backoff(fake: FakeEndpoint) -> None:
    fake.script.loading = 4
    sleeps: list[float] = []
    report = smoke(
        Target(url=fake.url, model=MODEL, wait_seconds=30),
        timeout=2,
        max_new_tokens=2,
        backoff=Backoff(first=0.5, factor=2, cap=3),
        sleep=sleeps.append,
    )
    assert report.failed is None
    assert report.checks[0].attempts == 5
    assert sleeps == [0.5, 1.0, 2.0, 3.0]  # doubling, capped; no real time spent


def test_loading_past_the_budget_fails_and_says_what_to_do(fake: FakeEndpoint) -> None:
    fake.script.loading = 1000
    checks, failure = run(fake, wait=0.2)
    assert checks == [("health", "failed")]
    assert failure is not None
    assert "health: still HTTP 503: Model is loading after" in failure
    assert "pass --wait SECONDS" in failure


@pytest.fixture
def free_port() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield port


def test_refused_connections_are_waited_out_until_the_server_listens(free_port: int) -> None:
    # The server binds its port only when it starts, 0.3 s in: until then, connections are refused.
    late: list[FakeEndpoint] = []
    timer = threading.Timer(0.3, lambda: late.append(FakeEndpoint(port=free_port).start()))
    timer.start()
    try:
        report = smoke(
            Target(url=f"http://127.0.0.1:{free_port}", model=MODEL, wait_seconds=5),
            timeout=2,
            max_new_tokens=2,
            backoff=FAST,
        )
    finally:
        timer.join()
        for endpoint in late:
            endpoint.stop()
    assert report.failed is None
    assert report.checks[0].attempts > 1


def test_refused_for_good_fails_naming_the_url(free_port: int) -> None:
    report = smoke(
        Target(url=f"http://127.0.0.1:{free_port}", wait_seconds=0.1),
        timeout=1,
        max_new_tokens=2,
        backoff=FAST,
    )
    line = report.failure_line()
    assert line is not None and f"connection refused by http://127.0.0.1:{free_port}" in line


def test_a_burst_of_503_is_retried_but_a_500_fails(fake: FakeEndpoint) -> None:
    fake.script.burst = [503, 503, 502]
    checks, failure = run(fake)
    assert failure is None and ("generate", "ok") in checks
    fake.script.burst = [500]
    checks, failure = run(fake)
    assert checks[-1] == ("generate", "failed")
    assert failure is not None and "generate: HTTP 500: burst: answering 500" in failure


def test_a_hanging_request_times_out(fake: FakeEndpoint) -> None:
    fake.script.hang = {"/v1/chat/completions"}
    checks, failure = run(fake, timeout=0.3)
    assert checks[-1] == ("chat", "failed")
    assert failure is not None and "chat: no answer within the timeout (--timeout)" in failure


@pytest.mark.parametrize(
    ("engine", "malformed", "check", "words"),
    [
        ("tgi", "json", "generate", "malformed JSON"),
        ("vllm", "json", "chat", "malformed JSON"),
        ("tgi", "sse", "generate-stream", "malformed JSON"),
        ("sglang", "sse", "chat-stream", "malformed JSON"),
        ("tgi", "info", "model", "GET /info answered with something other than JSON"),
        ("sglang", "info", "model", "GET /get_model_info answered with something other than JSON"),
    ],
)
def test_malformed_bodies_fail_the_check_that_got_them(
    fake: FakeEndpoint, engine: str, malformed: str, check: str, words: str
) -> None:
    fake.script.engine = engine
    fake.script.malformed = {malformed}
    checks, failure = run(fake, engine=engine)
    assert checks[-1] == (check, "failed")
    assert failure is not None and words in failure


def test_the_wrong_model_fails_naming_both(fake: FakeEndpoint) -> None:
    fake.script.model_id = "meta-llama/Llama-3.1-8B-Instruct"
    report = smoke(
        Target(url=fake.url, stack="aws-dev", model=MODEL, model_from_flag=False),
        timeout=2,
        max_new_tokens=2,
    )
    checks, failure = [(c.name, c.status) for c in report.checks], report.failure_line()
    assert checks == [("health", "ok"), ("model", "failed")]
    assert failure is not None
    assert (
        f"serves meta-llama/Llama-3.1-8B-Instruct (GET /info), but the stack deploys {MODEL}"
        in (failure)
    )


def test_without_an_expected_model_the_served_one_is_reported(fake: FakeEndpoint) -> None:
    report = smoke(Target(url=fake.url), timeout=2, max_new_tokens=2, backoff=FAST)
    assert report.failed is None and report.served_model == MODEL
    assert "not checked" in report.checks[1].detail


def test_the_wrong_engine_is_named_in_the_failure(fake: FakeEndpoint) -> None:
    fake.script.engine = "vllm"
    checks, failure = run(fake, engine="sglang")
    assert checks[-1] == ("model", "failed")
    assert failure is not None and "HTTP 404" in failure and "is it a sglang endpoint?" in failure


def test_missing_queue_metric_fails(fake: FakeEndpoint) -> None:
    fake.script.metrics = False
    checks, failure = run(fake)
    assert checks[-1] == ("metrics", "failed")
    assert failure is not None and "tgi_queue_size" in failure


def test_an_unauthorised_endpoint_asks_for_a_key(fake: FakeEndpoint) -> None:
    fake.script.require_token = "the-key"
    checks, failure = run(fake)
    assert checks == [("health", "failed")]
    assert failure is not None and "HTTP 401" in failure and "export LLMPLANE_API_KEY" in failure


def test_a_withheld_key_is_named_when_the_endpoint_wants_one(fake: FakeEndpoint) -> None:
    fake.script.require_token = "the-key"
    auth = "none: $LLMPLANE_API_KEY was withheld over plain http to a non-loopback host"
    report = smoke(Target(url=fake.url, auth=auth), timeout=2, max_new_tokens=2)
    line = report.failure_line()
    assert line is not None
    assert line.endswith(
        "health: HTTP 401: missing or unknown API key: it wants an API key, and $LLMPLANE_API_KEY"
        " was withheld over plain http to a non-loopback host; use https or a port-forward"
    )
