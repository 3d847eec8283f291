"""IAM roles of the AWS target: for AWS services, for service accounts (IRSA), for a workload."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from ..cloud import WorkloadIdentity
from ..cluster import Workload
from .iam_documents import irsa_trust, service_trust, to_json

__all__ = [
    "EksWorkloadIdentity",
    "EksWorkloadIdentityArgs",
    "irsa_role",
    "managed_policy",
    "service_role",
]

# The annotation the EKS pod identity webhook reads to inject the role's web identity token.
ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"


def managed_policy(partition: pulumi.Input[str], path: str) -> pulumi.Output[str]:
    """The ARN of an AWS managed policy, in the account's partition."""
    return pulumi.Output.from_input(partition).apply(
        lambda value: f"arn:{value}:iam::aws:policy/{path}"
    )


def service_role(
    name: str,
    service: str,
    policies: Sequence[str],
    partition: pulumi.Input[str],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    """A role one AWS service assumes, with the named AWS managed policies attached."""
    opts = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-role",
        assume_role_policy=to_json(service_trust(service)),
        tags=dict(tags),
        opts=opts,
    )
    attachments = [
        aws.iam.RolePolicyAttachment(
            f"{name}-{policy.rsplit('/', 1)[-1]}",
            role=role.name,
            policy_arn=managed_policy(partition, policy),
            opts=opts,
        )
        for policy in policies
    ]
    return role, attachments


def irsa_role(
    name: str,
    oidc_provider_arn: pulumi.Input[str],
    oidc_issuer: pulumi.Input[str],
    namespace: str,
    service_account: str,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """A role only the named Kubernetes service account can assume (IRSA)."""
    trust = pulumi.Output.all(oidc_provider_arn, oidc_issuer).apply(
        lambda values: to_json(irsa_trust(values[0], values[1], namespace, service_account))
    )
    return aws.iam.Role(
        f"{name}-irsa",
        assume_role_policy=trust,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )


@dataclass(frozen=True, kw_only=True)
class EksWorkloadIdentityArgs:
    """The cluster's OIDC identity provider and the one ServiceAccount the role is bound to."""

    oidc_provider_arn: pulumi.Input[str]
    """The ARN of the IAM OIDC provider of the cluster's issuer, which the role trusts."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's OIDC issuer URL (https://oidc.eks.<region>.amazonaws.com/id/...)."""
    workload: Workload
    """The Kubernetes ServiceAccount (namespace and name) that alone may assume the role."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the role."""

    def __post_init__(self) -> None:
        """Refuse a workload that names no ServiceAccount: the trust would match nobody."""
        if not self.workload.namespace:
            raise ValueError("workload.namespace is empty; name the ServiceAccount's namespace")
        if not self.workload.service_account:
            raise ValueError("workload.service_account is empty; name the ServiceAccount")


class EksWorkloadIdentity(pulumi.ComponentResource):
    """An IAM role with no permissions that only one Kubernetes ServiceAccount can assume (IRSA)."""

    role_arn: pulumi.Output[str]
    """The role's ARN, which the ServiceAccount's annotation names."""
    identity: WorkloadIdentity
    """The ServiceAccount annotation that makes the pods run as the role."""

    def __init__(
        self,
        name: str,
        args: EksWorkloadIdentityArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """The role `<name>-engine-irsa`, trusted through the cluster's OIDC provider."""
        super().__init__("llmplane:aws:WorkloadIdentity", name, None, opts)
        role = irsa_role(
            f"{name}-engine",
            args.oidc_provider_arn,
            args.oidc_issuer,
            args.workload.namespace,
            args.workload.service_account,
            args.tags,
            self,
        )
        self.role_arn = role.arn
        self.identity = WorkloadIdentity(annotations={ROLE_ANNOTATION: role.arn})
        self.register_outputs({"roleArn": self.role_arn})
