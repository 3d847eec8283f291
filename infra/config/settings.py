"""StackSettings: every llmplane:* and provider key of a stack, validated before any resource."""

from __future__ import annotations

import ipaddress
import json
import re
import zoneinfo
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from llmplane.components.kubernetes.engines import QUANTIZATIONS, Engine
from llmplane.components.naming import PROJECT

from .errors import SettingsError
from .rules import PROVIDER_KEYS, SECRET_KEYS, check_combinations

Cloud = Literal["aws", "azure", "gcp", "kubernetes"]
_IAM_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_AZURE_SUBNET = (
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/"
    r"virtualNetworks/[^/]+/subnets/[^/]+$"
)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
Exposure = Literal["internal", "public"]


class _Spec(BaseModel):
    """Shared model rules: immutable, camelCase keys as in the stack file, no unknown keys."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True, strict=True
    )


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
    kv_cache_dtype: Literal["auto", "bf16", "fp8"] = Field(
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
        if value is not None and value not in QUANTIZATIONS:
            raise ValueError(f"{value!r} is not a known quantization")
        return value


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
    tier: Literal["free", "standard"] = Field(
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
    nat_gateways: Literal["single", "perZone"] = Field(
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
    """The provider keys llmplane reads (aws:region, gcp:project, kubernetes:context, ...)."""

    aws_region: str | None = Field(default=None, description="aws:region")
    azure_location: str | None = Field(default=None, description="azure-native:location")
    gcp_project: str | None = Field(default=None, description="gcp:project")
    gcp_region: str | None = Field(default=None, description="gcp:region")
    kube_context: str | None = Field(default=None, description="kubernetes:context")
    kubeconfig: SecretStr | None = Field(default=None, description="kubernetes:kubeconfig")

    def region(self, cloud: str) -> str | None:
        """The region (Azure: location) a managed cloud's stack runs in."""
        return {"aws": self.aws_region, "azure": self.azure_location, "gcp": self.gcp_region}.get(
            cloud
        )


