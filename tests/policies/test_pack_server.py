"""The pack as the Pulumi CLI runs it: `python -m pulumi.policy` serving the Analyzer protocol."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from llmplane.policies.rules import load_all
from tests.conftest import REPO

WAIVER = "the debug pod runs only in the isolated tools cluster"
PRIVILEGED_POD = {
    "metadata": {"name": "debug", "namespace": "tools"},
    "spec": {
        "containers": [
            {"name": "shell", "image": "busybox:1.37", "securityContext": {"privileged": True}}
        ]
    },
}


@contextmanager
def _pack(config: dict[str, str]) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """Start the pack as the CLI's RunPlugin does; it prints its port and serves until killed.

    `<venv python> -u -m pulumi.policy <engine address> <absolute pack folder>`, in the pack's
    folder, with the stack's config in PULUMI_CONFIG (RunPlugin in pulumi/pulumi's
    sdk/python/cmd/pulumi-language-python/main.go).
    """
    env = {
        **os.environ,
        "PULUMI_CONFIG": json.dumps(config),
        "PULUMI_PROJECT": "llmplane",
        "PULUMI_STACK": "dev",
        "PULUMI_DRY_RUN": "true",
    }
    pack = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(REPO / "policies")],
        cwd=REPO / "policies",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert pack.stdout is not None
        port = int(pack.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        pack.kill()
        pack.wait()


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack with a stack that waives nothing."""
    with _pack({"llmplane:cloud": "kubernetes"}) as stub:
        yield stub


def _analyze_privileged_pod(stub: analyzer_pb2_grpc.AnalyzerStub) -> list[Any]:
    props = struct_pb2.Struct()
    props.update(PRIVILEGED_POD)
    response = stub.Analyze(
        analyzer_pb2.AnalyzeRequest(
            type="kubernetes:core/v1:Pod",
            properties=props,
            urn="urn:pulumi:dev::app::kubernetes:core/v1:Pod::debug",
            name="debug",
        ),
        timeout=30,
    )
    return [d for d in response.diagnostics if d.policyName == "k8s-no-privileged-containers"]


def test_the_cli_sees_every_policy_with_its_metadata(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == "llmplane"
    served = {p.name: p for p in info.policies}
    assert set(served) == {rule.name for rule in load_all()}
    lb = served["k8s-load-balancers-internal-or-gated"]
    assert lb.remediation_steps and lb.framework.reference == "LLMPLANE-NET-1"
    assert "gatewayKeysSecret" in lb.configSchema.properties


def test_the_cli_gets_a_violation_for_a_privileged_pod(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    [found] = _analyze_privileged_pod(analyzer)
    assert found.enforcementLevel == analyzer_pb2.MANDATORY


def test_a_waiver_in_the_stack_config_reaches_the_pack() -> None:
    """`llmplane:policyWaivers` arrives as JSON text in PULUMI_CONFIG, as the CLI passes it."""
    waivers = json.dumps({"k8s-no-privileged-containers": WAIVER})
    with _pack({"llmplane:cloud": "kubernetes", "llmplane:policyWaivers": waivers}) as stub:
        [found] = _analyze_privileged_pod(stub)
    assert found.enforcementLevel == analyzer_pb2.ADVISORY
    assert WAIVER in found.message
