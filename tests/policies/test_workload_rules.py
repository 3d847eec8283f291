"""The Kubernetes policies on every shipped workload, and on copies broken one field at a time."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from pulumi_policy.proxy import UnknownValueError

from llmplane.policies.rules import (
    CRON_JOB,
    DAEMON_SET,
    DEPLOYMENT,
    JOB,
    PDB,
    POD,
    SECRET,
    SERVICE,
    STATEFUL_SET,
)
from llmplane.policies.rules.workloads.objects import CLUSTER_ROLE, ROLE
from tests.conftest import STACKS, config_with
from tests.plans import one, plan_config, shipped
from tests.policies.harness import (
    UNKNOWN,
    Cases,
    Mutation,
    Props,
    RuleCases,
    check,
    drop,
    findings,
    mutated,
    put,
    rules_of,
)

WORKLOAD_RULES = rules_of("workloads")
SHIPPED = sorted(path.stem.removeprefix("Pulumi.") for path in STACKS.glob("Pulumi.*.yaml"))

P = "spec.template.spec"  # where a Deployment or DaemonSet keeps its pod spec
C = f"{P}.containers.0"


def real(type_: str, name: str) -> Callable[[], Props]:
    """aws-dev's resource (it ships every kind of workload llmplane makes), freshly copied."""
    return lambda: copy.deepcopy(one(shipped("aws-dev"), type_, name)["inputs"])


ENGINE = real(DEPLOYMENT, "llm")
PINNED = "ghcr.io/x/tgi:3.3.7@sha256:" + "a" * 64
# The engine with its warm-cache wait container pinned, so that a digest case is about the engine's.
ENGINE_WAIT_PINNED = mutated(ENGINE, put(f"{P}.initContainers.0.image", PINNED))
AUTOSCALER = real(DEPLOYMENT, "llm-autoscaler")
PLUGIN = real(DAEMON_SET, "llm-device-plugin")
SVC = real(SERVICE, "llm-svc")
CROLE = real(CLUSTER_ROLE, "llm-autoscaler")
NS_ROLE = real(ROLE, "llm-autoscaler")
BUDGET = real(PDB, "llm-pdb")
NOTHING: Mutation = lambda p: None  # noqa: E731

# fmt: off
# One compliant case per policy, from what aws-dev deploys (every stack is checked further down).
COMPLIANT = [
    ("k8s-no-privileged-containers", DEPLOYMENT, ENGINE),
    ("k8s-no-host-namespaces", DAEMON_SET, PLUGIN),
    ("k8s-no-host-ports", DEPLOYMENT, ENGINE),
    ("k8s-no-privilege-escalation", DEPLOYMENT, AUTOSCALER),
    ("k8s-run-as-non-root", DEPLOYMENT, ENGINE),
    ("k8s-run-as-non-root", DAEMON_SET, PLUGIN),
    ("k8s-high-uid", DEPLOYMENT, AUTOSCALER),
    ("k8s-drop-all-capabilities", DEPLOYMENT, ENGINE),
    ("k8s-seccomp-runtime-default", DEPLOYMENT, AUTOSCALER),
    ("k8s-read-only-root-filesystem", DAEMON_SET, PLUGIN),
    ("k8s-no-host-path", DAEMON_SET, PLUGIN),
    ("k8s-resources-set", DEPLOYMENT, ENGINE),
    ("k8s-probes-set", DAEMON_SET, PLUGIN),
    ("k8s-image-pinned", DEPLOYMENT, ENGINE),
    ("k8s-image-digest", DEPLOYMENT, mutated(ENGINE_WAIT_PINNED, put(f"{C}.image", PINNED))),
    ("k8s-no-service-account-token", DEPLOYMENT, AUTOSCALER),
    ("k8s-no-literal-secrets-in-env", DEPLOYMENT, ENGINE),
    ("k8s-not-default-namespace", DEPLOYMENT, ENGINE),
    ("k8s-no-nodeport-services", SERVICE, SVC),
    ("k8s-rbac-no-wildcards", CLUSTER_ROLE, CROLE),
    ("k8s-rbac-no-escalation", ROLE, NS_ROLE),
    ("k8s-pdb-allows-eviction", PDB, BUDGET),
]

