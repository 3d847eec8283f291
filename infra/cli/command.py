"""The installed `llmplane` command: one clear line when the `cli` extra is not installed."""

from __future__ import annotations

import sys
from typing import NoReturn


def run() -> NoReturn:
    """Start the CLI, or say what to install if one of its libraries is missing."""
    try:
        from .app import run as cli
    except ModuleNotFoundError as missing:
        # A library user installs `llmplane[aws]` and gets the command too; its own modules
        # failing to import would be a bug, and that traceback must stay.
        if (missing.name or "").startswith("llmplane"):
            raise
        print(
            f"llmplane: the command needs the cli extra ({missing.name} is not installed); "
            "run: pip install 'llmplane[cli]'",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    cli()
