"""The tags every cloud resource carries, so that cost reports and audits can find its stack."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from .core import Config, Props, Rule, dig, has_property, resource_rule

# Where each type llmplane's components tag keeps its tags: `tags` on AWS and Azure, labels on
# GCP. The pack imports nothing from the components, so the list is written here; a test keeps
# it equal to what the shipped stacks tag.
_AWS = (
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:ec2/eip:Eip",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/vpc:Vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:ecr/repository:Repository",
    "aws:efs/fileSystem:FileSystem",
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:iam/role:Role",
    "aws:kms/key:Key",
)
_AZURE = (
    "azure-native:compute:DiskEncryptionSet",
    "azure-native:containerregistry:Registry",
    "azure-native:containerservice:ManagedCluster",
    "azure-native:keyvault:Key",
    "azure-native:keyvault:Vault",
    "azure-native:managedidentity:UserAssignedIdentity",
    "azure-native:network:NatGateway",
    "azure-native:network:PrivateEndpoint",
    "azure-native:network:PublicIPAddress",
    "azure-native:network:VirtualNetwork",
    "azure-native:privatedns:PrivateZone",
    "azure-native:privatedns:VirtualNetworkLink",
    "azure-native:resources:ResourceGroup",
)
TAGS_AT: Mapping[str, str] = {
    **dict.fromkeys(_AWS, "tags"),
    **dict.fromkeys(_AZURE, "tags"),
    "gcp:artifactregistry/repository:Repository": "labels",
    "gcp:container/cluster:Cluster": "resourceLabels",
    "gcp:kms/cryptoKey:CryptoKey": "labels",
}
# The tags llmplane sets on every taggable resource (components/naming.py's REQUIRED_TAGS; a test
# keeps the two equal).
REQUIRED_TAGS = ("project", "stack", "managed-by")


@resource_rule(
    "required-tags",
    types=tuple(TAGS_AT),
    description="Every taggable cloud resource carries the required tags (GCP: labels): "
    "project, stack and managed-by by default.",
    severity="low",
    frameworks=("AWS Config required-tags", "Azure.Resource.UseTags", "LLMPLANE-TAG-1"),
    remediation="llmplane's components set project, stack and managed-by on every resource they "
    "tag; in your own Pulumi code pass the same tags (provider-level default tags are not part "
    "of a resource's inputs, so the policy cannot see them), or list yours in requiredTags.",
    config={
        "requiredTags": {
            "type": "array",
            "items": {"type": "string"},
            "default": list(REQUIRED_TAGS),
            "description": "tag (GCP label) keys every taggable resource must carry",
        }
    },
)
def required_tags(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Untagged resources escape cost allocation, and nobody can tell which stack owns them."""
    path = TAGS_AT[type_]
    wanted = [str(tag) for tag in config["requiredTags"]]
    if not wanted:
        return
    # Only the keys are read: a tag's value may be unknown until deployment, its key never is.
    tags = dig(props, path) if has_property(props, path) else None
    if not isinstance(tags, Mapping):
        yield f"{path} is not set: the resource carries none of {', '.join(wanted)}"
        return
    keys = set(tags)
    missing = [tag for tag in wanted if tag not in keys]
    if missing:
        yield f"{path} lacks {', '.join(missing)}"


RULES: tuple[Rule, ...] = (required_tags,)
