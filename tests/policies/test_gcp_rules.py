"""The GCP policies on the shipped stack's resources, and on copies broken one field at a time."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from pulumi_policy.proxy import UnknownValueError

from tests.plans import shipped
from tests.policies.harness import (
    UNKNOWN,
    Cases,
    Mutation,
    Props,
    RuleCases,
    check,
    drop,
    findings,
    inputs,
    put,
    rules_of,
    shipped_props,
)

CLUSTER = "gcp:container/cluster:Cluster"
POOL = "gcp:container/nodePool:NodePool"
REPO = "gcp:artifactregistry/repository:Repository"
MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
BINDING = "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding"
IAM_POLICY = "gcp:artifactregistry/repositoryIamPolicy:RepositoryIamPolicy"
KEY = "gcp:kms/cryptoKey:CryptoKey"
FIREWALL = "gcp:compute/firewall:Firewall"
GCP_RULES = rules_of("gcp")
gcp_dev = partial(shipped_props, "gcp-dev")
READER = "roles/artifactregistry.reader"


def binding() -> Props:
    """The shipped reader grant, written as a binding."""
    member = inputs(shipped("gcp-dev"), MEMBER, "llm-cache-reader")
    member["members"] = [member.pop("member")]
    return member


def iam_policy() -> Props:
    """The shipped reader grant, written as a whole IAM policy."""
    member = inputs(shipped("gcp-dev"), MEMBER, "llm-cache-reader")
    document = {"bindings": [{"role": member["role"], "members": [member["member"]]}]}
    return {
        "location": member["location"],
        "repository": member["repository"],
        "policyData": json.dumps(document),
    }


def firewall() -> Props:
    """A rule llmplane does not ship: SSH only from Identity-Aware Proxy's range."""
    return {
        "network": "llm-vpc",
        "direction": "INGRESS",
        "sourceRanges": ["35.235.240.0/20"],
        "allows": [{"protocol": "tcp", "ports": ["22"]}],
    }


def add_policy_member(member: str) -> Mutation:
    def mutate(props: Props) -> None:
        document = json.loads(props["policyData"])
        document["bindings"][0]["members"].append(member)
        props["policyData"] = json.dumps(document)

    return mutate


GKE = gcp_dev(CLUSTER)
GPU_POOL = gcp_dev(POOL, "llm-gpu")
SYSTEM_POOL = gcp_dev(POOL, "llm-system")
CACHE_REPO = gcp_dev(REPO, "llm-cache")
IMAGES_REPO = gcp_dev(REPO, "llm-images")
CACHE_READER = gcp_dev(MEMBER, "llm-cache-reader")
OPEN = "0.0.0.0/0"
ENFORCE = "PROJECT_SINGLETON_POLICY_ENFORCE"

