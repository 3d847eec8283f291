"""Stack policies: properties no single resource shows, checked across the whole stack."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError

from . import (
    DAEMON_SET,
    DEPLOYMENT,
    PDB,
    SECRET,
    SERVICE,
    WORKLOADS,
    Config,
    Rule,
    StackResource,
    containers,
    dig,
    items,
    pod_spec,
    stack_rule,
)
from .inference import GPU_RESOURCES, gpu_containers
from .selection import Pods, namespace_of, unselected

Found = Iterator[tuple[str, str | None]]
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SECRET_TYPE = "kubernetes:core/v1:Secret"
# Annotations that keep a LoadBalancer Service off the internet, per cloud.
INTERNAL_LB = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
    "networking.gke.io/load-balancer-type": "Internal",
    "cloud.google.com/load-balancer-type": "Internal",
}
# A Hugging Face user access token (hf_ + 34 letters); older ones were api_org_... .
HF_TOKEN = re.compile(r"\b(hf_[A-Za-z0-9]{30,}|api_org_[A-Za-z0-9]{30,})\b")


def _workloads(resources: Sequence[StackResource]) -> list[StackResource]:
    """The resources that run pods."""
    return [r for r in resources if r.type in WORKLOADS]


@stack_rule(
    "k8s-pods-selected-by-network-policy",
    description="Every pod is selected by a NetworkPolicy in its namespace.",
    severity="high",
    frameworks=("CKV2_K8S_6", "CIS 5.3.2"),
    remediation="Add a NetworkPolicy (a default deny plus the paths the pod needs) in the "
    "workload's namespace; llmplane creates both for the engine and the gateway.",
    config={
        "exemptNamespaces": {
            "type": "array",
            "default": ["kube-system"],
            "description": "namespaces whose system pods the platform manages",
        }
    },
)
def pods_selected(resources: Sequence[StackResource], config: Config) -> Found:
    """A pod no policy selects accepts traffic from every pod in the cluster."""
    exempt = config["exemptNamespaces"]
    workloads = [w for w in _workloads(resources) if namespace_of(w) not in exempt]
    if not workloads:
        return
    policies = (r for r in resources if r.type == NETWORK_POLICY)
    for workload in unselected(workloads, policies, "spec.podSelector"):
        namespace = namespace_of(workload)
        yield f"{workload.name}: no NetworkPolicy in {namespace} selects its pods", workload.urn


# Each managed cloud's GPU pools and how they spell their taints.
def _pool_taints(resource: StackResource) -> list[tuple[str, str, str]]:
    """(key, value, effect) of a node pool's NoSchedule taints, in Kubernetes' spelling."""
    effects = {
        "NO_SCHEDULE": "NoSchedule",
        "NO_EXECUTE": "NoExecute",
        "NoSchedule": "NoSchedule",
        "NoExecute": "NoExecute",
    }
    taints: list[tuple[str, str, str]] = []
    if resource.type == "aws:eks/nodeGroup:NodeGroup":
        for t in items(dig(resource.props, "taints")):
            taints.append((dig(t, "key"), dig(t, "value", ""), effects.get(dig(t, "effect"), "")))
    elif resource.type == "azure-native:containerservice:AgentPool":
        for text in items(dig(resource.props, "nodeTaints")):
            key_value, _, effect = str(text).partition(":")
            key, _, value = key_value.partition("=")
            taints.append((key, value, effect))
    return [t for t in taints if t[2] in ("NoSchedule", "NoExecute")]


def tolerates(tolerations: Iterable[Any], taint: tuple[str, str, str]) -> bool:
    """Kubernetes' toleration matching: key (or none, meaning all), operator, value, effect."""
    key, value, effect = taint
    for t in tolerations:
        if dig(t, "effect") not in (None, "", effect):
            continue
        if dig(t, "key") in (None, "") and dig(t, "operator") == "Exists":
            return True
        if dig(t, "key") != key:
            continue
        if dig(t, "operator") == "Exists" or dig(t, "value", "") == value:
            return True
    return False


