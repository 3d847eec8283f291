"""Rules across stack keys: choices valid alone but impossible or unsafe together."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic.alias_generators import to_camel

from llmplane.components.kubernetes.engines import ENGINES
from llmplane.components.naming import PROJECT, REQUIRED_TAGS, TAG_KEY_PATTERN, TAG_VALUE_PATTERN

from .errors import SettingsError
from .stackfile import SECRET_PLACEHOLDER

if TYPE_CHECKING:
    from .settings import StackSettings

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


# Keys that must arrive encrypted. Pulumi.yaml cannot mark them `secret: true` (their default ""
# would then fail the CLI's check), so this is the check that refuses a plaintext value.
SECRET_KEYS = ("llmplane:hfToken", "llmplane:mirrorToken", "llmplane:apiKeys", "llmplane:tlsKey")
GATEWAY_KEYS = ("apiKeys", "tlsCertificate", "tlsKey")


def check_combinations(
    settings: StackSettings, config: Mapping[str, Any], secret_keys: frozenset[str]
) -> None:
    """Reject choices that are valid alone but impossible or unsafe together."""
    stack, cloud = settings.stack, settings.cloud
    # First, because a plaintext token in a stack file is already a leak, whatever else is wrong.
    for key in SECRET_KEYS:
        if key in config and key not in secret_keys:
            raise SettingsError(
                stack,
                key,
                "is stored in plain text in the stack file",
                f"remove it and run `pulumi config set --secret {key} <value>`",
            )
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
    if settings.replicas.active_hours is not None:
        _check_not_above(
            stack,
            "replicas.activeHours.replicas",
            settings.replicas.active_hours.replicas,
            "replicas.max",
            settings.replicas.max,
        )
    _check_not_above(
        stack, "gpu.minNodes", settings.gpu.min_nodes, "gpu.maxNodes", settings.gpu.max_nodes
    )
    _check_tokens(settings)
    _check_waivers(settings)
    _check_engine(settings)
    _check_target(settings)
    _check_network(settings)
    _check_mirror(settings)
    _check_cluster(settings)
    _check_tags(settings)
    _check_exposure(settings)
    _check_existing_gpus(settings)


def _check_existing_gpus(settings: StackSettings) -> None:
    """An existing cluster's GPUs against the model, before the program runs.

    A managed cloud's stack is sized when its GPU pool's args are built (cluster_for); an
    existing cluster has no pool, so its model, context and GPU count are checked here.
    """
    if settings.cloud != "kubernetes":
        return
    # Imported here: sizing reads the model table and the catalog, which only this rule needs.
    from ..sizing.serving import serving_for

    serving_for(settings)


def _check_exposure(settings: StackSettings) -> None:
    """Public means behind TLS and API keys; the gateway's keys mean nothing otherwise."""
    given = {
        "apiKeys": settings.api_keys,
        "tlsCertificate": settings.tls_certificate,
        "tlsKey": settings.tls_key,
    }
    if settings.exposure == "public":
        for key in GATEWAY_KEYS:
            if given[key] is None:
                raise SettingsError(
                    settings.stack,
                    f"{PROJECT}:{key}",
                    "is missing; a public endpoint needs TLS and API keys in front of the engine",
                    "set llmplane:apiKeys (secret), llmplane:tlsCertificate and "
                    "llmplane:tlsKey (secret), or use exposure: internal",
                )
        # The gateway's own rule, so that the plan refuses what the gateway would. Imported only
        # for a public stack: the gateway module pulls in the Kubernetes SDK.
        from llmplane.components.kubernetes.gateway import (
            MAX_API_KEY_LENGTH,
            MIN_API_KEY_LENGTH,
            api_keys_problem,
        )

        assert settings.api_keys is not None
        value = settings.api_keys.get_secret_value()
        # Offline, an encrypted value stands as a placeholder; `pulumi up` checks the real keys.
        problem = None if value == SECRET_PLACEHOLDER else api_keys_problem(value)
        if problem is not None:
            # The problem names a position, never a key or a part of one.
            raise SettingsError(
                settings.stack,
                f"{PROJECT}:apiKeys",
                problem,
                f"use distinct keys of {MIN_API_KEY_LENGTH} to {MAX_API_KEY_LENGTH} characters of "
                "A-Z a-z 0-9 - . _ ~ + / (and = only at the end), separated by commas, "
                "e.g. `openssl rand -hex 32`",
            )
        return
    for key in GATEWAY_KEYS:
        if given[key] is not None:
            raise SettingsError(
                settings.stack,
                f"{PROJECT}:{key}",
                "is set, but only a public endpoint has a gateway",
                "remove it, or set llmplane:exposure: public",
            )