# (policy, type, props, mutation, a fragment the one message must hold)
VIOLATIONS = [
    ("k8s-no-privileged-containers", DEPLOYMENT, ENGINE,
     put(f"{C}.securityContext.privileged", True),
     'container "tgi" has securityContext.privileged true'),
    ("k8s-no-host-namespaces", DEPLOYMENT, ENGINE, put(f"{P}.hostNetwork", True),
     "hostNetwork is true"),
    ("k8s-no-host-namespaces", DAEMON_SET, PLUGIN, put(f"{P}.hostPID", True), "hostPID is true"),
    ("k8s-no-host-ports", DEPLOYMENT, ENGINE, put(f"{C}.ports.0.hostPort", 8080),
     'container "tgi" binds hostPort 8080'),
    ("k8s-no-privilege-escalation", DEPLOYMENT, AUTOSCALER,
     put(f"{C}.securityContext.allowPrivilegeEscalation", True),
     'container "cluster-autoscaler" has allowPrivilegeEscalation true'),
    ("k8s-run-as-non-root", DEPLOYMENT, ENGINE, put(f"{C}.securityContext.runAsUser", 0),
     'container "tgi" has runAsUser 0'),
    ("k8s-run-as-non-root", DEPLOYMENT, ENGINE, put(f"{C}.securityContext.runAsNonRoot", False),
     'container "tgi" has runAsNonRoot false'),
    ("k8s-run-as-non-root", DAEMON_SET, PLUGIN, put("metadata.name", "my-agent"),
     'container "nvidia-device-plugin" has runAsNonRoot not set'),
    ("k8s-high-uid", DEPLOYMENT, AUTOSCALER, put(f"{P}.securityContext.runAsUser", 1000),
     'container "cluster-autoscaler" runs as UID 1000, below 10000'),
    ("k8s-drop-all-capabilities", DEPLOYMENT, ENGINE,
     put(f"{C}.securityContext.capabilities.drop", ["NET_RAW"]),
     'container "tgi" does not drop ALL capabilities (drops NET_RAW)'),
    ("k8s-drop-all-capabilities", DEPLOYMENT, ENGINE,
     put(f"{C}.securityContext.capabilities.add", ["SYS_ADMIN"]),
     'container "tgi" adds capabilities SYS_ADMIN'),
    ("k8s-seccomp-runtime-default", DEPLOYMENT, ENGINE,
     put(f"{C}.securityContext.seccompProfile.type", "Unconfined"),
     'container "tgi" has seccompProfile.type "Unconfined"'),
    ("k8s-read-only-root-filesystem", DEPLOYMENT, ENGINE,
     put(f"{C}.securityContext.readOnlyRootFilesystem", False),
     'container "tgi" has readOnlyRootFilesystem false'),
    ("k8s-no-host-path", DEPLOYMENT, ENGINE,
     put(f"{P}.volumes.0", {"name": "root", "hostPath": {"path": "/"}}),
     'volume "root" mounts hostPath "/"'),
    ("k8s-no-host-path", DAEMON_SET, PLUGIN, put(f"{P}.volumes.0.hostPath.path", "/var/run"),
     'volume "device-plugins" mounts hostPath "/var/run"'),
    ("k8s-no-host-path", DAEMON_SET, PLUGIN, put("metadata.name", "my-agent"),
     'mounts hostPath "/var/lib/kubelet/device-plugins"'),
    ("k8s-resources-set", DEPLOYMENT, AUTOSCALER, put(f"{C}.resources", {}),
     'container "cluster-autoscaler" has no resources.requests.cpu, resources.limits.cpu, '
     "resources.requests.memory, resources.limits.memory"),
    ("k8s-probes-set", DAEMON_SET, PLUGIN, drop(f"{C}.readinessProbe"),
     'container "nvidia-device-plugin" has no readinessProbe'),
    ("k8s-image-pinned", DEPLOYMENT, ENGINE, put(f"{C}.image", "ghcr.io/x/tgi:latest"),
     'container "tgi" image "ghcr.io/x/tgi:latest" uses the latest tag'),
    ("k8s-image-pinned", DEPLOYMENT, ENGINE, put(f"{C}.image", "localhost:5000/tgi"),
     'image "localhost:5000/tgi" has no tag or digest (pulls latest)'),
    ("k8s-image-digest", DEPLOYMENT, ENGINE_WAIT_PINNED, NOTHING,
     'image "ghcr.io/huggingface/text-generation-inference:3.3.7" is not pinned by digest'),
    ("k8s-no-service-account-token", DEPLOYMENT, ENGINE,
     put(f"{P}.automountServiceAccountToken", True), "automountServiceAccountToken is true"),
    ("k8s-no-literal-secrets-in-env", DEPLOYMENT, ENGINE,
     put(f"{C}.env.0", {"name": "HF_TOKEN", "value": "not-a-real-token"}),
     'container "tgi" sets HF_TOKEN from a literal value'),
    ("k8s-no-literal-secrets-in-env", DEPLOYMENT, ENGINE,
     put(f"{C}.env.0", {"name": "EXTRA_ARGS", "value": "hf_" + "x" * 34}),
     'container "tgi" sets EXTRA_ARGS from a literal value'),
    ("k8s-no-literal-secrets-in-env", DEPLOYMENT, ENGINE,
     put(f"{C}.env.0", {"name": "UPSTREAM", "value": SECRET}), "sets UPSTREAM from a literal"),
    ("k8s-not-default-namespace", DEPLOYMENT, ENGINE, put("metadata.namespace", "default"),
     'metadata.namespace is "default"'),
    ("k8s-no-nodeport-services", SERVICE, SVC, put("spec.type", "NodePort"),
     'spec.type is "NodePort"'),
    ("k8s-rbac-no-wildcards", CLUSTER_ROLE, CROLE, put("rules.0.verbs", ["*"]),
     'rules[0].verbs contains "*"'),
    ("k8s-rbac-no-wildcards", ROLE, NS_ROLE, put("rules.1.apiGroups", ["*"]),
     'rules[1].apiGroups contains "*"'),
    ("k8s-rbac-no-escalation", CLUSTER_ROLE, CROLE, put("rules.0.verbs", ["create", "bind"]),
     "rules[0] grants bind on events, endpoints"),
    ("k8s-rbac-no-escalation", ROLE, NS_ROLE,
     put("rules.0", {"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"]}),
     "rules[0] grants impersonate on users"),
    ("k8s-pdb-allows-eviction", PDB, BUDGET, put("spec.maxUnavailable", 0),
     "spec.maxUnavailable is 0: no pod may ever be evicted"),
    ("k8s-pdb-allows-eviction", PDB, BUDGET,
     lambda p: p["spec"].update(maxUnavailable=None, minAvailable="100%"),
     'spec.minAvailable is "100%"'),
]

