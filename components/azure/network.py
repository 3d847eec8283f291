"""The Azure network: a VNet with node, API-server and endpoint subnets, and a NAT gateway."""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_azure_native as azure

from .args import AzureNetworkArgs

__all__ = ["AzureNetwork", "subnet_plan"]


def subnet_plan(cidr: str) -> tuple[str, str, str]:
    """Split the VNet range into the node, API-server and private-endpoint subnets.

    Nodes get half the range (pods use the overlay network, not VNet addresses); the API
    server's delegated subnet needs a /28, and the private endpoints a few addresses.
    """
    network = ipaddress.ip_network(cidr)
    nodes, rest = network.subnets(prefixlen_diff=1)
    small = list(rest.subnets(new_prefix=28))
    return str(nodes), str(small[0]), str(small[1])


class AzureNetwork(pulumi.ComponentResource):
    """VNet, NAT gateway for node egress, and three subnets; or only the existing subnets' ids."""

    vnet_id: pulumi.Output[str]
    """The VNet's resource id: the scope of the control plane's network role."""
    node_subnet_id: pulumi.Output[str]
    """The subnet the system and GPU nodes join."""
    api_subnet_id: pulumi.Output[str]
    """The subnet delegated to AKS for API server VNet integration."""
    endpoint_subnet_id: pulumi.Output[str]
    """The subnet of the vault's and the registry's private endpoints."""

    def __init__(
        self, name: str, args: AzureNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """The network as `args.network` says: created, or the existing subnets, creating none."""
        super().__init__("llmplane:azure:Network", name, None, opts)
        existing = args.network.existing
        if existing is not None:
            # A subnet's resource id is its VNet's id followed by /subnets/<name>.
            self.vnet_id = pulumi.Output.from_input(existing.nodes.rsplit("/subnets/", 1)[0])
            self.node_subnet_id = pulumi.Output.from_input(existing.nodes)
            self.api_subnet_id = pulumi.Output.from_input(existing.api_server)
            self.endpoint_subnet_id = pulumi.Output.from_input(existing.endpoints)
        else:
            ids = self._create(name, args)
            self.vnet_id, self.node_subnet_id, self.api_subnet_id, self.endpoint_subnet_id = ids
        self.register_outputs(
            {
                "vnetId": self.vnet_id,
                "nodeSubnetId": self.node_subnet_id,
                "apiSubnetId": self.api_subnet_id,
                "endpointSubnetId": self.endpoint_subnet_id,
            }
        )

    def _create(
        self, name: str, args: AzureNetworkArgs
    ) -> tuple[pulumi.Output[str], pulumi.Output[str], pulumi.Output[str], pulumi.Output[str]]:
        """Create the VNet, NAT and subnets; their ids: VNet, nodes, API server, endpoints."""
        group, tags = args.resource_group_name, dict(args.tags)
        opts = pulumi.ResourceOptions(parent=self)
        nodes_cidr, api_cidr, endpoints_cidr = subnet_plan(args.network.cidr)
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
            address_space=azure.network.AddressSpaceArgs(address_prefixes=[args.network.cidr]),
            tags=tags,
            # Subnets are their own resources below; inline ones would fight them on every update.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["subnets"]),
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
                opts=pulumi.ResourceOptions(parent=self, depends_on=after),
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
        return vnet.id, node_subnet.id, api_subnet.id, endpoint_subnet.id
