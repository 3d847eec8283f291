"""What the `llmplane` commands print through: plain text on stdout, and rich's console."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout

from rich.console import Console

# No highlighting: numbers and paths in messages keep the colour the command gave them.
console = Console(highlight=False)


def emit(text: str) -> None:
    """Write machine-readable text (JSON, SARIF, Markdown) to stdout, ending in one newline."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


@contextmanager
def markdown_block(title: str, out: Console | None = None) -> Iterator[None]:
    """`--format markdown` for a command whose view is text: a heading and a fenced block.

    What the table view prints, through the rich console `out` or (None) plain stdout, is
    captured and emitted as `### title` and a ```text block, ready for a pull-request comment;
    also when the command then fails, so that the report and its one-line error both arrive.
    """
    buffer = io.StringIO()
    try:
        if out is not None:
            capture = out.capture()
            try:
                with capture:
                    yield
            finally:
                buffer.write(capture.get())
        else:
            with redirect_stdout(buffer):
                yield
    finally:
        emit(f"### {title}\n\n```text\n{buffer.getvalue().rstrip()}\n```\n")
