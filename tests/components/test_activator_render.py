"""What a held service renders, against the schemas the API server checks it with.

Core objects go through kubernetes-validate's strict schemas, as tests/conformance/test_schemas.py
checks the stacks. The HTTPScaledObject and the ScaledObject go through the CRDs their charts
install (vendored in tests/conformance/schemas/, see its README), closed to unknown fields the way
`kubectl apply --validate=strict` closes them, with the CRDs' CEL rules checked by hand.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from llmplane.components.aws import eks
from llmplane.components.azure import aks
from llmplane.components.gcp import gke
from llmplane.components.kubernetes.activator import KIND
from llmplane.infra.cli.render import kubernetes_manifests
from tests.components.held import held_plan
from tests.conformance.crds import CRDS, crd_failures, validation_module

# The oldest minor a managed platform still offers and the newest kubernetes-validate ships are
# what test_schemas.py spans for an existing cluster; both ends are checked here.
OLDEST = min(
    (*eks.SUPPORTED_VERSIONS, *aks.SUPPORTED_VERSIONS, *gke.SUPPORTED_VERSIONS),
    key=lambda version: tuple(int(part) for part in version.split(".")),
)
VERSIONS = (OLDEST, None)


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    plan, _ = held_plan()
    return kubernetes_manifests(plan)


def test_every_core_object_passes_the_strict_kubernetes_schema(
    manifests: list[dict[str, Any]],
) -> None:
    validator = validation_module("kubernetes_validate")
    failures = []
    for manifest in manifests:
        if (manifest["apiVersion"], manifest["kind"]) in CRDS:
            continue
        for version in VERSIONS:
            target = version or validator.latest_version()
            try:
                validator.validate(manifest, target, strict=True)
            except validator.ValidationError as error:
                where = "/".join(str(p) for p in error.absolute_path) or "(root)"
                failures.append(f"{target} {manifest['kind']} @ {where}: {error.message}")
    assert not failures, "\n".join(failures)


def test_the_custom_resources_pass_their_crds(manifests: list[dict[str, Any]]) -> None:
    custom = [m for m in manifests if (m["apiVersion"], m["kind"]) in CRDS]
    assert sorted(m["kind"] for m in custom) == ["HTTPScaledObject", "ScaledObject"]
    failures = [f"{m['kind']} {f}" for m in custom for f in crd_failures(m)]
    assert not failures, "\n".join(failures)


def test_the_closed_crds_refuse_what_the_api_server_refuses(
    manifests: list[dict[str, Any]],
) -> None:
    """The check above is not vacuous: unknown fields, wrong types and the port rule fail it."""
    held = copy.deepcopy(next(m for m in manifests if m["kind"] == KIND))
    assert crd_failures(held) == []
    held["spec"]["timeouts"]["conditionWaitSeconds"] = 30
    held["spec"]["replicas"]["min"] = "zero"
    held["spec"]["scaleTargetRef"]["port"] = 80
    found = " | ".join(crd_failures(held))
    assert "conditionWaitSeconds" in found and "'zero' is not of type 'integer'" in found
    assert "either the 'portName' or the 'port'" in found
    scaler = copy.deepcopy(next(m for m in manifests if m["kind"] == "ScaledObject"))
    assert crd_failures(scaler) == []
    scaler["spec"]["triggers"][-1]["metadata"]["httpScaledObject"] = 1
    scaler["spec"]["triggers"][-1]["authRef"] = {"name": "x"}
    scaler["spec"]["minReplicaCount"] = scaler["spec"]["maxReplicaCount"] + 1
    found = " | ".join(crd_failures(scaler))
    assert "1 is not of type 'string'" in found and "authRef" in found
    assert "minReplicaCount must be less than or equal to maxReplicaCount" in found
