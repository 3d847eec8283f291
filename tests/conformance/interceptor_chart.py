"""The interceptor's environment as the add-on's chart 0.15.0 renders it from Helm values.

Restated from kedacore/charts c4b92e9 (the keda-add-ons-http 0.15.0 release),
`http-add-on/templates/interceptor/deployment.yaml` (the container's `env`) and
`http-add-on/values.yaml` (the defaults), so that the values llmplane sets
(`components.kubernetes.addons.http_add_on_values`) can be fed to the stand-in's
`Timeouts.from_env` as the real interceptor would read them. Helm itself is not run: no registry
this machine reaches ships the chart, and the template is a dozen `with`/`default` lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# values.yaml defaults of chart 0.15.0 for what the env block reads.
DEFAULTS: dict[str, Any] = {
    "proxy": {"port": 8080},
    "admin": {"port": 9090},
    "replicas": {"waitTimeout": ""},
    "shutdownDelay": "5s",
    "drainTimeout": "30s",
    "terminationGracePeriodSeconds": 45,
    "requestTimeout": "",
    "responseHeaderTimeout": "",
    "readinessTimeout": "",
    "tcpConnectTimeout": "",
    "maxIdleConns": 1000,
    "maxIdleConnsPerHost": 200,
    "extraEnvs": {},
}


def interceptor_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """`.Values.interceptor`: the chart's defaults with the given values merged in, as Helm does."""
    given = dict(values.get("interceptor") or {})
    merged = {**DEFAULTS, **given}
    for nested in ("proxy", "admin", "replicas"):
        merged[nested] = {**DEFAULTS[nested], **(given.get(nested) or {})}
    return merged


def chart_env(values: Mapping[str, Any]) -> dict[str, str]:
    """The interceptor container's env: `{{- with }}` drops an empty value, as the template does."""
    interceptor = interceptor_values(values)
    env = {
        "KEDA_HTTP_PROXY_PORT": str(interceptor["proxy"]["port"]),
        "KEDA_HTTP_ADMIN_PORT": str(interceptor["admin"]["port"]),
    }
    optional = {
        "KEDA_HTTP_REQUEST_TIMEOUT": interceptor["requestTimeout"],
        "KEDA_HTTP_RESPONSE_HEADER_TIMEOUT": interceptor["responseHeaderTimeout"],
        # readinessTimeout | default replicas.waitTimeout (the deprecated fallback).
        "KEDA_HTTP_READINESS_TIMEOUT": interceptor["readinessTimeout"]
        or interceptor["replicas"]["waitTimeout"],
        "KEDA_HTTP_CONNECT_TIMEOUT": interceptor["tcpConnectTimeout"],
    }
    env.update({name: str(value) for name, value in optional.items() if value})
    env["KEDA_HTTP_MAX_IDLE_CONNS"] = str(interceptor["maxIdleConns"])
    env["KEDA_HTTP_MAX_IDLE_CONNS_PER_HOST"] = str(interceptor["maxIdleConnsPerHost"])
    env["KEDA_HTTP_SHUTDOWN_DELAY"] = str(interceptor["shutdownDelay"])
    env["KEDA_HTTP_DRAIN_TIMEOUT"] = str(interceptor["drainTimeout"])
    env.update({name: str(value) for name, value in interceptor["extraEnvs"].items()})
    return env
