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
from collections.abc import Sequence
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .parallel import Parsed

__all__ = ["CACHE_ENV", "cache_dir", "load", "plan_key", "plan_through_cache", "store"]

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


def plan_key(stack: str, config: dict[str, Any], secret_keys: frozenset[str]) -> str:
    """The key of one stack's plan under the code, SDKs and prices this process runs with."""
    prices = os.environ.get(_PRICES_ENV)
    prices_text = Path(prices).read_bytes() if prices and Path(prices).is_file() else b""
    digest = hashlib.sha256(_code_fingerprint().encode())
    stack_text = json.dumps(
        [stack, config, sorted(secret_keys), prices or ""], sort_keys=True, default=str
    )
    digest.update(stack_text.encode())
    digest.update(hashlib.sha256(prices_text).digest())
    return digest.hexdigest()


def load(key: str) -> dict[str, Any] | None:
    """The stored plan for `key`, or None; a damaged entry counts as a miss."""
    path = cache_dir() / f"{key}.json"
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return plan if isinstance(plan, dict) else None


def store(key: str, plan: dict[str, Any]) -> None:
    """Keep a successful plan; a cache that cannot be written is silently not used."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Written whole, then renamed: a concurrent reader never sees half a plan.
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=folder, suffix=".tmp", delete=False
        ) as handle:
            json.dump(plan, handle, sort_keys=False)
        os.replace(handle.name, folder / f"{key}.json")
    except OSError:
        return


def plan_through_cache(parsed: Sequence[Parsed], use_cache: bool = True) -> list[dict[str, Any]]:
    """`plan_all` for the stacks the cache lacks, stored once they succeed; hits served as kept.

    Raises what `plan_all` raises (the first bad stack's SettingsError), storing nothing then.
    """
    keys = [plan_key(settings.stack, config, secrets) for settings, config, secrets in parsed]
    found = [load(key) if use_cache else None for key in keys]
    missing = [stack for stack, plan in zip(parsed, found, strict=True) if plan is None]
    if missing:
        # Only now, with stacks to plan: a run whose stacks all hit never loads the Pulumi
        # runtime. The speed-ups go first, before any provider SDK is imported.
        from . import enable

        enable()
        from .parallel import plan_all

        planned = iter(plan_all(missing))
        for index, plan in enumerate(found):
            if plan is None:
                found[index] = fresh = next(planned)
                store(keys[index], fresh)
    return [plan for plan in found if plan is not None]
