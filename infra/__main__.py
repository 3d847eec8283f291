"""The llmplane program: stack settings -> a cluster component -> InferenceService -> outputs."""

import pulumi

from llmplane.components.kubernetes.addons import KedaAutoscaling
from llmplane.components.kubernetes.inference import InferenceService
from llmplane.infra.cloud_args import cluster_for, engine_workload, refusal
from llmplane.infra.config.errors import SettingsError
from llmplane.infra.config.settings import from_pulumi
from llmplane.infra.service_args import autoscaling_settings, service_args, weights_path
from llmplane.infra.sizing.serving import gpu_summary, serving_for

try:
    settings = from_pulumi()
    serving = serving_for(settings)
    build_cluster = cluster_for(settings, engine_workload(settings))
except SettingsError as error:
    # RunError makes the engine print the message alone, without a Python traceback.
    raise pulumi.RunError(str(error)) from None

target = build_cluster("llm", None)
on_cluster = pulumi.ResourceOptions(providers=[target.cluster.provider])
scaling = KedaAutoscaling("llm", autoscaling_settings(settings, serving), opts=on_cluster)
try:
    service = InferenceService(
        "llm", service_args(settings, serving, target, scaling.handle), opts=on_cluster
    )
except ValueError as error:
    raise pulumi.RunError(str(refusal(settings, error))) from None

pulumi.export("cloud", settings.cloud)
pulumi.export("model", settings.model.id)
pulumi.export("engine", settings.engine)
pulumi.export("gpu", gpu_summary(serving))
pulumi.export("namespace", service.namespace)
pulumi.export("endpoint", service.endpoint)
if service.public_endpoint is not None:
    pulumi.export("publicEndpoint", service.public_endpoint)
weights = weights_path(target, settings.model.id)
if weights is not None:
    # Where to upload the model snapshot (config, tokenizer, safetensors) the engine streams.
    pulumi.export("weightsUri", weights)
if target.kubeconfig is not None:
    pulumi.export("kubeconfig", target.kubeconfig)
