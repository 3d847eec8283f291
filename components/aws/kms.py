"""The stack's one customer-managed KMS key: rotated, aliased, no wildcard principals."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from ..cloud import KeyRef
from .account import Account
from .iam_documents import key_policy, to_json

__all__ = ["build_key", "control_plane_log_group"]


def control_plane_log_group(cluster_name: str) -> str:
    """Where EKS writes control-plane logs; it must exist, encrypted, before the cluster does."""
    return f"/aws/eks/{cluster_name}/cluster"


def build_key(
    name: str, cluster_name: str, account: Account, tags: dict[str, str], parent: pulumi.Resource
) -> KeyRef:
    """One key for EKS secrets, node volumes, the registry and the control-plane logs."""
    opts = pulumi.ResourceOptions(parent=parent)
    log_group = control_plane_log_group(cluster_name)
    policy = pulumi.Output.all(account.partition, account.id).apply(
        lambda values: to_json(
            key_policy(
                partition=values[0],
                account=values[1],
                region=account.region,
                log_group_arn=f"arn:{values[0]}:logs:{account.region}:{values[1]}:log-group:{log_group}",
            )
        )
    )
    key = aws.kms.Key(
        f"{name}-key",
        description=f"llmplane {cluster_name}: EKS secrets, node volumes, ECR, control-plane logs",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        bypass_policy_lockout_safety_check=False,
        policy=policy,
        tags=tags,
        opts=opts,
    )
    aws.kms.Alias(f"{name}-key", name=f"alias/{cluster_name}", target_key_id=key.key_id, opts=opts)
    return KeyRef(id=key.arn)
