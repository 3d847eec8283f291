"""The stack models, one per `llmplane:cloud`, and the discriminated union that picks one.

A stack file is validated against its cloud's model only, so a key another target reads is an
unknown key; each rule across fields is a validator on the model that owns the fields.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import (
    Discriminator,
    Field,
    SecretStr,
    Tag,
    TypeAdapter,
    field_validator,
    model_validator,
)

from llmplane.components.kubernetes.engines import ENGINES, Engine
from llmplane.components.kubernetes.streamer import STREAMING_ENGINES
from llmplane.components.naming import REQUIRED_TAGS, TAG_KEY_PATTERN, TAG_VALUE_PATTERN

from .clouds import (
    AwsClusterSettings,
    AwsNetworkSettings,
    AwsProviderSettings,
    AzureClusterSettings,
    AzureNetworkSettings,
    AzureProviderSettings,
    GcpClusterSettings,
    GcpProviderSettings,
    KubernetesProviderSettings,
    NetworkSettings,
)
from .errors import choices
from .models import (
    ExistingGpuSettings,
    ManagedGpuSettings,
    ModelSettings,
    ReplicaSettings,
    WeightsSettings,
)
from .types import Spec, any_case, rule_error

Cloud = Literal["aws", "azure", "gcp", "kubernetes"]
CLOUDS: tuple[str, ...] = ("aws", "azure", "gcp", "kubernetes")
Exposure = Literal["internal", "public"]
GATEWAY_KEYS = ("apiKeys", "tlsCertificate", "tlsKey")


class StackBase(Spec):
    """What every stack sets, whatever it runs on."""

    stack: str = Field(description="the Pulumi stack name")
    model: ModelSettings = Field(description="the model to serve")
    engine: Annotated[Engine, any_case(Engine)] = Field(
        default="tgi", description="inference server: tgi, vllm or sglang"
    )
    replicas: ReplicaSettings = Field(
        default_factory=ReplicaSettings, description="inference replicas"
    )
    exposure: Annotated[Exposure, any_case(Exposure)] = Field(
        default="internal",
        description="internal (in-cluster only) or public (behind an authenticating gateway)",
    )
    hf_token: SecretStr | None = Field(
        default=None, description="Hugging Face token for gated models (a Pulumi secret)"
    )
    api_keys: SecretStr | None = Field(
        default=None,
        description="exposure public: comma-separated API keys callers send as a Bearer token",
    )
    tls_certificate: str | None = Field(
        default=None,
        pattern=r"^-----BEGIN CERTIFICATE-----",
        description="exposure public: the gateway's PEM certificate chain",
    )
    tls_key: SecretStr | None = Field(
        default=None, description="exposure public: the certificate's PEM private key (a secret)"
    )
    tags: dict[str, str] = Field(default_factory=dict, description="extra tags on every resource")
    policy_waivers: dict[str, Annotated[str, Field(min_length=20)]] = Field(
        default_factory=dict,
        description="policy name -> the written reason (20+ characters) this stack waives it",
    )

    @field_validator("tags")
    @classmethod
    def _portable_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        for key, value in sorted(tags.items()):
            if key in REQUIRED_TAGS:
                raise rule_error(
                    key,
                    "is a tag llmplane sets itself",
                    f"choose another name than {', '.join(REQUIRED_TAGS)}",
                )
            if not TAG_KEY_PATTERN.match(key) or not TAG_VALUE_PATTERN.match(value):
                raise rule_error(
                    key,
                    f"{key}={value!r} is not valid on every cloud",
                    "use lowercase letters, digits, '_' and '-' (keys start with a letter, max 63)",
                )
        return tags

    @field_validator("policy_waivers")
    @classmethod
    def _known_policies(cls, waivers: dict[str, str]) -> dict[str, str]:
        if not waivers:
            return waivers
        # Imported only when a stack waives something: the pack pulls in the policy SDK.
        from llmplane.policies.rules import load_all

        known = [rule.name for rule in load_all()]
        for name in waivers:
            if name not in known:
                # A typo would silently waive nothing.
                raise rule_error(
                    name,
                    "is not a policy of the llmplane pack",
                    f"use a name from `llmplane check --list`: {choices(name, known)}",
                )
        return waivers

    @model_validator(mode="after")
    def _engine_serves_quantization(self) -> Self:
        engine = ENGINES[self.engine]
        quantize = self.model.quantize
        if quantize is not None and quantize not in engine.quantizations:
            raise rule_error(
                "model.quantize",
                f"{quantize!r} is not supported by {self.engine}",
                f"use one of: {choices(quantize, engine.quantizations)}, or another engine",
            )
        return self

    @model_validator(mode="after")
    def _gateway_only_when_public(self) -> Self:
        given = {
            "apiKeys": self.api_keys,
            "tlsCertificate": self.tls_certificate,
            "tlsKey": self.tls_key,
        }
        if self.exposure == "public":
            for key in GATEWAY_KEYS:
                if given[key] is None:
                    raise rule_error(
                        key,
                        "is missing; a public endpoint needs TLS and API keys in front of the "
                        "engine",
                        "set llmplane:apiKeys (secret), llmplane:tlsCertificate and "
                        "llmplane:tlsKey (secret), or use exposure: internal",
                    )
            assert self.api_keys is not None
            _check_api_keys(self.api_keys.get_secret_value())
            return self
        for key in GATEWAY_KEYS:
            if given[key] is not None:
                raise rule_error(
                    key,
                    "is set, but only a public endpoint has a gateway",
                    "remove it, or set llmplane:exposure: public",
                )
        return self


def _check_api_keys(value: str) -> None:
    """The gateway's own rule, so that the plan refuses what the gateway would."""
    # Imported only for a public stack: the gateway module pulls in the Kubernetes SDK.
    from llmplane.components.kubernetes.gateway import (
        MAX_API_KEY_LENGTH,
        MIN_API_KEY_LENGTH,
        api_keys_problem,
    )

    problem = api_keys_problem(value)
    if problem is not None:
        # The problem names a position, never a key or a part of one.
        raise rule_error(
            "apiKeys",
            problem,
            f"use distinct keys of {MIN_API_KEY_LENGTH} to {MAX_API_KEY_LENGTH} characters of "
            "A-Z a-z 0-9 - . _ ~ + / (and = only at the end), separated by commas, "
            "e.g. `openssl rand -hex 32`",
        )


