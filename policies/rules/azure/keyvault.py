"""Azure rules for Key Vault: recoverable, private, RBAC-authorized vaults; rotated, strong keys."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .. import (
    Config,
    Props,
    Rule,
    dig,
    has_property,
    items,
    resource_rule,
    shown,
    truthy,
    value_rule,
)

VAULT = "azure-native:keyvault:Vault"
KEY = "azure-native:keyvault:Key"
_VAULT_CODE = "llmplane's vault already does; in your own Pulumi code set"


@resource_rule(
    "azure-keyvault-recoverable",
    types=[VAULT],
    description="A key vault has soft delete and purge protection on, so deleted keys come back.",
    severity="high",
    frameworks=[
        "CKV_AZURE_42",
        "CKV_AZURE_110",
        "Azure.KeyVault.PurgeProtect",
        "Azure.KeyVault.SoftDelete",
    ],
    remediation=f"{_VAULT_CODE} `properties.enable_purge_protection=True` and leave "
    "`enable_soft_delete` unset or true.",
)
def vault_recoverable(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Losing the KMS key would make etcd secrets, disks and the registry unreadable."""
    # Purge protection is off unless set; soft delete is on unless explicitly turned off.
    purge = dig(props, "properties.enablePurgeProtection")
    if not truthy(purge):
        yield f"properties.enablePurgeProtection is {shown(purge)}"
    soft = dig(props, "properties.enableSoftDelete")
    if soft is not None and not truthy(soft):
        yield f"properties.enableSoftDelete is {shown(soft)}"


# Only listed networks and trusted Azure services reach the vault's data plane.
vault_network_deny = value_rule(
    "azure-keyvault-network-deny",
    types=[VAULT],
    path="properties.networkAcls.defaultAction",
    required="deny",
    ignore_case=True,
    default="allow",  # absent means Allow
    message="properties.networkAcls.defaultAction is {shown}",
    description="A key vault's firewall denies by default (networkAcls.defaultAction is Deny).",
    severity="medium",
    frameworks=["CKV_AZURE_109", "Azure.KeyVault.Firewall"],
    remediation=f"{_VAULT_CODE} `properties.network_acls=NetworkRuleSetArgs(default_action='Deny', "
    "bypass='AzureServices')` and add only the IP or VNet rules you need.",
)


# The vault holding the cluster's KMS key is off the internet.
vault_public_network = value_rule(
    "azure-keyvault-public-network-disabled",
    types=[VAULT],
    path="properties.publicNetworkAccess",
    required="disabled",
    ignore_case=True,
    default="enabled",  # absent means Enabled
    message="properties.publicNetworkAccess is {shown}",
    description="A key vault is reachable only through private endpoints and trusted services.",
    severity="medium",
    frameworks=["CKV_AZURE_189"],
    remediation=f"{_VAULT_CODE} `properties.public_network_access='Disabled'` and reach it "
    "through a private endpoint; Pulumi still manages keys and secrets through Resource Manager.",
)


# One permission model, with PIM and audit, instead of per-vault access policies.
vault_rbac = value_rule(
    "azure-keyvault-rbac-authorization",
    types=[VAULT],
    path="properties.enableRbacAuthorization",
    required=True,  # absent means false in this API version: the vault uses access policies
    message="properties.enableRbacAuthorization is {shown}: access policies authorize data access",
    description="A key vault authorizes data access with Azure RBAC, not vault access policies.",
    severity="medium",
    frameworks=["Azure.KeyVault.RBAC"],
    remediation=f"{_VAULT_CODE} `properties.enable_rbac_authorization=True` and grant roles "
    "such as Key Vault Crypto Service Encryption User to the identities that need them.",
)


_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


def _days(duration: Any) -> int | None:
    """An ISO 8601 duration as Key Vault writes it (P90D, P1Y, P1Y6M) in days; None if unread."""
    match = _DURATION.match(str(duration or "").strip().upper())
    if not match or not any(match.groups()):
        return None
    years, months, weeks, days = (int(part or 0) for part in match.groups())
    return years * 365 + months * 30 + weeks * 7 + days


