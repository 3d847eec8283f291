"""The autoscaling stack every cluster gets: KEDA, and a Prometheus that scrapes the engines."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.helm.v3 import ReleaseArgs, RepositoryOptsArgs
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

__all__ = [
    "KEDA_CHART",
    "KEDA_NAMESPACE",
    "MONITORING_NAMESPACE",
    "PROMETHEUS_CHART",
    "Autoscaling",
    "KedaAutoscaling",
    "KedaAutoscalingArgs",
]

# Pinned chart versions: KEDA 2.17.0 (kedacore/charts release v2.17.0, 2025-04) and the
# prometheus-community `prometheus` chart 27.19.0 (Prometheus v3.4.1).
KEDA_CHART = ("keda", "2.17.0", "https://kedacore.github.io/charts")
PROMETHEUS_CHART = ("prometheus", "27.19.0", "https://prometheus-community.github.io/helm-charts")
MONITORING_NAMESPACE = "monitoring"
KEDA_NAMESPACE = "keda"


@dataclass(frozen=True)
class Autoscaling:
    """What workloads need from the autoscaling stack."""

    prometheus_url: str
    """In-cluster URL of the Prometheus server KEDA queries."""
    monitoring_namespace: str
    """Namespace of the metrics scraper, which NetworkPolicies let in."""
    ready: list[pulumi.Resource]
    """Resources a ScaledObject must wait for (KEDA's CRDs come with its chart)."""


def _release(
    name: str, chart: tuple[str, str, str], namespace: str, values: dict[str, object],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:  # fmt: skip
    ns = k8s.core.v1.Namespace(f"{name}-ns", metadata=ObjectMetaArgs(name=namespace), opts=opts)
    chart_name, version, repo = chart
    return k8s.helm.v3.Release(
        name,
        ReleaseArgs(
            name=chart_name,
            chart=chart_name,
            version=version,
            namespace=namespace,
            repository_opts=RepositoryOptsArgs(repo=repo),
            values=values,
            atomic=True,
        ),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[ns])),
    )


@dataclass(frozen=True)
class KedaAutoscalingArgs:
    """KEDA and Prometheus take no settings yet: their chart versions are pinned above."""


class KedaAutoscaling(pulumi.ComponentResource):
    """KEDA (queue-depth scaling, scale to zero) and a small Prometheus, from vendor charts.

    Any cluster gets it: pass the cluster's Kubernetes provider in `opts.providers`.
    """

    handle: Autoscaling
    """What InferenceService needs from it (the Prometheus URL, its namespace, what to wait for)."""

    def __init__(
        self,
        name: str,
        args: KedaAutoscalingArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Install both charts into their own namespaces, as children of this component."""
        super().__init__("llmplane:kubernetes:KedaAutoscaling", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        keda = _release(f"{name}-keda", KEDA_CHART, KEDA_NAMESPACE, {}, child)
        # Only the server: the engines' /metrics via pod annotations is all KEDA needs, and the
        # other components (alertmanager, node exporter, ...) are for a monitoring stack of your
        # own.
        prometheus = _release(
            f"{name}-prometheus",
            PROMETHEUS_CHART,
            MONITORING_NAMESPACE,
            {
                "alertmanager": {"enabled": False},
                "kube-state-metrics": {"enabled": False},
                "prometheus-node-exporter": {"enabled": False},
                "prometheus-pushgateway": {"enabled": False},
                "server": {"retention": "2d", "persistentVolume": {"size": "8Gi"}},
            },
            child,
        )
        self.handle = Autoscaling(
            prometheus_url=f"http://prometheus-server.{MONITORING_NAMESPACE}.svc.cluster.local",
            monitoring_namespace=MONITORING_NAMESPACE,
            ready=[keda, prometheus],
        )
        self.register_outputs({"prometheusUrl": self.handle.prometheus_url})
