"""AWS rules for data at rest and the network: EFS, security groups, CloudWatch log groups."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .. import (
    ANY_VALUE,
    Config,
    Props,
    Rule,
    dig,
    is_open_cidr,
    items,
    resource_rule,
    truthy,
    value_rule,
)

EFS = "aws:efs/fileSystem:FileSystem"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUPS = ("aws:ec2/securityGroup:SecurityGroup", DEFAULT_SECURITY_GROUP)
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


@resource_rule(
    "aws-efs-encrypted",
    types=[EFS],
    description="EFS file systems are encrypted at rest with a customer-managed KMS key.",
    severity="high",
    frameworks=("CKV_AWS_42", "CKV_AWS_184"),
    remediation="Set encrypted to true and kmsKeyId to a key ARN; llmplane's weights cache uses "
    "the stack's key.",
)
def efs_encrypted(type_: str, props: Props, config: Config) -> Iterator[str]:
    """The weights cache holds gated models whose licences forbid redistribution."""
    if not truthy(dig(props, "encrypted")):  # absent: unencrypted
        yield "encrypted is not true"
    elif not dig(props, "kmsKeyId"):
        yield "kmsKeyId is not set: the AWS-managed aws/elasticfilesystem key is used"


@resource_rule(
    "aws-security-group-no-public-ingress",
    types=[*SECURITY_GROUPS, SECURITY_GROUP_RULE, INGRESS_RULE],
    description="Security groups admit no traffic from 0.0.0.0/0 or ::/0, on any port not "
    "explicitly allowed.",
    severity="high",
    frameworks=("CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260"),
    remediation="Replace the open CIDR with the VPC's range or a source security group; expose "
    "services through llmplane:exposure public, whose load balancer AWS manages.",
    config={
        "allowedPorts": {
            "type": "array",
            "items": {"type": "integer"},
            "default": [],
            "description": "single TCP/UDP ports that may be open to the internet, e.g. 443",
        }
    },
)
def security_group_no_public_ingress(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Nodes and endpoints in a private VPC should be reachable only from inside it."""
    allowed = set(config["allowedPorts"])
    for label, rule, cidrs in _ingress_rules(type_, props):
        for cidr in cidrs:
            if not is_open_cidr(cidr):
                continue
            low, high = dig(rule, "fromPort"), dig(rule, "toPort")
            protocol = str(dig(rule, "protocol") or dig(rule, "ipProtocol") or "-1")
            if protocol not in ("-1", "all") and low == high and low in allowed:
                continue
            yield f"{label} admits {cidr} on {_ports(protocol, low, high)}"


@resource_rule(
    "aws-default-security-group-closed",
    types=[DEFAULT_SECURITY_GROUP],
    description="The VPC's default security group has no rules, so nothing relies on it.",
    severity="medium",
    frameworks=("CKV2_AWS_12",),
    remediation="Manage the default security group with no ingress or egress (llmplane does), "
    "and give resources security groups of their own.",
)
def default_security_group_closed(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Anything launched without a group lands in the default one; it should be a dead end."""
    # Absent lists: Pulumi removes every rule of an adopted default group.
    for direction in ("ingress", "egress"):
        rules = items(dig(props, direction))
        if rules:
            yield f"the default security group keeps {len(rules)} {direction} rule(s)"


@resource_rule(
    "aws-cloudwatch-log-group-retention",
    types=[LOG_GROUP],
    description="CloudWatch log groups keep logs for a set period of at least minDays.",
    severity="low",
    frameworks=("CKV_AWS_66",),
    remediation="Set retentionInDays (llmplane keeps control-plane logs for 90 days); raise this "
    "policy's minDays where audits need a year (CKV_AWS_338).",
    config={
        "minDays": {
            "type": "integer",
            "default": 90,
            "description": "shortest retention, in days, that still covers an investigation",
        }
    },
)
def cloudwatch_log_group_retention(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Too short loses the audit trail; unset keeps every log line, and its cost, forever."""
    days = dig(props, "retentionInDays", 0)  # absent or 0: never expire
    if not days:
        yield "retentionInDays is not set: the logs never expire"
    elif int(days) < config["minDays"]:
        yield f"retentionInDays is {days}, under {config['minDays']}"


# Audit logs name users, roles and request bodies; they deserve the stack's own key.
cloudwatch_log_group_kms = value_rule(
    "aws-cloudwatch-log-group-kms",
    types=[LOG_GROUP],
    path="kmsKeyId",
    required=ANY_VALUE,  # absent: CloudWatch's service-owned key
    message="kmsKeyId is not set",
    description="CloudWatch log groups are encrypted with a customer-managed KMS key.",
    severity="medium",
    frameworks=("CKV_AWS_158",),
    remediation="Set kmsKeyId to a key whose policy lets logs.<region>.amazonaws.com use it; "
    "llmplane's control-plane log group uses the stack's key.",
)


def _ports(protocol: str, low: Any, high: Any) -> str:
    """How a message names a rule's port range: every port, one port, or low-high."""
    if protocol in ("-1", "all"):
        return "every port"
    if low == high:
        return f"{protocol} port {low}"
    return f"{protocol} ports {low}-{high}"


def _ingress_rules(type_: str, props: Props) -> Iterator[tuple[str, Props, list[Any]]]:
    """Each ingress rule with its label and its IPv4 and IPv6 sources, whatever the resource."""
    if type_ in SECURITY_GROUPS:
        for index, rule in enumerate(items(dig(props, "ingress"))):
            cidrs = items(dig(rule, "cidrBlocks")) + items(dig(rule, "ipv6CidrBlocks"))
            yield f"ingress[{index}]", rule, cidrs
    elif type_ == SECURITY_GROUP_RULE:
        if dig(props, "type") == "ingress":
            cidrs = items(dig(props, "cidrBlocks")) + items(dig(props, "ipv6CidrBlocks"))
            yield "the ingress rule", props, cidrs
    else:
        cidrs = [c for c in (dig(props, "cidrIpv4"), dig(props, "cidrIpv6")) if c]
        yield "the ingress rule", props, cidrs


RULES: tuple[Rule, ...] = (
    efs_encrypted,
    security_group_no_public_ingress,
    default_security_group_closed,
    cloudwatch_log_group_retention,
    cloudwatch_log_group_kms,
)
