"""A GKE cluster with an L4 node pool, and vLLM serving Qwen2.5-7B-Instruct with extra arguments."""

import pulumi

from llmplane.components.cloud import GpuPoolSpec, Toleration
from llmplane.components.cluster import Workload
from llmplane.components.gcp import GkeControlPlaneSpec, GkeGpuCluster, GkeGpuClusterArgs
from llmplane.components.kubernetes.engines import ENGINES
from llmplane.components.kubernetes.inference import (
    GpuTolerationArgs,
    InferenceService,
    InferenceServiceArgs,
    PlacementArgs,
)
from llmplane.components.shapes import Shape

config = pulumi.Config()
gcp_config = pulumi.Config("gcp")

# Written out by hand rather than looked up, so that the program needs no catalog: one NVIDIA L4
# (24 GB) with 8 vCPUs and 32 GiB of host memory.
G2_STANDARD_8 = Shape(
    cloud="gcp",
    name="g2-standard-8",
    gpu="L4",
    gpu_count=1,
    gpu_memory_gib=24,
    vcpu=8,
    memory_gib=32,
    local_disk_gib=0,
    source="Google Cloud GPU machine types: G2 (cloud.google.com/compute/docs/gpus)",
    as_of="2026-11-28",
)

NAMESPACE = "llm"
SERVICE = "chat"

platform = GkeGpuCluster(
    "gpu",
    GkeGpuClusterArgs(
        project=gcp_config.require("project"),
        region=gcp_config.require("region"),
        cluster_name=config.get("clusterName") or "gpu",
        gpu_pool=GpuPoolSpec(shape=G2_STANDARD_8, count=1, spot=False, min_nodes=0, max_nodes=2),
        # The registry the Artifact Registry remote repository caches: vLLM's, Docker Hub.
        engine_image=ENGINES["vllm"].image,
        labels={"project": pulumi.get_project(), "managed-by": "pulumi"},
        # A public API endpoint, open only to the network `pulumi up` runs from: the program
        # deploys the service through it.
        control_plane=GkeControlPlaneSpec(
            private_endpoint=False, authorized_cidrs=(config.require("apiCidr"),)
        ),
        # The Kubernetes ServiceAccount the service below creates (named after it) is the only
        # one that may act as the engine's Google service account.
        workload=Workload(namespace=NAMESPACE, service_account=SERVICE),
    ),
)
assert platform.registry is not None, "GKE always gets the remote repository"


def toleration(taint: Toleration) -> GpuTolerationArgs:
    """One toleration of the cluster's Placement (a dataclass) as the component's input."""
    entry = GpuTolerationArgs(key=taint.key, effect=taint.effect, operator=taint.operator)
    if taint.value is not None:
        entry["value"] = taint.value
    return entry


# The cluster's Placement as the component's input (a TypedDict): the labels and taint of the
# GPU pool this program created.
placement = PlacementArgs(
    node_selector=dict(platform.placement.node_selector),
    tolerations=[toleration(taint) for taint in platform.placement.tolerations],
    gpu_resource=platform.placement.gpu_resource,
)

chat = InferenceService(
    SERVICE,
    InferenceServiceArgs(
        model_id="Qwen/Qwen2.5-7B-Instruct",
        placement=placement,
        engine="vllm",
        namespace=NAMESPACE,
        create_namespace=True,
        # About 15 GB of bf16 weights on a 24 GB L4 leaves room for 8k-token contexts.
        max_total_tokens=8192,
        # Pulled through the cluster's Artifact Registry cache, not from Docker Hub directly.
        image_registry=platform.registry.prefix,
        service_account_annotations=dict(platform.identity.annotations),
        pod_labels=dict(platform.identity.pod_labels),
        # After the arguments llmplane generates: reuse the KV cache of shared prompt prefixes
        # (a chat's system prompt), and cap concurrent sequences at what one L4 holds.
        engine_args=["--enable-prefix-caching", "--max-num-seqs", "32"],
    ),
    # `providers`, the option for components: every Kubernetes object inside inherits it.
    opts=pulumi.ResourceOptions(providers=[platform.cluster.provider]),
)

pulumi.export("clusterName", platform.cluster.name)
pulumi.export("kubeconfig", platform.kubeconfig)
pulumi.export("registryPrefix", platform.registry.prefix)
pulumi.export("endpoint", chat.endpoint)
