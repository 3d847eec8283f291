"""A stack's settings as InferenceServiceArgs: the one place the program maps them."""

from __future__ import annotations

import pulumi

from llmplane.components.cloud import Placement
from llmplane.components.cluster import GpuClusterTarget
from llmplane.components.kubernetes.activator import scale_from_zero_args
from llmplane.components.kubernetes.addons import Autoscaling, KedaAutoscalingArgs
from llmplane.components.kubernetes.inference import (
    AutoscalingArgs,
    GatewayArgs,
    GpuTolerationArgs,
    InferenceServiceArgs,
    PlacementArgs,
    WakeScheduleArgs,
    WarmCacheArgs,
)
from llmplane.components.naming import labels

from .cloud_args import OBJECT_NAME, as_secret, service_namespace
from .config.settings import StackSettings
from .sizing.serving import Serving

# The gateway's objects keep theirs too: the `k8s-load-balancers-internal-or-gated` policy looks
# for a Secret named `gateway-keys` by default.
GATEWAY_NAME = "gateway"


def gateway_args(settings: StackSettings) -> GatewayArgs | None:
    """The gateway a public stack asks for; None for an internal one."""
    if settings.exposure != "public":
        return None
    keys, key = as_secret(settings.api_keys), as_secret(settings.tls_key)
    # settings_rules refuses a public stack without keys and TLS before the program runs.
    assert keys is not None and key is not None and settings.tls_certificate is not None
    return GatewayArgs(
        api_keys=keys,
        tls_certificate=settings.tls_certificate,
        tls_key=key,
        object_name=GATEWAY_NAME,
    )


def wake_args(settings: StackSettings) -> WakeScheduleArgs | None:
    """The stack's `replicas.activeHours` as KEDA's cron trigger reads them; None if unset."""
    hours = settings.replicas.active_hours
    if hours is None:
        return None
    return WakeScheduleArgs(
        timezone=hours.timezone, start=hours.start, end=hours.end, replicas=hours.replicas
    )


def placement_args(placement: Placement) -> PlacementArgs:
    """The cluster component's Placement as InferenceService's input."""
    tolerations: list[GpuTolerationArgs] = []
    for toleration in placement.tolerations:
        entry = GpuTolerationArgs(
            key=toleration.key, effect=toleration.effect, operator=toleration.operator
        )
        if toleration.value is not None:
            entry["value"] = toleration.value
        tolerations.append(entry)
    return PlacementArgs(
        node_selector=dict(placement.node_selector),
        tolerations=tolerations,
        gpu_resource=placement.gpu_resource,
    )


def autoscaling_args(autoscaling: Autoscaling) -> AutoscalingArgs:
    """The cluster's KEDA and Prometheus as the component's input."""
    # The URL as an Output of the two chart releases: the ScaledObject then waits for them
    # (KEDA brings the ScaledObject CRD), as a dependency the engine records.
    url = pulumi.Output.all(*(resource.urn for resource in autoscaling.ready)).apply(
        lambda _: autoscaling.prometheus_url
    )
    return AutoscalingArgs(
        prometheus_url=url, monitoring_namespace=autoscaling.monitoring_namespace
    )


def weights_path(platform: GpuClusterTarget, model_id: str) -> pulumi.Output[str] | None:
    """Where the engine streams the model from: `<bucket root>/<Hub id>`; None without a bucket."""
    if platform.weights_uri is None:
        return None
    # The bucket holds each model under its Hub id, as `<root>/<org>/<name>`.
    return pulumi.Output.concat(platform.weights_uri, "/", model_id)


def autoscaling_settings(settings: StackSettings, serving: Serving) -> KedaAutoscalingArgs:
    """KEDA, with the HTTP add-on that holds requests when the stack scales to zero replicas."""
    hold = settings.replicas.min == 0
    if serving.cold_start is None:
        return KedaAutoscalingArgs(hold_requests=hold)
    # A request is held as long as a cold start may take: the node, image, weights and warm-up.
    return KedaAutoscalingArgs(hold_requests=hold, hold_seconds=serving.cold_start.timeout_seconds)


def service_args(
    settings: StackSettings,
    serving: Serving,
    platform: GpuClusterTarget,
    autoscaling: Autoscaling,
) -> InferenceServiceArgs:
    """Everything the stack's InferenceService is built from, sized once by `serving_for`."""
    request = serving.request
    args = InferenceServiceArgs(
        model_id=request.model_id,
        placement=placement_args(platform.placement),
        namespace=service_namespace(settings),
        create_namespace=True,
        labels=labels(settings.stack, OBJECT_NAME),
        object_name=OBJECT_NAME,
        engine=settings.engine,
        gpus=request.shards,
        kv_cache_dtype=request.kv_cache_dtype,
        gpu_fit_checked=request.fit_checked,
        # Start with one copy so `pulumi up` sees the endpoint answer; KEDA scales from there.
        replicas=max(1, settings.replicas.min),
        min_replicas=settings.replicas.min,
        max_replicas=settings.replicas.max,
        startup_seconds=serving.startup_seconds,
        cache_gib=serving.cache_gib,
        shm_gib=serving.shm_gib,
        service_account_annotations=dict(platform.identity.annotations),
        pod_labels=dict(platform.identity.pod_labels),
        autoscaling=autoscaling_args(autoscaling),
    )
    # Unset values stay out of the args, so that the component's defaults (the engine's own,
    # for the token limits) apply to them.
    if request.revision is not None:
        args["revision"] = request.revision
    if request.quantize is not None:
        args["quantize"] = request.quantize
    if request.max_input_tokens is not None:
        args["max_input_tokens"] = request.max_input_tokens
    if request.max_total_tokens is not None:
        args["max_total_tokens"] = request.max_total_tokens
    if request.batch_prefill_tokens is not None:
        args["batch_prefill_tokens"] = request.batch_prefill_tokens
    if request.memory_fraction is not None:
        args["memory_fraction"] = request.memory_fraction
    if request.gated is not None:
        args["model_gated"] = request.gated
    if serving.cpu is not None:
        args["cpu"] = serving.cpu
    if serving.memory_gib is not None:
        args["memory_gib"] = serving.memory_gib
    token = as_secret(settings.hf_token)
    if token is not None:
        args["hf_token"] = token
    _platform_args(args, platform)
    wake, gateway = wake_args(settings), gateway_args(settings)
    if wake is not None:
        args["wake"] = wake
    if gateway is not None:
        args["gateway"] = gateway
    if autoscaling.activator is not None and settings.replicas.min == 0:
        args["scale_from_zero"] = scale_from_zero_args(autoscaling.activator)
    uri = weights_path(platform, request.model_id)
    if uri is not None:
        args["weights_uri"] = uri
        if platform.weights_account is not None:
            args["weights_account"] = platform.weights_account
    # Sizing gives a bucket stack no warm Job; the component refuses both together anyway.
    elif serving.warm_job_seconds is not None and "shared_cache_class" in args:
        args["warm_cache"] = WarmCacheArgs(active_deadline_seconds=serving.warm_job_seconds)
    return args


def _platform_args(args: InferenceServiceArgs, platform: GpuClusterTarget) -> None:
    """What the cluster adds where it has it: a registry mirror, internal LB, shared cache."""
    if platform.registry is not None:
        args["image_registry"] = platform.registry.prefix
    cluster = platform.cluster
    if cluster.internal_lb_annotations is not None:
        args["internal_load_balancer"] = dict(cluster.internal_lb_annotations)
    if cluster.shared_cache_class is not None:
        args["shared_cache_class"] = cluster.shared_cache_class
