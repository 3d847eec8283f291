"""`bench`'s load through AsyncInferenceClient against the loopback endpoint: figures, failures."""

from __future__ import annotations

import pytest

from llmplane.infra.endpoint.loadtest import LoadSpec, Outcome, run_load
from llmplane.infra.endpoint.loadtest import summary as summarize
from llmplane.infra.endpoint.target import Target
from tests.endpoint.fake_server import MODEL, FakeEndpoint


def bench(fake: FakeEndpoint, requests: int, concurrency: int, **spec: float) -> dict:
    """Run the load in this process; the JSON document."""
    load = LoadSpec(
        concurrency=concurrency,
        requests=requests,
        max_new_tokens=int(spec.pop("max_new_tokens", 16)),
        timeout=spec.pop("timeout", 5.0),
    )
    done: list[Outcome] = []
    target = Target(url=fake.url, model=MODEL, engine=fake.script.engine)
    run = run_load(target, MODEL, load, done.append)
    assert len(done) == requests  # the progress callback saw every request once
    return summarize(run, target, fake.script.engine, MODEL, load)


def test_statistics_are_consistent_with_the_pacing_of_the_server(fake: FakeEndpoint) -> None:
    # (200 requests at concurrency 16 run through the console script, in test_cli_endpoint.)
    fake.script.tokens = 12
    fake.script.token_delay = 0.002
    document = bench(fake, requests=48, concurrency=8)
    assert (document["succeeded"], document["failed"], document["errorRate"]) == (48, 0, 0.0)
    assert document["outputTokens"] == 48 * 12 and document["tokenCount"] == "usage"
    assert document["outputTokensPerSecond"] == pytest.approx(
        document["outputTokens"] / document["wallSeconds"], rel=1e-3
    )
    latency, ttft = document["latencySeconds"], document["ttftSeconds"]
    assert latency["min"] <= latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    assert ttft["p50"] < latency["p50"]
    # The server paces 12 tokens 2 ms apart: no request can be quicker than that.
    assert latency["min"] >= 12 * 0.002
    assert document["perRequestTokensPerSecond"]["p50"] > 0
    # 8 untimed warm-up requests, then the 48.
    assert fake.paths("POST") == ["/v1/chat/completions"] * 56
    assert document["warmupRequests"] == 8


def test_vllm_gets_the_served_model_name(fake: FakeEndpoint) -> None:
    fake.script.engine = "vllm"
    document = bench(fake, requests=20, concurrency=4)
    assert document["failed"] == 0
    assert {s.body["model"] for s in fake.seen if s.body} == {MODEL}


def test_a_burst_of_errors_is_counted_by_kind(fake: FakeEndpoint) -> None:
    # The 4 warm-up requests take the first 4, the run the next 6.
    fake.script.burst = [503] * 10 + [500] * 2
    document = bench(fake, requests=40, concurrency=4)
    assert document["errors"] == {"http-500": 2, "http-503": 6}
    assert document["errorRate"] == 0.2 and document["succeeded"] == 32
    assert document["errorExamples"]["http-503"] == "HTTP 503: burst: answering 503"


def test_broken_streams_and_hangs_are_errors_not_crashes(fake: FakeEndpoint) -> None:
    fake.script.malformed = {"sse"}
    document = bench(fake, requests=6, concurrency=2)
    assert document["errors"] == {"malformed": 6} and document["latencySeconds"] is None
    fake.script.malformed = set()
    fake.script.hang = {"/v1/chat/completions"}
    document = bench(fake, requests=2, concurrency=2, timeout=0.2)
    assert document["errors"] == {"timeout": 2}
