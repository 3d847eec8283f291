"""Reading a streamed chat completion: time to first token, output tokens, how it finished."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any


@dataclass
class StreamTally:
    """What a chat stream carried: time to first token, tokens, how it finished."""

    first: float | None = None
    """Seconds from the request to the first chunk with text."""
    tokens: int = 0
    """The server's count (stream_options.include_usage), else chunks with text."""
    counted_by: str = "chunks"
    """usage or chunks."""
    finish: str | None = None
    """The finish_reason, once one came."""


def tally_chat_stream(stream: Any, started: float) -> StreamTally:
    """Read a chat_completion stream to its end (works for sync iterables only)."""
    tally = StreamTally()
    for chunk in stream:
        add_chunk(tally, chunk, started)
    return tally


def add_chunk(tally: StreamTally, chunk: Any, started: float) -> None:
    """Count one streamed chat chunk into the tally."""
    usage = attribute(attribute(chunk, "usage"), "completion_tokens")
    if positive(usage):
        tally.tokens, tally.counted_by = usage, "usage"
    for choice in attribute(chunk, "choices") or []:
        delta = attribute(choice, "delta")
        if attribute(delta, "content") or attribute(delta, "reasoning"):
            if tally.first is None:
                tally.first = time.perf_counter() - started
            if tally.counted_by == "chunks":
                tally.tokens += 1
        finish = attribute(choice, "finish_reason")
        if finish:
            tally.finish = finish


def attribute(value: Any, name: str) -> Any:
    """`value.name`, or None where value is None or lacks it: server bodies are not trusted."""
    return getattr(value, name, None) if value is not None else None


def positive(value: Any) -> bool:
    """Whether value is a token count worth the name: an int above zero."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
