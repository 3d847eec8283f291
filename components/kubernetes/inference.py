"""InferenceService: an LLM server on Kubernetes, given only a provider and a Placement."""
# No `from __future__ import annotations` here: Pulumi's component analyzer
# (pulumi.provider.experimental) reads the args' and outputs' annotations at run time, and
# postponed annotations would reach it as strings it cannot follow.

from collections.abc import Mapping
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

from .activator import front_door, hold_requests, holds
from .engines import EngineSpec
from .gateway import build_gateway
from .pod import (
    TOKEN_KEY,
    engine_pod,
)
from .service_spec import (
    CPU_PER_GPU,
    DEFAULT_CACHE_GIB,
    DEFAULT_ENGINE,
    DEFAULT_GPUS,
    DEFAULT_NAMESPACE,
    DEFAULT_SHM_GIB,
    DEFAULT_STARTUP_SECONDS,
    MEMORY_GIB_PER_GPU,
    AutoscalingArgs,
    GatewayArgs,
    GpuTolerationArgs,
    InferenceServiceArgs,
    PlacementArgs,
    ScaleFromZeroArgs,
    ServiceSpec,
    WakeScheduleArgs,
    WarmCacheArgs,
    resolve,
)
from .traffic import Meta, network_policies, scaled_object
from .warm_cache import wait_for_warm_cache, warm_cache_job

__all__ = [
    "CPU_PER_GPU",
    "DEFAULT_CACHE_GIB",
    "DEFAULT_ENGINE",
    "DEFAULT_GPUS",
    "DEFAULT_NAMESPACE",
    "DEFAULT_SHM_GIB",
    "DEFAULT_STARTUP_SECONDS",
    "MEMORY_GIB_PER_GPU",
    "NODE_AND_IMAGE_MINUTES",
    "TYPE",
    "AutoscalingArgs",
    "GatewayArgs",
    "GpuTolerationArgs",
    "InferenceService",
    "InferenceServiceArgs",
    "PlacementArgs",
    "ScaleFromZeroArgs",
    "ServiceSpec",
    "WakeScheduleArgs",
    "WarmCacheArgs",
    "resolve",
    "rollout_minutes",
]

TYPE = "llmplane:index:InferenceService"
_SERVICE_PORT = 80


