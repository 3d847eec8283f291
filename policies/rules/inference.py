"""Policy rules specific to GPU inference: shared memory, model-load probes, queue-based scaling.

Two advisories read what llmplane's sizing found and the engine pod carries: a gated model served
without a token, and a GPU fit that could not be checked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from urllib.parse import urlparse

from . import (
    WORKLOADS,
    Config,
    Props,
    Rule,
    containers,
    dig,
    items,
    pod_spec,
    resource_rule,
)

SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
HPAS = (
    "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
)
GPU_RESOURCES = {
    "type": "array",
    "default": ["nvidia.com/gpu"],
    "description": "extended resource names that mean a GPU",
}
# Where llmplane's adapters mirror engine images: ECR, ACR and Artifact Registry hosts.
PRIVATE_REGISTRY_SUFFIXES = (".amazonaws.com", ".azurecr.io", "-docker.pkg.dev")


def gpu_containers(type_: str, props: Props, gpu_resources: list[str]) -> list[Props]:
    """The containers that ask for a GPU, in requests or limits."""
    found = []
    for container in containers(pod_spec(type_, props)):
        asked = {
            *(dig(container, "resources.limits") or {}),
            *(dig(container, "resources.requests") or {}),
        }
        if asked & set(gpu_resources):
            found.append(container)
    return found


@resource_rule(
    "gpu-shm-memory-backed",
    types=WORKLOADS,
    description="GPU pods mount a memory-backed /dev/shm with a size limit.",
    severity="high",
    frameworks=("LLMPLANE-GPU-1",),
    remediation="Mount an emptyDir with medium Memory and a sizeLimit at /dev/shm; llmplane's "
    "engine pods size it from the model (infra/sizing/fit.py).",
    config={"gpuResources": GPU_RESOURCES},
)
def shm_memory_backed(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Tensor-parallel engines exchange data through /dev/shm; the runtime's 64 MiB stalls them."""
    gpu = gpu_containers(type_, props, config["gpuResources"])
    if not gpu:
        return
    memory_volumes = {
        dig(v, "name"): v
        for v in items(dig(pod_spec(type_, props), "volumes"))
        if dig(v, "emptyDir.medium") == "Memory"
    }
    for container in gpu:
        mounts = [
            m for m in items(dig(container, "volumeMounts")) if dig(m, "mountPath") == "/dev/shm"
        ]
        volume = memory_volumes.get(dig(mounts[0], "name")) if mounts else None
        if volume is None:
            yield f"container {dig(container, 'name')} has no memory-backed /dev/shm"
        elif dig(volume, "emptyDir.sizeLimit") is None:
            yield f"/dev/shm of container {dig(container, 'name')} has no sizeLimit"