# fmt: off
# One compliant case per policy, from what the shipped stack deploys where it deploys it.
COMPLIANT = [
    ("gcp-gke-private-nodes", CLUSTER, GKE),
    ("gcp-gke-master-authorized-networks", CLUSTER, GKE),
    ("gcp-gke-network-policy", CLUSTER, GKE),
    ("gcp-gke-workload-identity", CLUSTER, GKE),
    ("gcp-gke-shielded-nodes", CLUSTER, GKE),
    ("gcp-gke-legacy-abac-disabled", CLUSTER, GKE),
    ("gcp-gke-no-client-certificate", CLUSTER, GKE),
    ("gcp-gke-release-channel", CLUSTER, GKE),
    ("gcp-gke-secrets-encrypted", CLUSTER, GKE),
    ("gcp-gke-binary-authorization", CLUSTER,
     lambda: {**GKE(), "binaryAuthorization": {"evaluationMode": ENFORCE}}),
    ("gcp-gke-node-metadata-server", POOL, GPU_POOL),
    ("gcp-gke-node-metadata-server", POOL, SYSTEM_POOL),
    ("gcp-gke-node-metadata-server", CLUSTER, GKE),
    ("gcp-gke-node-shielded-instance", POOL, GPU_POOL),
    ("gcp-gke-node-shielded-instance", CLUSTER, GKE),
    ("gcp-gke-node-auto-repair-upgrade", POOL, GPU_POOL),
    ("gcp-gke-node-auto-repair-upgrade", CLUSTER, GKE),
    ("gcp-gke-node-cos-image", POOL, GPU_POOL),
    ("gcp-gke-node-boot-disk-cmek", POOL, SYSTEM_POOL),
    ("gcp-gke-node-boot-disk-cmek", CLUSTER, GKE),
    ("gcp-artifact-registry-cmek", REPO, IMAGES_REPO),
    ("gcp-artifact-registry-cmek", REPO, CACHE_REPO),
    ("gcp-artifact-registry-immutable-tags", REPO, IMAGES_REPO),
    ("gcp-artifact-registry-immutable-tags", REPO, CACHE_REPO),
    ("gcp-artifact-registry-not-public", MEMBER, CACHE_READER),
    ("gcp-artifact-registry-not-public", BINDING, binding),
    ("gcp-artifact-registry-not-public", IAM_POLICY, iam_policy),
    ("gcp-kms-key-rotation", KEY, gcp_dev(KEY)),
    ("gcp-firewall-no-public-admin-ports", FIREWALL, firewall),
]

