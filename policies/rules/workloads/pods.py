"""Pod security rules (Pod Security Standards, Checkov): privilege, host access, users, seccomp."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .. import (
    WORKLOADS,
    Config,
    Props,
    Rule,
    containers,
    dig,
    items,
    pod_spec,
    resource_rule,
    shown,
    truthy,
)
from .messages import OURS, container_label

# The NVIDIA device plugin registers a socket in the kubelet's root-owned directory.
_DEVICE_PLUGIN = "nvidia-device-plugin"


def _effective(spec: Any, container: Any, key: str) -> Any:
    """A securityContext setting as the kubelet applies it: the container's, else the pod's."""
    value = dig(container, f"securityContext.{key}")
    return dig(spec, f"securityContext.{key}") if value is None else value


def _number(value: Any) -> int | None:
    """An integer property, or None when absent or not a number."""
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _exempt(props: Props, config: Config, key: str) -> bool:
    """Whether the workload's metadata.name is on the config's allow-list `key`.

    Read only once a violation is found, so an unknown name in a preview costs nothing when the
    workload complies anyway.
    """
    return str(dig(props, "metadata.name", "")) in {str(n) for n in config[key]}


@resource_rule(
    "k8s-no-privileged-containers",
    types=WORKLOADS,
    description="No container runs privileged.",
    severity="critical",
    frameworks=["CKV_K8S_16", "PSS baseline"],
    remediation=f"{OURS}; remove `securityContext.privileged: true` from your own containers "
    "(the device plugin needs only its hostPath socket directory, not privilege).",
)
def no_privileged(type_: str, props: Props, config: Config) -> Iterator[str]:
    """A privileged container is root on the node."""
    # Absent means false.
    for container in containers(pod_spec(type_, props)):
        if truthy(dig(container, "securityContext.privileged")):
            yield f"{container_label(container)} has securityContext.privileged true"


@resource_rule(
    "k8s-no-host-namespaces",
    types=WORKLOADS,
    description="No pod shares the node's network, PID or IPC namespace.",
    severity="high",
    frameworks=["CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19", "PSS baseline"],
    remediation=f"{OURS}; remove `hostNetwork`, `hostPID` and `hostIPC` from your own pod specs.",
)
def no_host_namespaces(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Host namespaces let a pod see and reach the node's processes and interfaces."""
    spec = pod_spec(type_, props)
    # Absent means false.
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if truthy(dig(spec, key)):
            yield f"{key} is true"


@resource_rule(
    "k8s-no-host-ports",
    types=WORKLOADS,
    description="No container binds a port on the node's own address (hostPort).",
    severity="medium",
    frameworks=["CKV_K8S_26", "PSS baseline"],
    remediation=f"{OURS}; drop `ports[].hostPort` and reach pods through a Service.",
)
def no_host_ports(type_: str, props: Props, config: Config) -> Iterator[str]:
    """A hostPort bypasses Services and NetworkPolicies and pins one pod per node."""
    for container in containers(pod_spec(type_, props)):
        for port in items(dig(container, "ports")):
            host = dig(port, "hostPort")
            if host not in (None, 0):
                yield f"{container_label(container)} binds hostPort {host}"


@resource_rule(
    "k8s-no-privilege-escalation",
    types=WORKLOADS,
    description="Every container sets allowPrivilegeEscalation to false.",
    severity="high",
    frameworks=["CKV_K8S_20", "PSS restricted"],
    remediation=f"{OURS}; set `securityContext.allowPrivilegeEscalation: false` per container.",
)
def no_privilege_escalation(type_: str, props: Props, config: Config) -> Iterator[str]:
    """setuid binaries cannot raise a process above its parent's privileges."""
    for container in containers(pod_spec(type_, props)):
        # Absent means true: Linux allows escalation unless no_new_privs is set.
        value = dig(container, "securityContext.allowPrivilegeEscalation")
        if value is None or truthy(value):
            yield f"{container_label(container)} has allowPrivilegeEscalation {shown(value)}"