class ManagedStackBase(StackBase):
    """What every stack on a cluster llmplane creates sets: its GPU pool and registry mirror."""

    gpu: ManagedGpuSettings = Field(
        default_factory=ManagedGpuSettings, description="the GPU pool llmplane creates"
    )
    mirror_username: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][\w.-]*$",
        description="user name on the engine image's public registry, for the private mirror",
    )
    mirror_token: SecretStr | None = Field(
        default=None,
        description="access token on the engine image's public registry (a Pulumi secret)",
    )
    weights: WeightsSettings = Field(
        default_factory=WeightsSettings,
        description="where the engine reads the weights: a warm shared cache, or a bucket",
    )

    @model_validator(mode="after")
    def _streamer_engine(self) -> Self:
        if self.weights.bucket and self.engine not in STREAMING_ENGINES:
            raise rule_error(
                "weights.bucket",
                f"is true, but {self.engine} cannot stream weights with the Run:ai model streamer",
                f"use llmplane:engine {' or '.join(STREAMING_ENGINES)}, or remove weights.bucket",
            )
        return self

    @model_validator(mode="after")
    def _mirror_credentials_paired(self) -> Self:
        if (self.mirror_username is None) != (self.mirror_token is None):
            missing = "mirrorToken" if self.mirror_token is None else "mirrorUsername"
            raise rule_error(
                missing,
                "is missing; the registry mirror needs both mirrorUsername and mirrorToken",
                f"set llmplane:{missing} (the token with `pulumi config set --secret`)",
            )
        return self


class AwsStack(ManagedStackBase):
    """A stack on EKS."""

    cloud: Annotated[Literal["aws"], any_case(Literal["aws"])] = Field(
        description="where to run: aws, azure, gcp or kubernetes"
    )
    cluster: AwsClusterSettings = Field(
        default_factory=AwsClusterSettings, description="the managed cluster's control plane"
    )
    network: AwsNetworkSettings = Field(
        default_factory=AwsNetworkSettings, description="the managed cluster's network"
    )
    provider: AwsProviderSettings = Field(description="provider keys")


class AzureStack(ManagedStackBase):
    """A stack on AKS."""

    cloud: Annotated[Literal["azure"], any_case(Literal["azure"])] = Field(
        description="where to run: aws, azure, gcp or kubernetes"
    )
    cluster: AzureClusterSettings = Field(
        default_factory=AzureClusterSettings, description="the managed cluster's control plane"
    )
    network: AzureNetworkSettings = Field(
        default_factory=AzureNetworkSettings, description="the managed cluster's network"
    )
    provider: AzureProviderSettings = Field(description="provider keys")


class GcpStack(ManagedStackBase):
    """A stack on GKE."""

    cloud: Annotated[Literal["gcp"], any_case(Literal["gcp"])] = Field(
        description="where to run: aws, azure, gcp or kubernetes"
    )
    cluster: GcpClusterSettings = Field(
        default_factory=GcpClusterSettings, description="the managed cluster's control plane"
    )
    network: NetworkSettings = Field(
        default_factory=NetworkSettings, description="the managed cluster's network"
    )
    provider: GcpProviderSettings = Field(description="provider keys")


class ExistingClusterStack(StackBase):
    """A stack on a Kubernetes cluster llmplane does not manage."""

    cloud: Annotated[Literal["kubernetes"], any_case(Literal["kubernetes"])] = Field(
        description="where to run: aws, azure, gcp or kubernetes"
    )
    gpu: ExistingGpuSettings = Field(
        default_factory=ExistingGpuSettings, description="the existing cluster's GPU nodes"
    )
    provider: KubernetesProviderSettings = Field(
        default_factory=KubernetesProviderSettings, description="provider keys"
    )


ManagedStack = AwsStack | AzureStack | GcpStack
"""A stack on a cluster llmplane creates."""
StackSettings = AwsStack | AzureStack | GcpStack | ExistingClusterStack
"""Everything one stack asks for, checked before the program registers a single resource."""
STACK_MODELS: dict[str, type[StackBase]] = {
    "aws": AwsStack,
    "azure": AzureStack,
    "gcp": GcpStack,
    "kubernetes": ExistingClusterStack,
}
"""Each target's stack model, by `llmplane:cloud`."""


def _cloud_tag(document: Any) -> str | None:
    """Which model reads the document: its `cloud`, in any letter case (None when unset)."""
    cloud = (
        document.get("cloud") if isinstance(document, dict) else getattr(document, "cloud", None)
    )
    if cloud is None:
        return None
    return cloud.lower() if isinstance(cloud, str) else repr(cloud)


STACK_ADAPTER: TypeAdapter[StackSettings] = TypeAdapter(
    Annotated[
        Annotated[AwsStack, Tag("aws")]
        | Annotated[AzureStack, Tag("azure")]
        | Annotated[GcpStack, Tag("gcp")]
        | Annotated[ExistingClusterStack, Tag("kubernetes")],
        Discriminator(_cloud_tag),
    ]
)
"""Validates a stack document against the model its `cloud` names."""