# (policy, type, props, mutation, a fragment the one message must hold)
VIOLATIONS = [
    ("gcp-gke-private-nodes", CLUSTER, GKE, put("privateClusterConfig.enablePrivateNodes", False),
     "privateClusterConfig.enablePrivateNodes is not true: nodes get public IPs"),
    ("gcp-gke-master-authorized-networks", CLUSTER, GKE,
     put("masterAuthorizedNetworksConfig.cidrBlocks", [{"cidrBlock": OPEN}]),
     "masterAuthorizedNetworksConfig.cidrBlocks includes 0.0.0.0/0"),
    ("gcp-gke-master-authorized-networks", CLUSTER, GKE,
     put("masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled", True),
     "gcpPublicCidrsAccessEnabled is true"),
    ("gcp-gke-network-policy", CLUSTER, GKE, put("datapathProvider", "LEGACY_DATAPATH"),
     "neither datapathProvider ADVANCED_DATAPATH nor networkPolicy.enabled is set"),
    ("gcp-gke-workload-identity", CLUSTER, GKE, put("workloadIdentityConfig", {}),
     "workloadIdentityConfig.workloadPool is not set"),
    ("gcp-gke-shielded-nodes", CLUSTER, GKE, put("enableShieldedNodes", False),
     "enableShieldedNodes is false"),
    ("gcp-gke-legacy-abac-disabled", CLUSTER, GKE, put("enableLegacyAbac", True),
     "enableLegacyAbac is true"),
    ("gcp-gke-no-client-certificate", CLUSTER, GKE,
     put("masterAuth.clientCertificateConfig.issueClientCertificate", True),
     "issueClientCertificate is true"),
    ("gcp-gke-release-channel", CLUSTER, GKE, put("releaseChannel.channel", "UNSPECIFIED"),
     "releaseChannel.channel is UNSPECIFIED"),
    ("gcp-gke-secrets-encrypted", CLUSTER, GKE, put("databaseEncryption.state", "DECRYPTED"),
     "databaseEncryption.state is DECRYPTED"),
    ("gcp-gke-secrets-encrypted", CLUSTER, GKE, drop("databaseEncryption.keyName"),
     "databaseEncryption.keyName is not set"),
    ("gcp-gke-binary-authorization", CLUSTER, GKE, lambda p: None,
     "binaryAuthorization.evaluationMode is DISABLED"),
    ("gcp-gke-node-metadata-server", POOL, GPU_POOL,
     put("nodeConfig.workloadMetadataConfig.mode", "GCE_METADATA"),
     "nodeConfig.workloadMetadataConfig.mode is GCE_METADATA"),
    ("gcp-gke-node-metadata-server", CLUSTER, GKE,
     put("nodePools", [{"name": "extra", "nodeConfig": {"machineType": "e2-standard-4"}}]),
     "nodePools[0].nodeConfig.workloadMetadataConfig.mode is not set"),
    ("gcp-gke-node-shielded-instance", POOL, GPU_POOL,
     put("nodeConfig.shieldedInstanceConfig.enableSecureBoot", False),
     "nodeConfig.shieldedInstanceConfig.enableSecureBoot is not true"),
    ("gcp-gke-node-shielded-instance", POOL, SYSTEM_POOL,
     put("nodeConfig.shieldedInstanceConfig.enableIntegrityMonitoring", False),
     "nodeConfig.shieldedInstanceConfig.enableIntegrityMonitoring is false"),
    ("gcp-gke-node-auto-repair-upgrade", POOL, GPU_POOL, put("management.autoRepair", False),
     "management.autoRepair is false"),
    ("gcp-gke-node-auto-repair-upgrade", CLUSTER, GKE,
     put("nodePools", [{"name": "extra", "management": {"autoUpgrade": False}}]),
     "nodePools[0].management.autoUpgrade is false"),
    ("gcp-gke-node-cos-image", POOL, GPU_POOL, put("nodeConfig.imageType", "UBUNTU_CONTAINERD"),
     "nodeConfig.imageType is UBUNTU_CONTAINERD"),
    ("gcp-gke-node-boot-disk-cmek", POOL, GPU_POOL, put("nodeConfig.bootDiskKmsKey", ""),
     "nodeConfig.bootDiskKmsKey is not set"),
    # A default pool that is kept is built from the cluster's nodeConfig, which sets no key.
    ("gcp-gke-node-boot-disk-cmek", CLUSTER, GKE, put("removeDefaultNodePool", False),
     "nodeConfig.bootDiskKmsKey is not set"),
    ("gcp-artifact-registry-cmek", REPO, IMAGES_REPO, put("kmsKeyName", ""),
     "kmsKeyName is not set"),
    ("gcp-artifact-registry-immutable-tags", REPO, IMAGES_REPO,
     put("dockerConfig.immutableTags", False), "dockerConfig.immutableTags is not true"),
    ("gcp-artifact-registry-not-public", MEMBER, CACHE_READER, put("member", "allUsers"),
     f"{READER} is granted to allUsers"),
    ("gcp-artifact-registry-not-public", BINDING, binding,
     lambda p: p["members"].append("allAuthenticatedUsers"),
     f"{READER} is granted to allAuthenticatedUsers"),
    ("gcp-artifact-registry-not-public", IAM_POLICY, iam_policy, add_policy_member("allUsers"),
     f"{READER} is granted to allUsers"),
    ("gcp-kms-key-rotation", KEY, gcp_dev(KEY), put("rotationPeriod", "31536000s"),
     "rotationPeriod is 31536000s (365 days), over 90 days"),
    ("gcp-kms-key-rotation", KEY, gcp_dev(KEY), put("rotationPeriod", "90d"),
     "rotationPeriod '90d' is not a duration in seconds"),
    ("gcp-firewall-no-public-admin-ports", FIREWALL, firewall, put("sourceRanges", [OPEN]),
     "0.0.0.0/0 may reach tcp port 22"),
    ("gcp-firewall-no-public-admin-ports", FIREWALL, firewall,
     lambda p: p.update(sourceRanges=["::/0"],
                        allows=[{"protocol": "tcp", "ports": ["3000-4000"]}]),
     "::/0 may reach tcp port 3389"),
]