_ROOT_ALLOWED = {
    "rootAllowed": {
        "type": "array",
        "items": {"type": "string"},
        "default": [_DEVICE_PLUGIN],
        "description": "metadata.name of workloads that may run as root (the NVIDIA device "
        "plugin writes its socket into the kubelet's root-owned directory).",
    }
}


@resource_rule(
    "k8s-run-as-non-root",
    types=WORKLOADS,
    description="Every container runs with runAsNonRoot true and a non-zero runAsUser, except "
    "workloads named in rootAllowed.",
    severity="high",
    frameworks=["CKV_K8S_23", "PSS restricted"],
    remediation=f"{OURS}; set `securityContext.runAsNonRoot: true` and a `runAsUser` above 0 "
    "on the pod or each container, or add the workload's name to this policy's `rootAllowed`.",
    config=_ROOT_ALLOWED,
)
def run_as_non_root(type_: str, props: Props, config: Config) -> Iterator[str]:
    """A root process that escapes its container is root on the node."""
    spec = pod_spec(type_, props)
    problems = []
    for container in containers(spec):
        user = _number(_effective(spec, container, "runAsUser"))
        non_root = _effective(spec, container, "runAsNonRoot")
        if user == 0:
            problems.append(f"{container_label(container)} has runAsUser 0")
        # Absent means false: the container runs as the image's user, root unless it says not.
        elif not truthy(non_root):
            problems.append(f"{container_label(container)} has runAsNonRoot {shown(non_root)}")
    if problems and not _exempt(props, config, "rootAllowed"):
        yield from problems


@resource_rule(
    "k8s-high-uid",
    types=WORKLOADS,
    description="Every container runs as a UID of minUid or more, clear of the node's own users; "
    "advisory because many vetted images run as a fixed low UID (nginx 101, postgres 999).",
    severity="low",
    frameworks=["CKV_K8S_40"],
    remediation=f"{OURS}; set `securityContext.runAsUser` (and `runAsGroup`) to 10000 or more.",
    enforcement="advisory",
    config={
        **_ROOT_ALLOWED,
        "minUid": {
            "type": "integer",
            "default": 10000,
            "description": "The lowest runAsUser accepted.",
        },
    },
)
def high_uid(type_: str, props: Props, config: Config) -> Iterator[str]:
    """A UID shared with a host user gets that user's files if the container escapes."""
    spec = pod_spec(type_, props)
    lowest = int(config["minUid"])
    problems = []
    for container in containers(spec):
        user = _number(_effective(spec, container, "runAsUser"))
        # Absent: the image's USER decides, which a policy cannot see.
        if user is None:
            problems.append(
                f"{container_label(container)} sets no runAsUser: the image's user applies"
            )
        elif user < lowest:
            problems.append(f"{container_label(container)} runs as UID {user}, below {lowest}")
    if problems and not _exempt(props, config, "rootAllowed"):
        yield from problems


@resource_rule(
    "k8s-drop-all-capabilities",
    types=WORKLOADS,
    description="Every container drops ALL Linux capabilities and adds back only allowed ones.",
    severity="high",
    frameworks=["CKV_K8S_28", "CKV_K8S_37", "CKV_K8S_25", "CKV_K8S_39", "PSS restricted"],
    remediation=f"{OURS}; set `securityContext.capabilities.drop: [ALL]` and add back only what "
    "the process needs (NET_BIND_SERVICE to listen below 1024).",
    config={
        "allowedCapabilities": {
            "type": "array",
            "items": {"type": "string"},
            "default": ["NET_BIND_SERVICE"],
            "description": "Capabilities a container may add back (PSS restricted allows only "
            "NET_BIND_SERVICE).",
        }
    },
)
def drop_all_capabilities(type_: str, props: Props, config: Config) -> Iterator[str]:
    """The runtime's default set includes NET_RAW, CHOWN and more that a server rarely needs."""
    allowed = {str(cap).upper().removeprefix("CAP_") for cap in config["allowedCapabilities"]}
    for container in containers(pod_spec(type_, props)):
        # Absent means the container runtime's default capability set.
        drop = [str(cap) for cap in items(dig(container, "securityContext.capabilities.drop"))]
        if "ALL" not in {cap.upper() for cap in drop}:
            shown = ", ".join(drop) or "nothing"
            yield f"{container_label(container)} does not drop ALL capabilities (drops {shown})"
        added = [str(cap) for cap in items(dig(container, "securityContext.capabilities.add"))]
        extra = [cap for cap in added if cap.upper().removeprefix("CAP_") not in allowed]
        if extra:
            yield f"{container_label(container)} adds capabilities {', '.join(extra)}"