@resource_rule(
    "gpu-startup-probe-covers-model-load",
    types=WORKLOADS,
    description="GPU containers have a startup probe long enough to load the model, so the "
    "liveness probe cannot kill a pod still loading weights.",
    severity="high",
    frameworks=("CKV_K8S_8", "LLMPLANE-GPU-2"),
    remediation="Add a startupProbe with periodSeconds x failureThreshold at least the load time; "
    "llmplane derives it from the model size.",
    config={
        "gpuResources": GPU_RESOURCES,
        "minStartupSeconds": {
            "type": "integer",
            "default": 300,
            "description": "shortest acceptable startup budget",
        },
    },
)
def startup_probe(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Loading tens of GB of weights takes minutes; a bare liveness probe restarts it forever."""
    for container in gpu_containers(type_, props, config["gpuResources"]):
        name = dig(container, "name")
        probe = dig(container, "startupProbe")
        if probe is None:
            yield f"container {name} has no startupProbe"
            continue
        # Kubernetes defaults: periodSeconds 10, failureThreshold 3.
        budget = dig(probe, "periodSeconds", 10) * dig(probe, "failureThreshold", 3)
        budget += dig(probe, "initialDelaySeconds", 0)
        if budget < config["minStartupSeconds"]:
            yield (
                f"container {name}: startupProbe allows {budget} s to load the model, "
                f"less than {config['minStartupSeconds']} s"
            )


@resource_rule(
    "gpu-limits-set",
    types=WORKLOADS,
    description="GPU containers set the GPU count in limits, equal to any request.",
    severity="medium",
    frameworks=("CKV_K8S_11", "LLMPLANE-GPU-3"),
    remediation="Set resources.limits[<gpu resource>] to the number of GPUs per replica.",
    config={"gpuResources": GPU_RESOURCES},
)
def gpu_limits(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Extended resources are not overcommitted: a request without a matching limit is refused."""
    for container in gpu_containers(type_, props, config["gpuResources"]):
        limits = dig(container, "resources.limits") or {}
        requests = dig(container, "resources.requests") or {}
        for gpu in config["gpuResources"]:
            if gpu in requests and str(limits.get(gpu)) != str(requests[gpu]):
                yield (
                    f"container {dig(container, 'name')}: {gpu} request {requests[gpu]} "
                    f"but limit {limits.get(gpu)}"
                )


@resource_rule(
    "autoscaling-not-on-cpu",
    types=(SCALED_OBJECT, *HPAS),
    description="Inference autoscalers scale on queue depth or request metrics, never on CPU or "
    "memory, which model loading saturates and GPU serving does not track.",
    severity="high",
    frameworks=("LLMPLANE-GPU-4",),
    remediation="Scale on the engine's queue metric (tgi_queue_size, vllm:num_requests_waiting, "
    "sglang:num_queue_reqs) through a KEDA prometheus trigger, as llmplane does.",
)
def not_on_cpu(type_: str, props: Props, config: Config) -> Iterator[str]:
    """CPU-based scaling is users' top complaint about LLM autoscaling."""
    if type_ == SCALED_OBJECT:
        for trigger in items(dig(props, "spec.triggers")):
            if dig(trigger, "type") in ("cpu", "memory"):
                yield f"ScaledObject scales on {dig(trigger, 'type')}"
        return
    if dig(props, "spec.targetCPUUtilizationPercentage") is not None:
        yield "HorizontalPodAutoscaler targets CPU utilization"
    for metric in items(dig(props, "spec.metrics")):
        resource = dig(metric, "resource.name") or dig(metric, "containerResource.name")
        if resource in ("cpu", "memory"):
            yield f"HorizontalPodAutoscaler scales on {resource}"


@resource_rule(
    "scale-to-zero-has-wake-schedule",
    types=(SCALED_OBJECT,),
    description="A ScaledObject that may scale to zero also has a trigger that brings a replica "
    "back, since at zero replicas no engine reports a queue.",
    severity="medium",
    frameworks=("LLMPLANE-GPU-5",),
    remediation="Set llmplane:replicas.activeHours in the stack file, or replicas.min: 1.",
    enforcement="advisory",
)
def wake_schedule(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Queue metrics vanish with the last replica, so a queue trigger alone never wakes it."""
    # KEDA defaults minReplicaCount to 0: leaving it out scales to zero too.
    if dig(props, "spec.minReplicaCount", 0) != 0:
        return
    kinds = {dig(t, "type") for t in items(dig(props, "spec.triggers"))}
    if not kinds - {"prometheus"}:
        yield "minReplicaCount is 0 and only a queue trigger can add a replica"


@resource_rule(
    "engine-image-from-private-registry",
    types=WORKLOADS,
    description="GPU containers pull their image through a private registry mirror, not straight "
    "from a public registry.",
    severity="medium",
    frameworks=("LLMPLANE-GPU-6", "CIS 5.1.2"),
    remediation="Use a managed cloud (llmplane mirrors the engine image into ECR, ACR or Artifact "
    "Registry), or list your own mirror's host in allowedRegistries.",
    enforcement="advisory",
    config={
        "gpuResources": GPU_RESOURCES,
        "allowedRegistries": {
            "type": "array",
            "default": [],
            "description": "extra registry hosts that count as private",
        },
    },
)
def private_registry(type_: str, props: Props, config: Config) -> Iterator[str]:
    """A public registry outage or rate limit then stops every scale-up."""
    for container in gpu_containers(type_, props, config["gpuResources"]):
        image = str(dig(container, "image", ""))
        host = _registry_host(image)
        allowed = host in config["allowedRegistries"] or host.endswith(PRIVATE_REGISTRY_SUFFIXES)
        if not allowed:
            yield f"container {dig(container, 'name')} pulls {image} from {host}"


def _registry_host(image: str) -> str:
    """The registry host of an image reference, without a port: allowedRegistries names hosts."""
    # The reference grammar's rule: the first path part is a host only if it looks like one
    # (a dot, a port or localhost); otherwise the image is on Docker Hub. The pack reads plans of
    # any program, so it applies the rule itself rather than import llmplane's components.
    first, slash, _ = image.partition("/")
    looks_like_host = slash and ("." in first or ":" in first or first == "localhost")
    registry = first if looks_like_host else "docker.io"
    return urlparse(f"//{registry}").hostname or registry


@resource_rule(
    "gpu-model-cache-persistent",
    types=WORKLOADS,
    description="GPU pods keep the model cache on a persistent volume, so a restart or scale-up "
    "does not download the weights again.",
    severity="low",
    frameworks=("LLMPLANE-GPU-7",),
    remediation="On a managed cloud llmplane shares one ReadWriteMany claim; on an existing "
    "cluster, give the cache a PersistentVolumeClaim.",
    enforcement="advisory",
    config={
        "gpuResources": GPU_RESOURCES,
        "cacheMountPath": {
            "type": "string",
            "default": "/data",
            "description": "where the engine keeps its model cache",
        },
    },
)
def persistent_cache(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Downloading 16-140 GB per restart costs minutes of GPU time and egress."""
    pod = pod_spec(type_, props)
    claims = {
        dig(v, "name")
        for v in items(dig(pod, "volumes"))
        if dig(v, "persistentVolumeClaim") is not None or dig(v, "ephemeral") is not None
    }
    for container in gpu_containers(type_, props, config["gpuResources"]):
        mounts: Mapping[str, str] = {
            dig(m, "mountPath"): dig(m, "name") for m in items(dig(container, "volumeMounts"))
        }
        volume = mounts.get(config["cacheMountPath"])
        if volume not in claims:
            yield (
                f"container {dig(container, 'name')}: {config['cacheMountPath']} is not on a "
                "persistent volume"
            )


# What llmplane's sizing found, as the engine pod carries it (components/pod.py sets these; a
# test keeps the names equal). Policies read the plan, never llmplane's model table itself.
GATED_ENV = "LLMPLANE_MODEL_GATED"
FIT_ENV = "LLMPLANE_GPU_FIT"
# Where a container finds a Hugging Face token: huggingface_hub, TGI's router and hf-hub read
# HF_TOKEN, the older HUGGING_FACE_HUB_TOKEN, or a token file named by HF_TOKEN_PATH.
TOKEN_ENVS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH")


def _env(container: Props) -> dict[str, Props]:
    """A container's env entries by name."""
    return {str(dig(e, "name")): e for e in items(dig(container, "env"))}


@resource_rule(
    "gated-model-has-hf-token",
    types=WORKLOADS,
    description="A GPU container serving a model the Hugging Face Hub gates gets a token to "
    "download it with.",
    severity="medium",
    frameworks=("LLMPLANE-GPU-9",),
    remediation="Accept the model's terms on huggingface.co, then run `pulumi config set "
    "--secret llmplane:hfToken hf_...`; llmplane mounts the token as a file (HF_TOKEN_PATH).",
    enforcement="advisory",
    config={"gpuResources": GPU_RESOURCES},
)
def gated_model_token(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Without a token the Hub answers 401 to the weights download, and the pod restarts forever."""
    for container in gpu_containers(type_, props, config["gpuResources"]):
        env = _env(container)
        if dig(env.get(GATED_ENV), "value") != "true":
            continue
        # envFrom may bring a token this policy cannot see: give it the benefit of the doubt.
        if any(name in env for name in TOKEN_ENVS) or items(dig(container, "envFrom")):
            continue
        yield (
            f"container {dig(container, 'name')} serves a gated model but gets no Hugging Face "
            f"token ({', '.join(TOKEN_ENVS)})"
        )


@resource_rule(
    "gpu-fit-checked",
    types=WORKLOADS,
    description="GPU containers serve a model whose memory needs llmplane checked against the "
    "GPUs' memory.",
    severity="low",
    frameworks=("LLMPLANE-GPU-10",),
    remediation="On an existing cluster, set llmplane:gpu.memoryGiB to the memory of one GPU; "
    "for a model outside llmplane's built-in table, check it with `llmplane size "
    "--model-config config.json`.",
    enforcement="advisory",
    config={"gpuResources": GPU_RESOURCES},
)
def fit_checked(type_: str, props: Props, config: Config) -> Iterator[str]:
    """An unchecked fit may run out of GPU memory at load time or with a few long requests."""
    for container in gpu_containers(type_, props, config["gpuResources"]):
        if dig(_env(container).get(FIT_ENV), "value") == "unchecked":
            yield (
                f"container {dig(container, 'name')}: llmplane could not check that the model "
                "fits the GPUs' memory"
            )


RULES: tuple[Rule, ...] = (
    shm_memory_backed,
    startup_probe,
    gpu_limits,
    not_on_cpu,
    wake_schedule,
    private_registry,
    persistent_cache,
    gated_model_token,
    fit_checked,
)
