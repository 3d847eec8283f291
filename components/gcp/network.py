"""The GCP network: a VPC, a node subnet with pod and service ranges, Cloud Router and Cloud NAT."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

if TYPE_CHECKING:
    from .args import GcpNetworkArgs

__all__ = ["PODS", "SERVICES", "GcpNetwork", "subnet_plan"]

PODS, SERVICES = "pods", "services"


def subnet_plan(cidr: str) -> tuple[str, str, str]:
    """Nodes, pods and services ranges: pods take half the range, they use the most addresses."""
    network = ipaddress.ip_network(cidr)
    pods, rest = network.subnets(prefixlen_diff=1)
    nodes, services = list(rest.subnets(prefixlen_diff=1))
    return str(nodes), str(pods), str(services)


class GcpNetwork(pulumi.ComponentResource):
    """A custom-mode VPC with Private Google Access, and NAT for egress from private nodes."""

    network_id: pulumi.Output[str]
    """The VPC's id, which a GKE cluster attaches to."""
    network_self_link: pulumi.Output[str]
    """The VPC's self link, which private service access and peering take."""
    network_name: pulumi.Output[str]
    """The VPC's name, which Filestore instances attach to."""
    subnet_id: pulumi.Output[str]
    """The node subnet's id; its secondary ranges are named `pods` and `services`."""

    def __init__(
        self, name: str, args: GcpNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """The VPC `<name>-vpc` (after `args.depends_on`), its subnet, router and NAT."""
        super().__init__("llmplane:gcp:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        nodes, pods, services = subnet_plan(args.cidr)
        network = gcp.compute.Network(
            f"{name}-vpc",
            name=f"{name}-vpc",
            auto_create_subnetworks=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        subnetwork = gcp.compute.Subnetwork(
            f"{name}-nodes",
            name=f"{name}-nodes",
            network=network.id,
            region=args.region,
            ip_cidr_range=nodes,
            secondary_ip_ranges=[
                gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=PODS, ip_cidr_range=pods),
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=SERVICES, ip_cidr_range=services
                ),
            ],
            # Private nodes reach Google APIs (Artifact Registry, KMS) without public addresses.
            private_ip_google_access=True,
            log_config=gcp.compute.SubnetworkLogConfigArgs(
                aggregation_interval="INTERVAL_10_MIN",
                flow_sampling=0.5,
                metadata="INCLUDE_ALL_METADATA",
            ),
            opts=child,
        )
        router = gcp.compute.Router(
            f"{name}-router",
            name=f"{name}-router",
            network=network.id,
            region=args.region,
            opts=child,
        )
        gcp.compute.RouterNat(
            f"{name}-nat",
            name=f"{name}-nat",
            router=router.name,
            region=args.region,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
            opts=child,
        )
        self.network_id = network.id
        self.network_self_link = network.self_link
        self.network_name = network.name
        self.subnet_id = subnetwork.id
        self.register_outputs(
            {
                "networkId": self.network_id,
                "networkName": self.network_name,
                "subnetId": self.subnet_id,
            }
        )
