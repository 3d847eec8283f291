"""The GCP network: a VPC, a node subnet with pod and service ranges, Cloud Router and Cloud NAT."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

__all__ = ["NetworkRef", "build_network", "subnet_plan"]

PODS, SERVICES = "pods", "services"


@dataclass(frozen=True)
class NetworkRef:
    """What the cluster needs from the network."""

    network: pulumi.Output[str]
    """The VPC's id."""
    subnetwork: pulumi.Output[str]
    """The node subnet's id."""
    name: pulumi.Output[str]
    """The VPC's name, which Filestore instances attach to."""


def subnet_plan(cidr: str) -> tuple[str, str, str]:
    """Nodes, pods and services ranges: pods take half the range, they use the most addresses."""
    network = ipaddress.ip_network(cidr)
    pods, rest = network.subnets(prefixlen_diff=1)
    nodes, services = list(rest.subnets(prefixlen_diff=1))
    return str(nodes), str(pods), str(services)


def build_network(
    name: str, cidr: str, region: str, needs: list[pulumi.Resource], parent: pulumi.Resource
) -> NetworkRef:
    """A custom-mode VPC with Private Google Access, and NAT for egress from private nodes."""
    opts = pulumi.ResourceOptions(parent=parent, depends_on=needs)
    nodes, pods, services = subnet_plan(cidr)
    network = gcp.compute.Network(
        f"{name}-vpc", name=f"{name}-vpc", auto_create_subnetworks=False, opts=opts
    )
    subnetwork = gcp.compute.Subnetwork(
        f"{name}-nodes",
        name=f"{name}-nodes",
        network=network.id,
        region=region,
        ip_cidr_range=nodes,
        secondary_ip_ranges=[
            gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=PODS, ip_cidr_range=pods),
            gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=SERVICES, ip_cidr_range=services),
        ],
        # Private nodes reach Google APIs (Artifact Registry, KMS) without public addresses.
        private_ip_google_access=True,
        log_config=gcp.compute.SubnetworkLogConfigArgs(
            aggregation_interval="INTERVAL_10_MIN",
            flow_sampling=0.5,
            metadata="INCLUDE_ALL_METADATA",
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    router = gcp.compute.Router(
        f"{name}-router",
        name=f"{name}-router",
        network=network.id,
        region=region,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    gcp.compute.RouterNat(
        f"{name}-nat",
        name=f"{name}-nat",
        router=router.name,
        region=region,
        nat_ip_allocate_option="AUTO_ONLY",
        source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
        log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return NetworkRef(network=network.id, subnetwork=subnetwork.id, name=network.name)