class StackSettings(_Spec):
    """Everything one stack asks for, checked before the program registers a single resource."""

    stack: str = Field(description="the Pulumi stack name")
    cloud: Cloud = Field(description="where to run: aws, azure, gcp or kubernetes")
    model: ModelSettings = Field(description="the model to serve")
    engine: Engine = Field(default="tgi", description="inference server: tgi, vllm or sglang")
    gpu: GpuSettings = Field(default_factory=GpuSettings, description="GPU pool settings")
    replicas: ReplicaSettings = Field(
        default_factory=ReplicaSettings, description="inference replicas"
    )
    cluster: ClusterSettings = Field(
        default_factory=ClusterSettings, description="managed cluster settings"
    )
    exposure: Exposure = Field(
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


_PROVIDER_FIELDS = {
    "aws:region": "aws_region",
    "azure-native:location": "azure_location",
    "gcp:project": "gcp_project",
    "gcp:region": "gcp_region",
    "kubernetes:context": "kube_context",
    "kubernetes:kubeconfig": "kubeconfig",
}


def parse(
    stack: str, config: Mapping[str, Any], secret_keys: frozenset[str] = frozenset()
) -> StackSettings:
    """Validate a stack's config map (full keys such as `llmplane:cloud`) into StackSettings."""
    config = {key: value for key, value in config.items() if not _unset(key, value)}
    llm: dict[str, Any] = {}
    provider: dict[str, Any] = {}
    for full_key in sorted(config):
        namespace, _, key = full_key.rpartition(":")
        namespace = namespace or PROJECT
        value = _decode(config[full_key])
        if namespace == PROJECT:
            llm[key] = value
        elif namespace in PROVIDER_KEYS:
            if key not in PROVIDER_KEYS[namespace]:
                known = ", ".join(f"{namespace}:{k}" for k in PROVIDER_KEYS[namespace])
                raise SettingsError(
                    stack, full_key, "is not a key llmplane reads", f"use one of: {known}"
                )
            provider[to_camel(_PROVIDER_FIELDS[f"{namespace}:{key}"])] = value
        elif namespace != "pulumi":
            raise SettingsError(
                stack,
                full_key,
                f"llmplane reads no config in the {namespace!r} namespace",
                "remove it, or use llmplane:, aws:, azure-native:, gcp: or kubernetes: keys",
            )
    reserved = sorted(set(llm) & {"stack", "provider"})
    if reserved:
        known = ", ".join(_known_keys([]))
        raise SettingsError(
            stack, f"{PROJECT}:{reserved[0]}", "is not a known key", f"use one of: {known}"
        )
    document = {**llm, "stack": stack, "provider": provider}
    try:
        # JSON mode, because that is how Pulumi hands structured config to a program, and strict,
        # so that "yes" is not a boolean and "2" is not a number.
        settings = StackSettings.model_validate_json(
            json.dumps(document, default=str, sort_keys=True), strict=True
        )
    except ValidationError as error:
        raise _settings_error(stack, error) from None
    check_combinations(settings, config, secret_keys)
    return settings


# Optional text keys (tokens, keys, the certificate): Pulumi.yaml declares them with the default
# "", because the Pulumi CLI refuses every stack that leaves a declared key without a default unset.
_EMPTY_MEANS_UNSET = frozenset(
    f"{PROJECT}:{field.alias or name}"
    for name, field in StackSettings.model_fields.items()
    if field.default is None
)


def _unset(key: str, value: Any) -> bool:
    """Whether `key: value` is the project default "" of an optional text key, i.e. not set."""
    full_key = key if ":" in key else f"{PROJECT}:{key}"
    return value == "" and full_key in _EMPTY_MEANS_UNSET


def _decode(value: Any) -> Any:
    """Undo Pulumi's encoding: structured config reaches a program as JSON text."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _settings_error(stack: str, error: ValidationError) -> SettingsError:
    """Turn pydantic's first complaint into the one-line form users get."""
    first = error.errors(include_url=False)[0]
    loc = [str(part) for part in first["loc"]]
    kind = first["type"]
    key = _config_key(loc)
    if kind == "extra_forbidden":
        known = ", ".join(_known_keys(loc[:-1]))
        return SettingsError(stack, key, "is not a known key", f"use one of: {known}")
    # An entry of a map (a tag, a waiver) is described by the map's own field.
    field = _field(loc) or _field(loc[:-1])
    hint = field.description if field is not None and field.description else "see the README"
    if kind == "missing":
        return SettingsError(stack, key, "is required", f"set it to {hint}")
    message = first["msg"].removeprefix("Value error, ")
    if kind == "string_pattern_mismatch":
        message = "has the wrong format"
    if kind != "value_error":
        # Value errors quote the bad value themselves; secrets are never quoted back.
        secret = key.split(".")[0] in SECRET_KEYS or "kubeconfig" in key
        message += f" (got {'a secret' if secret else repr(first.get('input'))})"
    return SettingsError(stack, key, message[0].lower() + message[1:], f"expected {hint}")


def _config_key(loc: list[str]) -> str:
    """A pydantic error location as a stack-file key: `gpu.minNodes` -> `llmplane:gpu.minNodes`."""
    if loc and loc[0] == "provider" and len(loc) > 1:
        return next(k for k, f in _PROVIDER_FIELDS.items() if to_camel(f) == loc[1])
    # Map keys (tag names, policy names) are the user's own spelling: only field names convert.
    return f"{PROJECT}:" + ".".join(to_camel(part) if part.isidentifier() else part for part in loc)


def _model_at(loc: list[str]) -> type[BaseModel] | None:
    """The settings model that holds the field at `loc`, if there is one."""
    model: type[BaseModel] = StackSettings
    for part in loc:
        field = model.model_fields.get(part) or next(
            (f for f in model.model_fields.values() if f.alias == part), None
        )
        annotation = field.annotation if field is not None else None
        # An optional section (`X | None`) holds the model X.
        found = [
            a
            for a in (annotation, *get_args(annotation))
            if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if not found:
            return None
        model = found[0]
    return model


def _field(loc: list[str]):
    """The pydantic FieldInfo at `loc`, or None where the location is inside a list or map."""
    if not loc:
        return None
    model = _model_at(loc[:-1])
    if model is None:
        return None
    return model.model_fields.get(loc[-1]) or next(
        (f for f in model.model_fields.values() if f.alias == loc[-1]), None
    )


def _known_keys(loc: list[str]) -> list[str]:
    """The camelCase keys accepted at `loc`, for 'use one of' hints."""
    model = _model_at(loc)
    if model is None:
        return []
    hidden = {"stack", "provider"} if model is StackSettings else set()
    return [f.alias or name for name, f in model.model_fields.items() if name not in hidden]


def from_pulumi() -> StackSettings:
    """Settings of the stack the Pulumi engine (or the offline engine's mocks) is running."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret = {k for k in values if runtime_config.is_config_secret(k)}
    secret |= set(runtime_config.get_config_secret_keys_env())
    return parse(pulumi.get_stack(), values, frozenset(secret))
