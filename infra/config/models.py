"""The stack settings models: every llmplane:* and provider key of a stack, as typed fields.

Parsing a stack's config map into them, and turning pydantic's complaints into one-line errors,
is settings.py's part; rules across fields are rules.py's.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from llmplane.components.kubernetes.engines import QUANTIZATIONS, Engine

Cloud = Literal["aws", "azure", "gcp", "kubernetes"]
_IAM_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_AZURE_SUBNET = (
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/"
    r"virtualNetworks/[^/]+/subnets/[^/]+$"
)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
Exposure = Literal["internal", "public"]
KvCacheDtype = Literal["auto", "bf16", "fp8"]
Tier = Literal["free", "standard"]
NatGateways = Literal["single", "perZone"]


class _Spec(BaseModel):
    """Shared model rules: immutable, camelCase keys as in the stack file, no unknown keys."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True, strict=True
    )


def any_case(literal: Any) -> BeforeValidator:
    """Match a `Literal`'s text values in any letter case (`AWS`, `perzone`), keeping the spelling.

    The parsed settings hold the canonical value, so plans do not change with the user's case.
    """
    canonical = {c.lower(): c for c in get_args(literal) if isinstance(c, str)}
    return BeforeValidator(lambda v: canonical.get(v.lower(), v) if isinstance(v, str) else v)


PositiveInt = Annotated[int, Field(ge=1)]


class ModelSettings(_Spec):
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


class GpuSettings(_Spec):
    """The GPU pool (managed clouds) or the GPU nodes to target (existing cluster)."""

    shape: str = Field(
        default="auto",
        pattern=r"^[A-Za-z0-9][\w.-]*$",
        description="'auto' or a cloud instance type / VM size / machine type",
    )
    count: Literal[1, 2, 4, 8] = Field(
        default=1, description="GPUs per replica, which is also the tensor-parallel shard count"
    )
    spot: bool = Field(default=False, description="use spot / preemptible GPU nodes")
    min_nodes: int = Field(
        default=0, ge=0, description="fewest GPU nodes (0 lets the pool scale to zero)"
    )
    max_nodes: PositiveInt = Field(default=1, description="most GPU nodes the pool may grow to")
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


_CRON_FIELD = r"[0-9A-Za-z*/,-]+"


class ActiveHours(_Spec):
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


class ReplicaSettings(_Spec):
    """How many copies of the inference server run."""

    min: int = Field(default=1, ge=0, description="fewest replicas (0 allows scale to zero)")
    max: PositiveInt = Field(default=1, description="most replicas")
    active_hours: ActiveHours | None = Field(
        default=None, description="hours when replicas run even with an empty queue"
    )