class InferenceService(pulumi.ComponentResource):
    """An LLM server on Kubernetes: engine Deployment, Services, PDB, NetworkPolicies, scaling."""

    endpoint: pulumi.Output[str]
    """In-cluster URL of the OpenAI API: http://<service>.<namespace>.svc.cluster.local."""
    public_endpoint: pulumi.Output[str] | None
    """https://<address> of the public gateway; None without a gateway."""
    namespace: pulumi.Output[str]
    """Namespace that holds the service's objects."""
    service_name: pulumi.Output[str]
    """Name of the engine's ClusterIP Service."""

    def __init__(
        self, name: str, args: InferenceServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Checked before anything registers: bad args leave nothing half-made behind.
        spec = resolve(name, args)
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = spec.labels

        ns_name = _namespace(spec, child)

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
            metadata=meta(spec.object_name(), spec.account_annotations),
            automount_service_account_token=False,
            opts=child,
        )
        token_secret = _token_secret(spec, meta, child)
        claim = _shared_cache(spec, meta, child)
        pod = engine_pod(spec, token_secret, account.metadata.name, claim)
        # Creating the Job returns only once it is Complete, so the Deployment starts after it;
        # and every engine pod, also one that starts much later, first waits for its marker.
        warm = None
        if spec.warm_cache is not None and claim is not None:
            warm = warm_cache_job(spec, spec.warm_cache, meta, token_secret, claim, child)
            pod.init_containers = [wait_for_warm_cache(spec, spec.warm_cache)]
        rollout = f"{rollout_minutes(spec.startup_seconds)}m"
        deployment = k8s.apps.v1.Deployment(
            name,
            metadata=meta(spec.object_name()),
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
                        labels=labels.apply(lambda own: {**own, **spec.pod_labels}),
                        annotations=_scrape(spec.engine),
                    ),
                    spec=pod,
                ),
            ),
            # `pulumi up` waits for the rollout: a GPU node may first have to scale up from
            # zero and pull a large image, then the model loads. Ten minutes is not enough.
            # KEDA owns the replica count once it runs; Pulumi must not reset it on each update.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[warm] if warm is not None else None,
                ignore_changes=["spec.replicas"] if spec.autoscaling is not None else None,
                custom_timeouts=pulumi.CustomTimeouts(create=rollout, update=rollout),
            ),
        )
        # Voluntary evictions (node drains, scale-down) take one replica at a time; with a single
        # replica that means a short outage rather than a GPU node that can never be drained.
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=meta(spec.object_name()),
            spec=PodDisruptionBudgetSpecArgs(
                max_unavailable=1, selector=LabelSelectorArgs(match_labels=labels)
            ),
            opts=child,
        )
        # A held service's callers reach the interceptor under the service's name (front_door),
        # and the interceptor reaches the engine under `<base>-engine`.
        held_front = holds(spec)
        service = k8s.core.v1.Service(
            f"{name}-svc",
            metadata=meta(spec.object_name("engine" if held_front else "")),
            spec=ServiceSpecArgs(
                type="ClusterIP",
                selector=labels,
                ports=[ServicePortArgs(name="http", port=_SERVICE_PORT, target_port="http")],
            ),
            opts=child,
        )
        if spec.internal_load_balancer is not None:
            k8s.core.v1.Service(
                f"{name}-internal-lb",
                metadata=meta(spec.object_name("internal"), spec.internal_load_balancer),
                spec=ServiceSpecArgs(
                    type="LoadBalancer",
                    selector=labels,
                    ports=[ServicePortArgs(name="http", port=_SERVICE_PORT, target_port="http")],
                ),
                opts=child,
            )
        front = None
        if held_front and spec.scale_from_zero is not None:
            front = front_door(spec, spec.scale_from_zero, meta, self)
        held = hold_requests(spec, spec.scale_from_zero, meta, deployment, service, front, self)
        network_policies(spec, meta, child, held)
        public_endpoint: pulumi.Output[str] | None = None
        if spec.gateway is not None:
            upstream = pulumi.Output.concat(
                "http://", spec.object_name(), ".", ns_name, f".svc.cluster.local:{_SERVICE_PORT}"
            )
            public = build_gateway(spec, spec.gateway, upstream, meta, child, held)
            public_endpoint = public.status.apply(_load_balancer_url)
        if spec.autoscaling is not None:
            scaled_object(spec, spec.autoscaling, meta, deployment, self, held)

        self.namespace = ns_name
        called = front if front is not None else service
        self.service_name = called.metadata.apply(lambda m: m.name or spec.object_name())
        # The front door keeps the interceptor's port: an ExternalName Service maps no ports.
        port = "" if held is None else f":{held.port}"
        self.endpoint = pulumi.Output.concat(
            "http://", self.service_name, ".", ns_name, ".svc.cluster.local", port
        )
        self.public_endpoint = public_endpoint
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "namespace": self.namespace,
                "publicEndpoint": self.public_endpoint,
                "serviceName": self.service_name,
            }
        )


def _namespace(spec: ServiceSpec, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
    """The namespace's name, as an Output of the Namespace when the service creates it."""
    if not spec.create_namespace:
        return pulumi.Output.from_input(spec.namespace)
    namespace = k8s.core.v1.Namespace(
        f"{spec.name}-ns",
        metadata=ObjectMetaArgs(name=spec.namespace, labels=spec.labels),
        opts=opts,
    )
    # Through the created object, so that everything in it waits for it.
    created = namespace.metadata.apply(lambda meta: meta.name)
    given = pulumi.Output.from_input(spec.namespace)
    return pulumi.Output.all(created, given).apply(lambda names: names[0] or names[1])


def _token_secret(
    spec: ServiceSpec, meta: Meta, opts: pulumi.ResourceOptions
) -> pulumi.Output[str] | None:
    """The Hugging Face token as a Secret, which the pod mounts as a file."""
    if spec.hf_token is None:
        return None
    name = spec.object_name("hf-token")
    secret = k8s.core.v1.Secret(
        f"{spec.name}-hf-token",
        metadata=meta(name),
        type="Opaque",
        string_data={TOKEN_KEY: spec.hf_token},
        opts=opts,
    )
    return secret.metadata.apply(lambda m: m.name or name)


def _shared_cache(
    spec: ServiceSpec, meta: Meta, opts: pulumi.ResourceOptions
) -> pulumi.Output[str] | None:
    """One ReadWriteMany claim for every replica's weights, where the cluster offers one."""
    if spec.shared_cache_class is None:
        return None
    name = spec.object_name("model-cache")
    claim = k8s.core.v1.PersistentVolumeClaim(
        f"{spec.name}-cache",
        metadata=meta(name),
        spec=PersistentVolumeClaimSpecArgs(
            access_modes=["ReadWriteMany"],
            storage_class_name=spec.shared_cache_class,
            resources=VolumeResourceRequirementsArgs(requests={"storage": spec.cache_size}),
        ),
        opts=opts,
    )
    return claim.metadata.apply(lambda m: m.name or name)


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