@resource_rule(
    "azure-keyvault-key-rotation",
    types=[KEY],
    description="A key vault key expires, or rotates automatically every maxRotationDays or less.",
    severity="medium",
    frameworks=["CKV_AZURE_40", "Azure.KeyVault.AutoRotationPolicy"],
    remediation=f"{_VAULT_CODE} `properties.rotation_policy` with a `rotate` lifetime action "
    "(e.g. `time_after_create='P90D'`) and an `expiry_time`, or `properties.attributes.expires`.",
    config={
        "maxRotationDays": {
            "type": "integer",
            "default": 365,
            "description": "The longest rotation period accepted, in days (a year counts 365).",
        }
    },
)
def key_rotation(type_: str, props: Props, config: Config) -> Iterator[str]:
    """A key that never changes accumulates exposure; one that rotates limits it."""
    rotates = False
    longest = int(config["maxRotationDays"])
    expiry = dig(props, "properties.rotationPolicy.attributes.expiryTime")
    for action in items(dig(props, "properties.rotationPolicy.lifetimeActions")):
        if str(dig(action, "action.type", "")).lower() != "rotate":
            continue
        rotates = True
        after = dig(action, "trigger.timeAfterCreate")
        before = dig(action, "trigger.timeBeforeExpiry")
        # "Rotate N days before expiry" rotates every expiry minus N days.
        period = _days(after) if after is not None else None
        if period is None and before is not None and _days(expiry) is not None:
            period = (_days(expiry) or 0) - (_days(before) or 0)
        if period is not None and period > longest:
            trigger = after if after is not None else f"{before} before expiry {expiry}"
            yield f"the key rotates after {trigger} ({period} days), more than {longest} days"
    # Absent attributes.expires and rotation policy: the key lives forever.
    if not rotates and not has_property(props, "properties.attributes.expires"):
        yield (
            "properties.attributes.expires is not set and properties.rotationPolicy has no rotate "
            "action: the key neither expires nor rotates"
        )


@resource_rule(
    "azure-keyvault-key-size",
    types=[KEY],
    description="An RSA key vault key has at least minRsaBits bits.",
    severity="medium",
    frameworks=["MCSB DP-6"],
    remediation=f"{_VAULT_CODE} `properties.key_size=3072` (or 4096) for RSA and RSA-HSM keys.",
    config={
        "minRsaBits": {
            "type": "integer",
            "default": 2048,
            "description": "The smallest RSA modulus accepted, in bits.",
        }
    },
)
def key_size(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Short RSA keys can be factored; NIST retires 2048-bit RSA after 2030."""
    kty = str(dig(props, "properties.kty", "")).upper()
    if not kty.startswith("RSA"):
        return
    # Absent means 2048, Key Vault's default RSA size.
    size = dig(props, "properties.keySize")
    bits = int(size) if size is not None else 2048
    if bits < int(config["minRsaBits"]):
        yield f"properties.keySize is {shown(size)} ({bits} bits), below {config['minRsaBits']}"


# The key's private half never leaves a FIPS 140 validated HSM.
key_hsm = value_rule(
    "azure-keyvault-key-hsm",
    types=[KEY],
    path="properties.kty",
    allowed=["EC-HSM", "RSA-HSM", "oct-HSM"],
    ignore_case=True,
    message="properties.kty is {shown}: the key is software-protected",
    description="A key vault key is HSM-backed (RSA-HSM or EC-HSM); advisory because HSM keys "
    "need a Premium vault.",
    severity="low",
    frameworks=["CKV_AZURE_112"],
    remediation=f"{_VAULT_CODE} `properties.kty='RSA-HSM'` in a vault with the premium SKU.",
    enforcement="advisory",
)


RULES: tuple[Rule, ...] = (
    vault_recoverable,
    vault_network_deny,
    vault_public_network,
    vault_rbac,
    key_rotation,
    key_size,
    key_hsm,
)
