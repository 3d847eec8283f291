"""AWS rules for ECR repositories: immutable tags, scanning, KMS encryption, repository policy."""

from __future__ import annotations

from collections.abc import Iterator

from .. import Config, Props, Rule, dig, items, resource_rule, value_rule
from .documents import grants_everyone, statements

ECR_REPOSITORY = "aws:ecr/repository:Repository"
ECR_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"


# A mutable tag lets whoever can push swap the image a running deployment pulls next.
# IMMUTABLE_WITH_EXCLUSION keeps every tag immutable but those the owner lists on purpose.
ecr_immutable_tags = value_rule(
    "aws-ecr-immutable-tags",
    types=[ECR_REPOSITORY],
    path="imageTagMutability",
    allowed=["IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"],
    default="MUTABLE",  # absent: ECR's default
    message="imageTagMutability is {value}",
    description="ECR repositories have immutable image tags.",
    severity="medium",
    frameworks=("CKV_AWS_51",),
    remediation="Set imageTagMutability to IMMUTABLE, as llmplane's repository does.",
)

# Engine images are large and move fast; known CVEs should surface before they deploy.
ecr_scan_on_push = value_rule(
    "aws-ecr-scan-on-push",
    types=[ECR_REPOSITORY],
    path="imageScanningConfiguration.scanOnPush",
    required=True,  # absent: off
    message="imageScanningConfiguration.scanOnPush is not true",
    description="ECR scans every image for vulnerabilities when it is pushed.",
    severity="medium",
    frameworks=("CKV_AWS_163",),
    remediation="Set imageScanningConfiguration.scanOnPush to true (or configure enhanced "
    "scanning for the registry and waive this policy).",
)


@resource_rule(
    "aws-ecr-kms-encrypted",
    types=[ECR_REPOSITORY],
    description="ECR repositories are encrypted with a customer-managed KMS key.",
    severity="medium",
    frameworks=("CKV_AWS_136",),
    remediation="Set encryptionConfigurations to [{encryptionType: KMS, kmsKey: <key ARN>}]; "
    "llmplane's repository uses the stack's key.",
)
def ecr_kms_encrypted(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Only a key of the stack's own lets its owner audit and revoke access to the images."""
    configs = items(dig(props, "encryptionConfigurations"))
    kind = dig(configs[0], "encryptionType", "AES256") if configs else "AES256"  # ECR's default
    if not str(kind).startswith("KMS"):  # KMS or KMS_DSSE
        yield f"encryptionType is {kind}, not KMS"
    elif not dig(configs[0], "kmsKey"):
        yield "encryptionType is KMS without a kmsKey: the AWS-managed aws/ecr key is used"


@resource_rule(
    "aws-ecr-policy-not-public",
    types=[ECR_POLICY],
    description="ECR repository policies grant nothing to the wildcard principal.",
    severity="critical",
    frameworks=("CKV_AWS_32",),
    remediation="Name the accounts or roles that may pull in Principal, or constrain a wildcard "
    "Principal with a Condition such as aws:PrincipalOrgID.",
)
def ecr_policy_not_public(type_: str, props: Props, config: Config) -> Iterator[str]:
    """A public repository leaks the images, and any secrets baked into their layers."""
    for label, statement in statements(props, "policy"):
        if grants_everyone(statement):
            yield f"{label} allows Principal * without a Condition"


RULES: tuple[Rule, ...] = (
    ecr_immutable_tags,
    ecr_scan_on_push,
    ecr_kms_encrypted,
    ecr_policy_not_public,
)
