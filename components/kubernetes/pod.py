"""The engine pod: hardened, placed on GPU nodes, with probes sized to the model's load time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pulumi
from pulumi_kubernetes.core.v1 import (
    CapabilitiesArgs,
    ContainerArgs,
    ContainerPortArgs,
    EmptyDirVolumeSourceArgs,
    EnvVarArgs,
    ExecActionArgs,
    HTTPGetActionArgs,
    KeyToPathArgs,
    LifecycleArgs,
    LifecycleHandlerArgs,
    PersistentVolumeClaimVolumeSourceArgs,
    PodSecurityContextArgs,
    PodSpecArgs,
    ProbeArgs,
    ResourceRequirementsArgs,
    SeccompProfileArgs,
    SecretVolumeSourceArgs,
    SecurityContextArgs,
    TolerationArgs,
    TopologySpreadConstraintArgs,
    VolumeArgs,
    VolumeMountArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs

from .streamer import StreamerPlan, streamed_request

if TYPE_CHECKING:
    from .args import PlacementArgs
    from .service_spec import ServiceSpec

__all__ = [
    "CACHE_PATH",
    "CLIENT_LABEL",
    "ENGINE_UID",
    "FIT_ENV",
    "GATED_ENV",
    "GPU_RESOURCE",
    "GRACE_SECONDS",
    "HOME",
    "INSTANCE_LABEL",
    "MANAGED_BY_LABEL",
    "NAME_LABEL",
    "PRESTOP_SECONDS",
    "PROBE_PERIOD",
    "TOKEN_KEY",
    "TOKEN_PATH",
    "engine_pod",
    "gpu_tolerations",
    "restricted_container",
    "restricted_pod",
    "token_volume",
]

# The namespace label that lets a namespace's pods call llmplane's services (the engine, or the
# interceptor that holds its requests): `kubectl label namespace my-app llmplane.io/client=true`.
CLIENT_LABEL = "llmplane.io/client"

# The recommended labels every object of a service gets unless the caller's labels set them; the
# instance label, derived from the object name, is what keeps two services' selectors apart.
NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
CACHE_PATH = "/data"
TOKEN_KEY = "HF_TOKEN"
# What the NVIDIA device plugin advertises; AMD's and others' are passed in the placement.
GPU_RESOURCE = "nvidia.com/gpu"
# Where huggingface_hub (vLLM, SGLang, TGI's downloader) and TGI's router (hf-hub, which reads
# $HF_HOME/token) both find the token: a file from the Secret, never an environment variable.
TOKEN_PATH = f"{CACHE_PATH}/token"
HOME = "/home/engine"
# Above 10000 so the uid never collides with a host account; the images need no particular uid
# once HOME, /tmp and the cache are writable volumes.
ENGINE_UID = 10001
# Long enough for the load balancer to stop sending new requests and for streams in flight to
# finish; the preStop pause covers the first part, the engine's own SIGTERM drain the rest.
GRACE_SECONDS = 120
PRESTOP_SECONDS = 15
PROBE_PERIOD = 10
# What sizing found out about the model, carried in the pod so that policies reading the plan
# (or the cluster) can see it: a gated repo needs a token, an unchecked fit may not load.
GATED_ENV = "LLMPLANE_MODEL_GATED"
FIT_ENV = "LLMPLANE_GPU_FIT"

# Caches the engines write at run time, pointed at writable volumes (the root is read-only).
_WRITABLE_ENV = {
    "HF_HOME": CACHE_PATH,
    "HOME": HOME,
    "XDG_CACHE_HOME": f"{HOME}/.cache",
    "TRITON_CACHE_DIR": f"{HOME}/.triton",
    "NUMBA_CACHE_DIR": "/tmp/numba",
    "OUTLINES_CACHE_DIR": "/tmp/outlines",
}


def restricted_container(uid: int) -> SecurityContextArgs:
    """Restricted: non-root, no privilege escalation, no capabilities, read-only root."""
    return SecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=uid,
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        capabilities=CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=SeccompProfileArgs(type="RuntimeDefault"),
    )


def restricted_pod(uid: int, fs_group: int | None = None) -> PodSecurityContextArgs:
    """The pod-level half: non-root uid, RuntimeDefault seccomp, and a group for its volumes."""
    return PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=uid,
        fs_group=fs_group,
        seccomp_profile=SeccompProfileArgs(type="RuntimeDefault"),
    )


def _spread(labels: pulumi.Input[Mapping[str, str]]) -> list[TopologySpreadConstraintArgs]:
    """Spread replicas over zones and nodes, but never leave one unscheduled for it."""
    return [
        TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key=key,
            when_unsatisfiable="ScheduleAnyway",
            label_selector=LabelSelectorArgs(match_labels=labels),
        )
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]


def _volumes(spec: ServiceSpec, cache_claim: pulumi.Input[str] | None) -> list[VolumeArgs]:
    cache = (
        VolumeArgs(
            name="cache",
            persistent_volume_claim=PersistentVolumeClaimVolumeSourceArgs(claim_name=cache_claim),
        )
        if cache_claim is not None
        else VolumeArgs(
            name="cache", empty_dir=EmptyDirVolumeSourceArgs(size_limit=spec.cache_size)
        )
    )
    return [
        # NCCL moves tensors between shards through /dev/shm; the container default is 64 MiB.
        VolumeArgs(
            name="dshm",
            empty_dir=EmptyDirVolumeSourceArgs(medium="Memory", size_limit=spec.shm_size),
        ),
        cache,
        VolumeArgs(name="tmp", empty_dir=EmptyDirVolumeSourceArgs(size_limit="10Gi")),
        VolumeArgs(name="home", empty_dir=EmptyDirVolumeSourceArgs(size_limit="10Gi")),
    ]


def _command_and_env(
    spec: ServiceSpec, env: list[EnvVarArgs]
) -> tuple[pulumi.Input[list[str]], pulumi.Input[list[EnvVarArgs]]]:
    """The engine's arguments and env: from the Hub, or streamed from the bucket's folder."""
    engine, request, extra = spec.engine, spec.request, spec.engine_args
    if spec.streamer is None:
        # The caller's extra arguments come last, after everything llmplane generates.
        return [*engine.args(request), *extra], env

    def streamed(plan: StreamerPlan) -> list[str]:
        # The streamer's flags first, then the usual ones with the URI in the model's place.
        return [*plan.args, *engine.args(streamed_request(request, plan.model)), *extra]

    def with_plan_env(plan: StreamerPlan) -> list[EnvVarArgs]:
        return [*env, *(EnvVarArgs(name=k, value=v) for k, v in sorted(plan.env.items()))]

    return spec.streamer.apply(streamed), spec.streamer.apply(with_plan_env)


def gpu_tolerations(placement: PlacementArgs) -> list[TolerationArgs]:
    """The placement's tolerations of the GPU nodes' taints (any value, NoSchedule by default)."""
    return [
        TolerationArgs(
            key=t["key"],
            operator=t.get("operator", "Exists"),
            value=t.get("value"),
            effect=t.get("effect", "NoSchedule"),
        )
        for t in placement.get("tolerations", ())
    ]


def token_volume(token_secret: pulumi.Input[str]) -> VolumeArgs:
    """The volume `hf-token`: the Secret's token as the file `token`, readable by the pod only."""
    return VolumeArgs(
        name="hf-token",
        secret=SecretVolumeSourceArgs(
            secret_name=token_secret,
            items=[KeyToPathArgs(key=TOKEN_KEY, path="token")],
            default_mode=0o440,
        ),
    )


