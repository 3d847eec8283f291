"""examples/eks-gpu-cluster and examples/gke-inference, planned offline as the CLI would run them.

Each project file is read and its config merged as the CLI does, then the program runs under
Pulumi's mocks as the language host would run it; the existing-cluster example has its own test.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from llmplane.components.kubernetes.engines import ENGINES
from tests.components.example_plans import Plan, Resource, of_type, plan_example
from tests.conformance.cli_rules import (
    CliError,
    load_project,
    merge_config,
    stack_values,
)
from tests.conftest import REPO

EXAMPLES = REPO / "examples"
EKS = EXAMPLES / "eks-gpu-cluster"
GKE = EXAMPLES / "gke-inference"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CIDR = "203.0.113.0/24"
EKS_CONFIG = {
    "aws:region": "us-east-1",
    "eks-gpu-cluster:apiCidr": CIDR,
    "eks-gpu-cluster:mirrorUsername": "octocat",
    "eks-gpu-cluster:mirrorToken": "dckr_pat_Tok3n",
}
EKS_SECRETS = frozenset({"eks-gpu-cluster:mirrorToken"})
GKE_CONFIG = {
    "gcp:project": "example-project",
    "gcp:region": "us-central1",
    "gke-inference:apiCidr": CIDR,
}


def _merged(example: Path, config: dict[str, Any], secret_keys: frozenset[str]) -> Any:
    """The config the CLI hands the program: the stack's values plus the project's defaults."""
    project = load_project(example / "Pulumi.yaml")
    return project, merge_config(project, "dev", stack_values(config, secret_keys))


def _one(resources: list[Resource], type_: str, name: str) -> Resource:
    (match,) = [r for r in of_type(resources, type_) if r["name"] == name]
    return match


@pytest.fixture(scope="module")
def eks() -> Plan:
    return plan_example(EKS, EKS_CONFIG, EKS_SECRETS)


@pytest.fixture(scope="module")
def gke() -> Plan:
    return plan_example(GKE, GKE_CONFIG)


def test_the_examples_import_nothing_from_infra() -> None:
    for program in sorted(EXAMPLES.glob("*/__main__.py")):
        tree = ast.parse(program.read_text(), str(program))
        modules = [
            name
            for node in ast.walk(tree)
            for name in (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
        ]
        assert modules, program
        assert [m for m in modules if m.startswith(("infra", "llmplane.infra"))] == [], program


def test_the_cli_accepts_minimal_stacks_and_refuses_what_it_would() -> None:
    _, merged = _merged(EKS, EKS_CONFIG, EKS_SECRETS)
    assert merged["eks-gpu-cluster:clusterName"].text == "gpu"
    _, merged = _merged(GKE, GKE_CONFIG, frozenset())
    assert merged["gke-inference:clusterName"].text == "gpu"
    with pytest.raises(CliError, match="must be encrypted as it's secret"):
        _merged(EKS, EKS_CONFIG, frozenset())
    with pytest.raises(CliError, match="missing configuration value 'apiCidr'"):
        _merged(GKE, {"gcp:project": "p", "gcp:region": "us-central1"}, frozenset())


def test_eks_example_is_a_gpu_cluster_with_a_registry_mirror_and_no_workload(eks: Plan) -> None:
    resources, outputs = eks
    (cluster,) = of_type(resources, "aws:eks/cluster:Cluster")
    assert cluster["inputs"]["name"] == "gpu"
    assert cluster["inputs"]["vpcConfig"]["publicAccessCidrs"] == [CIDR]
    gpu = _one(resources, "aws:eks/nodeGroup:NodeGroup", "gpu-gpu")["inputs"]
    assert gpu["instanceTypes"] == ["g6.xlarge"]
    assert gpu["capacityType"] == "ON_DEMAND"
    assert gpu["scalingConfig"]["minSize"] == 0 and gpu["scalingConfig"]["maxSize"] == 2
    (rule,) = of_type(resources, "aws:ecr/pullThroughCacheRule:PullThroughCacheRule")
    assert rule["inputs"]["upstreamRegistryUrl"] == "registry-1.docker.io"
    # No workload: the one Deployment is the platform's cluster autoscaler, and nothing asks for
    # a GPU, so the GPU group stays at zero nodes.
    assert [d["name"] for d in of_type(resources, DEPLOYMENT)] == ["gpu-autoscaler"]
    pods = [
        r["inputs"]["spec"]["template"]["spec"]
        for r in resources
        if r["type"] in {DEPLOYMENT, "kubernetes:apps/v1:DaemonSet"}
    ]
    limits = [c.get("resources", {}).get("limits", {}) for pod in pods for c in pod["containers"]]
    assert pods and not any("nvidia.com/gpu" in limit for limit in limits)
    assert of_type(resources, "llmplane:index:InferenceService") == []
    assert set(outputs) == {"clusterName", "kubeconfig", "registryPrefix"}
    assert outputs["clusterName"] == "gpu"
    assert outputs["registryPrefix"].endswith(".dkr.ecr.us-east-1.amazonaws.com/docker-hub")
    assert "get-token" in outputs["kubeconfig"]


def test_gke_example_serves_vllm_with_its_own_engine_arguments(gke: Plan) -> None:
    resources, outputs = gke
    (cluster,) = of_type(resources, "gcp:container/cluster:Cluster")
    assert cluster["inputs"]["name"] == "gpu" and cluster["inputs"]["location"] == "us-central1"
    gpu = _one(resources, "gcp:container/nodePool:NodePool", "gpu-gpu")["inputs"]
    assert gpu["nodeConfig"]["machineType"] == "g2-standard-8"
    remotes = [
        r
        for r in of_type(resources, "gcp:artifactregistry/repository:Repository")
        if r["inputs"]["mode"] == "REMOTE_REPOSITORY"
    ]
    assert len(remotes) == 1
    (deployment,) = of_type(resources, DEPLOYMENT)
    assert deployment["name"] == "chat"
    assert deployment["inputs"]["metadata"]["namespace"] == "llm"
    pod = deployment["inputs"]["spec"]["template"]["spec"]
    (engine,) = pod["containers"]
    assert engine["args"][0] == "Qwen/Qwen2.5-7B-Instruct"
    assert engine["args"][-3:] == ["--enable-prefix-caching", "--max-num-seqs", "32"]
    # Pulled through the remote repository (a Docker Hub image has no host part to replace).
    mirror = "us-central1-docker.pkg.dev/example-project/gpu-cache"
    assert engine["image"] == f"{mirror}/{ENGINES['vllm'].image}"
    # Placed on the pool this program created, through the provider of its cluster.
    (provider,) = [
        r for r in of_type(resources, "pulumi:providers:kubernetes") if r["name"] == "gpu-k8s"
    ]
    assert deployment["provider"] == provider["urn"]
    assert pod["nodeSelector"] and pod["tolerations"]
    assert set(outputs) == {"clusterName", "kubeconfig", "registryPrefix", "endpoint"}
    assert outputs["endpoint"] == "http://chat.llm.svc.cluster.local"
