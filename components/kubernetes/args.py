"""InferenceService's args: the typed dicts a caller (Python, or any language) fills in."""
# No `from __future__ import annotations` here: Pulumi's component analyzer
# (pulumi.provider.experimental) reads these annotations at run time, and postponed annotations
# would reach it as strings it cannot follow.

from collections.abc import Mapping, Sequence
from typing import NotRequired, Required, TypedDict

import pulumi

from .activator import ScaleFromZeroArgs
from .warm_cache import WarmCacheArgs

__all__ = [
    "AutoscalingArgs",
    "GatewayArgs",
    "GpuTolerationArgs",
    "InferenceServiceArgs",
    "PlacementArgs",
    "ScaleFromZeroArgs",
    "WakeScheduleArgs",
    "WarmCacheArgs",
]


class GpuTolerationArgs(TypedDict):
    """A node taint the engine pods tolerate, such as the GPU pool's."""

    key: str
    """The taint key, e.g. nvidia.com/gpu."""
    effect: NotRequired[str]
    """The taint effect tolerated; default NoSchedule."""
    operator: NotRequired[str]
    """Exists (any value; the default) or Equal (the value below)."""
    value: NotRequired[str]
    """The taint value, for Equal."""


class PlacementArgs(TypedDict, total=False):
    """Where GPU pods go: node labels to select, taints to tolerate, the GPU resource to request."""

    node_selector: Mapping[str, str]
    """Node labels GPU pods must match; default: none."""
    tolerations: Sequence[GpuTolerationArgs]
    """Taints GPU pods tolerate; default: none."""
    gpu_resource: str
    """Extended resource name the device plugin advertises; default nvidia.com/gpu."""


class AutoscalingArgs(TypedDict):
    """KEDA scaling on the engine's queue depth, read from a Prometheus that scrapes the pods."""

    prometheus_url: pulumi.Input[str]
    """Prometheus URL KEDA queries; an Output of KEDA's install makes the scaler wait for it."""
    monitoring_namespace: pulumi.Input[str]
    """Namespace of the Prometheus that scrapes the engine, which its NetworkPolicy lets in."""


class WakeScheduleArgs(TypedDict):
    """Hours when KEDA keeps engines running whatever the queue says (its cron scaler).

    This is what wakes a service that scaled to zero: at zero replicas no engine reports a queue,
    so the queue trigger alone would never bring one back.
    """

    timezone: str
    """IANA time zone the cron expressions are read in, e.g. Europe/Berlin."""
    start: str
    """Cron expression (5 fields) when the active hours begin."""
    end: str
    """Cron expression (5 fields) when they end."""
    replicas: NotRequired[int]
    """Engines kept running during the active hours; default 1."""


class GatewayArgs(TypedDict):
    """The public gateway: TLS and API keys in front of the engine, the only public way in."""

    api_keys: pulumi.Input[str]
    """Comma-separated API keys of at least 32 characters; kept a Pulumi secret."""
    tls_certificate: pulumi.Input[str]
    """PEM certificate chain the gateway presents."""
    tls_key: pulumi.Input[str]
    """PEM private key of the certificate; kept a Pulumi secret."""
    object_name: NotRequired[str]
    """Base of the gateway's object names; default `<object name>-gateway`."""


class InferenceServiceArgs(TypedDict, total=False):
    """What to serve and where; only model_id and placement are required."""

    model_id: Required[str]
    """Hugging Face model id to serve, e.g. Qwen/Qwen2.5-7B-Instruct."""
    placement: Required[PlacementArgs]
    """Where GPU pods go: node selector, tolerations, GPU resource name."""
    namespace: pulumi.Input[str]
    """Namespace of every object; default: the object name if create_namespace, else default."""
    create_namespace: bool
    """Create the namespace (with a default-deny NetworkPolicy); default False: it exists."""
    labels: pulumi.Input[Mapping[str, str]]
    """Labels on every object and the pods' selector; recommended name/instance labels added."""
    object_name: str
    """Base of every Kubernetes object's name (the Service's DNS name); default: resource name."""
    engine: str
    """Inference server by name: tgi, vllm or sglang; default tgi."""
    engine_args: Sequence[str]
    """Extra engine arguments, appended after the generated ones."""
    revision: str
    """Branch, tag or commit of the model repo; default: its default branch."""
    quantize: str
    """Quantization method (llmplane's name, e.g. awq, fp8); default: none."""
    kv_cache_dtype: str
    """KV cache element type: auto, bf16 or fp8; default auto (the engine's choice)."""
    gpus: int
    """GPUs per replica, the tensor-parallel degree; default 1."""
    max_input_tokens: int
    """Longest prompt accepted; default: the engine's."""
    max_total_tokens: int
    """Longest prompt plus answer; default: the engine's."""
    batch_prefill_tokens: int
    """Most prompt tokens in one prefill batch; default: the engine's."""
    memory_fraction: float
    """Share of GPU memory the engine may claim, 0 to 1; default: the engine's."""
    cpu: int
    """CPU cores per replica; default 2 per GPU."""
    memory_gib: int
    """Memory per replica in GiB, /dev/shm included; default 16 per GPU."""
    shm_gib: int
    """Size of the memory-backed /dev/shm in GiB; default 1."""
    cache_gib: int
    """Size limit of the weights cache in GiB; default 100."""
    startup_seconds: int
    """How long a pod may take to download and load the model before a restart; default 1800."""
    replicas: int
    """Copies `pulumi up` starts with (KEDA takes over); default max(1, min_replicas)."""
    min_replicas: int
    """Fewest copies KEDA scales down to, 0 for scale to zero; default 1."""
    max_replicas: int
    """Most copies KEDA may scale to; default max(replicas, min_replicas)."""
    hf_token: pulumi.Input[str]
    """Hugging Face token for gated models, mounted as a file; kept a Pulumi secret."""
    model_gated: bool
    """Whether the model's repo is gated on the Hub, for the policies; default: unknown."""
    gpu_fit_checked: bool
    """Whether the model was checked to fit the GPUs' memory, for the policies; default False."""
    image_registry: pulumi.Input[str]
    """Registry host/path that replaces the engine image's registry (a mirror); default: none."""
    service_account_annotations: Mapping[str, pulumi.Input[str]]
    """Annotations of the engine's ServiceAccount, e.g. the cloud identity it maps to."""
    pod_labels: Mapping[str, str]
    """Extra labels on the engine pods only, not in the selector (e.g. AKS workload identity)."""
    internal_load_balancer: Mapping[str, str]
    """Annotations that make the cloud's load balancer internal; default: ClusterIP only."""
    shared_cache_class: str
    """ReadWriteMany storage class for one weights cache all replicas share; default: per pod."""
    autoscaling: AutoscalingArgs
    """KEDA and Prometheus to scale on the queue; default: a fixed replica count."""
    wake: WakeScheduleArgs
    """Active hours when KEDA keeps copies running (needs autoscaling); default: none."""
    gateway: GatewayArgs
    """The public gateway's keys and certificate; default: no public endpoint."""
    scale_from_zero: ScaleFromZeroArgs
    """KEDA's HTTP add-on, holding requests while min_replicas 0 runs no engine; default: none."""
    warm_cache: WarmCacheArgs
    """A Job that fills the shared cache before any replica starts (needs shared_cache_class)."""
    weights_uri: pulumi.Input[str]
    """Bucket folder (s3://, gs://, az://) vLLM or SGLang streams the weights from; default: Hub."""
    weights_account: pulumi.Input[str]
    """The Azure storage account of an az:// weights_uri (AZURE_STORAGE_ACCOUNT_NAME)."""
