"""A private Blob container of model weights that vLLM and SGLang stream from `az://`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure

from .private_link import private_endpoint, private_zone
from .roles import deployer_subscription, key_user

__all__ = [
    "BLOB_ZONE",
    "STORAGE_BLOB_DATA_READER",
    "BlobWeightsContainer",
    "BlobWeightsContainerArgs",
    "key_vault_parts",
]

# Built-in role: read and list blobs, no writes, no keys
# (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
BLOB_ZONE = "privatelink.blob.core.windows.net"
RETENTION_DAYS = 7
_ACCOUNT = re.compile(r"[a-z0-9]{3,24}")
_CONTAINER = re.compile(r"[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]")
_KEY_URI = re.compile(r"(https://[^/]+)/keys/([^/]+)(?:/[^/]*)?/?")


@dataclass(frozen=True, kw_only=True)
class BlobWeightsContainerArgs:
    """The account and container to create, the key that encrypts them, who may read them."""

    account_name: str
    """Storage account name, unique across Azure: 3 to 24 lowercase letters and digits."""
    resource_group_name: pulumi.Input[str]
    """The resource group the account and its private endpoint go in."""
    vault_id: pulumi.Input[str]
    """The Key Vault's resource id (KeyVaultKey.vault_id): the scope of the key-use grant."""
    key_uri: pulumi.Input[str]
    """The customer-managed key's versionless URI (KeyVaultKey.key_uri), followed on rotation."""
    endpoint_subnet_id: pulumi.Input[str]
    """The subnet of the account's private endpoint (the nodes must reach it)."""
    reader_principal_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Principals (AksWorkloadIdentity.principal_id) by label: Blob Data Reader on the container."""
    container_name: str = "weights"
    """The container's name (the first part of `az://<container>/...`)."""
    sku: str = "Standard_LRS"
    """The account's redundancy: Standard_LRS, or Standard_ZRS where the region has zones."""
    vnet_id: pulumi.Input[str] | None = None
    """The VNet the private DNS zone is linked to; None: the endpoint subnet's VNet."""
    private_dns_zone_id: pulumi.Input[str] | None = None
    """An existing privatelink.blob.core.windows.net zone to register in; None creates one."""
    subscription_id: pulumi.Input[str] | None = None
    """The subscription of the role definitions; None: the one `pulumi up` runs in."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the account, its identity and its endpoint."""

    def __post_init__(self) -> None:
        """Refuse names Azure rejects, naming the field."""
        if not _ACCOUNT.fullmatch(self.account_name):
            raise ValueError(
                f"account_name {self.account_name!r} must be 3 to 24 lowercase letters and digits"
            )
        if not _CONTAINER.fullmatch(self.container_name):
            raise ValueError(
                f"container_name {self.container_name!r} must be 3 to 63 lowercase letters, "
                "digits and single '-', starting and ending with a letter or digit"
            )


def key_vault_parts(key_uri: str) -> tuple[str, str]:
    """(vault URI, key name) of a Key Vault key URI, as the storage account's CMK names them."""
    found = _KEY_URI.fullmatch(key_uri)
    if found is None:
        raise ValueError(f"key_uri {key_uri!r} is not https://<vault>/keys/<name>[/<version>]")
    return found.group(1), found.group(2)


