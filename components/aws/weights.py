"""A private S3 bucket of model weights that vLLM and SGLang stream with the Run:ai streamer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from .iam_documents import Document, to_json

__all__ = [
    "LIST_ACTIONS",
    "READ_ACTIONS",
    "S3WeightsBucket",
    "S3WeightsBucketArgs",
    "reader_policy",
    "tls_only",
]

# What the streamer calls: it lists the prefix, then reads ranges of each object.
READ_ACTIONS = ("s3:GetObject",)
LIST_ACTIONS = ("s3:ListBucket",)
# S3 bucket names: 3 to 63 lowercase letters, digits, dots and hyphens (no dots here: virtual-
# hosted HTTPS, which the streamer uses by default, cannot match a dotted name's certificate).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


@dataclass(frozen=True, kw_only=True)
class S3WeightsBucketArgs:
    """The key that encrypts the weights and the workload roles that may read them."""

    key_arn: pulumi.Input[str]
    """The stack's KMS key (KmsKey.arn): default SSE-KMS for every object."""
    region: str
    """The bucket's region; readers may use the key only through S3 there."""
    reader_role_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Workload roles (EksWorkloadIdentity.role_arn) by label, granted read on `prefix`."""
    bucket_name: str | None = None
    """The bucket's global name; None: `<resource name>-<random suffix>`."""
    prefix: str = ""
    """The folder readers may read, e.g. Qwen/Qwen2.5-7B-Instruct; empty: the whole bucket."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the bucket."""

    def __post_init__(self) -> None:
        """Refuse a name S3 rejects and a prefix that would not name a folder."""
        if not self.region:
            raise ValueError("region is empty; name the AWS region, e.g. us-east-1")
        if self.bucket_name is not None and not _BUCKET.fullmatch(self.bucket_name):
            raise ValueError(
                f"bucket_name {self.bucket_name!r} must be 3 to 63 lowercase letters, digits and "
                "'-' (no dots: the streamer's virtual-hosted HTTPS needs a dotless name)"
            )
        if self.prefix.startswith("/") or self.prefix.endswith("/") or "*" in self.prefix:
            raise ValueError(
                f"prefix {self.prefix!r} must be a folder path without leading or trailing '/' "
                "and without '*', e.g. Qwen/Qwen2.5-7B-Instruct"
            )


def tls_only(bucket_arn: str) -> Document:
    """The bucket policy: every request without TLS is denied, whoever makes it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyWithoutTLS",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def reader_policy(bucket_arn: str, prefix: str, key_arn: str, region: str) -> Document:
    """Read the objects under `prefix`, list only there, decrypt with the key only via S3."""
    objects = f"{bucket_arn}/{prefix}/*" if prefix else f"{bucket_arn}/*"
    listing: Document = {
        "Sid": "ListWeights",
        "Effect": "Allow",
        "Action": list(LIST_ACTIONS),
        "Resource": bucket_arn,
    }
    if prefix:
        listing["Condition"] = {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}}
    return {
        "Version": "2012-10-17",
        "Statement": [
            listing,
            {
                "Sid": "ReadWeights",
                "Effect": "Allow",
                "Action": list(READ_ACTIONS),
                "Resource": objects,
            },
            {
                # SSE-KMS objects are decrypted for the reader: it needs Decrypt on the key, and
                # only for S3 in this region, not to decrypt anything else the key protects.
                "Sid": "DecryptWeights",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            },
        ],
    }


def _role_name(role_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """A role's name from its ARN: role names cannot hold '/', so it is the last segment."""
    return pulumi.Output.from_input(role_arn).apply(lambda arn: arn.rsplit("/", 1)[-1])


class S3WeightsBucket(pulumi.ComponentResource):
    """S3 with SSE-KMS, public access blocked, owner-enforced, versioned, TLS only, read grants."""

    bucket_name: pulumi.Output[str]
    """The bucket's name."""
    bucket_arn: pulumi.Output[str]
    """The bucket's ARN."""
    uri: pulumi.Output[str]
    """`s3://<bucket>/<prefix>`: what the engine streams from (see kubernetes/streamer.py)."""

    def __init__(
        self, name: str, args: S3WeightsBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """`<name>-weights` and its encryption, access block, ownership, versioning, policies."""
        super().__init__("llmplane:aws:WeightsBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            f"{name}-weights",
            bucket=args.bucket_name,
            # Weights are large and re-uploadable, but a stack deleted by mistake must not take
            # them along: deleting a non-empty bucket fails.
            force_destroy=False,
            tags=dict(args.tags),
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-weights",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=args.key_arn
                    ),
                    # One data key per bucket, not per object: thousands of range reads would
                    # otherwise each call KMS.
                    bucket_key_enabled=True,
                    # Keys the uploader supplies (SSE-C) would leave the stack's key out of it.
                    blocked_encryption_types=["SSE-C"],
                )
            ],
            opts=child,
        )
        access = aws.s3.BucketPublicAccessBlock(
            f"{name}-weights",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        # ACLs off: the bucket's owner owns every object, and only policies grant access.
        aws.s3.BucketOwnershipControls(
            f"{name}-weights",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        # An overwritten or deleted checkpoint can be restored.
        aws.s3.BucketVersioning(
            f"{name}-weights",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"
            ),
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-weights",
            bucket=bucket.id,
            policy=bucket.arn.apply(lambda arn: to_json(tls_only(arn))),
            # S3 refuses a policy write while the access block is being changed.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[access]),
        )
        prefix, region = args.prefix, args.region
        policy = pulumi.Output.all(bucket.arn, args.key_arn).apply(
            lambda values: to_json(reader_policy(values[0], prefix, values[1], region))
        )
        for label, role_arn in args.reader_role_arns.items():
            aws.iam.RolePolicy(
                f"{name}-weights-{label}",
                role=_role_name(role_arn),
                policy=policy,
                opts=child,
            )
        # A bucket's id is its name, auto-named or not.
        self.bucket_name = bucket.id
        self.bucket_arn = bucket.arn
        self.uri = bucket.id.apply(lambda b: f"s3://{b}/{prefix}" if prefix else f"s3://{b}")
        self.register_outputs(
            {"bucketName": self.bucket_name, "bucketArn": self.bucket_arn, "uri": self.uri}
        )
