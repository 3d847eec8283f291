"""InferenceService: an LLM server on Kubernetes, given only a provider and a Placement."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apps.v1 import (
    DeploymentSpecArgs,
    DeploymentStrategyArgs,
    RollingUpdateDeploymentArgs,
)
from pulumi_kubernetes.core.v1 import (
    ContainerArgs,
    ContainerPortArgs,
    EmptyDirVolumeSourceArgs,
    EnvVarArgs,
    EnvVarSourceArgs,
    HTTPGetActionArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    ProbeArgs,
    ResourceRequirementsArgs,
    SecretKeySelectorArgs,
    ServicePortArgs,
    ServiceSpecArgs,
    TolerationArgs,
    VolumeArgs,
    VolumeMountArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs

from components.cloud import Placement, RegistryRef
from components.engines import EngineSpec, ServeRequest

_HF_TOKEN_KEY = "HF_TOKEN"
_CACHE_PATH = "/data"
_SERVICE_PORT = 80


@dataclass(frozen=True)
class InferenceSpec:
    """What to serve and where, already validated: built by the program from StackSettings."""

    namespace: str
    """Kubernetes namespace that holds everything the service creates."""
    labels: dict[str, str]
    """Labels on every object, and the selector of the pods."""
    model: ServeRequest
    """What to serve: model, revision, shards, quantization, token limits."""
    engine: EngineSpec
    """Which inference server runs it, and how."""
    replicas: int
    """How many copies of the server run."""
    placement: Placement
    """Where GPU pods go: node selector, tolerations, GPU resource name."""
    registry: RegistryRef | None = None
    """The private registry mirroring the engine image, if the cloud has one."""
    hf_token: pulumi.Output[str] | None = None
    """The Hugging Face token, a Pulumi secret; None for ungated models."""
    startup_budget_seconds: int = 1800
    """How long a pod may take to load the model before it is restarted."""
    cache_size: str = "100Gi"
    """Size limit of the weights cache volume."""
    shm_size: str = "1Gi"
    """Size limit of the memory-backed /dev/shm."""
    cpu: int | None = None
    """CPU cores per replica, sized to its share of the node; None: 2 per GPU."""
    memory_gib: int | None = None
    """Memory per replica (including /dev/shm), sized to its node share; None: 16 GiB per GPU."""


class InferenceService(pulumi.ComponentResource):
    """Namespace, HF token Secret, engine Deployment and ClusterIP Service for one model."""

    namespace: pulumi.Output[str]
    service_name: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(
        self, name: str, spec: InferenceSpec, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("llmplane:index:InferenceService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata=ObjectMetaArgs(name=spec.namespace, labels=spec.labels),
            opts=child,
        )
        ns_name = namespace.metadata.apply(lambda meta: meta.name or spec.namespace)

        env = [EnvVarArgs(name="HF_HOME", value=_CACHE_PATH)]
        if spec.hf_token is not None:
            secret = k8s.core.v1.Secret(
                f"{name}-hf-token",
                metadata=ObjectMetaArgs(name="hf-token", namespace=ns_name, labels=spec.labels),
                type="Opaque",
                string_data={_HF_TOKEN_KEY: spec.hf_token},
                opts=child,
            )
            secret_name = secret.metadata.apply(lambda meta: meta.name or "hf-token")
            env.append(
                EnvVarArgs(
                    name=_HF_TOKEN_KEY,
                    value_from=EnvVarSourceArgs(
                        secret_key_ref=SecretKeySelectorArgs(name=secret_name, key=_HF_TOKEN_KEY)
                    ),
                )
            )

        k8s.apps.v1.Deployment(
            name,
            metadata=ObjectMetaArgs(name=spec.engine.name, namespace=ns_name, labels=spec.labels),
            spec=DeploymentSpecArgs(
                replicas=spec.replicas,
                selector=LabelSelectorArgs(match_labels=spec.labels),
                # A GPU node rarely has room for a second copy: surge by one, never drop below.
                strategy=DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=RollingUpdateDeploymentArgs(max_surge=1, max_unavailable=0),
                ),
                template=PodTemplateSpecArgs(
                    metadata=ObjectMetaArgs(labels=spec.labels),
                    spec=_pod_spec(spec, env),
                ),
            ),
            # `pulumi up` waits for the rollout: a GPU node may first have to scale up from
            # zero and pull a large image, then the model loads. Ten minutes is not enough.
            opts=pulumi.ResourceOptions(
                parent=self,
                custom_timeouts=pulumi.CustomTimeouts(
                    create=f"{rollout_minutes(spec.startup_budget_seconds)}m",
                    update=f"{rollout_minutes(spec.startup_budget_seconds)}m",
                ),
            ),
        )

        service = k8s.core.v1.Service(
            f"{name}-svc",
            metadata=ObjectMetaArgs(name=spec.engine.name, namespace=ns_name, labels=spec.labels),
            spec=ServiceSpecArgs(
                type="ClusterIP",
                selector=spec.labels,
                ports=[ServicePortArgs(name="http", port=_SERVICE_PORT, target_port="http")],
            ),
            opts=child,
        )

        self.namespace = ns_name
        self.service_name = service.metadata.apply(lambda meta: meta.name or spec.engine.name)
        self.url = pulumi.Output.concat(
            "http://", self.service_name, ".", ns_name, ".svc.cluster.local"
        )
        self.register_outputs(
            {"namespace": self.namespace, "serviceName": self.service_name, "url": self.url}
        )


# A GPU node scaling up from zero and pulling an engine image of about 10 GB.
NODE_AND_IMAGE_MINUTES = 15


def rollout_minutes(startup_budget_seconds: int) -> int:
    """How long `pulumi up` waits for the Deployment: node, image, then the model's startup."""
    return NODE_AND_IMAGE_MINUTES + -(-startup_budget_seconds // 60)


def _pod_spec(spec: InferenceSpec, env: list[EnvVarArgs]) -> PodSpecArgs:
    """The engine pod: GPU placement, shared memory, weights cache, probes."""
    engine = spec.engine
    gpus = spec.model.shards
    # On an existing cluster the node shape is unknown: a modest share per GPU.
    cpu = spec.cpu or 2 * gpus
    memory = f"{spec.memory_gib or 16 * gpus}Gi"
    image = spec.registry.mirror(engine.image) if spec.registry else engine.image
    health = HTTPGetActionArgs(path=engine.health_path, port="http")
    period = 10
    return PodSpecArgs(
        # The engine talks to no Kubernetes API, so it gets no token to leak.
        automount_service_account_token=False,
        # Service links inject <NAME>_PORT variables, which engines that read PORT can misparse.
        enable_service_links=False,
        node_selector=dict(spec.placement.node_selector) or None,
        tolerations=[
            TolerationArgs(key=t.key, operator=t.operator, value=t.value, effect=t.effect)
            for t in spec.placement.tolerations
        ],
        containers=[
            ContainerArgs(
                name=engine.name,
                image=image,
                command=list(engine.command),
                args=engine.args(spec.model),
                ports=[ContainerPortArgs(name="http", container_port=engine.port)],
                env=env,
                resources=ResourceRequirementsArgs(
                    requests={"cpu": str(cpu), "memory": memory},
                    limits={spec.placement.gpu_resource: str(gpus), "memory": memory},
                ),
                # Loading weights can take many minutes; until the startup probe passes, the
                # liveness probe stays out of the way and cannot kill a pod that is still loading.
                startup_probe=ProbeArgs(
                    http_get=health,
                    period_seconds=period,
                    failure_threshold=max(1, spec.startup_budget_seconds // period),
                ),
                readiness_probe=ProbeArgs(
                    http_get=health, period_seconds=period, failure_threshold=3
                ),
                liveness_probe=ProbeArgs(
                    http_get=health, period_seconds=30, timeout_seconds=5, failure_threshold=3
                ),
                volume_mounts=[
                    VolumeMountArgs(name="dshm", mount_path="/dev/shm"),
                    VolumeMountArgs(name="cache", mount_path=_CACHE_PATH),
                ],
            )
        ],
        volumes=[
            # NCCL moves tensors between shards through /dev/shm; the container default is 64 MiB.
            VolumeArgs(
                name="dshm",
                empty_dir=EmptyDirVolumeSourceArgs(medium="Memory", size_limit=spec.shm_size),
            ),
            VolumeArgs(
                name="cache", empty_dir=EmptyDirVolumeSourceArgs(size_limit=spec.cache_size)
            ),
        ],
    )
