"""The settings every target shares: the model, its replicas, and the GPUs a replica runs on.

What differs by target (cluster, network, provider keys, GPU pool or existing GPU nodes) is in
clouds.py; the stack models that put them together, one per `llmplane:cloud`, are in stacks.py.
"""

from __future__ import annotations

import zoneinfo
from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from llmplane.components.kubernetes.engines import QUANTIZATIONS

from .types import GpuCount, PositiveInt, Spec, any_case, rule_error

KvCacheDtype = Literal["auto", "bf16", "fp8"]


class ModelSettings(Spec):
    """The model to serve and its request limits."""

    id: str = Field(
        pattern=r"^([A-Za-z0-9][\w.-]*/)?[A-Za-z0-9][\w.-]*$",
        description="Hugging Face model id, e.g. meta-llama/Llama-3.1-8B-Instruct",
    )
    revision: str | None = Field(
        default=None,
        pattern=r"^[\w./-]+$",
        description="a branch, tag or commit of the model repo (pin a commit for production)",
    )
    quantize: str | None = Field(
        default=None, description=f"quantization, one of {', '.join(QUANTIZATIONS)}"
    )
    max_input_tokens: PositiveInt | None = Field(
        default=None, description="longest prompt accepted, in tokens"
    )
    max_total_tokens: PositiveInt | None = Field(
        default=None, description="longest prompt plus completion, in tokens"
    )
    kv_cache_dtype: Annotated[KvCacheDtype, any_case(KvCacheDtype)] = Field(
        default="auto",
        description="KV cache element type: auto (the model's 16-bit dtype), bf16, or fp8 "
        "(half the memory per token)",
    )
    concurrency: PositiveInt = Field(
        default=4,
        description="full-length requests whose KV cache must fit at once; sizing refuses a GPU "
        "that cannot hold them, and the speed estimates assume that many streams",
    )

    @field_validator("quantize")
    @classmethod
    def _known_quantization(cls, value: str | None) -> str | None:
        # TGI, vLLM and SGLang spell them in lowercase; `AWQ` means awq.
        if value is None or value.lower() in QUANTIZATIONS:
            return None if value is None else value.lower()
        raise PydanticCustomError(
            "choice_error", "is not a known quantization", {"choices": QUANTIZATIONS}
        )

    @model_validator(mode="after")
    def _room_to_answer(self) -> Self:
        low, high = self.max_input_tokens, self.max_total_tokens
        if low is not None and high is not None and low >= high:
            raise rule_error(
                "maxInputTokens",
                f"is {low}, not below model.maxTotalTokens ({high})",
                "make maxInputTokens smaller than maxTotalTokens to leave room for the answer",
            )
        return self


class ManagedGpuSettings(Spec):
    """The GPU pool llmplane creates on a managed cloud."""

    shape: str = Field(
        default="auto",
        pattern=r"^[A-Za-z0-9][\w.-]*$",
        description="'auto' or a cloud instance type / VM size / machine type",
    )
    count: GpuCount = Field(
        default=1, description="GPUs per replica, which is also the tensor-parallel shard count"
    )
    spot: bool = Field(default=False, description="use spot / preemptible GPU nodes")
    min_nodes: int = Field(
        default=0, ge=0, description="fewest GPU nodes (0 lets the pool scale to zero)"
    )
    max_nodes: PositiveInt = Field(default=1, description="most GPU nodes the pool may grow to")

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.min_nodes > self.max_nodes:
            raise _above("minNodes", self.min_nodes, "gpu.maxNodes", self.max_nodes)
        return self


class ExistingGpuSettings(Spec):
    """The GPU nodes of a cluster llmplane does not manage, and how to reach them."""

    count: GpuCount = Field(
        default=1, description="GPUs per replica, which is also the tensor-parallel shard count"
    )
    node_selector: dict[str, str] = Field(
        default_factory=dict,
        description="node labels that select GPU nodes on an existing cluster",
    )
    taint_keys: tuple[str, ...] = Field(
        default=("nvidia.com/gpu",),
        description="taint keys on the existing cluster's GPU nodes that the pods must tolerate",
    )
    memory_gib: PositiveInt | None = Field(
        default=None,
        alias="memoryGiB",
        description="existing cluster: memory of one of its GPUs in GiB (e.g. 80), so that "
        "llmplane can check that the model fits",
    )
    resource_name: str = Field(
        default="nvidia.com/gpu",
        pattern=r"^[a-z0-9.-]+/[a-z0-9.-]+$",
        description="extended resource name the device plugin advertises",
    )


def _above(key: str, value: int, limit_key: str, limit: int) -> PydanticCustomError:
    """A lower bound above its upper bound, reported at the lower bound's key."""
    section = limit_key.rpartition(".")[0]
    full = f"{section}.{key}" if section else key
    return rule_error(
        key,
        f"is {value}, above {limit_key} ({limit})",
        f"make {full} less than or equal to {limit_key}",
    )


_CRON_FIELD = r"[0-9A-Za-z*/,-]+"


class ActiveHours(Spec):
    """Hours when replicas keep running whatever the queue says: what wakes a zero-replica stack."""

    timezone: str = Field(description="IANA time zone, e.g. Europe/Berlin")
    start: str = Field(
        pattern=rf"^{_CRON_FIELD}( {_CRON_FIELD}){{4}}$",
        description='cron expression (5 fields) when the hours begin, e.g. "0 8 * * 1-5"',
    )
    end: str = Field(
        pattern=rf"^{_CRON_FIELD}( {_CRON_FIELD}){{4}}$",
        description='cron expression (5 fields) when they end, e.g. "0 20 * * 1-5"',
    )
    replicas: PositiveInt = Field(default=1, description="replicas kept running during the hours")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        # KEDA's cron scaler reads the IANA database; a typo would only show up in its logs.
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Berlin") from None
        return value


class ReplicaSettings(Spec):
    """How many copies of the inference server run."""

    min: int = Field(default=1, ge=0, description="fewest replicas (0 allows scale to zero)")
    max: PositiveInt = Field(default=1, description="most replicas")
    active_hours: ActiveHours | None = Field(
        default=None, description="hours when replicas run even with an empty queue"
    )

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.min > self.max:
            raise _above("min", self.min, "replicas.max", self.max)
        if self.active_hours is not None and self.active_hours.replicas > self.max:
            raise _above(
                "activeHours.replicas", self.active_hours.replicas, "replicas.max", self.max
            )
        return self


class WeightsSettings(Spec):
    """Where a managed cluster's engine reads the model weights from."""

    warm_cache: bool = Field(
        default=True,
        description="fill the shared weights cache with a Job at deploy time, so that no "
        "replica downloads from the Hub (false: the first replica downloads them itself)",
    )
    bucket: bool = Field(
        default=False,
        description="vLLM and SGLang: stream the weights with the Run:ai model streamer from a "
        "private, KMS-encrypted bucket llmplane creates (you upload the model snapshot to it)",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.bucket and "warm_cache" in self.model_fields_set and self.warm_cache:
            raise rule_error(
                "warmCache",
                "is true, but with weights.bucket the engine streams the weights from the bucket "
                "and reads no cache",
                "remove weights.warmCache, or set weights.bucket: false",
            )
        return self
