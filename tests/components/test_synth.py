"""The offline engine runs the real program: resources, dependencies, redaction, determinism."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmplane.components.kubernetes.engines import ENGINES
from llmplane.infra.offline.synth import REDACTED, Plan, plan_stack
from tests.conftest import STACKS, StackWriter, config_with
from tests.plans import of_type, one, plan_config

TOKEN = "hf_ThisIsTheRealTokenValue0123456789"


def _container(plan: Plan) -> dict[str, Any]:
    deployment = one(plan, "kubernetes:apps/v1:Deployment")
    (container,) = deployment["inputs"]["spec"]["template"]["spec"]["containers"]
    return container


def _plan_with_real_token(**changes: Any) -> Plan:
    """What `pulumi up` does: the decrypted token reaches the program, marked secret."""
    return plan_config(
        "tok", config_with(hfToken=TOKEN, **changes), frozenset({"llmplane:hfToken"})
    )


@pytest.mark.parametrize("path", sorted(STACKS.glob("Pulumi.*.yaml")), ids=lambda p: p.name)
def test_every_shipped_stack_plans(path: Path) -> None:
    plan = plan_stack(path)
    assert plan["project"] == "llmplane"
    assert plan["stack"] == path.name.split(".")[1]
    (cluster,) = [
        r for r in plan["resources"] if r["type"].endswith(("GpuCluster", ":ExistingCluster"))
    ]
    assert cluster["parent"] == one(plan, "pulumi:pulumi:Stack")["urn"]
    assert of_type(plan, "llmplane:kubernetes:KedaAutoscaling")
    assert of_type(plan, "llmplane:index:InferenceService")
    assert plan["outputs"]["endpoint"].startswith("http://")


def test_plan_records_the_resource_tree_and_providers() -> None:
    plan = plan_stack(STACKS / "Pulumi.kubernetes-dev.yaml")
    urns = {r["urn"] for r in plan["resources"]}
    stack = one(plan, "pulumi:pulumi:Stack")
    service = one(plan, "llmplane:index:InferenceService")
    platform = one(plan, "llmplane:kubernetes:ExistingCluster")
    scaling = one(plan, "llmplane:kubernetes:KedaAutoscaling")
    provider = one(plan, "pulumi:providers:kubernetes")
    assert stack["parent"] is None
    assert {service["parent"], platform["parent"], scaling["parent"]} == {stack["urn"]}
    assert provider["parent"] == platform["urn"]
    for resource in plan["resources"]:
        assert resource["parent"] is None or resource["parent"] in urns
        if resource["type"].startswith("kubernetes:"):
            # Nothing deploys through the ambient kubeconfig: every object names the provider.
            assert resource["provider"] == provider["urn"]
            # The engine's objects belong to the service; KEDA and Prometheus to their component.
            assert resource["parent"] in {service["urn"], scaling["urn"]}
            assert resource["custom"] is True


def test_deployment_depends_on_the_namespace_and_secret_it_uses() -> None:
    plan = _plan_with_real_token()
    deployment = one(plan, "kubernetes:apps/v1:Deployment")
    namespace = one(plan, "kubernetes:core/v1:Namespace", "llm-ns")
    secret = one(plan, "kubernetes:core/v1:Secret")
    assert namespace["urn"] in deployment["dependencies"]
    assert secret["urn"] in deployment["dependencies"]
    assert namespace["urn"] in secret["dependencies"]
    # The token reaches the engine as a read-only file from the Secret, never as an env value.
    container = _container(plan)
    env = {e["name"]: e for e in container["env"]}
    assert "HF_TOKEN" not in env and env["HF_TOKEN_PATH"]["value"] == "/data/token"
    mount = next(m for m in container["volumeMounts"] if m["name"] == "hf-token")
    assert mount == {
        "name": "hf-token",
        "mountPath": "/data/token",
        "subPath": "token",
        "readOnly": True,
    }
    pod = one(plan, "kubernetes:apps/v1:Deployment")["inputs"]["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["hf-token"]["secret"]["secretName"] == secret["inputs"]["metadata"]["name"]
    assert volumes["hf-token"]["secret"]["items"] == [{"key": "HF_TOKEN", "path": "token"}]


def test_secret_values_are_redacted_everywhere() -> None:
    plan = _plan_with_real_token(**{"kubernetes:kubeconfig": "apiVersion: v1\nclusters: []\n"})
    text = json.dumps(plan)
    assert TOKEN not in text
    assert "clusters: []" not in text
    # The key the pod mounts stays; only its value is withheld.
    secret = one(plan, "kubernetes:core/v1:Secret")["inputs"]
    assert secret["stringData"] == {"HF_TOKEN": REDACTED}
    assert one(plan, "pulumi:providers:kubernetes")["inputs"]["kubeconfig"] == REDACTED
    assert plan["outputs"]["kubeconfig"] == REDACTED


def test_without_a_token_there_is_no_secret_and_no_token_file() -> None:
    plan = plan_stack(STACKS / "Pulumi.kubernetes-dev.yaml")
    assert not of_type(plan, "kubernetes:core/v1:Secret")
    assert "HF_TOKEN_PATH" not in {e["name"] for e in _container(plan)["env"]}


def test_placement_reaches_the_pod(stack_file: StackWriter) -> None:
    config = config_with(
        gpu={
            "count": 2,
            "nodeSelector": {"pool": "gpu"},
            "taintKeys": ["sku"],
            "resourceName": "amd.com/gpu",
        }
    )
    plan = plan_stack(stack_file(config))
    pod = one(plan, "kubernetes:apps/v1:Deployment")["inputs"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"pool": "gpu"}
    assert pod["tolerations"] == [{"key": "sku", "operator": "Exists", "effect": "NoSchedule"}]
    container = pod["containers"][0]
    assert container["resources"]["limits"]["amd.com/gpu"] == "2"
    assert container["args"][container["args"].index("--num-shard") + 1] == "2"


def test_pod_has_memory_backed_shm_cache_and_probes() -> None:
    plan = plan_stack(STACKS / "Pulumi.kubernetes-dev.yaml")
    pod = one(plan, "kubernetes:apps/v1:Deployment")["inputs"]["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["dshm"]["emptyDir"]["medium"] == "Memory"
    assert volumes["dshm"]["emptyDir"]["sizeLimit"]
    mounts = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert {"/dev/shm", "/data"} <= mounts
    container = pod["containers"][0]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health"
    # The startup probe, not the liveness probe, carries the model-loading budget.
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600
    assert pod["automountServiceAccountToken"] is False


@pytest.mark.parametrize("engine", ["vllm", "sglang"])
def test_switching_engine_changes_only_the_engine_parts(
    stack_file: StackWriter, engine: str
) -> None:
    tgi = plan_stack(stack_file(config_with(), name="a"))
    other = plan_stack(stack_file(config_with(engine=engine), name="a"))
    assert [r["urn"] for r in tgi["resources"]] == [r["urn"] for r in other["resources"]]
    container = _container(other)
    assert container["image"] == ENGINES[engine].image
    assert container["ports"] == [{"name": "http", "containerPort": ENGINES[engine].port}]
    assert _container(tgi)["resources"] == container["resources"]
    assert (
        one(tgi, "kubernetes:core/v1:Service")["inputs"]["spec"]["ports"]
        == one(other, "kubernetes:core/v1:Service")["inputs"]["spec"]["ports"]
    )


def test_same_stack_file_gives_identical_json() -> None:
    path = STACKS / "Pulumi.kubernetes-dev.yaml"
    first = json.dumps(plan_stack(path), sort_keys=True)
    assert json.dumps(plan_stack(path), sort_keys=True) == first


def test_stacks_planned_in_one_process_do_not_leak_into_each_other(stack_file: StackWriter) -> None:
    one = stack_file(config_with(), name="one")
    two = stack_file(config_with(engine="vllm", hfToken=None), name="two")
    first = plan_stack(one)
    second = plan_stack(two)
    again = plan_stack(one)
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    assert all("::two::" not in r["urn"] and ":two::" not in r["urn"] for r in first["resources"])
    assert all(r["urn"].startswith("urn:pulumi:two::") for r in second["resources"])
    assert second["outputs"]["engine"] == "vllm" and first["outputs"]["engine"] == "tgi"


def test_the_program_itself_refuses_bad_config_as_pulumi_up_would() -> None:
    """Under `pulumi up` nothing pre-validates: the program must fail with the one-line message."""
    import pulumi

    from llmplane.infra.offline.mocks import PlanMocks
    from llmplane.infra.offline.synth import CapturingMonitor, _run_program

    monitor = CapturingMonitor(PlanMocks())
    with pytest.raises(pulumi.RunError, match=r"^stack bad: llmplane:cloud: ") as caught:
        _run_program("bad", config_with(cloud="oracle"), frozenset(), monitor)
    assert "\n" not in str(caught.value)
    assert not [r for r in monitor.captured.values() if r["custom"]], "nothing was registered"


def test_pulumi_up_waits_long_enough_for_a_cold_gpu_start() -> None:
    """The rollout wait covers a node scaling from zero, the image pull and the model load."""
    from llmplane.components.kubernetes.inference import NODE_AND_IMAGE_MINUTES, rollout_minutes

    assert rollout_minutes(1800) == NODE_AND_IMAGE_MINUTES + 30
    assert rollout_minutes(1801) == NODE_AND_IMAGE_MINUTES + 31
