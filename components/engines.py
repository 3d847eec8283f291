"""What differs between TGI, vLLM and SGLang: image, command line, port, health, queue metric."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

Engine = Literal["tgi", "vllm", "sglang"]

# llmplane's quantization names are TGI's `--quantize` values; each engine maps those it supports.
QUANTIZATIONS: tuple[str, ...] = (
    "awq",
    "gptq",
    "marlin",
    "exl2",
    "eetq",
    "bitsandbytes",
    "bitsandbytes-nf4",
    "bitsandbytes-fp4",
    "fp8",
    "compressed-tensors",
)


@dataclass(frozen=True)
class ServeRequest:
    """The engine-independent facts a server command line is built from."""

    model_id: str
    revision: str | None
    shards: int
    quantize: str | None
    max_input_tokens: int | None
    max_total_tokens: int | None


@dataclass(frozen=True)
class EngineSpec:
    """One inference server: how to run it, where it listens, how it reports health and load."""

    name: Engine
    image: str
    command: tuple[str, ...]
    port: int
    health_path: str
    queue_metric: str
    quantizations: Mapping[str, str]
    build_args: Callable[[ServeRequest, EngineSpec], list[str]]

    def args(self, request: ServeRequest) -> list[str]:
        """The server's command-line arguments for one model."""
        return self.build_args(request, self)


def _optional(flag: str, value: object | None) -> list[str]:
    return [] if value is None else [flag, str(value)]


def _tgi_args(request: ServeRequest, spec: EngineSpec) -> list[str]:
    quantize = spec.quantizations[request.quantize] if request.quantize else None
    return [
        "--model-id", request.model_id,
        *_optional("--revision", request.revision),
        "--num-shard", str(request.shards),
        *_optional("--quantize", quantize),
        *_optional("--max-input-tokens", request.max_input_tokens),
        *_optional("--max-total-tokens", request.max_total_tokens),
        # Kubernetes sets HOSTNAME to the pod name and TGI reads it as its bind address;
        # pin the address so probes and the Service always reach it.
        "--hostname", "0.0.0.0",
        "--port", str(spec.port),
    ]  # fmt: skip


def _vllm_args(request: ServeRequest, spec: EngineSpec) -> list[str]:
    quantize = spec.quantizations[request.quantize] if request.quantize else None
    return [
        request.model_id,
        *_optional("--revision", request.revision),
        "--tensor-parallel-size", str(request.shards),
        *_optional("--quantization", quantize),
        *_optional("--max-model-len", request.max_total_tokens),
        "--host", "0.0.0.0",
        "--port", str(spec.port),
    ]  # fmt: skip


def _sglang_args(request: ServeRequest, spec: EngineSpec) -> list[str]:
    quantize = spec.quantizations[request.quantize] if request.quantize else None
    return [
        "--model-path", request.model_id,
        *_optional("--revision", request.revision),
        "--tp-size", str(request.shards),
        *_optional("--quantization", quantize),
        *_optional("--context-length", request.max_total_tokens),
        "--enable-metrics",
        # SGLang binds 127.0.0.1 by default, which nothing outside the container can reach.
        "--host", "0.0.0.0",
        "--port", str(spec.port),
    ]  # fmt: skip


ENGINES: dict[str, EngineSpec] = {
    "tgi": EngineSpec(
        name="tgi",
        # TGI is archived upstream (maintenance mode 2025-12-11, archived 2026-03-21); 3.3.7
        # (2025-12-19) is its last release. New deployments should prefer vllm or sglang.
        image="ghcr.io/huggingface/text-generation-inference:3.3.7",
        command=("text-generation-launcher",),
        # Above 1024 so the server never needs NET_BIND_SERVICE as a non-root user.
        port=8080,
        health_path="/health",
        queue_metric="tgi_queue_size",
        quantizations={q: q for q in QUANTIZATIONS},
        build_args=_tgi_args,
    ),
    "vllm": EngineSpec(
        name="vllm",
        # v0.31.0 was pushed 2026-10-04; its default build targets CUDA 13 (driver R580+).
        image="vllm/vllm-openai:v0.31.0",
        # `vllm serve` takes the model as its first positional argument; --model is deprecated.
        command=("vllm", "serve"),
        port=8000,
        health_path="/health",
        queue_metric="vllm:num_requests_waiting",
        quantizations={
            "awq": "awq",
            "gptq": "gptq",
            "fp8": "fp8",
            "bitsandbytes": "bitsandbytes",
            "compressed-tensors": "compressed-tensors",
        },
        build_args=_vllm_args,
    ),
    "sglang": EngineSpec(
        name="sglang",
        # v0.5.21 was pushed 2026-10-01; SGLang images ship CUDA 13 (driver R580+).
        image="lmsysorg/sglang:v0.5.21",
        command=("python3", "-m", "sglang.launch_server"),
        port=30000,
        health_path="/health",
        queue_metric="sglang:num_queue_reqs",
        quantizations={"awq": "awq", "gptq": "gptq", "fp8": "fp8"},
        build_args=_sglang_args,
    ),
}
