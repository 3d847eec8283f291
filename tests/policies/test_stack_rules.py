"""Stack policies: each passes the shipped stacks and finds the cross-resource mistake it names."""

from __future__ import annotations

import copy

import pytest

from tests.components.test_gateway import PUBLIC, SECRETS
from tests.conftest import config_with
from tests.plans import plan_config, shipped
from tests.policies.harness import check_stack, resource

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
DAEMONSET = "kubernetes:apps/v1:DaemonSet"
CRON_JOB = "kubernetes:batch/v1:CronJob"
SERVICE = "kubernetes:core/v1:Service"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
STACK_POLICIES = [
    "k8s-pods-selected-by-network-policy",
    "gpu-device-plugin-tolerates-pool-taints",
    "k8s-load-balancers-internal-or-gated",
    "kms-key-used-everywhere",
    "hf-token-never-literal",
    "gpu-workload-has-disruption-budget",
]


@pytest.mark.parametrize("stack", ["aws-dev", "aws-prod", "azure-dev", "gcp-dev", "kubernetes-dev"])
@pytest.mark.parametrize("policy", STACK_POLICIES)
def test_shipped_stacks_pass(stack: str, policy: str) -> None:
    assert check_stack(policy, shipped(stack)) == []


def test_a_pod_no_network_policy_selects_is_found() -> None:
    plan = shipped("aws-dev")
    engine_policy = resource(plan, POLICY, "llm-engine")
    deny = resource(plan, POLICY, "llm-deny-all")
    plan["resources"].remove(deny)  # the catch-all goes; the engine's own policy stays
    assert check_stack("k8s-pods-selected-by-network-policy", plan) == []
    engine_policy["inputs"]["spec"]["podSelector"] = {"matchLabels": {"app": "other"}}
    ((message, urn),) = check_stack("k8s-pods-selected-by-network-policy", plan)
    assert message == "llm: no NetworkPolicy in llm-aws-dev selects its pods"
    assert urn == resource(plan, DEPLOYMENT, "llm")["urn"]


def test_a_cron_jobs_pods_are_known_by_their_template_labels() -> None:
    plan = shipped("aws-dev")
    plan["resources"].remove(resource(plan, POLICY, "llm-deny-all"))
    engine = resource(plan, DEPLOYMENT, "llm")
    template = copy.deepcopy(engine["inputs"]["spec"]["template"])
    job = {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}}
    plan["resources"].append(
        {
            **engine,
            "type": CRON_JOB,
            "name": "llm-warmup",
            "urn": engine["urn"].replace(f"{DEPLOYMENT}::llm", f"{CRON_JOB}::llm-warmup"),
            "inputs": {"metadata": engine["inputs"]["metadata"], "spec": job},
        }
    )
    # The engine's own policy selects the job's pods by the labels in its job template.
    assert check_stack("k8s-pods-selected-by-network-policy", plan) == []
    template["metadata"]["labels"] = {"app": "warmup"}
    ((message, _),) = check_stack("k8s-pods-selected-by-network-policy", plan)
    assert message == "llm-warmup: no NetworkPolicy in llm-aws-dev selects its pods"


def test_kube_system_is_exempt_unless_configured_otherwise() -> None:
    plan = shipped("aws-dev")
    assert check_stack("k8s-pods-selected-by-network-policy", plan, {"exemptNamespaces": []})


def test_device_plugin_must_tolerate_the_gpu_taint() -> None:
    for stack, pool in (("aws-dev", "aws:eks/nodeGroup:NodeGroup"),
                        ("azure-dev", "azure-native:containerservice:AgentPool")):  # fmt: skip
        plan = shipped(stack)
        plugin = next(r for r in plan["resources"] if r["type"] == DAEMONSET)
        pod = plugin["inputs"]["spec"]["template"]["spec"]
        pod["tolerations"] = [t for t in pod["tolerations"] if t["key"] != "nvidia.com/gpu"]
        ((message, _),) = check_stack("gpu-device-plugin-tolerates-pool-taints", plan)
        assert "does not tolerate nvidia.com/gpu=true:NoSchedule of GPU pool llm-gpu" in message
        plan["resources"].remove(plugin)
        ((message, urn),) = check_stack("gpu-device-plugin-tolerates-pool-taints", plan)
        assert "no NVIDIA device plugin" in message
        # Reported on the GPU pool, not on the cluster's system pool.
        assert urn == next(
            r["urn"] for r in plan["resources"] if r["type"] == pool and r["name"] == "llm-gpu"
        )


