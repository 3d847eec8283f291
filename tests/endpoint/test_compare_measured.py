"""`llmplane compare --measured`: a bench result replaces the estimated tokens/s, and says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.endpoint.conftest import assert_one_line, llmplane, outputs_file
from tests.endpoint.fake_server import MODEL, FakeEndpoint

Capsys = pytest.CaptureFixture[str]
L4 = {"shape": "g6.xlarge", "gpusPerReplica": 1}


def bench_file(tmp_path: Path, **changes: Any) -> Path:
    """A bench result as `llmplane bench --json` writes it, with some fields changed."""
    document: dict[str, Any] = {
        "schema": "llmplane.bench/1",
        "measured": True,
        "model": MODEL,
        "engine": "vllm",
        "cloud": "aws",
        "gpu": L4,
        "concurrency": 16,
        "succeeded": 200,
        "errorRate": 0.0,
        "outputTokensPerSecond": 512.5,
        "finishedAt": "2026-05-01T10:00:00+00:00",
    }
    document.update(changes)
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(document))
    return path


def compare_json(capsys: Capsys, *args: str) -> list[dict[str, Any]]:
    result = llmplane(capsys, "compare", "--model", MODEL, "--format", "json", *args)
    assert result.code == 0, result.stderr
    (document,) = result.json()["models"]
    return [document, *document["rows"]]


def test_measured_speed_replaces_the_estimate_on_the_gpu_it_ran_on(
    capsys: Capsys, tmp_path: Path
) -> None:
    estimated = {(r["cloud"], r["region"]): r for r in compare_json(capsys)[1:]}
    document, *rows = compare_json(capsys, "--measured", str(bench_file(tmp_path)))
    assert document["measured"]["tokensPerSecond"] == 512.5
    assert document["measured"]["gpu"] == "L4" and document["measured"]["shards"] == 1
    measured = [r for r in rows if r["tokensPerSecondSource"] == "measured"]
    assert measured, "aws serves this model on g6.xlarge (L4 x1) somewhere"
    for row in rows:
        before = estimated[(row["cloud"], row["region"])]
        if row["gpu"] == "L4" and row["shards"] == 1:
            assert row["tokensPerSecondSource"] == "measured"
            assert row["tokensPerSecond"] == 512.5
            # $/1M tok follows from the measured speed; the money per hour does not change.
            expected = row["usdPerHour"] / (512.5 * 3600) * 1e6
            assert row["usdPerMillionTokens"] == pytest.approx(expected, abs=1e-4)
            assert row["usdPerMillionTokens"] != before["usdPerMillionTokens"]
        else:
            assert row["tokensPerSecondSource"] == "estimate"
            assert row["tokensPerSecond"] == before["tokensPerSecond"]
        assert row["usdPerMonth"] == before["usdPerMonth"]


def test_without_a_recorded_gpu_every_row_of_the_model_is_measured(
    capsys: Capsys, tmp_path: Path
) -> None:
    path = bench_file(tmp_path, cloud=None, gpu=None)
    _, *rows = compare_json(capsys, "--measured", str(path))
    assert {r["tokensPerSecondSource"] for r in rows} == {"measured"}


def test_table_and_markdown_mark_measured_figures(capsys: Capsys, tmp_path: Path) -> None:
    path = str(bench_file(tmp_path, errorRate=0.02))
    table = llmplane(
        capsys, "compare", "--model", MODEL, "--regions", "us-east-1", "--measured", path
    )
    assert table.code == 0, table.stderr
    text = " ".join(table.stdout.split())
    assert "tok/s measured where marked m" in text and "512 m" in text
    assert "m = measured by llmplane bench" in text and "2.0% of its requests failed" in text
    markdown = llmplane(
        capsys, "compare", "--model", MODEL, "--regions", "us-east-1", "--measured", path,
        "--format", "markdown",
    )  # fmt: skip
    assert "| 512 m |" in markdown.stdout
    assert "except the tok/s marked m" in markdown.stdout


def test_without_measured_nothing_is_marked(capsys: Capsys) -> None:
    document, *rows = compare_json(capsys, "--regions", "us-east-1")
    assert document["measured"] is None
    assert {r["tokensPerSecondSource"] for r in rows} == {"estimate"}


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"model": "meta-llama/Llama-3.1-8B-Instruct"}, ("not among the compared models",)),
        ({"gpu": {"shape": "p5.48xlarge", "gpusPerReplica": 8}}, ("H100 x8", "no compared row")),
        ({"measured": False}, ('no "measured": true',)),
        ({"schema": "other/1"}, ("schema",)),
        ({"succeeded": 0}, ("no successful request",)),
        ({"outputTokensPerSecond": "fast"}, ("no measured tokens/s",)),
    ],
)
def test_unusable_bench_results_are_bad_input(
    capsys: Capsys, tmp_path: Path, changes: dict[str, Any], words: tuple[str, ...]
) -> None:
    path = bench_file(tmp_path, **changes)
    result = llmplane(capsys, "compare", "--model", MODEL, "--measured", str(path))
    assert_one_line(result, 2, "--measured", *words)
    assert result.stdout == ""


def test_a_file_that_is_not_json_is_bad_input(capsys: Capsys, tmp_path: Path) -> None:
    path = tmp_path / "bench.json"
    path.write_text("p50 0.1s")
    assert_one_line(
        llmplane(capsys, "compare", "--model", MODEL, "--measured", str(path)), 2, "not JSON"
    )


def test_bench_then_compare(capsys: Capsys, fake: FakeEndpoint, tmp_path: Path) -> None:
    # The whole path: bench a stack (its outputs name cloud and GPU), then compare with it.
    outputs = outputs_file(tmp_path, fake.url, gpu=L4)
    result = llmplane(
        capsys, "bench", "--stack", "aws-dev", "--outputs", str(outputs),
        "--concurrency", "4", "--requests", "40", "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    measured = result.json()
    assert (measured["stack"], measured["cloud"], measured["gpu"]) == ("aws-dev", "aws", L4)
    path = tmp_path / "bench.json"
    path.write_text(result.stdout)
    _, *rows = compare_json(capsys, "--measured", str(path))
    speeds = {r["tokensPerSecond"] for r in rows if r["tokensPerSecondSource"] == "measured"}
    assert speeds == {round(measured["outputTokensPerSecond"], 1)}
