"""The AWS network: a VPC over up to three zones, private node subnets, NAT, private endpoints."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

__all__ = [
    "INTERFACE_ENDPOINTS",
    "MAX_ZONES",
    "AwsNetwork",
    "AwsNetworkArgs",
    "one_port_group",
    "subnet_plan",
]

# More zones means more GPU capacity pools to draw from when one zone runs out.
MAX_ZONES = 3
# Interface endpoints that keep image pulls and token exchanges off the NAT gateway.
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "sts")


@dataclass(frozen=True, kw_only=True)
class AwsNetworkArgs:
    """The VPC the cluster runs in: a new one shaped by these fields, or an existing one."""

    cidr: str = "10.0.0.0/16"
    """Private IPv4 range, /16 to /20, of the VPC to create; unused with `vpc_id`."""
    nat_gateways: Literal["single", "perZone"] = "single"
    """single: one shared NAT gateway (cheaper); perZone: one per zone (survives a zone outage)."""
    private_endpoints: bool = True
    """S3, ECR and STS endpoints in the new VPC, so image pulls and token exchanges skip NAT."""
    vpc_id: pulumi.Input[str] | None = None
    """An existing VPC to use as it is; None creates one."""
    private_subnet_ids: Sequence[pulumi.Input[str]] = ()
    """With `vpc_id`: two or more private subnets, in different zones, for nodes and the API."""
    public_subnet_ids: Sequence[pulumi.Input[str]] = ()
    """With `vpc_id`: public subnets for internet-facing load balancers, if any."""
    region: str | None = None
    """The region a new VPC's endpoints are in; required for them, EksGpuCluster sets its own."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every network resource; EksGpuCluster adds its own under these."""

    def __post_init__(self) -> None:
        """Reject combinations that cannot build a network, before any resource exists."""
        if self.nat_gateways not in ("single", "perZone"):
            raise ValueError(f"nat_gateways is {self.nat_gateways!r}; use 'single' or 'perZone'")
        if self.region is not None and not self.region:
            raise ValueError(
                "region is empty; name the AWS region, e.g. us-east-1, or leave it None"
            )
        if self.vpc_id is None:
            if self.private_subnet_ids or self.public_subnet_ids:
                raise ValueError("subnet ids were given without vpc_id; set the VPC they are in")
            # Checked here, not at plan time, so a bad range fails with its own message.
            network = ipaddress.ip_network(self.cidr, strict=True)
            if network.version != 4 or not network.is_private or not 16 <= network.prefixlen <= 20:
                raise ValueError(f"cidr {self.cidr!r} is not a private IPv4 range from /16 to /20")
        elif len(self.private_subnet_ids) < 2:
            raise ValueError(
                "an existing VPC needs at least two private subnet ids, in different zones"
            )