@stack_rule(
    "gpu-device-plugin-tolerates-pool-taints",
    description="The NVIDIA device plugin tolerates every GPU pool's taints, so GPUs become "
    "schedulable on every pool.",
    severity="critical",
    frameworks=("LLMPLANE-GPU-8",),
    remediation="Give the device plugin DaemonSet a toleration for each taint of the GPU pools "
    "(llmplane derives both from one Placement).",
)
def device_plugin_tolerates(resources: Sequence[StackResource], config: Config) -> Found:
    """A plugin that cannot land on a tainted pool leaves its GPUs invisible: pods stay Pending."""
    plugins = [
        r
        for r in resources
        if r.type == DAEMON_SET
        and any(
            "k8s-device-plugin" in str(dig(c, "image", ""))
            for c in containers(pod_spec(r.type, r.props))
        )
    ]
    for pool in resources:
        taints = _pool_taints(pool)
        if not taints or not _is_gpu_pool(pool, taints):
            continue
        if not plugins:
            yield f"GPU pool {pool.name} has no NVIDIA device plugin to serve it", pool.urn
        for plugin in plugins:
            tolerations = items(dig(pod_spec(plugin.type, plugin.props), "tolerations"))
            for taint in taints:
                if not tolerates(tolerations, taint):
                    yield (
                        f"{plugin.name} does not tolerate {taint[0]}={taint[1]}:{taint[2]} of "
                        f"GPU pool {pool.name}",
                        plugin.urn,
                    )


def _is_gpu_pool(pool: StackResource, taints: list[tuple[str, str, str]]) -> bool:
    """GPU pools carry a GPU taint or label; a tainted system pool is not one of them."""
    labels = dig(pool.props, "labels") or dig(pool.props, "nodeLabels") or {}
    words = [key for key, _, _ in taints] + [f"{k}={labels[k]}" for k in labels]
    return any("gpu" in word.lower() or "accelerator" in word.lower() for word in words)


@stack_rule(
    "k8s-load-balancers-internal-or-gated",
    description="Every LoadBalancer Service is internal, or exposes only the authenticating "
    "gateway (API keys from a Secret, TLS).",
    severity="critical",
    frameworks=("LLMPLANE-NET-1",),
    remediation="Keep llmplane:exposure internal, or use exposure: public, which puts the "
    "authenticating gateway in front of the engine.",
    config={
        "gatewayKeysSecret": {
            "type": "string",
            "default": "gateway-keys",
            "description": "Secret of API keys an authenticating gateway mounts",
        }
    },
)
def load_balancers(resources: Sequence[StackResource], config: Config) -> Found:
    """An unauthenticated public endpoint lets anyone burn GPU hours on your bill."""
    pods: Pods | None = None  # read once a public LoadBalancer needs them
    for service in resources:
        if service.type != SERVICE or dig(service.props, "spec.type") != "LoadBalancer":
            continue
        annotations = dig(service.props, "metadata.annotations") or {}
        if any(annotations.get(k) == v for k, v in INTERNAL_LB.items()):
            continue
        selector = dig(service.props, "spec.selector") or {}
        pods = pods or Pods(_workloads(resources))
        namespace = namespace_of(service)
        backends = pods.selected_by(namespace, {"matchLabels": selector}) if selector else []
        gated = backends and all(_mounts_secret(w, config["gatewayKeysSecret"]) for w in backends)
        if not gated:
            yield (
                f"{service.name} is a public LoadBalancer and its pods do not authenticate "
                f"(no {config['gatewayKeysSecret']} Secret mounted)",
                service.urn,
            )


def _mounts_secret(workload: StackResource, secret: str) -> bool:
    """Whether a workload's pods mount the named Secret as a volume."""
    volumes = items(dig(pod_spec(workload.type, workload.props), "volumes"))
    return any(dig(v, "secret.secretName") == secret for v in volumes)


# Customer-managed key consumers: (type, property paths that name the key), per cloud.
KEY_TYPES = ("aws:kms/key:Key", "azure-native:keyvault:Key", "gcp:kms/cryptoKey:CryptoKey")
KEY_CONSUMERS: dict[str, tuple[str, ...]] = {
    "aws:eks/cluster:Cluster": ("encryptionConfig.provider.keyArn",),
    "aws:ec2/launchTemplate:LaunchTemplate": ("blockDeviceMappings.0.ebs.kmsKeyId",),
    "aws:ecr/repository:Repository": ("encryptionConfigurations.0.kmsKey",),
    "aws:efs/fileSystem:FileSystem": ("kmsKeyId",),
    "azure-native:containerservice:ManagedCluster": (
        "securityProfile.azureKeyVaultKms.keyId",
        "diskEncryptionSetID",
    ),
    "azure-native:containerregistry:Registry": ("encryption.keyVaultProperties.keyIdentifier",),
    "gcp:container/cluster:Cluster": ("databaseEncryption.keyName",),
    "gcp:container/nodePool:NodePool": ("nodeConfig.bootDiskKmsKey",),
    "gcp:artifactregistry/repository:Repository": ("kmsKeyName",),
}


