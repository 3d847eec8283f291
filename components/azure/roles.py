"""Azure built-in roles by id, and role assignments scoped to exactly one resource."""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

__all__ = [
    "ACR_PULL",
    "KEY_VAULT_CONTRIBUTOR",
    "KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER",
    "KEY_VAULT_CRYPTO_USER",
    "KEY_VAULT_SECRETS_USER",
    "MANAGED_IDENTITY_OPERATOR",
    "NETWORK_CONTRIBUTOR",
    "ROLE_NAMES",
    "assign",
    "deployer_subscription",
    "key_user",
]

# Built-in role definition ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
KEY_VAULT_CONTRIBUTOR = "f25e0fa2-a7c8-4377-a976-54943a77a395"
KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
MANAGED_IDENTITY_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"

ROLE_NAMES = {
    ACR_PULL: "AcrPull",
    KEY_VAULT_CONTRIBUTOR: "Key Vault Contributor",
    KEY_VAULT_CRYPTO_USER: "Key Vault Crypto User",
    KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER: "Key Vault Crypto Service Encryption User",
    KEY_VAULT_SECRETS_USER: "Key Vault Secrets User",
    MANAGED_IDENTITY_OPERATOR: "Managed Identity Operator",
    NETWORK_CONTRIBUTOR: "Network Contributor",
}


def assign(
    name: str,
    role: str,
    principal_id: pulumi.Input[str],
    scope: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    parent: pulumi.Resource,
) -> azure.authorization.RoleAssignment:
    """Grant one built-in role to one service principal, on one resource and nothing above it."""
    definition = pulumi.Output.from_input(subscription_id).apply(
        lambda sub: f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}"
    )
    return azure.authorization.RoleAssignment(
        name,
        principal_id=principal_id,
        principal_type="ServicePrincipal",
        role_definition_id=definition,
        scope=scope,
        description=f"llmplane: {ROLE_NAMES[role]}",
        opts=pulumi.ResourceOptions(parent=parent),
    )


def deployer_subscription(
    given: pulumi.Input[str] | None, parent: pulumi.Resource
) -> pulumi.Input[str]:
    """The subscription given, or else the one `pulumi up` runs in (from the client config)."""
    if given is not None:
        return given
    client = azure.authorization.get_client_config_output(
        opts=pulumi.InvokeOutputOptions(parent=parent)
    )
    return client.subscription_id


def key_user(
    name: str,
    group: pulumi.Input[str],
    tags: dict[str, str],
    vault_id: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    parent: pulumi.Resource,
) -> tuple[azure.managedidentity.UserAssignedIdentity, azure.authorization.RoleAssignment]:
    """An identity `name` that may wrap and unwrap with the vault's keys, and its grant.

    What a service encrypting with a customer-managed key (ACR, a storage account) runs as;
    the service must wait for the grant (`<name>-key`), or its first use of the key fails.
    """
    identity = azure.managedidentity.UserAssignedIdentity(
        name, resource_group_name=group, tags=tags, opts=pulumi.ResourceOptions(parent=parent)
    )
    grant = assign(
        f"{name}-key",
        KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
        identity.principal_id,
        vault_id,
        subscription_id,
        parent,
    )
    return identity, grant
