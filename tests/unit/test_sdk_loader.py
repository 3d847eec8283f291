"""The partial SDK loader: the SDK's own classes, a safe fallback, and no full loads in plans."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from llmplane.infra.offline.sdk_loader import PARTIAL_NAMESPACES, candidate_modules


def _python(code: str) -> str:
    """Run code in a fresh interpreter (the loader only affects namespaces not yet imported)."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("RouterNat", "router_nat"),
        ("CryptoKeyIAMMember", "crypto_key_iam_member"),
        ("SubnetworkLogConfigArgs", "_inputs"),
        ("get_vpc_output", "get_vpc"),
        ("DaemonSet", "daemon_set"),
    ],
)
def test_names_map_to_the_generator_layout(name: str, first: str) -> None:
    assert candidate_modules(name)[0] == first


def test_partial_namespace_gives_the_sdk_classes_and_loads_few_modules() -> None:
    out = _python(
        """
        import sys
        from llmplane.infra.offline import sdk_loader
        sdk_loader.install()
        import pulumi_gcp as gcp
        from pulumi_gcp.compute.router_nat import RouterNat
        from pulumi_kubernetes.apps.v1 import DaemonSet
        assert gcp.compute.RouterNat is RouterNat
        assert gcp.compute.SubnetworkLogConfigArgs.__module__ == "pulumi_gcp.compute._inputs"
        assert DaemonSet.__module__ == "pulumi_kubernetes.apps.v1.DaemonSet", DaemonSet
        print(sum(name.startswith("pulumi_gcp.compute.") for name in sys.modules))
        """
    )
    assert int(out) < 10  # of about 290 that the package's own __init__ imports


def test_a_name_it_cannot_place_loads_the_whole_namespace() -> None:
    out = _python(
        """
        import sys
        from llmplane.infra.offline import sdk_loader
        sdk_loader.install()
        import pulumi_gcp as gcp
        # Defined in get_network.py, which its name does not point to: only the full init knows.
        print(gcp.compute.GetNetworkResult.__name__)
        print(sum(name.startswith("pulumi_gcp.compute.") for name in sys.modules))
        """
    )
    name, loaded = out.split()
    assert name == "GetNetworkResult"
    assert int(loaded) > 200


def test_planning_every_shipped_stack_never_falls_back() -> None:
    out = _python(
        """
        import sys
        from pathlib import Path
        from llmplane.infra import offline
        offline.enable()
        from llmplane.infra.offline.sdk_loader import PARTIAL_NAMESPACES
        from llmplane.infra.offline.synth import plan_stack
        for path in sorted(Path("stacks").glob("Pulumi.*.yaml")):
            plan_stack(path)
        for namespace in sorted(PARTIAL_NAMESPACES):
            count = sum(name.startswith(namespace + ".") for name in sys.modules)
            print(namespace, count)
        """
    )
    counts = dict(line.split() for line in out.splitlines())
    assert set(counts) == PARTIAL_NAMESPACES
    assert all(int(count) < 30 for count in counts.values()), counts
