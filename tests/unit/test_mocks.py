"""Offline mocks: inputs echoed, computed fields plausible, auto-names as providers give them."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import sys

import pulumi
import pytest

from llmplane.infra.config.stackfile import read_stack_file
from llmplane.infra.offline.mocks import PlanMocks, auto_name, sdk_inputs, seeded_suffix
from llmplane.infra.offline.mocks_aws import AWS_ACCOUNT
from tests.conftest import STACKS
from tests.plans import Plan, of_type, plan_config, shipped

SHIPPED = sorted(
    p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in STACKS.glob("*.yaml")
)
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
BRIDGE_NAME = re.compile(r"^(?P<logical>.+)-[0-9a-f]{7}$")


def _new(typ: str, name: str, inputs: dict, stack: str = "unit") -> tuple[str | None, dict]:
    args = pulumi.runtime.MockResourceArgs(
        typ=typ, name=name, inputs=inputs, provider=None, custom=True
    )
    return PlanMocks(stack=stack).new_resource(args)


def test_inputs_are_echoed_and_ids_are_stable() -> None:
    first = _new("kubernetes:core/v1:Namespace", "ns", {"metadata": {"name": "llm"}})
    second = _new("kubernetes:core/v1:Namespace", "ns", {"metadata": {"name": "llm"}})
    assert first == second
    assert first[1]["metadata"]["name"] == "llm"
    assert first[1]["metadata"]["uid"]


def test_eks_cluster_gets_endpoint_and_oidc_issuer() -> None:
    _, state = _new("aws:eks/cluster:Cluster", "llm", {"name": "llm"})
    assert state["endpoint"].startswith("https://")
    issuer = state["identities"][0]["oidcs"][0]["issuer"]
    assert issuer.startswith("https://oidc.eks.")
    assert AWS_ACCOUNT in state["arn"]


def test_aks_and_gke_clusters_get_computed_fields() -> None:
    resource_id, aks = _new("azure-native:containerservice:ManagedCluster", "aks", {})
    assert resource_id and resource_id.startswith("/subscriptions/")
    assert aks["oidcIssuerProfile"]["issuerURL"].startswith("https://")
    _, gke = _new("gcp:container/cluster:Cluster", "gke", {"name": "gke"})
    assert gke["endpoint"] and gke["masterAuth"]["clusterCaCertificate"]


def test_unknown_invokes_answer_empty() -> None:
    args = pulumi.runtime.MockCallArgs(token="nope:index:nothing", args={}, provider="")
    assert PlanMocks().call(args) == ({}, [])


def test_an_unnamed_aws_role_gets_a_bridge_auto_name_its_id_and_arn_carry() -> None:
    role_id, state = _new("aws:iam/role:Role", "llm-node-role", {"assumeRolePolicy": "{}"})
    match = BRIDGE_NAME.match(state["name"])
    assert match and match["logical"] == "llm-node-role"
    # An IAM role's id is its name; its ARN ends with it.
    assert role_id == state["name"]
    assert state["arn"] == f"arn:aws:iam::{AWS_ACCOUNT}:role/{state['name']}"


def test_a_set_name_or_name_prefix_is_kept() -> None:
    _, named = _new("aws:iam/role:Role", "llm-role", {"name": "exact"})
    assert named["name"] == "exact"
    _, prefixed = _new("aws:iam/role:Role", "llm-role", {"namePrefix": "llm-"})
    assert "name" not in prefixed
    # Resources without a name input get none.
    _, attachment = _new(ATTACHMENT, "llm-a", {"role": "r", "policyArn": "arn:x"})
    assert "name" not in attachment


def test_eks_node_groups_are_auto_named_in_node_group_name() -> None:
    node_id, state = _new("aws:eks/nodeGroup:NodeGroup", "llm-gpu", {"clusterName": "c"})
    assert BRIDGE_NAME.match(state["nodeGroupName"]) and "name" not in state
    assert node_id == f"c:{state['nodeGroupName']}"
    asg = state["resources"][0]["autoscalingGroups"][0]["name"]
    assert asg.startswith(f"eks-{state['nodeGroupName']}-")


def test_gcp_auto_names_name_and_service_account_ids() -> None:
    _, account = _new("gcp:serviceaccount/account:Account", "llm-nodes", {})
    assert BRIDGE_NAME.match(account["accountId"])
    assert account["email"].startswith(f"{account['accountId']}@")
    _, network = _new("gcp:compute/network:Network", "LLM-net", {})
    assert re.fullmatch(r"llm-net-[0-9a-f]{7}", network["name"])


def test_azure_auto_names_the_own_name_parameter_without_separator() -> None:
    identity_id, identity = _new(
        "azure-native:managedidentity:UserAssignedIdentity",
        "llm-engine",
        {"resourceGroupName": "rg"},
    )
    assert re.fullmatch(r"llm-engine[0-9a-f]{8}", identity["resourceName"])
    assert identity["name"] == identity["resourceName"]
    assert identity_id and identity_id.endswith(f"/userAssignedIdentities/{identity['name']}")
    # A federated credential names its parent identity too: its own name is a separate input.
    _, credential = _new(
        "azure-native:managedidentity:FederatedIdentityCredential",
        "llm-fed",
        {"resourceGroupName": "rg", "resourceName": identity["name"]},
    )
    assert credential["resourceName"] == identity["name"]
    assert credential["name"] == credential["federatedIdentityCredentialResourceName"]
    assert credential["name"].startswith("llm-fed")


def test_azure_role_assignments_are_named_with_guids() -> None:
    assignment_id, state = _new(
        "azure-native:authorization:RoleAssignment", "llm-a", {"scope": "/subscriptions/s"}
    )
    guid = state["roleAssignmentName"]
    assert re.fullmatch(r"[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}", guid)
    assert (
        assignment_id
        == f"/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/{guid}"
    )


def test_unnamed_kubernetes_objects_get_a_marked_dns_label_name() -> None:
    _, state = _new("kubernetes:core/v1:ConfigMap", "llm-config", {"metadata": {}})
    assert re.fullmatch(r"llm-config-[a-z0-9]{8}", state["metadata"]["name"])
    assert state["metadata"]["annotations"]["pulumi.com/autonamed"] == "true"


def test_suffixes_depend_on_stack_type_and_name_only() -> None:
    one = seeded_suffix("aws-dev", "aws:iam/role:Role", "r", 7)
    assert one == seeded_suffix("aws-dev", "aws:iam/role:Role", "r", 7)
    assert len({one, seeded_suffix("aws-prod", "aws:iam/role:Role", "r", 7)}) == 2
    assert one != seeded_suffix("aws-dev", "aws:iam/policy:Policy", "r", 7)
    assert auto_name("s", "t", "n", "bridge") != auto_name("s", "t", "m", "bridge")
    with pytest.raises(ValueError):
        auto_name("s", "t", "n", "nope")


def test_sdk_inputs_come_from_the_sdk_class() -> None:
    assert {"role", "policy_arn"} <= sdk_inputs(ATTACHMENT)
    assert "name" in sdk_inputs("aws:iam/role:Role")
    assert sdk_inputs("nope:x/y:Z") == frozenset()


def test_every_role_policy_attachment_names_its_role() -> None:
    plan = shipped("aws-dev")
    roles = {r["urn"]: r for r in of_type(plan, "aws:iam/role:Role")}
    attachments = of_type(plan, ATTACHMENT)
    assert attachments
    for attachment in attachments:
        role = attachment["inputs"].get("role")
        match = BRIDGE_NAME.match(role or "")
        assert match, f"{attachment['name']} has no role: {attachment['inputs']}"
        # The role it names is the one it depends on.
        (depended,) = [roles[u] for u in attachment["dependencies"] if u in roles]
        assert match["logical"] == depended["name"]


def _args_class(type_: str) -> type | None:
    """The SDK's Args class of a resource type (`<Name>InitArgs` where a type shares its name)."""
    package, module, name = type_.split(":")
    roots = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "azure-native": "pulumi_azure_native"}
    namespace = module.split("/")[0]
    found = importlib.import_module(
        roots[package] + ("" if namespace == "index" else f".{namespace}")
    )
    defining = sys.modules[getattr(found, name).__module__]
    return getattr(defining, f"{name}InitArgs", None) or getattr(defining, f"{name}Args", None)


