"""Policy rules for AWS: EKS, its nodes, ECR, KMS, IAM documents, EFS, security groups, logs."""

# Imported for their registrations; this order is the order in every report, so it stays unsorted.
# isort: off
from . import eks, nodes, registry, kms, iam, storage_network  # noqa: F401
# isort: on
