"""A private Cloud Storage bucket of model weights that vLLM and SGLang stream from `gs://`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from .kms import ENCRYPTER, project_number

__all__ = ["OBJECT_VIEWER", "GcsWeightsBucket", "GcsWeightsBucketArgs", "storage_agent"]

# Read and list objects, nothing else: the streamer lists the model's folder and reads ranges.
OBJECT_VIEWER = "roles/storage.objectViewer"
# Bucket names: 3 to 63 lowercase letters, digits, '-' and '_' (dots need domain verification).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]")


@dataclass(frozen=True, kw_only=True)
class GcsWeightsBucketArgs:
    """The project and key of the bucket, and the workload accounts that may read it."""

    project: str
    """The project the bucket is created in."""
    region: str
    """The bucket's location: the cluster's region, so weights never cross regions."""
    key_id: pulumi.Input[str]
    """The stack's Cloud KMS key (CloudKmsKey.key_id), in the same region: the bucket's CMEK."""
    reader_emails: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Google service accounts (GkeWorkloadIdentity.email) by label, granted objectViewer."""
    bucket_name: str | None = None
    """The bucket's global name; None: `<resource name>-<random suffix>`."""
    project_number: pulumi.Input[str] | None = None
    """The project's number, which names the Cloud Storage service agent; None looks it up."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels on the bucket."""

    def __post_init__(self) -> None:
        """Refuse a bucket Cloud Storage would reject, naming the field."""
        if not self.project:
            raise ValueError("project is empty; name the GCP project id")
        if not self.region:
            raise ValueError("region is empty; name the bucket's region, e.g. us-central1")
        if self.bucket_name is not None and not _BUCKET.fullmatch(self.bucket_name):
            raise ValueError(
                f"bucket_name {self.bucket_name!r} must be 3 to 63 lowercase letters, digits, "
                "'-' and '_'"
            )


def storage_agent(project_number: pulumi.Input[str]) -> pulumi.Output[str]:
    """The Cloud Storage service agent, which encrypts and decrypts objects with a CMEK."""
    return pulumi.Output.from_input(project_number).apply(
        lambda number: (
            f"serviceAccount:service-{number}@gs-project-accounts.iam.gserviceaccount.com"
        )
    )


class GcsWeightsBucket(pulumi.ComponentResource):
    """Cloud Storage with CMEK, uniform access, public access prevented, versioning, readers."""

    bucket_name: pulumi.Output[str]
    """The bucket's name."""
    uri: pulumi.Output[str]
    """`gs://<bucket>`: what the engine streams from, with the model's folder appended."""

    def __init__(
        self, name: str, args: GcsWeightsBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """The storage agent's key grant, then `<name>-weights`, then one viewer per reader."""
        super().__init__("llmplane:gcp:WeightsBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        number = project_number(args.project_number, args.project, self)
        # CloudKmsKey grants GKE, Compute, Artifact Registry and Filestore; Cloud Storage
        # refuses a default key its agent cannot use, so the grant comes first.
        grant = gcp.kms.CryptoKeyIAMMember(
            f"{name}-weights-key",
            crypto_key_id=args.key_id,
            role=ENCRYPTER,
            member=storage_agent(number),
            opts=child,
        )
        bucket = gcp.storage.Bucket(
            f"{name}-weights",
            name=args.bucket_name,
            project=args.project,
            location=args.region.upper(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            encryption=gcp.storage.BucketEncryptionArgs(default_kms_key_name=args.key_id),
            versioning=gcp.storage.BucketVersioningArgs(enabled=True),
            # Weights are re-uploadable but large: a non-empty bucket is never deleted with the
            # stack by accident.
            force_destroy=False,
            labels=dict(args.labels),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[grant]),
        )
        for label, email in args.reader_emails.items():
            gcp.storage.BucketIAMMember(
                f"{name}-weights-{label}",
                bucket=bucket.name,
                role=OBJECT_VIEWER,
                member=pulumi.Output.concat("serviceAccount:", email),
                opts=child,
            )
        self.bucket_name = bucket.name
        self.uri = bucket.name.apply(lambda b: f"gs://{b}")
        self.register_outputs({"bucketName": self.bucket_name, "uri": self.uri})
