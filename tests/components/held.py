"""A scale-from-zero service wired as InferenceService will wire it, built under the plan mocks.

InferenceService does not call the activator yet; `Wired` builds the same objects it does (engine
Deployment and Service, NetworkPolicies, gateway, ScaledObject) with the activator's route in
between, so that tests can read what a held service registers before the component is changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apps.v1 import DeploymentSpecArgs
from pulumi_kubernetes.core.v1 import PodTemplateSpecArgs, ServicePortArgs, ServiceSpecArgs
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs

from llmplane.components.kubernetes.activator import (
    HeldRoute,
    ScaleFromZeroArgs,
    check_scale_from_zero,
    hold_requests,
    scale_from_zero_args,
)
from llmplane.components.kubernetes.addons import KedaAutoscaling, KedaAutoscalingArgs
from llmplane.components.kubernetes.gateway import build_gateway
from llmplane.components.kubernetes.pod import engine_pod
from llmplane.components.kubernetes.service_spec import (
    AutoscalingArgs,
    InferenceServiceArgs,
    PlacementArgs,
    resolve,
)
from llmplane.components.kubernetes.traffic import network_policies, scaled_object
from llmplane.infra.offline.synth import Plan
from tests.components.direct import capture

HOLD_SECONDS = 1200
KEY = "k" * 40
CERT = "-----BEGIN CERTIFICATE-----\nMIIBfakecert\n-----END CERTIFICATE-----\n"
PRIVATE = "-----BEGIN PRIVATE KEY-----\nMIIEfakekey\n-----END PRIVATE KEY-----\n"
GPU = PlacementArgs(node_selector={"nvidia.com/gpu.present": "true"}, tolerations=[{"key": "gpu"}])
WAKE = {"timezone": "Europe/Berlin", "start": "0 8 * * 1-5", "end": "0 20 * * 1-5"}


def service_args(min_replicas: int = 0, **extra: Any) -> InferenceServiceArgs:
    """A gated-free model with a gateway and active hours, scaling to `min_replicas`."""
    args = InferenceServiceArgs(
        model_id="Qwen/Qwen2.5-7B-Instruct",
        placement=GPU,
        namespace="llm",
        create_namespace=True,
        min_replicas=min_replicas,
        max_replicas=2,
        gateway={"api_keys": KEY, "tls_certificate": CERT, "tls_key": PRIVATE},
        wake=WAKE,  # type: ignore[typeddict-item]
    )
    args.update(extra)  # type: ignore[typeddict-item]
    return args


class Wired(pulumi.ComponentResource):
    """InferenceService's wiring of a held service, cut to the objects the activator touches."""

    held: HeldRoute | None
    """What hold_requests returned."""

    def __init__(
        self,
        name: str,
        args: InferenceServiceArgs,
        hold: ScaleFromZeroArgs | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        spec = resolve(name, args)
        check_scale_from_zero(name, hold, spec.autoscaling is not None)
        super().__init__("tests:index:Wired", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns", metadata=ObjectMetaArgs(name=spec.namespace), opts=child
        )
        ns_name = namespace.metadata.apply(lambda m: m.name or "llm")

        def meta(
            object_name: str, annotations: Mapping[str, pulumi.Input[str]] | None = None
        ) -> ObjectMetaArgs:
            return ObjectMetaArgs(
                name=object_name,
                namespace=ns_name,
                labels=spec.labels,
                annotations=dict(annotations) if annotations else None,
            )

        deployment = k8s.apps.v1.Deployment(
            name,
            metadata=meta(spec.object_name()),
            spec=DeploymentSpecArgs(
                replicas=spec.replicas,
                selector=LabelSelectorArgs(match_labels=spec.labels),
                template=PodTemplateSpecArgs(
                    metadata=ObjectMetaArgs(labels=spec.labels),
                    spec=engine_pod(spec, None, spec.object_name(), None),
                ),
            ),
            opts=child,
        )
        service = k8s.core.v1.Service(
            f"{name}-svc",
            metadata=meta(spec.object_name()),
            spec=ServiceSpecArgs(
                type="ClusterIP",
                selector=spec.labels,
                ports=[ServicePortArgs(name="http", port=80, target_port="http")],
            ),
            opts=child,
        )
        # The order InferenceService will use: the route first, then everything that reads it.
        self.held = hold_requests(spec, hold, meta, deployment, service, self)
        network_policies(spec, meta, child, self.held)
        if spec.gateway is not None:
            upstream = pulumi.Output.concat(
                "http://", spec.object_name(), ".", ns_name, ".svc.cluster.local:80"
            )
            build_gateway(spec, spec.gateway, upstream, meta, child, self.held)
        if spec.autoscaling is not None:
            scaled_object(spec, spec.autoscaling, meta, deployment, self, self.held)
        self.register_outputs({})


def held_plan(
    min_replicas: int = 0, hold_seconds: int | None = None, with_activator: bool = True
) -> tuple[Plan, dict[str, Any]]:
    """The plan of the add-on and one wired service, and the handles that built it."""
    handles: dict[str, Any] = {}

    def build() -> None:
        cluster = k8s.Provider("cluster", context="lab")
        on = pulumi.ResourceOptions(providers=[cluster])
        scaling = KedaAutoscaling(
            "scale", KedaAutoscalingArgs(hold_requests=True, hold_seconds=HOLD_SECONDS), opts=on
        )
        activator = scaling.handle.activator
        assert activator is not None
        autoscaling = AutoscalingArgs(
            prometheus_url=scaling.handle.prometheus_url,
            monitoring_namespace=scaling.handle.monitoring_namespace,
        )
        hold = scale_from_zero_args(activator, hold_seconds) if with_activator else None
        args = service_args(min_replicas, autoscaling=autoscaling)
        handles["scaling"] = scaling
        handles["service"] = Wired("llm", args, hold, opts=on)

    return capture(build), handles
