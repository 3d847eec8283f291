"""Scale from zero with requests held: KEDA's HTTP add-on routes a service via its interceptor."""
# No `from __future__ import annotations` here: ScaleFromZeroArgs is part of InferenceServiceArgs,
# whose annotations Pulumi's component analyzer (pulumi.provider.experimental) reads at run time.

from dataclasses import dataclass
from typing import TYPE_CHECKING, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.core.v1 import ServicePortArgs, ServiceSpecArgs
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    NetworkPolicyIngressRuleArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)

from .addons import (
    DEFAULT_HOLD_SECONDS,
    INTERCEPTOR_LABELS,
    RESPONSE_HEADER_SECONDS,
    Activator,
)

if TYPE_CHECKING:
    from .service_spec import ServiceSpec
    from .traffic import Meta

__all__ = [
    "API_VERSION",
    "CONCURRENCY_PER_REPLICA",
    "DIAL_RETRY_SECONDS",
    "INTERCEPTOR_LABELS",
    "KIND",
    "ROLE",
    "SERVICE_PORT_NAME",
    "SKIP_SCALED_OBJECT",
    "TRIGGER",
    "HeldRoute",
    "ScaleFromZeroArgs",
    "check_scale_from_zero",
    "front_door",
    "hold_requests",
    "holds",
    "http_trigger",
    "longest_wait_seconds",
    "route_host",
    "scale_from_zero_args",
]

# Deprecated since add-on 0.14 for InterceptorRoute (http.keda.sh/v1beta1), but still served,
# routed and scaled in 0.15.0; tests/conformance/research/keda-http-add-on.md says how to
# migrate.
API_VERSION = "http.keda.sh/v1alpha1"
KIND = "HTTPScaledObject"
# With it the add-on's operator routes and counts requests but leaves scaling to our own
# ScaledObject, which can then also scale on the queue (operator/controllers/http/app.go).
SKIP_SCALED_OBJECT = "httpscaledobject.keda.sh/skip-scaledobject-creation"
# The trigger type and metadata keys the operator itself writes (pkg/k8s/scaledobject.go), which
# the scaler reads (scaler/handlers.go).
TRIGGER = "external-push"
# Suffix of the HTTPScaledObject's name: the add-on's docs ask for a name other than the
# ScaledObject's, which the operator would otherwise delete as its own.
ROLE = "held"
# The engine Service's port name (inference.py), which the interceptor forwards to.
SERVICE_PORT_NAME = "http"
# In-flight requests per replica the add-on's scaler aims at (its default). The queue trigger
# decides how many engines run; this one matters when there are none.
CONCURRENCY_PER_REPLICA = 100
# Once an endpoint is ready the interceptor dials the Service every 50 ms, for at most a minute
# when the request has no deadline (pkg/net/dial_context.go, maxRetryDuration): ours has none.
DIAL_RETRY_SECONDS = 60


class ScaleFromZeroArgs(TypedDict):
    """KEDA's HTTP add-on, whose interceptor holds a service's requests while it has no replica."""

    interceptor_host: pulumi.Input[str]
    """In-cluster DNS name of the interceptor proxy; an Output of its install makes objects wait."""
    interceptor_port: int
    """Port of the interceptor's proxy Service."""
    interceptor_namespace: pulumi.Input[str]
    """Namespace of the interceptor pods, which the engine's NetworkPolicy lets in."""
    scaler_address: pulumi.Input[str]
    """host:port of the add-on's external scaler, which KEDA asks whether requests wait."""
    hold_seconds: NotRequired[int]
    """Longest a request waits for a ready replica, in seconds; default 1800."""


@dataclass(frozen=True)
class HeldRoute:
    """A service's way in through the interceptor: where callers send requests, and how."""

    upstream: pulumi.Output[str]
    """URL of the interceptor's proxy Service, which callers send the service's requests to."""
    host: pulumi.Output[str]
    """Host header the interceptor routes the service's requests by."""
    namespace: pulumi.Input[str]
    """Namespace of the interceptor pods, for callers' egress and the engine's ingress."""
    port: int
    """The interceptor pods' proxy port, for callers' egress."""
    read_timeout_seconds: int
    """Longest a caller may wait for the first byte: the hold, the retries, the engine's answer."""
    trigger: dict[str, object]
    """The ScaledObject trigger that wakes the engine when a request waits."""
    http_scaled_object: k8s.apiextensions.CustomResource
    """The HTTPScaledObject that routes and counts the service's requests."""


