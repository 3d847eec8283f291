"""Bench statistics: percentiles, throughput, error rate and the JSON document, from outcomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from llmplane.infra.config.errors import SettingsError
from llmplane.infra.endpoint.client import Failure
from llmplane.infra.endpoint.loadtest import (
    LoadRun,
    LoadSpec,
    Outcome,
    percentiles,
    read_prompts,
    report_lines,
)
from llmplane.infra.endpoint.loadtest import summary as summarize
from llmplane.infra.endpoint.target import Target

START = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "values",
    [
        [float(v) for v in range(1, 101)],
        [0.5, 0.1, 0.9, 0.3],
        [2.0, 2.0, 7.5],
        list(np.random.default_rng(7).exponential(0.2, 257)),
    ],
)
def test_percentiles_interpolate_linearly_like_numpy(values: list[float]) -> None:
    stats = percentiles(values)
    assert stats is not None
    for key, q in (("p50", 50), ("p90", 90), ("p99", 99)):
        assert stats[key] == pytest.approx(float(np.percentile(values, q)), abs=1e-4)
    assert stats["mean"] == pytest.approx(float(np.mean(values)), abs=1e-4)
    assert (stats["min"], stats["max"]) == (round(min(values), 4), round(max(values), 4))


def test_percentiles_of_one_and_of_none() -> None:
    assert percentiles([0.25]) == {
        "p50": 0.25, "p90": 0.25, "p99": 0.25, "mean": 0.25, "min": 0.25, "max": 0.25,
    }  # fmt: skip
    assert percentiles([]) is None


def _run(outcomes: list[Outcome], wall: float = 2.0) -> LoadRun:
    return LoadRun(outcomes, wall, START, START + timedelta(seconds=wall), 0.5, 2)


def test_summary_counts_tokens_of_successes_only_over_wall_time() -> None:
    ok = [Outcome(latency=1.0, ttft=0.2, tokens=9, counted_by="usage") for _ in range(3)]
    busy = Failure("http-503", "HTTP 503: Model is loading", True)
    slow = Failure("timeout", "no answer within the timeout (--timeout)", True)
    failed = [
        Outcome(0.1, None, 0, "", busy),
        Outcome(0.1, None, 0, "", busy),
        Outcome(5.0, 0.3, 4, "", slow),
    ]
    spec = LoadSpec(concurrency=2, requests=6, max_new_tokens=9, timeout=5)
    document = summarize(_run(ok + failed), Target(url="http://h:1"), "tgi", "org/m", spec)
    assert document["measured"] is True and document["schema"] == "llmplane.bench/1"
    assert (document["succeeded"], document["failed"], document["errorRate"]) == (3, 3, 0.5)
    assert document["errors"] == {"http-503": 2, "timeout": 1}
    assert document["errorExamples"]["http-503"] == "HTTP 503: Model is loading"
    # The timed-out request's 4 tokens are not output the endpoint delivered.
    assert document["outputTokens"] == 27
    assert document["outputTokensPerSecond"] == pytest.approx(27 / 2.0)
    assert document["latencySeconds"]["p99"] == 1.0  # failures are not in the latencies
    # Decode speed per stream: 8 tokens after the first, in the 0.8 s after it.
    assert document["perRequestTokensPerSecond"]["p50"] == pytest.approx(10.0)
    assert document["tokenCount"] == "usage"
    assert document["startedAt"] == "2026-01-02T03:04:05+00:00"
    assert document["clientCpuShare"] == 0.25 and document["warmupRequests"] == 2


def test_summary_of_a_run_where_everything_failed_has_no_statistics() -> None:
    refused = Failure("refused", "connection refused by http://h:1", True)
    spec = LoadSpec(concurrency=1, requests=2, max_new_tokens=4, timeout=1)
    run = _run([Outcome(0.01, None, 0, "", refused)] * 2)
    document = summarize(run, Target(url="http://h:1"), None, None, spec)
    assert document["latencySeconds"] is None and document["ttftSeconds"] is None
    assert document["outputTokensPerSecond"] == 0.0 and document["tokenCount"] is None
    lines = list(report_lines(document))
    assert any(line.startswith("latency (s)") and line.split()[2] == "-" for line in lines)
    assert lines[-1] == "errors: refused x2 (connection refused by http://h:1)"


def test_report_lines_show_the_figures_and_flag_a_busy_client() -> None:
    ok = [
        Outcome(latency=0.5 + i / 100, ttft=0.1, tokens=5, counted_by="chunks") for i in range(10)
    ]
    spec = LoadSpec(concurrency=4, requests=10, max_new_tokens=5, timeout=5)
    run = LoadRun(ok, 1.0, START, START, client_cpu_seconds=0.97, warmup_requests=4)
    lines = list(report_lines(summarize(run, Target(url="http://h:1"), "vllm", "org/m", spec)))
    assert lines[0] == "llmplane bench http://h:1: org/m on vllm"
    assert "10 requests, concurrency 4" in lines[1] and "error rate 0.0%" in lines[1]
    assert (
        "50 tokens, 50.0 tokens/s for the whole endpoint (counted from streamed chunks)"
        in (lines[-2])
    )
    assert "client used 97% of a CPU" in lines[-1]


def test_prompt_file_has_one_prompt_per_line(tmp_path: Path) -> None:
    path = tmp_path / "prompts.txt"
    path.write_text("first prompt\n\n  second prompt  \n", encoding="utf-8")
    assert read_prompts(path) == ("first prompt", "second prompt")
    path.write_text("\n \n", encoding="utf-8")
    with pytest.raises(SettingsError, match="holds no prompt"):
        read_prompts(path)
    with pytest.raises(SettingsError, match="cannot be read"):
        read_prompts(tmp_path / "missing.txt")
