"""Cloud KMS: a key ring and a 90-day-rotating key, for the service agents that need it only."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

__all__ = ["ENCRYPTER", "ROTATION", "AgentGrants", "build_key", "service_agents"]

# Rotation period in seconds: 90 days, the most CIS and CKV_GCP_43 allow.
ROTATION = f"{90 * 24 * 3600}s"
ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


@dataclass(frozen=True)
class AgentGrants:
    """A key-use binding per service agent; each CMEK user waits for its own binding."""

    gke: gcp.kms.CryptoKeyIAMMember
    """GKE's binding (application-layer secrets encryption)."""
    compute: gcp.kms.CryptoKeyIAMMember
    """Compute Engine's binding (CMEK boot disks)."""
    registry: gcp.kms.CryptoKeyIAMMember
    """Artifact Registry's binding (the registries' CMEK)."""
    filestore: gcp.kms.CryptoKeyIAMMember
    """Filestore's binding (the shared weights cache's CMEK)."""


def service_agents(project_number: pulumi.Output[str]) -> dict[str, pulumi.Output[str]]:
    """The Google-managed identities that encrypt on the project's behalf."""
    domains = {
        "gke": "container-engine-robot",
        "compute": "compute-system",
        "registry": "gcp-sa-artifactregistry",
        "filestore": "cloud-filestore",
    }
    return {
        agent: project_number.apply(
            lambda number, domain=domain: (
                f"serviceAccount:service-{number}@{domain}.iam.gserviceaccount.com"
            )
        )
        for agent, domain in domains.items()
    }


def build_key(
    name: str,
    key_ring_name: str,
    region: str,
    project_number: pulumi.Output[str],
    needs: list[pulumi.Resource],
    labels: dict[str, str],
    parent: pulumi.Resource,
) -> tuple[gcp.kms.CryptoKey, AgentGrants]:
    """The key ring, the key, and one encrypter binding per service agent, scoped to the key."""
    opts = pulumi.ResourceOptions(parent=parent, depends_on=needs)
    ring = gcp.kms.KeyRing(f"{name}-keyring", name=key_ring_name, location=region, opts=opts)
    key = gcp.kms.CryptoKey(
        f"{name}-key",
        name="cmk",
        key_ring=ring.id,
        purpose="ENCRYPT_DECRYPT",
        rotation_period=ROTATION,
        labels=labels,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    agents = service_agents(project_number)
    grants = {
        agent: gcp.kms.CryptoKeyIAMMember(
            f"{name}-key-{agent}",
            crypto_key_id=key.id,
            role=ENCRYPTER,
            member=member,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for agent, member in agents.items()
    }
    return key, AgentGrants(
        gke=grants["gke"],
        compute=grants["compute"],
        registry=grants["registry"],
        filestore=grants["filestore"],
    )