# (policy, type, props, the property removed, a fragment of the message, or None: still complies)
MISSING = [
    ("k8s-no-privileged-containers", DEPLOYMENT, ENGINE, f"{C}.securityContext", None),
    ("k8s-no-host-namespaces", DEPLOYMENT, ENGINE, f"{P}.securityContext", None),
    ("k8s-no-host-ports", DEPLOYMENT, ENGINE, f"{C}.ports", None),
    ("k8s-no-privilege-escalation", DEPLOYMENT, ENGINE,
     f"{C}.securityContext.allowPrivilegeEscalation", "has allowPrivilegeEscalation not set"),
    # The pod's securityContext still holds runAsNonRoot for the engine, not for the autoscaler.
    ("k8s-run-as-non-root", DEPLOYMENT, ENGINE, f"{C}.securityContext.runAsNonRoot", None),
    ("k8s-run-as-non-root", DEPLOYMENT, AUTOSCALER, f"{P}.securityContext.runAsNonRoot",
     'container "cluster-autoscaler" has runAsNonRoot not set'),
    ("k8s-high-uid", DEPLOYMENT, AUTOSCALER, f"{P}.securityContext.runAsUser",
     "sets no runAsUser: the image's user applies"),
    ("k8s-drop-all-capabilities", DEPLOYMENT, ENGINE, f"{C}.securityContext.capabilities",
     "does not drop ALL capabilities (drops nothing)"),
    ("k8s-seccomp-runtime-default", DEPLOYMENT, ENGINE, f"{C}.securityContext.seccompProfile",
     None),
    ("k8s-seccomp-runtime-default", DEPLOYMENT, AUTOSCALER, f"{P}.securityContext.seccompProfile",
     'container "cluster-autoscaler" has seccompProfile.type not set (Unconfined)'),
    ("k8s-read-only-root-filesystem", DEPLOYMENT, ENGINE,
     f"{C}.securityContext.readOnlyRootFilesystem", "has readOnlyRootFilesystem not set"),
    ("k8s-no-host-path", DAEMON_SET, PLUGIN, f"{P}.volumes", None),
    ("k8s-resources-set", DEPLOYMENT, ENGINE, f"{C}.resources.requests", None),
    ("k8s-resources-set", DEPLOYMENT, ENGINE, f"{C}.resources.limits.memory",
     'container "tgi" has no resources.limits.memory'),
    ("k8s-probes-set", DEPLOYMENT, ENGINE, f"{C}.livenessProbe",
     'container "tgi" has no livenessProbe'),
    ("k8s-image-pinned", DEPLOYMENT, ENGINE, f"{C}.image", None),
    ("k8s-image-digest", DEPLOYMENT, ENGINE_WAIT_PINNED, f"{C}.image", None),
    ("k8s-no-service-account-token", DEPLOYMENT, ENGINE, f"{P}.automountServiceAccountToken",
     "automountServiceAccountToken is not set: the pod gets an API token"),
    ("k8s-no-literal-secrets-in-env", DEPLOYMENT, ENGINE, f"{C}.env", None),
    ("k8s-not-default-namespace", DEPLOYMENT, ENGINE, "metadata.namespace",
     "metadata.namespace is not set"),
    ("k8s-no-nodeport-services", SERVICE, SVC, "spec.type", None),
    ("k8s-rbac-no-wildcards", CLUSTER_ROLE, CROLE, "rules", None),
    ("k8s-rbac-no-escalation", CLUSTER_ROLE, CROLE, "rules", None),
    ("k8s-pdb-allows-eviction", PDB, BUDGET, "spec.maxUnavailable", None),
]

