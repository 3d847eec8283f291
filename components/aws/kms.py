"""The stack's one customer-managed KMS key: rotated, aliased, no wildcard principals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from ..naming import dns_label
from .account import Account
from .iam_documents import key_policy, to_json

__all__ = ["KmsKey", "KmsKeyArgs", "control_plane_log_group", "require_region_and_name"]


def control_plane_log_group(cluster_name: str) -> str:
    """Where EKS writes control-plane logs; it must exist, encrypted, before the cluster does."""
    return f"/aws/eks/{cluster_name}/cluster"


@dataclass(frozen=True, kw_only=True)
class KmsKeyArgs:
    """What the key is for: the cluster it serves (which names its alias), region and tags."""

    cluster_name: str
    """The EKS cluster the key serves: the alias is alias/<it>, and its log group may use it."""
    region: str
    """The AWS region the key is in, which the CloudWatch Logs grant names."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the key."""

    def __post_init__(self) -> None:
        """Refuse an alias or region AWS would reject later, naming the field."""
        require_region_and_name(self.region, self.cluster_name)


class KmsKey(pulumi.ComponentResource):
    """One rotated CMK for EKS secrets, node volumes, the registry and the control-plane logs."""

    arn: pulumi.Output[str]
    """The key's ARN, which every encrypted resource names."""
    key_id: pulumi.Output[str]
    """The key's id (a UUID)."""
    alias: str
    """The key's alias, alias/<cluster name>."""

    def __init__(
        self, name: str, args: KmsKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """The key `<name>-key` and its alias, with a policy that names no wildcard principal."""
        super().__init__("llmplane:aws:EncryptionKey", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = Account.lookup(args.region, self)
        log_group = control_plane_log_group(args.cluster_name)
        region = args.region
        policy = pulumi.Output.all(account.partition, account.id).apply(
            lambda values: to_json(
                key_policy(
                    partition=values[0],
                    account=values[1],
                    region=region,
                    log_group_arn=f"arn:{values[0]}:logs:{region}:{values[1]}:log-group:{log_group}",
                )
            )
        )
        key = aws.kms.Key(
            f"{name}-key",
            description=(
                f"llmplane {args.cluster_name}: EKS secrets, node volumes, ECR, control-plane logs"
            ),
            enable_key_rotation=True,
            deletion_window_in_days=30,
            bypass_policy_lockout_safety_check=False,
            policy=policy,
            tags=dict(args.tags),
            opts=child,
        )
        self.alias = f"alias/{args.cluster_name}"
        aws.kms.Alias(f"{name}-key", name=self.alias, target_key_id=key.key_id, opts=child)
        self.arn = key.arn
        self.key_id = key.key_id
        self.register_outputs({"arn": self.arn, "alias": self.alias})


def require_region_and_name(region: str, cluster_name: str) -> None:
    """Refuse an empty region, or a cluster name that cannot name AWS resources (a DNS label)."""
    if not region:
        raise ValueError("region is empty; name the AWS region, e.g. us-east-1")
    if dns_label(cluster_name) != cluster_name:
        raise ValueError(
            f"cluster_name {cluster_name!r} is not a DNS label"
            " (lowercase letters, digits and '-', at most 63 characters)"
        )