def subnet_plan(cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """Split the VPC range into private node subnets and small public subnets, one each per zone.

    Nodes get three quarters of the range because pods take VPC addresses; the public subnets
    hold only load balancers and NAT gateways, so a slice of the last quarter is enough.
    """
    network = ipaddress.ip_network(cidr)
    quarters = list(network.subnets(prefixlen_diff=2))
    public = list(quarters[3].subnets(prefixlen_diff=4))
    return [str(q) for q in quarters[:zones]], [str(p) for p in public[:zones]]


class AwsNetwork(pulumi.ComponentResource):
    """An existing VPC as given (nothing created), or a new one with NAT and private endpoints."""

    vpc_id: pulumi.Output[str]
    """The VPC's id."""
    private_subnet_ids: list[pulumi.Output[str]]
    """Private subnets, one per zone: nodes, the API's interfaces, mount targets."""
    public_subnet_ids: list[pulumi.Output[str]]
    """Public subnets, one per zone: internet-facing load balancers and NAT gateways."""

    def __init__(
        self, name: str, args: AwsNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """`<name>-vpc` and its subnets, routes, NAT and endpoints; or the given ids, unchanged."""
        if args.vpc_id is None and args.private_endpoints and args.region is None:
            raise ValueError(
                "region is None; the private endpoints of a new VPC need the AWS region"
            )
        super().__init__("llmplane:aws:Network", name, None, opts)
        if args.vpc_id is not None:
            self.vpc_id = pulumi.Output.from_input(args.vpc_id)
            self.private_subnet_ids = [pulumi.Output.from_input(s) for s in args.private_subnet_ids]
            self.public_subnet_ids = [pulumi.Output.from_input(s) for s in args.public_subnet_ids]
        else:
            self._create(name, args)
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "privateSubnetIds": self.private_subnet_ids,
                "publicSubnetIds": self.public_subnet_ids,
            }
        )

    def _create(self, name: str, args: AwsNetworkArgs) -> None:
        """The new VPC over up to three zones; sets the id attributes."""
        tags = dict(args.tags)
        opts = pulumi.ResourceOptions(parent=self)
        zones = aws.get_availability_zones(
            state="available", opts=pulumi.InvokeOptions(parent=self)
        )
        zone_names = sorted(zones.names)[:MAX_ZONES]
        private_cidrs, public_cidrs = subnet_plan(args.cidr, len(zone_names))

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**tags, "Name": f"{name}-vpc"},
            opts=opts,
        )
        # Take every rule off the default security group, so nothing can use it by accident.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, tags=tags, opts=opts)
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tags, opts=opts)
        public_table = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
            tags=tags,
            opts=opts,
        )

        public_ids: list[pulumi.Output[str]] = []
        private_ids: list[pulumi.Output[str]] = []
        private_tables: list[aws.ec2.RouteTable] = []
        nat_ids: list[pulumi.Output[str]] = []
        for index, zone in enumerate(zone_names):
            public = aws.ec2.Subnet(
                f"{name}-public-{zone}",
                vpc_id=vpc.id,
                cidr_block=public_cidrs[index],
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={**tags, "Name": f"{name}-public-{zone}", "kubernetes.io/role/elb": "1"},
                opts=opts,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone}",
                subnet_id=public.id,
                route_table_id=public_table.id,
                opts=opts,
            )
            public_ids.append(public.id)
            if args.nat_gateways == "perZone" or index == 0:
                address = aws.ec2.Eip(f"{name}-nat-{zone}", domain="vpc", tags=tags, opts=opts)
                nat = aws.ec2.NatGateway(
                    f"{name}-nat-{zone}",
                    allocation_id=address.id,
                    subnet_id=public.id,
                    tags={**tags, "Name": f"{name}-nat-{zone}"},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
                )
                nat_ids.append(nat.id)
            private = aws.ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                cidr_block=private_cidrs[index],
                availability_zone=zone,
                tags={
                    **tags,
                    "Name": f"{name}-private-{zone}",
                    "kubernetes.io/role/internal-elb": "1",
                },
                opts=opts,
            )
            table = aws.ec2.RouteTable(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                routes=[
                    aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat_ids[-1])
                ],
                tags=tags,
                opts=opts,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}", subnet_id=private.id, route_table_id=table.id, opts=opts
            )
            private_ids.append(private.id)
            private_tables.append(table)

        if args.private_endpoints:
            assert args.region is not None, "checked in the constructor"
            _endpoints(name, vpc, args.cidr, args.region, private_ids, private_tables, tags, opts)
        self.vpc_id = vpc.id
        self.private_subnet_ids = private_ids
        self.public_subnet_ids = public_ids


def _endpoints(
    name: str,
    vpc: aws.ec2.Vpc,
    cidr: str,
    region: str,
    subnet_ids: list[pulumi.Output[str]],
    route_tables: list[aws.ec2.RouteTable],
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> None:
    """S3 (free gateway) plus ECR and STS interface endpoints: image layers never cross NAT."""
    aws.ec2.VpcEndpoint(
        f"{name}-s3",
        vpc_id=vpc.id,
        service_name=f"com.amazonaws.{region}.s3",
        vpc_endpoint_type="Gateway",
        route_table_ids=[table.id for table in route_tables],
        tags=tags,
        opts=opts,
    )
    group = one_port_group(
        f"{name}-endpoints",
        "HTTPS from inside the VPC to its private AWS endpoints",
        vpc.id,
        443,
        aws.ec2.SecurityGroupIngressArgs(
            description="HTTPS from the VPC", protocol="tcp", from_port=443, to_port=443,
            cidr_blocks=[cidr],
        ),
        tags,
        opts,
    )  # fmt: skip
    for service in INTERFACE_ENDPOINTS:
        aws.ec2.VpcEndpoint(
            f"{name}-{service.replace('.', '-')}",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{region}.{service}",
            vpc_endpoint_type="Interface",
            private_dns_enabled=True,
            subnet_ids=subnet_ids,
            security_group_ids=[group.id],
            tags=tags,
            opts=opts,
        )


def one_port_group(
    name: str,
    description: str,
    vpc_id: pulumi.Input[str],
    port: int,
    rule: aws.ec2.SecurityGroupIngressArgs,
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.ec2.SecurityGroup:
    """A security group that admits one TCP port from one source, and nothing else."""
    assert rule.from_port == rule.to_port == port, "the rule must open exactly the port"
    return aws.ec2.SecurityGroup(
        name, description=description, vpc_id=vpc_id, ingress=[rule], tags=tags, opts=opts
    )
