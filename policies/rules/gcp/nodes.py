"""GCP rules for GKE nodes, in node pools and in a cluster's own node config: hardening, CMEK."""

from __future__ import annotations

from collections.abc import Iterator

from .. import Config, Props, Rule, dig, items, resource_rule, truthy
from .gke import CLUSTER

NODE_POOL = "gcp:container/nodePool:NodePool"


@resource_rule(
    "gcp-gke-node-metadata-server",
    types=[CLUSTER, NODE_POOL],
    description="GKE nodes run the GKE metadata server (workloadMetadataConfig.mode GKE_METADATA).",
    severity="high",
    frameworks=("CKV_GCP_69",),
    remediation="Set nodeConfig.workloadMetadataConfig.mode to GKE_METADATA, as llmplane's pools "
    "do.",
)
def gke_node_metadata_server(type_: str, props: Props, config: Config) -> Iterator[str]:
    """It hides the node's credentials and kube-env from pods, and serves workload identity."""
    for where, node in _node_configs(type_, props):
        # Absent: GKE's choice depends on the cluster, which a node pool cannot see; ask for it.
        mode = dig(node, "workloadMetadataConfig.mode")
        if mode != "GKE_METADATA":
            yield f"{where}.workloadMetadataConfig.mode is {mode or 'not set'}"


@resource_rule(
    "gcp-gke-node-shielded-instance",
    types=[CLUSTER, NODE_POOL],
    description="GKE nodes boot with Secure Boot and integrity monitoring.",
    severity="medium",
    frameworks=("CKV_GCP_68", "CKV_GCP_72"),
    remediation="Set nodeConfig.shieldedInstanceConfig.enableSecureBoot and "
    "enableIntegrityMonitoring to true, as llmplane's pools do.",
)
def gke_node_shielded_instance(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Both catch a tampered boot chain, a rootkit on a node that runs every tenant's pods."""
    for where, node in _node_configs(type_, props):
        shielded = dig(node, "shieldedInstanceConfig") or {}
        if not truthy(dig(shielded, "enableSecureBoot")):  # absent: false
            yield f"{where}.shieldedInstanceConfig.enableSecureBoot is not true"
        if dig(shielded, "enableIntegrityMonitoring") is False:  # absent: true
            yield f"{where}.shieldedInstanceConfig.enableIntegrityMonitoring is false"


@resource_rule(
    "gcp-gke-node-auto-repair-upgrade",
    types=[CLUSTER, NODE_POOL],
    description="GKE node pools repair and upgrade themselves automatically.",
    severity="medium",
    frameworks=("CKV_GCP_9", "CKV_GCP_10"),
    remediation="Set management.autoRepair and management.autoUpgrade to true, or remove them "
    "(both default to true).",
)
def gke_node_auto_repair_upgrade(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Unpatched nodes drift out of support; broken ones keep GPU pods pending."""
    pools = [("", props)] if type_ == NODE_POOL else _inline_pools(props)
    for where, pool in pools:
        for field in ("autoRepair", "autoUpgrade"):
            if dig(pool, f"management.{field}") is False:  # absent: true
                yield f"{where}management.{field} is false"


@resource_rule(
    "gcp-gke-node-cos-image",
    types=[CLUSTER, NODE_POOL],
    description="GKE nodes run Container-Optimized OS.",
    severity="low",
    frameworks=("CKV_GCP_22",),
    remediation="Set nodeConfig.imageType to COS_CONTAINERD, or remove it (the default).",
)
def gke_node_cos_image(type_: str, props: Props, config: Config) -> Iterator[str]:
    """COS has a read-only root, a minimal package set and Google's patching."""
    for where, node in _node_configs(type_, props):
        image = dig(node, "imageType", "COS_CONTAINERD")  # absent: GKE's default
        if not str(image).upper().startswith("COS"):
            yield f"{where}.imageType is {image}"


@resource_rule(
    "gcp-gke-node-boot-disk-cmek",
    types=[CLUSTER, NODE_POOL],
    description="GKE node boot disks are encrypted with a Cloud KMS key.",
    severity="medium",
    frameworks=("LLMPLANE-GCP-1",),
    remediation="Set nodeConfig.bootDiskKmsKey to a crypto key the Compute Engine service agent "
    "may use; llmplane's pools use the stack's key.",
)
def gke_node_boot_disk_cmek(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Boot disks cache model weights and image layers; the stack's key keeps them revocable."""
    for where, node in _node_configs(type_, props):
        if not dig(node, "bootDiskKmsKey"):  # absent: Google's key
            yield f"{where}.bootDiskKmsKey is not set"


def _node_configs(type_: str, props: Props) -> list[tuple[str, Props]]:
    """Each node configuration a resource creates nodes from, labelled with its path."""
    if type_ == NODE_POOL:
        return [("nodeConfig", dig(props, "nodeConfig") or {})]
    if truthy(dig(props, "enableAutopilot")):
        return []  # Google manages Autopilot nodes
    found: list[tuple[str, Props]] = [
        (f"{where}nodeConfig", dig(pool, "nodeConfig") or {})
        for where, pool in _inline_pools(props)
    ]
    # The default pool is created from the cluster's nodeConfig, unless it is removed straight
    # after creation: llmplane's clusters do that and run separate NodePools.
    if not truthy(dig(props, "removeDefaultNodePool")):
        found.insert(0, ("nodeConfig", dig(props, "nodeConfig") or {}))
    return found


def _inline_pools(props: Props) -> list[tuple[str, Props]]:
    """Node pools declared inside the cluster resource, labelled with their path."""
    return [(f"nodePools[{i}].", pool) for i, pool in enumerate(items(dig(props, "nodePools")))]


RULES: tuple[Rule, ...] = (
    gke_node_metadata_server,
    gke_node_shielded_instance,
    gke_node_auto_repair_upgrade,
    gke_node_cos_image,
    gke_node_boot_disk_cmek,
)
