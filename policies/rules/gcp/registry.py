"""GCP rules for Artifact Registry: CMEK, immutable tags, and no grants to the public."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .. import (
    ANY_VALUE,
    Config,
    Props,
    Rule,
    dig,
    items,
    json_document,
    resource_rule,
    value_rule,
)

REPOSITORY = "gcp:artifactregistry/repository:Repository"
REPOSITORY_MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
REPOSITORY_BINDING = "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding"
REPOSITORY_POLICY = "gcp:artifactregistry/repositoryIamPolicy:RepositoryIamPolicy"
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")


# Only a key of the stack's own lets its owner audit and revoke access to the images.
artifact_registry_cmek = value_rule(
    "gcp-artifact-registry-cmek",
    types=[REPOSITORY],
    path="kmsKeyName",
    required=ANY_VALUE,  # absent: Google's key
    message="kmsKeyName is not set",
    description="Artifact Registry repositories are encrypted with a Cloud KMS key.",
    severity="medium",
    frameworks=("CKV_GCP_84",),
    remediation="Set kmsKeyName to a crypto key the Artifact Registry service agent may use; "
    "llmplane's repositories use the stack's key.",
)


def _standard_docker(props: Props) -> bool:
    """Remote (pull-through) and virtual repositories take their tags from upstream."""
    mode = dig(props, "mode", "STANDARD_REPOSITORY")
    return dig(props, "format") == "DOCKER" and mode == "STANDARD_REPOSITORY"


# A mutable tag lets whoever can push swap the image a running deployment pulls next.
artifact_registry_immutable_tags = value_rule(
    "gcp-artifact-registry-immutable-tags",
    types=[REPOSITORY],
    applies=_standard_docker,
    path="dockerConfig.immutableTags",
    required=True,  # absent: mutable
    message="dockerConfig.immutableTags is not true",
    description="Standard Docker repositories in Artifact Registry have immutable tags.",
    severity="medium",
    frameworks=("LLMPLANE-GCP-2",),
    remediation="Set dockerConfig.immutableTags to true, as llmplane's image repository does.",
)


@resource_rule(
    "gcp-artifact-registry-not-public",
    types=[REPOSITORY_MEMBER, REPOSITORY_BINDING, REPOSITORY_POLICY],
    description="Artifact Registry repositories grant nothing to allUsers or "
    "allAuthenticatedUsers.",
    severity="critical",
    frameworks=("CKV_GCP_101",),
    remediation="Grant the role to the node or workload service account instead, as llmplane's "
    "reader bindings do.",
)
def artifact_registry_not_public(type_: str, props: Props, config: Config) -> Iterator[str]:
    """A public repository leaks the images, and any secrets baked into their layers."""
    role = dig(props, "role", "?")
    if type_ == REPOSITORY_MEMBER:
        members = [(role, dig(props, "member"))]
    elif type_ == REPOSITORY_BINDING:
        members = [(role, m) for m in items(dig(props, "members"))]
    else:
        members = list(_policy_members(dig(props, "policyData")))
    for granted, member in members:
        if member in PUBLIC_MEMBERS:
            yield f"{granted} is granted to {member}"


def _policy_members(policy: Any) -> Iterator[tuple[str, Any]]:
    """(role, member) pairs of an IAM policy given as JSON text (policyData)."""
    document = json_document(policy)
    if document is None:
        return
    for binding in items(document.get("bindings")):
        if isinstance(binding, Mapping):
            for member in items(binding.get("members")):
                yield binding.get("role", "?"), member


RULES: tuple[Rule, ...] = (
    artifact_registry_cmek,
    artifact_registry_immutable_tags,
    artifact_registry_not_public,
)
