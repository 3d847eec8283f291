"""Azure rules for Container Registry: no admin or anonymous access, private, cleaned, scanned."""

from __future__ import annotations

from .. import Props, Rule, dig, value_rule

REGISTRY = "azure-native:containerregistry:Registry"
_ACR_CODE = "llmplane's registry already does; in your own Pulumi code set"


def _premium(props: Props) -> bool:
    """Retention and quarantine policies exist only on the Premium SKU."""
    return str(dig(props, "sku.name", "")).lower() == "premium"


# One shared password with push rights, outside Entra ID, is not acceptable.
acr_admin_user = value_rule(
    "azure-acr-admin-user-disabled",
    types=[REGISTRY],
    path="adminUserEnabled",
    forbidden=True,  # absent means false
    message="adminUserEnabled is true",
    description="A container registry has its shared admin user disabled.",
    severity="high",
    frameworks=["CKV_AZURE_137", "Azure.ACR.AdminUser"],
    remediation=f"{_ACR_CODE} `admin_user_enabled=False`; grant AcrPull/AcrPush to identities.",
)


# Images may embed code and configuration that are not for everyone.
acr_anonymous_pull = value_rule(
    "azure-acr-anonymous-pull-disabled",
    types=[REGISTRY],
    path="anonymousPullEnabled",
    forbidden=True,  # absent means false
    message="anonymousPullEnabled is true",
    description="A container registry does not serve images to unauthenticated clients.",
    severity="high",
    frameworks=["CKV_AZURE_138", "Azure.ACR.AnonymousAccess"],
    remediation=f"{_ACR_CODE} `anonymous_pull_enabled=False` (or leave it unset).",
)


# Pulls stay on the VNet, and stolen credentials are useless from outside it.
acr_public_network = value_rule(
    "azure-acr-public-network-disabled",
    types=[REGISTRY],
    path="publicNetworkAccess",
    required="disabled",
    ignore_case=True,
    default="enabled",  # absent: ACR is public by default
    message="publicNetworkAccess is {shown}: the registry is reachable from the internet",
    description="A container registry is reachable only through private endpoints.",
    severity="medium",
    frameworks=["CKV_AZURE_139", "Azure.ACR.Firewall"],
    remediation=f"{_ACR_CODE} `public_network_access='Disabled'` with a private endpoint and "
    "private DNS zone for the nodes' VNet (a Premium SKU feature).",
)


# Untagged layers, old and possibly vulnerable, do not pile up forever.
acr_retention = value_rule(
    "azure-acr-retention-policy",
    types=[REGISTRY],
    applies=_premium,
    path="policies.retentionPolicy.status",
    required="enabled",
    ignore_case=True,
    default="disabled",  # absent means disabled
    message="policies.retentionPolicy.status is {shown}: untagged manifests stay",
    description="A Premium container registry deletes untagged manifests after a retention period.",
    severity="low",
    frameworks=["CKV_AZURE_167", "Azure.ACR.Retention"],
    remediation=f"{_ACR_CODE} "
    "`policies.retention_policy=RetentionPolicyArgs(status='enabled', days=7)`.",
)


# Nothing is pullable before it has been scanned.
acr_quarantine = value_rule(
    "azure-acr-quarantine-policy",
    types=[REGISTRY],
    applies=_premium,
    path="policies.quarantinePolicy.status",
    required="enabled",
    ignore_case=True,
    default="disabled",  # absent means disabled
    message="policies.quarantinePolicy.status is {shown}: images are never quarantined",
    description="A Premium container registry quarantines pushed images until a scanner releases "
    "them; advisory because without a scanning workflow it blocks every new image.",
    severity="low",
    frameworks=["CKV_AZURE_166", "Azure.ACR.Quarantine"],
    remediation="Enable `policies.quarantine_policy` only with a scanner that marks images as "
    "passed; llmplane's pull-through cache of the engine image has none, so it leaves it off.",
    enforcement="advisory",
)


RULES: tuple[Rule, ...] = (
    acr_admin_user,
    acr_anonymous_pull,
    acr_public_network,
    acr_retention,
    acr_quarantine,
)
