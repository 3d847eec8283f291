"""The Azure policies on azure-dev's resources, and on copies broken one field at a time."""

from __future__ import annotations

import pytest
from pulumi_policy.proxy import UnknownValueError

from llmplane.policies.rules.azure.aks import AGENT_POOL, CLUSTER
from llmplane.policies.rules.azure.keyvault import KEY, VAULT
from llmplane.policies.rules.azure.registry import REGISTRY
from tests.plans import shipped
from tests.policies.harness import (
    UNKNOWN,
    Cases,
    RuleCases,
    check,
    drop,
    findings,
    inputs,
    mutated,
    put,
    rules_of,
    shipped_props,
)

AZURE_RULES = rules_of("azure")

AKS, POOL, ACR, KV, CMK = (
    shipped_props("azure-dev", t) for t in (CLUSTER, AGENT_POOL, REGISTRY, VAULT, KEY)
)
ROTATE = "properties.rotationPolicy.lifetimeActions.0.trigger"

# fmt: off
# One compliant case per policy and type. azure-dev takes the Free tier and leaves quarantine off
# on purpose (both advisory), so those two cases undo that choice first.
COMPLIANT = [
    ("azure-aks-entra-rbac", CLUSTER, AKS),
    ("azure-aks-local-accounts-disabled", CLUSTER, AKS),
    ("azure-aks-api-server-restricted", CLUSTER, AKS),
    ("azure-aks-api-server-restricted", CLUSTER,
     mutated(AKS, put("apiServerAccessProfile", {"enablePrivateCluster": True}))),
    ("azure-aks-network-policy", CLUSTER, AKS),
    ("azure-aks-workload-identity", CLUSTER, AKS),
    ("azure-aks-secrets-encrypted", CLUSTER, AKS),
    ("azure-aks-disk-encryption-set", CLUSTER, AKS),
    ("azure-aks-auto-upgrade", CLUSTER, AKS),
    ("azure-aks-policy-addon", CLUSTER, AKS),
    ("azure-aks-paid-tier", CLUSTER, mutated(AKS, put("sku.tier", "Standard"))),
    ("azure-aks-no-node-public-ip", CLUSTER, AKS),
    ("azure-aks-no-node-public-ip", AGENT_POOL, POOL),
    ("azure-aks-encryption-at-host", CLUSTER, AKS),
    ("azure-aks-encryption-at-host", AGENT_POOL, POOL),
    ("azure-acr-admin-user-disabled", REGISTRY, ACR),
    ("azure-acr-anonymous-pull-disabled", REGISTRY, ACR),
    ("azure-acr-public-network-disabled", REGISTRY, ACR),
    ("azure-acr-retention-policy", REGISTRY, ACR),
    ("azure-acr-quarantine-policy", REGISTRY,
     mutated(ACR, put("policies.quarantinePolicy.status", "enabled"))),
    ("azure-keyvault-recoverable", VAULT, KV),
    ("azure-keyvault-network-deny", VAULT, KV),
    ("azure-keyvault-public-network-disabled", VAULT, KV),
    ("azure-keyvault-rbac-authorization", VAULT, KV),
    ("azure-keyvault-key-rotation", KEY, CMK),
    ("azure-keyvault-key-size", KEY, CMK),
    ("azure-keyvault-key-hsm", KEY, CMK),
]

