"""Key Vault and the stack's customer-managed key: RBAC, purge protection, firewall, rotation."""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from ..cloud import KeyRef
from .args import KeyVaultKeyArgs

__all__ = ["EXPIRE_AFTER", "ROTATE_AFTER", "KeyVaultKey", "vault_secret"]

# Rotate every 90 days; expire after a year so a forgotten key cannot live forever.
ROTATE_AFTER = "P90D"
EXPIRE_AFTER = "P1Y"


class KeyVaultKey(pulumi.ComponentResource):
    """A vault only Azure services and role holders reach, and one rotating RSA key in it."""

    vault_id: pulumi.Output[str]
    """The vault's resource id: the scope of every role on the key and the secrets."""
    vault_name: pulumi.Output[str]
    """The vault's name."""
    key_name: pulumi.Output[str]
    """The customer-managed key's name."""
    key_uri: pulumi.Output[str]
    """The key's versionless URI, which disks and the registry follow across rotations."""
    key_uri_with_version: pulumi.Output[str]
    """The key's current version's URI, which AKS KMS requires."""
    key: KeyRef
    """The key as the cloud-neutral handle: its versionless URI."""

    def __init__(
        self, name: str, args: KeyVaultKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """The vault `args.vault_name` and its key `cmk`, as `<name>-vault` and `<name>-key`."""
        super().__init__("llmplane:azure:EncryptionKey", name, None, opts)
        tenant_id = args.tenant_id
        if tenant_id is None:
            client = azure.authorization.get_client_config_output(
                opts=pulumi.InvokeOutputOptions(parent=self)
            )
            tenant_id = client.tenant_id
        group, tags = args.resource_group_name, dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        vault = azure.keyvault.Vault(
            f"{name}-vault",
            vault_name=args.vault_name,
            resource_group_name=group,
            properties=azure.keyvault.VaultPropertiesArgs(
                tenant_id=tenant_id,
                sku=azure.keyvault.SkuArgs(family="A", name=azure.keyvault.SkuName.PREMIUM),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=90,
                enable_purge_protection=True,
                public_network_access="Disabled",
                network_acls=azure.keyvault.NetworkRuleSetArgs(
                    default_action="Deny", bypass="AzureServices"
                ),
            ),
            tags=tags,
            opts=child,
        )
        key = azure.keyvault.Key(
            f"{name}-key",
            resource_group_name=group,
            vault_name=vault.name,
            key_name="cmk",
            properties=azure.keyvault.KeyPropertiesArgs(
                kty="RSA-HSM",
                key_size=3072,
                key_ops=["encrypt", "decrypt", "wrapKey", "unwrapKey"],
                rotation_policy=azure.keyvault.RotationPolicyArgs(
                    attributes=azure.keyvault.KeyRotationPolicyAttributesArgs(
                        expiry_time=EXPIRE_AFTER
                    ),
                    lifetime_actions=[
                        azure.keyvault.LifetimeActionArgs(
                            action=azure.keyvault.ActionArgs(
                                type=azure.keyvault.KeyRotationPolicyActionType.ROTATE
                            ),
                            trigger=azure.keyvault.TriggerArgs(time_after_create=ROTATE_AFTER),
                        ),
                        azure.keyvault.LifetimeActionArgs(
                            action=azure.keyvault.ActionArgs(
                                type=azure.keyvault.KeyRotationPolicyActionType.NOTIFY
                            ),
                            trigger=azure.keyvault.TriggerArgs(time_before_expiry="P30D"),
                        ),
                    ],
                ),
            ),
            tags=tags,
            opts=child,
        )
        self.vault_id = vault.id
        self.vault_name = vault.name
        self.key_name = key.name
        self.key_uri = key.key_uri
        self.key_uri_with_version = key.key_uri_with_version
        self.key = KeyRef(id=self.key_uri)
        self.register_outputs(
            {"vaultId": self.vault_id, "vaultName": self.vault_name, "keyUri": self.key_uri}
        )


def vault_secret(
    name: str,
    vault_name: pulumi.Input[str],
    group: pulumi.Input[str],
    secret_name: str,
    value: pulumi.Input[str],
    parent: pulumi.Resource,
) -> azure.keyvault.Secret:
    """A Key Vault secret from a Pulumi secret; the value never appears in plain text."""
    return azure.keyvault.Secret(
        name,
        resource_group_name=group,
        vault_name=vault_name,
        secret_name=secret_name,
        properties=azure.keyvault.SecretPropertiesArgs(value=pulumi.Output.secret(value)),
        opts=pulumi.ResourceOptions(parent=parent),
    )
