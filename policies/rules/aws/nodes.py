"""AWS rules for EKS nodes: node group SSH access, and the launch templates nodes boot from."""

from __future__ import annotations

from collections.abc import Iterator

from .. import Config, Props, Rule, dig, items, resource_rule, truthy

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"


@resource_rule(
    "aws-eks-node-group-no-remote-access",
    types=[NODE_GROUP],
    description="EKS node groups allow no SSH remote access.",
    severity="high",
    frameworks=("CKV_AWS_100",),
    remediation="Remove remoteAccess from the node group and reach nodes through SSM Session "
    "Manager if needed; llmplane's node groups never set it.",
)
def eks_node_group_no_remote_access(type_: str, props: Props, config: Config) -> Iterator[str]:
    """SSH to GPU nodes bypasses Kubernetes RBAC and audit; without groups it is open to all."""
    access = dig(props, "remoteAccess")
    if access is None:
        return
    key = dig(access, "ec2SshKey", "")
    if not items(dig(access, "sourceSecurityGroupIds")):
        yield f"remoteAccess (key {key!r}) without sourceSecurityGroupIds opens SSH to 0.0.0.0/0"
    else:
        yield f"remoteAccess allows SSH to the nodes with key {key!r}"


# --- Node launch templates -------------------------------------------------------------------


@resource_rule(
    "aws-launch-template-imdsv2",
    types=[LAUNCH_TEMPLATE],
    description="Launch templates require IMDSv2 tokens and a hop limit that keeps pods from the "
    "node's instance metadata.",
    severity="high",
    frameworks=("CKV_AWS_79", "CKV_AWS_341"),
    remediation="Set metadataOptions.httpTokens to required and httpPutResponseHopLimit to 1; "
    "pods get AWS credentials through IRSA instead, as llmplane's node templates do.",
    config={
        "maxHopLimit": {
            "type": "integer",
            "default": 1,
            "description": "highest httpPutResponseHopLimit; 2 lets pods reach the node's role",
        }
    },
)
def launch_template_imdsv2(type_: str, props: Props, config: Config) -> Iterator[str]:
    """IMDSv1 and a hop limit of 2 both let a compromised pod steal the node role's credentials."""
    options = dig(props, "metadataOptions") or {}
    if dig(options, "httpEndpoint") == "disabled":
        return  # no metadata service at all
    tokens = dig(options, "httpTokens")
    if tokens is None:
        yield "metadataOptions.httpTokens is not set: EC2 defaults to optional (IMDSv1 allowed)"
    elif tokens != "required":
        yield f"metadataOptions.httpTokens is {tokens} (IMDSv1 allowed)"
    # Absent: EC2's default of 1, as Checkov reads it. (AMIs registered with ImdsSupport v2.0 get
    # 2 instead, so set it explicitly.)
    hops = dig(options, "httpPutResponseHopLimit", 1)
    if int(hops) > config["maxHopLimit"]:
        yield f"metadataOptions.httpPutResponseHopLimit is {hops}, above {config['maxHopLimit']}"


@resource_rule(
    "aws-launch-template-ebs-encrypted",
    types=[LAUNCH_TEMPLATE],
    description="Every EBS volume of a launch template is encrypted with a customer-managed key.",
    severity="high",
    frameworks=("CKV_AWS_8",),
    remediation='Give each blockDeviceMappings entry ebs.encrypted "true" and ebs.kmsKeyId; '
    "llmplane's node templates use the stack's key.",
)
def launch_template_ebs_encrypted(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Node disks hold model weights, container layers and whatever pods write to emptyDirs."""
    mappings = items(dig(props, "blockDeviceMappings"))
    if not mappings:
        yield (
            "blockDeviceMappings is not set: the root volume takes the AMI's settings, "
            "unencrypted unless the account encrypts EBS by default"
        )
    for mapping in mappings:
        ebs = dig(mapping, "ebs")
        if ebs is None:
            continue  # instance-store or suppressed devices carry no EBS volume
        device = dig(mapping, "deviceName", "?")
        # The launch template carries booleans as strings: "true"; absent means unencrypted.
        if not truthy(dig(ebs, "encrypted")):
            yield f"the EBS volume at {device} is not encrypted"
        elif not dig(ebs, "kmsKeyId"):
            yield f"the EBS volume at {device} uses the AWS-managed key, not a kmsKeyId"


@resource_rule(
    "aws-launch-template-no-public-ip",
    types=[LAUNCH_TEMPLATE],
    description="Launch templates give instances no public IP address.",
    severity="high",
    frameworks=("CKV_AWS_88",),
    remediation="Remove associatePublicIpAddress from networkInterfaces and launch nodes in "
    "private subnets, as llmplane does.",
)
def launch_template_no_public_ip(type_: str, props: Props, config: Config) -> Iterator[str]:
    """A node with a public address is reachable from the internet whatever the cluster says."""
    for index, interface in enumerate(items(dig(props, "networkInterfaces"))):
        # Absent: the subnet's own setting, which llmplane's private subnets keep off.
        if truthy(dig(interface, "associatePublicIpAddress")):
            yield f"networkInterfaces[{index}].associatePublicIpAddress is true"


RULES: tuple[Rule, ...] = (
    eks_node_group_no_remote_access,
    launch_template_imdsv2,
    launch_template_ebs_encrypted,
    launch_template_no_public_ip,
)