def engine_pod(
    spec: ServiceSpec,
    token_secret: pulumi.Input[str] | None,
    service_account: pulumi.Input[str],
    cache_claim: pulumi.Input[str] | None,
) -> PodSpecArgs:
    """The engine pod: GPU placement, shared memory, weights cache, probes, restricted context."""
    engine, placement = spec.engine, spec.placement
    gpus, cpu, memory = spec.request.shards, spec.cpu, spec.memory
    health = HTTPGetActionArgs(path=engine.health_path, port="http")
    env = [EnvVarArgs(name=k, value=v) for k, v in sorted(_WRITABLE_ENV.items())]
    if spec.request.gated:
        env.append(EnvVarArgs(name=GATED_ENV, value="true"))
    if not spec.request.fit_checked:
        env.append(EnvVarArgs(name=FIT_ENV, value="unchecked"))
    mounts = [
        VolumeMountArgs(name="dshm", mount_path="/dev/shm"),
        VolumeMountArgs(name="cache", mount_path=CACHE_PATH),
        VolumeMountArgs(name="tmp", mount_path="/tmp"),
        VolumeMountArgs(name="home", mount_path=HOME),
    ]
    volumes = _volumes(spec, cache_claim)
    if token_secret is not None:
        env.append(EnvVarArgs(name="HF_TOKEN_PATH", value=TOKEN_PATH))
        mounts.append(
            VolumeMountArgs(
                name="hf-token", mount_path=TOKEN_PATH, sub_path="token", read_only=True
            )
        )
        volumes.append(token_volume(token_secret))
    args, env_vars = _command_and_env(spec, env)
    return PodSpecArgs(
        service_account_name=service_account,
        # The engine talks to no Kubernetes API, so it gets no token to leak.
        automount_service_account_token=False,
        # Service links inject <NAME>_PORT variables, which engines that read PORT can misparse.
        enable_service_links=False,
        # fs_group: the cache volume becomes writable for the engine's uid.
        security_context=restricted_pod(ENGINE_UID, fs_group=ENGINE_UID),
        termination_grace_period_seconds=GRACE_SECONDS,
        node_selector=dict(placement.get("node_selector", {})) or None,
        tolerations=gpu_tolerations(placement),
        topology_spread_constraints=_spread(spec.labels),
        containers=[
            ContainerArgs(
                name=engine.name,
                image=spec.image,
                # Tags are pinned releases; Always re-checks the tag's digest at each start, so a
                # node never runs a stale or tampered local copy (layers stay cached).
                image_pull_policy="Always",
                command=list(engine.command),
                args=args,
                ports=[ContainerPortArgs(name="http", container_port=engine.port)],
                env=env_vars,
                resources=ResourceRequirementsArgs(
                    requests={"cpu": cpu, "memory": memory},
                    limits={
                        placement.get("gpu_resource", GPU_RESOURCE): str(gpus),
                        "cpu": cpu,
                        "memory": memory,
                    },
                ),
                security_context=restricted_container(ENGINE_UID),
                # Loading weights can take many minutes; until the startup probe passes, the
                # liveness probe stays out of the way and cannot kill a pod that is still loading.
                startup_probe=ProbeArgs(
                    http_get=health,
                    period_seconds=PROBE_PERIOD,
                    failure_threshold=max(1, spec.startup_seconds // PROBE_PERIOD),
                ),
                readiness_probe=ProbeArgs(
                    http_get=health, period_seconds=PROBE_PERIOD, failure_threshold=3
                ),
                liveness_probe=ProbeArgs(
                    http_get=health, period_seconds=30, timeout_seconds=5, failure_threshold=3
                ),
                # Endpoints take a few seconds to drop a terminating pod; keep serving meanwhile.
                lifecycle=LifecycleArgs(
                    pre_stop=LifecycleHandlerArgs(
                        exec_=ExecActionArgs(command=["sleep", str(PRESTOP_SECONDS)])
                    )
                ),
                volume_mounts=mounts,
            )
        ],
        volumes=volumes,
    )
