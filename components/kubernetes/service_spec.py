"""InferenceService's args, their defaults, and resolve(): args -> the ServiceSpec builders read."""
# No `from __future__ import annotations` here: Pulumi's component analyzer
# (pulumi.provider.experimental) reads the args' and outputs' annotations at run time, and
# postponed annotations would reach it as strings it cannot follow.

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from ..cloud import image_path
from .activator import check_scale_from_zero
from .args import (
    AutoscalingArgs,
    GatewayArgs,
    GpuTolerationArgs,
    InferenceServiceArgs,
    PlacementArgs,
    ScaleFromZeroArgs,
    WakeScheduleArgs,
    WarmCacheArgs,
)
from .engines import ENGINES, EngineSpec, ServeRequest
from .pod import (
    INSTANCE_LABEL,
    MANAGED_BY_LABEL,
    NAME_LABEL,
)
from .streamer import STREAMING_ENGINES, StreamerPlan, streamer_plan
from .warm_cache import check_warm_cache

__all__ = [
    "CPU_PER_GPU",
    "DEFAULT_CACHE_GIB",
    "DEFAULT_ENGINE",
    "DEFAULT_GPUS",
    "DEFAULT_NAMESPACE",
    "DEFAULT_SHM_GIB",
    "DEFAULT_STARTUP_SECONDS",
    "MEMORY_GIB_PER_GPU",
    "AutoscalingArgs",
    "GatewayArgs",
    "GpuTolerationArgs",
    "InferenceServiceArgs",
    "PlacementArgs",
    "ScaleFromZeroArgs",
    "ServiceSpec",
    "WakeScheduleArgs",
    "WarmCacheArgs",
    "resolve",
]

DEFAULT_ENGINE = "tgi"
DEFAULT_NAMESPACE = "default"
# What a user who says nothing else gets: one GPU per replica, one replica, and the startup,
# cache and shared-memory budgets that suit a model of up to about 10 B parameters.
DEFAULT_GPUS = 1
DEFAULT_STARTUP_SECONDS = 1800
DEFAULT_CACHE_GIB = 100
DEFAULT_SHM_GIB = 1
# Modest shares per GPU when nothing says what the node or the model needs.
CPU_PER_GPU = 2
MEMORY_GIB_PER_GPU = 16
# Object names are `<base>` and `<base>-<role>`; the longest Service name, `<base>-internal`,
# must still be a DNS-1123 label of at most 63 characters.
_MAX_BASE = 63 - len("-internal")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


@dataclass(frozen=True)
class ServiceSpec:
    """InferenceServiceArgs with defaults applied and names derived: what the builders read."""

    name: str
    """The component's resource name, which its children's resource names start with."""
    base: str
    """Base of every Kubernetes object's name."""
    namespace: pulumi.Input[str]
    """The namespace as given (or defaulted); the objects use the created one's name."""
    create_namespace: bool
    """Whether this service creates (and so owns) its namespace."""
    labels: pulumi.Output[dict[str, str]]
    """Labels on every object, and the engine pods' selector."""
    pod_labels: Mapping[str, str]
    """Extra labels on the engine pods only."""
    engine: EngineSpec
    """Which inference server runs the model, and how."""
    request: ServeRequest
    """What the engine's command line is built from."""
    engine_args: tuple[str, ...]
    """Extra engine arguments after the generated ones."""
    image: pulumi.Input[str]
    """The engine image, mirrored when a registry is given."""
    placement: PlacementArgs
    """Where GPU pods go."""
    cpu: str
    """CPU request and limit per replica."""
    memory: str
    """Memory request and limit per replica."""
    shm_size: str
    """Size limit of /dev/shm."""
    cache_size: str
    """Size limit of the weights cache."""
    startup_seconds: int
    """Startup budget of a pod."""
    replicas: int
    """Copies the Deployment starts with."""
    min_replicas: int
    """Fewest copies KEDA keeps."""
    max_replicas: int
    """Most copies KEDA runs."""
    hf_token: pulumi.Output[str] | None
    """The token as a Pulumi secret; None for ungated models."""
    account_annotations: Mapping[str, pulumi.Input[str]]
    """Annotations of the engine's ServiceAccount."""
    internal_load_balancer: Mapping[str, str] | None
    """Internal load balancer annotations; None: ClusterIP only."""
    shared_cache_class: str | None
    """ReadWriteMany storage class for a shared weights cache; None: per pod."""
    autoscaling: AutoscalingArgs | None
    """KEDA scaling; None: a fixed replica count."""
    wake: WakeScheduleArgs | None
    """Active hours of the cron trigger; None: the queue alone."""
    gateway: GatewayArgs | None
    """The public gateway; None: no public endpoint."""
    scale_from_zero: ScaleFromZeroArgs | None
    """The HTTP add-on that holds requests at zero replicas; None: they fail until one runs."""
    warm_cache: WarmCacheArgs | None
    """The warm-cache Job's settings; None: replicas download the weights themselves."""
    streamer: pulumi.Output[StreamerPlan] | None = None
    """How the engine streams the weights from a bucket; None: from the Hub (or the cache)."""

    def object_name(self, role: str = "") -> str:
        """The Kubernetes name of one of the service's objects: `<base>` or `<base>-<role>`."""
        return f"{self.base}-{role}" if role else self.base


