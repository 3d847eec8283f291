"""A deployed stack's outputs, from `pulumi stack output --json` or a file, and what they say.

The program exports (infra/__main__.py): cloud, model, engine, gpu (shape, gpusPerReplica, ...),
namespace, endpoint (the in-cluster URL), publicEndpoint (exposure public, behind the API-key
gateway) and, on managed clouds, kubeconfig, a secret. Pulumi is never asked for
`--show-secrets`, so secret outputs stay "[secret]".
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..config.errors import SettingsError

ENGINE_NAMES = ("tgi", "vllm", "sglang")
PULUMI_TIMEOUT_SECONDS = 120


def checked_url(stack: str, key: str, url: str) -> str:
    """An http(s) base URL without trailing slash; SettingsError naming `key` if it is not one."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            stack,
            key,
            f"{_shown(url)!r} is not an http(s) URL",
            "pass the endpoint's base URL, e.g. http://127.0.0.1:8080",
        )
    if parts.query or parts.fragment:
        raise SettingsError(
            stack, key, "has a query or fragment", "pass the base URL; llmplane adds the paths"
        )
    try:
        parts.port  # noqa: B018 (urlsplit validates the port only when it is read)
    except ValueError:
        raise SettingsError(
            stack, key, "has a port that is not a number from 0 to 65535", "fix the port"
        ) from None
    return urlunsplit(parts._replace(path=parts.path.rstrip("/")))


def read_outputs(stack: str | None, outputs_file: Path | None) -> dict[str, Any]:
    """The stack's outputs: from the file, else from `pulumi stack output --json`."""
    name = stack or "-"
    if outputs_file is not None:
        try:
            text = outputs_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not UTF-8 text"
            raise SettingsError(
                name, "--outputs", f"{outputs_file} cannot be read ({reason})", "check the path"
            ) from None
        source = str(outputs_file)
    else:
        assert stack is not None, "resolve_target asks for --stack or --outputs"
        text, source = _pulumi_outputs(stack), "`pulumi stack output --json`"
    try:
        document = json.loads(text)
    except ValueError:
        raise SettingsError(
            name,
            "--outputs",
            f"{source} is not JSON",
            f"write it with `pulumi stack output --json --stack {stack or 'STACK'} > FILE`",
        ) from None
    if not isinstance(document, dict):
        raise SettingsError(
            name, "--outputs", f"{source} is not a JSON object", "pass the stack's outputs"
        )
    return document


def _pulumi_outputs(stack: str) -> str:
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise SettingsError(
            stack,
            "--stack",
            "the Pulumi CLI is not on PATH, so the stack's outputs cannot be read",
            f"pass --outputs FILE, written by `pulumi stack output --json --stack {stack}`",
        )
    try:
        # Never --show-secrets: secret outputs (the kubeconfig) stay "[secret]".
        done = subprocess.run(
            [pulumi, "stack", "output", "--json", "--stack", stack],
            capture_output=True,
            text=True,
            timeout=PULUMI_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SettingsError(
            stack, "--stack", f"`pulumi stack output` did not run ({error})", "pass --outputs FILE"
        ) from None
    if done.returncode != 0:
        first = next((line for line in done.stderr.splitlines() if line.strip()), "no message")
        raise SettingsError(
            stack,
            "--stack",
            f"`pulumi stack output` failed: {first.strip()}",
            "check the name with `pulumi stack ls`, or pass --outputs FILE",
        )
    return done.stdout


def stack_facts(stack: str | None, outputs: dict[str, Any]) -> dict[str, Any]:
    """URL, engine, model, cloud and GPU from the outputs, each checked."""
    name = stack or "-"
    public = outputs.get("publicEndpoint")
    internal = outputs.get("endpoint")
    if isinstance(public, str) and public:
        if "<" in public:
            raise SettingsError(
                name,
                "publicEndpoint",
                f"is {public!r}: the gateway's load balancer had no address at the last update",
                f"run `pulumi refresh --stack {stack or 'STACK'}`, or pass --url",
            )
        url = checked_url(name, "publicEndpoint", public)
    elif isinstance(internal, str) and internal:
        url = checked_url(name, "endpoint", internal)
    else:
        raise SettingsError(
            name,
            "endpoint",
            "is not among the stack's outputs",
            "run `pulumi up` first, or pass the outputs of an llmplane stack",
        )
    facts: dict[str, Any] = {"url": url, "public": isinstance(public, str) and bool(public)}
    engine = outputs.get("engine")
    if engine is not None:
        if engine not in ENGINE_NAMES:
            raise SettingsError(
                name, "engine", f"output {engine!r} is not tgi, vllm or sglang", "pass --engine"
            )
        facts["engine"] = engine
    for key in ("model", "cloud"):
        if isinstance(outputs.get(key), str) and outputs[key]:
            facts[key] = outputs[key]
    gpu = outputs.get("gpu")
    if isinstance(gpu, dict):
        facts["gpu"] = {
            "shape": gpu.get("shape") if isinstance(gpu.get("shape"), str) else None,
            "gpusPerReplica": gpu.get("gpusPerReplica")
            if isinstance(gpu.get("gpusPerReplica"), int)
            else None,
        }
    return facts


def _shown(url: str) -> str:
    # A URL that does not parse may still carry user:password@ somewhere: show none of it.
    return url.rsplit("@", 1)[-1] if "@" in url else url
