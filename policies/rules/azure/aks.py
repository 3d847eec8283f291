"""Azure rules for AKS clusters and agent pools: identity, API access, encryption, upgrades."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .. import (
    ANY_VALUE,
    Config,
    Props,
    Rule,
    dig,
    is_open_cidr,
    items,
    resource_rule,
    shown,
    truthy,
    value_rule,
)

CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"

# llmplane sets every AKS property these rules read; only a user's own code can get them wrong.
_OWN_CODE = "llmplane sets this on every AKS cluster it creates; in your own Pulumi code set"


def _pools(type_: str, props: Props) -> Iterator[tuple[str, Any]]:
    """Each agent pool with its name: the cluster's inline profiles, or the AgentPool itself."""
    if type_ == AGENT_POOL:
        yield str(dig(props, "agentPoolName", "?")), props
        return
    for pool in items(dig(props, "agentPoolProfiles")):
        yield str(dig(pool, "name", "?")), pool


@resource_rule(
    "azure-aks-entra-rbac",
    types=[CLUSTER],
    description="An AKS cluster authorizes with Kubernetes RBAC, managed Entra ID and Azure RBAC.",
    severity="high",
    frameworks=["CKV_AZURE_5", "Azure.AKS.UseRBAC", "Azure.AKS.ManagedAAD", "Azure.AKS.AzureRBAC"],
    remediation=f"{_OWN_CODE} `enable_rbac=True` and `aad_profile=ManagedClusterAADProfileArgs("
    "managed=True, enable_azure_rbac=True)`; grant admins with `llmplane:cluster.adminGroupIds`.",
)
def aks_entra_rbac(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Kubernetes RBAC on, identities from Entra ID, permissions from Azure role assignments."""
    # AKS enables Kubernetes RBAC unless told otherwise: only an explicit false is a problem.
    rbac = dig(props, "enableRBAC")
    if rbac is not None and not truthy(rbac):
        yield f"enableRBAC is {shown(rbac)}"
    # Without aadProfile the cluster authenticates with certificates only.
    managed = dig(props, "aadProfile.managed")
    if not truthy(managed):
        yield f"aadProfile.managed is {shown(managed)}: Entra ID integration is off"
    azure_rbac = dig(props, "aadProfile.enableAzureRBAC")
    if not truthy(azure_rbac):
        yield f"aadProfile.enableAzureRBAC is {shown(azure_rbac)}: Azure RBAC is off"


# No static clusterAdmin credential that bypasses Entra ID and its audit trail.
aks_local_accounts = value_rule(
    "azure-aks-local-accounts-disabled",
    types=[CLUSTER],
    path="disableLocalAccounts",
    required=True,  # absent means false: AKS keeps local accounts unless they are disabled
    message="disableLocalAccounts is {shown}: the local cluster-admin account stays on",
    description="An AKS cluster has local accounts disabled: every user is an Entra ID identity.",
    severity="high",
    frameworks=["CKV_AZURE_141", "Azure.AKS.LocalAccounts"],
    remediation=f"{_OWN_CODE} `disable_local_accounts=True` (with the managed Entra ID profile).",
)


@resource_rule(
    "azure-aks-api-server-restricted",
    types=[CLUSTER],
    description="An AKS API server is private, or open only to authorized ranges, not 0.0.0.0/0.",
    severity="high",
    frameworks=["CKV_AZURE_115", "CKV_AZURE_6", "Azure.AKS.AuthorizedIPs"],
    remediation="Set `llmplane:cluster.privateEndpoint: true`, or list the networks you run Pulumi "
    "and kubectl from in `llmplane:cluster.authorizedCidrs` (never 0.0.0.0/0); if an open endpoint "
    "is deliberate (`llmplane:cluster.allowOpenEndpoint`), waive this policy in "
    "`llmplane:policyWaivers` with the reason.",
)
def aks_api_server(type_: str, props: Props, config: Config) -> Iterator[str]:
    """The control plane is not reachable from the whole internet."""
    if truthy(dig(props, "apiServerAccessProfile.enablePrivateCluster")):
        return
    ranges = [str(r) for r in items(dig(props, "apiServerAccessProfile.authorizedIPRanges"))]
    if not ranges:
        yield (
            "the API server is public (apiServerAccessProfile.enablePrivateCluster is not true) "
            "and apiServerAccessProfile.authorizedIPRanges is empty: every address can reach it"
        )
    for cidr in ranges:
        # A range written with spaces around it is still the whole internet.
        if is_open_cidr(cidr.strip()):
            yield f"apiServerAccessProfile.authorizedIPRanges includes {cidr}"


# Without an engine, the stack's default-deny NetworkPolicy is silently ignored.
aks_network_policy = value_rule(
    "azure-aks-network-policy",
    types=[CLUSTER],
    path="networkProfile.networkPolicy",
    forbidden="none",
    ignore_case=True,
    default="none",  # absent: AKS enforces no network policy
    message="networkProfile.networkPolicy is {shown}: NetworkPolicies are not enforced",
    description="An AKS cluster enforces Kubernetes NetworkPolicies (Azure, Calico or Cilium).",
    severity="medium",
    frameworks=["CKV_AZURE_7", "Azure.AKS.NetworkPolicy"],
    remediation=f"{_OWN_CODE} `network_profile.network_policy` to `cilium` (with the Cilium "
    "dataplane), `azure` or `calico`; it can only be chosen when the cluster is created.",
)


@resource_rule(
    "azure-aks-workload-identity",
    types=[CLUSTER],
    description="An AKS cluster has the OIDC issuer and workload identity on, so pods use "
    "federated identities instead of secrets.",
    severity="high",
    frameworks=["MCSB IM-3"],
    remediation=f"{_OWN_CODE} `oidc_issuer_profile.enabled=True` and "
    "`security_profile.workload_identity.enabled=True`.",
)
def aks_workload_identity(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Both halves of workload identity: the issuer and the webhook that injects tokens."""
    issuer = dig(props, "oidcIssuerProfile.enabled")
    if not truthy(issuer):
        yield f"oidcIssuerProfile.enabled is {shown(issuer)}"
    identity = dig(props, "securityProfile.workloadIdentity.enabled")
    if not truthy(identity):
        yield f"securityProfile.workloadIdentity.enabled is {shown(identity)}"


# Secrets (the HF token among them) are encrypted with a customer-managed key. The API rejects
# enabled KMS without a keyId, so `enabled` alone tells the story.
aks_kms = value_rule(
    "azure-aks-secrets-encrypted",
    types=[CLUSTER],
    path="securityProfile.azureKeyVaultKms.enabled",
    required=True,
    message="securityProfile.azureKeyVaultKms.enabled is {shown}: "
    "etcd secrets use platform keys only",
    description="An AKS cluster envelope-encrypts Kubernetes secrets with a Key Vault key (KMS).",
    severity="high",
    frameworks=["MCSB DP-5"],
    remediation=f"{_OWN_CODE} `security_profile.azure_key_vault_kms` with `enabled=True`, a "
    "versioned `key_id` and, for a private vault, `key_vault_network_access='Private'`.",
)


# Node disks under a key the owner controls and can revoke. The set's id is unknown during a
# preview when it is created in the same update; that it is set is enough (ANY_VALUE).
aks_disk_encryption_set = value_rule(
    "azure-aks-disk-encryption-set",
    types=[CLUSTER],
    path="diskEncryptionSetID",
    required=ANY_VALUE,
    message="diskEncryptionSetID is not set: node disks use platform-managed keys",
    description="An AKS cluster encrypts node disks with a customer-managed disk encryption set.",
    severity="medium",
    frameworks=["CKV_AZURE_117", "MCSB DP-5"],
    remediation=f"{_OWN_CODE} `disk_encryption_set_id` to a DiskEncryptionSet on a Key Vault key.",
)


@resource_rule(
    "azure-aks-auto-upgrade",
    types=[CLUSTER],
    description="An AKS cluster auto-upgrades both Kubernetes and the node OS.",
    severity="medium",
    frameworks=["CKV_AZURE_171", "Azure.AKS.AutoUpgrade", "Azure.AKS.NodeAutoUpgrade"],
    remediation=f"{_OWN_CODE} `auto_upgrade_profile.upgrade_channel` (`patch`, `stable` or "
    "`rapid`) and `node_os_upgrade_channel` (`NodeImage` or `SecurityPatch`).",
)
def aks_auto_upgrade(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Security patches reach the control plane and the nodes without a human."""
    # The upgrade channel defaults to none; the node OS channel defaults to NodeImage.
    channel = dig(props, "autoUpgradeProfile.upgradeChannel")
    if str(channel or "none").lower() == "none":
        yield (
            f"autoUpgradeProfile.upgradeChannel is {shown(channel)}: "
            "Kubernetes is never upgraded automatically"
        )
    node_os = dig(props, "autoUpgradeProfile.nodeOSUpgradeChannel")
    if node_os is not None and str(node_os).lower() in ("none", "unmanaged"):
        yield (
            f"autoUpgradeProfile.nodeOSUpgradeChannel is {shown(node_os)}: "
            "node OS patches are not applied"
        )


@resource_rule(
    "azure-aks-policy-addon",
    types=[CLUSTER],
    description="An AKS cluster runs the Azure Policy add-on, so Azure Policy reaches the cluster.",
    severity="low",
    frameworks=["CKV_AZURE_116", "Azure.AKS.AzurePolicyAddOn"],
    remediation=f"{_OWN_CODE} "
    "`addon_profiles={'azurepolicy': ManagedClusterAddonProfileArgs(enabled=True)}`.",
)
def aks_policy_addon(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Gatekeeper with the organisation's Azure Policy assignments, enforced at admission."""
    addons = dig(props, "addonProfiles")
    # Add-on names are case-insensitive in the AKS API.
    names = [name for name in (addons or {}) if str(name).lower() == "azurepolicy"]
    if not names or not truthy(dig(addons[names[0]], "enabled")):
        yield "addonProfiles.azurepolicy is not enabled"


# The Free tier has no SLA and a smaller API server.
aks_paid_tier = value_rule(
    "azure-aks-paid-tier",
    types=[CLUSTER],
    path="sku.tier",
    forbidden="free",
    ignore_case=True,
    default="free",  # absent means Free
    message="sku.tier is {shown}: the control plane has no uptime SLA",
    description="An AKS cluster uses the Standard or Premium tier, whose control plane has an "
    "uptime SLA; advisory because dev stacks choose the Free tier on purpose.",
    severity="low",
    frameworks=["CKV_AZURE_170", "Azure.AKS.UptimeSLA"],
    remediation="Set `llmplane:cluster.tier: standard` (the default) for anything users depend on.",
    enforcement="advisory",
)


@resource_rule(
    "azure-aks-no-node-public-ip",
    types=[CLUSTER, AGENT_POOL],
    description="No AKS node has a public IP address of its own.",
    severity="high",
    frameworks=["CKV_AZURE_143"],
    remediation=f"{_OWN_CODE} `enable_node_public_ip=False` on every agent pool (or leave it "
    "unset); nodes reach the internet through the NAT gateway.",
)
def aks_node_public_ip(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Nodes stay off the internet; egress goes through NAT."""
    # Absent means false.
    for name, pool in _pools(type_, props):
        if truthy(dig(pool, "enableNodePublicIP")):
            yield f'agent pool "{name}" has enableNodePublicIP true'


@resource_rule(
    "azure-aks-encryption-at-host",
    types=[CLUSTER, AGENT_POOL],
    description="Every AKS agent pool encrypts temp disks, caches and disk traffic on the host.",
    severity="medium",
    frameworks=["CKV_AZURE_227"],
    remediation=f"{_OWN_CODE} `enable_encryption_at_host=True` on every agent pool, after "
    "`az feature register --namespace Microsoft.Compute --name EncryptionAtHost`.",
)
def aks_encryption_at_host(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Without it the temp disk, where an ephemeral OS disk lives, is not encrypted at rest."""
    # Absent means false.
    for name, pool in _pools(type_, props):
        value = dig(pool, "enableEncryptionAtHost")
        if not truthy(value):
            yield f'agent pool "{name}" has enableEncryptionAtHost {shown(value)}'


RULES: tuple[Rule, ...] = (
    aks_entra_rbac,
    aks_local_accounts,
    aks_api_server,
    aks_network_policy,
    aks_workload_identity,
    aks_kms,
    aks_disk_encryption_set,
    aks_auto_upgrade,
    aks_policy_addon,
    aks_paid_tier,
    aks_node_public_ip,
    aks_encryption_at_host,
)