def _object_base(name: str, given: str | None) -> str:
    """The base of the object names, checked: Kubernetes refuses anything else at deploy time."""
    base = given if given is not None else name
    if not _DNS_LABEL.fullmatch(base) or len(base) > _MAX_BASE:
        source = "object_name" if given is not None else "the resource name"
        raise ValueError(
            f"InferenceService {name}: {source} {base!r} must be lowercase letters, digits and "
            f"'-', at most {_MAX_BASE} characters (Kubernetes object names derive from it); "
            "pass object_name to choose another"
        )
    return base


def _engine(name: str, args: InferenceServiceArgs) -> tuple[EngineSpec, ServeRequest]:
    """The engine chosen by name, and the request its command line is built from."""
    engine_name = args.get("engine", DEFAULT_ENGINE)
    engine = ENGINES.get(engine_name)
    if engine is None:
        raise ValueError(
            f"InferenceService {name}: engine {engine_name!r} is not one of "
            f"{', '.join(sorted(ENGINES))}"
        )
    quantize = args.get("quantize")
    if quantize is not None and quantize not in engine.quantizations:
        raise ValueError(
            f"InferenceService {name}: {engine_name} does not support quantize {quantize!r}; "
            f"use one of {', '.join(sorted(engine.quantizations))}"
        )
    kv_dtype = args.get("kv_cache_dtype", "auto")
    if kv_dtype not in engine.kv_cache_dtypes:
        raise ValueError(
            f"InferenceService {name}: kv_cache_dtype {kv_dtype!r} is not one of "
            f"{', '.join(sorted(engine.kv_cache_dtypes))}"
        )
    gpus = args.get("gpus", DEFAULT_GPUS)
    if gpus < 1:
        raise ValueError(f"InferenceService {name}: gpus must be at least 1, not {gpus}")
    request = ServeRequest(
        model_id=args["model_id"],
        revision=args.get("revision"),
        shards=gpus,
        quantize=quantize,
        max_input_tokens=args.get("max_input_tokens"),
        max_total_tokens=args.get("max_total_tokens"),
        batch_prefill_tokens=args.get("batch_prefill_tokens"),
        memory_fraction=args.get("memory_fraction"),
        kv_cache_dtype=kv_dtype,
        gated=args.get("model_gated"),
        fit_checked=args.get("gpu_fit_checked", False),
    )
    return engine, request


def _labels(
    base: str, given: pulumi.Input[Mapping[str, str]] | None
) -> pulumi.Output[dict[str, str]]:
    """The caller's labels over the recommended ones; the instance label keeps services apart."""
    defaults = {NAME_LABEL: "inference", INSTANCE_LABEL: base, MANAGED_BY_LABEL: "pulumi"}
    return pulumi.Output.from_input(given or {}).apply(lambda labels: {**defaults, **labels})


def _replicas(name: str, args: InferenceServiceArgs) -> tuple[int, int, int]:
    """(replicas, min, max), defaulted from one another and checked."""
    low = args.get("min_replicas", 1)
    start = args.get("replicas", max(1, low))
    high = args.get("max_replicas", max(start, low))
    if not 0 <= low <= start <= high:
        raise ValueError(
            f"InferenceService {name}: replicas must satisfy 0 <= min_replicas ({low}) <= "
            f"replicas ({start}) <= max_replicas ({high})"
        )
    return start, low, high


