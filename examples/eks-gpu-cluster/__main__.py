"""An EKS cluster with a GPU node group and an ECR pull-through cache, and no workload on it."""

import pulumi

from llmplane.components.aws import EksControlPlaneArgs, EksGpuCluster, EksGpuClusterArgs
from llmplane.components.cloud import GpuPoolSpec
from llmplane.components.kubernetes.engines import ENGINES
from llmplane.components.shapes import Shape

config = pulumi.Config()

# Written out by hand rather than looked up, so that the program needs no catalog: one NVIDIA L4
# (24 GB) with 4 vCPUs and 16 GiB of host memory.
G6_XLARGE = Shape(
    cloud="aws",
    name="g6.xlarge",
    gpu="L4",
    gpu_count=1,
    gpu_memory_gib=24,
    vcpu=4,
    memory_gib=16,
    local_disk_gib=0,
    source="AWS EC2 accelerated computing instance specifications"
    " (docs.aws.amazon.com/ec2/latest/instancetypes/ac.html)",
    as_of="2026-11-28",
)

cluster = EksGpuCluster(
    "gpu",
    EksGpuClusterArgs(
        region=pulumi.Config("aws").require("region"),
        cluster_name=config.get("clusterName") or "gpu",
        # On demand, from zero: no GPU node runs (or costs) until a pod asks for a GPU.
        pool=GpuPoolSpec(shape=G6_XLARGE, count=1, spot=False, min_nodes=0, max_nodes=2),
        # The registry the cache mirrors: vLLM's, Docker Hub.
        engine_image=ENGINES["vllm"].image,
        tags={
            "project": pulumi.get_project(),
            "stack": pulumi.get_stack(),
            "managed-by": "pulumi",
        },
        # A public API endpoint, open only to the network `pulumi up` runs from: the program
        # installs the device plugin and the autoscaler through it.
        control_plane=EksControlPlaneArgs(
            private_endpoint=False, authorized_cidrs=[config.require("apiCidr")]
        ),
        # ECR caches Docker Hub only with a Docker Hub login; without one there is no mirror.
        mirror_credentials=(
            config.require("mirrorUsername"),
            config.require_secret("mirrorToken"),
        ),
    ),
)

assert cluster.registry is not None, "the cache exists: the program always gives credentials"
pulumi.export("clusterName", cluster.cluster_name)
# It holds no credential (it runs `aws eks get-token`), but it names the endpoint: kept secret
# whatever the component marks it.
pulumi.export("kubeconfig", pulumi.Output.secret(cluster.kubeconfig))
pulumi.export("registryPrefix", cluster.registry.prefix)
