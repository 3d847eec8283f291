"""What differs between TGI, vLLM and SGLang: image, command line, port, health, queue metric."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["ENGINES", "QUANTIZATIONS", "Engine", "EngineSpec", "Flags", "ServeRequest"]

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
    """The engine-independent facts a server is started from, and what sizing found about them."""

    model_id: str
    """Hugging Face model id."""
    revision: str | None
    """Branch, tag or commit of the model repo; None for the default branch."""
    shards: int
    """GPUs per replica, the tensor-parallel degree."""
    quantize: str | None
    """llmplane's name of the quantization method, if any."""
    max_input_tokens: int | None
    """Longest prompt accepted; None leaves it to the engine."""
    max_total_tokens: int | None
    """Longest prompt plus answer; None leaves it to the engine."""
    batch_prefill_tokens: int | None = None
    """Most prompt tokens in one prefill batch, from sizing; None leaves it to the engine."""
    memory_fraction: float | None = None
    """Share of GPU memory the engine may claim, from sizing; None leaves it to the engine."""
    kv_cache_dtype: str = "auto"
    """llmplane's name of the KV cache element type; auto leaves it to the engine (16-bit)."""
    gated: bool | None = None
    """Whether the model's repo is gated on the Hub (a token is needed); None when unknown."""
    fit_checked: bool = True
    """Whether sizing checked the model against the GPUs' memory (False: unknown model or GPU)."""


@dataclass(frozen=True)
class Flags:
    """How one engine spells the options every engine has; None where it lacks one."""

    model: str | None
    """The model flag; None: the model id is the first positional argument."""
    shards: str
    """Tensor-parallel degree."""
    quantize: str
    """Quantization method."""
    max_total_tokens: str
    """Longest prompt plus answer."""
    max_input_tokens: str | None = None
    """Longest prompt; None where the engine has no such flag."""
    batch_prefill_tokens: str | None = None
    """Most prompt tokens in one prefill batch."""
    memory_fraction: str | None = None
    """Share of GPU memory the engine may claim."""
    kv_cache_dtype: str = "--kv-cache-dtype"
    """KV cache element type (every engine spells it so)."""
    revision: str = "--revision"
    """Model repo revision."""
    host: str = "--host"
    """Address to bind."""
    port: str = "--port"
    """Port to listen on."""
    extra: tuple[str, ...] = ()
    """Flags the engine always gets (e.g. SGLang's --enable-metrics)."""


@dataclass(frozen=True)
class EngineSpec:
    """One inference server: how to run it, where it listens, how it reports health and load."""

    name: Engine
    """The engine, as `llmplane:engine` names it."""
    image: str
    """Container image, pinned to a release."""
    command: tuple[str, ...]
    """The server executable; arguments come from `args`."""
    port: int
    """Port the server listens on inside the pod."""
    health_path: str
    """HTTP path that answers 200 once the model is loaded."""
    queue_metric: str
    """Prometheus metric of waiting requests, for autoscaling."""
    quantizations: Mapping[str, str]
    """llmplane's quantization names mapped to the engine's own."""
    kv_cache_dtypes: Mapping[str, str | None]
    """llmplane's KV cache element types mapped to the engine's own; None: pass no flag."""
    flags: Flags
    """How the engine spells the common options."""

    def args(self, request: ServeRequest) -> list[str]:
        """The server's command-line arguments for one model."""
        flags = self.flags
        quantize = self.quantizations[request.quantize] if request.quantize else None
        kv_dtype = self.kv_cache_dtypes[request.kv_cache_dtype]
        model = [request.model_id] if flags.model is None else [flags.model, request.model_id]
        return [
            *model,
            *_optional(flags.revision, request.revision),
            flags.shards, str(request.shards),
            *_optional(flags.quantize, quantize),
            *_optional(flags.max_input_tokens, request.max_input_tokens),
            *_optional(flags.max_total_tokens, request.max_total_tokens),
            *_optional(flags.batch_prefill_tokens, request.batch_prefill_tokens),
            *_optional(flags.memory_fraction, request.memory_fraction),
            *_optional(flags.kv_cache_dtype, kv_dtype),
            *flags.extra,
            # Bind every interface: Kubernetes sets HOSTNAME to the pod name, which TGI reads as
            # its bind address, and SGLang binds 127.0.0.1 unless told otherwise.
            flags.host, "0.0.0.0",
            flags.port, str(self.port),
        ]  # fmt: skip


def _optional(flag: str | None, value: object | None) -> list[str]:
    """`[flag, value]`, or nothing when the engine lacks the flag or the stack leaves it unset."""
    return [] if flag is None or value is None else [flag, str(value)]


def _same_names(*names: str) -> dict[str, str]:
    """A quantization map for an engine that spells these methods as llmplane does."""
    return {name: name for name in names}


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
        quantizations=_same_names(*QUANTIZATIONS),
        # The launcher takes fp8_e4m3fn or fp8_e5m2 only; with no flag the cache keeps the
        # model's 16-bit dtype, which is what bf16 asks for (2 bytes a value either way).
        kv_cache_dtypes={"auto": None, "bf16": None, "fp8": "fp8_e4m3fn"},
        flags=Flags(
            model="--model-id",
            shards="--num-shard",
            quantize="--quantize",
            max_input_tokens="--max-input-tokens",
            max_total_tokens="--max-total-tokens",
            batch_prefill_tokens="--max-batch-prefill-tokens",
            memory_fraction="--cuda-memory-fraction",
            host="--hostname",
        ),
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
        quantizations=_same_names("awq", "gptq", "fp8", "bitsandbytes", "compressed-tensors"),
        # vLLM's CacheDType: auto, bfloat16, fp8 (e4m3), fp8_e4m3, fp8_e5m2, ...
        kv_cache_dtypes={"auto": None, "bf16": "bfloat16", "fp8": "fp8"},
        flags=Flags(
            model=None,
            shards="--tensor-parallel-size",
            quantize="--quantization",
            max_total_tokens="--max-model-len",
            batch_prefill_tokens="--max-num-batched-tokens",
            memory_fraction="--gpu-memory-utilization",
        ),
    ),
    "sglang": EngineSpec(
        name="sglang",
        # v0.5.21 was pushed 2026-10-01; SGLang images ship CUDA 13 (driver R580+).
        image="lmsysorg/sglang:v0.5.21",
        command=("python3", "-m", "sglang.launch_server"),
        port=30000,
        health_path="/health",
        queue_metric="sglang:num_queue_reqs",
        quantizations=_same_names("awq", "gptq", "fp8"),
        # SGLang's --kv-cache-dtype: auto, fp8_e5m2, fp8_e4m3, bf16, bfloat16, fp4_e2m1.
        kv_cache_dtypes={"auto": None, "bf16": "bf16", "fp8": "fp8_e4m3"},
        flags=Flags(
            model="--model-path",
            shards="--tp-size",
            quantize="--quantization",
            max_total_tokens="--context-length",
            batch_prefill_tokens="--chunked-prefill-size",
            memory_fraction="--mem-fraction-static",
            extra=("--enable-metrics",),
        ),
    ),
}