@stack_rule(
    "kms-key-used-everywhere",
    description="The stack's customer-managed key really encrypts the cluster's secrets, the "
    "node disks and the registry: each names a key and depends on the stack's key resource.",
    severity="high",
    frameworks=("CKV_AWS_58", "CKV_AWS_136", "CKV_AZURE_117", "CKV_GCP_84", "CIS GKE 5.3.1"),
    remediation="Pass the stack's key to every encrypting resource (llmplane's adapters do); a "
    "key created but unused protects nothing.",
)
def key_used(resources: Sequence[StackResource], config: Config) -> Found:
    """Encryption that names some other key, or none, is invisible to a per-resource check."""
    keys = {r.urn for r in resources if r.type in KEY_TYPES}
    consumers = [r for r in resources if r.type in KEY_CONSUMERS]
    if not consumers:
        return
    by_urn = {r.urn: r for r in resources}
    for resource in consumers:
        for path in KEY_CONSUMERS[resource.type]:
            if dig(resource.props, path) in (None, ""):
                yield f"{resource.name}: {path} is not set", resource.urn
        if not keys:
            yield f"{resource.name}: the stack creates no customer-managed key", resource.urn
        elif not _reaches(resource.urn, keys, by_urn):
            yield f"{resource.name}: does not depend on the stack's key", resource.urn


def _reaches(start: str, targets: set[str], by_urn: Mapping[str, StackResource]) -> bool:
    """Whether `start` depends on a target, directly or through other resources (a key's grant)."""
    seen, todo = set(), [start]
    while todo:
        urn = todo.pop()
        if urn in targets and urn != start:
            return True
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        todo.extend(by_urn[urn].dependencies)
    return False


@stack_rule(
    "hf-token-never-literal",
    description="The Hugging Face token is never a literal: no resource outside a Kubernetes "
    "Secret carries one, and no container gets it as a plain env value.",
    severity="critical",
    frameworks=("CKV_K8S_35",),
    remediation="pulumi config set --secret llmplane:hfToken hf_...; llmplane mounts it from a "
    "Secret as a read-only file.",
)
def token_not_literal(resources: Sequence[StackResource], config: Config) -> Found:
    """A token in plain inputs lands in the state file, plan output and CI logs."""
    for resource in resources:
        if resource.type == SECRET_TYPE:
            continue
        for path, text in _strings(resource.props, ""):
            if HF_TOKEN.search(text):
                yield (
                    f"{resource.name}: {path or 'a value'} holds a Hugging Face token",
                    resource.urn,
                )
        if resource.type in WORKLOADS:
            for container in containers(pod_spec(resource.type, resource.props)):
                for env in items(dig(container, "env")):
                    name, value = str(dig(env, "name", "")), dig(env, "value")
                    if name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN") and value not in (
                        None,
                        SECRET,
                    ):
                        yield f"{resource.name}: env {name} is a literal value", resource.urn


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string in a props tree, with its path; values a preview does not know are skipped."""
    if isinstance(value, str):
        yield path, value
        return
    if not isinstance(value, Mapping | Sequence):
        return
    keys = list(value) if isinstance(value, Mapping) else list(range(len(value)))
    for key in keys:
        try:
            item = value[key]
        except UnknownValueError:
            # Not known until deployment, so not a literal written into the program.
            continue
        yield from _strings(item, f"{path}.{key}" if path else str(key))


@stack_rule(
    "gpu-workload-has-disruption-budget",
    description="Every GPU Deployment is covered by a PodDisruptionBudget that still lets a node "
    "drain.",
    severity="medium",
    frameworks=("kube-score: deployment-has-poddisruptionbudget",),
    remediation="Add a PodDisruptionBudget with maxUnavailable: 1 selecting the engine's pods "
    "(llmplane creates one).",
    config={"gpuResources": GPU_RESOURCES},
)
def disruption_budget(resources: Sequence[StackResource], config: Config) -> Found:
    """Without one, a node upgrade can evict every replica at once mid-stream."""
    gpu = [
        r
        for r in resources
        if r.type == DEPLOYMENT and gpu_containers(r.type, r.props, config["gpuResources"])
    ]
    if not gpu:
        return
    for workload in unselected(gpu, (r for r in resources if r.type == PDB), "spec.selector"):
        yield f"{workload.name}: no PodDisruptionBudget selects its pods", workload.urn


RULES: tuple[Rule, ...] = (
    pods_selected,
    device_plugin_tolerates,
    load_balancers,
    key_used,
    token_not_literal,
    disruption_budget,
)
