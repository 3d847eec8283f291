"""`llmplane bench`: closed-loop load through AsyncInferenceClient; latency, TTFT, tokens/s, errors.

`concurrency` workers each send streamed chat completions, one after another, until `requests`
have been sent; prompts cycle in order. Every request is timed from sending to the end of its
stream; time to first token is the first chunk carrying text. Output tokens are the server's
count (`stream_options.include_usage`, which TGI, vLLM and SGLang honour), else the chunks
with text (about one token each).

JSON document (`llmplane bench --json`), the input of `llmplane compare --measured`:

    {"schema": "llmplane.bench/1", "measured": true,
     "url": endpoint without credentials, "stack", "cloud", "engine", "model",
     "gpu": {"shape", "gpusPerReplica"} or null (from the stack's outputs),
     "api": "chat-completions-stream", "concurrency", "requests", "maxNewTokens",
     "prompts": {"source": "built-in" or the file, "count"},
     "startedAt", "finishedAt" (UTC, ISO 8601), "wallSeconds", "warmupRequests" (one per
     worker, untimed), "clientCpuShare" (CPU seconds of the client / wallSeconds),
     "succeeded", "failed", "errorRate" (failed / requests),
     "errors": {kind: count}, "errorExamples": {kind: one line},
     "latencySeconds", "ttftSeconds", "perRequestTokensPerSecond":
         {"p50", "p90", "p99", "mean", "min", "max"} over succeeded requests, or null,
     "outputTokens": total over succeeded requests, "tokenCount": "usage", "chunks" or "mixed",
     "outputTokensPerSecond": outputTokens / wallSeconds, the whole endpoint's throughput}

Percentiles interpolate linearly between the sorted samples (numpy's default method).
Per-request tokens/s is a stream's decode speed: tokens after the first over the time after it.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config.errors import SettingsError
from .client import Failure, Malformed, async_inference_client, classify
from .stream import StreamTally, add_chunk
from .target import Target

SCHEMA = "llmplane.bench/1"
API = "chat-completions-stream"
WARMUP_PROMPT = "Say OK."
# Above this share of one CPU, the client itself, not the endpoint, may set the pace.
CLIENT_BOUND_SHARE = 0.9
BUILTIN_PROMPTS = (
    "Explain in one paragraph why the sky is blue.",
    "Write a short poem about a lighthouse keeper.",
    "List five uses of a paperclip, one per line.",
    "Summarise the plot of Romeo and Juliet in three sentences.",
    "What is the difference between a list and a tuple in Python?",
    "Describe how a bicycle gear system works.",
    "Give three tips for writing clear technical documentation.",
    "Translate 'good morning, how are you?' into French, Spanish and German.",
)


@dataclass(frozen=True)
class LoadSpec:
    """What to send: how many requests, how many at once, and which prompts."""

    concurrency: int
    requests: int
    max_new_tokens: int
    timeout: float
    """Seconds without a byte from the server before a request counts as timed out."""
    prompts: tuple[str, ...] = BUILTIN_PROMPTS
    prompt_source: str = "built-in"


@dataclass(frozen=True)
class Outcome:
    """One request: how long it took, when its first token came, and how it ended."""

    latency: float
    """Seconds from sending to the end of the stream (or to the failure)."""
    ttft: float | None
    """Seconds to the first chunk with text; None if none came."""
    tokens: int
    """Output tokens received."""
    counted_by: str
    """usage (the server's count) or chunks."""
    error: Failure | None = None
    """Why it failed; None if it succeeded."""


@dataclass(frozen=True)
class LoadRun:
    """Every request's outcome, and when the run began and ended."""

    outcomes: list[Outcome]
    wall_seconds: float
    started_at: datetime
    finished_at: datetime
    client_cpu_seconds: float
    """CPU time this process spent during the run: near wall_seconds, the client was the limit."""
    warmup_requests: int
    """Untimed requests sent first, one per worker."""


def read_prompts(path: Path) -> tuple[str, ...]:
    """One prompt per line, blank lines skipped; SettingsError if there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise SettingsError(
            "-", "--prompt-file", f"{path} cannot be read ({reason})", "check the path"
        ) from None
    prompts = tuple(line.strip() for line in text.splitlines() if line.strip())
    if not prompts:
        raise SettingsError(
            "-", "--prompt-file", f"{path} holds no prompt", "write one prompt per line"
        )
    return prompts


def run_load(
    target: Target, model: str | None, spec: LoadSpec, on_done: Callable[[Outcome], None]
) -> LoadRun:
    """Send spec.requests streamed chat completions, spec.concurrency at a time."""
    # Not asyncio.run: it leaves the thread with no current event loop, and code that runs later
    # in the same process (the Pulumi runtime, under the tests) expects to find one.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_run_load(target, model, spec, on_done))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _run_load(
    target: Target, model: str | None, spec: LoadSpec, on_done: Callable[[Outcome], None]
) -> LoadRun:
    outcomes: list[Outcome | None] = [None] * spec.requests
    # One iterator shared by the workers: asyncio switches only at awaits, so each index is
    # taken exactly once.
    indices = iter(range(spec.requests))
    # Workers rather than one task per request under a semaphore: each worker keeps its client
    # and connection, as a real caller would.
    clients = [
        async_inference_client(target, spec.timeout)
        for _ in range(min(spec.concurrency, spec.requests))
    ]

    async def worker(client: Any) -> None:
        for index in indices:
            prompt = spec.prompts[index % len(spec.prompts)]
            outcome = await _one(client, target, model, prompt, spec.max_new_tokens)
            outcomes[index] = outcome
            on_done(outcome)
            if outcome.error is not None and not outcome.error.kind.startswith("http-"):
                # A stream that broke off stays open in huggingface_hub's client until the
                # client closes, holding a connection; a fresh client holds none.
                await client.close()
                client = async_inference_client(target, spec.timeout)
        await client.close()

    # Warm-up, not counted: a client's first request builds its TLS context, which blocks the
    # event loop for tens of milliseconds and would land in other requests' latencies.
    await asyncio.gather(*(_one(c, target, model, WARMUP_PROMPT, 1) for c in clients))
    started_at = datetime.now(UTC)
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(client) for client in clients))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    done = [outcome for outcome in outcomes if outcome is not None]
    assert len(done) == spec.requests, "every request index is taken by one worker"
    return LoadRun(done, wall, started_at, datetime.now(UTC), cpu, len(clients))


async def _one(
    client: Any, target: Target, model: str | None, prompt: str, max_new_tokens: int
) -> Outcome:
    from huggingface_hub import ChatCompletionInputStreamOptions

    started = time.perf_counter()
    tally = StreamTally()
    try:
        stream = await client.chat_completion(
            [{"role": "user", "content": prompt}],
            model=model,
            max_tokens=max_new_tokens,
            stream=True,
            stream_options=ChatCompletionInputStreamOptions(include_usage=True),
        )
        async for chunk in stream:
            add_chunk(tally, chunk, started)
        if tally.first is None or tally.finish is None:
            raise Malformed("the stream ended before a token and a finish_reason")
    except Exception as error:
        failure = classify(error, target)
        return Outcome(time.perf_counter() - started, tally.first, tally.tokens, "", failure)
    return Outcome(time.perf_counter() - started, tally.first, tally.tokens, tally.counted_by)


def percentiles(values: Sequence[float]) -> dict[str, float] | None:
    """p50, p90, p99 (linear interpolation), mean, min and max; None for no values."""
    if not values:
        return None
    if len(values) == 1:
        cuts = [values[0]] * 99
    else:
        cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50": round(cuts[49], 4),
        "p90": round(cuts[89], 4),
        "p99": round(cuts[98], 4),
        "mean": round(statistics.fmean(values), 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
    }


def summary(
    run: LoadRun, target: Target, engine: str | None, model: str | None, spec: LoadSpec
) -> dict[str, Any]:
    """The JSON document of a run (see the module docstring)."""
    ok = [o for o in run.outcomes if o.error is None]
    failed = [o.error for o in run.outcomes if o.error is not None]
    tokens = sum(o.tokens for o in ok)
    decode = [
        (o.tokens - 1) / (o.latency - o.ttft)
        for o in ok
        if o.ttft is not None and o.tokens > 1 and o.latency > o.ttft
    ]
    examples: dict[str, str] = {}
    for failure in failed:
        examples.setdefault(failure.kind, failure.detail)
    counted = {o.counted_by for o in ok}
    return {
        "schema": SCHEMA,
        "measured": True,
        "url": target.display_url,
        "stack": target.stack,
        "cloud": target.cloud,
        "engine": engine,
        "model": model,
        "gpu": target.gpu,
        "api": API,
        "concurrency": spec.concurrency,
        "requests": spec.requests,
        "maxNewTokens": spec.max_new_tokens,
        "prompts": {"source": spec.prompt_source, "count": len(spec.prompts)},
        "startedAt": run.started_at.isoformat(timespec="seconds"),
        "finishedAt": run.finished_at.isoformat(timespec="seconds"),
        "wallSeconds": round(run.wall_seconds, 4),
        "warmupRequests": run.warmup_requests,
        "clientCpuShare": round(run.client_cpu_seconds / run.wall_seconds, 3)
        if run.wall_seconds
        else 0.0,
        "succeeded": len(ok),
        "failed": len(failed),
        "errorRate": round(len(failed) / len(run.outcomes), 4),
        "errors": dict(sorted(Counter(f.kind for f in failed).items())),
        "errorExamples": dict(sorted(examples.items())),
        "latencySeconds": percentiles([o.latency for o in ok]),
        "ttftSeconds": percentiles([o.ttft for o in ok if o.ttft is not None]),
        "perRequestTokensPerSecond": percentiles(decode),
        "outputTokens": tokens,
        "tokenCount": counted.pop() if len(counted) == 1 else ("mixed" if counted else None),
        "outputTokensPerSecond": round(tokens / run.wall_seconds, 2) if run.wall_seconds else 0.0,
    }


def report_lines(document: dict[str, Any]) -> Iterator[str]:
    """The summary as plain lines for a terminal."""
    yield (
        f"llmplane bench {document['url']}: {document['model'] or 'model not known'} on "
        f"{document['engine'] or 'an unknown engine'}"
    )
    yield (
        f"{document['requests']} requests, concurrency {document['concurrency']}, at most "
        f"{document['maxNewTokens']} new tokens each, in {document['wallSeconds']:.2f} s; "
        f"{document['failed']} failed (error rate {document['errorRate']:.1%})"
    )
    rows = (
        ("latency (s)", document["latencySeconds"]),
        ("time to first token (s)", document["ttftSeconds"]),
        ("tokens/s per request", document["perRequestTokensPerSecond"]),
    )
    yield f"{'':26}{'p50':>10}{'p90':>10}{'p99':>10}{'mean':>10}"
    for label, stats in rows:
        if stats is None:
            yield f"{label:26}{'-':>10}{'-':>10}{'-':>10}{'-':>10}"
        else:
            cells = "".join(f"{stats[k]:>10.3f}" for k in ("p50", "p90", "p99", "mean"))
            yield f"{label:26}{cells}"
    how = {"usage": "the server's usage counts", "chunks": "streamed chunks"}.get(
        document["tokenCount"] or "", "usage counts and chunks"
    )
    yield (
        f"output: {document['outputTokens']:,} tokens, {document['outputTokensPerSecond']:,.1f} "
        f"tokens/s for the whole endpoint (counted from {how})"
    )
    for kind, count in document["errors"].items():
        yield f"errors: {kind} x{count} ({document['errorExamples'][kind]})"
    if document["clientCpuShare"] > CLIENT_BOUND_SHARE:
        yield (
            f"note: the client used {document['clientCpuShare']:.0%} of a CPU, so it may have "
            "set the pace; bench from a faster machine or with lower --concurrency to be sure"
        )
