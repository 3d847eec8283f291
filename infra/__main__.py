"""The llmplane program: stack settings -> GpuPlatform -> InferenceService -> stack outputs."""

import pulumi

from llmplane.components.inference import InferenceService
from llmplane.components.platform import GpuPlatform
from llmplane.infra.cloud_args import cloud_for
from llmplane.infra.errors import SettingsError
from llmplane.infra.service_args import OBJECT_NAME, service_args, service_namespace
from llmplane.infra.serving import gpu_summary, serving_for
from llmplane.infra.settings import from_pulumi

try:
    settings = from_pulumi()
    cloud = cloud_for(settings)
    serving = serving_for(settings)
except SettingsError as error:
    # RunError makes the engine print the message alone, without a Python traceback.
    raise pulumi.RunError(str(error)) from None

# The cloud identity binds to the engine's ServiceAccount, which the service names OBJECT_NAME.
platform = GpuPlatform("llm", cloud, workload=(service_namespace(settings), OBJECT_NAME))
service = InferenceService(
    "llm",
    service_args(settings, serving, platform),
    opts=pulumi.ResourceOptions(providers=[platform.cluster.provider]),
)

pulumi.export("cloud", settings.cloud)
pulumi.export("model", settings.model.id)
pulumi.export("engine", settings.engine)
pulumi.export("gpu", gpu_summary(serving))
pulumi.export("namespace", service.namespace)
pulumi.export("endpoint", service.endpoint)
if service.public_endpoint is not None:
    pulumi.export("publicEndpoint", service.public_endpoint)
if platform.kubeconfig is not None:
    pulumi.export("kubeconfig", platform.kubeconfig)
