"""The AWS policies on the shipped stacks' resources, and on copies broken one field at a time."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pytest
from pulumi_policy.proxy import UnknownValueError

from llmplane.policies.rules import SECRET
from tests.plans import shipped
from tests.policies.harness import (
    UNKNOWN,
    Cases,
    Mutation,
    Props,
    RuleCases,
    check,
    drop,
    findings,
    inputs,
    put,
    rules_of,
    shipped_props,
)

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ECR = "aws:ecr/repository:Repository"
ECR_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
KEY = "aws:kms/key:Key"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
ROLE = "aws:iam/role:Role"
EFS = "aws:efs/fileSystem:FileSystem"
SG = "aws:ec2/securityGroup:SecurityGroup"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LOGS = "aws:cloudwatch/logGroup:LogGroup"
AWS_RULES = rules_of("aws")
aws_dev = partial(shipped_props, "aws-dev")


def add_statement(statement: dict[str, Any], key: str = "policy") -> Mutation:
    """Append a statement to the JSON policy document at `key`."""

    def mutate(props: Props) -> None:
        document = json.loads(props[key])
        document["Statement"].append(statement)
        props[key] = json.dumps(document)

    return mutate


def ecr_policy() -> Props:
    """A repository policy llmplane does not ship: pulls for one named account."""
    statement = {
        "Sid": "PullFromAccount",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
    }
    document = {"Version": "2012-10-17", "Statement": [statement]}
    return {"repository": "llm-aws-dev", "policy": json.dumps(document)}


def iam_policy() -> Props:
    """A standalone policy holding the shipped autoscaler document."""
    return {
        "name": "autoscaler",
        "policy": inputs(shipped("aws-dev"), ROLE_POLICY, "llm-autoscaler")["policy"],
    }


def role_with_inline() -> Props:
    """A shipped role given the autoscaler document as an inline policy."""
    role = inputs(shipped("aws-dev"), ROLE, "llm-autoscaler-irsa")
    role["inlinePolicies"] = [{"name": "scale", "policy": iam_policy()["policy"]}]
    return role


def sg_rule() -> Props:
    return {
        "type": "ingress",
        "securityGroupId": "sg-1",
        "protocol": "tcp",
        "fromPort": 443,
        "toPort": 443,
        "cidrBlocks": ["10.0.0.0/16"],
    }


def ingress_rule() -> Props:
    return {
        "securityGroupId": "sg-1",
        "ipProtocol": "tcp",
        "fromPort": 443,
        "toPort": 443,
        "cidrIpv4": "10.0.0.0/16",
    }


DEV_CLUSTER = aws_dev(CLUSTER)
PROD_CLUSTER = shipped_props("aws-prod", CLUSTER)
GPU_TEMPLATE = aws_dev(TEMPLATE, "llm-gpu")
ENDPOINTS_SG = aws_dev(SG, "llm-endpoints")
AUTOSCALER_POLICY = aws_dev(ROLE_POLICY, "llm-autoscaler")

# fmt: off
# One compliant case per policy, from what the shipped stacks deploy where they deploy it.
COMPLIANT = [
    ("aws-eks-secrets-encrypted", CLUSTER, DEV_CLUSTER),
    ("aws-eks-public-endpoint-restricted", CLUSTER, DEV_CLUSTER),
    ("aws-eks-public-endpoint-restricted", CLUSTER, PROD_CLUSTER),
    ("aws-eks-endpoint-private", CLUSTER, PROD_CLUSTER),
    ("aws-eks-control-plane-logging", CLUSTER, DEV_CLUSTER),
    ("aws-eks-supported-version", CLUSTER, DEV_CLUSTER),
    ("aws-eks-api-authentication-mode", CLUSTER, DEV_CLUSTER),
    ("aws-eks-node-group-no-remote-access", NODE_GROUP, aws_dev(NODE_GROUP, "llm-gpu")),
    ("aws-launch-template-imdsv2", TEMPLATE, GPU_TEMPLATE),
    ("aws-launch-template-ebs-encrypted", TEMPLATE, GPU_TEMPLATE),
    ("aws-launch-template-no-public-ip", TEMPLATE, GPU_TEMPLATE),
    ("aws-ecr-immutable-tags", ECR, aws_dev(ECR)),
    ("aws-ecr-scan-on-push", ECR, aws_dev(ECR)),
    ("aws-ecr-kms-encrypted", ECR, aws_dev(ECR)),
    ("aws-ecr-policy-not-public", ECR_POLICY, ecr_policy),
    ("aws-kms-key-rotation", KEY, aws_dev(KEY)),
    ("aws-kms-key-policy-safe", KEY, aws_dev(KEY)),
    ("aws-iam-no-wildcard-actions", ROLE_POLICY, AUTOSCALER_POLICY),
    ("aws-iam-no-wildcard-actions", POLICY, iam_policy),
    ("aws-iam-no-wildcard-actions", ROLE, role_with_inline),
    ("aws-iam-no-unscoped-write", ROLE_POLICY, AUTOSCALER_POLICY),
    ("aws-iam-no-unscoped-write", ROLE_POLICY, aws_dev(ROLE_POLICY, "llm-ebs-csi-key")),
    ("aws-iam-no-privilege-escalation", ROLE_POLICY, AUTOSCALER_POLICY),
    ("aws-efs-encrypted", EFS, aws_dev(EFS)),
    ("aws-security-group-no-public-ingress", SG, ENDPOINTS_SG),
    ("aws-security-group-no-public-ingress", DEFAULT_SG, aws_dev(DEFAULT_SG)),
    ("aws-security-group-no-public-ingress", SG_RULE, sg_rule),
    ("aws-security-group-no-public-ingress", INGRESS_RULE, ingress_rule),
    ("aws-default-security-group-closed", DEFAULT_SG, aws_dev(DEFAULT_SG)),
    ("aws-cloudwatch-log-group-retention", LOGS, aws_dev(LOGS)),
    ("aws-cloudwatch-log-group-kms", LOGS, aws_dev(LOGS)),
]

ADMIN = {"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"}
OPEN_KEY = {"Sid": "Open", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*",
            "Resource": "*"}

# (policy, type, props, mutation, a fragment the one message must hold)
VIOLATIONS = [
    ("aws-eks-secrets-encrypted", CLUSTER, DEV_CLUSTER, put("encryptionConfig.resources", []),
     "does not cover resource 'secrets'"),
    ("aws-eks-secrets-encrypted", CLUSTER, DEV_CLUSTER, drop("encryptionConfig.provider"),
     "does not cover resource 'secrets'"),
    ("aws-eks-public-endpoint-restricted", CLUSTER, DEV_CLUSTER,
     put("vpcConfig.publicAccessCidrs", ["203.0.113.0/24", "0.0.0.0/0"]),
     "publicAccessCidrs includes 0.0.0.0/0"),
    ("aws-eks-public-endpoint-restricted", CLUSTER, DEV_CLUSTER,
     put("vpcConfig.publicAccessCidrs", ["::/0"]), "publicAccessCidrs includes ::/0"),
    ("aws-eks-endpoint-private", CLUSTER, DEV_CLUSTER, lambda p: None,
     "endpointPublicAccess is true: the API server is reachable from 203.0.113.0/24"),
    ("aws-eks-endpoint-private", CLUSTER, PROD_CLUSTER,
     put("vpcConfig.endpointPrivateAccess", False),
     "endpointPrivateAccess is off: nodes reach the API server through the internet"),
    ("aws-eks-control-plane-logging", CLUSTER, DEV_CLUSTER,
     put("enabledClusterLogTypes", ["api", "scheduler"]),
     "enabledClusterLogTypes lacks audit, authenticator, controllerManager"),
    ("aws-eks-supported-version", CLUSTER, DEV_CLUSTER, put("version", "1.33"),
     "version 1.33 is older than 1.35"),
    ("aws-eks-api-authentication-mode", CLUSTER, DEV_CLUSTER,
     put("accessConfig.authenticationMode", "CONFIG_MAP"),
     "accessConfig.authenticationMode is CONFIG_MAP"),
    ("aws-eks-node-group-no-remote-access", NODE_GROUP, aws_dev(NODE_GROUP, "llm-gpu"),
     put("remoteAccess", {"ec2SshKey": "ops"}),
     "remoteAccess (key 'ops') without sourceSecurityGroupIds opens SSH to 0.0.0.0/0"),
    ("aws-eks-node-group-no-remote-access", NODE_GROUP, aws_dev(NODE_GROUP, "llm-gpu"),
     put("remoteAccess", {"ec2SshKey": "ops", "sourceSecurityGroupIds": ["sg-1"]}),
     "remoteAccess allows SSH to the nodes with key 'ops'"),
    ("aws-launch-template-imdsv2", TEMPLATE, GPU_TEMPLATE,
     put("metadataOptions.httpTokens", "optional"),
     "metadataOptions.httpTokens is optional (IMDSv1 allowed)"),
    ("aws-launch-template-imdsv2", TEMPLATE, GPU_TEMPLATE,
     put("metadataOptions.httpPutResponseHopLimit", 2),
     "httpPutResponseHopLimit is 2, above 1"),
    ("aws-launch-template-ebs-encrypted", TEMPLATE, GPU_TEMPLATE,
     put("blockDeviceMappings.0.ebs.encrypted", "false"),
     "the EBS volume at /dev/xvda is not encrypted"),
    ("aws-launch-template-ebs-encrypted", TEMPLATE, GPU_TEMPLATE,
     drop("blockDeviceMappings.0.ebs.kmsKeyId"), "uses the AWS-managed key"),
    ("aws-launch-template-no-public-ip", TEMPLATE, GPU_TEMPLATE,
     put("networkInterfaces", [{"deviceIndex": 0, "associatePublicIpAddress": "true"}]),
     "networkInterfaces[0].associatePublicIpAddress is true"),
    ("aws-ecr-immutable-tags", ECR, aws_dev(ECR), put("imageTagMutability", "MUTABLE"),
     "imageTagMutability is MUTABLE"),
    ("aws-ecr-scan-on-push", ECR, aws_dev(ECR),
     put("imageScanningConfiguration.scanOnPush", False), "scanOnPush is not true"),
    ("aws-ecr-kms-encrypted", ECR, aws_dev(ECR),
     put("encryptionConfigurations", [{"encryptionType": "AES256"}]),
     "encryptionType is AES256, not KMS"),
    ("aws-ecr-kms-encrypted", ECR, aws_dev(ECR),
     drop("encryptionConfigurations.0.kmsKey"), "the AWS-managed aws/ecr key"),
    ("aws-ecr-policy-not-public", ECR_POLICY, ecr_policy,
     add_statement({"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "ecr:*"}),
     "statement 'Public' allows Principal * without a Condition"),
    ("aws-ecr-policy-not-public", ECR_POLICY, ecr_policy,
     add_statement({"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "ecr:*"}),
     "statement 1 allows Principal *"),
    ("aws-kms-key-rotation", KEY, aws_dev(KEY), put("enableKeyRotation", False),
     "enableKeyRotation is not true"),
    ("aws-kms-key-policy-safe", KEY, aws_dev(KEY),
     put("bypassPolicyLockoutSafetyCheck", True), "bypassPolicyLockoutSafetyCheck is true"),
    ("aws-kms-key-policy-safe", KEY, aws_dev(KEY), add_statement(OPEN_KEY),
     "statement 'Open' allows Principal * without a Condition"),
    ("aws-iam-no-wildcard-actions", ROLE_POLICY, AUTOSCALER_POLICY, add_statement(ADMIN),
     "statement 'Admin' allows Action *"),
    ("aws-iam-no-wildcard-actions", POLICY, iam_policy,
     add_statement({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
     "statement 3 allows NotAction"),
    ("aws-iam-no-wildcard-actions", ROLE, role_with_inline,
     lambda p: add_statement(ADMIN)(p["inlinePolicies"][0]),
     "inline policy scale: statement 'Admin' allows Action *"),
    ("aws-iam-no-unscoped-write", ROLE_POLICY, AUTOSCALER_POLICY,
     add_statement({"Effect": "Allow", "Action": ["ec2:DescribeInstances",
                    "ec2:TerminateInstances"], "Resource": "*"}),
     "statement 3 allows ec2:TerminateInstances on every resource"),
    ("aws-iam-no-unscoped-write", POLICY, iam_policy,
     add_statement({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}),
     "allows s3:Get* on every resource"),
    ("aws-iam-no-unscoped-write", POLICY, iam_policy,
     add_statement({"Effect": "Allow", "Action": "kms:Decrypt", "NotResource": "arn:aws:kms:*"}),
     "allows kms:Decrypt on every resource"),
    ("aws-iam-no-privilege-escalation", ROLE_POLICY, AUTOSCALER_POLICY,
     add_statement({"Sid": "Pass", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}),
     "statement 'Pass' allows iam:PassRole on a wildcard resource"),
    ("aws-iam-no-privilege-escalation", POLICY, iam_policy,
     add_statement({"Effect": "Allow", "Action": ["iam:Put*Policy"],
                    "Resource": "arn:aws:iam::123456789012:role/*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}),
     "allows iam:PutGroupPolicy, iam:PutRolePolicy, iam:PutUserPolicy on a wildcard resource"),
    ("aws-efs-encrypted", EFS, aws_dev(EFS), put("encrypted", False),
     "encrypted is not true"),
    ("aws-efs-encrypted", EFS, aws_dev(EFS), drop("kmsKeyId"),
     "the AWS-managed aws/elasticfilesystem key"),
    ("aws-security-group-no-public-ingress", SG, ENDPOINTS_SG,
     put("ingress.0.cidrBlocks", ["0.0.0.0/0"]), "ingress[0] admits 0.0.0.0/0 on tcp port 443"),
    ("aws-security-group-no-public-ingress", SG, ENDPOINTS_SG,
     put("ingress.0", {"protocol": "tcp", "fromPort": 20, "toPort": 23,
                       "ipv6CidrBlocks": ["::/0"]}),
     "ingress[0] admits ::/0 on tcp ports 20-23"),
    ("aws-security-group-no-public-ingress", DEFAULT_SG, aws_dev(DEFAULT_SG),
     put("ingress", [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]),
     "ingress[0] admits 0.0.0.0/0 on every port"),
    ("aws-security-group-no-public-ingress", SG_RULE, sg_rule, put("cidrBlocks", ["0.0.0.0/0"]),
     "the ingress rule admits 0.0.0.0/0 on tcp port 443"),
    ("aws-security-group-no-public-ingress", INGRESS_RULE, ingress_rule,
     put("cidrIpv4", "0.0.0.0/0"), "the ingress rule admits 0.0.0.0/0 on tcp port 443"),
    ("aws-default-security-group-closed", DEFAULT_SG, aws_dev(DEFAULT_SG),
     put("egress", [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]),
     "the default security group keeps 1 egress rule(s)"),
    ("aws-cloudwatch-log-group-retention", LOGS, aws_dev(LOGS), put("retentionInDays", 30),
     "retentionInDays is 30, under 90"),
    ("aws-cloudwatch-log-group-kms", LOGS, aws_dev(LOGS), drop("kmsKeyId"),
     "kmsKeyId is not set"),
]

# (policy, type, props, the property removed, a fragment of the message, or None: still complies)
MISSING = [
    ("aws-eks-secrets-encrypted", CLUSTER, DEV_CLUSTER, "encryptionConfig",
     "encryptionConfig is not set"),
    ("aws-eks-public-endpoint-restricted", CLUSTER, DEV_CLUSTER, "vpcConfig.publicAccessCidrs",
     "publicAccessCidrs is not set: EKS opens it to 0.0.0.0/0"),
    ("aws-eks-public-endpoint-restricted", CLUSTER, PROD_CLUSTER, "vpcConfig.endpointPublicAccess",
     "publicAccessCidrs is not set"),
    ("aws-eks-endpoint-private", CLUSTER, PROD_CLUSTER, "vpcConfig.endpointPublicAccess",
     "reachable from 0.0.0.0/0"),
    ("aws-eks-control-plane-logging", CLUSTER, DEV_CLUSTER, "enabledClusterLogTypes",
     "lacks api, audit, authenticator, controllerManager, scheduler"),
    ("aws-eks-supported-version", CLUSTER, DEV_CLUSTER, "version", None),
    ("aws-eks-api-authentication-mode", CLUSTER, DEV_CLUSTER, "accessConfig",
     "accessConfig.authenticationMode is CONFIG_MAP"),
    ("aws-launch-template-imdsv2", TEMPLATE, GPU_TEMPLATE, "metadataOptions",
     "httpTokens is not set: EC2 defaults to optional"),
    ("aws-launch-template-imdsv2", TEMPLATE, GPU_TEMPLATE,
     "metadataOptions.httpPutResponseHopLimit", None),
    ("aws-launch-template-ebs-encrypted", TEMPLATE, GPU_TEMPLATE, "blockDeviceMappings",
     "blockDeviceMappings is not set"),
    ("aws-launch-template-ebs-encrypted", TEMPLATE, GPU_TEMPLATE,
     "blockDeviceMappings.0.ebs.encrypted", "is not encrypted"),
    ("aws-ecr-immutable-tags", ECR, aws_dev(ECR), "imageTagMutability",
     "imageTagMutability is MUTABLE"),
    ("aws-ecr-scan-on-push", ECR, aws_dev(ECR), "imageScanningConfiguration",
     "scanOnPush is not true"),
    ("aws-ecr-kms-encrypted", ECR, aws_dev(ECR), "encryptionConfigurations",
     "encryptionType is AES256"),
    ("aws-kms-key-rotation", KEY, aws_dev(KEY), "enableKeyRotation",
     "enableKeyRotation is not true"),
    ("aws-kms-key-policy-safe", KEY, aws_dev(KEY), "policy", None),
    ("aws-kms-key-policy-safe", KEY, aws_dev(KEY), "bypassPolicyLockoutSafetyCheck", None),
    ("aws-efs-encrypted", EFS, aws_dev(EFS), "encrypted", "encrypted is not true"),
    ("aws-cloudwatch-log-group-retention", LOGS, aws_dev(LOGS), "retentionInDays",
     "retentionInDays is not set: the logs never expire"),
]

# (policy, type, props, mutation, policy config, fragment or None: complies under that config)
CONFIGURED = [
    ("aws-eks-control-plane-logging", CLUSTER, DEV_CLUSTER,
     put("enabledClusterLogTypes", ["api", "audit"]), {"logTypes": ["api", "audit"]}, None),
    ("aws-eks-supported-version", CLUSTER, DEV_CLUSTER, lambda p: None,
     {"minimumVersion": "1.36"}, "version 1.35 is older than 1.36"),
    ("aws-launch-template-imdsv2", TEMPLATE, GPU_TEMPLATE,
     put("metadataOptions.httpPutResponseHopLimit", 2), {"maxHopLimit": 2}, None),
    ("aws-security-group-no-public-ingress", SG, ENDPOINTS_SG,
     put("ingress.0.cidrBlocks", ["0.0.0.0/0"]), {"allowedPorts": [443]}, None),
    ("aws-security-group-no-public-ingress", SG, ENDPOINTS_SG,
     put("ingress.0", {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}),
     {"allowedPorts": [443]}, "ingress[0] admits 0.0.0.0/0 on every port"),
    ("aws-cloudwatch-log-group-retention", LOGS, aws_dev(LOGS), lambda p: None,
     {"minDays": 365}, "retentionInDays is 90, under 365"),
]

# Shapes of a document or resource that must not be mistaken for a violation.
ALSO_COMPLIANT = [
    ("aws-eks-api-authentication-mode", CLUSTER, DEV_CLUSTER,
     put("accessConfig.authenticationMode", "API_AND_CONFIG_MAP")),
    ("aws-launch-template-imdsv2", TEMPLATE, GPU_TEMPLATE,
     put("metadataOptions", {"httpEndpoint": "disabled"})),
    ("aws-launch-template-no-public-ip", TEMPLATE, GPU_TEMPLATE,
     put("networkInterfaces", [{"deviceIndex": 0}])),
    ("aws-ecr-policy-not-public", ECR_POLICY, ecr_policy,
     add_statement({"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}})),
    ("aws-kms-key-rotation", KEY, aws_dev(KEY),
     lambda p: (p.pop("enableKeyRotation"), p.update(customerMasterKeySpec="RSA_2048"))),
    ("aws-iam-no-wildcard-actions", ROLE_POLICY, AUTOSCALER_POLICY,
     add_statement({"Effect": "Deny", "Action": "*", "Resource": "*"})),
    ("aws-iam-no-privilege-escalation", ROLE_POLICY, AUTOSCALER_POLICY,
     add_statement({"Effect": "Allow", "Action": "iam:PassRole",
                    "Resource": "arn:aws:iam::123456789012:role/llm-node-role"})),
    ("aws-security-group-no-public-ingress", SG_RULE, sg_rule,
     lambda p: p.update(type="egress", cidrBlocks=["0.0.0.0/0"])),
    ("aws-iam-no-wildcard-actions", ROLE_POLICY, AUTOSCALER_POLICY, put("policy", SECRET)),
]


# fmt: on


class TestAwsCases(RuleCases):
    """The shared checks over the AWS case tables."""

    cases = Cases(AWS_RULES, COMPLIANT, VIOLATIONS, MISSING, CONFIGURED, ALSO_COMPLIANT)


def test_a_statement_may_be_one_object_and_an_action_one_string() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"},
    }
    props = {"policy": json.dumps(document)}
    assert check("aws-iam-no-wildcard-actions", POLICY, props) == ["statement 0 allows Action *"]
    assert check("aws-iam-no-unscoped-write", POLICY, props) == [
        "statement 0 allows * on every resource (Resource *)"
    ]


@pytest.mark.parametrize("stack", ["aws-dev", "aws-prod"])
def test_shipped_stacks_break_no_mandatory_aws_policy(stack: str) -> None:
    found = findings(shipped(stack), AWS_RULES)
    advisories = [f for f in found if f[0] == "advisory"]
    assert [f for f in found if f[0] == "mandatory"] == []
    # aws-dev reaches its API server publicly from the stack's authorized CIDR, on purpose.
    expected = [("aws-eks-endpoint-private", "llm-eks")] if stack == "aws-dev" else []
    assert [(f[1], f[2]) for f in advisories] == expected


def test_an_unknown_value_is_left_to_the_runner() -> None:
    props = inputs(shipped("aws-dev"), ROLE_POLICY, "llm-autoscaler")
    props["policy"] = UNKNOWN
    with pytest.raises(UnknownValueError):
        check("aws-iam-no-privilege-escalation", ROLE_POLICY, props)
    cluster = inputs(shipped("aws-dev"), CLUSTER)
    cluster["vpcConfig"]["publicAccessCidrs"] = [UNKNOWN]
    with pytest.raises(UnknownValueError):
        check("aws-eks-public-endpoint-restricted", CLUSTER, cluster)