# (policy, type, props, mutation, a fragment the one message must hold)
VIOLATIONS = [
    ("azure-aks-entra-rbac", CLUSTER, AKS, put("enableRBAC", False), "enableRBAC is false"),
    ("azure-aks-entra-rbac", CLUSTER, AKS, put("aadProfile.managed", False),
     "aadProfile.managed is false: Entra ID integration is off"),
    ("azure-aks-entra-rbac", CLUSTER, AKS, put("aadProfile.enableAzureRBAC", False),
     "aadProfile.enableAzureRBAC is false"),
    ("azure-aks-local-accounts-disabled", CLUSTER, AKS, put("disableLocalAccounts", False),
     "disableLocalAccounts is false"),
    ("azure-aks-api-server-restricted", CLUSTER, AKS,
     put("apiServerAccessProfile.authorizedIPRanges", ["203.0.113.0/24", "0.0.0.0/0"]),
     "authorizedIPRanges includes 0.0.0.0/0"),
    ("azure-aks-api-server-restricted", CLUSTER, AKS,
     put("apiServerAccessProfile.authorizedIPRanges", ["::/0"]),
     "authorizedIPRanges includes ::/0"),
    ("azure-aks-api-server-restricted", CLUSTER, AKS,
     put("apiServerAccessProfile.authorizedIPRanges", []), "every address can reach it"),
    ("azure-aks-network-policy", CLUSTER, AKS, put("networkProfile.networkPolicy", "none"),
     'networkProfile.networkPolicy is "none"'),
    ("azure-aks-workload-identity", CLUSTER, AKS, put("oidcIssuerProfile.enabled", False),
     "oidcIssuerProfile.enabled is false"),
    ("azure-aks-workload-identity", CLUSTER, AKS,
     put("securityProfile.workloadIdentity.enabled", False),
     "securityProfile.workloadIdentity.enabled is false"),
    ("azure-aks-secrets-encrypted", CLUSTER, AKS,
     put("securityProfile.azureKeyVaultKms.enabled", False),
     "securityProfile.azureKeyVaultKms.enabled is false"),
    ("azure-aks-disk-encryption-set", CLUSTER, AKS, drop("diskEncryptionSetID"),
     "diskEncryptionSetID is not set"),
    ("azure-aks-auto-upgrade", CLUSTER, AKS, put("autoUpgradeProfile.upgradeChannel", "none"),
     'autoUpgradeProfile.upgradeChannel is "none"'),
    ("azure-aks-auto-upgrade", CLUSTER, AKS,
     put("autoUpgradeProfile.nodeOSUpgradeChannel", "Unmanaged"),
     'autoUpgradeProfile.nodeOSUpgradeChannel is "Unmanaged"'),
    ("azure-aks-policy-addon", CLUSTER, AKS, put("addonProfiles.azurepolicy.enabled", False),
     "addonProfiles.azurepolicy is not enabled"),
    ("azure-aks-paid-tier", CLUSTER, AKS, lambda p: None, 'sku.tier is "Free"'),
    ("azure-aks-no-node-public-ip", CLUSTER, AKS,
     put("agentPoolProfiles.0.enableNodePublicIP", True),
     'agent pool "system" has enableNodePublicIP true'),
    ("azure-aks-no-node-public-ip", AGENT_POOL, POOL, put("enableNodePublicIP", True),
     'agent pool "gpu" has enableNodePublicIP true'),
    ("azure-aks-encryption-at-host", CLUSTER, AKS,
     put("agentPoolProfiles.0.enableEncryptionAtHost", False),
     'agent pool "system" has enableEncryptionAtHost false'),
    ("azure-aks-encryption-at-host", AGENT_POOL, POOL, put("enableEncryptionAtHost", False),
     'agent pool "gpu" has enableEncryptionAtHost false'),
    ("azure-acr-admin-user-disabled", REGISTRY, ACR, put("adminUserEnabled", True),
     "adminUserEnabled is true"),
    ("azure-acr-anonymous-pull-disabled", REGISTRY, ACR, put("anonymousPullEnabled", True),
     "anonymousPullEnabled is true"),
    ("azure-acr-public-network-disabled", REGISTRY, ACR, put("publicNetworkAccess", "Enabled"),
     'publicNetworkAccess is "Enabled"'),
    ("azure-acr-retention-policy", REGISTRY, ACR,
     put("policies.retentionPolicy.status", "disabled"),
     'policies.retentionPolicy.status is "disabled"'),
    ("azure-acr-quarantine-policy", REGISTRY, ACR, lambda p: None,
     "policies.quarantinePolicy.status is not set"),
    ("azure-keyvault-recoverable", VAULT, KV, put("properties.enablePurgeProtection", False),
     "properties.enablePurgeProtection is false"),
    ("azure-keyvault-recoverable", VAULT, KV, put("properties.enableSoftDelete", False),
     "properties.enableSoftDelete is false"),
    ("azure-keyvault-network-deny", VAULT, KV,
     put("properties.networkAcls.defaultAction", "Allow"),
     'properties.networkAcls.defaultAction is "Allow"'),
    ("azure-keyvault-public-network-disabled", VAULT, KV,
     put("properties.publicNetworkAccess", "Enabled"),
     'properties.publicNetworkAccess is "Enabled"'),
    ("azure-keyvault-rbac-authorization", VAULT, KV,
     put("properties.enableRbacAuthorization", False),
     "properties.enableRbacAuthorization is false"),
    ("azure-keyvault-key-rotation", KEY, CMK, put(f"{ROTATE}.timeAfterCreate", "P2Y"),
     "the key rotates after P2Y (730 days), more than 365 days"),
    ("azure-keyvault-key-rotation", KEY, CMK,
     lambda p: (put(ROTATE, {"timeBeforeExpiry": "P30D"})(p),
                put("properties.rotationPolicy.attributes.expiryTime", "P2Y")(p)),
     "rotates after P30D before expiry P2Y (700 days), more than 365 days"),
    ("azure-keyvault-key-rotation", KEY, CMK,
     put("properties.rotationPolicy.lifetimeActions.0.action.type", "notify"),
     "the key neither expires nor rotates"),
    ("azure-keyvault-key-size", KEY, CMK, put("properties.keySize", 1024),
     "properties.keySize is 1024 (1024 bits), below 2048"),
    ("azure-keyvault-key-hsm", KEY, CMK, put("properties.kty", "RSA"),
     'properties.kty is "RSA": the key is software-protected'),
]

