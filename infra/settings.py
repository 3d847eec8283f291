"""StackSettings: every llmplane:* and provider key of a stack, validated before any resource."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from components.engines import ENGINES, QUANTIZATIONS, Engine, ServeRequest
from components.naming import PROJECT, REQUIRED_TAGS, TAG_KEY_PATTERN, TAG_VALUE_PATTERN
from infra.errors import SettingsError

Cloud = Literal["aws", "azure", "gcp", "kubernetes"]
Exposure = Literal["internal", "public"]

# What offline plans put where a `secure:` value stands: the ciphertext can't be decrypted without
# the stack's secrets provider, and the plan only needs to know that a secret is there.
SECRET_PLACEHOLDER = "[secret]"

# Provider keys llmplane reads, per provider namespace. Any other key in these namespaces is a typo.
PROVIDER_KEYS: dict[str, dict[str, str]] = {
    "aws": {"region": "the AWS region, e.g. us-east-1"},
    "azure-native": {"location": "the Azure location, e.g. eastus"},
    "gcp": {"project": "the GCP project id", "region": "the GCP region, e.g. us-central1"},
    "kubernetes": {
        "context": "the kubeconfig context of the existing cluster",
        "kubeconfig": "a kubeconfig for the existing cluster (store it with --secret)",
    },
}
# The provider namespace each cloud reads; keys of another cloud's namespace are a mistake.
CLOUD_NAMESPACE: dict[str, str] = {
    "aws": "aws",
    "azure": "azure-native",
    "gcp": "gcp",
    "kubernetes": "kubernetes",
}
REQUIRED_PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "aws": ("aws:region",),
    "azure": ("azure-native:location",),
    "gcp": ("gcp:project", "gcp:region"),
    "kubernetes": (),
}
_PROVIDER_PATTERNS: dict[str, re.Pattern[str]] = {
    "aws:region": re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$"),
    "azure-native:location": re.compile(r"^[a-z][a-z0-9]+$"),
    "gcp:project": re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"),
    "gcp:region": re.compile(r"^[a-z]+-[a-z]+\d+$"),
    "kubernetes:context": re.compile(r"^\S+$"),
}
STACK_FILE_KEYS = {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"}


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
    resource_name: str = Field(
        default="nvidia.com/gpu",
        pattern=r"^[a-z0-9.-]+/[a-z0-9.-]+$",
        description="extended resource name the device plugin advertises",
    )


class ReplicaSettings(_Spec):
    """How many copies of the inference server run."""

    min: int = Field(default=1, ge=0, description="fewest replicas (0 allows scale to zero)")
    max: PositiveInt = Field(default=1, description="most replicas")


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

    @field_validator("authorized_cidrs")
    @classmethod
    def _valid_cidrs(cls, cidrs: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in cidrs:
            try:
                ipaddress.ip_network(cidr, strict=True)
            except ValueError as error:
                raise ValueError(f"{cidr!r} is not a CIDR block ({error})") from None
        return cidrs


class ProviderSettings(_Spec):
    """The provider keys llmplane reads (aws:region, gcp:project, kubernetes:context, ...)."""

    aws_region: str | None = Field(default=None, description="aws:region")
    azure_location: str | None = Field(default=None, description="azure-native:location")
    gcp_project: str | None = Field(default=None, description="gcp:project")
    gcp_region: str | None = Field(default=None, description="gcp:region")
    kube_context: str | None = Field(default=None, description="kubernetes:context")
    kubeconfig: SecretStr | None = Field(default=None, description="kubernetes:kubeconfig")


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
        default="internal", description="internal (in-cluster only) or public"
    )
    hf_token: SecretStr | None = Field(
        default=None, description="Hugging Face token for gated models (a Pulumi secret)"
    )
    tags: dict[str, str] = Field(default_factory=dict, description="extra tags on every resource")
    provider: ProviderSettings = Field(
        default_factory=ProviderSettings, description="provider keys"
    )

    def serve_request(self) -> ServeRequest:
        """The engine-independent facts the inference server's command line is built from."""
        return ServeRequest(
            model_id=self.model.id,
            revision=self.model.revision,
            shards=self.gpu.count,
            quantize=self.model.quantize,
            max_input_tokens=self.model.max_input_tokens,
            max_total_tokens=self.model.max_total_tokens,
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
    return _check_combinations(settings, config, secret_keys)


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
    field = _field(loc)
    hint = field.description if field is not None and field.description else "see the README"
    if kind == "missing":
        return SettingsError(stack, key, "is required", f"set it to {hint}")
    message = first["msg"].removeprefix("Value error, ")
    if kind == "string_pattern_mismatch":
        message = "has the wrong format"
    if kind != "value_error":
        # Value errors quote the bad value themselves; secrets are never quoted back.
        secret = "token" in key.lower() or "kubeconfig" in key
        message += f" (got {'a secret' if secret else repr(first.get('input'))})"
    return SettingsError(stack, key, message[0].lower() + message[1:], f"expected {hint}")


def _config_key(loc: list[str]) -> str:
    """A pydantic error location as a stack-file key: `gpu.minNodes` -> `llmplane:gpu.minNodes`."""
    if loc and loc[0] == "provider" and len(loc) > 1:
        return next(k for k, f in _PROVIDER_FIELDS.items() if to_camel(f) == loc[1])
    return f"{PROJECT}:" + ".".join(to_camel(part) if not part.isdigit() else part for part in loc)


def _model_at(loc: list[str]) -> type[BaseModel] | None:
    """The settings model that holds the field at `loc`, if there is one."""
    model: type[BaseModel] = StackSettings
    for part in loc:
        field = model.model_fields.get(part) or next(
            (f for f in model.model_fields.values() if f.alias == part), None
        )
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
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


def _check_combinations(
    settings: StackSettings, config: Mapping[str, Any], secret_keys: frozenset[str]
) -> StackSettings:
    """Reject choices that are valid alone but impossible or unsafe together."""
    stack, cloud = settings.stack, settings.cloud
    for full_key in sorted(config):
        namespace, _, _key = full_key.rpartition(":")
        if namespace in PROVIDER_KEYS and namespace != CLOUD_NAMESPACE[cloud]:
            raise SettingsError(
                stack,
                full_key,
                f"has no effect when llmplane:cloud is {cloud}",
                f"remove it, or use {CLOUD_NAMESPACE[cloud]}: keys",
            )
        pattern = _PROVIDER_PATTERNS.get(full_key)
        if pattern is not None and not pattern.match(str(config[full_key])):
            raise SettingsError(
                stack,
                full_key,
                f"{config[full_key]!r} is not valid",
                f"expected {PROVIDER_KEYS[namespace][_key]}",
            )
    for required in REQUIRED_PROVIDER_KEYS[cloud]:
        if required not in config:
            namespace, _, key = required.partition(":")
            raise SettingsError(
                stack,
                required,
                f"is required when llmplane:cloud is {cloud}",
                f"set it to {PROVIDER_KEYS[namespace][key]}",
            )

    _check_not_above(
        stack, "replicas.min", settings.replicas.min, "replicas.max", settings.replicas.max
    )
    _check_not_above(
        stack, "gpu.minNodes", settings.gpu.min_nodes, "gpu.maxNodes", settings.gpu.max_nodes
    )
    _check_tokens(settings)
    _check_engine(settings)
    _check_target(settings)
    _check_cluster(settings)
    _check_tags(settings)
    if settings.exposure == "public":
        raise SettingsError(
            stack,
            "llmplane:exposure",
            "public exposure needs TLS and authentication in front of the engine, "
            "which this version of llmplane does not create",
            "use internal and reach the service with kubectl port-forward or your own gateway",
        )
    if "llmplane:hfToken" in config and "llmplane:hfToken" not in secret_keys:
        # Pulumi.yaml declares the token secret, and the Pulumi CLI refuses a plaintext value.
        raise SettingsError(
            stack,
            "llmplane:hfToken",
            "is stored in plain text in the stack file",
            "remove it and run `pulumi config set --secret llmplane:hfToken <token>`",
        )
    return settings


def _check_not_above(stack: str, key: str, value: int, limit_key: str, limit: int) -> None:
    """A lower bound must not exceed its upper bound."""
    if value > limit:
        raise SettingsError(
            stack,
            f"{PROJECT}:{key}",
            f"is {value}, above {limit_key} ({limit})",
            f"make {key} less than or equal to {limit_key}",
        )


def _check_tokens(settings: StackSettings) -> None:
    model = settings.model
    low, high = model.max_input_tokens, model.max_total_tokens
    if low is not None and high is not None and low >= high:
        raise SettingsError(
            settings.stack,
            "llmplane:model.maxInputTokens",
            f"is {low}, not below model.maxTotalTokens ({high})",
            "make maxInputTokens smaller than maxTotalTokens to leave room for the answer",
        )


def _check_engine(settings: StackSettings) -> None:
    engine = ENGINES[settings.engine]
    quantize = settings.model.quantize
    if quantize is not None and quantize not in engine.quantizations:
        raise SettingsError(
            settings.stack,
            "llmplane:model.quantize",
            f"{quantize!r} is not supported by {settings.engine}",
            f"use one of {', '.join(engine.quantizations)}, or another engine",
        )


def _check_target(settings: StackSettings) -> None:
    """An existing cluster's nodes aren't ours: pool keys make no sense there, nor the reverse."""
    gpu_set = settings.gpu.model_fields_set
    if settings.cloud == "kubernetes":
        pool_keys = {"spot", "min_nodes", "max_nodes"} & gpu_set
        if "shape" in gpu_set and settings.gpu.shape != "auto":
            pool_keys.add("shape")
        if pool_keys:
            key = sorted(pool_keys)[0]
            raise SettingsError(
                settings.stack,
                f"llmplane:gpu.{to_camel(key)}",
                "llmplane does not manage the nodes of an existing cluster",
                "remove it, and select the GPU nodes with gpu.nodeSelector and gpu.taintKeys",
            )
        if settings.cluster.model_fields_set:
            key = sorted(settings.cluster.model_fields_set)[0]
            raise SettingsError(
                settings.stack,
                f"llmplane:cluster.{to_camel(key)}",
                "llmplane does not manage the control plane of an existing cluster",
                "remove the llmplane:cluster settings from this stack",
            )
    else:
        for key in ("node_selector", "taint_keys", "resource_name"):
            if key in gpu_set:
                raise SettingsError(
                    settings.stack,
                    f"llmplane:gpu.{to_camel(key)}",
                    f"is set by the {settings.cloud} GPU pool, not by the stack",
                    "remove it; it only applies to llmplane:cloud kubernetes",
                )


def _check_cluster(settings: StackSettings) -> None:
    cluster = settings.cluster
    open_cidrs = [c for c in cluster.authorized_cidrs if ipaddress.ip_network(c).prefixlen == 0]
    if open_cidrs and not cluster.allow_open_endpoint:
        raise SettingsError(
            settings.stack,
            "llmplane:cluster.authorizedCidrs",
            f"{open_cidrs[0]} opens the Kubernetes API to the whole internet",
            "list your own networks, or set cluster.allowOpenEndpoint: true to accept the risk",
        )
    if not cluster.private_endpoint and not cluster.authorized_cidrs:
        raise SettingsError(
            settings.stack,
            "llmplane:cluster.privateEndpoint",
            "is false but cluster.authorizedCidrs is empty, which would open the API to anyone",
            "list the networks that may reach the API in cluster.authorizedCidrs",
        )


def _check_tags(settings: StackSettings) -> None:
    for key, value in sorted(settings.tags.items()):
        if key in REQUIRED_TAGS:
            raise SettingsError(
                settings.stack,
                f"llmplane:tags.{key}",
                "is a tag llmplane sets itself",
                f"choose another name than {', '.join(REQUIRED_TAGS)}",
            )
        if not TAG_KEY_PATTERN.match(key) or not TAG_VALUE_PATTERN.match(value):
            raise SettingsError(
                settings.stack,
                f"llmplane:tags.{key}",
                f"{key}={value!r} is not valid on every cloud",
                "use lowercase letters, digits, '_' and '-' (keys start with a letter, max 63)",
            )


def read_stack_file(path: Path) -> tuple[str, dict[str, Any], frozenset[str]]:
    """Read `Pulumi.<stack>.yaml`: the stack name, its config map and which keys are secure."""
    stack = stack_name(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SettingsError(
            stack, str(path), f"cannot be read ({error.strerror})", "check the path"
        ) from None
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise SettingsError(
            stack, str(path), f"is not valid YAML{line}", "fix the syntax of the stack file"
        ) from None
    document = {} if document is None else document
    if not isinstance(document, dict):
        raise SettingsError(stack, str(path), "is not a YAML mapping", "start with `config:`")
    unknown = sorted(set(map(str, document)) - STACK_FILE_KEYS)
    if unknown:
        raise SettingsError(
            stack,
            unknown[0],
            "is not a stack file key",
            f"use one of: {', '.join(sorted(STACK_FILE_KEYS))}",
        )
    raw = document.get("config") or {}
    if not isinstance(raw, dict):
        raise SettingsError(
            stack, "config", "is not a mapping", "write `key: value` lines under it"
        )
    config: dict[str, Any] = {}
    secret: set[str] = set()
    for key, value in raw.items():
        full_key = str(key) if ":" in str(key) else f"{PROJECT}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full_key] = SECRET_PLACEHOLDER
            secret.add(full_key)
        else:
            config[full_key] = value
    return stack, config, frozenset(secret)


def stack_name(path: Path) -> str:
    """`stacks/Pulumi.aws-dev.yaml` -> `aws-dev`."""
    name = path.name
    for prefix, suffix in (("Pulumi.", ".yaml"), ("Pulumi.", ".yml")):
        if name.startswith(prefix) and name.endswith(suffix):
            return name[len(prefix) : -len(suffix)]
    return path.stem


def from_pulumi() -> StackSettings:
    """Settings of the stack the Pulumi engine (or the offline engine's mocks) is running."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret = {k for k in values if runtime_config.is_config_secret(k)}
    secret |= set(runtime_config.get_config_secret_keys_env())
    return parse(pulumi.get_stack(), values, frozenset(secret))
