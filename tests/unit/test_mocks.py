"""Offline mocks: inputs echoed, computed fields plausible and identical on every run."""

from __future__ import annotations

import pulumi

from infra.mocks import PlanMocks
from infra.mocks_aws import AWS_ACCOUNT


def _new(typ: str, name: str, inputs: dict) -> tuple[str | None, dict]:
    args = pulumi.runtime.MockResourceArgs(typ=typ, name=name, inputs=inputs, provider=None)
    return PlanMocks().new_resource(args)


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
