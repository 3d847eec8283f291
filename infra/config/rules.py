"""Rules across stack keys: choices valid alone but impossible or unsafe together."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic.alias_generators import to_camel

from llmplane.components.kubernetes.engines import ENGINES
from llmplane.components.naming import PROJECT, REQUIRED_TAGS, TAG_KEY_PATTERN, TAG_VALUE_PATTERN

from .errors import SettingsError, choices
from .stackfile import SECRET_PLACEHOLDER
from .targets import check_providers, check_target

if TYPE_CHECKING:
    from .models import StackSettings

GATEWAY_KEYS = ("apiKeys", "tlsCertificate", "tlsKey")


def check_combinations(settings: StackSettings, config: Mapping[str, Any]) -> None:
    """Reject choices that are valid alone but impossible or unsafe together.

    A plaintext secret was refused before (secrets.refuse_plaintext), whatever else is wrong.
    """
    stack = settings.stack
    check_providers(settings, config)
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
    check_target(settings)
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

    known = [rule.name for rule in load_all()]
    for name in settings.policy_waivers:
        if name not in known:
            raise SettingsError(
                settings.stack,
                f"{PROJECT}:policyWaivers.{name}",
                "is not a policy of the llmplane pack",
                f"use a name from `llmplane check --list`: {choices(name, known)}",
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
            f"use one of: {choices(quantize, engine.quantizations)}, or another engine",
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
