"""The warm-cache Job: the pinned revision in the shared weights cache before any replica starts."""
# No `from __future__ import annotations` here: WarmCacheArgs sits inside InferenceServiceArgs,
# whose annotations Pulumi's component analyzer reads at run time.

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.batch.v1 import JobSpecArgs
from pulumi_kubernetes.core.v1 import (
    ContainerArgs,
    EmptyDirVolumeSourceArgs,
    EnvVarArgs,
    PersistentVolumeClaimVolumeSourceArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    ResourceRequirementsArgs,
    VolumeArgs,
    VolumeMountArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    NetworkPolicySpecArgs,
)

from .engines import ServeRequest
from .pod import (
    CACHE_PATH,
    ENGINE_UID,
    HOME,
    INSTANCE_LABEL,
    MANAGED_BY_LABEL,
    NAME_LABEL,
    gpu_tolerations,
    restricted_container,
    restricted_pod,
    token_volume,
)
from .traffic import Meta, dns_and_https_egress

if TYPE_CHECKING:
    from .service_spec import ServiceSpec

__all__ = [
    "DEFAULT_ALLOW_PATTERNS",
    "DEFAULT_BACKOFF_LIMIT",
    "DEFAULT_DEADLINE_SECONDS",
    "DEFAULT_TTL_SECONDS",
    "DOWNLOAD_SCRIPT",
    "MARKER_DIR",
    "ROLE",
    "WAIT_SCRIPT",
    "WarmCacheArgs",
    "check_warm_cache",
    "job_timeout",
    "marker_path",
    "wait_for_warm_cache",
    "warm_cache_job",
]

# The files the engines load: config and tokenizer files, safetensors weights, chat templates.
# Everything else (ONNX, GGUF, `original/` checkpoints) would double the download for nothing.
DEFAULT_ALLOW_PATTERNS = ("*.json", "*.safetensors", "*.model", "*.tiktoken", "*.txt", "*.jinja")
_IGNORE_PATTERNS = ("original/*",)
# An hour covers a 70 B model over a slow link, plus a node scale-up and the image pull, which
# the deadline counts too (it runs from the Job's start, not the pod's).
DEFAULT_DEADLINE_SECONDS = 3600
DEFAULT_BACKOFF_LIMIT = 3
# A day keeps a failed Job's pods and logs around to read; the Job is idempotent, so one deleted
# by its TTL and recreated by a later `pulumi up --refresh` finishes at once on the marker.
DEFAULT_TTL_SECONDS = 86400
_DEFAULT_CPU = 2
_DEFAULT_MEMORY_GIB = 8
# `pulumi up` waits for the Job past its deadline by this much, so Kubernetes reports the
# failure (DeadlineExceeded) before Pulumi gives up with a bare timeout.
_AWAIT_SLACK_MINUTES = 5
# Markers live in the cache itself, beside the hub/ tree the engines read (HF_HOME=CACHE_PATH).
MARKER_DIR = f"{CACHE_PATH}/.llmplane-warm"
# The pod label value that tells the Job's pods from the engine's (and keeps them out of its
# Service, PDB and NetworkPolicy, which select by the service's labels).
ROLE = "warm-cache"
_TOKEN_DIR = "/etc/llmplane/hf"
_WAIT_POLL_SECONDS = 5

# Runs in the engine image with its own python3 and huggingface_hub (vLLM, SGLang and TGI all
# ship them), so the files land where that image's engine looks: $HF_HOME/hub, as the engine pod
# sets HF_HOME. snapshot_download has the same signature in huggingface_hub 0.30 (TGI 3.3.7)
# and 1.x/2.x, whose CLIs differ (huggingface-cli vs hf). The marker is written last, by rename,
# so no reader ever sees it before every file is in place.
DOWNLOAD_SCRIPT = """\
import json, os, pathlib, sys
from huggingface_hub import snapshot_download

model = os.environ["LLMPLANE_MODEL_ID"]
revision = os.environ.get("LLMPLANE_REVISION") or None
marker = pathlib.Path(os.environ["LLMPLANE_WARM_MARKER"])
allow = json.loads(os.environ["LLMPLANE_ALLOW_PATTERNS"])
ignore = json.loads(os.environ["LLMPLANE_IGNORE_PATTERNS"])
if marker.is_file():
    print(f"{model}@{revision or 'default'} already warm: {marker.read_text().strip()}")
    sys.exit(0)
path = snapshot_download(model, revision=revision, allow_patterns=allow, ignore_patterns=ignore)
if not any(pathlib.Path(path).rglob("*.safetensors")):
    # Older repos have only PyTorch weights; the engines convert or load those instead.
    path = snapshot_download(model, revision=revision, allow_patterns=["*.bin"])
marker.parent.mkdir(parents=True, exist_ok=True)
partial = marker.with_name(marker.name + ".partial")
partial.write_text(path + "\\n")
partial.replace(marker)
print(f"warmed {model}@{revision or 'default'} into {path}")
"""
# The engine's init container: a pod that starts later (rescheduled, scaled up) must still never
# load from a cache the Job has not finished; after the Job's deadline there is no point waiting.
WAIT_SCRIPT = f"""\
deadline=$(( $(date +%s) + ${{LLMPLANE_WARM_WAIT}} ))
until [ -f "$LLMPLANE_WARM_MARKER" ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "weights cache not warm after ${{LLMPLANE_WARM_WAIT}}s: no $LLMPLANE_WARM_MARKER" >&2
    exit 1
  fi
  sleep {_WAIT_POLL_SECONDS}
done
echo "weights cache warm: $(cat "$LLMPLANE_WARM_MARKER")"
"""