@resource_rule(
    "k8s-seccomp-runtime-default",
    types=WORKLOADS,
    description="Every container runs under the RuntimeDefault (or a Localhost) seccomp profile, "
    "set on the pod or the container.",
    severity="medium",
    frameworks=["CKV_K8S_31", "PSS restricted"],
    remediation=f"{OURS}; set `securityContext.seccompProfile.type: RuntimeDefault` on the pod.",
)
def seccomp(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Seccomp blocks the rarely used syscalls most kernel exploits go through."""
    spec = pod_spec(type_, props)
    for container in containers(spec):
        # Absent means Unconfined, unless every kubelet runs with --seccomp-default.
        kind = _effective(spec, container, "seccompProfile.type")
        if kind not in ("RuntimeDefault", "Localhost"):
            yield f"{container_label(container)} has seccompProfile.type {shown(kind)} (Unconfined)"


@resource_rule(
    "k8s-read-only-root-filesystem",
    types=WORKLOADS,
    description="Every container's root filesystem is read-only; writable paths are volumes.",
    severity="medium",
    frameworks=["CKV_K8S_22"],
    remediation=f"{OURS}; set `securityContext.readOnlyRootFilesystem: true` and mount emptyDir "
    "volumes where the process writes (/tmp, caches, home).",
)
def read_only_root(type_: str, props: Props, config: Config) -> Iterator[str]:
    """An attacker cannot drop tools or alter binaries inside the container."""
    for container in containers(pod_spec(type_, props)):
        # Absent means false: the root filesystem is writable.
        value = dig(container, "securityContext.readOnlyRootFilesystem")
        if not truthy(value):
            yield f"{container_label(container)} has readOnlyRootFilesystem {shown(value)}"


def _clean(path: Any) -> str:
    """A host path without a trailing slash, so /a/ and /a compare equal."""
    text = str(path or "")
    return text.rstrip("/") or "/"


@resource_rule(
    "k8s-no-host-path",
    types=WORKLOADS,
    description="No pod mounts a hostPath volume, except the paths hostPathAllowed grants a named "
    "workload (the device plugin's socket directory).",
    severity="high",
    frameworks=["CKV_K8S_27", "PSS baseline"],
    remediation="Use emptyDir, ConfigMap, Secret or persistent volumes; a node agent that truly "
    "needs a host directory gets it by name in this policy's `hostPathAllowed`.",
    config={
        "hostPathAllowed": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "default": {_DEVICE_PLUGIN: ["/var/lib/kubelet/device-plugins"]},
            "description": "metadata.name of a workload → the host paths it may mount.",
        }
    },
)
def no_host_path(type_: str, props: Props, config: Config) -> Iterator[str]:
    """A host directory in a pod is a way out of the container onto the node."""
    spec = pod_spec(type_, props)
    granted: set[str] | None = None
    for volume in items(dig(spec, "volumes")):
        if dig(volume, "hostPath") is None:
            continue
        path = dig(volume, "hostPath.path")
        if granted is None:
            name = str(dig(props, "metadata.name", ""))
            allowed = config["hostPathAllowed"]
            paths = allowed.get(name, []) if isinstance(allowed, Mapping) else []
            granted = {_clean(p) for p in paths}
        if _clean(path) not in granted:
            yield f'volume "{dig(volume, "name", "?")}" mounts hostPath {shown(path)}'


RULES: tuple[Rule, ...] = (
    no_privileged,
    no_host_namespaces,
    no_host_ports,
    no_privilege_escalation,
    run_as_non_root,
    high_uid,
    drop_all_capabilities,
    seccomp,
    read_only_root,
    no_host_path,
)
