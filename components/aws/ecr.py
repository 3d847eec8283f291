"""ECR: a private repository for your images and a pull-through cache of the engine's registry."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from ..cloud import RegistryRef, upstream_registry
from .account import Account
from .iam_documents import pull_through_cache, to_json

__all__ = ["KEEP_IMAGES", "UPSTREAMS", "EcrMirror", "EcrMirrorArgs"]

# ECR's names for the upstream registries engine images come from.
UPSTREAMS = {
    "ghcr.io": ("ghcr.io", "github"),
    "docker.io": ("registry-1.docker.io", "docker-hub"),
}
KEEP_IMAGES = 30


@dataclass(frozen=True, kw_only=True)
class EcrMirrorArgs:
    """A private repository, and a pull-through cache of the engine image's registry."""

    repository_name: str
    """The private repository's name (the cluster's name, in EksGpuCluster)."""
    engine_image: str
    """The public engine image whose registry the pull-through cache mirrors."""
    region: str
    """The AWS region of the registry, which its host name and the pull policy name."""
    key_arn: pulumi.Input[str] | None = None
    """The KMS key that encrypts the repositories; None: ECR's AWS-managed key."""
    credentials: tuple[str, pulumi.Output[str]] | None = None
    """User name and secret token on the engine image's registry; None: no pull-through cache."""
    pull_role_names: Sequence[pulumi.Input[str]] = ()
    """IAM roles (names) that may fill the cache on first pull: the cluster's node role."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the repositories and the credential secret."""

    def __post_init__(self) -> None:
        """Refuse names ECR rejects and an image with no name, naming the field."""
        if not self.region:
            raise ValueError("region is empty; name the AWS region, e.g. us-east-1")
        if not self.repository_name or self.repository_name != self.repository_name.lower():
            raise ValueError(
                f"repository_name {self.repository_name!r} must be non-empty and lowercase"
            )
        if not self.engine_image:
            raise ValueError("engine_image is empty; name the image the cache mirrors")


class EcrMirror(pulumi.ComponentResource):
    """ECR, with no cluster needed: an immutable, scanned repository and the engine's cache."""

    repository_url: pulumi.Output[str]
    """The private repository's URL."""
    registry: RegistryRef | None
    """The pull-through cache, as the prefix that replaces the engine image's registry host."""
    prefix: pulumi.Output[str] | None
    """`<account>.dkr.ecr.<region>.amazonaws.com/<cache prefix>`, when the cache exists."""

    def __init__(
        self, name: str, args: EcrMirrorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """`<name>-repo` with its lifecycle policy; the `<name>-cache` rule when it can exist.

        The cache exists only when the registry is one ECR can cache (ghcr.io, Docker Hub) and
        credentials for it are given; `registry` is None otherwise.
        """
        super().__init__("llmplane:aws:RegistryMirror", name, None, opts)
        tags = dict(args.tags)
        child = pulumi.ResourceOptions(parent=self)
        encryption = (
            [
                aws.ecr.RepositoryEncryptionConfigurationArgs(
                    encryption_type="KMS", kms_key=args.key_arn
                )
            ]
            if args.key_arn is not None
            else None
        )
        repository = aws.ecr.Repository(
            f"{name}-repo",
            name=args.repository_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                scan_on_push=True
            ),
            encryption_configurations=encryption,
            tags=tags,
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-repo", repository=repository.name, policy=_lifecycle(), opts=child
        )
        self.repository_url = repository.repository_url
        upstream = UPSTREAMS.get(upstream_registry(args.engine_image))
        self.registry = (
            None
            if args.credentials is None or upstream is None
            else self._cache(name, args, args.credentials, upstream)
        )
        self.prefix = self.registry.prefix if self.registry is not None else None
        self.register_outputs({"repositoryUrl": self.repository_url, "prefix": self.prefix})

    def _cache(
        self,
        name: str,
        args: EcrMirrorArgs,
        credentials: tuple[str, pulumi.Output[str]],
        upstream: tuple[str, str],
    ) -> RegistryRef:
        """The credential secret, the cache rule, its repository template and pull policies."""
        tags = dict(args.tags)
        opts = pulumi.ResourceOptions(parent=self)
        upstream_url, prefix = upstream
        username, token = credentials
        # ECR reads the upstream credential through its service-linked role, which may not exist
        # before the first cache rule; a key policy cannot name a missing role, so this one secret
        # uses the account's default Secrets Manager key instead of the stack's CMK.
        secret = aws.secretsmanager.Secret(
            f"{name}-upstream",
            name=f"ecr-pullthroughcache/{args.repository_name}-{prefix}",
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
            encryption_configurations=(
                [
                    aws.ecr.RepositoryCreationTemplateEncryptionConfigurationArgs(
                        encryption_type="KMS", kms_key=args.key_arn
                    )
                ]
                if args.key_arn is not None
                else None
            ),
            resource_tags=tags,
            opts=opts,
        )
        account = Account.lookup(args.region, self)
        region = args.region
        policy = pulumi.Output.all(account.partition, account.id).apply(
            lambda values: to_json(pull_through_cache(values[0], region, values[1], prefix))
        )
        for index, role in enumerate(args.pull_role_names):
            # The first keeps the name it had when the node role was the only one.
            suffix = "" if index == 0 else f"-{index}"
            aws.iam.RolePolicy(f"{name}-node-cache{suffix}", role=role, policy=policy, opts=opts)
        host = account.id.apply(lambda account_id: f"{account_id}.dkr.ecr.{region}.amazonaws.com")
        return RegistryRef(
            prefix=pulumi.Output.all(host, rule.ecr_repository_prefix).apply("/".join)
        )


def _lifecycle() -> str:
    """Expire all but the newest KEEP_IMAGES images."""
    return json.dumps(
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
    )
