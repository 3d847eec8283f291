"""Mock provider answers for offline plans: echo the inputs, add what a cloud would compute."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pulumi

# A fixed, obviously fake account so mocked ARNs look real but can never be mistaken for one.
AWS_ACCOUNT = "123456789012"
AZURE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"

Computed = Callable[[str, dict[str, Any], str], dict[str, Any]]


def _digest(*parts: str) -> str:
    """A short stable hex digest: mocked ids must be the same on every run."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]


def _kubernetes(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    metadata = dict(inputs.get("metadata") or {})
    metadata.setdefault("name", name)
    metadata["uid"] = _digest(type_, name)
    return {"metadata": metadata}


def _aws(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    service = type_.split(":")[1].split("/")[0]
    region = pulumi.Config("aws").get("region") or "us-east-1"
    return {"arn": f"arn:aws:{service}:{region}:{AWS_ACCOUNT}:{name}"}


def _azure(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    group = inputs.get("resourceGroupName", "rg")
    kind = type_.split(":")[-1]
    return {
        "id": f"/subscriptions/{AZURE_SUBSCRIPTION}/resourceGroups/{group}/{kind}/{name}",
        "name": inputs.get("resourceName") or inputs.get("name") or name,
    }


def _gcp(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    project = pulumi.Config("gcp").get("project") or "mock-project"
    kind = type_.split(":")[-1].lower()
    return {"selfLink": f"projects/{project}/{kind}s/{inputs.get('name', name)}"}


def _eks_cluster(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    region = pulumi.Config("aws").get("region") or "us-east-1"
    oidc_id = _digest(type_, name).upper()
    return {
        **_aws(name, inputs, type_),
        "endpoint": f"https://{oidc_id}.gr7.{region}.eks.amazonaws.com",
        "certificateAuthority": {"data": _FAKE_CA},
        "identities": [
            {"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{oidc_id}"}]}
        ],
        "status": "ACTIVE",
    }


def _aks_cluster(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    location = inputs.get("location", "eastus")
    return {
        **_azure(name, inputs, type_),
        "fqdn": f"{name}-{_digest(type_, name)[:8]}.hcp.{location}.azmk8s.io",
        "oidcIssuerProfile": {
            **(inputs.get("oidcIssuerProfile") or {}),
            "issuerURL": f"https://{location}.oic.prod-aks.azure.com/{AZURE_SUBSCRIPTION}/{_digest(name)}/",
        },
    }


def _gke_cluster(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    return {
        **_gcp(name, inputs, type_),
        "endpoint": "10.0.0.2",
        "masterAuth": {"clusterCaCertificate": _FAKE_CA},
    }


# base64 of a PEM header only: enough for code that splices it into a kubeconfig, useless as a CA.
_FAKE_CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="

# Resources whose computed fields downstream code reads get their own answer.
_BY_TYPE: dict[str, Computed] = {
    "aws:eks/cluster:Cluster": _eks_cluster,
    "azure-native:containerservice:ManagedCluster": _aks_cluster,
    "gcp:container/cluster:Cluster": _gke_cluster,
}

# Otherwise the first path segment of a type token picks the provider family.
_BY_PACKAGE: dict[str, Computed] = {
    "kubernetes": _kubernetes,
    "aws": _aws,
    "azure-native": _azure,
    "gcp": _gcp,
}


class PlanMocks(pulumi.runtime.Mocks):
    """Mocks that make an offline plan look like a real one, and give the same answers every run."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        """Echo the inputs and add computed fields; ids derive from type and name only."""
        computed = _BY_TYPE.get(args.typ) or _BY_PACKAGE.get(args.typ.split(":")[0])
        extra = computed(args.name, args.inputs, args.typ) if computed else {}
        resource_id = extra.get("id") or f"{args.name}-{_digest(args.typ, args.name)[:8]}"
        return resource_id, {**args.inputs, **extra}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        """Answer the invokes the program uses; unknown ones return {} so their fields are None."""
        handler = _CALLS.get(args.token)
        return (handler(args.args) if handler else {}), None


_CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": lambda _: {
        "accountId": AWS_ACCOUNT,
        "arn": f"arn:aws:iam::{AWS_ACCOUNT}:user/llmplane-plan",
        "userId": "AIDAPLANOFFLINE",
    },
    "aws:index/getPartition:getPartition": lambda _: {
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
    },
}