def test_public_load_balancers_only_in_front_of_the_gateway() -> None:
    plan = shipped("aws-dev")
    lb = resource(plan, SERVICE, "llm-internal-lb")
    lb["inputs"]["metadata"]["annotations"] = {}
    ((message, _),) = check_stack("k8s-load-balancers-internal-or-gated", plan)
    assert "public LoadBalancer" in message
    # The public stack's gateway: a public LB whose pods mount the API keys.
    public = plan_config("pub", config_with(**PUBLIC), SECRETS)
    assert check_stack("k8s-load-balancers-internal-or-gated", public) == []
    gateway = next(
        r for r in public["resources"] if r["type"] == DEPLOYMENT and "gateway" in r["name"]
    )
    gateway["inputs"]["spec"]["template"]["spec"]["volumes"] = []
    assert check_stack("k8s-load-balancers-internal-or-gated", public)
    assert check_stack("k8s-load-balancers-internal-or-gated", public, {"gatewayKeysSecret": "x"})


@pytest.mark.parametrize("stack", ["aws-dev", "azure-dev", "gcp-dev"])
def test_the_key_must_really_be_used(stack: str) -> None:
    plan = shipped(stack)
    key_types = ("aws:kms/key:Key", "azure-native:keyvault:Key", "gcp:kms/cryptoKey:CryptoKey")
    (key,) = [r for r in plan["resources"] if r["type"] in key_types]
    # Cut every consumer's path to the key: each now encrypts with a key the stack does not own.
    for r in plan["resources"]:
        r["dependencies"] = [d for d in r["dependencies"] if d != key["urn"]]
    found = check_stack("kms-key-used-everywhere", plan)
    assert found and all("does not depend on the stack's key" in m for m, _ in found)
    plan = shipped(stack)
    consumer = next(
        r
        for r in plan["resources"]
        if r["type"].endswith(
            ("eks/cluster:Cluster", "ManagedCluster", "container/cluster:Cluster")
        )
    )
    for field in ("encryptionConfig", "securityProfile", "databaseEncryption"):
        consumer["inputs"].pop(field, None)
    assert any("is not set" in m for m, _ in check_stack("kms-key-used-everywhere", plan))


def test_an_hf_token_literal_is_found_anywhere_but_a_secret() -> None:
    plan = shipped("kubernetes-dev")
    engine = resource(plan, DEPLOYMENT, "llm")
    container = engine["inputs"]["spec"]["template"]["spec"]["containers"][0]
    container["env"].append({"name": "HF_TOKEN", "value": "hf_" + "a" * 34})
    found = check_stack("hf-token-never-literal", plan)
    assert {m for m, _ in found} == {
        "llm: spec.template.spec.containers.0.env."
        f"{len(container['env']) - 1}.value holds a Hugging Face token",
        "llm: env HF_TOKEN is a literal value",
    }
    container["env"][-1]["value"] = "[secret]"  # a secret the plan withheld is fine
    assert check_stack("hf-token-never-literal", plan) == []


def test_gpu_deployments_need_a_disruption_budget() -> None:
    plan = shipped("gcp-dev")
    plan["resources"] = [
        r for r in plan["resources"] if r["type"] != "kubernetes:policy/v1:PodDisruptionBudget"
    ]
    ((message, _),) = check_stack("gpu-workload-has-disruption-budget", plan)
    assert message == "llm: no PodDisruptionBudget selects its pods"
