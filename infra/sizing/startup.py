"""A stack's cold-start chain: where its image and weights come from, and the one budget.

The activator's hold timeout, the startup probe, the warm-cache Job's deadline and smoke's
default `--wait` all come from the ColdStart built here, so that they never disagree.
"""

from __future__ import annotations

from ..config.settings import ExistingClusterStack, StackSettings
from .coldstart import ColdStart, ImageSource, WeightsSource, budget, cold_start, weights_part

__all__ = [
    "UNKNOWN_MODEL_SECONDS",
    "image_source",
    "stack_cold_start",
    "warm_job_seconds",
    "weights_source",
]

# A model llmplane cannot size gets the component's own default startup budget: half an hour.
UNKNOWN_MODEL_SECONDS = 1800


def weights_source(settings: StackSettings) -> WeightsSource:
    """The bucket when the stack streams from one, the warm cache where a Job fills it, else Hub."""
    if isinstance(settings, ExistingClusterStack):
        return "hub"
    if settings.weights.bucket:
        return "bucket"
    return "cache" if settings.weights.warm_cache else "hub"


def image_source(settings: StackSettings) -> ImageSource:
    """The private mirror where the cluster pulls through one, else the public registry."""
    match settings.cloud:
        # ECR caches ghcr.io only with the upstream's credentials; ACR and Artifact Registry
        # cache the engine images anonymously.
        case "aws":
            return "mirror" if settings.mirror_username is not None else "public"
        case "azure" | "gcp":
            return "mirror"
        case "kubernetes":
            return "public"


def stack_cold_start(
    settings: StackSettings, shape: str | None, gpus: int, weights_bytes: float
) -> ColdStart:
    """From the first request at zero replicas to the first token, part by part (estimate).

    On a managed pool the GPU node is provisioned too (the pool scales to zero with the
    replicas); an existing cluster's nodes are taken to be up.
    """
    return cold_start(
        settings.cloud,
        shape,
        settings.engine,
        image_source(settings),
        weights_bytes,
        weights_source(settings),
        gpus,
    )


def warm_job_seconds(settings: StackSettings, weights_bytes: float) -> int:
    """The warm-cache Job's deadline: the Hub download into the shared cache, with the margin."""
    download = weights_part(weights_bytes, "hub", settings.cloud, 1, settings.engine)
    return budget(download.seconds)
