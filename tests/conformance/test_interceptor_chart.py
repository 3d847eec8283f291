"""What llmplane configures for KEDA's interceptor, read the way interceptor v0.15.0 reads it.

The chart values (`http_add_on_values`) become the container's env as chart 0.15.0's template
renders it (interceptor_chart.py), and the stand-in parses that env as `MustParseTimeouts` does.
The HTTPScaledObject's `timeouts` become the route's, as the routing table converts them
(pkg/routing/table.go). A request held past the service's hold then gets the interceptor's 504.
"""

from __future__ import annotations

import http.client
import time
from typing import Any

from llmplane.components.kubernetes.activator import API_VERSION, KIND
from llmplane.components.kubernetes.addons import (
    DRAIN_SECONDS,
    INTERCEPTOR_PORT,
    RESPONSE_HEADER_SECONDS,
    http_add_on_values,
)
from tests.components.held import HOLD_SECONDS, held_plan
from tests.conformance.interceptor_chart import chart_env, interceptor_values
from tests.conformance.interceptor_standin import (
    InterceptorStandIn,
    Route,
    Timeouts,
    go_duration,
    running,
)
from tests.plans import one

HELD = f"kubernetes:{API_VERSION}:{KIND}"
LATE_MARGIN = 1.5  # a loaded machine answers late, never early


def test_the_chart_values_become_the_timeouts_the_interceptor_reads() -> None:
    values = http_add_on_values(1800)
    env = chart_env(values)
    assert env["KEDA_HTTP_READINESS_TIMEOUT"] == "1800s"
    assert env["KEDA_HTTP_PROXY_PORT"] == str(INTERCEPTOR_PORT)
    assert Timeouts.from_env(env) == Timeouts(
        request=0.0, response_header=float(RESPONSE_HEADER_SECONDS), readiness=1800.0, connect=0.5
    )
    # No whole-request deadline, no dial workaround, and none of the deprecated names, which
    # the interceptor would prefer to the new ones.
    assert not {
        "KEDA_HTTP_REQUEST_TIMEOUT",
        "KEDA_HTTP_CONNECT_TIMEOUT",
        "KEDA_CONDITION_WAIT_TIMEOUT",
        "KEDA_RESPONSE_HEADER_TIMEOUT",
    } & set(env)
    # A replaced interceptor pod drains its streams, within a grace period that covers it.
    drain = go_duration(env["KEDA_HTTP_DRAIN_TIMEOUT"])
    assert drain == DRAIN_SECONDS
    grace = interceptor_values(values)["terminationGracePeriodSeconds"]
    assert grace >= go_duration(env["KEDA_HTTP_SHUTDOWN_DELAY"]) + drain


def test_without_llmplanes_values_the_interceptor_would_hold_without_bound() -> None:
    assert Timeouts.from_env(chart_env({})) == Timeouts()
    assert "KEDA_HTTP_READINESS_TIMEOUT" not in chart_env({})
    # Chart 0.11's value name survives only as the template's fallback.
    old = {"interceptor": {"replicas": {"waitTimeout": "20s"}}}
    assert chart_env(old)["KEDA_HTTP_READINESS_TIMEOUT"] == "20s"


def _route(spec: dict[str, Any]) -> Route:
    """The HTTPScaledObject as the routing table converts it; its Service never gets ready."""
    timeouts = spec["timeouts"]
    return Route(
        "llm-held",
        "llm",
        "http://127.0.0.1:9",
        hosts=tuple(spec["hosts"]),
        readiness=go_duration(timeouts["conditionWait"]) or None,
        response_header=go_duration(timeouts["responseHeader"]) or None,
    )


def test_the_services_hold_overrides_the_clusters_and_ends_in_the_interceptors_504() -> None:
    plan, handles = held_plan(hold_seconds=1)
    spec = one(plan, HELD)["inputs"]["spec"]
    route = _route(spec)
    assert (route.readiness, route.response_header) == (1.0, float(RESPONSE_HEADER_SECONDS))
    cluster = handles["scaling"].handle.activator.hold_seconds
    assert cluster == HOLD_SECONDS
    timeouts = Timeouts.from_env(chart_env(http_add_on_values(cluster)))
    assert timeouts.readiness == HOLD_SECONDS
    with running(InterceptorStandIn([route], timeouts)) as standin:
        port = int(standin.proxy_url.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.monotonic()
        try:
            connection.request("POST", "/v1/chat/completions", b"{}", {"Host": route.hosts[0]})
            response = connection.getresponse()
            body, elapsed = response.read(), time.monotonic() - started
        finally:
            connection.close()
    assert 1.0 - 0.01 <= elapsed <= 1.0 + LATE_MARGIN, elapsed
    assert (response.status, body) == (504, b"Gateway Timeout\n")
    assert [h.outcome for h in standin.held] == ["readiness-timeout"]
