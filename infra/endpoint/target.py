"""Which live endpoint to check: from --url or a stack's outputs, with its key kept unprinted.

A stack's outputs (endpoint/stack_outputs.py) name the model, the engine, the GPU shape and two
URLs: `publicEndpoint` (exposure public, behind the API-key gateway), preferred, and `endpoint`,
the in-cluster URL, which resolves only inside the cluster or through `kubectl port-forward`.

The API key is read from an environment variable (`--token-env`, default LLMPLANE_API_KEY),
sent as a Bearer token, and never printed: every line and document the commands write passes
through `Target.redact`. huggingface_hub would otherwise send the machine's Hugging Face token
(HF_TOKEN or `hf auth login`) to any endpoint URL; llmplane's endpoints never check it, so
it is withheld unless named with `--token-env HF_TOKEN`.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ..config.errors import SettingsError, choices
from .stack_outputs import ENGINE_NAMES, checked_url, read_outputs, stack_facts

if TYPE_CHECKING:
    from ..config.settings import StackSettings

DEFAULT_TOKEN_ENV = "LLMPLANE_API_KEY"
# Without a stack file to size the model from: long enough for a 7B model to load once its node
# is up, short enough that a mistyped port does not keep a terminal waiting for half an hour.
DEFAULT_WAIT_SECONDS = 600
REDACTED = "[redacted]"


@dataclass(frozen=True)
class Target:
    """A live endpoint, what it should serve, and the key to call it with."""

    url: str
    """Base URL requests go to, without a trailing slash."""
    stack: str | None = None
    """The stack it was resolved from; None for --url."""
    cloud: str | None = None
    """The stack's cloud, when known."""
    engine: str | None = None
    """tgi, vllm or sglang; None: probe the endpoint to find out."""
    model: str | None = None
    """The model it must serve; None: report what it serves without checking."""
    model_from_flag: bool = True
    """Whether `model` came from --model rather than the stack's outputs."""
    gpu: dict[str, Any] | None = None
    """The stack's `gpu` output (shape, gpusPerReplica), when known."""
    token: str | None = field(default=None, repr=False)
    """Bearer token; never printed."""
    auth: str = "none"
    """Where the token came from, or why none is sent; safe to print."""
    wait_seconds: float = DEFAULT_WAIT_SECONDS
    """How long smoke waits for an endpoint that is still loading."""
    wait_source: str = "default"
    """Why wait_seconds is what it is; safe to print."""
    secrets: tuple[str, ...] = field(default=(), repr=False)
    """Strings that must never be printed besides the token: a password in the URL, a key the
    rules withheld."""

    @property
    def display_url(self) -> str:
        """The URL without credentials, query or fragment: safe to print and to record."""
        return public_url(self.url)

    @property
    def in_cluster(self) -> bool:
        """Whether the URL is a Kubernetes service name, reachable only inside the cluster."""
        return (urlsplit(self.url).hostname or "").endswith(".svc.cluster.local")

    def redact(self, text: str) -> str:
        """`text` with every secret (and its JSON-escaped form) replaced by [redacted]."""
        for secret in (self.token, *self.secrets):
            if not secret:
                continue
            for form in {secret, json.dumps(secret)[1:-1]}:
                text = text.replace(form, REDACTED)
        return text

    def port_forward_hint(self) -> str:
        """The kubectl command that makes an in-cluster URL reachable from this machine."""
        host = urlsplit(self.url).hostname or ""
        service, _, rest = host.partition(".")
        namespace = rest.split(".", 1)[0]
        return (
            f"`kubectl -n {namespace} port-forward svc/{service} 8080:80`, then pass "
            "--url http://127.0.0.1:8080"
        )


