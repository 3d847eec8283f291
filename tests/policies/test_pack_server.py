"""The pack as the Pulumi CLI runs it: policies/__main__.py serving the Analyzer gRPC protocol."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policies.rules import load_all
from tests.conftest import REPO


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """Start the pack the way the CLI does; it prints its port and serves until killed."""
    pack = subprocess.Popen(
        [sys.executable, str(REPO / "policies" / "__main__.py")],
        cwd=REPO / "policies",
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
    props = struct_pb2.Struct()
    props.update(
        {
            "metadata": {"name": "debug", "namespace": "tools"},
            "spec": {
                "containers": [
                    {
                        "name": "shell",
                        "image": "busybox:1.37",
                        "securityContext": {"privileged": True},
                    }
                ]
            },
        }
    )
    response = analyzer.Analyze(
        analyzer_pb2.AnalyzeRequest(
            type="kubernetes:core/v1:Pod",
            properties=props,
            urn="urn:pulumi:dev::app::kubernetes:core/v1:Pod::debug",
            name="debug",
        ),
        timeout=30,
    )
    assert "k8s-no-privileged-containers" in {d.policyName for d in response.diagnostics}
