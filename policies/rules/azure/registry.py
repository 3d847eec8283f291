"""Azure rules for Container Registry: no admin or anonymous access, private, cleaned, scanned."""

from __future__ import annotations

from collections.abc import Iterator

from .. import Config, Props, dig, resource_rule, shown, truthy

REGISTRY = "azure-native:containerregistry:Registry"
_ACR_CODE = "llmplane's registry already does; in your own Pulumi code set"


def _premium(props: Props) -> bool:
    """Retention and quarantine policies exist only on the Premium SKU."""
    return str(dig(props, "sku.name", "")).lower() == "premium"


@resource_rule(
    "azure-acr-admin-user-disabled",
    types=[REGISTRY],
    description="A container registry has its shared admin user disabled.",
    severity="high",
    frameworks=["CKV_AZURE_137", "Azure.ACR.AdminUser"],
    remediation=f"{_ACR_CODE} `admin_user_enabled=False`; grant AcrPull/AcrPush to identities.",
)
def acr_admin_user(type_: str, props: Props, config: Config) -> Iterator[str]:
    """One shared password with push rights, outside Entra ID, is not acceptable."""
    # Absent means false.
    if truthy(dig(props, "adminUserEnabled")):
        yield "adminUserEnabled is true"


@resource_rule(
    "azure-acr-anonymous-pull-disabled",
    types=[REGISTRY],
    description="A container registry does not serve images to unauthenticated clients.",
    severity="high",
    frameworks=["CKV_AZURE_138", "Azure.ACR.AnonymousAccess"],
    remediation=f"{_ACR_CODE} `anonymous_pull_enabled=False` (or leave it unset).",
)
def acr_anonymous_pull(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Images may embed code and configuration that are not for everyone."""
    # Absent means false.
    if truthy(dig(props, "anonymousPullEnabled")):
        yield "anonymousPullEnabled is true"


@resource_rule(
    "azure-acr-public-network-disabled",
    types=[REGISTRY],
    description="A container registry is reachable only through private endpoints.",
    severity="medium",
    frameworks=["CKV_AZURE_139", "Azure.ACR.Firewall"],
    remediation=f"{_ACR_CODE} `public_network_access='Disabled'` with a private endpoint and "
    "private DNS zone for the nodes' VNet (a Premium SKU feature).",
)
def acr_public_network(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Pulls stay on the VNet, and stolen credentials are useless from outside it."""
    # Absent means Enabled: ACR is public by default.
    value = dig(props, "publicNetworkAccess")
    if str(value or "enabled").lower() != "disabled":
        yield f"publicNetworkAccess is {shown(value)}: the registry is reachable from the internet"


@resource_rule(
    "azure-acr-retention-policy",
    types=[REGISTRY],
    description="A Premium container registry deletes untagged manifests after a retention period.",
    severity="low",
    frameworks=["CKV_AZURE_167", "Azure.ACR.Retention"],
    remediation=f"{_ACR_CODE} "
    "`policies.retention_policy=RetentionPolicyArgs(status='enabled', days=7)`.",
)
def acr_retention(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Untagged layers, old and possibly vulnerable, do not pile up forever."""
    if not _premium(props):
        return
    # Absent means disabled.
    status = dig(props, "policies.retentionPolicy.status")
    if str(status or "disabled").lower() != "enabled":
        yield f"policies.retentionPolicy.status is {shown(status)}: untagged manifests stay"


@resource_rule(
    "azure-acr-quarantine-policy",
    types=[REGISTRY],
    description="A Premium container registry quarantines pushed images until a scanner releases "
    "them; advisory because without a scanning workflow it blocks every new image.",
    severity="low",
    frameworks=["CKV_AZURE_166", "Azure.ACR.Quarantine"],
    remediation="Enable `policies.quarantine_policy` only with a scanner that marks images as "
    "passed; llmplane's pull-through cache of the engine image has none, so it leaves it off.",
    enforcement="advisory",
)
def acr_quarantine(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Nothing is pullable before it has been scanned."""
    if not _premium(props):
        return
    # Absent means disabled.
    status = dig(props, "policies.quarantinePolicy.status")
    if str(status or "disabled").lower() != "enabled":
        yield f"policies.quarantinePolicy.status is {shown(status)}: images are never quarantined"
