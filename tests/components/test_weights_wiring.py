"""The weights bucket end to end: stack key -> cluster's bucket -> engine streaming from it."""

from __future__ import annotations

from typing import Any

import pytest

from llmplane.infra.config.errors import SettingsError
from llmplane.infra.config.settings import parse
from llmplane.infra.config.stackfile import read_stack_file
from tests.conftest import STACKS
from tests.plans import Resource, of_type, plan_config, pod_spec

# Per cloud: the bucket component, the URI scheme, the reader grant and how it names the reader.
CLOUDS = {
    "aws": ("llmplane:aws:WeightsBucket", "s3://", "aws:iam/rolePolicy:RolePolicy"),
    "gcp": ("llmplane:gcp:WeightsBucket", "gs://", "gcp:storage/bucketIAMMember:BucketIAMMember"),
    "azure": (
        "llmplane:azure:WeightsContainer",
        "az://",
        "azure-native:authorization:RoleAssignment",
    ),
}
CLUSTER = {
    "aws": "llmplane:aws:GpuCluster",
    "gcp": "llmplane:gcp:GpuCluster",
    "azure": "llmplane:azure:GpuCluster",
}
IDENTITY = {
    "aws": "aws:iam/role:Role",
    "gcp": "gcp:serviceaccount/account:Account",
    "azure": "azure-native:managedidentity:UserAssignedIdentity",
}


def _config(cloud: str, **changes: Any) -> dict[str, Any]:
    _, config, _ = read_stack_file(STACKS / f"Pulumi.{cloud}-dev.yaml")
    config = {k: v for k, v in config.items() if k != "llmplane:weights"}
    return {**config, "llmplane:engine": "vllm", "llmplane:weights": {"bucket": True}, **changes}


@pytest.fixture(scope="module", params=sorted(CLOUDS))
def planned(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    cloud = request.param
    return cloud, plan_config(f"{cloud}-weights", _config(cloud))


def _engine(plan: dict[str, Any]) -> dict[str, Any]:
    """The engine container: the one Deployment container that asks for GPUs."""
    [container] = [
        c
        for r in of_type(plan, "kubernetes:apps/v1:Deployment")
        for c in pod_spec(r)["containers"]
        if any("gpu" in k for k in c.get("resources", {}).get("limits", {}))
    ]
    return container


def test_bucket_is_a_child_of_the_cluster(planned: tuple[str, dict[str, Any]]) -> None:
    cloud, plan = planned
    [cluster] = of_type(plan, CLUSTER[cloud])
    [bucket] = of_type(plan, CLOUDS[cloud][0])
    assert bucket["parent"] == cluster["urn"]
    assert bucket["name"] == cluster["name"]


def test_engine_streams_from_the_bucket(planned: tuple[str, dict[str, Any]]) -> None:
    cloud, plan = planned
    container = _engine(plan)
    args = container["args"]
    assert args[args.index("--load-format") + 1] == "runai_streamer"
    models = [a for a in args if a.startswith(CLOUDS[cloud][1])]
    assert len(models) == 1 and models[0].count("/") >= 4, args
    served = args[args.index("--served-model-name") + 1]
    assert models[0].endswith("/" + served)
    assert "--revision" not in args
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert ("AZURE_STORAGE_ACCOUNT_NAME" in env) == (cloud == "azure")
    # The stack says where to upload the snapshot: exactly where the engine reads it.
    assert plan["outputs"]["weightsUri"] == models[0]


def test_no_warm_cache_job(planned: tuple[str, dict[str, Any]]) -> None:
    _, plan = planned
    assert of_type(plan, "kubernetes:batch/v1:Job") == []


def _reader_names_identity(cloud: str, grant: Resource, identity: Resource) -> bool:
    inputs = grant["inputs"]
    value = {"aws": "role", "gcp": "member", "azure": "principalId"}[cloud]
    return identity["urn"] in grant["dependencies"] and bool(inputs.get(value))


def test_reader_grant_names_the_engine_identity(planned: tuple[str, dict[str, Any]]) -> None:
    cloud, plan = planned
    [bucket] = of_type(plan, CLOUDS[cloud][0])
    grants = [
        r
        for r in of_type(plan, CLOUDS[cloud][2])
        if r["parent"] == bucket["urn"] and r["name"].endswith("-weights-engine")
    ]
    assert len(grants) == 1
    identities = [
        r for r in of_type(plan, IDENTITY[cloud]) if r["urn"] in grants[0]["dependencies"]
    ]
    assert identities, grants[0]["dependencies"]
    assert _reader_names_identity(cloud, grants[0], identities[0])


def test_no_mandatory_violation(planned: tuple[str, dict[str, Any]]) -> None:
    _, plan = planned
    mandatory = [v for v in plan["violations"] if v.get("enforcement") == "mandatory"]
    assert mandatory == []


def test_gke_engine_may_reach_the_metadata_server_only_with_gs() -> None:
    for cloud in ("aws", "gcp"):
        plan = plan_config(f"{cloud}-weights", _config(cloud))
        policies = of_type(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
        egress = [
            peer["ipBlock"]["cidr"]
            for p in policies
            for rule in p["inputs"]["spec"].get("egress", [])
            for peer in rule.get("to", [])
            if "ipBlock" in peer
        ]
        assert ("169.254.169.252/32" in egress) == (cloud == "gcp")


def test_tgi_with_bucket_is_refused() -> None:
    with pytest.raises(SettingsError) as error:
        parse("aws-weights", _config("aws", **{"llmplane:engine": "tgi"}))
    assert "weights.bucket" in str(error.value)
