"""The llmplane program: stack settings -> GpuPlatform -> InferenceService -> stack outputs."""

import pulumi

from components.cloud import as_secret, cloud_for
from components.engines import ENGINES
from components.gateway import gateway_spec
from components.inference import SERVICE, InferenceService, InferenceSpec
from components.naming import dns_label, labels
from components.platform import GpuPlatform
from components.traffic import wake_schedule
from infra.errors import SettingsError
from infra.serving import gpu_summary, serving_for
from infra.settings import from_pulumi

try:
    settings = from_pulumi()
    cloud = cloud_for(settings)
    serving = serving_for(settings)
except SettingsError as error:
    # RunError makes the engine print the message alone, without a Python traceback.
    raise pulumi.RunError(str(error)) from None

namespace = dns_label("llm", settings.stack)
platform = GpuPlatform("llm", cloud, workload=(namespace, SERVICE))
service = InferenceService(
    "llm",
    InferenceSpec(
        namespace=namespace,
        labels=labels(settings.stack, "inference"),
        model=serving.request,
        engine=ENGINES[settings.engine],
        # Start with one copy so `pulumi up` sees the endpoint answer; KEDA scales from there.
        replicas=max(1, settings.replicas.min),
        min_replicas=settings.replicas.min,
        max_replicas=settings.replicas.max,
        wake=wake_schedule(settings),
        placement=platform.placement,
        registry=platform.registry,
        hf_token=as_secret(settings.hf_token),
        startup_budget_seconds=serving.startup_seconds,
        cache_size=f"{serving.cache_gib}Gi",
        shm_size=f"{serving.shm_gib}Gi",
        cpu=serving.cpu,
        memory_gib=serving.memory_gib,
        internal_lb_annotations=platform.cluster.internal_lb_annotations,
        shared_cache_class=platform.cluster.shared_cache_class,
        autoscaling=platform.autoscaling,
        gateway=gateway_spec(settings),
        identity=platform.identity,
    ),
    opts=pulumi.ResourceOptions(providers=[platform.cluster.provider]),
)

pulumi.export("cloud", settings.cloud)
pulumi.export("model", settings.model.id)
pulumi.export("engine", settings.engine)
pulumi.export("gpu", gpu_summary(serving))
pulumi.export("namespace", service.namespace)
pulumi.export("endpoint", service.url)
if service.public_url is not None:
    pulumi.export("publicEndpoint", service.public_url)
if platform.kubeconfig is not None:
    pulumi.export("kubeconfig", platform.kubeconfig)
