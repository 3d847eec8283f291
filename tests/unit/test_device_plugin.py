"""The device plugin's probes look for the socket NVIDIA's plugin really creates."""

from __future__ import annotations

from llmplane.components.kubernetes.device_plugin import plugin_socket, socket_probes


def test_the_socket_is_named_after_the_advertised_resource() -> None:
    assert plugin_socket("nvidia.com/gpu") == "/var/lib/kubelet/device-plugins/nvidia-gpu.sock"
    assert plugin_socket("nvidia.com/mig-1g.10gb").endswith("/nvidia-mig-1g.10gb.sock")


def test_liveness_outlasts_a_kubelet_restart_but_not_a_missed_driver() -> None:
    readiness, liveness = socket_probes("nvidia.com/gpu")
    for probe in (readiness, liveness):
        assert probe.exec_.command == ["test", "-S", plugin_socket("nvidia.com/gpu")]  # type: ignore[union-attr]
    # Three minutes without the socket before a restart: a kubelet restart takes seconds.
    assert liveness.period_seconds * liveness.failure_threshold >= 180  # type: ignore[operator]
