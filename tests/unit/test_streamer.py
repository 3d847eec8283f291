"""Streaming weights from a bucket: the engine arguments and env, per engine and per cloud."""

from __future__ import annotations

import json

import pytest

from llmplane.components.kubernetes.engines import ENGINES, ServeRequest
from llmplane.components.kubernetes.streamer import (
    DEFAULT_BUFFER_GIB,
    DEFAULT_CONCURRENCY,
    STREAMING_ENGINES,
    streamed_request,
    streamer_plan,
)

MODEL = "Qwen/Qwen2.5-7B-Instruct"
URIS = {
    "aws": "s3://llm-weights/Qwen/Qwen2.5-7B-Instruct",
    "gcp": "gs://llm-weights/Qwen/Qwen2.5-7B-Instruct",
    "azure": "az://weights/Qwen/Qwen2.5-7B-Instruct",
}
REQUEST = ServeRequest(
    model_id=MODEL,
    revision="a09a35458c702b33eeacc393d103063234e8bc28",
    shards=2,
    quantize=None,
    max_input_tokens=None,
    max_total_tokens=8192,
)


def _flag(args: tuple[str, ...] | list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


@pytest.mark.parametrize("engine", STREAMING_ENGINES)
@pytest.mark.parametrize("cloud", sorted(URIS))
def test_each_streaming_engine_gets_the_runai_loader_and_keeps_the_served_name(
    engine: str, cloud: str
) -> None:
    uri = URIS[cloud]
    account = "llmweights" if cloud == "azure" else None
    plan = streamer_plan(engine, uri, MODEL, azure_account=account)
    assert plan.model == uri
    assert _flag(plan.args, "--load-format") == "runai_streamer"
    # Clients keep calling the Hub id, although the engine loads from the URI.
    assert _flag(plan.args, "--served-model-name") == MODEL
    tuning = json.loads(_flag(plan.args, "--model-loader-extra-config"))
    assert tuning == {
        "concurrency": DEFAULT_CONCURRENCY,
        "memory_limit": DEFAULT_BUFFER_GIB * 1024**3,
    }
    assert plan.env == ({"AZURE_STORAGE_ACCOUNT_NAME": "llmweights"} if account else {})


@pytest.mark.parametrize("engine", STREAMING_ENGINES)
def test_the_command_line_loads_the_uri_with_no_hub_revision(engine: str) -> None:
    spec = ENGINES[engine]
    uri = URIS["aws"]
    plan = streamer_plan(engine, uri, MODEL)
    args = [*spec.args(streamed_request(REQUEST, uri)), *plan.args]
    # vLLM takes the model positionally, SGLang after --model-path.
    model = args[0] if spec.flags.model is None else _flag(args, spec.flags.model)
    assert model == uri
    assert spec.flags.revision not in args, "a Hub revision means nothing to a bucket"
    assert _flag(args, spec.flags.shards) == "2", "the rest of the request is untouched"
    assert args.count("--load-format") == 1


def test_tgi_is_refused_it_has_no_streamer() -> None:
    with pytest.raises(ValueError, match="TGI has no such loader"):
        streamer_plan("tgi", URIS["aws"], MODEL)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("https://bucket/model", "must start with one of s3://, gs://, az://"),
        ("s3:///model", "names no bucket"),
        ("Qwen/Qwen2.5-7B-Instruct", "must start with one of"),
    ],
)
def test_a_uri_the_streamer_cannot_read_is_refused(uri: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        streamer_plan("vllm", uri, MODEL)
    with pytest.raises(ValueError, match=message):
        streamed_request(REQUEST, uri)


def test_azure_needs_the_account_name_and_only_azure_takes_one() -> None:
    with pytest.raises(ValueError, match="AZURE_STORAGE_ACCOUNT_NAME"):
        streamer_plan("vllm", URIS["azure"], MODEL)
    with pytest.raises(ValueError, match="only for az://"):
        streamer_plan("vllm", URIS["gcp"], MODEL, azure_account="llmweights")


def test_tuning_is_bounded_and_checked() -> None:
    plan = streamer_plan("sglang", URIS["gcp"], MODEL, concurrency=32, buffer_gib=8)
    tuning = json.loads(_flag(plan.args, "--model-loader-extra-config"))
    assert tuning == {"concurrency": 32, "memory_limit": 8 * 1024**3}
    with pytest.raises(ValueError, match="concurrency"):
        streamer_plan("vllm", URIS["gcp"], MODEL, concurrency=0)
    with pytest.raises(ValueError, match="buffer_gib"):
        streamer_plan("vllm", URIS["gcp"], MODEL, buffer_gib=0)
    with pytest.raises(ValueError, match="served_model_name"):
        streamer_plan("vllm", URIS["gcp"], "")
