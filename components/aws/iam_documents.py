"""IAM and KMS policy documents for the AWS target, as plain data: least privilege, no wildcards."""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "AUTOSCALING_SERVICE_ROLE",
    "USE_KEY",
    "Document",
    "cluster_autoscaler",
    "irsa_trust",
    "key_policy",
    "pull_through_cache",
    "service_trust",
    "to_json",
    "use_key_for_volumes",
]

Document = dict[str, Any]

# What a service needs to encrypt and decrypt with a key, and nothing to manage it.
USE_KEY = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
]
AUTOSCALING_SERVICE_ROLE = "aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"


def to_json(document: Document) -> str:
    """Stable JSON, so the same stack always plans the same policy text."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def service_trust(service: str) -> Document:
    """Let one AWS service (eks.amazonaws.com, ec2.amazonaws.com) assume a role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }


def irsa_trust(provider_arn: str, issuer: str, namespace: str, service_account: str) -> Document:
    """Let exactly one Kubernetes service account assume a role, via the cluster's OIDC issuer."""
    host_path = issuer.removeprefix("https://")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{host_path}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                        f"{host_path}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }


def key_policy(partition: str, account: str, region: str, log_group_arn: str) -> Document:
    """The CMK's key policy: the account administers it; services get only what they must use.

    No statement has a wildcard principal. `Resource: "*"` in a key policy means "this key".
    """
    account_root = f"arn:{partition}:iam::{account}:root"
    autoscaling = f"arn:{partition}:iam::{account}:role/{AUTOSCALING_SERVICE_ROLE}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                # Delegates to IAM, so roles with kms:* on this key (and only those) manage it.
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": account_root},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                # GPU nodes are launched by the Auto Scaling service role; without this grant,
                # instances with CMK-encrypted root volumes fail to start.
                "Sid": "AutoScalingEncryptsNodeVolumes",
                "Effect": "Allow",
                "Principal": {"AWS": autoscaling},
                "Action": USE_KEY,
                "Resource": "*",
            },
            {
                "Sid": "AutoScalingAttachesNodeVolumes",
                "Effect": "Allow",
                "Principal": {"AWS": autoscaling},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            {
                "Sid": "CloudWatchLogsEncryptsControlPlaneLogs",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": USE_KEY,
                "Resource": "*",
                "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
            },
        ],
    }


def cluster_autoscaler(partition: str, region: str, account: str, cluster: str) -> Document:
    """Cluster autoscaler: read everything it must compare, change only this cluster's groups."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                # Describe calls do not support resource-level permissions.
                "Sid": "Discover",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                ],
                "Resource": "*",
            },
            {
                "Sid": "ScaleOnlyThisClustersGroups",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:SetDesiredCapacity",
                    "autoscaling:TerminateInstanceInAutoScalingGroup",
                ],
                "Resource": f"arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:*",
                "Condition": {
                    "StringEquals": {
                        f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}": "owned"
                    }
                },
            },
            {
                # Labels and taints of an empty managed node group, for scale-from-zero.
                "Sid": "ReadThisClustersNodeGroups",
                "Effect": "Allow",
                "Action": "eks:DescribeNodegroup",
                "Resource": f"arn:{partition}:eks:{region}:{account}:nodegroup/{cluster}/*",
            },
        ],
    }


def pull_through_cache(partition: str, region: str, account: str, prefix: str) -> Document:
    """Nodes may create and fill cache repositories under one prefix, and nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "FillPullThroughCache",
                "Effect": "Allow",
                "Action": ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                "Resource": f"arn:{partition}:ecr:{region}:{account}:repository/{prefix}/*",
            }
        ],
    }


def use_key_for_volumes(key_arn: str) -> Document:
    """The EBS CSI driver attaches CMK-encrypted volumes: it needs grants on that one key."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CreateGrantsForVolumes",
                "Effect": "Allow",
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": key_arn,
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            {
                "Sid": "EncryptVolumes",
                "Effect": "Allow",
                "Action": USE_KEY,
                "Resource": key_arn,
            },
        ],
    }