class ClusterSettings(_Spec):
    """Control-plane settings of a managed cluster llmplane creates."""

    kubernetes_version: str | None = Field(
        default=None,
        pattern=r"^1\.\d{2}$",
        description="a minor version such as 1.33 (default: the cloud's current default)",
    )
    private_endpoint: bool = Field(default=True, description="API server reachable only privately")
    authorized_cidrs: tuple[str, ...] = Field(
        default=(), description="CIDRs allowed to reach a public API server endpoint"
    )
    allow_open_endpoint: bool = Field(
        default=False,
        description="explicitly allow 0.0.0.0/0 in authorizedCidrs (insecure; policies flag it)",
    )
    admin_arns: tuple[str, ...] = Field(
        default=(),
        description="AWS: IAM role or user ARNs granted cluster admin through access entries",
    )
    admin_group_ids: tuple[str, ...] = Field(
        default=(),
        description="Azure: Entra ID group object ids granted cluster admin",
    )
    binary_authorization: bool = Field(
        default=False,
        description="GCP: admit only images that Binary Authorization's project policy allows",
    )
    tier: Annotated[Tier, any_case(Tier)] = Field(
        default="standard",
        description="Azure: control-plane tier; standard has an uptime SLA, free does not",
    )

    @field_validator("admin_group_ids")
    @classmethod
    def _valid_group_ids(cls, ids: tuple[str, ...]) -> tuple[str, ...]:
        for group in ids:
            if not _GUID.match(group):
                raise ValueError(f"{group!r} is not an Entra ID object id (a GUID)")
        return ids

    @field_validator("admin_arns")
    @classmethod
    def _valid_arns(cls, arns: tuple[str, ...]) -> tuple[str, ...]:
        for arn in arns:
            if not _IAM_PRINCIPAL.match(arn):
                raise ValueError(f"{arn!r} is not an IAM role or user ARN")
        return arns

    @field_validator("authorized_cidrs")
    @classmethod
    def _valid_cidrs(cls, cidrs: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in cidrs:
            try:
                ipaddress.ip_network(cidr, strict=True)
            except ValueError as error:
                raise ValueError(f"{cidr!r} is not a CIDR block ({error})") from None
        return cidrs


class NetworkSettings(_Spec):
    """The cluster's network: one llmplane creates, or (on AWS) an existing VPC and subnets."""

    cidr: str = Field(
        default="10.0.0.0/16",
        description="a private IPv4 range from /16 to /20 for the network llmplane creates",
    )
    nat_gateways: Annotated[NatGateways, any_case(NatGateways)] = Field(
        default="single",
        description="single (one shared NAT gateway, cheaper) or perZone (survives a zone outage)",
    )
    private_endpoints: bool = Field(
        default=True,
        description="private endpoints for the registry, object storage and STS, bypassing NAT",
    )
    vpc_id: str | None = Field(
        default=None, pattern=r"^vpc-[0-9a-f]{8,17}$", description="AWS: an existing VPC id"
    )
    private_subnet_ids: tuple[str, ...] = Field(
        default=(), description="AWS: existing private subnets for the nodes, in two or more zones"
    )
    public_subnet_ids: tuple[str, ...] = Field(
        default=(), description="AWS: existing public subnets for internet-facing load balancers"
    )

    subnet_id: str | None = Field(
        default=None,
        pattern=_AZURE_SUBNET,
        description="Azure: an existing node subnet's resource id (it must have a NAT gateway)",
    )
    api_server_subnet_id: str | None = Field(
        default=None,
        pattern=_AZURE_SUBNET,
        description="Azure: an existing /28 or larger subnet delegated to AKS, for the API server",
    )
    endpoint_subnet_id: str | None = Field(
        default=None,
        pattern=_AZURE_SUBNET,
        description="Azure: an existing subnet for private endpoints",
    )

    @field_validator("cidr")
    @classmethod
    def _private_range(cls, cidr: str) -> str:
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError as error:
            raise ValueError(f"{cidr!r} is not a CIDR block ({error})") from None
        if network.version != 4 or not network.is_private or not 16 <= network.prefixlen <= 20:
            raise ValueError(f"{cidr!r} is not a private IPv4 range from /16 to /20")
        return cidr

    @field_validator("private_subnet_ids", "public_subnet_ids")
    @classmethod
    def _subnet_ids(cls, ids: tuple[str, ...]) -> tuple[str, ...]:
        for subnet in ids:
            if not _SUBNET_ID.match(subnet):
                raise ValueError(f"{subnet!r} is not a subnet id (subnet-0123abcd...)")
        return ids


class ProviderSettings(_Spec):
    """The provider keys llmplane reads, each named by its full key (aws:region, gcp:project...)."""

    aws_region: str | None = Field(
        default=None, alias="aws:region", description="the AWS region, e.g. us-east-1"
    )
    azure_location: str | None = Field(
        default=None, alias="azure-native:location", description="the Azure location, e.g. eastus"
    )
    gcp_project: str | None = Field(
        default=None, alias="gcp:project", description="the GCP project id"
    )
    gcp_region: str | None = Field(
        default=None, alias="gcp:region", description="the GCP region, e.g. us-central1"
    )
    kube_context: str | None = Field(
        default=None,
        alias="kubernetes:context",
        description="the kubeconfig context of the existing cluster",
    )
    kubeconfig: SecretStr | None = Field(
        default=None,
        alias="kubernetes:kubeconfig",
        description="a kubeconfig for the existing cluster (store it with --secret)",
    )

    def region(self, cloud: str) -> str | None:
        """The region (Azure: location) a managed cloud's stack runs in."""
        return {"aws": self.aws_region, "azure": self.azure_location, "gcp": self.gcp_region}.get(
            cloud
        )


# Provider keys llmplane reads, per provider namespace. Any other key in these namespaces is a typo.
def _provider_keys() -> dict[str, dict[str, str]]:
    keys: dict[str, dict[str, str]] = {}
    for field in ProviderSettings.model_fields.values():
        namespace, _, key = str(field.alias).partition(":")
        keys.setdefault(namespace, {})[key] = str(field.description)
    return keys


PROVIDER_KEYS = _provider_keys()


class StackSettings(_Spec):
    """Everything one stack asks for, checked before the program registers a single resource."""

    stack: str = Field(description="the Pulumi stack name")
    cloud: Annotated[Cloud, any_case(Cloud)] = Field(
        description="where to run: aws, azure, gcp or kubernetes"
    )
    model: ModelSettings = Field(description="the model to serve")
    engine: Annotated[Engine, any_case(Engine)] = Field(
        default="tgi", description="inference server: tgi, vllm or sglang"
    )
    gpu: GpuSettings = Field(default_factory=GpuSettings, description="GPU pool settings")
    replicas: ReplicaSettings = Field(
        default_factory=ReplicaSettings, description="inference replicas"
    )
    cluster: ClusterSettings = Field(
        default_factory=ClusterSettings, description="managed cluster settings"
    )
    exposure: Annotated[Exposure, any_case(Exposure)] = Field(
        default="internal",
        description="internal (in-cluster only) or public (behind an authenticating gateway)",
    )
    hf_token: SecretStr | None = Field(
        default=None, description="Hugging Face token for gated models (a Pulumi secret)"
    )
    network: NetworkSettings = Field(
        default_factory=NetworkSettings, description="the managed cluster's network"
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
    provider: ProviderSettings = Field(
        default_factory=ProviderSettings, description="provider keys"
    )
