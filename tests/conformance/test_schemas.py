"""Every rendered Kubernetes object against the published schema the API server checks it with.

`llmplane render` writes what `pulumi up` sends to the cluster. kubernetes-validate (PyPI) carries
the Kubernetes OpenAPI schemas per minor version; its strict variant rejects unknown fields, as
`kubectl apply --validate=strict` and server-side field validation do. Each stack is checked for
the versions it targets:
- EKS and AKS: the cluster's `version`/`kubernetesVersion` in the plan (pinned, or the default);
- GKE: the pinned `minMasterVersion`, or, when the Regular channel chooses, every version GKE
  supports for new clusters (`components.gcp.gke.SUPPORTED_VERSIONS`);
- an existing cluster: every minor from the oldest a managed platform supports up to the newest
  kubernetes-validate ships (an existing cluster can be any of them).

Kinds that no schema here covers must be named in an allow-list with the reason, so a new kind
fails this file instead of passing unchecked. Without kubernetes-validate the tests skip, unless
LLMPLANE_CONFORMANCE_REQUIRED=1 (CI), where they fail.
"""

from __future__ import annotations

import copy
import os
from types import ModuleType
from typing import Any

import pytest

from llmplane.components.aws import eks
from llmplane.components.azure import aks
from llmplane.components.gcp import gke
from llmplane.infra.cli.render import kubernetes_manifests
from tests.components.test_gateway import PUBLIC, SECRETS
from tests.conformance.crds import CRDS, crd_failures
from tests.conformance.tools import REQUIRED_ENV
from tests.conftest import config_with
from tests.plans import Plan, of_type, one, plan_config, shipped

SHIPPED = ("aws-dev", "aws-prod", "azure-dev", "gcp-dev", "kubernetes-dev")
# A public endpoint with every secret set: the only variant that renders Secrets and a ConfigMap.
PUBLIC_STACK = "public"
HF_TOKEN = "hf_" + "t" * 34
STACKS = (*SHIPPED, PUBLIC_STACK)

# Rendered kinds that no Kubernetes schema covers: checked elsewhere or not at all, and why.
NO_KUBERNETES_SCHEMA: dict[tuple[str, str], str] = {
    ("keda.sh/v1alpha1", "ScaledObject"): (
        "a KEDA CRD, not a Kubernetes kind: checked against the CRD KEDA's chart 2.20.2 "
        "installs, vendored in tests/conformance/schemas/ (test_scaled_objects_against_kedas_crd)"
    ),
    ("http.keda.sh/v1alpha1", "HTTPScaledObject"): (
        "a CRD of KEDA's HTTP add-on: checked against the one its chart 0.15.0 installs, vendored "
        "in tests/conformance/schemas/ (test_scaled_objects_against_kedas_crd)"
    ),
}
# Kubernetes resources of a plan that render to no object, and why they are not validated here.
NOT_RENDERED: dict[str, str] = {
    "kubernetes:helm.sh/v3:Release": (
        "not an object: Helm renders the chart inside the cluster and checks its values against "
        "the chart's own values.schema.json, if any (KEDA's 2.20.2 and the HTTP add-on's 0.15.0 "
        "have none); no package registry CI installs from carries the charts; "
        "tests/components/test_inference.py pins the chart versions"
    ),
}

REQUIRED = os.environ.get(REQUIRED_ENV) == "1"


@pytest.fixture(scope="module")
def validator() -> ModuleType:
    """kubernetes-validate, or a skip (a failure where CI requires the conformance checks)."""
    try:
        import kubernetes_validate
    except ImportError:
        if REQUIRED:
            pytest.fail(f"kubernetes-validate is not installed, and {REQUIRED_ENV}=1 requires it")
        pytest.skip(
            "kubernetes-validate is not installed (pip install -e '.[dev]'; "
            f"set {REQUIRED_ENV}=1 to make this a failure)"
        )
    return kubernetes_validate


def _plan(stack: str) -> Plan:
    """A shipped stack's plan, or the public variant with every secret set."""
    if stack != PUBLIC_STACK:
        return shipped(stack)
    config = config_with(**PUBLIC, hfToken=HF_TOKEN)
    return plan_config(PUBLIC_STACK, config, SECRETS | {"llmplane:hfToken"})


@pytest.fixture(scope="module")
def plans() -> dict[str, Plan]:
    """Every stack's plan, computed once for this file."""
    return {stack: _plan(stack) for stack in STACKS}


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def target_versions(plan: Plan, validator: ModuleType) -> list[str]:
    """The Kubernetes minor versions a stack's objects must be valid for."""
    match plan["cloud"]:
        case "aws":
            return [one(plan, "aws:eks/cluster:Cluster")["inputs"]["version"]]
        case "azure":
            cluster = one(plan, "azure-native:containerservice:ManagedCluster")
            return [cluster["inputs"]["kubernetesVersion"]]
        case "gcp":
            pinned = one(plan, "gcp:container/cluster:Cluster")["inputs"].get("minMasterVersion")
            return [pinned] if pinned else list(gke.SUPPORTED_VERSIONS)
        case _:
            oldest = min(
                (*eks.SUPPORTED_VERSIONS, *aks.SUPPORTED_VERSIONS, *gke.SUPPORTED_VERSIONS),
                key=_minor,
            )
            newest = _minor(validator.latest_version())
            return [f"1.{minor}" for minor in range(_minor(oldest)[1], newest[1] + 1)]