class WarmCacheArgs(TypedDict, total=False):
    """The Job that fills the shared weights cache before the first replica starts."""

    active_deadline_seconds: int
    """Longest the Job may run, node scale-up and image pull included; default 3600."""
    backoff_limit: int
    """Failed download pods retried before the Job fails; default 3."""
    ttl_seconds_after_finished: int
    """Seconds a finished Job (and its pods' logs) is kept; default 86400."""
    cpu: int
    """CPU cores of the download pod (requests and limits); default 2."""
    memory_gib: int
    """Memory of the download pod in GiB (requests and limits); default 8."""
    allow_patterns: Sequence[str]
    """Repo file globs to download; default config, tokenizer and safetensors files."""


def check_warm_cache(name: str, warm: WarmCacheArgs, shared_cache_class: str | None) -> None:
    """Refuse a warm cache with nothing shared to warm, or limits Kubernetes would refuse."""
    if shared_cache_class is None:
        raise ValueError(
            f"InferenceService {name}: warm_cache needs shared_cache_class: a per-pod cache is "
            "empty whenever a pod starts, so there is nothing to warm"
        )
    minimums = {
        "active_deadline_seconds": 60,
        "backoff_limit": 0,
        "ttl_seconds_after_finished": 0,
        "cpu": 1,
        "memory_gib": 1,
    }
    for key, least in minimums.items():
        value = warm.get(key)
        if value is not None and value < least:
            raise ValueError(
                f"InferenceService {name}: warm_cache {key} must be at least {least}, not {value}"
            )
    patterns = warm.get("allow_patterns")
    if patterns is not None and (isinstance(patterns, str) or not all(patterns)):
        raise ValueError(
            f"InferenceService {name}: warm_cache allow_patterns must be a list of non-empty "
            "globs, e.g. ['*.json', '*.safetensors']"
        )


def marker_path(request: ServeRequest) -> str:
    """Where the Job marks one model revision complete: one file per model and revision."""
    revision = request.revision or "default"
    key = f"{request.model_id}@{revision}".replace("/", "--")
    return f"{MARKER_DIR}/{key}.done"


def job_timeout(warm: WarmCacheArgs) -> str:
    """How long `pulumi up` waits for the Job to complete (Pulumi's own default is 10 minutes)."""
    deadline = warm.get("active_deadline_seconds", DEFAULT_DEADLINE_SECONDS)
    return f"{-(-deadline // 60) + _AWAIT_SLACK_MINUTES}m"


def _labels(spec: "ServiceSpec") -> pulumi.Output[dict[str, str]]:
    """The caller's labels, but a name and instance of the Job's own: no engine selector matches."""
    own = {
        NAME_LABEL: ROLE,
        INSTANCE_LABEL: spec.object_name("warm"),
        MANAGED_BY_LABEL: "pulumi",
    }
    return spec.labels.apply(lambda labels: {**labels, **own})


def _env(spec: "ServiceSpec", warm: WarmCacheArgs, with_token: bool) -> list[EnvVarArgs]:
    values: dict[str, str] = {
        # The same HF_HOME as the engine pod: the hub/ tree it reads is the one written here.
        "HF_HOME": CACHE_PATH,
        "HOME": HOME,
        "XDG_CACHE_HOME": f"{HOME}/.cache",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "LLMPLANE_MODEL_ID": spec.request.model_id,
        "LLMPLANE_REVISION": spec.request.revision or "",
        "LLMPLANE_WARM_MARKER": marker_path(spec.request),
        "LLMPLANE_ALLOW_PATTERNS": json.dumps(
            list(warm.get("allow_patterns", DEFAULT_ALLOW_PATTERNS))
        ),
        "LLMPLANE_IGNORE_PATTERNS": json.dumps(list(_IGNORE_PATTERNS)),
    }
    if with_token:
        values["HF_TOKEN_PATH"] = f"{_TOKEN_DIR}/token"
    return [EnvVarArgs(name=key, value=value) for key, value in sorted(values.items())]


def _volumes(
    claim: pulumi.Input[str], token_secret: pulumi.Input[str] | None
) -> tuple[list[VolumeArgs], list[VolumeMountArgs]]:
    volumes = [
        VolumeArgs(
            name="cache",
            persistent_volume_claim=PersistentVolumeClaimVolumeSourceArgs(claim_name=claim),
        ),
        VolumeArgs(name="tmp", empty_dir=EmptyDirVolumeSourceArgs(size_limit="10Gi")),
        VolumeArgs(name="home", empty_dir=EmptyDirVolumeSourceArgs(size_limit="10Gi")),
    ]
    mounts = [
        VolumeMountArgs(name="cache", mount_path=CACHE_PATH),
        VolumeMountArgs(name="tmp", mount_path="/tmp"),
        VolumeMountArgs(name="home", mount_path=HOME),
    ]
    if token_secret is not None:
        # Outside the cache: a file mounted into the shared volume would appear in every pod's.
        volumes.append(token_volume(token_secret))
        mounts.append(VolumeMountArgs(name="hf-token", mount_path=_TOKEN_DIR, read_only=True))
    return volumes, mounts


