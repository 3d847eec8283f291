"""Who and where a stack deploys on AWS: account id, partition and region, per component."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

__all__ = ["Account", "partition_of"]


@dataclass(frozen=True)
class Account:
    """The caller's account and partition (from STS, mocked offline) and the stack's region."""

    id: pulumi.Output[str]
    partition: pulumi.Output[str]
    region: str

    @staticmethod
    def lookup(region: str, parent: pulumi.Resource) -> Account:
        """Ask STS who we are; offline the mocks answer with a fixed, obviously fake account."""
        opts = pulumi.InvokeOutputOptions(parent=parent)
        identity = aws.get_caller_identity_output(opts=opts)
        return Account(id=identity.account_id, partition=partition_of(parent), region=region)


def partition_of(parent: pulumi.Resource) -> pulumi.Output[str]:
    """The partition (aws, aws-cn, aws-us-gov) that managed policy ARNs are written in."""
    opts = pulumi.InvokeOutputOptions(parent=parent)
    return aws.get_partition_output(opts=opts).partition
