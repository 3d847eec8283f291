"""The stack policies that match selectors to pods index them: their time grows with the stack.

Measured in-process as a ratio to a reference run (1,000 resources), never as an absolute time;
and checked against a brute-force matcher on a stack of random selectors, so the index misses
nothing.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from pulumi_policy import StackValidationArgs, StackValidationPolicy

from llmplane.policies.offline import Resource, policy_resources
from llmplane.policies.rules import WORKLOADS, dig
from llmplane.policies.rules.inference import gpu_containers
from llmplane.policies.rules.selection import namespace_of, pod_labels, selects
from tests.policies.harness import POLICIES

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
INDEXED = [
    "k8s-load-balancers-internal-or-gated",
    "k8s-pods-selected-by-network-policy",
    "gpu-workload-has-disruption-budget",
]


def _resource(type_: str, name: str, namespace: str, spec: dict[str, Any]) -> Resource:
    props = {"metadata": {"name": name, "namespace": namespace}, "spec": spec}
    return Resource(type_, name, f"urn:pulumi:s::p::{type_}::{name}", props)


def _app(index: int, namespace: str, labels: dict[str, str]) -> Iterator[Resource]:
    """A GPU engine, the public load balancer in front of it, its NetworkPolicy and its budget."""
    name = f"app-{index}"
    pod = {
        "containers": [
            {"name": "engine", "image": "engine:1", "resources": {"limits": {"nvidia.com/gpu": 1}}}
        ],
        "volumes": [{"name": "keys", "secret": {"secretName": "gateway-keys"}}],
    }
    template = {"metadata": {"labels": labels}, "spec": pod}
    yield _resource(
        DEPLOYMENT, name, namespace, {"selector": {"matchLabels": labels}, "template": template}
    )
    yield _resource(SERVICE, f"{name}-lb", namespace, {"type": "LoadBalancer", "selector": labels})
    yield _resource(NETWORK_POLICY, name, namespace, {"podSelector": {"matchLabels": labels}})
    yield _resource(
        PDB, name, namespace, {"selector": {"matchLabels": labels}, "maxUnavailable": 1}
    )


def synthetic_stack(size: int) -> list[Resource]:
    """`size` resources in four namespaces; every pod carries a label all pods share."""
    resources: list[Resource] = []
    for index in range(size // 4):
        labels = {"app.kubernetes.io/part-of": "llmplane", "app": f"app-{index}"}
        resources.extend(_app(index, f"team-{index % 4}", labels))
    return resources


def _found(policy: str, view: Sequence[Any], config: dict[str, Any] | None = None) -> list[Any]:
    target = POLICIES[policy]
    assert isinstance(target, StackValidationPolicy)
    found: list[Any] = []
    target.validate(
        StackValidationArgs(list(view), config or {}), lambda m, u=None: found.append((m, u))
    )
    return found


def _best(view: Sequence[Any], repeats: int) -> float:
    """The best of `repeats` runs of the three indexed policies over one stack view."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for policy in INDEXED:
            assert _found(policy, view) == []
        best = min(best, time.perf_counter() - start)
    return best


def _ratio(small: Sequence[Any], large: Sequence[Any], repeats: int = 5) -> float:
    """Time over `large` as a multiple of the time over `small`, measured side by side.

    The collector is paused, as it would otherwise add pauses that grow with the whole heap, not
    with what the policies do; runs alternate, so both sizes meet the same machine load.
    """
    gc.collect()
    gc.disable()
    try:
        reference, measured = float("inf"), float("inf")
        for _ in range(repeats):
            reference = min(reference, _best(small, 1))
            measured = min(measured, _best(large, 1))
    finally:
        gc.enable()
    return measured / reference


def test_five_thousand_resources_take_at_most_six_times_one_thousand() -> None:
    small = policy_resources(synthetic_stack(1_000))
    large = policy_resources(synthetic_stack(5_000))
    # Linear is 5x; comparing every pair was 25x and more. A busy shared machine may slow one
    # run of a side-by-side pair, so the best of three measurements counts.
    ratios = []
    for _ in range(3):
        ratios.append(_ratio(small, large))
        if ratios[-1] <= 6:
            return
    pytest.fail(f"5,000 resources took {min(ratios):.1f}x the time of 1,000 (at most 6x)")


# --- The index misses nothing: the same findings as comparing every pair --------------------

KEYS, VALUES, NAMESPACES = ["app", "tier", "part-of"], ["a", "b", "c"], ["kube-system", "x", "y"]


