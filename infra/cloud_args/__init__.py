"""Stack settings -> the per-cloud components' typed args, and the one branch on the cloud.

Each module (aws, azure, gcp, kubernetes) turns a validated StackSettings into its cloud's args
class; `cloud_for` picks the adapter; the helpers below are what every managed cloud shares.
"""

from __future__ import annotations

import pulumi
from pydantic import SecretStr

from llmplane.components.cloud import Cloud, GpuPoolSpec

from ..errors import SettingsError
from ..serving import serving_for
from ..settings import StackSettings


def as_secret(value: SecretStr | None) -> pulumi.Output[str] | None:
    """A settings secret as a Pulumi secret output, so it stays redacted wherever it flows."""
    return pulumi.Output.secret(value.get_secret_value()) if value is not None else None


def cloud_for(settings: StackSettings) -> Cloud:
    """The adapter for the stack's cloud, built from its args: the program's one branch on cloud."""
    try:
        return _adapter(settings)
    except ValueError as error:
        # The components check their args in their own terms; the settings rules should have
        # refused the stack first, and this keeps the one-line contract if one ever does not.
        raise SettingsError(
            settings.stack,
            "llmplane:cloud",
            f"the {settings.cloud} target refuses the stack: {error}",
            "fix the stack's settings for that target",
        ) from None


def _adapter(settings: StackSettings) -> Cloud:
    # Each branch imports its own cloud's modules, so planning one cloud never loads another's SDK.
    match settings.cloud:
        case "aws":
            from llmplane.components.aws import AwsCloud

            from .aws import aws_args

            return AwsCloud(aws_args(settings))
        case "azure":
            from llmplane.components.azure import AzureCloud

            from .azure import azure_args

            return AzureCloud(azure_args(settings))
        case "gcp":
            from llmplane.components.gcp import GcpCloud

            from .gcp import gcp_args

            return GcpCloud(gcp_args(settings))
        case "kubernetes":
            from llmplane.components.kubernetes import ExistingCluster

            from .kubernetes import kubernetes_args

            return ExistingCluster(kubernetes_args(settings))


def pool_spec(settings: StackSettings) -> GpuPoolSpec:
    """The pool of a managed-cloud stack: its shape as set or as chosen for the model."""
    serving = serving_for(settings)
    assert serving.shape is not None, "managed clouds always resolve a shape"
    gpu = settings.gpu
    return GpuPoolSpec(
        shape=serving.shape,
        count=serving.gpus,
        spot=gpu.spot,
        min_nodes=gpu.min_nodes,
        max_nodes=gpu.max_nodes,
    )


def kubernetes_version(
    settings: StackSettings, supported: tuple[str, ...], default: str, platform: str
) -> str:
    """The cluster's Kubernetes minor version: the stack's if the platform supports it."""
    version = settings.cluster.kubernetes_version or default
    if version not in supported:
        raise SettingsError(
            settings.stack,
            "llmplane:cluster.kubernetesVersion",
            f"{version} is not a version {platform} supports for new clusters",
            f"use one of: {', '.join(supported)}",
        )
    return version


def mirror_credentials(settings: StackSettings) -> tuple[str, pulumi.Output[str]] | None:
    """The user name and (secret) token for the engine image's upstream registry, if given."""
    token = as_secret(settings.mirror_token)
    if settings.mirror_username is None or token is None:
        return None
    return settings.mirror_username, token
