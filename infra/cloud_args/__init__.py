"""Stack settings -> the per-cloud components' typed args, and the one branch on the cloud.

Each module (aws, azure, gcp, kubernetes) turns a validated StackSettings into its cloud's args
class; `cluster_for` picks the cluster component; the helpers below serve every managed cloud.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi
from pydantic import SecretStr

from llmplane.components.cloud import GpuPoolSpec
from llmplane.components.cluster import GpuClusterTarget, Workload
from llmplane.components.naming import dns_label

from ..config.errors import SettingsError
from ..config.settings import (
    AwsStack,
    AzureStack,
    ExistingClusterStack,
    GcpStack,
    ManagedStack,
    StackSettings,
)
from ..sizing.serving import serving_for

# The engine's Kubernetes objects keep the names they had before the component took its names
# from its resource name: Service `inference`, so the in-cluster endpoint stays
# http://inference.<namespace>.svc.cluster.local, and the ServiceAccount that the cluster
# component binds the cloud identity to (engine_workload).
OBJECT_NAME = "inference"


def service_namespace(settings: StackSettings) -> str:
    """The namespace the stack's service creates and runs in: llm-<stack>."""
    return dns_label("llm", settings.stack)


def engine_workload(settings: StackSettings) -> Workload:
    """The engine's ServiceAccount, which the service names OBJECT_NAME: the cloud identity's."""
    return Workload(service_namespace(settings), OBJECT_NAME)


def as_secret(value: SecretStr | None) -> pulumi.Output[str] | None:
    """A settings secret as a Pulumi secret output, so it stays redacted wherever it flows."""
    return pulumi.Output.secret(value.get_secret_value()) if value is not None else None


ClusterFactory = Callable[[str, pulumi.ResourceOptions | None], GpuClusterTarget]
"""Builds the stack's cluster component under a name; its args are already built and checked."""


def cluster_for(settings: StackSettings, workload: Workload) -> ClusterFactory:
    """The stack's cluster component, args checked now, built when called: the one cloud branch.

    `workload` is the ServiceAccount the managed clouds bind a cloud identity to. Building the
    args is where both the settings rules' last checks and the components' own checks run, so
    calling this without building anything validates a stack (the planner does, before forking).
    """
    try:
        return _factory(settings, workload)
    except ValueError as error:
        raise refusal(settings, error) from None


def refusal(settings: StackSettings, error: ValueError) -> SettingsError:
    """A component's ValueError as the one-line error, for what the settings rules let through."""
    # The components check their args in their own terms; the settings rules should have refused
    # the stack first, and this keeps the one-line contract if one ever does not.
    return SettingsError(
        settings.stack,
        "llmplane:cloud",
        f"the {settings.cloud} target refuses the stack: {error}",
        "fix the stack's settings for that target",
    )


def _factory(settings: StackSettings, workload: Workload) -> ClusterFactory:
    # Each branch imports its own cloud's modules, so planning one cloud never loads another's SDK.
    match settings:
        case AwsStack():
            from .aws import aws_cluster

            return aws_cluster(settings, workload)
        case AzureStack():
            from .azure import azure_cluster

            return azure_cluster(settings, workload)
        case GcpStack():
            from .gcp import gcp_cluster

            return gcp_cluster(settings, workload)
        case ExistingClusterStack():
            from .kubernetes import kubernetes_cluster

            return kubernetes_cluster(settings)


def pool_spec(settings: ManagedStack) -> GpuPoolSpec:
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
    settings: ManagedStack, supported: tuple[str, ...], default: str, platform: str
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


def mirror_credentials(settings: ManagedStack) -> tuple[str, pulumi.Output[str]] | None:
    """The user name and (secret) token for the engine image's upstream registry, if given."""
    token = as_secret(settings.mirror_token)
    if settings.mirror_username is None or token is None:
        return None
    return settings.mirror_username, token
