"""`llmplane smoke`: does a live endpoint serve the stack's model? Health, model, generations.

The checks run in order and stop at the first failure:
- health: GET the engine's health path, waiting with backoff while the endpoint is not ready
  (503 and other 5xx, refused or dropped connections, timeouts) for up to the startup budget;
- model: the served model must be the stack's (TGI `/info` model_id, vLLM `/v1/models` ids,
  SGLang `/get_model_info` model_path); without --engine, /info and then /v1/models tell which;
- generate, generate-stream: InferenceClient.text_generation on TGI's `/generate` and
  `/generate_stream`, with time to first token. vLLM and SGLang have no TGI-style route (SGLang's
  `/generate` takes another format), so there text generation is the chat checks' job and
  these two are skipped;
- chat, chat-stream: InferenceClient.chat_completion on `/v1/chat/completions`, plain and
  streamed, with time to first token;
- metrics: `/metrics` exports the queue metric the autoscaler scales on.

After health, a request still retries while it meets 429, 502, 503 or 504 (a load balancer
catching up), within the same budget; any other failure fails the check at once.

The report records how long the endpoint took to answer ready, from the start of waiting to
its first successful response, so that it can be set against the cold-start estimate
(sizing/coldstart.py); given that budget, it also says whether the endpoint came up within it.

JSON (`llmplane smoke --json`): {"url", "stack", "engine", "model" (expected), "servedModel",
"auth", "waitSeconds", "readySeconds" (measured; null if it never answered), "budgetSeconds"
(the estimate compared against, or null), "withinBudget" (null without both), "passed",
"failure" (the one line, or null), "checks": [{"name", "status": ok|failed|skipped, "detail",
"seconds", "attempts", "ttftSeconds", "outputTokens"}]}.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .checks import CHECKS, Check, Checks
from .client import Failure, check_online, inference_client
from .target import Target
from .wait import Backoff, Waiter

__all__ = ["CHECKS", "Backoff", "Check", "SmokeReport", "smoke"]


@dataclass
class SmokeReport:
    """Every check that ran, and what the endpoint turned out to be."""

    target: Target
    engine: str | None
    served_model: str | None = None
    checks: list[Check] = field(default_factory=list)
    ready_seconds: float | None = None
    """Measured: from the start of waiting to the first ready response; None if none came."""
    budget_seconds: float | None = None
    """The cold-start estimate to compare it with, when one was given."""

    @property
    def within_budget(self) -> bool | None:
        """Whether the endpoint was ready within the budget; None without both figures."""
        if self.ready_seconds is None or self.budget_seconds is None:
            return None
        return self.ready_seconds <= self.budget_seconds

    def budget_line(self) -> str | None:
        """The measured time to ready against the budget, in one line; None without a budget."""
        if self.budget_seconds is None:
            return None
        budget = f"{self.budget_seconds:.0f} s cold-start estimate"
        if self.ready_seconds is None:
            return f"never ready, so not compared with the {budget}"
        ready, share = self.ready_seconds, self.ready_seconds / max(self.budget_seconds, 1e-9)
        if self.within_budget:
            return f"ready after {ready:.1f} s, within the {budget} ({share:.0%} of it)"
        over = ready - self.budget_seconds
        return f"ready after {ready:.1f} s, {over:.1f} s over the {budget} ({share:.0%} of it)"

    @property
    def failed(self) -> Check | None:
        """The failed check, if any (smoke stops at the first)."""
        return next((c for c in self.checks if c.status == "failed"), None)

    def failure_line(self, command: str = "smoke") -> str | None:
        """The one line a failed check prints on stderr; None if none failed."""
        failed = self.failed
        if failed is None:
            return None
        return self.target.redact(
            f"{command} failed for {self.target.display_url}: {failed.name}: {failed.detail}"
        )

    def to_json(self) -> dict[str, Any]:
        """The report as `smoke --json` prints it (redact the serialized text before printing)."""
        return {
            "url": self.target.display_url,
            "stack": self.target.stack,
            "engine": self.engine,
            "model": self.target.model,
            "servedModel": self.served_model,
            "auth": self.target.auth,
            "waitSeconds": self.target.wait_seconds,
            "readySeconds": None if self.ready_seconds is None else round(self.ready_seconds, 3),
            "budgetSeconds": self.budget_seconds,
            "withinBudget": self.within_budget,
            "passed": self.failed is None,
            "failure": self.failure_line(),
            "checks": [check.to_json() for check in self.checks],
        }


def smoke(
    target: Target,
    *,
    timeout: float,
    max_new_tokens: int,
    checks: tuple[str, ...] = CHECKS,
    backoff: Backoff | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_wait: Callable[[Failure, float, float], None] = lambda *_: None,
    budget: float | None = None,
) -> SmokeReport:
    """Run the checks (all, or the first few) in order; the report says how each went.

    budget: the cold-start estimate (seconds) to set the measured time to ready against.
    """
    check_online()
    started = clock()
    waiter = Waiter(
        target, started + target.wait_seconds, backoff or Backoff(), clock, sleep, on_wait, started
    )
    with inference_client(target, timeout) as client:
        checker = Checks(target, client, waiter, timeout, max_new_tokens, engine=target.engine)
        done = checker.run(checks)
    return SmokeReport(
        target, checker.engine, checker.served_model, done, waiter.ready_seconds, budget
    )
