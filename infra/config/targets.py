"""Which keys apply on which cloud: provider namespaces, required provider keys, cloud-only fields.

A key set for another cloud is an error, never silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic.alias_generators import to_camel

from llmplane.components.naming import PROJECT

from .errors import SettingsError
from .models import PROVIDER_KEYS
from .secrets import shown

if TYPE_CHECKING:
    from .models import StackSettings

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


def check_providers(settings: StackSettings, config: Mapping[str, Any]) -> None:
    """Provider keys: only the cloud's own namespace, in a valid form, and the required ones set."""
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
                f"{shown(config[full_key])} is not valid",
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


def check_target(settings: StackSettings) -> None:
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
