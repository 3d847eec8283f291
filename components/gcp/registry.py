"""Artifact Registry: a remote cache of the engine's registry and a private repository, CMEK."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from ..cloud import RegistryRef, upstream_registry

__all__ = ["KEEP_VERSIONS", "READER", "build_registries"]

READER = "roles/artifactregistry.reader"
KEEP_VERSIONS = 20


def build_registries(
    name: str,
    repository_prefix: str,
    project: str,
    region: str,
    engine_image: str,
    key_id: pulumi.Output[str],
    node_member: pulumi.Output[str],
    registry_agent: pulumi.Output[str],
    credentials: tuple[str, pulumi.Output[str]] | None,
    needs: list[pulumi.Resource],
    labels: dict[str, str],
    parent: pulumi.Resource,
) -> RegistryRef:
    """The remote cache the nodes pull the engine through, and a repository for your images."""
    opts = pulumi.ResourceOptions(parent=parent, depends_on=needs)
    upstream = upstream_registry(engine_image)
    cache = gcp.artifactregistry.Repository(
        f"{name}-cache",
        repository_id=f"{repository_prefix}-cache",
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
            upstream_credentials=_upstream_credentials(name, registry_agent, credentials, parent),
        ),
        kms_key_name=key_id,
        labels=labels,
        opts=opts,
    )
    images = gcp.artifactregistry.Repository(
        f"{name}-images",
        repository_id=f"{repository_prefix}-images",
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
        kms_key_name=key_id,
        labels=labels,
        opts=opts,
    )
    for kind, repository in (("cache", cache), ("images", images)):
        gcp.artifactregistry.RepositoryIamMember(
            f"{name}-{kind}-reader",
            repository=repository.name,
            location=region,
            role=READER,
            member=node_member,
            opts=pulumi.ResourceOptions(parent=parent),
        )
    return RegistryRef(
        prefix=cache.repository_id.apply(lambda r: f"{region}-docker.pkg.dev/{project}/{r}")
    )


def _upstream_credentials(
    name: str,
    registry_agent: pulumi.Output[str],
    credentials: tuple[str, pulumi.Output[str]] | None,
    parent: pulumi.Resource,
) -> gcp.artifactregistry.RepositoryRemoteRepositoryConfigUpstreamCredentialsArgs | None:
    """A Secret Manager secret for the upstream token, when the stack gives one."""
    if credentials is None:
        return None
    username, token = credentials
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
        member=registry_agent,
        opts=opts,
    )
    return gcp.artifactregistry.RepositoryRemoteRepositoryConfigUpstreamCredentialsArgs(
        username_password_credentials=gcp.artifactregistry.RepositoryRemoteRepositoryConfigUpstreamCredentialsUsernamePasswordCredentialsArgs(
            username=username, password_secret_version=version.name
        )
    )
