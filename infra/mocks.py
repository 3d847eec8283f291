"""Mock provider answers for offline plans: echo the inputs, add what a cloud would compute."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

from infra.mocks_aws import CALLS as AWS_CALLS
from infra.mocks_aws import digest
from infra.mocks_aws import resource as aws_resource
from infra.mocks_azure import CALLS as AZURE_CALLS
from infra.mocks_azure import resource as azure_resource
from infra.mocks_gcp import CALLS as GCP_CALLS
from infra.mocks_gcp import resource as gcp_resource

Computed = Callable[[str, dict[str, Any], str], dict[str, Any]]


def _kubernetes(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    metadata = dict(inputs.get("metadata") or {})
    metadata.setdefault("name", name)
    metadata["uid"] = digest(type_, name)
    return {"metadata": metadata}


# The first path segment of a type token picks the provider family.
_BY_PACKAGE: dict[str, Computed] = {
    "kubernetes": _kubernetes,
    "aws": aws_resource,
    "azure-native": azure_resource,
    "gcp": gcp_resource,
}


class PlanMocks(pulumi.runtime.Mocks):
    """Mocks that make an offline plan look like a real one, and give the same answers every run."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        """Echo the inputs and add computed fields; ids derive from type and name only."""
        computed = _BY_PACKAGE.get(args.typ.split(":")[0])
        extra = computed(args.name, args.inputs, args.typ) if computed else {}
        resource_id = extra.get("id") or f"{args.name}-{digest(args.typ, args.name)[:8]}"
        return resource_id, {**args.inputs, **extra}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        """Answer the invokes the program uses; unknown ones return {} so their fields are None."""
        handler = _CALLS.get(args.token)
        return (handler(args.args) if handler else {}), []


_CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    **AWS_CALLS,
    **AZURE_CALLS,
    **GCP_CALLS,
}
