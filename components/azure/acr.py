"""ACR Premium: private, CMK-encrypted, behind a private endpoint, caching the engine image."""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from ..cloud import RegistryRef, image_path, upstream_registry
from .network import VnetRef
from .roles import ACR_PULL, KEY_VAULT_SECRETS_USER, assign
from .vault import VaultRef, vault_secret

__all__ = ["PRIVATE_ZONE", "RETENTION_DAYS", "build_acr"]

PRIVATE_ZONE = "privatelink.azurecr.io"
# Untagged manifests are deleted after this many days (a Premium feature).
RETENTION_DAYS = 7


def build_acr(
    name: str,
    registry_name: str,
    group: pulumi.Output[str],
    vault: VaultRef,
    vnet: VnetRef,
    identity: azure.managedidentity.UserAssignedIdentity,
    kubelet_principal: pulumi.Output[str],
    subscription_id: pulumi.Output[str],
    engine_image: str,
    credentials: tuple[str, pulumi.Output[str]] | None,
    needs: list[pulumi.Resource],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> RegistryRef:
    """The registry, its private endpoint, the kubelet's AcrPull, and the engine's cache rule."""
    opts = pulumi.ResourceOptions(parent=parent)
    registry = azure.containerregistry.Registry(
        f"{name}-acr",
        registry_name=registry_name,
        resource_group_name=group,
        sku=azure.containerregistry.SkuArgs(name="Premium"),
        admin_user_enabled=False,
        anonymous_pull_enabled=False,
        public_network_access="Disabled",
        network_rule_bypass_options="AzureServices",
        # The registry API keys user-assigned identities by resource id, known only once created.
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
                identity=identity.client_id, key_identifier=vault.key_uri
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
        opts=pulumi.ResourceOptions(parent=parent, depends_on=needs),
    )
    _private_endpoint(name, group, registry, vnet, tags, parent)
    assign(
        f"{name}-kubelet-acrpull", ACR_PULL, kubelet_principal, registry.id, subscription_id, parent
    )

    upstream = upstream_registry(engine_image)
    repository = image_path(engine_image).rsplit(":", 1)[0]
    credential_set_id: pulumi.Output[str] | None = None
    if credentials is not None:
        username, token = credentials
        user_secret = vault_secret(
            f"{name}-mirror-user",
            vault,
            group,
            "mirror-username",
            pulumi.Output.from_input(username),
            parent,
        )
        token_secret = vault_secret(
            f"{name}-mirror-token", vault, group, "mirror-token", token, parent
        )
        credential_set = azure.containerregistry.CredentialSet(
            f"{name}-upstream",
            registry_name=registry.name,
            resource_group_name=group,
            credential_set_name="upstream",
            login_server=upstream,
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
            opts=opts,
        )
        principal = credential_set.identity.principal_id
        assign(
            f"{name}-upstream-secrets",
            KEY_VAULT_SECRETS_USER,
            principal,
            vault.vault.id,
            subscription_id,
            parent,
        )
        credential_set_id = credential_set.id
    # ghcr.io serves public images without credentials, so the cache works either way.
    azure.containerregistry.CacheRule(
        f"{name}-cache",
        registry_name=registry.name,
        resource_group_name=group,
        cache_rule_name="engine",
        source_repository=f"{upstream}/{repository}",
        target_repository=repository,
        credential_set_resource_id=credential_set_id,
        opts=opts,
    )
    return RegistryRef(prefix=registry.login_server)


def _secret_uri(secret: azure.keyvault.Secret) -> pulumi.Output[str]:
    return secret.properties.apply(lambda properties: properties.secret_uri)


def _private_endpoint(
    name: str,
    group: pulumi.Output[str],
    registry: azure.containerregistry.Registry,
    vnet: VnetRef,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> None:
    """Nodes reach the registry on a private address, resolved through a private DNS zone."""
    opts = pulumi.ResourceOptions(parent=parent)
    zone = azure.privatedns.PrivateZone(
        f"{name}-acr-zone",
        resource_group_name=group,
        private_zone_name=PRIVATE_ZONE,
        location="global",
        tags=tags,
        opts=opts,
    )
    azure.privatedns.VirtualNetworkLink(
        f"{name}-acr-zone",
        resource_group_name=group,
        private_zone_name=zone.name,
        location="global",
        registration_enabled=False,
        virtual_network=azure.privatedns.SubResourceArgs(id=vnet.vnet_id),
        tags=tags,
        opts=opts,
    )
    endpoint = azure.network.PrivateEndpoint(
        f"{name}-acr-endpoint",
        resource_group_name=group,
        subnet=azure.network.SubnetArgs(id=vnet.endpoint_subnet_id),
        private_link_service_connections=[
            azure.network.PrivateLinkServiceConnectionArgs(
                name="registry",
                private_link_service_id=registry.id,
                group_ids=["registry"],
            )
        ],
        tags=tags,
        opts=opts,
    )
    azure.network.PrivateDnsZoneGroup(
        f"{name}-acr-endpoint",
        resource_group_name=group,
        private_endpoint_name=endpoint.name,
        private_dns_zone_group_name="registry",
        private_dns_zone_configs=[
            azure.network.PrivateDnsZoneConfigArgs(name="registry", private_dns_zone_id=zone.id)
        ],
        opts=opts,
    )
