"""huggingface_hub clients for a live endpoint, and what their failures mean, in one line each.

Behaviours of huggingface_hub (2.4, read from its source) that shape this module:
- Given a URL, InferenceClient posts `text_generation` to that URL as is, so llmplane passes
  TGI's `/generate` and `/generate_stream` itself; `chat_completion` appends
  `/v1/chat/completions`, and sends the model "dummy" unless told the served name (vLLM then
  answers 404, so the served name is always passed).
- With no token it sends the machine's Hugging Face token (HF_TOKEN, `hf auth login`) to the
  URL. A header set to None overrides it: huggingface_hub drops None-valued headers last.
- `health_check()` refuses a client built from a URL alone ("not supported on 'None'") and
  hides the status, so probes use huggingface_hub's HTTP session directly.
- HF_HUB_OFFLINE=1 blocks every request of that session, even to your own endpoint.
- Failures arrive as HfHubHTTPError (with the response), TextGenerationError (TGI's
  `error_type`, chained to the HTTP error), InferenceTimeoutError, the transport's connection
  errors (httpx in 1.x and later, requests or aiohttp before), or JSONDecodeError for a body
  that is not JSON.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from ..config.errors import SettingsError
from .target import Target

if TYPE_CHECKING:
    from huggingface_hub import AsyncInferenceClient, InferenceClient

# Target.redact: the target's own secrets out of a text.
Redact = Callable[[str], str]

# The endpoint is up but not serving yet (loading, a rollout, a load balancer catching up).
NOT_READY_STATUSES = frozenset({429, 502, 503, 504})
EXCERPT_CHARS = 160
# Longer than this, a body that is not JSON is a page (HTML, a stack trace), not a message.
PLAIN_BODY_CHARS = 200
# What a credential looks like when a server echoes one: a Bearer value, a Hugging Face or
# OpenAI-style key, a PEM block, `key=value` / `token: value`, or a long unbroken run of
# token characters. A message with any of these is dropped whole, never shown.
_SECRET_LIKE = re.compile(
    r"(?i)bearer\s+[\w.~+/-]{8,}|\bhf_[A-Za-z0-9]{6,}|\bsk-[\w-]{6,}|-----BEGIN"
    r"|\b(?:api[_-]?key|access[_-]?key|token|secret|password|passwd)\s*[:=]"
    r"|[A-Za-z0-9_+=-]{32,}"
)


class Malformed(Exception):
    """A response that parsed but lacks what the protocol promises (no tokens, no finish)."""


class StatusError(Exception):
    """A probe answered with a status other than 200."""

    def __init__(self, status: int, excerpt: str) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.excerpt = excerpt


@dataclass(frozen=True)
class Failure:
    """What went wrong with one request, in words a user can act on."""

    kind: str
    """Short and stable, for grouping: http-503, timeout, refused, dns, tls, malformed, ..."""
    detail: str
    """One line, secrets redacted."""
    not_ready: bool
    """Whether an endpoint that is still starting would fail this way (worth waiting for)."""


def check_online() -> None:
    """Refuse at once, as bad input, when HF_HUB_OFFLINE would block every request."""
    from huggingface_hub import constants

    if constants.is_offline_mode():
        raise SettingsError(
            "-",
            "HF_HUB_OFFLINE",
            "is set, and huggingface_hub then refuses every request, even to your own endpoint",
            "unset it for this command: `HF_HUB_OFFLINE= llmplane ...`",
        )


def _headers(target: Target) -> dict[str, str]:
    # None overrides the machine's Hugging Face token that huggingface_hub would add itself;
    # the annotation says str because InferenceClient's does, and None is what it must drop.
    return cast(dict[str, str], {"authorization": None} if target.token is None else {})


def inference_client(target: Target, timeout: float) -> InferenceClient:
    """A synchronous client for the target: its token or none at all, never the machine's."""
    from huggingface_hub import InferenceClient

    return InferenceClient(
        base_url=target.url, token=target.token, timeout=timeout, headers=_headers(target)
    )


def async_inference_client(target: Target, timeout: float) -> AsyncInferenceClient:
    """An asyncio client for the target, with the same token rules."""
    from huggingface_hub import AsyncInferenceClient

    return AsyncInferenceClient(
        base_url=target.url, token=target.token, timeout=timeout, headers=_headers(target)
    )


def probe(target: Target, path: str, timeout: float) -> str:
    """GET a path through huggingface_hub's HTTP session; the body, or StatusError if not 200."""
    from huggingface_hub.utils import get_session

    headers = {} if target.token is None else {"authorization": f"Bearer {target.token}"}
    response = get_session().get(target.url + path, headers=headers, timeout=timeout)
    if response.status_code != 200:
        raise StatusError(response.status_code, _body_message(_text(response), target.redact))
    return _text(response)


def probe_json(target: Target, path: str, timeout: float) -> Any:
    """GET a path and parse its JSON body; Malformed when it is not JSON."""
    body = probe(target, path, timeout)
    try:
        return json.loads(body)
    except ValueError:
        raise Malformed(f"GET {path} answered with something other than JSON") from None