def warm_cache_job(
    spec: "ServiceSpec",
    warm: WarmCacheArgs,
    meta: Meta,
    token_secret: pulumi.Input[str] | None,
    claim: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> k8s.batch.v1.Job:
    """The Job `<object name>-warm` and the NetworkPolicy that lets only its pods reach the Hub.

    Pulumi's Kubernetes provider returns from creating a Job only once it is Complete (and fails
    the update if it fails), so a Deployment that `depends_on` the Job starts after the cache is
    full. The Job's template is immutable: a new revision replaces the Job, which runs again.
    """
    labels = _labels(spec)
    name = spec.object_name("warm")
    k8s.networking.v1.NetworkPolicy(
        f"{spec.name}-warm",
        metadata=meta(name),
        spec=NetworkPolicySpecArgs(
            pod_selector=LabelSelectorArgs(match_labels=labels),
            # No ingress rule: nothing talks to the download pod.
            policy_types=["Ingress", "Egress"],
            # DNS and the Hub over HTTPS only, never the node's credentials.
            egress=dns_and_https_egress(),
        ),
        opts=opts,
    )
    volumes, mounts = _volumes(claim, token_secret)
    cpu, memory = (
        str(warm.get("cpu", _DEFAULT_CPU)),
        f"{warm.get('memory_gib', _DEFAULT_MEMORY_GIB)}Gi",
    )
    limits: Mapping[str, str] = {"cpu": cpu, "memory": memory}
    metadata = meta(name)
    return k8s.batch.v1.Job(
        f"{spec.name}-warm",
        metadata=ObjectMetaArgs(name=metadata.name, namespace=metadata.namespace, labels=labels),
        spec=JobSpecArgs(
            backoff_limit=warm.get("backoff_limit", DEFAULT_BACKOFF_LIMIT),
            active_deadline_seconds=warm.get("active_deadline_seconds", DEFAULT_DEADLINE_SECONDS),
            ttl_seconds_after_finished=warm.get("ttl_seconds_after_finished", DEFAULT_TTL_SECONDS),
            completions=1,
            parallelism=1,
            template=PodTemplateSpecArgs(
                metadata=ObjectMetaArgs(labels=labels),
                spec=PodSpecArgs(
                    # Never: each retry is a new pod, so a failed attempt's logs stay readable.
                    restart_policy="Never",
                    # It calls no Kubernetes API, and needs no cloud identity: the namespace's
                    # default account, with no token, rather than the engine's.
                    automount_service_account_token=False,
                    enable_service_links=False,
                    security_context=restricted_pod(ENGINE_UID, fs_group=ENGINE_UID),
                    node_selector=dict(spec.placement.get("node_selector", {})) or None,
                    tolerations=gpu_tolerations(spec.placement),
                    containers=[
                        ContainerArgs(
                            name="download",
                            image=spec.image,
                            image_pull_policy="Always",
                            command=["python3", "-c", DOWNLOAD_SCRIPT],
                            env=_env(spec, warm, token_secret is not None),
                            resources=ResourceRequirementsArgs(requests=limits, limits=limits),
                            security_context=restricted_container(ENGINE_UID),
                            volume_mounts=mounts,
                        )
                    ],
                    volumes=volumes,
                ),
            ),
        ),
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                custom_timeouts=pulumi.CustomTimeouts(
                    create=job_timeout(warm), update=job_timeout(warm)
                )
            ),
        ),
    )


def wait_for_warm_cache(spec: "ServiceSpec", warm: WarmCacheArgs) -> ContainerArgs:
    """The engine pod's init container: it waits for this revision's marker in the cache.

    It mounts the pod's `cache` volume read-only and runs the engine image's own shell, which
    the node has pulled for the engine anyway.
    """
    wait = warm.get("active_deadline_seconds", DEFAULT_DEADLINE_SECONDS)
    small = {"cpu": "50m", "memory": "32Mi"}
    return ContainerArgs(
        name="wait-for-weights",
        image=spec.image,
        image_pull_policy="Always",
        command=["sh", "-c", WAIT_SCRIPT],
        env=[
            EnvVarArgs(name="LLMPLANE_WARM_MARKER", value=marker_path(spec.request)),
            EnvVarArgs(name="LLMPLANE_WARM_WAIT", value=str(wait)),
        ],
        resources=ResourceRequirementsArgs(requests=small, limits=small),
        security_context=restricted_container(ENGINE_UID),
        volume_mounts=[VolumeMountArgs(name="cache", mount_path=CACHE_PATH, read_only=True)],
    )