# (policy, type, props, mutation, policy config, fragment or None: complies under that config)
CONFIGURED = [
    # The device plugin is exempt by name; an empty allow-list exempts nothing.
    ("k8s-run-as-non-root", DAEMON_SET, PLUGIN, NOTHING, {"rootAllowed": []},
     'container "nvidia-device-plugin" has runAsNonRoot not set'),
    ("k8s-run-as-non-root", DEPLOYMENT, ENGINE, put(f"{C}.securityContext.runAsUser", 0),
     {"rootAllowed": ["inference"]}, None),
    ("k8s-high-uid", DEPLOYMENT, AUTOSCALER, NOTHING, {"minUid": 70000},
     'container "cluster-autoscaler" runs as UID 65534, below 70000'),
    ("k8s-drop-all-capabilities", DEPLOYMENT, ENGINE,
     put(f"{C}.securityContext.capabilities.add", ["SYS_PTRACE"]),
     {"allowedCapabilities": ["SYS_PTRACE"]}, None),
    ("k8s-no-host-path", DAEMON_SET, PLUGIN, NOTHING, {"hostPathAllowed": {}},
     'volume "device-plugins" mounts hostPath "/var/lib/kubelet/device-plugins"'),
    ("k8s-no-literal-secrets-in-env", DEPLOYMENT, AUTOSCALER, NOTHING,
     {"secretNamePattern": "REGION"}, 'container "cluster-autoscaler" sets AWS_REGION'),
]