def _required_inputs(type_: str) -> set[str]:
    """Wire names of the inputs a resource type's SDK declares required."""
    args = _args_class(type_)
    assert args is not None, type_
    required = set()
    for name, parameter in inspect.signature(args.__init__).parameters.items():
        if parameter.kind is parameter.KEYWORD_ONLY and parameter.default is parameter.empty:
            getter = getattr(args, name).fget
            required.add(getattr(getter, "_pulumi_name", None) or name)
    return required


@pytest.mark.parametrize("stack", [s for s in SHIPPED if not s.startswith("kubernetes")])
def test_every_required_cloud_input_reaches_the_plan(stack: str) -> None:
    """A required input built from another resource's output must not vanish as None."""
    missing: dict[str, list[str]] = {}
    for resource in shipped(stack)["resources"]:
        if resource["custom"] and resource["type"].split(":")[0] in ("aws", "gcp", "azure-native"):
            for key in sorted(_required_inputs(resource["type"]) - set(resource["inputs"])):
                missing.setdefault(f"{resource['type']}.{key}", []).append(resource["name"])
    assert not missing


def _aws_dev(stack: str) -> Plan:
    _, config, secret_keys = read_stack_file(STACKS / "Pulumi.aws-dev.yaml")
    return plan_config(stack, config, secret_keys)


def test_auto_names_are_the_same_per_stack_and_differ_between_stacks() -> None:
    first, again, other = _aws_dev("aws-dev"), _aws_dev("aws-dev"), _aws_dev("aws-other")
    assert json.dumps(first) == json.dumps(again)

    def roles(plan: Plan) -> set[str]:
        return {r["inputs"]["role"] for r in of_type(plan, ATTACHMENT)}

    assert roles(first) and roles(first).isdisjoint(roles(other))
    # Only the suffixes differ: both stacks name the same roles.
    assert {_logical(r) for r in roles(first)} == {_logical(r) for r in roles(other)}


def _logical(auto_named: str) -> str:
    """The logical name an auto-name was made from."""
    match = BRIDGE_NAME.match(auto_named)
    assert match, auto_named
    return match["logical"]