def _labels(rng: random.Random) -> dict[str, str]:
    return {k: rng.choice(VALUES) for k in KEYS if rng.random() < 0.6}


def _selector(rng: random.Random) -> dict[str, Any]:
    selector: dict[str, Any] = {}
    if rng.random() < 0.8:
        selector["matchLabels"] = _labels(rng)
    if rng.random() < 0.3:
        operator = rng.choice(["In", "NotIn", "Exists", "DoesNotExist"])
        expression: dict[str, Any] = {"key": rng.choice(KEYS), "operator": operator}
        if operator in ("In", "NotIn"):
            expression["values"] = rng.sample(VALUES, 2)
        selector["matchExpressions"] = [expression]
    return selector


def random_stack(rng: random.Random, size: int) -> list[Resource]:
    """Workloads, policies, budgets and Services with labels and selectors drawn at random."""
    resources = []
    for index in range(size):
        namespace, name = rng.choice(NAMESPACES), f"r{index}"
        kind = rng.choice([DEPLOYMENT, DEPLOYMENT, "kubernetes:apps/v1:DaemonSet", SERVICE,
                           NETWORK_POLICY, PDB])  # fmt: skip
        if kind == SERVICE:
            annotations = {"networking.gke.io/load-balancer-type": "Internal"}
            spec = {"type": rng.choice(["LoadBalancer", "ClusterIP"]), "selector": _labels(rng)}
            resource = _resource(SERVICE, name, namespace, spec)
            if rng.random() < 0.2:
                resource.props["metadata"]["annotations"] = annotations
        elif kind == NETWORK_POLICY:
            resource = _resource(kind, name, namespace, {"podSelector": _selector(rng)})
        elif kind == PDB:
            resource = _resource(kind, name, namespace, {"selector": _selector(rng)})
        else:
            limits = {"nvidia.com/gpu": 1} if rng.random() < 0.7 else {"cpu": 1}
            pod: dict[str, Any] = {"containers": [{"name": "c", "resources": {"limits": limits}}]}
            if rng.random() < 0.5:
                pod["volumes"] = [{"name": "k", "secret": {"secretName": "gateway-keys"}}]
            template = {"metadata": {"labels": _labels(rng)}, "spec": pod}
            resource = _resource(kind, name, namespace, {"template": template})
        resources.append(resource)
    return resources


def _pairwise(policy: str, resources: Sequence[Resource]) -> list[tuple[str, str | None]]:
    """What each policy must find, by comparing every pair, as the pack did before its index."""
    workloads = [r for r in resources if r.type in WORKLOADS]

    def selected(kind: str, path: str, workload: Resource) -> bool:
        return any(
            namespace_of(o) == namespace_of(workload)
            and selects(dig(o.props, path, {}), pod_labels(workload))
            for o in resources
            if o.type == kind
        )

    found: list[tuple[str, str | None]] = []
    if policy == "k8s-pods-selected-by-network-policy":
        for w in workloads:
            ns = namespace_of(w)
            if ns != "kube-system" and not selected(NETWORK_POLICY, "spec.podSelector", w):
                found.append((f"{w.name}: no NetworkPolicy in {ns} selects its pods", w.urn))
    elif policy == "gpu-workload-has-disruption-budget":
        for w in workloads:
            gpu = w.type == DEPLOYMENT and gpu_containers(w.type, w.props, ["nvidia.com/gpu"])
            if gpu and not selected(PDB, "spec.selector", w):
                found.append((f"{w.name}: no PodDisruptionBudget selects its pods", w.urn))
    else:
        for service in resources:
            if service.type != SERVICE or dig(service.props, "spec.type") != "LoadBalancer":
                continue
            if dig(service.props, "metadata.annotations"):
                continue
            selector = dig(service.props, "spec.selector") or {}
            backends = [
                w
                for w in workloads
                if namespace_of(w) == namespace_of(service)
                and selector
                and selects({"matchLabels": selector}, pod_labels(w))
            ]
            volumes = [dig(w.props, "spec.template.spec.volumes") or [] for w in backends]
            if not backends or not all(volumes):
                message = (
                    f"{service.name} is a public LoadBalancer and its pods do not authenticate "
                    "(no gateway-keys Secret mounted)"
                )
                found.append((message, service.urn))
    return found


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("policy", INDEXED)
def test_the_index_finds_what_comparing_every_pair_finds(policy: str, seed: int) -> None:
    resources = random_stack(random.Random(seed), 40)
    assert _found(policy, policy_resources(resources)) == _pairwise(policy, resources)
