"""GCP answers for the offline mocks: resource ids, service-account emails, cluster endpoints."""

from __future__ import annotations

from typing import Any

import pulumi

PROJECT_NUMBER = "123456789012"
# base64 of a PEM header only: enough for code that splices it into a kubeconfig, useless as a CA.
FAKE_CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="


def _project() -> str:
    return pulumi.Config("gcp").get("project") or "mock-project"


def _region() -> str:
    return pulumi.Config("gcp").get("region") or "us-central1"


def auto_name_field(type_: str, sdk_inputs: frozenset[str]) -> tuple[str, str] | None:
    """The input pulumi-gcp fills with an auto-name when the program leaves it out, if any.

    pulumi-gcp's provider/resources.go: `prov.SetAutonaming(255, "-")` auto-names every `name`
    input "<logical name>-<7 hex>"; compute resources use a lower-cased variant
    (lowercaseAutoName), and a service account's `accountId` is auto-named the same way.
    """
    kind = type_.split(":")[1]
    if kind == "serviceaccount/account":
        return "accountId", "bridge"
    if "name" not in sdk_inputs:
        return None
    return "name", "bridge-lower" if kind.startswith("compute/") else "bridge"


def resource(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    """An id in the GCP API's own path style, and the computed fields of the few that need them."""
    kind = type_.split(":")[1]
    own = str(inputs.get("name") or inputs.get("accountId") or inputs.get("repositoryId") or name)
    project, region = _project(), _region()
    located = f"projects/{project}/locations/{region}"
    paths = {
        "compute/network": f"projects/{project}/global/networks/{own}",
        "compute/subnetwork": f"projects/{project}/regions/{region}/subnetworks/{own}",
        "compute/router": f"projects/{project}/regions/{region}/routers/{own}",
        "container/cluster": f"projects/{project}/locations/{region}/clusters/{own}",
        "container/nodePool": f"{located}/clusters/{inputs.get('cluster')}/nodePools/{own}",
        "kms/keyRing": f"projects/{project}/locations/{region}/keyRings/{own}",
        "kms/cryptoKey": f"{inputs.get('keyRing')}/cryptoKeys/{own}",
        "artifactregistry/repository": f"projects/{project}/locations/{region}/repositories/{own}",
        "serviceaccount/account": f"projects/{project}/serviceAccounts/{own}@{project}.iam."
        "gserviceaccount.com",
        "secretmanager/secret": f"projects/{project}/secrets/{inputs.get('secretId', own)}",
    }
    resource_id = paths.get(kind, f"projects/{project}/{kind}/{own}")
    state: dict[str, Any] = {
        "id": resource_id,
        "name": own,
        "selfLink": f"https://www.googleapis.com/{resource_id}",
    }
    if kind == "serviceaccount/account":
        email = f"{own}@{project}.iam.gserviceaccount.com"
        state |= {"email": email, "member": f"serviceAccount:{email}", "uniqueId": PROJECT_NUMBER}
    if kind == "container/cluster":
        state |= {"endpoint": "172.16.0.2", "masterAuth": {"clusterCaCertificate": FAKE_CA}}
    if kind == "secretmanager/secretVersion":
        state["name"] = f"{inputs.get('secret')}/versions/1"
    return state


CALLS = {
    "gcp:organizations/getProject:getProject": lambda args: {
        "projectId": args.get("projectId") or _project(),
        "number": PROJECT_NUMBER,
        "name": args.get("projectId") or _project(),
    },
}
