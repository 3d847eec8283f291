"""The autoscaling stack: KEDA, a Prometheus that scrapes the engines, and KEDA's HTTP add-on."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.helm.v3 import ReleaseArgs, RepositoryOptsArgs
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    NetworkPolicyIngressRuleArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)

from .pod import CLIENT_LABEL

__all__ = [
    "DEFAULT_HOLD_SECONDS",
    "DRAIN_SECONDS",
    "HTTP_ADD_ON_CHART",
    "INTERCEPTOR_LABELS",
    "INTERCEPTOR_PORT",
    "KEDA_CHART",
    "KEDA_NAMESPACE",
    "MONITORING_NAMESPACE",
    "PROMETHEUS_CHART",
    "RESPONSE_HEADER_SECONDS",
    "SCALER_PORT",
    "Activator",
    "Autoscaling",
    "KedaAutoscaling",
    "KedaAutoscalingArgs",
    "http_add_on_values",
]

# Pinned chart versions: KEDA 2.20.2 (kedacore/charts cbb9bb8, 2026-07-31), the newest release;
# KEDA's docs test v2.20 on Kubernetes 1.33-1.35 (keda-docs content/docs/2.20/operate/cluster.md).
# The prometheus-community `prometheus` chart 27.19.0 (Prometheus v3.4.1).
KEDA_CHART = ("keda", "2.20.2", "https://kedacore.github.io/charts")
PROMETHEUS_CHART = ("prometheus", "27.19.0", "https://prometheus-community.github.io/helm-charts")
# The HTTP add-on 0.15.0 (kedacore/charts c4b92e9, 2026-06-15), the newest release: its e2e suite
# installs KEDA chart 2.20.0 (http-add-on v0.15.0 Makefile, KEDA_VERSION) on Kubernetes 1.34-1.36.
# tests/conformance/research/keda-http-add-on.md has the sources.
HTTP_ADD_ON_CHART = ("keda-add-ons-http", "0.15.0", "https://kedacore.github.io/charts")
MONITORING_NAMESPACE = "monitoring"
KEDA_NAMESPACE = "keda"
# Service names and ports of chart 0.15.0: `<chart>-interceptor-proxy` on interceptor.proxy.port,
# `<chart>-external-scaler` on scaler.grpcPort, both in the release's namespace
# (templates/interceptor/service-proxy.yaml, templates/scaler/service.yaml).
INTERCEPTOR_PORT = 8080
SCALER_PORT = 9090
# The interceptor's admin server (chart value interceptor.admin.port), whose /queue the add-on's
# scaler reads to tell KEDA how many requests wait.
INTERCEPTOR_ADMIN_PORT = 9090
# The interceptor pods' labels (chart templates/interceptor/deployment.yaml), which engines'
# NetworkPolicies let in.
INTERCEPTOR_LABELS = {
    "app.kubernetes.io/component": "interceptor",
    "app.kubernetes.io/name": "http-add-on",
}
# A GPU node from zero and a 10 GB image (about 15 minutes), then a model load of up to 15 more.
DEFAULT_HOLD_SECONDS = 1800
# How long the interceptor waits for the engine's response headers. A non-streamed completion
# sends them only when the answer is done; the chart's default (300 s) cuts long ones short.
RESPONSE_HEADER_SECONDS = 600
# How long a replaced interceptor pod lets requests in flight finish. Its own ScaledObject scales
# it down, and the chart's 30 s would cut every token stream longer than that.
DRAIN_SECONDS = RESPONSE_HEADER_SECONDS
# The chart's shutdownDelay (5 s), before the drain; the pod's grace period must cover both.
_SHUTDOWN_DELAY_SECONDS = 5
# Set explicitly, so that no image's USER decides it: 0.15.0's images are static Go binaries on
# ko's base ghcr.io/wolfi-dev/static (http-add-on .ko.yaml), which need no user of their own.
_ADD_ON_UID = 65532


@dataclass(frozen=True)
class Activator:
    """Where KEDA's HTTP add-on listens: what a service needs to have its requests held."""

    interceptor_host: str
    """In-cluster DNS name of the interceptor's proxy Service, where held traffic goes."""
    interceptor_port: int
    """Port of that Service (and of the interceptor pods' `proxy` port)."""
    namespace: str
    """Namespace of the add-on's pods, which engines' NetworkPolicies let in."""
    scaler_address: str
    """host:port of the add-on's external scaler, for a ScaledObject's external-push trigger."""
    hold_seconds: int
    """Longest the interceptor holds a request waiting for a replica (the cluster-wide default)."""
    ready: list[pulumi.Resource] = field(default_factory=list)
    """Resources an HTTPScaledObject must wait for (the add-on's chart brings its CRD)."""


@dataclass(frozen=True)
class Autoscaling:
    """What workloads need from the autoscaling stack."""

    prometheus_url: str
    """In-cluster URL of the Prometheus server KEDA queries."""
    monitoring_namespace: str
    """Namespace of the metrics scraper, which NetworkPolicies let in."""
    ready: list[pulumi.Resource]
    """Resources a ScaledObject must wait for (KEDA's CRDs come with its chart)."""
    activator: Activator | None = None
    """The HTTP add-on that holds requests at zero replicas; None when it is not installed."""


def _release(
    name: str, chart: tuple[str, str, str], namespace: str, values: dict[str, object],
    opts: pulumi.ResourceOptions, after: pulumi.Resource | None = None,
) -> k8s.helm.v3.Release:  # fmt: skip
    """A pinned, atomic release; in a namespace of its own unless it goes `after` another's."""
    if after is None:
        after = k8s.core.v1.Namespace(
            f"{name}-ns", metadata=ObjectMetaArgs(name=namespace), opts=opts
        )
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
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[after])),
    )


