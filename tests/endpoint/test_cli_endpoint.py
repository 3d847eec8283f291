"""`llmplane smoke` and `bench` through the real entry point: exit codes, one-line errors, keys."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.endpoint.conftest import (
    KEY,
    Result,
    assert_one_line,
    console_script,
    llmplane,
    outputs_file,
)
from tests.endpoint.fake_server import MODEL, FakeEndpoint

Capsys = pytest.CaptureFixture[str]


def test_console_script_smoke_passes_and_reports_every_check(fake: FakeEndpoint) -> None:
    result = console_script("smoke", "--url", fake.url, "--model", MODEL)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == f"llmplane smoke {fake.url}: {MODEL} on tgi; auth: none"
    assert [line.split()[:2] for line in lines[1:8]] == [
        ["ok", name]
        for name in ("health", "model", "generate", "generate-stream", "chat", "chat-stream")
    ] + [["ok", "metrics"]]
    assert lines[-1] == "smoke passed: 7 checks ok, 0 skipped"


def test_console_script_bench_200_requests_at_concurrency_16(fake: FakeEndpoint) -> None:
    fake.script.tokens = 16
    fake.script.token_delay = 0.001
    result = console_script(
        "bench", "--url", fake.url, "--concurrency", "16", "--requests", "200", "--json"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar off a terminal: stdout is the JSON alone
    document = json.loads(result.stdout)
    assert document["measured"] is True and document["model"] == MODEL
    assert (document["requests"], document["concurrency"], document["succeeded"]) == (200, 16, 200)
    assert document["engine"] == "tgi" and document["url"] == fake.url
    for key in ("latencySeconds", "ttftSeconds", "perRequestTokensPerSecond"):
        stats = document[key]
        assert 0 < stats["p50"] <= stats["p90"] <= stats["p99"] <= stats["max"]
    assert document["outputTokens"] == 3200 and document["outputTokensPerSecond"] > 0
    assert document["warmupRequests"] == 16
    assert fake.paths("POST") == ["/v1/chat/completions"] * 216  # 16 warm-ups, 200 timed


def test_a_failed_smoke_prints_its_checks_and_one_line(capsys: Capsys, fake: FakeEndpoint) -> None:
    fake.script.model_id = "org/other"
    result = llmplane(capsys, "smoke", "--url", fake.url, "--model", MODEL)
    assert_one_line(result, 1, f"smoke failed for {fake.url}: model: serves org/other")
    assert "  failed   model" in result.stdout


def test_smoke_json_reports_a_failure_too(capsys: Capsys, fake: FakeEndpoint) -> None:
    fake.script.burst = [500]
    result = llmplane(capsys, "smoke", "--url", fake.url, "--json")
    assert_one_line(result, 1, "generate: HTTP 500")
    document = result.json()
    assert document["passed"] is False and document["failure"] == result.stderr.strip()
    assert [c["status"] for c in document["checks"]] == ["ok", "ok", "failed"]
    assert document["servedModel"] == MODEL and document["model"] is None


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("smoke",), ("--url: is missing",)),
        (("smoke", "--url", "http://h", "--stack", "aws-dev"), ("--url", "--stack")),
        (("smoke", "--url", "h:80"), ("--url", "http(s) URL")),
        (("smoke", "--url", "http://h", "--engine", "vlm"), ("--engine", "vllm")),
        (("smoke", "--url", "http://h", "--token-env", "NO_SUCH_VAR"), ("$NO_SUCH_VAR",)),
        (("smoke", "--url", "http://h", "--wait", "-1"), ("--wait",)),
        (("bench", "--url", "http://h", "--requests", "5"), ("--concurrency",)),
        (
            ("bench", "--url", "http://h", "--concurrency", "0", "--requests", "5"),
            ("--concurrency",),
        ),
        (
            (
                "bench",
                "--url",
                "http://h",
                "--concurrency",
                "1",
                "--requests",
                "1",
                "--prompt-file",
                "/no/such",
            ),
            ("--prompt-file", "/no/such"),
        ),
        (
            (
                "bench",
                "--url",
                "http://h",
                "--concurrency",
                "1",
                "--requests",
                "1",
                "--max-error-rate",
                "2",
            ),
            ("--max-error-rate",),
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: Capsys, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    result = llmplane(capsys, *args)
    assert_one_line(result, 2, *words)
    assert result.stdout == ""


def test_stack_without_pulumi_asks_for_outputs(
    capsys: Capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = llmplane(capsys, "smoke", "--stack", "aws-dev")
    assert_one_line(
        result, 2, "stack aws-dev: --stack", "Pulumi CLI is not on PATH", "--outputs FILE"
    )


def test_smoke_from_stack_outputs(capsys: Capsys, fake: FakeEndpoint, tmp_path: Path) -> None:
    path = outputs_file(tmp_path, fake.url, engine="tgi")
    result = llmplane(capsys, "smoke", "--stack", "aws-dev", "--outputs", str(path), "--json")
    assert result.code == 0, result.stderr
    document = result.json()
    assert (document["stack"], document["model"], document["engine"]) == ("aws-dev", MODEL, "tgi")
    # The wait comes from the stack file: its cold-start budget (node, image, weights, warm-up).
    from llmplane.infra.config.settings import parse
    from llmplane.infra.config.stackfile import read_stack_file
    from llmplane.infra.sizing.serving import serving_for
    from tests.conftest import STACKS

    cold = serving_for(parse(*read_stack_file(STACKS / "Pulumi.aws-dev.yaml"))).cold_start
    assert cold is not None and document["waitSeconds"] == cold.timeout_seconds > 600


def test_in_cluster_url_says_to_port_forward(
    capsys: Capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = socket.getaddrinfo

    def resolver(host: Any, *args: Any, **kwargs: Any) -> Any:
        # As outside any cluster: service names do not resolve. (Patched for determinism.)
        if str(host).endswith(".svc.cluster.local"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    path = outputs_file(tmp_path, "http://inference.llm-aws-dev.svc.cluster.local")
    result = llmplane(capsys, "smoke", "--stack", "aws-dev", "--outputs", str(path))
    assert_one_line(
        result,
        1,
        "health: cannot resolve the host",
        "kubectl -n llm-aws-dev port-forward svc/inference 8080:80",
    )


def _assert_no_key(result: Result) -> None:
    assert KEY not in result.stdout + result.stderr
    assert "[redacted]" in result.stdout + result.stderr  # the echo was there, and was caught


def test_the_key_is_sent_but_never_printed_even_when_echoed(
    capsys: Capsys, monkeypatch: pytest.MonkeyPatch, fake: FakeEndpoint
) -> None:
    monkeypatch.setenv("LLMPLANE_API_KEY", KEY)
    fake.script.require_token = KEY
    fake.script.echo_auth = True
    for flags in ((), ("--json",)):
        fake.script.burst = [500]
        result = llmplane(capsys, "smoke", "--url", fake.url, *flags)
        assert_one_line(result, 1, "generate: HTTP 500")
        _assert_no_key(result)
    assert {s.authorization for s in fake.seen} == {f"Bearer {KEY}"}


def test_bench_error_examples_are_redacted(
    capsys: Capsys, monkeypatch: pytest.MonkeyPatch, fake: FakeEndpoint
) -> None:
    monkeypatch.setenv("LLMPLANE_API_KEY", KEY)
    fake.script.require_token = KEY
    fake.script.echo_auth = True
    fake.script.burst = [500] * 6  # 2 warm-ups, then 4 of the 8 requests
    for flags in ((), ("--json",)):
        result = llmplane(
            capsys, "bench", "--url", fake.url, "--concurrency", "2", "--requests", "8", *flags
        )
        assert_one_line(result, 1, "error rate 50.0% is over --max-error-rate 1.0%", "http-500 x4")
        _assert_no_key(result)
        fake.script.burst = [500] * 6


def test_the_machines_hugging_face_token_is_never_sent(
    capsys: Capsys, monkeypatch: pytest.MonkeyPatch, fake: FakeEndpoint
) -> None:
    # huggingface_hub would send it to any URL; llmplane's endpoints have no use for it.
    monkeypatch.setenv("HF_TOKEN", "hf_MachineTokenThatMustStayHome")
    assert llmplane(capsys, "smoke", "--url", fake.url).code == 0
    assert (
        llmplane(capsys, "bench", "--url", fake.url, "--concurrency", "2", "--requests", "4").code
        == 0
    )
    assert {s.authorization for s in fake.seen} == {None}


def test_offline_mode_is_bad_input_not_a_failed_endpoint(fake: FakeEndpoint) -> None:
    result = console_script("smoke", "--url", fake.url, env={"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "HF_HUB_OFFLINE: is set" in result.stderr and result.stdout == ""
    assert fake.seen == []


def test_bench_refuses_an_endpoint_that_is_not_ready(capsys: Capsys, fake: FakeEndpoint) -> None:
    fake.script.loading = 1000
    result = llmplane(capsys, "bench", "--url", fake.url, "--concurrency", "2", "--requests", "4")
    assert_one_line(result, 1, f"bench failed for {fake.url}: health: HTTP 503", "llmplane smoke")
    assert result.stdout == ""


def test_bench_where_everything_fails_prints_the_report_and_exits_1(
    capsys: Capsys, fake: FakeEndpoint
) -> None:
    fake.script.malformed = {"sse"}
    result = llmplane(capsys, "bench", "--url", fake.url, "--concurrency", "2", "--requests", "4")
    assert_one_line(result, 1, "all 4 requests failed (malformed x4)")
    assert "errors: malformed x4" in result.stdout


def test_bench_prompt_file_and_tolerated_errors(
    capsys: Capsys, fake: FakeEndpoint, tmp_path: Path
) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("alpha\nbeta\n")
    fake.script.burst = [503] * 3  # 2 warm-ups, then 1 of the 10 requests
    result = llmplane(
        capsys, "bench", "--url", fake.url, "--concurrency", "2", "--requests", "10",
        "--prompt-file", str(prompts), "--max-error-rate", "0.1", "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    document = result.json()
    assert document["prompts"] == {"source": str(prompts), "count": 2}
    assert document["errors"] == {"http-503": 1} and document["errorRate"] == 0.1
    sent = [
        s.body["messages"][0]["content"]
        for s in fake.seen
        if s.body and s.body.get("max_tokens") == 128
    ]
    assert sorted(set(sent)) == ["alpha", "beta"] and len(sent) == 10


def test_smoke_waits_for_a_loading_endpoint_and_says_how_long(
    capsys: Capsys, fake: FakeEndpoint
) -> None:
    fake.script.loading = 2  # 0.25 s, then 0.5 s of backoff
    result = llmplane(capsys, "smoke", "--url", fake.url, "--wait", "5")
    assert result.code == 0, result.stderr
    assert "  ok       health           GET /health answered 200 (3 attempts)" in result.stdout


def test_bench_refuses_the_wrong_model_and_records_the_concurrency_there_was(
    capsys: Capsys, fake: FakeEndpoint
) -> None:
    fake.script.model_id = "org/other"
    args = ("bench", "--url", fake.url, "--concurrency", "8", "--requests", "3", "--json")
    result = llmplane(capsys, *args, "--model", MODEL)
    assert_one_line(result, 1, "bench failed", "model: serves org/other")
    assert "waits" not in result.stderr  # waiting would not help
    result = llmplane(capsys, *args)
    assert result.code == 0, result.stderr
    assert result.json()["concurrency"] == 3 and result.json()["model"] == "org/other"


def test_smoke_in_markdown_keeps_the_report_and_the_one_line(
    capsys: Capsys, fake: FakeEndpoint
) -> None:
    fake.script.model_id = "org/other"
    result = llmplane(capsys, "smoke", "--url", fake.url, "--model", MODEL, "--format", "markdown")
    # A failed run still prints its report, as a fenced block a pull request can quote.
    assert_one_line(result, 1, "model: serves org/other")
    assert result.stdout.startswith(f"### smoke {fake.url}\n\n```text\n")
    assert "  failed   model" in result.stdout and result.stdout.rstrip().endswith("```")


def test_bench_loads_a_stack_at_the_concurrency_it_was_sized_for(
    capsys: Capsys, fake: FakeEndpoint, tmp_path: Path
) -> None:
    from tests.conftest import STACKS

    stacks = tmp_path / "stacks"
    stacks.mkdir()
    text = (STACKS / "Pulumi.aws-dev.yaml").read_text().replace("concurrency: 2", "concurrency: 3")
    (stacks / "Pulumi.aws-dev.yaml").write_text(text)
    path = outputs_file(tmp_path, fake.url, engine="tgi")
    args = ("bench", "--stack", "aws-dev", "--outputs", str(path), "--requests", "9", "--json")
    shipped = llmplane(capsys, *args)
    assert shipped.code == 0, shipped.stderr
    assert shipped.json()["concurrency"] == 2  # stacks/Pulumi.aws-dev.yaml sizes for 2
    edited = llmplane(capsys, *args, "--stacks-dir", str(stacks))
    assert edited.code == 0, edited.stderr
    assert edited.json()["concurrency"] == 3
    missing = llmplane(capsys, *args, "--stacks-dir", str(tmp_path))
    assert_one_line(missing, 2, "llmplane bench: --concurrency: is required without")
