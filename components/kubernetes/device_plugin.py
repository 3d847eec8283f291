"""The NVIDIA device plugin DaemonSet: makes GPUs schedulable, tolerating the pool's own taint."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apps.v1 import DaemonSetSpecArgs, DaemonSetUpdateStrategyArgs
from pulumi_kubernetes.core.v1 import (
    CapabilitiesArgs,
    ContainerArgs,
    EnvVarArgs,
    ExecActionArgs,
    HostPathVolumeSourceArgs,
    PodSecurityContextArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    ProbeArgs,
    ResourceRequirementsArgs,
    SeccompProfileArgs,
    SecurityContextArgs,
    TolerationArgs,
    VolumeArgs,
    VolumeMountArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs

from ..cloud import Placement

__all__ = ["IMAGE", "NAME", "SOCKET_DIR", "nvidia_device_plugin", "plugin_socket", "socket_probes"]

# v0.20.1, released 2026-09-22 (NVIDIA/k8s-device-plugin#2057).
IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.20.1"
NAME = "nvidia-device-plugin"
# The kubelet's device-plugin socket directory: the one hostPath a device plugin cannot avoid.
SOCKET_DIR = "/var/lib/kubelet/device-plugins"


def plugin_socket(gpu_resource: str) -> str:
    """The socket the plugin serves once it has registered its GPUs with the kubelet.

    The plugin names it "nvidia-<resource>.sock" after the resource it advertises (nvidia.com/gpu
    gives nvidia-gpu.sock): k8s-device-plugin, internal/plugin/server.go, NewNvidiaDevicePlugin.
    """
    return f"{SOCKET_DIR}/nvidia-{gpu_resource.rsplit('/', 1)[-1]}.sock"


def socket_probes(gpu_resource: str) -> tuple[ProbeArgs, ProbeArgs]:
    """Readiness and liveness for a plugin that serves no health endpoint: its socket exists.

    Readiness gates the DaemonSet's rolling update on the new plugin having registered. Liveness
    matters more: with FAIL_ON_INIT_ERROR=false a plugin that started before the GPU driver was
    ready logs "no devices found" and waits forever, and only a restart makes it look again. A
    kubelet restart removes every socket and the plugin recreates its own within seconds, so the
    liveness threshold rides that out (3 minutes without the socket before a restart).
    """
    check = ExecActionArgs(command=["test", "-S", plugin_socket(gpu_resource)])
    readiness = ProbeArgs(exec_=check, period_seconds=10, failure_threshold=3)
    liveness = ProbeArgs(
        exec_=check, initial_delay_seconds=60, period_seconds=30, failure_threshold=6
    )
    return readiness, liveness


def nvidia_device_plugin(
    name: str, placement: Placement, opts: pulumi.ResourceOptions
) -> k8s.apps.v1.DaemonSet:
    """A DaemonSet on the GPU nodes only, tolerating exactly the taints the GPU pool carries."""
    labels = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "llmplane"}
    readiness, liveness = socket_probes(placement.gpu_resource)
    tolerations = [
        TolerationArgs(key=t.key, operator=t.operator, value=t.value, effect=t.effect)
        for t in placement.tolerations
    ]
    return k8s.apps.v1.DaemonSet(
        name,
        metadata=ObjectMetaArgs(name=NAME, namespace="kube-system", labels=labels),
        spec=DaemonSetSpecArgs(
            selector=LabelSelectorArgs(match_labels=labels),
            update_strategy=DaemonSetUpdateStrategyArgs(type="RollingUpdate"),
            template=PodTemplateSpecArgs(
                metadata=ObjectMetaArgs(labels=labels),
                spec=PodSpecArgs(
                    priority_class_name="system-node-critical",
                    automount_service_account_token=False,
                    security_context=PodSecurityContextArgs(
                        seccomp_profile=SeccompProfileArgs(type="RuntimeDefault")
                    ),
                    node_selector=dict(placement.node_selector) or None,
                    tolerations=[
                        *tolerations,
                        TolerationArgs(key="CriticalAddonsOnly", operator="Exists"),
                    ],
                    containers=[
                        ContainerArgs(
                            name=NAME,
                            image=IMAGE,
                            # Keep running on a node whose driver is still loading; the
                            # plugin registers the GPUs once it can see them.
                            env=[EnvVarArgs(name="FAIL_ON_INIT_ERROR", value="false")],
                            image_pull_policy="Always",
                            readiness_probe=readiness,
                            liveness_probe=liveness,
                            # Root, because the kubelet's socket directory belongs to root; but
                            # nothing else: no capabilities, no escalation, a read-only root.
                            security_context=SecurityContextArgs(
                                allow_privilege_escalation=False,
                                read_only_root_filesystem=True,
                                capabilities=CapabilitiesArgs(drop=["ALL"]),
                                seccomp_profile=SeccompProfileArgs(type="RuntimeDefault"),
                            ),
                            resources=ResourceRequirementsArgs(
                                requests={"cpu": "50m", "memory": "64Mi"},
                                limits={"cpu": "100m", "memory": "128Mi"},
                            ),
                            volume_mounts=[
                                VolumeMountArgs(name="device-plugins", mount_path=SOCKET_DIR)
                            ],
                        )
                    ],
                    volumes=[
                        VolumeArgs(
                            name="device-plugins",
                            host_path=HostPathVolumeSourceArgs(path=SOCKET_DIR, type="Directory"),
                        )
                    ],
                ),
            ),
        ),
        opts=opts,
    )