def http_add_on_values(hold_seconds: int) -> dict[str, object]:
    """Chart values: the hold, header and drain timeouts, and every component non-root, confined.

    The names are chart 0.15.0's (values.yaml, templates/interceptor/deployment.yaml).
    `interceptor.requestTimeout` stays unset (no deadline): it bounds the whole response, so it
    would cut long token streams. `tcpConnectTimeout` stays at 500 ms a dial: since 0.11.1 the
    interceptor waits for a ready endpoint, not just an address (kedacore/http-add-on#1344).
    """
    pod = {
        "runAsNonRoot": True,
        "runAsUser": _ADD_ON_UID,
        "runAsGroup": _ADD_ON_UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    container = {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    return {
        "interceptor": {
            # KEDA_HTTP_READINESS_TIMEOUT: how long a request waits for a ready engine, then 504.
            "readinessTimeout": f"{hold_seconds}s",
            # KEDA_HTTP_RESPONSE_HEADER_TIMEOUT.
            "responseHeaderTimeout": f"{RESPONSE_HEADER_SECONDS}s",
            # KEDA_HTTP_DRAIN_TIMEOUT; the chart says the grace period must cover delay + drain.
            "drainTimeout": f"{DRAIN_SECONDS}s",
            "terminationGracePeriodSeconds": _SHUTDOWN_DELAY_SECONDS + DRAIN_SECONDS + 10,
        },
        # The chart takes a per-component override of its shared defaults, which set neither
        # runAsNonRoot nor seccomp (chart 0.15.0 has no kube-rbac-proxy sidecar any more).
        "podSecurityContext": {part: pod for part in ("operator", "scaler", "interceptor")},
        "securityContext": {part: container for part in ("operator", "scaler", "interceptor")},
    }


@dataclass(frozen=True)
class KedaAutoscalingArgs:
    """Which optional parts to install; the chart versions are pinned above."""

    hold_requests: bool = False
    """Install KEDA's HTTP add-on, whose interceptor holds requests at zero replicas; default no."""
    hold_seconds: int = DEFAULT_HOLD_SECONDS
    """Longest a request is held waiting for a replica; pass the cold-start budget (seconds)."""


def _interceptor_callers(
    name: str, add_on: k8s.helm.v3.Release, opts: pulumi.ResourceOptions
) -> k8s.networking.v1.NetworkPolicy:
    """Who may reach the interceptor: client namespaces on its proxy, KEDA's namespace on admin.

    The interceptor forwards to any held engine whose name a request carries as its Host, so
    it admits exactly the callers the engines' own policies do (namespaces labelled as clients;
    each held service's gateway adds a policy of its own). The chart ships no NetworkPolicy.
    Traffic from the node (kubelet probes) is always allowed.
    """
    return k8s.networking.v1.NetworkPolicy(
        f"{name}-interceptor",
        metadata=ObjectMetaArgs(name="llmplane-interceptor-callers", namespace=KEDA_NAMESPACE),
        spec=NetworkPolicySpecArgs(
            pod_selector=LabelSelectorArgs(match_labels=INTERCEPTOR_LABELS),
            policy_types=["Ingress"],
            ingress=[
                NetworkPolicyIngressRuleArgs(
                    from_=[
                        NetworkPolicyPeerArgs(
                            namespace_selector=LabelSelectorArgs(
                                match_labels={CLIENT_LABEL: "true"}
                            )
                        )
                    ],
                    ports=[NetworkPolicyPortArgs(port=INTERCEPTOR_PORT, protocol="TCP")],
                ),
                NetworkPolicyIngressRuleArgs(
                    # The add-on's scaler, in this namespace.
                    from_=[NetworkPolicyPeerArgs(pod_selector=LabelSelectorArgs())],
                    ports=[NetworkPolicyPortArgs(port=INTERCEPTOR_ADMIN_PORT, protocol="TCP")],
                ),
            ],
        ),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[add_on])),
    )


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
        """Install the charts into their own namespaces, as children of this component."""
        args = args or KedaAutoscalingArgs()
        if args.hold_requests and args.hold_seconds < 1:
            raise ValueError(
                f"KedaAutoscaling {name}: hold_seconds must be at least 1, not {args.hold_seconds}"
            )
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
        activator = None
        if args.hold_requests:
            # In KEDA's namespace, as the add-on's docs install it, and after KEDA: its chart
            # creates a ScaledObject for the interceptor itself.
            add_on = _release(
                f"{name}-http-add-on",
                HTTP_ADD_ON_CHART,
                KEDA_NAMESPACE,
                http_add_on_values(args.hold_seconds),
                child,
                after=keda,
            )
            _interceptor_callers(name, add_on, child)
            chart = HTTP_ADD_ON_CHART[0]
            activator = Activator(
                interceptor_host=f"{chart}-interceptor-proxy.{KEDA_NAMESPACE}.svc.cluster.local",
                interceptor_port=INTERCEPTOR_PORT,
                namespace=KEDA_NAMESPACE,
                # The operator's own spelling, `<service>.<namespace>:<port>` (pkg/k8s).
                scaler_address=f"{chart}-external-scaler.{KEDA_NAMESPACE}:{SCALER_PORT}",
                hold_seconds=args.hold_seconds,
                ready=[keda, add_on],
            )
        self.handle = Autoscaling(
            prometheus_url=f"http://prometheus-server.{MONITORING_NAMESPACE}.svc.cluster.local",
            monitoring_namespace=MONITORING_NAMESPACE,
            ready=[keda, prometheus],
            activator=activator,
        )
        outputs: dict[str, object] = {"prometheusUrl": self.handle.prometheus_url}
        if activator is not None:
            outputs["interceptorHost"] = activator.interceptor_host
        self.register_outputs(outputs)
