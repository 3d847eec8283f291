"""ECR: a private repository for your images and a pull-through cache of the engine's registry."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from ..cloud import RegistryRef, upstream_registry
from .account import Account
from .iam_documents import pull_through_cache, to_json

__all__ = ["KEEP_IMAGES", "UPSTREAMS", "build_registry"]

# ECR's names for the upstream registries engine images come from.
UPSTREAMS = {
    "ghcr.io": ("ghcr.io", "github"),
    "docker.io": ("registry-1.docker.io", "docker-hub"),
}
KEEP_IMAGES = 30


def build_registry(
    name: str,
    repository_name: str,
    engine_image: str,
    key_arn: pulumi.Output[str],
    account: Account,
    credentials: tuple[str, pulumi.Output[str]] | None,
    node_role: aws.iam.Role,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> RegistryRef | None:
    """The repository always; the cache rule when the stack gives upstream credentials."""
    opts = pulumi.ResourceOptions(parent=parent)
    repository = aws.ecr.Repository(
        f"{name}-repo",
        name=repository_name,
        image_tag_mutability="IMMUTABLE",
        image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
            scan_on_push=True
        ),
        encryption_configurations=[
            aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=key_arn)
        ],
        tags=tags,
        opts=opts,
    )
    aws.ecr.LifecyclePolicy(
        f"{name}-repo",
        repository=repository.name,
        policy=json.dumps(
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "description": f"keep the newest {KEEP_IMAGES} images",
                        "selection": {
                            "tagStatus": "any",
                            "countType": "imageCountMoreThan",
                            "countNumber": KEEP_IMAGES,
                        },
                        "action": {"type": "expire"},
                    }
                ]
            },
            sort_keys=True,
        ),
        opts=opts,
    )
    upstream = UPSTREAMS.get(upstream_registry(engine_image))
    if credentials is None or upstream is None:
        return None
    upstream_url, prefix = upstream
    username, token = credentials
    # ECR reads the upstream credential through its service-linked role, which may not exist
    # before the first cache rule; a key policy cannot name a missing role, so this one secret
    # uses the account's default Secrets Manager key instead of the stack's CMK.
    secret = aws.secretsmanager.Secret(
        f"{name}-upstream",
        name=f"ecr-pullthroughcache/{repository_name}-{prefix}",
        description=f"Credentials ECR uses to cache images from {upstream_url}",
        tags=tags,
        opts=opts,
    )
    aws.secretsmanager.SecretVersion(
        f"{name}-upstream",
        secret_id=secret.id,
        secret_string=pulumi.Output.secret(
            token.apply(lambda value: json.dumps({"username": username, "accessToken": value}))
        ),
        opts=opts,
    )
    rule = aws.ecr.PullThroughCacheRule(
        f"{name}-cache",
        ecr_repository_prefix=prefix,
        upstream_registry_url=upstream_url,
        credential_arn=secret.arn,
        opts=opts,
    )
    # Repositories the cache creates on first pull get the same key as everything else.
    aws.ecr.RepositoryCreationTemplate(
        f"{name}-cache",
        prefix=prefix,
        applied_fors=["PULL_THROUGH_CACHE"],
        description="Repositories created by the llmplane pull-through cache",
        encryption_configurations=[
            aws.ecr.RepositoryCreationTemplateEncryptionConfigurationArgs(
                encryption_type="KMS", kms_key=key_arn
            )
        ],
        resource_tags=tags,
        opts=opts,
    )
    aws.iam.RolePolicy(
        f"{name}-node-cache",
        role=node_role.id,
        policy=pulumi.Output.all(account.partition, account.id).apply(
            lambda values: to_json(pull_through_cache(values[0], account.region, values[1], prefix))
        ),
        opts=opts,
    )
    host = account.id.apply(
        lambda account_id: f"{account_id}.dkr.ecr.{account.region}.amazonaws.com"
    )
    return RegistryRef(prefix=pulumi.Output.all(host, rule.ecr_repository_prefix).apply("/".join))
