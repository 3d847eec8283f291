"""The Azure network: a VNet with node, API-server and endpoint subnets, and a NAT gateway."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_azure_native as azure

if TYPE_CHECKING:
    from .args import AzureNetworkArgs

__all__ = ["VnetRef", "build_vnet", "subnet_plan"]


@dataclass(frozen=True)
class VnetRef:
    """What the cluster, the vault and the registry need from the network."""

    vnet_id: pulumi.Output[str]
    """The VNet's resource id: the scope of the control plane's network role."""
    node_subnet_id: pulumi.Output[str]
    """The subnet the system and GPU nodes join."""
    api_subnet_id: pulumi.Output[str]
    """The subnet delegated to AKS for API server VNet integration."""
    endpoint_subnet_id: pulumi.Output[str]
    """The subnet of the vault's and the registry's private endpoints."""


def subnet_plan(cidr: str) -> tuple[str, str, str]:
    """Split the VNet range into the node, API-server and private-endpoint subnets.

    Nodes get half the range (pods use the overlay network, not VNet addresses); the API
    server's delegated subnet needs a /28, and the private endpoints a few addresses.
    """
    network = ipaddress.ip_network(cidr)
    nodes, rest = network.subnets(prefixlen_diff=1)
    small = list(rest.subnets(new_prefix=28))
    return str(nodes), str(small[0]), str(small[1])


def build_vnet(
    name: str,
    group: pulumi.Output[str],
    network: AzureNetworkArgs,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> VnetRef:
    """VNet, NAT gateway for node egress, and the three subnets; or the existing subnets."""
    existing = network.existing
    if existing is not None:
        return VnetRef(
            # A subnet's resource id is its VNet's id followed by /subnets/<name>.
            vnet_id=pulumi.Output.from_input(existing.nodes.rsplit("/subnets/", 1)[0]),
            node_subnet_id=pulumi.Output.from_input(existing.nodes),
            api_subnet_id=pulumi.Output.from_input(existing.api_server),
            endpoint_subnet_id=pulumi.Output.from_input(existing.endpoints),
        )
    opts = pulumi.ResourceOptions(parent=parent)
    nodes_cidr, api_cidr, endpoints_cidr = subnet_plan(network.cidr)
    address = azure.network.PublicIPAddress(
        f"{name}-nat-ip",
        resource_group_name=group,
        public_ip_allocation_method="Static",
        sku=azure.network.PublicIPAddressSkuArgs(name="Standard"),
        tags=tags,
        opts=opts,
    )
    nat = azure.network.NatGateway(
        f"{name}-nat",
        resource_group_name=group,
        sku=azure.network.NatGatewaySkuArgs(name="Standard"),
        public_ip_addresses=[azure.network.SubResourceArgs(id=address.id)],
        idle_timeout_in_minutes=4,
        tags=tags,
        opts=opts,
    )
    vnet = azure.network.VirtualNetwork(
        f"{name}-vnet",
        resource_group_name=group,
        address_space=azure.network.AddressSpaceArgs(address_prefixes=[network.cidr]),
        tags=tags,
        # Subnets are their own resources below; inline ones would fight them on every update.
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["subnets"]),
    )

    def subnet(
        role: str,
        cidr: str,
        after: list[pulumi.Resource],
        nat_gateway: azure.network.SubResourceArgs | None = None,
        delegations: list[azure.network.DelegationArgs] | None = None,
    ) -> azure.network.Subnet:
        return azure.network.Subnet(
            f"{name}-{role}",
            resource_group_name=group,
            virtual_network_name=vnet.name,
            subnet_name=role,
            address_prefix=cidr,
            nat_gateway=nat_gateway,
            delegations=delegations,
            default_outbound_access=False,
            # Azure serialises changes to one VNet's subnets; chaining them avoids conflicts.
            opts=pulumi.ResourceOptions(parent=parent, depends_on=after),
        )

    node_subnet = subnet(
        "nodes", nodes_cidr, [], nat_gateway=azure.network.SubResourceArgs(id=nat.id)
    )
    # API server VNet integration: required for a Key Vault reachable only privately (KMS).
    api_subnet = subnet(
        "apiserver",
        api_cidr,
        [node_subnet],
        delegations=[
            azure.network.DelegationArgs(
                name="aks", service_name="Microsoft.ContainerService/managedClusters"
            )
        ],
    )
    endpoint_subnet = subnet("endpoints", endpoints_cidr, [api_subnet])
    return VnetRef(
        vnet_id=vnet.id,
        node_subnet_id=node_subnet.id,
        api_subnet_id=api_subnet.id,
        endpoint_subnet_id=endpoint_subnet.id,
    )