# (policy, type, props, the property removed, a fragment of the message, or None: still complies)
MISSING = [
    ("gcp-gke-private-nodes", CLUSTER, GKE, "privateClusterConfig", "nodes get public IPs"),
    ("gcp-gke-master-authorized-networks", CLUSTER, GKE, "masterAuthorizedNetworksConfig",
     "masterAuthorizedNetworksConfig is not set: the control plane accepts any address"),
    ("gcp-gke-network-policy", CLUSTER, GKE, "datapathProvider", "neither datapathProvider"),
    ("gcp-gke-workload-identity", CLUSTER, GKE, "workloadIdentityConfig",
     "workloadPool is not set"),
    ("gcp-gke-shielded-nodes", CLUSTER, GKE, "enableShieldedNodes", None),
    ("gcp-gke-legacy-abac-disabled", CLUSTER, GKE, "enableLegacyAbac", None),
    ("gcp-gke-no-client-certificate", CLUSTER, GKE, "masterAuth", None),
    ("gcp-gke-release-channel", CLUSTER, GKE, "releaseChannel", "releaseChannel is not set"),
    ("gcp-gke-secrets-encrypted", CLUSTER, GKE, "databaseEncryption",
     "databaseEncryption.state is DECRYPTED"),
    ("gcp-gke-binary-authorization", CLUSTER, GKE, "binaryAuthorization",
     "evaluationMode is not set (DISABLED)"),
    ("gcp-gke-node-metadata-server", POOL, GPU_POOL, "nodeConfig.workloadMetadataConfig",
     "nodeConfig.workloadMetadataConfig.mode is not set"),
    ("gcp-gke-node-shielded-instance", POOL, GPU_POOL, "nodeConfig.shieldedInstanceConfig",
     "enableSecureBoot is not true"),
    ("gcp-gke-node-shielded-instance", POOL, GPU_POOL,
     "nodeConfig.shieldedInstanceConfig.enableIntegrityMonitoring", None),
    ("gcp-gke-node-auto-repair-upgrade", POOL, GPU_POOL, "management", None),
    ("gcp-gke-node-cos-image", POOL, GPU_POOL, "nodeConfig.imageType", None),
    ("gcp-gke-node-boot-disk-cmek", POOL, GPU_POOL, "nodeConfig.bootDiskKmsKey",
     "nodeConfig.bootDiskKmsKey is not set"),
    ("gcp-artifact-registry-cmek", REPO, IMAGES_REPO, "kmsKeyName", "kmsKeyName is not set"),
    ("gcp-artifact-registry-immutable-tags", REPO, IMAGES_REPO, "dockerConfig",
     "dockerConfig.immutableTags is not true"),
    ("gcp-artifact-registry-immutable-tags", REPO, IMAGES_REPO, "mode", None),
    ("gcp-kms-key-rotation", KEY, gcp_dev(KEY), "rotationPeriod",
     "rotationPeriod is not set: the key never rotates"),
    ("gcp-firewall-no-public-admin-ports", FIREWALL, firewall, "sourceRanges",
     "0.0.0.0/0 may reach tcp port 22"),
    ("gcp-firewall-no-public-admin-ports", FIREWALL, firewall, "direction", None),
]

# (policy, type, props, mutation, policy config, fragment or None: complies under that config)
CONFIGURED = [
    ("gcp-kms-key-rotation", KEY, gcp_dev(KEY), put("rotationPeriod", "31536000s"),
     {"maxDays": 365}, None),
    ("gcp-kms-key-rotation", KEY, gcp_dev(KEY), lambda p: None,
     {"maxDays": 30}, "rotationPeriod is 7776000s (90 days), over 30 days"),
    ("gcp-firewall-no-public-admin-ports", FIREWALL, firewall,
     lambda p: p.update(sourceRanges=[OPEN], allows=[{"protocol": "tcp", "ports": ["8080"]}]),
     {"ports": [22, 3389, 8080]}, "0.0.0.0/0 may reach tcp port 8080"),
    ("gcp-firewall-no-public-admin-ports", FIREWALL, firewall, put("sourceRanges", [OPEN]),
     {"ports": [3389]}, None),
]