def scale_from_zero_args(
    activator: Activator, hold_seconds: int | None = None
) -> ScaleFromZeroArgs:
    """The cluster's add-on as a service's input; its addresses wait for the add-on's install."""
    # As Outputs of the releases, so that the HTTPScaledObject waits for its CRD and the gateway's
    # nginx for a Service it can resolve.
    ready = pulumi.Output.all(*(resource.urn for resource in activator.ready))
    return ScaleFromZeroArgs(
        interceptor_host=ready.apply(lambda _: activator.interceptor_host),
        interceptor_port=activator.interceptor_port,
        interceptor_namespace=activator.namespace,
        scaler_address=ready.apply(lambda _: activator.scaler_address),
        hold_seconds=activator.hold_seconds if hold_seconds is None else hold_seconds,
    )


def check_scale_from_zero(name: str, hold: ScaleFromZeroArgs | None, has_autoscaling: bool) -> None:
    """Raise ValueError on scale-from-zero args the add-on would refuse or never act on."""
    if hold is None:
        return
    if not has_autoscaling:
        raise ValueError(
            f"InferenceService {name}: scale_from_zero needs autoscaling (KEDA scales the engine)"
        )
    seconds = hold.get("hold_seconds", DEFAULT_HOLD_SECONDS)
    if seconds < 1:
        raise ValueError(
            f"InferenceService {name}: scale_from_zero hold_seconds must be at least 1, "
            f"not {seconds}"
        )
    port = hold["interceptor_port"]
    if not 1 <= port <= 65535:
        raise ValueError(
            f"InferenceService {name}: scale_from_zero interceptor_port must be 1 to 65535, "
            f"not {port}"
        )


def longest_wait_seconds(hold_seconds: int) -> int:
    """How long the interceptor may take to answer: the hold, its dial retries, the engine."""
    return hold_seconds + DIAL_RETRY_SECONDS + RESPONSE_HEADER_SECONDS


def route_host(service_name: pulumi.Input[str], namespace: pulumi.Input[str]) -> pulumi.Output[str]:
    """The Host the interceptor routes by: the engine Service's own in-cluster DNS name."""
    return pulumi.Output.concat(service_name, ".", namespace, ".svc.cluster.local")


def http_trigger(
    hold: ScaleFromZeroArgs, http_scaled_object: pulumi.Input[str]
) -> dict[str, object]:
    """A ScaledObject trigger on the add-on's external scaler: active while requests are held."""
    return {
        "type": TRIGGER,
        "metadata": {
            "scalerAddress": hold["scaler_address"],
            "httpScaledObject": http_scaled_object,
        },
    }


