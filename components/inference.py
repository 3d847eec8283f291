"""InferenceService: an LLM server on Kubernetes, given only a provider and a Placement."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apps.v1 import (
    DeploymentSpecArgs,
    DeploymentStrategyArgs,
    RollingUpdateDeploymentArgs,
)
from pulumi_kubernetes.core.v1 import (
    PersistentVolumeClaimSpecArgs,
    PodTemplateSpecArgs,
    ServicePortArgs,
    ServiceSpecArgs,
    VolumeResourceRequirementsArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.policy.v1 import PodDisruptionBudgetSpecArgs

from components.addons import Autoscaling
from components.cloud import Placement, RegistryRef, WorkloadIdentity
from components.engines import EngineSpec, ServeRequest
from components.gateway import GatewaySpec, build_gateway
from components.pod import TOKEN_KEY, engine_pod
from components.traffic import Meta, WakeSchedule, network_policies, scaled_object

_SERVICE_PORT = 80
# Object names do not mention the engine: switching engines must not replace the Service,
# its address, or anything else that callers and policies hold on to.
SERVICE = "inference"


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
    """Copies of the server `pulumi up` starts with; KEDA takes over from there."""
    max_replicas: int
    """Most copies KEDA may scale to."""
    min_replicas: int
    """Fewest copies KEDA scales down to; 0 scales to zero when the queue stays empty."""
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
    internal_lb_annotations: Mapping[str, str] | None = None
    """The cloud's internal load balancer annotations; None: ClusterIP only."""
    shared_cache_class: str | None = None
    """ReadWriteMany storage class for a weights cache all replicas share; None: per pod."""
    autoscaling: Autoscaling | None = None
    """KEDA and Prometheus; None leaves the replica count fixed."""
    gateway: GatewaySpec | None = None
    """The public gateway's keys and certificate; None: no public endpoint at all."""
    identity: WorkloadIdentity = dataclasses.field(default_factory=WorkloadIdentity)
    """The cloud identity the engine's ServiceAccount maps to (none by default)."""
    wake: WakeSchedule | None = None
    """Active hours when KEDA keeps copies running; what wakes a service scaled to zero."""