def classify(error: BaseException, target: Target) -> Failure:
    """One line for any failure of a call to the endpoint, with every secret redacted."""
    failure = _classify(error, target)
    return Failure(failure.kind, target.redact(failure.detail), failure.not_ready)


def _classify(error: BaseException, target: Target) -> Failure:
    chain = list(_chain(error))
    host = target.display_url
    if isinstance(error, Malformed):
        return Failure("malformed", str(error), False)
    if isinstance(error, StatusError):
        detail = f"HTTP {error.status}" + (f": {error.excerpt}" if error.excerpt else "")
        return Failure(f"http-{error.status}", detail, error.status in NOT_READY_STATUSES)
    status = _status(chain)
    if status is not None:
        excerpt = _server_message(chain, target.redact)
        detail = f"HTTP {status}" + (f": {excerpt}" if excerpt else "")
        return Failure(f"http-{status}", detail, status in NOT_READY_STATUSES)
    if any(isinstance(e, TimeoutError) for e in chain):
        return Failure("timeout", "no answer within the timeout (--timeout)", True)
    if any(isinstance(e, socket.gaierror) for e in chain):
        return Failure("dns", f"cannot resolve the host of {host}", False)
    if any(isinstance(e, ssl.SSLError) for e in chain):
        reason = next(str(e) for e in chain if isinstance(e, ssl.SSLError))
        return Failure("tls", f"TLS failed: {_excerpt(reason)}", False)
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return Failure("refused", f"connection refused by {host}", True)
    if any(isinstance(e, json.JSONDecodeError) for e in chain):
        return Failure("malformed", "the server answered with malformed JSON", False)
    names = {cls.__name__ for e in chain for cls in type(e).__mro__}
    # Transport errors by name: httpx, requests and aiohttp each have their own classes, and
    # which one huggingface_hub uses depends on its version.
    if names & {
        "RemoteProtocolError",
        "ReadError",
        "ServerDisconnectedError",
        "ChunkedEncodingError",
    }:
        return Failure("disconnected", "the server closed the connection mid-answer", True)
    if any(isinstance(e, ConnectionError) for e in chain) or "ConnectError" in names:
        return Failure("connection", f"cannot connect to {host}: {_excerpt(str(error))}", True)
    if "TextGenerationError" in names:
        return Failure("server-error", f"the server reported: {_excerpt(str(error))}", False)
    if isinstance(error, (KeyError, TypeError, AttributeError, IndexError, ValueError)):
        # huggingface_hub parses bodies permissively; a wrong shape surfaces as these.
        return Failure("malformed", f"unexpected response ({type(error).__name__})", False)
    return Failure("error", f"{type(error).__name__}: {_excerpt(str(error))}", False)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _status(chain: list[BaseException]) -> int | None:
    for error in chain:
        status = _attribute(_attribute(error, "response"), "status_code")
        if isinstance(status, int):
            return status
    return None


def _attribute(value: Any, name: str) -> Any:
    # Not getattr(..., None): httpx's errors raise RuntimeError for parts that were never set.
    try:
        return getattr(value, name, None)
    except Exception:
        return None


def _server_message(chain: list[BaseException], redact: Redact) -> str:
    """What the server said: TGI's text, a JSON body's message, or a short plain-text body."""
    # The plain text is e.g. KEDA's interceptor's `Gateway Timeout` (Go's http.Error).
    for error in chain:
        if any(cls.__name__ == "TextGenerationError" for cls in type(error).__mro__):
            return _shown(str(error), redact)
    for error in chain:
        response = _attribute(error, "response")
        if response is None:
            continue
        message = _body_message(_text(response), redact, raw=False)
        if message:
            return message
    return ""


def _body_message(body: str, redact: Redact, raw: bool = True) -> str:
    """A JSON body's `error`/`message` (OpenAI's nests it), short plain text, or with `raw` any."""
    try:
        document = json.loads(body)
    except ValueError:
        return _plain_message(body, redact) or (_shown(body, redact) if raw else "")
    if isinstance(document, dict):
        message = document.get("error") or document.get("message") or document.get("detail")
        if isinstance(message, dict):
            message = message.get("message")
        if isinstance(message, str):
            return _shown(message, redact)
    return _shown(body, redact) if raw else ""


def _plain_message(body: str, redact: Redact) -> str:
    """A short body that is plain text (not a page), as one line; "" for anything else."""
    text = body.strip()
    if not text or len(text) > PLAIN_BODY_CHARS or text.startswith("<"):
        return ""
    return _shown(text, redact)


def _shown(text: str, redact: Redact) -> str:
    """Server text as one bounded line; "" if it has control characters or looks secret."""
    # The target's own secrets go first, so that an echo of them reads as [redacted], not as "".
    line = " ".join(redact(text).split())
    if not line.isprintable() or _SECRET_LIKE.search(line):
        return ""
    return _excerpt(line)


def _text(response: Any) -> str:
    try:
        return str(response.text)
    except Exception:  # httpx raises for a streamed body nobody read
        return ""


def _excerpt(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= EXCERPT_CHARS else line[: EXCERPT_CHARS - 1] + "…"