def _label(manifest: dict[str, Any]) -> str:
    meta = manifest.get("metadata") or {}
    return f"{manifest.get('kind')} {meta.get('namespace') or '-'}/{meta.get('name')}"


def schema_failures(validator: ModuleType, manifest: dict[str, Any], version: str) -> str | None:
    """Why the strict schema of `version` refuses the object, or None if it accepts it."""
    try:
        validator.validate(manifest, version, strict=True)
    except validator.ValidationError as error:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        return f"{_label(manifest)} @ {where}: {error.message}"
    except validator.SchemaNotFoundError as error:
        return f"{_label(manifest)}: {error.message}, and it is not in NO_KUBERNETES_SCHEMA"
    return None


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_passes_the_strict_kubernetes_schema(
    stack: str, plans: dict[str, Plan], validator: ModuleType
) -> None:
    plan = plans[stack]
    manifests = [
        m
        for m in kubernetes_manifests(plan)
        if (m["apiVersion"], m["kind"]) not in NO_KUBERNETES_SCHEMA
    ]
    assert manifests, f"{stack} renders no object that Kubernetes' schemas cover"
    versions = target_versions(plan, validator)
    failures = [
        f"{version}: {failure}"
        for version in versions
        for manifest in manifests
        if (failure := schema_failures(validator, manifest, version)) is not None
    ]
    assert not failures, "\n".join(failures)


def test_every_kubernetes_kind_is_validated_or_allow_listed(plans: dict[str, Plan]) -> None:
    rendered = {
        (m["apiVersion"], m["kind"]) for plan in plans.values() for m in kubernetes_manifests(plan)
    }
    kubernetes = {
        r["type"]
        for plan in plans.values()
        for r in plan["resources"]
        if r["custom"] and r["type"].startswith("kubernetes:")
    }
    # A resource type that renders nothing must be one the allow-list names with its reason.
    rendered_types = {
        f"kubernetes:{api if '/' in api else 'core/' + api}:{kind}" for api, kind in rendered
    }
    assert kubernetes - rendered_types <= set(NOT_RENDERED), kubernetes - rendered_types
    # No stale entries: each one still describes something the stacks produce.
    assert set(NOT_RENDERED) <= kubernetes
    assert set(NO_KUBERNETES_SCHEMA) <= rendered


def test_the_strict_schemas_reject_what_kubernetes_rejects(
    plans: dict[str, Plan], validator: ModuleType
) -> None:
    """The check above is not vacuous: unknown fields and a string `stringData` are refused."""
    plan = plans[PUBLIC_STACK]
    version = target_versions(plan, validator)[-1]
    deployment = copy.deepcopy(of_type(plan, "kubernetes:apps/v1:Deployment")[0]["inputs"])
    assert schema_failures(validator, deployment, version) is None
    deployment["spec"]["template"]["spec"]["containers"][0]["unknownField"] = True
    assert "unknownField" in (schema_failures(validator, deployment, version) or "")
    # What `render` wrote before Secrets kept their keys.
    secret = copy.deepcopy(of_type(plan, "kubernetes:core/v1:Secret")[0]["inputs"])
    assert schema_failures(validator, secret, version) is None
    secret["stringData"] = "[secret]"
    assert "stringData" in (schema_failures(validator, secret, version) or "")


def test_rendered_secrets_keep_their_keys_and_only_values_are_redacted(
    plans: dict[str, Plan],
) -> None:
    secrets = {
        m["metadata"]["name"]: m
        for m in kubernetes_manifests(plans[PUBLIC_STACK])
        if m["kind"] == "Secret"
    }
    assert {name: s["stringData"] for name, s in secrets.items()} == {
        "inference-hf-token": {"HF_TOKEN": "[secret]"},
        "gateway-keys": {"keys.map": "[secret]"},
        "gateway-tls": {"tls.crt": "[secret]", "tls.key": "[secret]"},
    }
    assert not any("data" in s for s in secrets.values())


def test_scaled_objects_against_kedas_crd(plans: dict[str, Plan]) -> None:
    """KEDA's custom resources against the pinned charts' CRDs, unknown fields refused."""
    custom = [
        (stack, m)
        for stack, plan in plans.items()
        for m in kubernetes_manifests(plan)
        if (m["apiVersion"], m["kind"]) in CRDS
    ]
    assert {stack for stack, m in custom if m["kind"] == "ScaledObject"} == set(STACKS)
    # azure-dev scales to zero, so KEDA's HTTP add-on holds its requests.
    assert "azure-dev" in {stack for stack, m in custom if m["kind"] == "HTTPScaledObject"}
    failures = [f"{stack}: {_label(m)} @ {f}" for stack, m in custom for f in crd_failures(m)]
    assert not failures, "\n".join(failures)
