"""A measured speed from `llmplane bench --json`, for `llmplane compare --measured` (pure).

Kept free of huggingface_hub and the endpoint modules, so that compare stays fast.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ..config.errors import SettingsError
from .catalog import CLOUDS, shapes

SCHEMA = "llmplane.bench/1"


@dataclass(frozen=True)
class Measured:
    """The throughput one bench run measured, and what it was measured on."""

    model: str
    """The model the endpoint served."""
    tokens_per_second: float
    """Output tokens per second of the whole endpoint, at `concurrency` streams."""
    concurrency: int
    """Streams in flight during the run."""
    engine: str | None
    """tgi, vllm or sglang, if known."""
    gpu: str | None
    """GPU model (catalog name), when the run recorded a cloud shape the catalog knows."""
    shards: int | None
    """GPUs per replica, when recorded."""
    finished_at: str
    """When the run ended (UTC, ISO 8601)."""
    error_rate: float
    """Share of the run's requests that failed."""
    source: str
    """The bench file."""

    def applies_to(self, model: str, gpu: str, shards: int) -> bool:
        """Whether a compare row (model, GPU, shards) is what was measured.

        A run that recorded no GPU (a bare --url) stands for every row of its model.
        """
        if model != self.model:
            return False
        if self.gpu is None:
            return True
        return gpu == self.gpu and (self.shards is None or shards == self.shards)

    def on(self) -> str:
        """What it was measured on, in words."""
        if self.gpu is None:
            return "a GPU the run did not record, so it stands for every row of the model"
        return f"{self.gpu} x{self.shards or '?'}"


def read_measured(path: Path) -> Measured:
    """Read and check a bench result; SettingsError (exit 2) when it cannot be used."""

    def bad(
        problem: str, fix: str = "pass the JSON that `llmplane bench --json` printed"
    ) -> NoReturn:
        raise SettingsError("-", "--measured", f"{path} {problem}", fix)

    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        bad(f"cannot be read ({getattr(error, 'strerror', None) or 'not UTF-8 text'})")
    except ValueError:
        bad("is not JSON")
    if not isinstance(document, dict) or document.get("measured") is not True:
        bad('is not a bench result (no "measured": true)')
    if document.get("schema") != SCHEMA:
        bad(f"has schema {document.get('schema')!r}, not {SCHEMA!r}", "rerun `llmplane bench`")
    model = document.get("model")
    speed = document.get("outputTokensPerSecond")
    concurrency = document.get("concurrency")
    if not isinstance(model, str) or not model:
        bad("names no model", "rerun bench with --stack, or with --model ID")
    if not isinstance(speed, (int, float)) or isinstance(speed, bool) or speed <= 0:
        bad("has no measured tokens/s", "rerun bench once requests succeed")
    if not document.get("succeeded"):
        bad("has no successful request to measure from", "rerun bench once requests succeed")
    if not isinstance(concurrency, int) or concurrency < 1:
        bad("has no concurrency")
    gpu, shards = _gpu(document)
    return Measured(
        model=model,
        tokens_per_second=float(speed),
        concurrency=concurrency,
        engine=document.get("engine") if isinstance(document.get("engine"), str) else None,
        gpu=gpu,
        shards=shards,
        finished_at=str(document.get("finishedAt") or "an unknown time"),
        error_rate=float(document["errorRate"]) if _number(document.get("errorRate")) else 0.0,
        source=str(path),
    )


def _gpu(document: dict[str, Any]) -> tuple[str | None, int | None]:
    """The GPU model and shards the run recorded, through the catalog; (None, None) if not."""
    cloud, recorded = document.get("cloud"), document.get("gpu")
    if not isinstance(recorded, dict) or cloud not in CLOUDS:
        return None, None
    shape = shapes(str(cloud)).get(str(recorded.get("shape")))
    if shape is None:
        return None, None
    shards = recorded.get("gpusPerReplica")
    return shape.gpu, shards if isinstance(shards, int) and shards > 0 else None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