# Shapes that must not be mistaken for a violation.
ALSO_COMPLIANT = [
    ("k8s-no-literal-secrets-in-env", DEPLOYMENT, ENGINE,
     put(f"{C}.env.0", {"name": "HF_TOKEN_PATH", "value": "/data/token"})),
    ("k8s-no-literal-secrets-in-env", DEPLOYMENT, ENGINE,
     put(f"{C}.env.0", {"name": "TOKENIZERS_PARALLELISM", "value": "false"})),
    ("k8s-no-literal-secrets-in-env", DEPLOYMENT, ENGINE,
     put(f"{C}.env.0", {"name": "HF_TOKEN",
                        "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}})),
    ("k8s-image-pinned", DEPLOYMENT, ENGINE,
     put(f"{C}.image", "registry:5000/tgi@sha256:" + "b" * 64)),
    ("k8s-image-pinned", DEPLOYMENT, ENGINE, put(f"{C}.image", "registry:5000/team/tgi:3.3.7")),
    ("k8s-drop-all-capabilities", DEPLOYMENT, ENGINE,
     put(f"{C}.securityContext.capabilities.add", ["NET_BIND_SERVICE"])),
    ("k8s-no-host-path", DAEMON_SET, PLUGIN,
     put(f"{P}.volumes.0.hostPath.path", "/var/lib/kubelet/device-plugins/")),
    ("k8s-pdb-allows-eviction", PDB, BUDGET,
     lambda p: p["spec"].update(maxUnavailable=None, minAvailable="50%")),
]
# fmt: on


class TestWorkloadCases(RuleCases):
    """The shared checks over the Kubernetes workload case tables."""

    cases = Cases(WORKLOAD_RULES, COMPLIANT, VIOLATIONS, MISSING, CONFIGURED, ALSO_COMPLIANT)


def _as(type_: str, deployment: Props) -> tuple[Props, Props]:
    """The engine Deployment's pod template rewrapped as another kind, and its pod spec."""
    template = deployment["spec"]["template"]
    if type_ == POD:
        return {"metadata": deployment["metadata"], "spec": template["spec"]}, template["spec"]
    if type_ == CRON_JOB:
        spec = {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}}
        return {"metadata": deployment["metadata"], "spec": spec}, template["spec"]
    return {"metadata": deployment["metadata"], "spec": {"template": template}}, template["spec"]


@pytest.mark.parametrize("type_", [DEPLOYMENT, DAEMON_SET, STATEFUL_SET, JOB, CRON_JOB, POD])
def test_every_workload_type_is_checked_init_containers_too(type_: str) -> None:
    resource, pod = _as(type_, ENGINE())
    assert check("k8s-no-privileged-containers", type_, resource) == []
    setup = {"name": "setup", "image": "busybox:1.37", "securityContext": {"privileged": True}}
    pod["initContainers"] = [setup]
    assert check("k8s-no-privileged-containers", type_, resource) == [
        'container "setup" has securityContext.privileged true'
    ]


def test_probes_are_not_asked_of_jobs() -> None:
    job, pod = _as(JOB, ENGINE())
    del pod["containers"][0]["livenessProbe"]
    assert "k8s-probes-set" not in {r.name for r in WORKLOAD_RULES if JOB in r.types}
    assert check("k8s-probes-set", JOB, job) == []


@pytest.mark.parametrize("stack", SHIPPED)
def test_shipped_stacks_break_no_mandatory_workload_policy(stack: str) -> None:
    found = findings(shipped(stack), WORKLOAD_RULES)
    assert [f for f in found if f[0] == "mandatory"] == []
    # Tags, not digests, pin llmplane's images: the digest policy is advisory for that reason.
    assert {f[1] for f in found} == {"k8s-image-digest"}


def test_the_public_gateway_and_other_engines_comply() -> None:
    cert = "-----BEGIN CERTIFICATE-----\nMIIBfakecert\n-----END CERTIFICATE-----\n"
    key = "-----BEGIN PRIVATE KEY-----\nMIIEfakekey\n-----END PRIVATE KEY-----\n"
    public = config_with(exposure="public", engine="vllm", apiKeys="k" * 40,
                         tlsCertificate=cert, tlsKey=key)  # fmt: skip
    plan = plan_config("pub", public, frozenset({"llmplane:apiKeys", "llmplane:tlsKey"}))
    found = findings(plan, WORKLOAD_RULES)
    assert one(plan, DEPLOYMENT, "llm-gateway")
    assert [f for f in found if f[0] == "mandatory"] == []
    sglang = plan_config("sg", config_with(engine="sglang"))
    assert [f for f in findings(sglang, WORKLOAD_RULES) if f[0] == "mandatory"] == []


def test_an_unknown_value_is_left_to_the_runner() -> None:
    engine = ENGINE()
    engine["spec"]["template"]["spec"]["containers"][0]["image"] = UNKNOWN
    with pytest.raises(UnknownValueError):
        check("k8s-image-pinned", DEPLOYMENT, engine)
