"""What the `llmplane` commands print through: plain text on stdout, and rich's console."""

from __future__ import annotations

import sys

from rich.console import Console

# No highlighting: numbers and paths in messages keep the colour the command gave them.
console = Console(highlight=False)


def emit(text: str) -> None:
    """Write machine-readable text (JSON, SARIF, Markdown) to stdout, ending in one newline."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
