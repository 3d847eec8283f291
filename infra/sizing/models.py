"""Where a model's architecture comes from: llmplane's built-in table, a config.json, or the Hub."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..config.errors import SettingsError, choices
from .architecture import Architecture, from_config
from .catalog import CATALOG

MODELS = CATALOG / "models"


@dataclass(frozen=True)
class Entry:
    """One built-in config file and the facts recorded with it in index.json."""

    file: str
    """The file under catalog/models holding the config.json fields llmplane reads."""
    source: str
    """Where those fields were read (the model's config.json on the Hub)."""
    checked: str
    """When they were read (YYYY-MM-DD)."""
    gated: bool
    """Whether the Hub makes users accept terms before download (the stack needs hfToken)."""


@cache
def _index() -> dict[str, Entry]:
    """index.json: file -> ids and facts, read into model id -> Entry."""
    raw: dict[str, Any] = json.loads((MODELS / "index.json").read_text(encoding="utf-8"))
    entries: dict[str, Entry] = {}
    for file, facts in raw.items():
        if file.startswith("_"):
            continue
        entry = Entry(file, facts["source"], facts["checked"], bool(facts["gated"]))
        entries.update({model_id: entry for model_id in facts["ids"]})
    return entries


def builtin_ids() -> dict[str, str]:
    """Well-known model ids -> the config.json file llmplane ships for them."""
    return {model_id: entry.file for model_id, entry in _index().items()}


def entry(model_id: str) -> Entry | None:
    """The built-in table's facts about a model id (file, source, date, gated); None if absent."""
    return _index().get(model_id)


def gated(model_id: str) -> bool | None:
    """Whether the built-in table marks the model gated on the Hub; None if it is not listed."""
    found = _index().get(model_id)
    return found.gated if found is not None else None


@cache
def builtin(model_id: str) -> Architecture | None:
    """The architecture of a well-known model, with no network; None for any other id."""
    found = _index().get(model_id)
    if found is None:
        return None
    return from_config(json.loads((MODELS / found.file).read_text(encoding="utf-8")), model_id)


def nearest(model_id: str) -> str:
    """The built-in ids closest to a mistyped one, for error messages."""
    return choices(model_id, sorted(builtin_ids()))


def from_file(path: Path) -> Architecture:
    """A config.json file the user has (e.g. for a private or offline model)."""
    try:
        config: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        problem = error.strerror if isinstance(error, OSError) else "is not valid JSON"
        raise SettingsError(
            "-", "--model-config", f"{path}: {problem}", "pass a model's config.json"
        ) from None
    if not isinstance(config, dict):
        raise SettingsError(
            "-", "--model-config", f"{path} is not a JSON object", "pass a model's config.json"
        )
    return from_config(config, str(path))


def from_hub(model_id: str, revision: str | None = None) -> Architecture:
    """Download config.json (and the safetensors parameter count) with huggingface_hub."""
    from huggingface_hub import HfApi, constants, hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
    from huggingface_hub.utils import logging as hf_logging

    # Its retry warnings would break the one-line error contract; the error below says it all.
    hf_logging.set_verbosity_error()
    token = os.environ.get("HF_TOKEN") or None
    try:
        _reachable(constants.ENDPOINT, constants.HF_HUB_OFFLINE)
        path = hf_hub_download(model_id, "config.json", revision=revision, token=token)
        info = HfApi().model_info(model_id, revision=revision, token=token)
    except (HfHubHTTPError, OfflineModeIsEnabled, OSError, ValueError) as error:
        reason = type(error).__name__
        raise SettingsError(
            "-",
            "--model",
            f"{model_id} is not in llmplane's built-in table and the Hugging Face Hub did not "
            f"answer ({reason}; gated models need HF_TOKEN)",
            f"pass --model-config FILE with its config.json, or use a built-in id such as "
            f"{nearest(model_id)}",
        ) from None
    config: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    # A quantized checkpoint's safetensors total counts packed integers and scales, not
    # parameters; the tensor inventory from config.json is the better count there.
    quantized = "quantization_config" in config or "quantization_config" in (
        config.get("text_config") or {}
    )
    safetensors = info.safetensors
    parameters = safetensors.total if safetensors is not None and not quantized else None
    return from_config(config, model_id, parameters=parameters)


def _reachable(endpoint: str, offline: bool) -> None:
    """Fail at once when the Hub's host does not resolve, instead of after a minute of retries."""
    from huggingface_hub.errors import OfflineModeIsEnabled

    if offline:
        raise OfflineModeIsEnabled("HF_HUB_OFFLINE is set")
    host = urlsplit(endpoint).hostname or endpoint
    socket.getaddrinfo(host, 443)  # raises OSError (socket.gaierror) with no network


def resolve(model_id: str | None, config_file: Path | None, hub: bool = True) -> Architecture:
    """A config file wins; then the built-in table; then, if allowed, the Hub."""
    if config_file is not None:
        return from_file(config_file)
    if model_id is None:
        raise SettingsError("-", "--model", "is missing", "pass --model ID or --model-config FILE")
    known = builtin(model_id)
    if known is not None:
        return known
    if not hub:
        raise SettingsError(
            "-",
            "--model",
            f"{model_id} is not in llmplane's built-in table",
            f"use one of: {nearest(model_id)}",
        )
    return from_hub(model_id)