# (policy, type, props, the property removed, a fragment of the message, or None: still complies)
MISSING = [
    ("azure-aks-entra-rbac", CLUSTER, AKS, "enableRBAC", None),
    ("azure-aks-entra-rbac", CLUSTER, AKS, "aadProfile", "aadProfile.managed is not set"),
    ("azure-aks-local-accounts-disabled", CLUSTER, AKS, "disableLocalAccounts",
     "disableLocalAccounts is not set"),
    ("azure-aks-api-server-restricted", CLUSTER, AKS, "apiServerAccessProfile",
     "every address can reach it"),
    ("azure-aks-network-policy", CLUSTER, AKS, "networkProfile.networkPolicy",
     "networkProfile.networkPolicy is not set: NetworkPolicies are not enforced"),
    ("azure-aks-workload-identity", CLUSTER, AKS, "securityProfile.workloadIdentity",
     "securityProfile.workloadIdentity.enabled is not set"),
    ("azure-aks-secrets-encrypted", CLUSTER, AKS, "securityProfile.azureKeyVaultKms",
     "securityProfile.azureKeyVaultKms.enabled is not set"),
    ("azure-aks-disk-encryption-set", CLUSTER, AKS, "diskEncryptionSetID",
     "diskEncryptionSetID is not set"),
    ("azure-aks-auto-upgrade", CLUSTER, AKS, "autoUpgradeProfile.upgradeChannel",
     "autoUpgradeProfile.upgradeChannel is not set"),
    ("azure-aks-auto-upgrade", CLUSTER, AKS, "autoUpgradeProfile.nodeOSUpgradeChannel", None),
    ("azure-aks-policy-addon", CLUSTER, AKS, "addonProfiles", "is not enabled"),
    ("azure-aks-paid-tier", CLUSTER, AKS, "sku", "sku.tier is not set"),
    ("azure-aks-no-node-public-ip", CLUSTER, AKS, "agentPoolProfiles.0.enableNodePublicIP", None),
    ("azure-aks-no-node-public-ip", AGENT_POOL, POOL, "enableNodePublicIP", None),
    ("azure-aks-encryption-at-host", CLUSTER, AKS, "agentPoolProfiles.0.enableEncryptionAtHost",
     'agent pool "system" has enableEncryptionAtHost not set'),
    ("azure-aks-encryption-at-host", AGENT_POOL, POOL, "enableEncryptionAtHost",
     'agent pool "gpu" has enableEncryptionAtHost not set'),
    ("azure-acr-admin-user-disabled", REGISTRY, ACR, "adminUserEnabled", None),
    ("azure-acr-anonymous-pull-disabled", REGISTRY, ACR, "anonymousPullEnabled", None),
    ("azure-acr-public-network-disabled", REGISTRY, ACR, "publicNetworkAccess",
     "publicNetworkAccess is not set: the registry is reachable from the internet"),
    ("azure-acr-retention-policy", REGISTRY, ACR, "policies.retentionPolicy",
     "policies.retentionPolicy.status is not set"),
    ("azure-acr-retention-policy", REGISTRY, ACR, "sku", None),
    ("azure-keyvault-recoverable", VAULT, KV, "properties.enablePurgeProtection",
     "properties.enablePurgeProtection is not set"),
    ("azure-keyvault-recoverable", VAULT, KV, "properties.enableSoftDelete", None),
    ("azure-keyvault-network-deny", VAULT, KV, "properties.networkAcls",
     "properties.networkAcls.defaultAction is not set"),
    ("azure-keyvault-public-network-disabled", VAULT, KV, "properties.publicNetworkAccess",
     "properties.publicNetworkAccess is not set"),
    ("azure-keyvault-rbac-authorization", VAULT, KV, "properties.enableRbacAuthorization",
     "properties.enableRbacAuthorization is not set"),
    ("azure-keyvault-key-rotation", KEY, CMK, "properties.rotationPolicy",
     "properties.attributes.expires is not set"),
    ("azure-keyvault-key-size", KEY, CMK, "properties.keySize", None),
    ("azure-keyvault-key-hsm", KEY, CMK, "properties.kty", "properties.kty is not set"),
]

