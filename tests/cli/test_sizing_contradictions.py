"""Stacks that can never serve are refused through the console script; the rest say what they hold.

Each contradiction of issue 15 exits 2 with one line naming the key, what it needs and what would
do; the advisories (a gated model without a token, an unchecked fit) show in `plan` and `check`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import assert_bad_input, run
from tests.conftest import write_stack

LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct"
LLAMA_70B = "meta-llama/Llama-3.1-70B-Instruct"
LLAMA_405B = "meta-llama/Llama-3.1-405B-Instruct"
AWS = {"llmplane:cloud": "aws", "aws:region": "us-east-1"}
EXISTING = {"llmplane:cloud": "kubernetes"}


def _aws(model: dict[str, Any], gpu: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {**AWS, "llmplane:model": model, "llmplane:gpu": gpu, **more}


def _existing(model: str, **gpu: Any) -> dict[str, Any]:
    return {**EXISTING, "llmplane:model": {"id": model}, "llmplane:gpu": gpu}


CONTRADICTIONS = [
    pytest.param(
        # One L4 holds 8B but not the KV of four full 8k requests within the margin.
        _aws({"id": LLAMA_8B}, {"shape": "g6.xlarge", "maxNodes": 2}),
        ("llmplane:gpu.shape", "1 x L4 of g6.xlarge cannot hold", "needs about 20.", "has 19.1",
         "smallest shapes in us-east-1 that fit: g6e.xlarge"),
        id="shape-too-small",
    ),
    pytest.param(
        # 70B on two A100 80 GB "fitted" at 71.71 of 72.0 GiB; the shape has eight.
        _aws({"id": LLAMA_70B}, {"shape": "p4de.24xlarge", "count": 2}),
        ("llmplane:gpu.count", "2 x A100 of p4de.24xlarge cannot hold", "set gpu.count to 4"),
        id="count-too-low",
    ),
    pytest.param(
        _aws({"id": "microsoft/Phi-3-mini-4k-instruct", "maxTotalTokens": 8192},
             {"shape": "g6.xlarge"}),
        ("llmplane:model.maxTotalTokens", "is 8192, above the 4096 tokens", "set it to 4096"),
        id="context-above-the-model",
    ),
    pytest.param(
        _aws({"id": LLAMA_8B, "concurrency": 2}, {"shape": "g6.xlarge", "maxNodes": 1},
             **{"llmplane:replicas": {"min": 2, "max": 2}}),
        ("llmplane:replicas.min", "is 2, but gpu.maxNodes (1)", "raise gpu.maxNodes to 2"),
        id="replicas-min-above-the-pool",
    ),
    pytest.param(
        _aws({"id": LLAMA_8B, "concurrency": 2}, {"shape": "g6.xlarge", "maxNodes": 2},
             **{"llmplane:replicas": {"min": 1, "max": 50}}),
        ("llmplane:replicas.max", "is 50", "hold at most 2 replica(s)", "raise gpu.maxNodes to 50"),
        id="replicas-max-above-the-pool",
    ),
    pytest.param(
        _aws({"id": "Qwen/Qwen2.5-7B-Instruct"}, {"shape": "p5.48xlarge", "count": 8}),
        ("llmplane:gpu.count", "does not split", "28 attention heads", "use one of: 1, 2, 4"),
        id="count-does-not-split-the-heads",
    ),
    pytest.param(
        {"llmplane:cloud": "azure", "azure-native:location": "eastus",
         "llmplane:model": {"id": LLAMA_405B}, "llmplane:gpu": {"shape": "auto", "maxNodes": 2}},
        ("llmplane:gpu.shape", "no single azure machine in eastus holds",
         "smallest layout is 2 x Standard_ND96amsr_A100_v4", "pipeline parallel 2",
         "/month per replica", "llmplane serves a replica on one node for now"),
        id="needs-a-multi-node-layout",
    ),
    pytest.param(
        _existing(LLAMA_405B, count=1, memoryGiB=80),
        ("llmplane:gpu.count", "1 x 80 GiB GPU cannot hold", "needs about 774.", "has 68.1",
         "it needs 2 nodes x 8 such GPUs", "cannot serve yet"),
        id="existing-cluster-gpus-too-small",
    ),
    pytest.param(
        _existing(LLAMA_405B, count=1),
        ("llmplane:gpu.count", "even of the largest GPU llmplane knows (H200",
         "set gpu.count to 8", "set gpu.memoryGiB"),
        id="existing-cluster-no-gpu-could-hold-it",
    ),
    pytest.param(
        _aws({"id": LLAMA_8B, "kvCacheDtype": "int8"}, {"shape": "g6e.xlarge"}),
        ("llmplane:model.kvCacheDtype", "use one of: auto, bf16, fp8"),
        id="kv-cache-dtype-unknown",
    ),
    pytest.param(
        _aws({"id": LLAMA_8B}, {"shape": "g6e.xlarge", "memoryGiB": 48}),
        ("llmplane:gpu.memoryGiB", "applies only to llmplane:cloud kubernetes"),
        id="gpu-memory-on-a-managed-cloud",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("config", "words"), CONTRADICTIONS)
def test_a_stack_that_cannot_serve_exits_2_with_one_line(
    tmp_path: Path, config: dict[str, Any], words: tuple[str, ...]
) -> None:
    write_stack(tmp_path, config, name="bad")
    result = run("plan", "--json", "--stacks-dir", str(tmp_path), "bad")
    assert_bad_input(result, "stack bad: ", *words)


def _plans(tmp_path: Path, stacks: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    for name, config in stacks.items():
        write_stack(tmp_path, config, name=name)
    result = run("plan", "--json", "--stacks-dir", str(tmp_path), *stacks)
    assert result.returncode == 0, result.stderr
    return {plan["stack"]: plan for plan in json.loads(result.stdout)["stacks"]}


def _engine(plan: dict[str, Any]) -> dict[str, Any]:
    (deployment,) = [
        r for r in plan["resources"]
        if r["type"] == "kubernetes:apps/v1:Deployment" and r["name"] == "llm"
    ]  # fmt: skip
    container: dict[str, Any] = deployment["inputs"]["spec"]["template"]["spec"]["containers"][0]
    return container


def _advisories(plan: dict[str, Any]) -> set[str]:
    return {v["policy"] for v in plan["violations"] if v["enforcement"] == "advisory"}


def test_existing_cluster_requests_follow_the_model_and_the_fit_is_checked(
    tmp_path: Path,
) -> None:
    plans = _plans(
        tmp_path,
        {
            "checked": _existing(LLAMA_8B, count=1, memoryGiB=80),
            # No gpu.memoryGiB: 405B on 8 GPUs could fit (8 x H200), so it plans, unchecked.
            "unchecked": _existing(LLAMA_405B, count=8),
        },
    )
    checked, unchecked = plans["checked"], plans["unchecked"]
    assert _engine(checked)["resources"]["requests"] == {"cpu": "4", "memory": "20Gi"}
    assert checked["outputs"]["gpu"]["fit"].startswith("checked")
    assert checked["outputs"]["gpu"]["estimate"]["headroomTokens"] > 0
    assert "gpu-fit-checked" not in _advisories(checked)
    # 405B: room to page in its 756 GiB of weights, 4 GiB per engine rank, /dev/shm; 4 cores/GPU.
    requests = _engine(unchecked)["resources"]["requests"]
    assert requests["cpu"] == "32"
    assert 780 <= int(requests["memory"].removesuffix("Gi")) <= 800
    assert unchecked["outputs"]["gpu"]["fit"] == (
        "unchecked: set llmplane:gpu.memoryGiB to the cluster's GPU memory"
    )
    assert "gpu-fit-checked" in _advisories(unchecked)


def test_plan_and_check_show_a_gated_model_without_a_token() -> None:
    result = run("plan", "--json", "aws-dev", "kubernetes-dev")
    assert result.returncode == 0, result.stderr
    plans = json.loads(result.stdout)["stacks"]
    # Every shipped stack serves a gated Llama and ships without llmplane:hfToken.
    assert all("gated-model-has-hf-token" in _advisories(plan) for plan in plans)
    # kubernetes-dev states no gpu.memoryGiB, so its fit is unchecked as well.
    assert {p["stack"]: "gpu-fit-checked" in _advisories(p) for p in plans} == {
        "aws-dev": False,
        "kubernetes-dev": True,
    }
    check = run("check", "aws-dev")
    assert check.returncode == 0, check.stderr
    assert "advisory gated-model-has-hf-token" in check.stdout


def test_a_token_silences_the_gated_advisory(tmp_path: Path) -> None:
    config = {
        **_existing(LLAMA_8B, count=1, memoryGiB=24),
        "llmplane:model": {"id": LLAMA_8B, "concurrency": 2},
        "llmplane:hfToken": {"secure": "v1:AAAAtokenCiphertext"},
    }
    plan = _plans(tmp_path, {"token": config})["token"]
    assert "gated-model-has-hf-token" not in _advisories(plan)


def test_the_kv_cache_dtype_reaches_the_engine_and_sizing(tmp_path: Path) -> None:
    plan = _plans(
        tmp_path,
        {"fp8kv": _aws({"id": LLAMA_8B, "kvCacheDtype": "fp8"}, {"shape": "g6.xlarge"})},
    )["fp8kv"]
    args = _engine(plan)["args"]
    assert args[args.index("--kv-cache-dtype") + 1] == "fp8_e4m3fn"
    # Four full 8k requests fit one L4 once their KV is one byte a value.
    assert plan["outputs"]["gpu"]["estimate"]["kvCacheDtype"] == "fp8"
    assert plan["outputs"]["gpu"]["estimate"]["concurrency"] == 4
    size = run("size", "--model", LLAMA_8B, "--kv-cache-dtype", "fp8", "--json")
    assert size.returncode == 0, size.stderr
    document = json.loads(size.stdout)
    assert document["kvBytesPerToken"] == 65536 and document["kvCacheDtype"] == "fp8"
    engines = document["suggested"]["engineArgs"]
    assert "fp8" in engines["vllm"] and "fp8_e4m3" in engines["sglang"]


def test_size_reports_headroom_and_the_fit_rule() -> None:
    result = run("size", "--model", LLAMA_70B, "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["fitMargin"] == 0.05 and document["singleNode"] is True
    a100 = next(f for f in document["fits"] if f["gpu"] == "A100" and f["gpuMemoryGiB"] == 80)
    assert a100["shards"] == 4  # not 2 at 71.71 of 72.0 GiB
    assert a100["headroomGiBPerGpu"] > 0 and a100["headroomTokens"] > 0
    table = run("size", "--model", LLAMA_70B)
    assert "headroom" in table.stdout and "within 95% of the engine's share" in " ".join(
        table.stdout.split()
    )


def test_size_and_compare_give_a_multi_node_layout_when_no_machine_holds_the_model() -> None:
    result = run("size", "--model", LLAMA_405B, "--context", "131072", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["singleNode"] is False and document["fits"] == []
    assert document["suggested"] is None
    first = document["multiNode"][0]
    assert (first["shape"], first["nodes"], first["tensorParallel"], first["pipelineParallel"]) == (
        "p5en.48xlarge",
        2,
        8,
        2,
    )
    assert first["cheapestUsdPerHour"] == pytest.approx(2 * 63.296)
    table = run("size", "--model", LLAMA_405B, "--context", "131072")
    assert "No single machine in llmplane's catalog holds" in " ".join(table.stdout.split())
    compare = run("compare", "--model", LLAMA_405B, "--regions", "eastus", "--format", "json")
    assert compare.returncode == 0, compare.stderr
    (row,) = json.loads(compare.stdout)["models"][0]["rows"]
    assert row["multiNode"] is True and row["pipelineNodes"] == 2 and row["nodes"] == 2
    assert row["usdPerHour"] == pytest.approx(2 * row["usdPerNodeHour"])


def test_compare_prices_packed_replicas_and_labels_the_concurrency() -> None:
    result = run(
        "compare",
        "--model",
        "mistralai/Mixtral-8x7B-Instruct-v0.1",
        "--regions",
        "us-east-1",
        "--replicas",
        "4",
        "--format",
        "markdown",
    )
    assert result.returncode == 0, result.stderr
    assert "$/1M tok @4" in result.stdout and "nodes (idle GPUs)" in result.stdout
    assert "p4de.24xlarge x2 | 1 (0)" in result.stdout


def test_kv_heads_that_do_not_divide_the_attention_heads_are_refused(tmp_path: Path) -> None:
    from llmplane.infra.sizing.models import MODELS

    config = json.loads((MODELS / "llama-3.1-8b.json").read_text())
    config["num_key_value_heads"] = 7  # for 32 attention heads
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    for command in ("size", "compare"):
        assert_bad_input(
            run(command, "--model-config", str(path)),
            "num_key_value_heads: is 7, which does not divide num_attention_heads (32)",
        )
