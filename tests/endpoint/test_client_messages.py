"""What a failed request's one line keeps of the server's body: short plain text, no secrets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest

from llmplane.infra.endpoint.checks import SCALE_FROM_ZERO_HINT, Checks
from llmplane.infra.endpoint.client import Failure, StatusError, classify, probe
from llmplane.infra.endpoint.target import Target

TARGET = Target(url="http://127.0.0.1:9", wait_seconds=30, wait_source="test")


@dataclass
class _Response:
    status_code: int
    text: str


class _HttpError(Exception):
    """What huggingface_hub raises for a status it does not like: the response attached."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status} error")
        self.response = _Response(status, body)


def _detail(status: int, body: str) -> str:
    return classify(_HttpError(status, body), TARGET).detail


def test_the_interceptors_plain_text_504_survives_as_one_line() -> None:
    # Go's http.Error, as KEDA's interceptor answers a request held past its hold.
    assert _detail(504, "Gateway Timeout\n") == "HTTP 504: Gateway Timeout"
    assert _detail(502, "error on backend\n(dial tcp: refused)\n") == (
        "HTTP 502: error on backend (dial tcp: refused)"
    )


def test_json_still_gives_its_message_and_pages_give_nothing() -> None:
    assert _detail(503, '{"error": "Model is loading"}') == "HTTP 503: Model is loading"
    page = "<html><head><title>504 Gateway Time-out</title></head><body>nginx</body></html>"
    assert _detail(504, page) == "HTTP 504"
    assert _detail(500, "x " * 150) == "HTTP 500"  # too long to be a message
    assert _detail(500, "") == "HTTP 500"


@pytest.mark.parametrize(
    "body",
    [
        "unauthorized: Bearer abcdefghijklmnop0123",
        "bad token hf_abcdefghijklmnopqrstuvwxyz123456",
        "key sk-proj-abcdef123456 refused",
        "api_key=hunter2hunter2",
        "token: s3cr3t",
        "password = letmein",
        "-----BEGIN PRIVATE KEY-----",
        "refused " + "k" * 40,
        "bell\x07 in the body",
    ],
)
def test_a_body_that_looks_secret_is_never_echoed(body: str) -> None:
    assert _detail(401, body) == "HTTP 401"


def test_a_probes_body_gets_the_same_screening(monkeypatch: pytest.MonkeyPatch) -> None:
    class Session:
        def get(self, url: str, **_: Any) -> _Response:
            return _Response(504, "Gateway Timeout\n" if url.endswith("/a") else "token=abc")

    monkeypatch.setattr("huggingface_hub.utils.get_session", Session)
    with pytest.raises(StatusError) as plain:
        probe(TARGET, "/a", timeout=1)
    assert classify(plain.value, TARGET).detail == "HTTP 504: Gateway Timeout"
    with pytest.raises(StatusError) as secret:
        probe(TARGET, "/b", timeout=1)
    assert classify(secret.value, TARGET).detail == "HTTP 504"


def _explain(failure: Failure, attempts: int) -> str:
    checks = Checks(TARGET, cast(Any, None), cast(Any, None), timeout=10, max_new_tokens=4)
    return checks.explain("chat", failure, attempts)


def test_a_504_says_a_stack_scaling_from_zero_may_still_be_starting() -> None:
    failure = classify(_HttpError(504, "Gateway Timeout\n"), TARGET)
    assert _explain(failure, 1) == f"HTTP 504: Gateway Timeout: {SCALE_FROM_ZERO_HINT}"
    assert _explain(failure, 3) == (
        "still HTTP 504: Gateway Timeout after 3 attempts over 30 s (wait budget: test); "
        f"{SCALE_FROM_ZERO_HINT}"
    )
    assert "--wait SECONDS" in SCALE_FROM_ZERO_HINT and "cold-start budget" in SCALE_FROM_ZERO_HINT
    # Other not-ready statuses keep the plain advice.
    loading = classify(_HttpError(503, '{"error": "Model is loading"}'), TARGET)
    assert _explain(loading, 3).endswith("; pass --wait SECONDS to wait longer")
