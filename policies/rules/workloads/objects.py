"""Rules for the objects around workloads: namespaces, Services, RBAC roles, disruption budgets."""

from __future__ import annotations

from collections.abc import Iterator

from .. import (
    PDB,
    SERVICE,
    WORKLOADS,
    Config,
    Props,
    Rule,
    dig,
    items,
    resource_rule,
    shown,
    value_rule,
)

CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
NAMESPACED = (
    *WORKLOADS,
    SERVICE,
    ROLE,
    PDB,
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:Secret",
    "kubernetes:core/v1:ServiceAccount",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
)


# The default namespace is where every unscoped RoleBinding and quota leaks. Absent means the
# provider's namespace: default, unless the provider or context sets another.
not_default_namespace = value_rule(
    "k8s-not-default-namespace",
    types=NAMESPACED,
    path="metadata.namespace",
    forbidden="default",
    missing="fail",
    missing_message="metadata.namespace is not set: the object lands in the default namespace",
    message="metadata.namespace is {shown}",
    description="A namespaced object names its namespace, and it is not default.",
    severity="low",
    frameworks=["CKV_K8S_21"],
    remediation="llmplane puts the service in `llm-<stack>` and cluster add-ons in kube-system; "
    "set `metadata.namespace` on your own objects to a namespace of their own.",
)


# --- Services, RBAC and disruption budgets --------------------------------------------------------


# A NodePort is reachable from anything that reaches a node, without TLS or authentication.
no_nodeport = value_rule(
    "k8s-no-nodeport-services",
    types=[SERVICE],
    path="spec.type",
    forbidden="NodePort",  # absent means ClusterIP
    message="spec.type is {shown}",
    description="No Service is of type NodePort: it opens a port on every node, beside the "
    "authenticating gateway and the load balancers.",
    severity="medium",
    frameworks=["kube-score service-type"],
    remediation="Use a ClusterIP Service, and `llmplane:exposure: public` for an endpoint "
    "outside the cluster (TLS and API keys at the gateway).",
)


@resource_rule(
    "k8s-rbac-no-wildcards",
    types=[CLUSTER_ROLE, ROLE],
    description='No Role or ClusterRole rule uses "*" for API groups, resources, verbs or URLs.',
    severity="high",
    frameworks=["CKV_K8S_49", "kube-linter wildcard-in-rules"],
    remediation="List the API groups, resources and verbs the subject needs; llmplane's cluster "
    "autoscaler role names each one.",
)
def rbac_no_wildcards(type_: str, props: Props, config: Config) -> Iterator[str]:
    """A wildcard grants everything, including resources added to the cluster later."""
    for index, rule in enumerate(items(dig(props, "rules"))):
        for field in ("apiGroups", "resources", "verbs", "nonResourceURLs"):
            if "*" in [str(value) for value in items(dig(rule, field))]:
                yield f'rules[{index}].{field} contains "*"'


_ESCALATING = ("bind", "escalate", "impersonate")


@resource_rule(
    "k8s-rbac-no-escalation",
    types=[CLUSTER_ROLE, ROLE],
    description="No Role or ClusterRole grants the bind, escalate or impersonate verbs.",
    severity="high",
    frameworks=["CKV_K8S_157", "CKV_K8S_158"],
    remediation="Remove bind, escalate and impersonate; bind roles from Pulumi instead of "
    "letting a workload do it.",
)
def rbac_no_escalation(type_: str, props: Props, config: Config) -> Iterator[str]:
    """These verbs let a subject grant itself permissions it does not have."""
    for index, rule in enumerate(items(dig(props, "rules"))):
        verbs = sorted({str(v).lower() for v in items(dig(rule, "verbs"))} & set(_ESCALATING))
        if verbs:
            resources = ", ".join(str(r) for r in items(dig(rule, "resources"))) or "any resource"
            yield f"rules[{index}] grants {', '.join(verbs)} on {resources}"


@resource_rule(
    "k8s-pdb-allows-eviction",
    types=[PDB],
    description="A PodDisruptionBudget lets at least one pod be evicted (not maxUnavailable 0 "
    "nor minAvailable 100%), so node drains, upgrades and scale-down can proceed.",
    severity="medium",
    frameworks=["kube-linter pdb-max-unavailable", "kube-linter pdb-min-available"],
    remediation="Use `maxUnavailable: 1` (llmplane's choice) or a minAvailable below the replica "
    "count.",
)
def pdb_allows_eviction(type_: str, props: Props, config: Config) -> Iterator[str]:
    """A budget that forbids every eviction stalls AKS/EKS/GKE upgrades and GPU scale-down."""
    # Absent fields: the budget constrains nothing, which never blocks a drain.
    most = dig(props, "spec.maxUnavailable")
    if most is not None and str(most).strip() in ("0", "0%"):
        yield f"spec.maxUnavailable is {shown(most)}: no pod may ever be evicted"
    least = dig(props, "spec.minAvailable")
    if least is not None and str(least).strip() == "100%":
        yield f"spec.minAvailable is {shown(least)}: no pod may ever be evicted"


RULES: tuple[Rule, ...] = (
    not_default_namespace,
    no_nodeport,
    rbac_no_wildcards,
    rbac_no_escalation,
    pdb_allows_eviction,
)
