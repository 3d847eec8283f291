"""Cloud KMS: a key ring and a 90-day-rotating key, for the service agents that need it only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_gcp as gcp

if TYPE_CHECKING:
    from .args import CloudKmsKeyArgs

__all__ = [
    "ENCRYPTER",
    "ROTATION",
    "AgentGrants",
    "CloudKmsKey",
    "project_number",
    "service_agents",
]

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


def project_number(
    given: pulumi.Input[str] | None, project: pulumi.Input[str], parent: pulumi.Resource
) -> pulumi.Input[str]:
    """The project's number, which service agents' addresses are made of: given, or looked up."""
    if given is not None:
        return given
    return gcp.organizations.get_project_output(
        project_id=project, opts=pulumi.InvokeOutputOptions(parent=parent)
    ).number


def service_agents(project_number: pulumi.Input[str]) -> dict[str, pulumi.Output[str]]:
    """The Google-managed identities that encrypt on the project's behalf."""
    domains = {
        "gke": "container-engine-robot",
        "compute": "compute-system",
        "registry": "gcp-sa-artifactregistry",
        "filestore": "cloud-filestore",
    }
    number = pulumi.Output.from_input(project_number)
    return {
        agent: number.apply(
            lambda value, domain=domain: (
                f"serviceAccount:service-{value}@{domain}.iam.gserviceaccount.com"
            )
        )
        for agent, domain in domains.items()
    }


class CloudKmsKey(pulumi.ComponentResource):
    """A key ring, a rotating key, and key use for GKE, Compute, Artifact Registry, Filestore."""

    key_id: pulumi.Output[str]
    """The key's id (projects/P/locations/L/keyRings/R/cryptoKeys/cmk)."""
    grants: AgentGrants
    """Each service agent's key-use binding, for its CMEK user to wait on."""
    agents: dict[str, pulumi.Output[str]]
    """The service agents' IAM members, by agent (gke, compute, registry, filestore)."""

    def __init__(
        self, name: str, args: CloudKmsKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """The key ring (after `args.depends_on`), the key, one encrypter binding per agent."""
        super().__init__("llmplane:gcp:EncryptionKey", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        number = project_number(args.project_number, args.project, self)
        ring = gcp.kms.KeyRing(
            f"{name}-keyring",
            name=args.key_ring_name,
            location=args.region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        key = gcp.kms.CryptoKey(
            f"{name}-key",
            name="cmk",
            key_ring=ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=ROTATION,
            labels=dict(args.labels),
            opts=child,
        )
        self.agents = service_agents(number)
        grants = {
            agent: gcp.kms.CryptoKeyIAMMember(
                f"{name}-key-{agent}",
                crypto_key_id=key.id,
                role=ENCRYPTER,
                member=member,
                opts=child,
            )
            for agent, member in self.agents.items()
        }
        self.grants = AgentGrants(
            gke=grants["gke"],
            compute=grants["compute"],
            registry=grants["registry"],
            filestore=grants["filestore"],
        )
        self.key_id = key.id
        self.register_outputs({"keyId": self.key_id})