def _gateway_reaches_interceptor(
    spec: "ServiceSpec",
    hold: ScaleFromZeroArgs,
    namespace: pulumi.Output[str],
    parent: pulumi.Resource,
) -> None:
    """Let this service's gateway pods, and no others of its namespace, reach the interceptor.

    KedaAutoscaling admits only namespaces labelled as clients; policies add up, so each held
    service with a gateway adds its own rule in the interceptor's namespace.
    """
    from .gateway import gateway_labels

    k8s.networking.v1.NetworkPolicy(
        f"{spec.name}-held-gateway",
        metadata=ObjectMetaArgs(
            name=namespace.apply(lambda ns: f"llmplane-gateway-{ns}-{spec.base}"),
            namespace=hold["interceptor_namespace"],
            labels=spec.labels,
        ),
        spec=NetworkPolicySpecArgs(
            pod_selector=LabelSelectorArgs(match_labels=INTERCEPTOR_LABELS),
            policy_types=["Ingress"],
            ingress=[
                NetworkPolicyIngressRuleArgs(
                    from_=[
                        NetworkPolicyPeerArgs(
                            namespace_selector=LabelSelectorArgs(
                                match_labels=namespace.apply(
                                    lambda ns: {"kubernetes.io/metadata.name": ns}
                                )
                            ),
                            pod_selector=LabelSelectorArgs(
                                match_labels=spec.labels.apply(gateway_labels)
                            ),
                        )
                    ],
                    ports=[NetworkPolicyPortArgs(port=hold["interceptor_port"], protocol="TCP")],
                )
            ],
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def holds(spec: "ServiceSpec") -> bool:
    """Whether the interceptor holds this service's requests: it scales to zero and has one."""
    return (
        spec.scale_from_zero is not None and spec.min_replicas == 0 and spec.autoscaling is not None
    )


def front_door(
    spec: "ServiceSpec", hold: ScaleFromZeroArgs, meta: "Meta", parent: pulumi.Resource
) -> k8s.core.v1.Service:
    """The Service callers use, `<base>`: a DNS alias of the interceptor, so every call is held.

    An ExternalName Service resolves to the interceptor proxy's address; a client keeps the
    name it called as its Host header, which the HTTPScaledObject routes by (the interceptor
    drops the port). The engine's own Service, `<base>-engine`, is what the interceptor calls.
    """
    return k8s.core.v1.Service(
        f"{spec.name}-front",
        metadata=meta(spec.object_name()),
        spec=ServiceSpecArgs(
            type="ExternalName",
            external_name=hold["interceptor_host"],
            ports=[ServicePortArgs(name="http", port=hold["interceptor_port"])],
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def hold_requests(
    spec: "ServiceSpec",
    hold: ScaleFromZeroArgs | None,
    meta: "Meta",
    deployment: k8s.apps.v1.Deployment,
    service: k8s.core.v1.Service,
    front: k8s.core.v1.Service | None,
    parent: pulumi.Resource,
) -> HeldRoute | None:
    """An HTTPScaledObject routing `front`'s name to `service`; None when nothing is held."""
    if hold is None or front is None or not holds(spec):
        return None
    namespace = deployment.metadata.apply(lambda m: m.namespace or "")
    service_name = service.metadata.apply(lambda m: m.name or spec.object_name())
    host = route_host(front.metadata.apply(lambda m: m.name or spec.object_name()), namespace)
    if spec.gateway is not None:
        _gateway_reaches_interceptor(spec, hold, namespace, parent)
    seconds = hold.get("hold_seconds", DEFAULT_HOLD_SECONDS)
    name = spec.object_name(ROLE)
    held = k8s.apiextensions.CustomResource(
        f"{spec.name}-held",
        api_version=API_VERSION,
        kind=KIND,
        metadata=meta(name, {SKIP_SCALED_OBJECT: "true"}),
        spec={
            # Through the interceptor's address, so that the object waits for the add-on's CRD.
            "hosts": pulumi.Output.all(hold["interceptor_host"], host).apply(lambda v: [v[1]]),
            "scaleTargetRef": {
                "name": deployment.metadata.apply(lambda m: m.name),
                "kind": "Deployment",
                "apiVersion": "apps/v1",
                "service": service_name,
                # By name, as the engine Service calls its one port; the interceptor may read
                # Services (its chart's ClusterRole), and the number stays the Service's to choose.
                "portName": SERVICE_PORT_NAME,
            },
            # Read by `kubectl get httpso` only: our ScaledObject does the scaling.
            "replicas": {"min": 0, "max": spec.max_replicas},
            "scalingMetric": {"concurrency": {"targetValue": CONCURRENCY_PER_REPLICA}},
            "timeouts": {
                "conditionWait": f"{seconds}s",
                "responseHeader": f"{RESPONSE_HEADER_SECONDS}s",
            },
        },
        opts=pulumi.ResourceOptions(parent=parent),
    )
    upstream = pulumi.Output.concat(
        "http://", hold["interceptor_host"], ":", str(hold["interceptor_port"])
    )
    return HeldRoute(
        upstream=upstream,
        host=host,
        namespace=hold["interceptor_namespace"],
        port=hold["interceptor_port"],
        read_timeout_seconds=longest_wait_seconds(seconds),
        # Through the object, so that KEDA never asks the scaler about one that is not there yet.
        trigger=http_trigger(hold, held.urn.apply(lambda _: name)),
        http_scaled_object=held,
    )
