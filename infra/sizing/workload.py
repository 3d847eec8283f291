"""The workload a model is sized for, and the stated assumptions every estimate prints (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from .architecture import Architecture

__all__ = [
    "ACTIVATION_BYTES",
    "ASSUMPTIONS",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_CONTEXT",
    "DOWNLOAD_MB_S",
    "ETA",
    "FIT_MARGIN",
    "KV_BYTES",
    "KV_CACHE_DTYPES",
    "LOAD_GB_S",
    "MAX_PIPELINE_NODES",
    "MEMORY_FRACTION",
    "MIN_PREFILL_TOKENS",
    "MIN_STARTUP_SECONDS",
    "OVERHEAD_GIB",
    "STARTUP_MARGIN",
    "WARMUP_SECONDS",
    "KvCacheDtype",
    "Workload",
    "context_limit",
    "workload_for",
]

KvCacheDtype = Literal["auto", "bf16", "fp8"]
"""KV cache element types llmplane sizes: auto is the model's 16-bit dtype, as bf16 is."""
KV_CACHE_DTYPES: tuple[str, ...] = get_args(KvCacheDtype)

# --- Assumptions (each one is printed next to every estimate) ----------------------------
MEMORY_FRACTION = 0.90
"""Share of a GPU's usable memory the engine may claim (vLLM's default utilisation)."""
OVERHEAD_GIB = 1.0
"""Per-GPU runtime inside the engine's share: CUDA graphs, NCCL and allocator buffers. The CUDA
context and fragmentation live in the 10% the memory fraction leaves."""
ACTIVATION_BYTES = 2
"""Bytes per activation element (bf16) in the prefill peak: per prompt token of one prefill
batch, 4 hidden-size vectors held by every GPU plus 2 MLP-width vectors split over the shards."""
MIN_PREFILL_TOKENS = 4096
"""Smallest prefill batch llmplane configures (engine_limits), so activations are sized for it."""
FIT_MARGIN = 0.05
"""Share of the engine's budget a fit leaves unplanned: weights, runtime, activations and the
required KV may use 95% of it, because each of those is an estimate."""
KV_BYTES = {"auto": 2, "bf16": 2, "fp8": 1}
"""Bytes per KV cache element for each model.kvCacheDtype."""
MAX_PIPELINE_NODES = 16
"""Most nodes a multi-node layout may span (pipeline stages), when no single machine fits."""
DEFAULT_CONTEXT = 8192
"""Prompt plus answer, in tokens, when the stack does not set model.maxTotalTokens."""
DEFAULT_CONCURRENCY = 4
"""Full-length requests whose KV cache must fit at once: the headroom a shape must have."""
DOWNLOAD_MB_S = 150.0
"""Weights download speed from the Hugging Face Hub into a fresh node, MB/s."""
LOAD_GB_S = 1.0
"""Speed of reading weights from the node's disk into GPU memory, GB/s."""
WARMUP_SECONDS = 120
"""Engine warm-up after loading: CUDA graph capture, KV allocation, a prefill test."""
STARTUP_MARGIN = 1.5
"""Factor on the startup estimate before a pod is considered stuck."""
MIN_STARTUP_SECONDS = 600
"""Startup budget floor: even a small model gets ten minutes before a restart."""
ETA = 0.7
"""Share of HBM bandwidth decoding achieves (0.6-0.8 is typical of a bandwidth-bound step)."""
ASSUMPTIONS = {
    "memoryFraction": MEMORY_FRACTION,
    "overheadGiBPerGpu": OVERHEAD_GIB,
    "activations": f"{ACTIVATION_BYTES} bytes x (4 x hidden + 2 x MLP width / shards) per token "
    f"of a prefill batch (at least {MIN_PREFILL_TOKENS} tokens)",
    "fitMargin": FIT_MARGIN,
    "defaultContextTokens": DEFAULT_CONTEXT,
    "defaultConcurrency": DEFAULT_CONCURRENCY,
    "downloadMBps": DOWNLOAD_MB_S,
    "loadGBps": LOAD_GB_S,
    "warmupSeconds": WARMUP_SECONDS,
    "bandwidthEfficiency": ETA,
    "kvBytes": "2 per value (auto, bf16) or 1 (fp8)",
    "moeExpertsReadPerStep": "E x (1 - (1 - k/E)^c) per MoE layer: distinct experts that c "
    "streams of k picks each hit among E",
    "multiNode": f"tensor parallel within a node, pipeline parallel across up to "
    f"{MAX_PIPELINE_NODES} nodes",
}


@dataclass(frozen=True)
class Workload:
    """What the server must hold at once: the longest request and how many of them."""

    max_total_tokens: int
    """Longest prompt plus answer, in tokens."""
    max_input_tokens: int
    """Longest prompt, in tokens."""
    concurrency: int = DEFAULT_CONCURRENCY
    """Full-length requests whose KV cache must fit at the same time."""
    quantize: str | None = None
    """Quantization to serve with (llmplane's names), on top of the checkpoint's own."""
    kv_cache_dtype: KvCacheDtype = "auto"
    """Element type of the KV cache: auto (the model's 16-bit dtype), bf16 or fp8."""

    @property
    def kv_bytes(self) -> int:
        """Bytes per KV cache element."""
        return KV_BYTES[self.kv_cache_dtype]

    @property
    def prefill_tokens(self) -> int:
        """The largest prefill batch engine_limits may configure: what activations peak at."""
        return max(self.max_input_tokens + 50, MIN_PREFILL_TOKENS)


def workload_for(
    arch: Architecture,
    max_total_tokens: int | None = None,
    max_input_tokens: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    quantize: str | None = None,
    kv_cache_dtype: KvCacheDtype = "auto",
) -> Workload:
    """Defaults filled in: 8k context (within the model's own limit), prompts up to 3/4 of it."""
    total = max_total_tokens or min(DEFAULT_CONTEXT, context_limit(arch))
    prompt = max_input_tokens or max(1, total - max(256, total // 4))
    return Workload(
        total, min(prompt, total - 1) if total > 1 else 1, concurrency, quantize, kv_cache_dtype
    )


def context_limit(arch: Architecture) -> int:
    """The longest context the model supports: the position limit Architecture read."""
    return arch.max_context