# (policy, type, props, mutation, policy config, fragment or None: complies under that config)
CONFIGURED = [
    ("azure-keyvault-key-rotation", KEY, CMK, lambda p: None, {"maxRotationDays": 30},
     "the key rotates after P90D (90 days), more than 30 days"),
    ("azure-keyvault-key-rotation", KEY, CMK, put(f"{ROTATE}.timeAfterCreate", "P2Y"),
     {"maxRotationDays": 730}, None),
    ("azure-keyvault-key-size", KEY, CMK, lambda p: None, {"minRsaBits": 4096},
     "properties.keySize is 3072 (3072 bits), below 4096"),
    ("azure-keyvault-key-size", KEY, CMK, put("properties.keySize", 1024), {"minRsaBits": 1024},
     None),
]

# Shapes that must not be mistaken for a violation.
ALSO_COMPLIANT = [
    ("azure-aks-network-policy", CLUSTER, AKS, put("networkProfile.networkPolicy", "calico")),
    ("azure-aks-policy-addon", CLUSTER, AKS,
     put("addonProfiles", {"azurePolicy": {"enabled": True}})),
    ("azure-aks-auto-upgrade", CLUSTER, AKS,
     put("autoUpgradeProfile.nodeOSUpgradeChannel", "SecurityPatch")),
    ("azure-acr-quarantine-policy", REGISTRY, ACR, put("sku.name", "Standard")),
    ("azure-keyvault-key-rotation", KEY, CMK,
     lambda p: (p["properties"].pop("rotationPolicy"),
                p["properties"].update(attributes={"expires": 1798761600}))),
    ("azure-keyvault-key-size", KEY, CMK,
     lambda p: p["properties"].update(kty="EC-HSM", curveName="P-384", keySize=None)),
]
# fmt: on


class TestAzureCases(RuleCases):
    """The shared checks over the Azure case tables."""

    cases = Cases(AZURE_RULES, COMPLIANT, VIOLATIONS, MISSING, CONFIGURED, ALSO_COMPLIANT)


def test_every_azure_policy_and_type_has_a_compliant_case() -> None:
    covered = {(case[0], case[1]) for case in COMPLIANT}
    assert covered == {(r.name, t) for r in AZURE_RULES for t in r.types}


def test_azure_dev_breaks_no_mandatory_azure_policy() -> None:
    found = [finding[:3] for finding in findings(shipped("azure-dev"), AZURE_RULES)]
    # The Free tier and a registry without quarantine are azure-dev's deliberate trade-offs.
    assert sorted(found) == [
        ("advisory", "azure-acr-quarantine-policy", "llm-acr"),
        ("advisory", "azure-aks-paid-tier", "llm-aks"),
    ]


def test_an_unknown_value_is_left_to_the_runner() -> None:
    vault = inputs(shipped("azure-dev"), VAULT)
    vault["properties"]["enablePurgeProtection"] = UNKNOWN
    with pytest.raises(UnknownValueError):
        check("azure-keyvault-recoverable", VAULT, vault)


def test_an_id_not_known_yet_still_counts_as_set() -> None:
    # During a preview the disk encryption set's id is unknown, but that it is set is known.
    cluster = inputs(shipped("azure-dev"), CLUSTER)
    cluster["diskEncryptionSetID"] = UNKNOWN
    assert check("azure-aks-disk-encryption-set", CLUSTER, cluster) == []