class InferenceService(pulumi.ComponentResource):
    """Engine Deployment, its Service(s), PDB, NetworkPolicy and queue-depth ScaledObject."""

    namespace: pulumi.Output[str]
    service_name: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(
        self, name: str, spec: InferenceSpec, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("llmplane:index:InferenceService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        engine, labels = spec.engine, spec.labels

        namespace = k8s.core.v1.Namespace(
            f"{name}-ns", metadata=ObjectMetaArgs(name=spec.namespace, labels=labels), opts=child
        )
        ns_name = namespace.metadata.apply(lambda meta: meta.name or spec.namespace)

        def meta(
            object_name: str, annotations: Mapping[str, pulumi.Input[str]] | None = None
        ) -> ObjectMetaArgs:
            return ObjectMetaArgs(
                name=object_name,
                namespace=ns_name,
                labels=labels,
                annotations=dict(annotations) if annotations else None,
            )

        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=meta(SERVICE, spec.identity.annotations),
            automount_service_account_token=False,
            opts=child,
        )
        token_secret = self._token_secret(name, spec, meta, child)
        claim = self._shared_cache(name, spec, meta, child)
        deployment = k8s.apps.v1.Deployment(
            name,
            metadata=meta(SERVICE),
            spec=DeploymentSpecArgs(
                replicas=spec.replicas,
                selector=LabelSelectorArgs(match_labels=labels),
                # A GPU node rarely has room for a second copy: surge by one, never drop below.
                strategy=DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=RollingUpdateDeploymentArgs(max_surge=1, max_unavailable=0),
                ),
                template=PodTemplateSpecArgs(
                    metadata=ObjectMetaArgs(
                        labels={**labels, **spec.identity.pod_labels},
                        annotations=_scrape(engine),
                    ),
                    spec=engine_pod(spec, token_secret, account.metadata.name, claim),
                ),
            ),
            # `pulumi up` waits for the rollout: a GPU node may first have to scale up from
            # zero and pull a large image, then the model loads. Ten minutes is not enough.
            # KEDA owns the replica count once it runs; Pulumi must not reset it on each update.
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=["spec.replicas"],
                custom_timeouts=pulumi.CustomTimeouts(
                    create=f"{rollout_minutes(spec.startup_budget_seconds)}m",
                    update=f"{rollout_minutes(spec.startup_budget_seconds)}m",
                ),
            ),
        )
        # Voluntary evictions (node drains, scale-down) take one replica at a time; with a single
        # replica that means a short outage rather than a GPU node that can never be drained.
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=meta(SERVICE),
            spec=PodDisruptionBudgetSpecArgs(
                max_unavailable=1, selector=LabelSelectorArgs(match_labels=labels)
            ),
            opts=child,
        )
        service = k8s.core.v1.Service(
            f"{name}-svc",
            metadata=meta(SERVICE),
            spec=ServiceSpecArgs(
                type="ClusterIP",
                selector=labels,
                ports=[ServicePortArgs(name="http", port=_SERVICE_PORT, target_port="http")],
            ),
            opts=child,
        )
        if spec.internal_lb_annotations is not None:
            k8s.core.v1.Service(
                f"{name}-internal-lb",
                metadata=meta(f"{SERVICE}-internal", spec.internal_lb_annotations),
                spec=ServiceSpecArgs(
                    type="LoadBalancer",
                    selector=labels,
                    ports=[ServicePortArgs(name="http", port=_SERVICE_PORT, target_port="http")],
                ),
                opts=child,
            )
        network_policies(name, spec, meta, child)
        self.public_url: pulumi.Output[str] | None = None
        if spec.gateway is not None:
            upstream = pulumi.Output.concat(
                "http://", SERVICE, ".", ns_name, f".svc.cluster.local:{_SERVICE_PORT}"
            )
            public = build_gateway(name, spec.gateway, upstream, labels, meta, child)
            self.public_url = public.status.apply(_load_balancer_url)
        if spec.autoscaling is not None:
            scaled_object(name, spec, meta, deployment, spec.autoscaling, self)

        self.namespace = ns_name
        self.service_name = service.metadata.apply(lambda m: m.name or SERVICE)
        self.url = pulumi.Output.concat(
            "http://", self.service_name, ".", ns_name, ".svc.cluster.local"
        )
        self.register_outputs(
            {"namespace": self.namespace, "serviceName": self.service_name, "url": self.url}
        )

    @staticmethod
    def _token_secret(
        name: str, spec: InferenceSpec, meta: Meta, opts: pulumi.ResourceOptions
    ) -> pulumi.Output[str] | None:
        """The Hugging Face token as a Secret, which the pod mounts as a file."""
        if spec.hf_token is None:
            return None
        secret = k8s.core.v1.Secret(
            f"{name}-hf-token",
            metadata=meta("hf-token"),
            type="Opaque",
            string_data={TOKEN_KEY: spec.hf_token},
            opts=opts,
        )
        return secret.metadata.apply(lambda m: m.name or "hf-token")

    @staticmethod
    def _shared_cache(
        name: str, spec: InferenceSpec, meta: Meta, opts: pulumi.ResourceOptions
    ) -> pulumi.Output[str] | None:
        """One ReadWriteMany claim for every replica's weights, where the cluster offers one."""
        if spec.shared_cache_class is None:
            return None
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-cache",
            metadata=meta("model-cache"),
            spec=PersistentVolumeClaimSpecArgs(
                access_modes=["ReadWriteMany"],
                storage_class_name=spec.shared_cache_class,
                resources=VolumeResourceRequirementsArgs(requests={"storage": spec.cache_size}),
            ),
            opts=opts,
        )
        return claim.metadata.apply(lambda m: m.name or "model-cache")


def _load_balancer_url(status: Any) -> str:
    """https://<address> once the cloud has given the gateway's load balancer one."""
    balancer = status.load_balancer if status is not None else None
    ingress = (balancer.ingress if balancer is not None else None) or []
    if not ingress:
        return "https://<load balancer address pending>"
    first = ingress[0]
    return f"https://{first.hostname or first.ip}"


def _scrape(engine: EngineSpec) -> dict[str, str]:
    """Pod annotations the Prometheus chart's kubernetes-pods job scrapes by."""
    return {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(engine.port),
        "prometheus.io/path": "/metrics",
    }


# A GPU node scaling up from zero and pulling an engine image of about 10 GB.
NODE_AND_IMAGE_MINUTES = 15


def rollout_minutes(startup_budget_seconds: int) -> int:
    """How long `pulumi up` waits for the Deployment: node, image, then the model's startup."""
    return NODE_AND_IMAGE_MINUTES + -(-startup_budget_seconds // 60)
