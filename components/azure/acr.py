"""ACR Premium: private, CMK-encrypted, behind a private endpoint, caching the engine image."""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from ..cloud import RegistryRef, image_path, upstream_registry
from .args import AcrMirrorArgs
from .private_link import private_endpoint, private_zone
from .roles import (
    ACR_PULL,
    KEY_VAULT_SECRETS_USER,
    assign,
    deployer_subscription,
    key_user,
)
from .vault import vault_secret

__all__ = ["PRIVATE_ZONE", "RETENTION_DAYS", "AcrMirror"]

PRIVATE_ZONE = "privatelink.azurecr.io"
# Untagged manifests are deleted after this many days (a Premium feature).
RETENTION_DAYS = 7


class AcrMirror(pulumi.ComponentResource):
    """ACR Premium caching the engine image: CMK-encrypted, reached only by a private endpoint."""

    registry_id: pulumi.Output[str]
    """The registry's resource id: the scope to grant AcrPull on."""
    prefix: pulumi.Output[str]
    """The registry's login server, which replaces the engine image's registry host."""
    registry: RegistryRef | None
    """The mirror as the cloud-neutral handle."""

    def __init__(
        self, name: str, args: AcrMirrorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Its key identity and grant, the registry, its endpoint, AcrPull grants, cache rule."""
        super().__init__("llmplane:azure:RegistryMirror", name, None, opts)
        group, tags = args.resource_group_name, dict(args.tags)
        subscription = deployer_subscription(args.subscription_id, self)
        child = pulumi.ResourceOptions(parent=self)
        identity, grant = key_user(
            f"{name}-registry", group, tags, args.vault_id, subscription, self
        )
        registry = azure.containerregistry.Registry(
            f"{name}-acr",
            registry_name=args.registry_name,
            resource_group_name=group,
            sku=azure.containerregistry.SkuArgs(name="Premium"),
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access="Disabled",
            network_rule_bypass_options="AzureServices",
            # The registry API keys user-assigned identities by resource id, known once created.
            identity=identity.id.apply(
                lambda identity_id: azure.containerregistry.IdentityPropertiesArgs(
                    type=azure.containerregistry.ResourceIdentityType.USER_ASSIGNED,
                    user_assigned_identities={
                        identity_id: azure.containerregistry.UserIdentityPropertiesArgs()
                    },
                )
            ),
            encryption=azure.containerregistry.EncryptionPropertyArgs(
                status="enabled",
                key_vault_properties=azure.containerregistry.KeyVaultPropertiesArgs(
                    identity=identity.client_id, key_identifier=args.key_uri
                ),
            ),
            # Docker Content Trust cannot be enabled on new registries since 2026-05-31 (retired
            # by Microsoft in favour of Notary Project signatures), so the trust policy stays off.
            policies=azure.containerregistry.PoliciesArgs(
                retention_policy=azure.containerregistry.RetentionPolicyArgs(
                    days=RETENTION_DAYS, status="enabled"
                ),
                trust_policy=azure.containerregistry.TrustPolicyArgs(status="disabled"),
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[grant]),
        )
        vnet_id = args.vnet_id
        if vnet_id is None:
            # A subnet's resource id is its VNet's id followed by /subnets/<name>.
            vnet_id = pulumi.Output.from_input(args.endpoint_subnet_id).apply(
                lambda subnet: subnet.rsplit("/subnets/", 1)[0]
            )
        _private_endpoint(name, group, registry, vnet_id, args.endpoint_subnet_id, tags, self)
        for label, principal in args.pull_principal_ids.items():
            assign(f"{name}-{label}-acrpull", ACR_PULL, principal, registry.id, subscription, self)

        upstream = upstream_registry(args.engine_image)
        repository = image_path(args.engine_image).rsplit(":", 1)[0]
        credential_set_id: pulumi.Output[str] | None = None
        if args.credentials is not None:
            assert args.vault_name is not None, "the args refuse credentials without a vault"
            credential_set_id = _credential_set(name, args, registry, subscription, self)
        # ghcr.io serves public images without credentials, so the cache works either way.
        azure.containerregistry.CacheRule(
            f"{name}-cache",
            registry_name=registry.name,
            resource_group_name=group,
            cache_rule_name="engine",
            source_repository=f"{upstream}/{repository}",
            target_repository=repository,
            credential_set_resource_id=credential_set_id,
            opts=child,
        )
        self.registry_id = registry.id
        self.prefix = registry.login_server
        self.registry = RegistryRef(prefix=self.prefix)
        self.register_outputs({"registryId": self.registry_id, "prefix": self.prefix})


def _credential_set(
    name: str,
    args: AcrMirrorArgs,
    registry: azure.containerregistry.Registry,
    subscription_id: pulumi.Input[str],
    parent: pulumi.Resource,
) -> pulumi.Output[str]:
    """The upstream credentials as vault secrets, and a credential set that reads them."""
    assert args.credentials is not None and args.vault_name is not None
    username, token = args.credentials
    group = args.resource_group_name
    vault_group = args.vault_resource_group_name or group
    user_secret = vault_secret(
        f"{name}-mirror-user", args.vault_name, vault_group, "mirror-username", username, parent
    )
    token_secret = vault_secret(
        f"{name}-mirror-token", args.vault_name, vault_group, "mirror-token", token, parent
    )
    credential_set = azure.containerregistry.CredentialSet(
        f"{name}-upstream",
        registry_name=registry.name,
        resource_group_name=group,
        credential_set_name="upstream",
        login_server=upstream_registry(args.engine_image),
        identity=azure.containerregistry.IdentityPropertiesArgs(
            type=azure.containerregistry.ResourceIdentityType.SYSTEM_ASSIGNED
        ),
        auth_credentials=[
            azure.containerregistry.AuthCredentialArgs(
                name="Credential1",
                username_secret_identifier=_secret_uri(user_secret),
                password_secret_identifier=_secret_uri(token_secret),
            )
        ],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    assign(
        f"{name}-upstream-secrets",
        KEY_VAULT_SECRETS_USER,
        credential_set.identity.principal_id,
        args.vault_id,
        subscription_id,
        parent,
    )
    return credential_set.id


def _secret_uri(secret: azure.keyvault.Secret) -> pulumi.Output[str]:
    return secret.properties.apply(lambda properties: properties.secret_uri)


def _private_endpoint(
    name: str,
    group: pulumi.Input[str],
    registry: azure.containerregistry.Registry,
    vnet_id: pulumi.Input[str],
    subnet_id: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> None:
    """Nodes reach the registry on a private address, resolved through a private DNS zone."""
    opts = pulumi.ResourceOptions(parent=parent)
    zone = private_zone(f"{name}-acr-zone", group, PRIVATE_ZONE, vnet_id, tags, opts)
    private_endpoint(
        f"{name}-acr-endpoint", group, subnet_id, registry.id, "registry", zone.id, tags, opts
    )
