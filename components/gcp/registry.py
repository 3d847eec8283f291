"""Artifact Registry: a remote cache of the engine's registry and a private repository, CMEK."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

from ..cloud import RegistryRef, upstream_registry

if TYPE_CHECKING:
    from .args import ArtifactRegistryMirrorArgs

__all__ = ["KEEP_VERSIONS", "READER", "ArtifactRegistryMirror"]

READER = "roles/artifactregistry.reader"
KEEP_VERSIONS = 20


class ArtifactRegistryMirror(pulumi.ComponentResource):
    """A CMEK remote repository caching the engine image's registry, and one for your images."""

    registry: RegistryRef
    """The mirror: the prefix that replaces the engine image's registry host."""
    prefix: pulumi.Output[str]
    """<region>-docker.pkg.dev/<project>/<prefix>-cache, the remote repository's image path."""
    images_prefix: pulumi.Output[str]
    """<region>-docker.pkg.dev/<project>/<prefix>-images, where your own images go."""

    def __init__(
        self,
        name: str,
        args: ArtifactRegistryMirrorArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`<name>-cache` and `<name>-images` (after `args.depends_on`), and their readers."""
        super().__init__("llmplane:gcp:RegistryMirror", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        needs = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        region, project, labels = args.region, args.project, dict(args.labels)
        upstream = upstream_registry(args.engine_image)
        cache = gcp.artifactregistry.Repository(
            f"{name}-cache",
            repository_id=f"{args.repository_prefix}-cache",
            location=region,
            format="DOCKER",
            mode="REMOTE_REPOSITORY",
            description=f"Pull-through cache of {upstream}",
            remote_repository_config=gcp.artifactregistry.RepositoryRemoteRepositoryConfigArgs(
                description=upstream,
                docker_repository=gcp.artifactregistry.RepositoryRemoteRepositoryConfigDockerRepositoryArgs(
                    custom_repository=gcp.artifactregistry.RepositoryRemoteRepositoryConfigDockerRepositoryCustomRepositoryArgs(
                        uri=f"https://{upstream}"
                    )
                ),
                upstream_credentials=_upstream_credentials(self, name, args),
            ),
            kms_key_name=args.key_id,
            labels=labels,
            opts=needs,
        )
        images = gcp.artifactregistry.Repository(
            f"{name}-images",
            repository_id=f"{args.repository_prefix}-images",
            location=region,
            format="DOCKER",
            mode="STANDARD_REPOSITORY",
            description="Your own images",
            docker_config=gcp.artifactregistry.RepositoryDockerConfigArgs(immutable_tags=True),
            cleanup_policies=[
                gcp.artifactregistry.RepositoryCleanupPolicyArgs(
                    id="keep-recent",
                    action="KEEP",
                    most_recent_versions=gcp.artifactregistry.RepositoryCleanupPolicyMostRecentVersionsArgs(
                        keep_count=KEEP_VERSIONS
                    ),
                ),
                gcp.artifactregistry.RepositoryCleanupPolicyArgs(
                    id="drop-untagged",
                    action="DELETE",
                    condition=gcp.artifactregistry.RepositoryCleanupPolicyConditionArgs(
                        tag_state="UNTAGGED", older_than="604800s"
                    ),
                ),
            ],
            kms_key_name=args.key_id,
            labels=labels,
            opts=needs,
        )
        for kind, repository in (("cache", cache), ("images", images)):
            for index, member in enumerate(args.readers):
                # The first reader keeps the plain name, so that adding one renames nothing.
                suffix = f"-{index}" if index else ""
                gcp.artifactregistry.RepositoryIamMember(
                    f"{name}-{kind}-reader{suffix}",
                    repository=repository.name,
                    location=region,
                    role=READER,
                    member=member,
                    opts=child,
                )
        self.prefix = cache.repository_id.apply(lambda r: f"{region}-docker.pkg.dev/{project}/{r}")
        self.images_prefix = images.repository_id.apply(
            lambda r: f"{region}-docker.pkg.dev/{project}/{r}"
        )
        self.registry = RegistryRef(prefix=self.prefix)
        self.register_outputs({"prefix": self.prefix, "imagesPrefix": self.images_prefix})


def _upstream_credentials(
    parent: pulumi.Resource, name: str, args: ArtifactRegistryMirrorArgs
) -> gcp.artifactregistry.RepositoryRemoteRepositoryConfigUpstreamCredentialsArgs | None:
    """A Secret Manager secret for the upstream token, when the args give one."""
    agent = args.registry_agent
    if args.credentials is None or agent is None:
        return None
    username, token = args.credentials
    opts = pulumi.ResourceOptions(parent=parent)
    secret = gcp.secretmanager.Secret(
        f"{name}-upstream-token",
        secret_id=f"{name}-upstream-token",
        replication=gcp.secretmanager.SecretReplicationArgs(
            auto=gcp.secretmanager.SecretReplicationAutoArgs()
        ),
        opts=opts,
    )
    version = gcp.secretmanager.SecretVersion(
        f"{name}-upstream-token", secret=secret.id, secret_data=token, opts=opts
    )
    # Artifact Registry's service agent reads the token; nobody else gets access to it.
    gcp.secretmanager.SecretIamMember(
        f"{name}-upstream-token",
        secret_id=secret.id,
        role="roles/secretmanager.secretAccessor",
        member=agent,
        opts=opts,
    )
    return gcp.artifactregistry.RepositoryRemoteRepositoryConfigUpstreamCredentialsArgs(
        username_password_credentials=gcp.artifactregistry.RepositoryRemoteRepositoryConfigUpstreamCredentialsUsernamePasswordCredentialsArgs(
            username=username, password_secret_version=version.name
        )
    )
