"""Private Link for an Azure service: a private DNS zone on the VNet, and a private endpoint.

ACR and the weights storage account are both reached this way: on a private address in the
endpoint subnet, resolved through a `privatelink.*` zone linked to the cluster's VNet.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

__all__ = ["private_endpoint", "private_zone"]


def private_zone(
    name: str,
    group: pulumi.Input[str],
    zone_name: str,
    vnet_id: pulumi.Input[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> azure.privatedns.PrivateZone:
    """The zone `zone_name` (e.g. privatelink.azurecr.io), linked to the VNet, named `name`."""
    zone = azure.privatedns.PrivateZone(
        name,
        resource_group_name=group,
        private_zone_name=zone_name,
        location="global",
        tags=tags,
        opts=opts,
    )
    azure.privatedns.VirtualNetworkLink(
        name,
        resource_group_name=group,
        private_zone_name=zone.name,
        location="global",
        # Records come from the endpoint's zone group, never from VMs registering themselves.
        registration_enabled=False,
        virtual_network=azure.privatedns.SubResourceArgs(id=vnet_id),
        tags=tags,
        opts=opts,
    )
    return zone


def private_endpoint(
    name: str,
    group: pulumi.Input[str],
    subnet_id: pulumi.Input[str],
    service_id: pulumi.Input[str],
    sub_resource: str,
    zone_id: pulumi.Input[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> azure.network.PrivateEndpoint:
    """An endpoint `name` for `service_id`'s `sub_resource` (registry, blob) and its DNS record."""
    endpoint = azure.network.PrivateEndpoint(
        name,
        resource_group_name=group,
        subnet=azure.network.SubnetArgs(id=subnet_id),
        private_link_service_connections=[
            azure.network.PrivateLinkServiceConnectionArgs(
                name=sub_resource, private_link_service_id=service_id, group_ids=[sub_resource]
            )
        ],
        tags=tags,
        opts=opts,
    )
    azure.network.PrivateDnsZoneGroup(
        name,
        resource_group_name=group,
        private_endpoint_name=endpoint.name,
        private_dns_zone_group_name=sub_resource,
        private_dns_zone_configs=[
            azure.network.PrivateDnsZoneConfigArgs(name=sub_resource, private_dns_zone_id=zone_id)
        ],
        opts=opts,
    )
    return endpoint
