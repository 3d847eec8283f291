"""Engine command lines: each engine gets its own flags for the same request."""

from __future__ import annotations

import pytest

from llmplane.components.kubernetes.engines import ENGINES, QUANTIZATIONS, ServeRequest

REQUEST = ServeRequest(
    model_id="org/model",
    revision="abc123",
    shards=2,
    quantize="awq",
    max_input_tokens=4000,
    max_total_tokens=8000,
)


def _flag(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_tgi_args() -> None:
    args = ENGINES["tgi"].args(REQUEST)
    assert _flag(args, "--model-id") == "org/model"
    assert _flag(args, "--revision") == "abc123"
    assert _flag(args, "--num-shard") == "2"
    assert _flag(args, "--quantize") == "awq"
    assert _flag(args, "--max-input-tokens") == "4000"
    assert _flag(args, "--max-total-tokens") == "8000"
    # Kubernetes sets HOSTNAME to the pod name, which TGI would otherwise bind to.
    assert _flag(args, "--hostname") == "0.0.0.0"
    assert _flag(args, "--port") == str(ENGINES["tgi"].port)


def test_vllm_takes_the_model_as_its_first_argument() -> None:
    args = ENGINES["vllm"].args(REQUEST)
    assert args[0] == "org/model"
    assert "--model" not in args
    assert _flag(args, "--tensor-parallel-size") == "2"
    assert _flag(args, "--max-model-len") == "8000"
    assert _flag(args, "--quantization") == "awq"


def test_sglang_binds_all_interfaces_and_exports_metrics() -> None:
    args = ENGINES["sglang"].args(REQUEST)
    assert _flag(args, "--model-path") == "org/model"
    assert _flag(args, "--tp-size") == "2"
    assert _flag(args, "--host") == "0.0.0.0"
    assert "--enable-metrics" in args


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_unset_options_are_left_to_the_engine(engine: str) -> None:
    bare = ServeRequest("org/model", None, 1, None, None, None)
    args = ENGINES[engine].args(bare)
    for flag in (
        "--revision",
        "--quantize",
        "--quantization",
        "--max-model-len",
        "--context-length",
    ):
        assert flag not in args


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_images_are_pinned(engine: str) -> None:
    image = ENGINES[engine].image
    repository, _, tag = image.rpartition(":")
    assert repository and tag and tag != "latest"


def test_every_engine_maps_only_known_quantizations() -> None:
    for spec in ENGINES.values():
        assert set(spec.quantizations) <= set(QUANTIZATIONS)
