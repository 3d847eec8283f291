"""Policy rules for AWS: EKS, its nodes, ECR, KMS, IAM documents, EFS, security groups, logs."""

from .. import Rule
from . import eks, iam, kms, nodes, registry, storage_network

# The order of every report.
RULES: tuple[Rule, ...] = (
    *eks.RULES,
    *nodes.RULES,
    *registry.RULES,
    *kms.RULES,
    *iam.RULES,
    *storage_network.RULES,
)
