"""IAM roles of the AWS target: for AWS services, and for Kubernetes service accounts (IRSA)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from .account import Account
from .iam_documents import irsa_trust, service_trust, to_json

if TYPE_CHECKING:
    from .eks import EksRef

__all__ = ["irsa_role", "managed_policy", "service_role"]


def managed_policy(account: Account, path: str) -> pulumi.Output[str]:
    """The ARN of an AWS managed policy, in the account's partition."""
    return account.partition.apply(lambda partition: f"arn:{partition}:iam::aws:policy/{path}")


def service_role(
    name: str,
    service: str,
    policies: Sequence[str],
    account: Account,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    """A role one AWS service assumes, with the named AWS managed policies attached."""
    opts = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-role", assume_role_policy=to_json(service_trust(service)), tags=tags, opts=opts
    )
    attachments = [
        aws.iam.RolePolicyAttachment(
            f"{name}-{policy.rsplit('/', 1)[-1]}",
            role=role.name,
            policy_arn=managed_policy(account, policy),
            opts=opts,
        )
        for policy in policies
    ]
    return role, attachments


def irsa_role(
    name: str,
    eks: EksRef,
    namespace: str,
    service_account: str,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """A role only the named Kubernetes service account can assume (IRSA)."""
    trust = pulumi.Output.all(eks.oidc_provider_arn, eks.oidc_issuer).apply(
        lambda values: to_json(irsa_trust(values[0], values[1], namespace, service_account))
    )
    return aws.iam.Role(
        f"{name}-irsa",
        assume_role_policy=trust,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