def public_url(url: str) -> str:
    """`url` without user:password@, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def resolve_target(
    *,
    url: str | None,
    stack: str | None,
    outputs_file: Path | None,
    stacks_dir: Path,
    engine: str | None,
    model: str | None,
    token_env: str | None,
    wait: float | None,
    environ: Mapping[str, str],
) -> Target:
    """The endpoint the flags name, validated; SettingsError (exit 2) for anything wrong."""
    if engine is not None and engine not in ENGINE_NAMES:
        raise SettingsError(
            stack or "-",
            "--engine",
            f"{engine!r} is not an engine llmplane deploys",
            f"use one of: {choices(engine, ENGINE_NAMES)}",
        )
    if url is not None and (stack is not None or outputs_file is not None):
        raise SettingsError(
            stack or "-", "--url", "comes with --stack or --outputs", "give one: --url or --stack"
        )
    if url is None and stack is None and outputs_file is None:
        raise SettingsError(
            "-", "--url", "is missing", "pass --url URL, or --stack STACK to read its outputs"
        )
    if url is not None:
        base = checked_url("-", "--url", url)
        facts: dict[str, Any] = {}
    else:
        facts = stack_facts(stack, read_outputs(stack, outputs_file))
        base = facts.pop("url")
    name = stack or "-"
    token, auth, secrets = _token(name, base, token_env, environ)
    if facts.get("public") and token is None:
        raise SettingsError(
            name,
            "publicEndpoint",
            "is behind the API-key gateway, and no key was given",
            f"export {token_env or DEFAULT_TOKEN_ENV}=<one of the stack's llmplane:apiKeys>",
        )
    seconds, source = _wait(name, stacks_dir, wait)
    return Target(
        url=base,
        stack=stack,
        cloud=facts.get("cloud"),
        engine=engine or facts.get("engine"),
        model=model or facts.get("model"),
        model_from_flag=model is not None,
        gpu=facts.get("gpu"),
        token=token,
        auth=auth,
        wait_seconds=seconds,
        wait_source=source,
        secrets=secrets,
    )


def _token(
    stack: str, url: str, token_env: str | None, environ: Mapping[str, str]
) -> tuple[str | None, str, tuple[str, ...]]:
    """The token, where it came from (printable), and every string that must not be printed."""
    password = urlsplit(url).password
    secrets = tuple(s for s in (password,) if s)
    variable = token_env or DEFAULT_TOKEN_ENV
    value = environ.get(variable, "").strip()
    if not value:
        if token_env is not None:
            raise SettingsError(
                stack,
                "--token-env",
                f"${variable} is not set, or is empty",
                f"export {variable}=<the endpoint's API key>, or drop --token-env",
            )
        return None, "none", secrets
    secrets = (value, *secrets)
    parts = urlsplit(url)
    if parts.scheme == "http" and not _loopback(parts.hostname or ""):
        if token_env is not None:
            raise SettingsError(
                stack,
                "--token-env",
                f"would send ${variable} in clear text to {parts.hostname} over http",
                "use the https:// endpoint, or port-forward it to 127.0.0.1",
            )
        # The default variable may be set for another endpoint; an http one gets no key.
        return (
            None,
            f"none: ${variable} was withheld over plain http to a non-loopback host",
            secrets,
        )
    return value, f"Bearer token from ${variable}", secrets


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def stack_file(stack: str | None, stacks_dir: Path) -> Path | None:
    """The stack's `Pulumi.<stack>.yaml` in `stacks_dir`; None for no stack or no such file."""
    if stack is None or stack == "-":
        return None
    path = stacks_dir / f"Pulumi.{stack}.yaml"
    return path if path.is_file() else None


def stack_file_settings(path: Path) -> StackSettings:
    """The settings of a stack file, checked as `plan` checks them (SettingsError if bad)."""
    # Imported here: settings load pydantic, which only the commands that read a stack need.
    from ..config.settings import parse
    from ..config.stackfile import read_stack_file

    return parse(*read_stack_file(path))


def _wait(stack: str, stacks_dir: Path, wait: float | None) -> tuple[float, str]:
    """--wait, else the stack's cold-start budget (or startup budget), else the default."""
    if wait is not None:
        return wait, "--wait"
    path = stack_file(stack, stacks_dir)
    if path is None:
        return DEFAULT_WAIT_SECONDS, "default"
    from ..sizing.serving import serving_for

    serving = serving_for(stack_file_settings(path))
    if serving.cold_start is not None:
        # From zero replicas: a GPU node, the image, the weights and the warm-up, with a margin.
        return float(serving.cold_start.timeout_seconds), f"the cold-start budget of {path}"
    return float(serving.startup_seconds), f"the startup budget of {path}"