def _streamer(
    name: str, args: InferenceServiceArgs, engine: EngineSpec
) -> pulumi.Output[StreamerPlan] | None:
    """The streamer's plan for a weights_uri, checked now where the URI is already known."""
    uri, account = args.get("weights_uri"), args.get("weights_account")
    if uri is None:
        if account is not None:
            raise ValueError(f"InferenceService {name}: weights_account needs weights_uri")
        return None
    if args.get("warm_cache") is not None:
        raise ValueError(
            f"InferenceService {name}: weights_uri and warm_cache exclude each other (the engine "
            "streams from the bucket, no cache is filled); remove one"
        )
    if engine.name not in STREAMING_ENGINES:
        raise ValueError(
            f"InferenceService {name}: engine {engine.name!r} cannot stream weights_uri; only "
            f"{' and '.join(STREAMING_ENGINES)} have the Run:ai Model Streamer (TGI has no such "
            "loader)"
        )
    # Clients keep calling the Hub id, whatever the engine loads from.
    served = args["model_id"]

    def plan(values: list[str | None]) -> StreamerPlan:
        try:
            return streamer_plan(engine.name, str(values[0]), served, azure_account=values[1])
        except ValueError as error:
            raise ValueError(f"InferenceService {name}: {error}") from None

    if isinstance(uri, str) and (account is None or isinstance(account, str)):
        plan([uri, account])  # fail at construction, not later inside an apply
    return pulumi.Output.all(uri, account).apply(plan)


def resolve(name: str, args: InferenceServiceArgs) -> ServiceSpec:
    """Apply the defaults and derive the names; raise ValueError on args Kubernetes would refuse."""
    base = _object_base(name, args.get("object_name"))
    engine, request = _engine(name, args)
    replicas, low, high = _replicas(name, args)
    create = args.get("create_namespace", False)
    if args.get("wake") is not None and args.get("autoscaling") is None:
        raise ValueError(f"InferenceService {name}: wake needs autoscaling (KEDA runs it)")
    check_scale_from_zero(name, args.get("scale_from_zero"), args.get("autoscaling") is not None)
    warm = args.get("warm_cache")
    if warm is not None:
        check_warm_cache(name, warm, args.get("shared_cache_class"))
    gateway = args.get("gateway")
    gateway_base = gateway.get("object_name") if gateway is not None else None
    if gateway_base is not None and (
        not _DNS_LABEL.fullmatch(gateway_base) or len(gateway_base) > _MAX_BASE
    ):
        raise ValueError(
            f"InferenceService {name}: gateway object_name {gateway_base!r} must be lowercase "
            f"letters, digits and '-', at most {_MAX_BASE} characters"
        )
    registry = args.get("image_registry")
    path = image_path(engine.image)
    image: pulumi.Input[str] = (
        pulumi.Output.from_input(registry).apply(lambda prefix: f"{prefix}/{path}")
        if registry is not None
        else engine.image
    )
    gpus = request.shards
    token = args.get("hf_token")
    return ServiceSpec(
        name=name,
        base=base,
        namespace=args.get("namespace", base if create else DEFAULT_NAMESPACE),
        create_namespace=create,
        labels=_labels(base, args.get("labels")),
        pod_labels=dict(args.get("pod_labels", {})),
        engine=engine,
        request=request,
        engine_args=tuple(args.get("engine_args", ())),
        image=image,
        placement=args["placement"],
        cpu=str(args.get("cpu", CPU_PER_GPU * gpus)),
        memory=f"{args.get('memory_gib', MEMORY_GIB_PER_GPU * gpus)}Gi",
        shm_size=f"{args.get('shm_gib', DEFAULT_SHM_GIB)}Gi",
        cache_size=f"{args.get('cache_gib', DEFAULT_CACHE_GIB)}Gi",
        startup_seconds=args.get("startup_seconds", DEFAULT_STARTUP_SECONDS),
        replicas=replicas,
        min_replicas=low,
        max_replicas=high,
        # Whatever the caller passed, the token stays a secret in the state and every plan.
        hf_token=pulumi.Output.secret(token) if token is not None else None,
        account_annotations=dict(args.get("service_account_annotations", {})),
        internal_load_balancer=args.get("internal_load_balancer"),
        shared_cache_class=args.get("shared_cache_class"),
        autoscaling=args.get("autoscaling"),
        wake=args.get("wake"),
        gateway=gateway,
        scale_from_zero=args.get("scale_from_zero"),
        warm_cache=warm,
        streamer=_streamer(name, args, engine),
    )
