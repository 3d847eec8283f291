"""A scale-from-zero InferenceService and the KEDA HTTP add-on it is held by, under the mocks."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from llmplane.components.kubernetes.activator import scale_from_zero_args
from llmplane.components.kubernetes.addons import KedaAutoscaling, KedaAutoscalingArgs
from llmplane.components.kubernetes.inference import InferenceService
from llmplane.components.kubernetes.service_spec import (
    AutoscalingArgs,
    InferenceServiceArgs,
    PlacementArgs,
)
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
        if hold is not None:
            args["scale_from_zero"] = hold
        handles["service"] = InferenceService("llm", args, opts=on)

    return capture(build), handles
