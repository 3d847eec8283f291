"""GCP rules for the GKE control plane: private nodes, API access, identity, auth, encryption."""

from __future__ import annotations

from collections.abc import Iterator

from .. import (
    ANY_VALUE,
    Config,
    Props,
    Rule,
    dig,
    is_open_cidr,
    items,
    resource_rule,
    truthy,
    value_rule,
)

CLUSTER = "gcp:container/cluster:Cluster"
# Binary Authorization modes that enforce a policy; DISABLED and absent admit any image.
ENFORCING_MODES = (
    "PROJECT_SINGLETON_POLICY_ENFORCE",
    "POLICY_BINDINGS",
    "POLICY_BINDINGS_AND_PROJECT_SINGLETON_POLICY_ENFORCE",
)


# Nodes with public addresses are reachable from the internet on every open node port.
gke_private_nodes = value_rule(
    "gcp-gke-private-nodes",
    types=[CLUSTER],
    path="privateClusterConfig.enablePrivateNodes",
    required=True,  # absent: GKE gives every node an external IP
    message="privateClusterConfig.enablePrivateNodes is not true: nodes get public IPs",
    description="GKE nodes have private IP addresses only.",
    severity="high",
    frameworks=("CKV_GCP_25", "CKV_GCP_64"),
    remediation="Set privateClusterConfig.enablePrivateNodes to true and give the nodes a Cloud "
    "NAT for egress, as llmplane's GKE adapter does.",
)


@resource_rule(
    "gcp-gke-master-authorized-networks",
    types=[CLUSTER],
    description="The GKE control plane accepts only authorized networks, never 0.0.0.0/0.",
    severity="critical",
    frameworks=("CKV_GCP_18", "CKV_GCP_20"),
    remediation="Set llmplane:cluster.privateEndpoint to true, or list your networks in "
    "llmplane:cluster.authorizedCidrs (masterAuthorizedNetworksConfig.cidrBlocks) without "
    "0.0.0.0/0.",
)
def gke_master_authorized_networks(type_: str, props: Props, config: Config) -> Iterator[str]:
    """An API server open to the internet is one leaked or guessed credential from takeover."""
    networks = dig(props, "masterAuthorizedNetworksConfig")
    if networks is None:  # absent: the feature is off and every address may connect
        yield "masterAuthorizedNetworksConfig is not set: the control plane accepts any address"
        return
    for block in items(dig(networks, "cidrBlocks")):
        cidr = dig(block, "cidrBlock")
        if is_open_cidr(cidr):
            yield f"masterAuthorizedNetworksConfig.cidrBlocks includes {cidr}"
    # Absent: GKE's own default, which llmplane leaves alone; only an explicit opt-in is flagged.
    if truthy(dig(networks, "gcpPublicCidrsAccessEnabled")):
        yield "gcpPublicCidrsAccessEnabled is true: every Google Cloud public IP may connect"


