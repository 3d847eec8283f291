"""examples/existing-cluster-two-services, planned offline in the tests.

The project file is read as the CLI reads it, and the program runs under Pulumi's mocks as the
language host would run it.
"""

from __future__ import annotations

from typing import Any

import pytest

from llmplane.components.kubernetes.engines import ENGINES
from llmplane.infra.offline.synth import stack_violations
from tests.components.example_plans import Plan, Resource, of_type, plan_example
from tests.conformance.cli_rules import (
    CliError,
)
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "existing-cluster-two-services"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def _plan(config: dict[str, Any]) -> Plan:
    """The example's resources and stack outputs for one stack's config."""
    return plan_example(EXAMPLE, config)


@pytest.fixture(scope="module")
def planned() -> tuple[list[Resource], dict[str, Any]]:
    return _plan({"existing-cluster-two-services:kubeContext": "lab"})


def test_the_cli_refuses_a_stack_without_a_context() -> None:
    with pytest.raises(CliError, match="missing configuration value 'kubeContext'"):
        _plan({})


def test_two_services_in_one_namespace_of_an_existing_cluster(
    planned: tuple[list[Resource], dict[str, Any]],
) -> None:
    resources, outputs = planned
    assert outputs == {
        "namespace": "llm",
        "chatEndpoint": "http://chat.llm.svc.cluster.local",
        "codeEndpoint": "http://code.llm.svc.cluster.local",
    }
    (provider,) = of_type(resources, "pulumi:providers:kubernetes")
    assert provider["inputs"]["context"] == "lab"
    components = {r["name"]: r for r in of_type(resources, "llmplane:index:InferenceService")}
    assert set(components) == {"chat", "code"}
    (namespace,) = of_type(resources, "kubernetes:core/v1:Namespace")
    assert namespace["inputs"]["metadata"]["name"] == "llm"
    objects = [r for r in resources if r["type"].startswith("kubernetes:")]
    assert all(r["provider"] == provider["urn"] for r in objects)
    assert all(r["parent"] in {c["urn"] for c in components.values()} for r in objects)
    names = [(r["type"], r["inputs"]["metadata"]["name"]) for r in objects]
    assert len(names) == len(set(names))
    deployments = {
        r["name"]: r["inputs"]["spec"]["template"]["spec"] for r in of_type(resources, DEPLOYMENT)
    }
    (tgi,), (vllm,) = deployments["chat"]["containers"], deployments["code"]["containers"]
    assert (tgi["image"], vllm["image"]) == (ENGINES["tgi"].image, ENGINES["vllm"].image)
    assert tgi["args"][:2] == ["--model-id", "Qwen/Qwen2.5-7B-Instruct"]
    assert vllm["args"][0] == "Qwen/Qwen2.5-Coder-7B-Instruct"
    assert vllm["args"][-2:] == ["--max-num-seqs", "64"]
    for pod in deployments.values():
        assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
        assert pod["tolerations"][0]["key"] == "nvidia.com/gpu"


def test_the_policy_pack_finds_nothing_mandatory(
    planned: tuple[list[Resource], dict[str, Any]],
) -> None:
    resources, _ = planned
    findings = stack_violations(resources, {})
    assert [f for f in findings if f["enforcement"] != "advisory"] == []
    # What it does advise: images from public registries by tag, a per-pod cache, and models
    # whose fit llmplane could not check (the component alone knows no GPU memory).
    assert {f["policy"] for f in findings} == {
        "engine-image-from-private-registry",
        "gpu-fit-checked",
        "gpu-model-cache-persistent",
        "k8s-image-digest",
    }
