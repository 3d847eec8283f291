"""The settings that differ by target: each cloud's cluster, network and provider keys.

Each cloud has its own models, so a key another cloud reads is an unknown key here: pydantic's
`extra="forbid"` refuses it, and settings.py says which cloud it belongs to.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic.alias_generators import to_camel

from .types import (
    Cidr,
    EntraObjectId,
    IamPrincipalArn,
    PrivateNetworkCidr,
    Spec,
    SubnetId,
    any_case,
    rule_error,
)

Tier = Literal["free", "standard"]
NatGateways = Literal["single", "perZone"]
_AZURE_SUBNET = (
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/"
    r"virtualNetworks/[^/]+/subnets/[^/]+$"
)


class ManagedClusterSettings(Spec):
    """Control-plane settings every managed cluster llmplane creates has."""

    kubernetes_version: str | None = Field(
        default=None,
        pattern=r"^1\.\d{2}$",
        description="a minor version such as 1.33 (default: the cloud's current default)",
    )
    private_endpoint: bool = Field(default=True, description="API server reachable only privately")
    authorized_cidrs: tuple[Cidr, ...] = Field(
        default=(), description="CIDRs allowed to reach a public API server endpoint"
    )
    allow_open_endpoint: bool = Field(
        default=False,
        description="explicitly allow 0.0.0.0/0 in authorizedCidrs (insecure; policies flag it)",
    )

    @model_validator(mode="after")
    def _api_not_open_by_accident(self) -> Self:
        cidrs = self.authorized_cidrs
        open_cidrs = [c for c in cidrs if ipaddress.ip_network(c).prefixlen == 0]
        if open_cidrs and not self.allow_open_endpoint:
            raise rule_error(
                "authorizedCidrs",
                f"{open_cidrs[0]} opens the Kubernetes API to the whole internet",
                "list your own networks, or set cluster.allowOpenEndpoint: true to accept the risk",
            )
        if not self.private_endpoint and not cidrs:
            raise rule_error(
                "privateEndpoint",
                "is false but cluster.authorizedCidrs is empty, which would open the API to anyone",
                "list the networks that may reach the API in cluster.authorizedCidrs",
            )
        return self


class AwsClusterSettings(ManagedClusterSettings):
    """The EKS control plane."""

    admin_arns: tuple[IamPrincipalArn, ...] = Field(
        default=(),
        description="AWS: IAM role or user ARNs granted cluster admin through access entries",
    )


class AzureClusterSettings(ManagedClusterSettings):
    """The AKS control plane."""

    admin_group_ids: tuple[EntraObjectId, ...] = Field(
        default=(), description="Azure: Entra ID group object ids granted cluster admin"
    )
    tier: Annotated[Tier, any_case(Tier)] = Field(
        default="standard",
        description="Azure: control-plane tier; standard has an uptime SLA, free does not",
    )


class GcpClusterSettings(ManagedClusterSettings):
    """The GKE control plane."""

    binary_authorization: bool = Field(
        default=False,
        description="GCP: admit only images that Binary Authorization's project policy allows",
    )


class NetworkSettings(Spec):
    """The network llmplane creates: its range is all a GCP stack sets."""

    cidr: PrivateNetworkCidr = Field(
        default="10.0.0.0/16",
        description="a private IPv4 range from /16 to /20 for the network llmplane creates",
    )


class AwsNetworkSettings(NetworkSettings):
    """The VPC llmplane creates on AWS, or an existing VPC and its subnets."""

    nat_gateways: Annotated[NatGateways, any_case(NatGateways)] = Field(
        default="single",
        description="single (one shared NAT gateway, cheaper) or perZone (survives a zone outage)",
    )
    private_endpoints: bool = Field(
        default=True,
        description="private endpoints for the registry, object storage and STS, bypassing NAT",
    )
    vpc_id: str | None = Field(
        default=None, pattern=r"^vpc-[0-9a-f]{8,17}$", description="AWS: an existing VPC id"
    )
    private_subnet_ids: tuple[SubnetId, ...] = Field(
        default=(), description="AWS: existing private subnets for the nodes, in two or more zones"
    )
    public_subnet_ids: tuple[SubnetId, ...] = Field(
        default=(), description="AWS: existing public subnets for internet-facing load balancers"
    )

    @model_validator(mode="after")
    def _existing_vpc_complete(self) -> Self:
        if self.vpc_id is None:
            for key in ("private_subnet_ids", "public_subnet_ids"):
                if key in self.model_fields_set:
                    raise rule_error(
                        to_camel(key),
                        "names subnets but network.vpcId is not set",
                        "set network.vpcId to the VPC these subnets belong to",
                    )
            return self
        if len(self.private_subnet_ids) < 2:
            raise rule_error(
                "privateSubnetIds",
                "needs at least two private subnets, in different zones, with an existing VPC",
                "list the private subnet ids of network.vpcId",
            )
        _created_network_keys_unset(self, "network.vpcId")
        return self


class AzureNetworkSettings(NetworkSettings):
    """The VNet llmplane creates on Azure, or three subnets of an existing one."""

    subnet_id: str | None = Field(
        default=None,
        pattern=_AZURE_SUBNET,
        description="Azure: an existing node subnet's resource id (it must have a NAT gateway)",
    )
    api_server_subnet_id: str | None = Field(
        default=None,
        pattern=_AZURE_SUBNET,
        description="Azure: an existing /28 or larger subnet delegated to AKS, for the API server",
    )
    endpoint_subnet_id: str | None = Field(
        default=None,
        pattern=_AZURE_SUBNET,
        description="Azure: an existing subnet for private endpoints",
    )

    @model_validator(mode="after")
    def _existing_vnet_complete(self) -> Self:
        subnets = {
            "subnetId": self.subnet_id,
            "apiServerSubnetId": self.api_server_subnet_id,
            "endpointSubnetId": self.endpoint_subnet_id,
        }
        if not any(subnets.values()):
            return self
        missing = [key for key, value in subnets.items() if value is None]
        if missing:
            raise rule_error(
                missing[0],
                "is missing; an existing network needs subnetId, apiServerSubnetId, "
                "endpointSubnetId",
                "give all three subnet resource ids, from the same VNet",
            )
        vnets = {str(value).rsplit("/subnets/", 1)[0].lower() for value in subnets.values()}
        if len(vnets) > 1:
            raise rule_error(
                "apiServerSubnetId",
                "is in a different VNet from network.subnetId",
                "use three subnets of the same VNet",
            )
        _created_network_keys_unset(self, "network.subnetId")
        return self


def _created_network_keys_unset(network: NetworkSettings, existing: str) -> None:
    """Keys that shape a network llmplane creates mean nothing next to an existing one."""
    for key in ("cidr", "nat_gateways", "private_endpoints"):
        if key in network.model_fields_set:
            raise rule_error(
                to_camel(key),
                f"describes a network llmplane creates, but {existing} uses an existing one",
                f"remove it, or remove {existing}",
            )


class AwsProviderSettings(Spec):
    """The AWS provider keys llmplane reads."""

    aws_region: str = Field(
        alias="aws:region",
        pattern=r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$",
        description="the AWS region, e.g. us-east-1",
    )

    def region(self) -> str | None:
        """The region the stack runs in."""
        return self.aws_region


class AzureProviderSettings(Spec):
    """The Azure provider keys llmplane reads."""

    azure_location: str = Field(
        alias="azure-native:location",
        pattern=r"^[a-z][a-z0-9]+$",
        description="the Azure location, e.g. eastus",
    )

    def region(self) -> str | None:
        """The location the stack runs in."""
        return self.azure_location


class GcpProviderSettings(Spec):
    """The GCP provider keys llmplane reads."""

    gcp_project: str = Field(
        alias="gcp:project",
        pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
        description="the GCP project id",
    )
    gcp_region: str = Field(
        alias="gcp:region",
        pattern=r"^[a-z]+-[a-z]+\d+$",
        description="the GCP region, e.g. us-central1",
    )

    def region(self) -> str | None:
        """The region the stack runs in."""
        return self.gcp_region


class KubernetesProviderSettings(Spec):
    """The Kubernetes provider keys llmplane reads, for a cluster it does not manage."""

    kube_context: str | None = Field(
        default=None,
        alias="kubernetes:context",
        pattern=r"^\S+$",
        description="the kubeconfig context of the existing cluster",
    )
    kubeconfig: SecretStr | None = Field(
        default=None,
        alias="kubernetes:kubeconfig",
        description="a kubeconfig for the existing cluster (store it with --secret)",
    )

    def region(self) -> str | None:
        """An existing cluster has no region llmplane prices."""
        return None


PROVIDER_MODELS: dict[str, type[Spec]] = {
    "aws": AwsProviderSettings,
    "azure": AzureProviderSettings,
    "gcp": GcpProviderSettings,
    "kubernetes": KubernetesProviderSettings,
}
"""Each target's provider keys, by `llmplane:cloud`."""


def _provider_keys() -> dict[str, dict[str, str]]:
    keys: dict[str, dict[str, str]] = {}
    for model in PROVIDER_MODELS.values():
        for field in model.model_fields.values():
            namespace, _, key = str(field.alias).partition(":")
            keys.setdefault(namespace, {})[key] = str(field.description)
    return keys


PROVIDER_KEYS = _provider_keys()
"""Provider keys llmplane reads, per provider namespace. Any other key in these is a typo."""