@resource_rule(
    "gcp-gke-network-policy",
    types=[CLUSTER],
    description="GKE enforces Kubernetes NetworkPolicy, through Dataplane V2 or the Calico add-on.",
    severity="high",
    frameworks=("CKV_GCP_12",),
    remediation="Set datapathProvider to ADVANCED_DATAPATH (Dataplane V2, as llmplane does) or "
    "networkPolicy.enabled to true.",
)
def gke_network_policy(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Without enforcement the engine's NetworkPolicy objects are decoration."""
    if truthy(dig(props, "enableAutopilot")):
        return  # Autopilot always runs Dataplane V2
    if dig(props, "datapathProvider") == "ADVANCED_DATAPATH":
        return
    if truthy(dig(props, "networkPolicy.enabled")):  # absent: off
        return
    yield "neither datapathProvider ADVANCED_DATAPATH nor networkPolicy.enabled is set"


def _not_autopilot(props: Props) -> bool:
    """Autopilot always enables Workload Identity, whatever the cluster's inputs say."""
    return not truthy(dig(props, "enableAutopilot"))


# Without it every pod acts with the node service account's permissions.
gke_workload_identity = value_rule(
    "gcp-gke-workload-identity",
    types=[CLUSTER],
    applies=_not_autopilot,
    path="workloadIdentityConfig.workloadPool",
    required=ANY_VALUE,
    message="workloadIdentityConfig.workloadPool is not set",
    description="GKE clusters enable Workload Identity, so pods never use the node's account.",
    severity="high",
    frameworks=("LLMPLANE-GCP-3",),
    remediation="Set workloadIdentityConfig.workloadPool to <project>.svc.id.goog, as llmplane's "
    "GKE adapter does.",
)


# Shielded nodes prove their identity to the control plane, so a rogue VM cannot join.
gke_shielded_nodes = value_rule(
    "gcp-gke-shielded-nodes",
    types=[CLUSTER],
    path="enableShieldedNodes",
    forbidden=False,  # absent: true, the provider's default
    message="enableShieldedNodes is false",
    description="GKE clusters keep Shielded GKE Nodes on.",
    severity="medium",
    frameworks=("CKV_GCP_71",),
    remediation="Remove enableShieldedNodes: false (the default is true).",
)


# Legacy ABAC grants broad static permissions that RBAC cannot take back.
gke_legacy_abac_disabled = value_rule(
    "gcp-gke-legacy-abac-disabled",
    types=[CLUSTER],
    path="enableLegacyAbac",
    forbidden=True,  # absent: false
    message="enableLegacyAbac is true",
    description="GKE clusters authorize with RBAC only, never legacy ABAC.",
    severity="high",
    frameworks=("CKV_GCP_7",),
    remediation="Set enableLegacyAbac to false or remove it.",
)


# A client certificate is a cluster-admin credential that cannot be revoked.
gke_no_client_certificate = value_rule(
    "gcp-gke-no-client-certificate",
    types=[CLUSTER],
    path="masterAuth.clientCertificateConfig.issueClientCertificate",
    forbidden=True,  # absent: no certificate, GKE's default since 1.12
    message="masterAuth.clientCertificateConfig.issueClientCertificate is true",
    description="GKE issues no client certificate for cluster authentication.",
    severity="high",
    frameworks=("CKV_GCP_13",),
    remediation="Set masterAuth.clientCertificateConfig.issueClientCertificate to false or "
    "remove it; authenticate with Google identities.",
)


# A channel keeps control plane and nodes on patched, supported versions. Absent: what GKE picks
# depends on the client and on a pinned version, so the policy asks for an explicit channel, as
# CKV_GCP_70 does.
gke_release_channel = value_rule(
    "gcp-gke-release-channel",
    types=[CLUSTER],
    path="releaseChannel.channel",
    forbidden="UNSPECIFIED",
    missing="fail",
    missing_message="releaseChannel is not set",
    message="releaseChannel.channel is UNSPECIFIED: the cluster is in no channel",
    description="GKE clusters are enrolled in a release channel.",
    severity="medium",
    frameworks=("CKV_GCP_70",),
    remediation="Set releaseChannel.channel to REGULAR or STABLE (llmplane uses REGULAR).",
)


@resource_rule(
    "gcp-gke-secrets-encrypted",
    types=[CLUSTER],
    description="GKE encrypts Kubernetes secrets at the application layer with a Cloud KMS key.",
    severity="high",
    frameworks=("CIS GKE 5.3.1",),
    remediation="Set databaseEncryption to {state: ENCRYPTED, keyName: <crypto key id>}; llmplane "
    "uses the stack's key.",
)
def gke_secrets_encrypted(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Without it etcd holds secrets under Google's key, outside the stack's control."""
    state = dig(props, "databaseEncryption.state", "DECRYPTED")  # absent: GKE's default
    if state != "ENCRYPTED":
        yield f"databaseEncryption.state is {state}"
    elif not dig(props, "databaseEncryption.keyName"):
        yield "databaseEncryption.keyName is not set"


@resource_rule(
    "gcp-gke-binary-authorization",
    types=[CLUSTER],
    description="GKE admits only images Binary Authorization allows. Advisory: enforcing it "
    "needs an attestation pipeline or an allow-list policy first.",
    severity="medium",
    frameworks=("CKV_GCP_66",),
    remediation="Write the project's Binary Authorization policy, then set "
    "llmplane:cluster.binaryAuthorization to true.",
    enforcement="advisory",
)
def gke_binary_authorization(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Admission control on images stops a stolen push credential from reaching the nodes."""
    mode = dig(props, "binaryAuthorization.evaluationMode")
    if mode in ENFORCING_MODES:
        return
    if mode is None and truthy(dig(props, "binaryAuthorization.enabled")):
        return  # the deprecated switch, the same as the project policy
    yield f"binaryAuthorization.evaluationMode is {mode or 'not set (DISABLED)'}"


RULES: tuple[Rule, ...] = (
    gke_private_nodes,
    gke_master_authorized_networks,
    gke_network_policy,
    gke_workload_identity,
    gke_shielded_nodes,
    gke_legacy_abac_disabled,
    gke_no_client_certificate,
    gke_release_channel,
    gke_secrets_encrypted,
    gke_binary_authorization,
)
