"""The seven checks of `llmplane smoke`, each through huggingface_hub, each failing in one line."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmplane.components.kubernetes.engines import ENGINES

from .client import (
    Failure,
    Malformed,
    StatusError,
    classify,
    probe,
    probe_json,
)
from .stream import attribute, positive, tally_chat_stream
from .target import DEFAULT_TOKEN_ENV, Target
from .wait import Waiter, WaitFailed

if TYPE_CHECKING:
    from huggingface_hub import InferenceClient

PROMPT = "Name the three primary colours."
CHECKS = ("health", "model", "generate", "generate-stream", "chat", "chat-stream", "metrics")
# KEDA's interceptor answers 504 when no engine got ready within its hold, and that hold is the
# stack's cold-start budget: a GPU node from zero, the image, the model load.
SCALE_FROM_ZERO_HINT = (
    "a stack scaling from zero may still be starting its GPU node and engine; pass --wait "
    "SECONDS of at least its cold-start budget, which is also how long it holds a request"
)


@dataclass
class Check:
    """The outcome of one check."""

    name: str
    status: str
    """ok, failed or skipped."""
    detail: str
    seconds: float | None = None
    attempts: int = 0
    ttft_seconds: float | None = None
    output_tokens: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The check as the JSON report has it."""
        return {
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
            "seconds": _round(self.seconds),
            "attempts": self.attempts,
            "ttftSeconds": _round(self.ttft_seconds),
            "outputTokens": self.output_tokens,
        }


