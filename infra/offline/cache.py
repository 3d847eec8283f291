"""A content-addressed cache of offline plans: the same inputs always give the same plan.

A plan is a pure function of the stack (its name, config and which keys are secret), the code
that plans it (every file of the llmplane package, so the catalog and the built-in models too),
the installed SDKs and the prices override (LLMPLANE_PRICES). The key hashes all of them; a hit
returns the stored plan, which is byte-identical to planning again. Only plans that succeeded
are stored. This module imports nothing heavy: a run whose stacks all hit never loads Pulumi.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config.stackfile import stack_name

if TYPE_CHECKING:
    from ..config.settings import StackSettings

__all__ = ["CACHE_ENV", "cache_dir", "load", "plan_key", "plan_text", "plan_through_cache", "store"]

CACHE_ENV = "LLMPLANE_CACHE_DIR"
"""Where plans are kept; default `$XDG_CACHE_HOME/llmplane/plans` (~/.cache/llmplane/plans)."""

# What else a plan depends on: the SDKs that build and check it.
_SDKS = (
    "pulumi",
    "pulumi-kubernetes",
    "pulumi-aws",
    "pulumi-azure-native",
    "pulumi-gcp",
    "pulumi-policy",
    "pydantic",
)
_PRICES_ENV = "LLMPLANE_PRICES"
# Bump when the stored format changes.
_FORMAT = "1"


def cache_dir() -> Path:
    """The cache's folder (not created until a plan is stored)."""
    given = os.environ.get(CACHE_ENV)
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "llmplane" / "plans"


@cache
def _code_fingerprint() -> str:
    """A hash of every file of the installed package and of the SDK versions, once a process."""
    digest = hashlib.sha256(f"{_FORMAT} {sys.version}".encode())
    # Resolved through the editable install's links: the folder holding infra/, components/ …
    package = Path(__file__).resolve().parents[2]
    for top in ("infra", "components", "policies"):
        root = package / top
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(f"{top}/{path.relative_to(root).as_posix()}\0".encode())
                digest.update(path.resolve().read_bytes())
    for name in _SDKS:
        try:
            digest.update(f"{name}=={version(name)}\0".encode())
        except PackageNotFoundError:
            digest.update(f"{name} absent\0".encode())
    return digest.hexdigest()


def plan_key(stack: str, stack_file: bytes) -> str:
    """The key of one stack's plan: its name and file, under this process's code, SDKs, prices."""
    prices = os.environ.get(_PRICES_ENV)
    prices_text = Path(prices).read_bytes() if prices and Path(prices).is_file() else b""
    digest = hashlib.sha256(_code_fingerprint().encode())
    for part in (stack.encode(), stack_file, (prices or "").encode(), prices_text):
        # Each part's length first, so that no two different inputs run together alike.
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def load(key: str) -> str | None:
    """The stored plan for `key` as its JSON text, or None; an unreadable entry is a miss."""
    try:
        return (cache_dir() / f"{key}.json").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None


def plan_text(plan: dict[str, Any]) -> str:
    """A plan as the cache keeps it: the JSON `llmplane plan --json` prints for it."""
    return json.dumps(plan, indent=2, sort_keys=True)


def store(key: str, text: str) -> None:
    """Keep a successful plan's text; a cache that cannot be written is silently not used."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Written whole, then renamed: a concurrent reader never sees half a plan.
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=folder, suffix=".tmp", delete=False
        ) as handle:
            handle.write(text)
        os.replace(handle.name, folder / f"{key}.json")
    except OSError:
        return


def plan_through_cache(
    paths: Sequence[Path],
    read: Callable[[Path], tuple[str, dict[str, Any], frozenset[str]]],
    parse: Callable[[str, dict[str, Any], frozenset[str]], StackSettings],
    use_cache: bool = True,
) -> list[str]:
    """The plans of stack files, as JSON text: from the cache where it can, else planned.

    A hit needs neither reading nor validating the stack: only plans that passed are stored,
    under a key of the file's bytes and everything else they depend on. The misses are read
    and parsed first, all of them, so that one bad stack stops the run before anything is
    planned; then `plan_all` plans them and they are stored. Raises what `read`, `parse` or
    `plan_all` raises (the first bad stack's SettingsError).
    """
    keys = [_file_key(path) for path in paths]
    found = [load(key) if use_cache and key else None for key in keys]
    missing = []
    for path, text in zip(paths, found, strict=True):
        if text is None:
            stack, config, secrets = read(path)
            missing.append((parse(stack, config, secrets), config, secrets))
    if missing:
        # Only now, with stacks to plan: a run whose stacks all hit never loads the Pulumi
        # runtime. The speed-ups go first, before any provider SDK is imported.
        from . import enable

        enable()
        from .parallel import plan_all

        planned = iter(plan_all(missing))
        for index, text in enumerate(found):
            if text is None:
                found[index] = fresh = plan_text(next(planned))
                if keys[index]:
                    store(keys[index], fresh)
    return [text for text in found if text is not None]


def _file_key(path: Path) -> str:
    """The cache key of a stack file; "" when it cannot be read (reading it will say why)."""
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return plan_key(stack_name(path), data)