def _check_not_above(stack: str, key: str, value: int, limit_key: str, limit: int) -> None:
    """A lower bound must not exceed its upper bound."""
    if value > limit:
        raise SettingsError(
            stack,
            f"{PROJECT}:{key}",
            f"is {value}, above {limit_key} ({limit})",
            f"make {key} less than or equal to {limit_key}",
        )


def _check_waivers(settings: StackSettings) -> None:
    """A waiver must name a policy of the pack; a typo would silently waive nothing."""
    if not settings.policy_waivers:
        return
    # Imported only when a stack waives something: the pack pulls in the policy SDK.
    from llmplane.policies.rules import load_all

    from ..sizing.catalog import nearest_names

    known = [rule.name for rule in load_all()]
    for name in settings.policy_waivers:
        if name not in known:
            raise SettingsError(
                settings.stack,
                f"{PROJECT}:policyWaivers.{name}",
                "is not a policy of the llmplane pack",
                f"use a name from `llmplane check --list`, e.g. {nearest_names(name, known)[0]}",
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


MANAGED = ("aws", "azure", "gcp")
_EXISTING_NODES = (
    "llmplane does not manage an existing cluster's nodes; "
    "select GPU nodes with gpu.nodeSelector and gpu.taintKeys"
)
# The clouds each key applies to. A key set for another cloud is an error, never silently ignored.
_ONLY_ON: dict[str, tuple[tuple[str, ...], str]] = {
    "gpu.shape": (MANAGED, _EXISTING_NODES),
    "gpu.spot": (MANAGED, _EXISTING_NODES),
    "gpu.minNodes": (MANAGED, _EXISTING_NODES),
    "gpu.maxNodes": (MANAGED, _EXISTING_NODES),
    "gpu.nodeSelector": (("kubernetes",), "the managed GPU pool sets its own node labels"),
    "gpu.taintKeys": (("kubernetes",), "the managed GPU pool sets its own taints"),
    "gpu.resourceName": (("kubernetes",), "the managed GPU pool advertises nvidia.com/gpu"),
    "gpu.memoryGiB": (("kubernetes",), "the managed GPU pool's shape says its GPU memory"),
    "cluster.*": (MANAGED, "llmplane does not manage an existing cluster's control plane"),
    "cluster.adminArns": (("aws",), "grant admins with your cloud's own role assignments"),
    "cluster.adminGroupIds": (("azure",), "grant admins with your cloud's own access entries"),
    "cluster.tier": (("azure",), "the control-plane tier is an AKS setting"),
    "cluster.binaryAuthorization": (("gcp",), "Binary Authorization is a GKE feature"),
    "network.*": (MANAGED, "llmplane does not manage an existing cluster's network"),
    "network.vpcId": (("aws",), "name an existing network with your cloud's own keys"),
    "network.subnetId": (("azure",), "name an existing network with your cloud's own keys"),
    "network.apiServerSubnetId": (
        ("azure",),
        "name an existing network with your cloud's own keys",
    ),
    "network.endpointSubnetId": (("azure",), "name an existing network with your cloud's own keys"),
    "network.privateSubnetIds": (
        ("aws",),
        "name an existing network with your cloud's own keys",
    ),
    "network.publicSubnetIds": (
        ("aws",),
        "name an existing network with your cloud's own keys",
    ),
    "mirrorUsername": (MANAGED, "an existing cluster pulls images straight from their registry"),
    "mirrorToken": (MANAGED, "an existing cluster pulls images straight from their registry"),
}


def _set_keys(settings: StackSettings) -> list[str]:
    """The keys the stack file sets, as `section.field` in stack-file spelling."""
    sections = ("gpu", "cluster", "network")
    keys = [to_camel(name) for name in settings.model_fields_set if name not in sections]
    for section in sections:
        spec = getattr(settings, section)
        # A field's alias is its stack-file spelling where camelCase alone would miss it (GiB).
        keys += [
            f"{section}.{type(spec).model_fields[name].alias or to_camel(name)}"
            for name in spec.model_fields_set
        ]
    # `shape: auto` is the default spelled out, and harmless on an existing cluster.
    if settings.gpu.shape == "auto" and "gpu.shape" in keys:
        keys.remove("gpu.shape")
    return sorted(keys)


def _check_target(settings: StackSettings) -> None:
    """Keys that only make sense on some targets: node pools, control plane, network, mirror."""
    for key in _set_keys(settings):
        rule = _ONLY_ON.get(key) or _ONLY_ON.get(f"{key.split('.')[0]}.*")
        if rule is None or settings.cloud in rule[0]:
            continue
        clouds, why = rule
        raise SettingsError(
            settings.stack,
            f"{PROJECT}:{key}",
            f"applies only to llmplane:cloud {' or '.join(clouds)}, not {settings.cloud} ({why})",
            "remove it from this stack",
        )


def _check_network(settings: StackSettings) -> None:
    """An existing VPC comes with its subnets, and then llmplane creates no network parts."""
    network = settings.network
    fields = network.model_fields_set
    azure_subnets = {
        "subnetId": network.subnet_id,
        "apiServerSubnetId": network.api_server_subnet_id,
        "endpointSubnetId": network.endpoint_subnet_id,
    }
    if any(azure_subnets.values()):
        _check_azure_subnets(settings, azure_subnets)
        return
    if network.vpc_id is None:
        for key in ("private_subnet_ids", "public_subnet_ids"):
            if key in fields:
                raise SettingsError(
                    settings.stack,
                    f"{PROJECT}:network.{to_camel(key)}",
                    "names subnets but network.vpcId is not set",
                    "set network.vpcId to the VPC these subnets belong to",
                )
        return
    if len(network.private_subnet_ids) < 2:
        raise SettingsError(
            settings.stack,
            f"{PROJECT}:network.privateSubnetIds",
            "needs at least two private subnets, in different zones, with an existing VPC",
            "list the private subnet ids of network.vpcId",
        )
    _created_network_keys_unset(settings, "network.vpcId")


def _check_azure_subnets(settings: StackSettings, subnets: dict[str, str | None]) -> None:
    """An existing Azure network comes as three subnets of one VNet."""
    missing = [key for key, value in subnets.items() if value is None]
    if missing:
        raise SettingsError(
            settings.stack,
            f"{PROJECT}:network.{missing[0]}",
            "is missing; an existing network needs subnetId, apiServerSubnetId, endpointSubnetId",
            "give all three subnet resource ids, from the same VNet",
        )
    vnets = {str(value).rsplit("/subnets/", 1)[0].lower() for value in subnets.values()}
    if len(vnets) > 1:
        raise SettingsError(
            settings.stack,
            f"{PROJECT}:network.apiServerSubnetId",
            "is in a different VNet from network.subnetId",
            "use three subnets of the same VNet",
        )
    _created_network_keys_unset(settings, "network.subnetId")


def _created_network_keys_unset(settings: StackSettings, existing: str) -> None:
    """Keys that shape a network llmplane creates mean nothing next to an existing one."""
    for key in ("cidr", "nat_gateways", "private_endpoints"):
        if key in settings.network.model_fields_set:
            raise SettingsError(
                settings.stack,
                f"{PROJECT}:network.{to_camel(key)}",
                f"describes a network llmplane creates, but {existing} uses an existing one",
                f"remove it, or remove {existing}",
            )


def _check_mirror(settings: StackSettings) -> None:
    """The mirror's credentials come as a pair."""
    if (settings.mirror_username is None) != (settings.mirror_token is None):
        missing = "mirrorToken" if settings.mirror_token is None else "mirrorUsername"
        raise SettingsError(
            settings.stack,
            f"{PROJECT}:{missing}",
            "is missing; the registry mirror needs both mirrorUsername and mirrorToken",
            f"set llmplane:{missing} (the token with `pulumi config set --secret`)",
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
