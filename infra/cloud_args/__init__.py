"""Stack settings -> the per-cloud components' typed args: the mapping lives here, not in them.

Each module (aws, azure, gcp, kubernetes) turns a validated StackSettings into its cloud's args
class; the helpers below are what every managed cloud shares.
"""

from __future__ import annotations

import pulumi

from components.cloud import GpuPoolSpec, as_secret
from infra.errors import SettingsError
from infra.serving import serving_for
from infra.settings import StackSettings


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
