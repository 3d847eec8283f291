"""Weights streamed from a bucket with the Run:ai Model Streamer: the engine arguments and env.

Pure: no Pulumi resources. vLLM and SGLang load safetensors straight from `s3://`, `gs://` or
`az://` URIs with `--load-format runai_streamer`; TGI has no such loader. Sources and their
commits are in tests/conformance/research/warm-weights.md.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from .engines import ServeRequest

__all__ = [
    "DEFAULT_BUFFER_GIB",
    "DEFAULT_CONCURRENCY",
    "SCHEMES",
    "STREAMING_ENGINES",
    "StreamerPlan",
    "streamed_request",
    "streamer_plan",
]

# The URI schemes the streamer reads (runai-model-streamer's s3_utils, vLLM's and SGLang's
# runai_utils.SUPPORTED_SCHEMES), and the cloud each belongs to.
SCHEMES = {"s3://": "aws", "gs://": "gcp", "az://": "azure"}
# The engines whose `--load-format` accepts runai_streamer.
STREAMING_ENGINES = ("vllm", "sglang")
# Reader threads (and, for object stores, client connections); the engines' documented example.
DEFAULT_CONCURRENCY = 16
# The streamer's CPU staging buffer. Its own default is 40 GB (unlimited when distributed), more
# than a 16 GiB engine pod holds, so llmplane always bounds it.
DEFAULT_BUFFER_GIB = 4
_GIB = 1024**3


@dataclass(frozen=True)
class StreamerPlan:
    """What an engine needs to stream one model from a bucket."""

    model: str
    """The bucket URI, in the model's place on the command line."""
    args: tuple[str, ...]
    """Engine arguments: the load format, the streamer's tuning, the name clients call."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Env the streamer reads (the Azure account name); credentials come from workload identity."""


def _scheme(uri: str) -> str:
    """The URI's scheme, checked: a bucket (container) name must follow it."""
    for scheme in SCHEMES:
        if uri.startswith(scheme):
            bucket = uri.removeprefix(scheme).split("/", 1)[0]
            if not bucket:
                raise ValueError(f"weights URI {uri!r} names no bucket after {scheme}")
            return scheme
    raise ValueError(
        f"weights URI {uri!r} must start with one of {', '.join(SCHEMES)} (the Run:ai Model "
        "Streamer reads S3, Cloud Storage and Azure Blob Storage)"
    )


def streamer_plan(
    engine: str,
    uri: str,
    served_model_name: str,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    buffer_gib: int = DEFAULT_BUFFER_GIB,
    azure_account: str | None = None,
) -> StreamerPlan:
    """The arguments and env that make `engine` stream the model at `uri`; ValueError otherwise.

    `served_model_name` keeps the name clients send in `model` (the Hub id) although the engine
    loads from a URI. `azure_account` is required for `az://` URIs: the streamer finds the
    storage account only through AZURE_STORAGE_ACCOUNT_NAME.
    """
    if engine not in STREAMING_ENGINES:
        raise ValueError(
            f"engine {engine!r} cannot stream weights from a bucket: only "
            f"{' and '.join(STREAMING_ENGINES)} have the Run:ai Model Streamer "
            "(--load-format runai_streamer); TGI has no such loader"
        )
    scheme = _scheme(uri)
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency}")
    if buffer_gib < 1:
        raise ValueError(f"buffer_gib must be at least 1, not {buffer_gib}")
    if not served_model_name:
        raise ValueError("served_model_name is empty; pass the model id clients call")
    env: dict[str, str] = {}
    if scheme == "az://":
        if not azure_account:
            raise ValueError(
                f"weights URI {uri!r} is in Azure Blob Storage: pass azure_account, the storage "
                "account's name (the streamer reads it from AZURE_STORAGE_ACCOUNT_NAME)"
            )
        env["AZURE_STORAGE_ACCOUNT_NAME"] = azure_account
    elif azure_account is not None:
        raise ValueError(f"azure_account is only for az:// URIs, not {uri!r}")
    tuning = json.dumps(
        {"concurrency": concurrency, "memory_limit": buffer_gib * _GIB}, sort_keys=True
    )
    # Both engines infer the format from the URI in newer releases; saying it keeps an older one
    # from reading the URI as a Hub id.
    args = ("--load-format", "runai_streamer", "--model-loader-extra-config", tuning)
    return StreamerPlan(
        model=uri,
        args=(*args, "--served-model-name", served_model_name),
        env=env,
    )


def streamed_request(request: ServeRequest, uri: str) -> ServeRequest:
    """The request with the URI as its model and no Hub revision (the bucket holds one copy)."""
    _scheme(uri)
    return dataclasses.replace(request, model_id=uri, revision=None)
