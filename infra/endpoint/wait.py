"""Waiting out an endpoint that is not ready yet: exponential backoff, within one deadline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from .client import Failure, classify
from .target import Target

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Pauses between retries: first, then times factor each time, never over cap (seconds)."""

    first: float = 0.25
    factor: float = 2.0
    cap: float = 10.0

    def delay(self, attempt: int) -> float:
        """The pause after failed attempt number `attempt` (1-based)."""
        return min(self.cap, self.first * self.factor ** (attempt - 1))


class WaitFailed(Exception):
    """A call failed for good: what went wrong, after how many attempts."""

    def __init__(self, failure: Failure, attempts: int) -> None:
        super().__init__(failure.detail)
        self.failure = failure
        self.attempts = attempts


@dataclass
class Waiter:
    """Runs calls, retrying those a not-yet-ready endpoint would fail, until the deadline."""

    target: Target
    deadline: float
    backoff: Backoff
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    on_wait: Callable[[Failure, float, float], None]
    started: float | None = None
    """When waiting began (clock time); None: the first call starts the clock."""
    ready_at: float | None = None
    """When a call first succeeded: the endpoint's first ready answer."""

    @property
    def ready_seconds(self) -> float | None:
        """Seconds from the start of waiting to the first ready answer; None before one."""
        if self.started is None or self.ready_at is None:
            return None
        return self.ready_at - self.started

    def call(self, action: Callable[[], T], *, startup: bool) -> tuple[T, int]:
        """The action's result and the attempts it took; WaitFailed once waiting cannot help.

        startup: the endpoint may still be coming up, so refused connections and timeouts are
        worth waiting for too, not only statuses that say "not now".
        """
        attempt = 0
        if self.started is None:
            self.started = self.clock()
        while True:
            attempt += 1
            try:
                result = action()
            except Exception as error:
                failure = classify(error, self.target)
                # Before the endpoint is healthy anything transient is worth waiting for; after,
                # only statuses that say "not now" (a refused or hung request is a real failure).
                waits = failure.not_ready and (startup or failure.kind.startswith("http-"))
                remaining = self.deadline - self.clock()
                if not waits or remaining <= 0:
                    raise WaitFailed(failure, attempt) from None
                pause = min(self.backoff.delay(attempt), remaining)
                self.on_wait(failure, pause, remaining)
                self.sleep(pause)
                continue
            if self.ready_at is None:
                self.ready_at = self.clock()
            return result, attempt