@dataclass
class Checks:
    """The checks against one endpoint, and what they learn about it on the way."""

    target: Target
    client: InferenceClient
    waiter: Waiter
    timeout: float
    max_new_tokens: int
    engine: str | None = None
    """tgi, vllm or sglang: the target's, or what the model check found."""
    served_model: str | None = None
    """The model the endpoint serves, once the model check has asked."""

    def run(self, names: tuple[str, ...]) -> list[Check]:
        """Run the named checks in order, up to the first that fails."""
        done: list[Check] = []
        steps: dict[str, Callable[[], Check]] = {
            "health": self.health,
            "model": self.model,
            "generate": self.generate,
            "generate-stream": self.generate_stream,
            "chat": self.chat,
            "chat-stream": self.chat_stream,
            "metrics": self.metrics,
        }
        for name in names:
            started = time.perf_counter()
            try:
                check = steps[name]()
            except WaitFailed as failed:
                detail = self.explain(name, failed.failure, failed.attempts)
                check = Check(name, "failed", detail, attempts=failed.attempts)
            if check.status != "skipped" and check.seconds is None:
                check.seconds = time.perf_counter() - started
            done.append(check)
            if check.status == "failed":
                break
        return done

    def explain(self, name: str, failure: Failure, attempts: int) -> str:
        """The failure, and what to do about it where that is clear."""
        target, detail = self.target, failure.detail
        if failure.kind == "dns" and target.in_cluster:
            return f"{detail}: it is an in-cluster URL; run {target.port_forward_hint()}"
        if failure.kind in ("http-401", "http-403"):
            if "withheld" in target.auth:
                reason = target.auth.removeprefix("none: ")
                return f"{detail}: it wants an API key, and {reason}; use https or a port-forward"
            if target.token is None:
                return f"{detail}: it wants an API key; export {DEFAULT_TOKEN_ENV}=<key>"
            return f"{detail}: the key ({target.auth}) was refused"
        if failure.not_ready and attempts > 1:
            waited = (
                f"still {detail} after {attempts} attempts over {target.wait_seconds:g} s "
                f"(wait budget: {target.wait_source})"
            )
            if failure.kind == "http-504":
                return f"{waited}; {SCALE_FROM_ZERO_HINT}"
            return f"{waited}; pass --wait SECONDS to wait longer"
        if failure.kind == "http-504":
            return f"{detail}: {SCALE_FROM_ZERO_HINT}"
        if name == "model" and failure.kind == "http-404" and self.engine:
            return f"{detail}: is it a {self.engine} endpoint? pass --engine to say"
        return detail

    # --- checks -------------------------------------------------------------------------------

    def health(self) -> Check:
        """GET the engine's health path, waiting while the endpoint starts."""
        path = _health_path(self.target.engine)
        _, attempts = self.waiter.call(lambda: probe(self.target, path, self.timeout), startup=True)
        return Check("health", "ok", f"GET {path} answered 200", attempts=attempts)

    def model(self) -> Check:
        """The served model must be the expected one (the engine's own probe says which)."""
        (engine, served, path), attempts = self.waiter.call(self._served_model, startup=False)
        self.engine, self.served_model = engine, served[0]
        expected = self.target.model
        if expected is None:
            detail = f"serves {served[0]} ({path}); not checked: pass --model or --stack"
            return Check("model", "ok", detail, attempts=attempts)
        if expected not in served:
            whose = "--model says" if self.target.model_from_flag else "the stack deploys"
            detail = f"serves {', '.join(served)} ({path}), but {whose} {expected}"
            return Check("model", "failed", detail, attempts=attempts)
        self.served_model = expected
        return Check("model", "ok", f"serves {expected} ({path})", attempts=attempts)

    def _served_model(self) -> tuple[str, list[str], str]:
        """The engine, the model ids it serves, and the probe that said so."""
        engine = self.engine
        if engine is None:
            return self._detect()
        if engine == "tgi":
            document = probe_json(self.target, "/info", self.timeout)
            return engine, [_field(document, "model_id", "/info")], "GET /info"
        if engine == "sglang":
            document = probe_json(self.target, "/get_model_info", self.timeout)
            served = [_field(document, "model_path", "/get_model_info")]
            return engine, served, "GET /get_model_info"
        document = probe_json(self.target, "/v1/models", self.timeout)
        return engine, _model_ids(document), "GET /v1/models"

    def _detect(self) -> tuple[str, list[str], str]:
        """TGI answers /info; vLLM and SGLang name themselves as owners in /v1/models."""
        try:
            document = probe_json(self.target, "/info", self.timeout)
        except StatusError as error:
            if error.status != 404:
                raise
        else:
            return "tgi", [_field(document, "model_id", "/info")], "GET /info"
        document = probe_json(self.target, "/v1/models", self.timeout)
        entries = _object(document, "/v1/models").get("data") or []
        owners = {str(e.get("owned_by")) for e in entries if isinstance(e, dict)}
        for engine in ("vllm", "sglang"):
            if engine in owners:
                return engine, _model_ids(document), "GET /v1/models"
        raise Malformed(
            "cannot tell the engine: GET /info answered 404 and /v1/models names no vllm or "
            "sglang owner; pass --engine"
        )

    def _tgi_call(self, path: str) -> Callable[[], Any]:
        """One text_generation on TGI's own route (`/generate`, or `/generate_stream` to stream)."""

        def call() -> Any:
            return self.client.text_generation(
                PROMPT,
                model=self.target.url + path,
                max_new_tokens=self.max_new_tokens,
                details=True,
                stream=path.endswith("_stream"),
            )

        return call

    def generate(self) -> Check:
        """TGI: one text_generation on /generate, with details (token count)."""
        if self.engine != "tgi":
            return _skipped("generate", self.engine)
        started = time.perf_counter()
        output, attempts = self.waiter.call(self._tgi_call("/generate"), startup=False)
        tokens = attribute(attribute(output, "details"), "generated_tokens")
        if not isinstance(attribute(output, "generated_text"), str) or not positive(tokens):
            detail = "POST /generate answered without generated_text and a token count"
            return Check("generate", "failed", detail, attempts=attempts)
        seconds = time.perf_counter() - started
        detail = f"{tokens} tokens in {seconds:.2f} s (POST /generate)"
        return Check("generate", "ok", detail, seconds, attempts, output_tokens=tokens)

    def generate_stream(self) -> Check:
        """TGI: one streamed text_generation on /generate_stream, timing the first token."""
        if self.engine != "tgi":
            return _skipped("generate-stream", self.engine)
        started = time.perf_counter()
        stream, attempts = self.waiter.call(self._tgi_call("/generate_stream"), startup=False)
        first, last = None, None
        try:
            for event in stream:
                token = attribute(event, "token")
                if first is None and attribute(token, "text") and not attribute(token, "special"):
                    first = time.perf_counter() - started
                last = event
        except Exception as error:
            raise WaitFailed(classify(error, self.target), attempts) from None
        tokens = attribute(attribute(last, "details"), "generated_tokens")
        if first is None or not positive(tokens):
            detail = "POST /generate_stream ended without a token or its final details event"
            return Check("generate-stream", "failed", detail, attempts=attempts)
        seconds = time.perf_counter() - started
        detail = (
            f"first token after {first:.3f} s, {tokens} tokens in {seconds:.2f} s "
            "(POST /generate_stream)"
        )
        return Check("generate-stream", "ok", detail, seconds, attempts, first, tokens)

    def chat(self) -> Check:
        """One chat_completion on the OpenAI-compatible API."""
        started = time.perf_counter()

        def call() -> Any:
            return self.client.chat_completion(
                [{"role": "user", "content": PROMPT}],
                model=self.served_model,
                max_tokens=self.max_new_tokens,
            )

        output, attempts = self.waiter.call(call, startup=False)
        choices = attribute(output, "choices") or [None]
        message = attribute(choices[0], "message")
        text = attribute(message, "content") or attribute(message, "reasoning")
        tokens = attribute(attribute(output, "usage"), "completion_tokens")
        if not isinstance(text, str) or not text:
            detail = "POST /v1/chat/completions answered without a message"
            return Check("chat", "failed", detail, attempts=attempts)
        seconds = time.perf_counter() - started
        count = f"{tokens} tokens" if positive(tokens) else "an answer"
        detail = f"{count} in {seconds:.2f} s (POST /v1/chat/completions)"
        return Check("chat", "ok", detail, seconds, attempts, output_tokens=tokens)

    def chat_stream(self) -> Check:
        """One streamed chat_completion, timing the first token."""
        from huggingface_hub import ChatCompletionInputStreamOptions

        started = time.perf_counter()

        def call() -> Any:
            return self.client.chat_completion(
                [{"role": "user", "content": PROMPT}],
                model=self.served_model,
                max_tokens=self.max_new_tokens,
                stream=True,
                stream_options=ChatCompletionInputStreamOptions(include_usage=True),
            )

        stream, attempts = self.waiter.call(call, startup=False)
        try:
            tally = tally_chat_stream(stream, started)
        except Exception as error:
            raise WaitFailed(classify(error, self.target), attempts) from None
        if tally.first is None or tally.finish is None:
            detail = "the chat stream ended before a token and a finish_reason"
            return Check("chat-stream", "failed", detail, attempts=attempts)
        seconds = time.perf_counter() - started
        detail = (
            f"first token after {tally.first:.3f} s, {tally.tokens} tokens in {seconds:.2f} s "
            "(POST /v1/chat/completions, stream)"
        )
        return Check("chat-stream", "ok", detail, seconds, attempts, tally.first, tally.tokens)

    def metrics(self) -> Check:
        """/metrics must export the queue metric the autoscaler scales the engine on."""
        engine = ENGINES[self.engine or "tgi"]
        text, attempts = self.waiter.call(
            lambda: probe(self.target, "/metrics", self.timeout), startup=False
        )
        name = engine.queue_metric
        exported = any(line.startswith((f"{name} ", f"{name}{{")) for line in text.splitlines())
        if not exported:
            detail = f"GET /metrics has no {name}, which the autoscaler scales {engine.name} on"
            return Check("metrics", "failed", detail, attempts=attempts)
        return Check("metrics", "ok", f"GET /metrics exports {name}", attempts=attempts)


def _health_path(engine: str | None) -> str:
    # Every engine llmplane deploys answers /health; the table is the one the probes use.
    return ENGINES[engine].health_path if engine in ENGINES else "/health"


def _skipped(name: str, engine: str | None) -> Check:
    return Check(
        name,
        "skipped",
        f"{engine} has no TGI-style /generate that InferenceClient.text_generation speaks; "
        "the chat checks cover generation",
    )


def _object(document: Any, path: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise Malformed(f"GET {path} answered JSON that is not an object")
    return document


def _field(document: Any, key: str, path: str) -> str:
    value = _object(document, path).get(key)
    if not isinstance(value, str) or not value:
        raise Malformed(f"GET {path} answered without {key}")
    return value


def _model_ids(document: Any) -> list[str]:
    entries = _object(document, "/v1/models").get("data")
    ids = [e["id"] for e in entries or [] if isinstance(e, dict) and isinstance(e.get("id"), str)]
    if not ids:
        raise Malformed("GET /v1/models lists no model")
    return ids


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