# Shapes of a resource that must not be mistaken for a violation.
ALSO_COMPLIANT = [
    # llmplane:cluster.privateEndpoint true: authorized networks on, with no public range at all.
    ("gcp-gke-master-authorized-networks", CLUSTER, GKE,
     put("masterAuthorizedNetworksConfig.cidrBlocks", [])),
    ("gcp-gke-network-policy", CLUSTER, GKE,
     lambda p: (p.pop("datapathProvider"), p.update(networkPolicy={"enabled": True}))),
    ("gcp-gke-network-policy", CLUSTER, GKE,
     lambda p: (p.pop("datapathProvider"), p.update(enableAutopilot=True))),
    ("gcp-gke-workload-identity", CLUSTER, GKE,
     lambda p: (p.pop("workloadIdentityConfig"), p.update(enableAutopilot=True))),
    ("gcp-gke-node-boot-disk-cmek", CLUSTER, GKE,
     lambda p: p.update(removeDefaultNodePool=False, enableAutopilot=True)),
    ("gcp-gke-node-cos-image", POOL, GPU_POOL, put("nodeConfig.imageType", "cos_containerd")),
    ("gcp-kms-key-rotation", KEY, gcp_dev(KEY),
     lambda p: (p.pop("rotationPeriod"), p.update(purpose="ASYMMETRIC_SIGN"))),
    ("gcp-firewall-no-public-admin-ports", FIREWALL, firewall,
     lambda p: p.update(direction="EGRESS", sourceRanges=[OPEN])),
    ("gcp-firewall-no-public-admin-ports", FIREWALL, firewall,
     lambda p: p.update(disabled=True, sourceRanges=[OPEN])),
    ("gcp-firewall-no-public-admin-ports", FIREWALL, firewall,
     lambda p: (p.pop("sourceRanges"), p.update(sourceTags=["bastion"]))),
    ("gcp-firewall-no-public-admin-ports", FIREWALL, firewall,
     lambda p: p.update(sourceRanges=[OPEN], allows=[{"protocol": "icmp"}])),
]
# fmt: on


class TestGcpCases(RuleCases):
    """The shared checks over the GCP case tables."""

    cases = Cases(GCP_RULES, COMPLIANT, VIOLATIONS, MISSING, CONFIGURED, ALSO_COMPLIANT)


@pytest.mark.parametrize(
    ("policy", "type_", "props", "mutate", "config", "expected"),
    [case for case in CONFIGURED if case[5] is not None],
)
def test_a_configured_threshold_is_what_reports(
    policy: str,
    type_: str,
    props: Callable[[], Props],
    mutate: Mutation,
    config: dict[str, Any],
    expected: str,
) -> None:
    resource = props()
    mutate(resource)
    assert check(policy, type_, resource) == []  # the default would have let it pass


@pytest.mark.parametrize("stack", ["gcp-dev", "aws-dev", "azure-dev", "kubernetes-dev"])
def test_shipped_stacks_break_no_mandatory_gcp_policy(stack: str) -> None:
    found = [finding[:3] for finding in findings(shipped(stack), GCP_RULES)]
    assert [f for f in found if f[0] == "mandatory"] == []
    # gcp-dev leaves Binary Authorization off (llmplane:cluster.binaryAuthorization), on purpose.
    expected = (
        [("advisory", "gcp-gke-binary-authorization", "llm-gke")] if stack == "gcp-dev" else []
    )
    assert found == expected


def test_an_unknown_value_is_left_to_the_runner() -> None:
    cluster = inputs(shipped("gcp-dev"), CLUSTER)
    cluster["privateClusterConfig"]["enablePrivateNodes"] = UNKNOWN
    with pytest.raises(UnknownValueError):
        check("gcp-gke-private-nodes", CLUSTER, cluster)
    key = inputs(shipped("gcp-dev"), KEY)
    key["rotationPeriod"] = UNKNOWN
    with pytest.raises(UnknownValueError):
        check("gcp-kms-key-rotation", KEY, key)
