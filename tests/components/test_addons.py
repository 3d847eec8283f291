"""KedaAutoscaling built directly, on a provider of the caller's: two pinned charts, one handle."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from llmplane.components.kubernetes.addons import (
    KEDA_CHART,
    MONITORING_NAMESPACE,
    PROMETHEUS_CHART,
    KedaAutoscaling,
)
from tests.components.direct import capture
from tests.plans import of_type, one

RELEASE = "kubernetes:helm.sh/v3:Release"


def test_keda_and_prometheus_install_through_the_given_provider() -> None:
    handles: dict[str, Any] = {}

    def build() -> None:
        cluster = k8s.Provider("theirs", context="lab")
        handles["scaling"] = KedaAutoscaling(
            "scale", opts=pulumi.ResourceOptions(providers=[cluster])
        )

    plan = capture(build)
    component = one(plan, "llmplane:kubernetes:KedaAutoscaling", "scale")
    provider = one(plan, "pulumi:providers:kubernetes", "theirs")
    releases = {r["name"]: r for r in of_type(plan, RELEASE)}
    assert set(releases) == {"scale-keda", "scale-prometheus"}
    for name, chart in (("scale-keda", KEDA_CHART), ("scale-prometheus", PROMETHEUS_CHART)):
        release = releases[name]
        assert release["parent"] == component["urn"]
        assert release["provider"] == provider["urn"]
        assert (release["inputs"]["chart"], release["inputs"]["version"]) == chart[:2]
        assert release["inputs"]["repositoryOpts"]["repo"] == chart[2]
        assert release["inputs"]["atomic"] is True
        # Each chart goes into a namespace it creates first.
        namespace = one(plan, "kubernetes:core/v1:Namespace", f"{name}-ns")
        assert namespace["urn"] in release["dependencies"]
    # Only the server of the Prometheus chart: KEDA needs nothing else.
    values = releases["scale-prometheus"]["inputs"]["values"]
    assert values["alertmanager"] == {"enabled": False}
    assert values["prometheus-node-exporter"] == {"enabled": False}
    handle = handles["scaling"].handle
    assert handle.prometheus_url == (
        f"http://prometheus-server.{MONITORING_NAMESPACE}.svc.cluster.local"
    )
    assert len(handle.ready) == 2