class BlobWeightsContainer(pulumi.ComponentResource):
    """A storage account with CMK, no public or key access, TLS 1.2, a private endpoint, readers."""

    account_name: pulumi.Output[str]
    """The storage account's name: the streamer's AZURE_STORAGE_ACCOUNT_NAME."""
    container_id: pulumi.Output[str]
    """The container's resource id: the scope of the readers' role."""
    uri: pulumi.Output[str]
    """`az://<container>`: what the engine streams from, with the model's folder appended."""

    def __init__(
        self, name: str, args: BlobWeightsContainerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Key identity and grant, `<name>-weights` account, versioning, container, endpoint."""
        super().__init__("llmplane:azure:WeightsContainer", name, None, opts)
        group, tags = args.resource_group_name, dict(args.tags)
        subscription = deployer_subscription(args.subscription_id, self)
        child = pulumi.ResourceOptions(parent=self)
        identity, grant = key_user(
            f"{name}-weights", group, tags, args.vault_id, subscription, self
        )
        vault_uri = pulumi.Output.from_input(args.key_uri).apply(lambda u: key_vault_parts(u)[0])
        key_name = pulumi.Output.from_input(args.key_uri).apply(lambda u: key_vault_parts(u)[1])
        account = azure.storage.StorageAccount(
            f"{name}-weights",
            account_name=args.account_name,
            resource_group_name=group,
            kind="StorageV2",
            sku=azure.storage.SkuArgs(name=args.sku),
            identity=azure.storage.IdentityArgs(
                type="UserAssigned", user_assigned_identities=[identity.id]
            ),
            encryption=azure.storage.EncryptionArgs(
                key_source="Microsoft.Keyvault",
                # No version: the account follows the key's rotations.
                key_vault_properties=azure.storage.KeyVaultPropertiesArgs(
                    key_vault_uri=vault_uri, key_name=key_name
                ),
                encryption_identity=azure.storage.EncryptionIdentityArgs(
                    encryption_user_assigned_identity=identity.id
                ),
                # A second, platform-keyed layer under the CMK; it can only be set at creation.
                require_infrastructure_encryption=True,
                services=azure.storage.EncryptionServicesArgs(
                    blob=azure.storage.EncryptionServiceArgs(enabled=True, key_type="Account")
                ),
            ),
            allow_blob_public_access=False,
            # Entra ID only: no account keys or SAS tokens to leak; the streamer's
            # DefaultAzureCredential picks up the pod's workload identity.
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            allow_cross_tenant_replication=False,
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            public_network_access="Disabled",
            network_rule_set=azure.storage.NetworkRuleSetArgs(
                default_action=azure.storage.DefaultAction.DENY, bypass="AzureServices"
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[grant]),
        )
        enabled = azure.storage.DeleteRetentionPolicyArgs(enabled=True, days=RETENTION_DAYS)
        azure.storage.BlobServiceProperties(
            f"{name}-weights",
            account_name=account.name,
            resource_group_name=group,
            blob_services_name="default",
            is_versioning_enabled=True,
            delete_retention_policy=enabled,
            container_delete_retention_policy=enabled,
            opts=child,
        )
        container = azure.storage.BlobContainer(
            f"{name}-weights",
            account_name=account.name,
            resource_group_name=group,
            container_name=args.container_name,
            public_access=azure.storage.PublicAccess.NONE,
            opts=child,
        )
        _private_endpoint(name, args, account, tags, self)
        for label, principal in args.reader_principal_ids.items():
            azure.authorization.RoleAssignment(
                f"{name}-weights-{label}",
                principal_id=principal,
                principal_type="ServicePrincipal",
                role_definition_id=pulumi.Output.concat(
                    "/subscriptions/",
                    subscription,
                    "/providers/Microsoft.Authorization/roleDefinitions/",
                    STORAGE_BLOB_DATA_READER,
                ),
                scope=container.id,
                description="llmplane: Storage Blob Data Reader",
                opts=child,
            )
        # The names as given, once the resources exist (both are set, never auto-named).
        self.account_name = account.id.apply(lambda _: args.account_name)
        self.container_id = container.id
        self.uri = container.id.apply(lambda _: f"az://{args.container_name}")
        self.register_outputs(
            {"accountName": self.account_name, "containerId": self.container_id, "uri": self.uri}
        )


def _private_endpoint(
    name: str,
    args: BlobWeightsContainerArgs,
    account: azure.storage.StorageAccount,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> None:
    """Nodes reach the blob endpoint on a private address, resolved through a private zone."""
    opts = pulumi.ResourceOptions(parent=parent)
    group = args.resource_group_name
    zone_id = args.private_dns_zone_id
    if zone_id is None:
        vnet_id = args.vnet_id
        if vnet_id is None:
            # A subnet's resource id is its VNet's id followed by /subnets/<name>.
            vnet_id = pulumi.Output.from_input(args.endpoint_subnet_id).apply(
                lambda subnet: subnet.rsplit("/subnets/", 1)[0]
            )
        zone = private_zone(f"{name}-blob-zone", group, BLOB_ZONE, vnet_id, tags, opts)
        zone_id = zone.id
    private_endpoint(
        f"{name}-blob-endpoint", group, args.endpoint_subnet_id, account.id, "blob", zone_id, tags,
        opts,
    )  # fmt: skip
