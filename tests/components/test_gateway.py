"""`exposure: public`: only behind TLS and API keys, and the gateway is the only public way in."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.gateway import IMAGE, gateway_labels, keys_map, nginx_config
from infra.errors import SettingsError
from infra.settings import parse
from tests.conftest import config_with
from tests.plans import Plan, of_type, one, plan_config

KEY, OTHER = "k" * 40, "z" * 33
CERT = "-----BEGIN CERTIFICATE-----\nMIIBfakecert\n-----END CERTIFICATE-----\n"
PRIVATE = "-----BEGIN PRIVATE KEY-----\nMIIEfakekey\n-----END PRIVATE KEY-----\n"
SECRETS = frozenset({"llmplane:apiKeys", "llmplane:tlsKey"})
PUBLIC: dict[str, Any] = {
    "exposure": "public",
    "apiKeys": f"{KEY}, {OTHER}",
    "tlsCertificate": CERT,
    "tlsKey": PRIVATE,
}


@pytest.fixture(scope="module")
def public() -> Plan:
    return plan_config("pub", config_with(**PUBLIC), SECRETS)


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        ({"apiKeys": None}, "llmplane:apiKeys", "needs TLS and API keys"),
        ({"tlsKey": None}, "llmplane:tlsKey", "needs TLS and API keys"),
        ({"apiKeys": "short-key"}, "llmplane:apiKeys", "shorter than 32"),
        ({"exposure": "internal"}, "llmplane:apiKeys", "only a public endpoint"),
    ],
)
def test_a_public_endpoint_needs_keys_and_tls(
    changes: dict[str, Any], key: str, words: str
) -> None:
    config = config_with(**{**PUBLIC, **changes})
    with pytest.raises(SettingsError) as caught:
        parse("pub", config, SECRETS)
    assert caught.value.key == key and words in str(caught.value)


def test_plaintext_api_keys_are_refused() -> None:
    with pytest.raises(SettingsError, match="plain text"):
        parse("pub", config_with(**PUBLIC), frozenset({"llmplane:tlsKey"}))


def test_keys_and_private_key_never_reach_the_plan(public: Plan) -> None:
    text = json.dumps(public)
    assert KEY not in text and OTHER not in text and "MIIEfakekey" not in text
    keys = one(public, "kubernetes:core/v1:Secret", "llm-gateway-keys")["inputs"]
    assert keys["stringData"] == "[secret]"


def test_the_gateway_is_the_only_public_service(public: Plan) -> None:
    gateway = gateway_labels(config_labels(public))
    for service in of_type(public, "kubernetes:core/v1:Service"):
        spec = service["inputs"]["spec"]
        if spec["type"] == "LoadBalancer":
            assert spec["selector"] == gateway
            assert spec["ports"] == [{"name": "https", "port": 443, "targetPort": "https"}]
        else:
            assert spec["type"] == "ClusterIP"
    deployment = one(public, "kubernetes:apps/v1:Deployment", "llm-gateway")["inputs"]["spec"]
    (container,) = deployment["template"]["spec"]["containers"]
    assert container["image"] == IMAGE
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    assert public["outputs"]["publicEndpoint"].startswith("https://")


def config_labels(plan: Plan) -> dict[str, str]:
    return one(plan, "kubernetes:apps/v1:Deployment", "llm")["inputs"]["spec"]["selector"][
        "matchLabels"
    ]


def test_the_engine_admits_the_gateway_and_the_gateway_only_reaches_the_engine(
    public: Plan,
) -> None:
    policies = {
        p["inputs"]["metadata"]["name"]: p["inputs"]["spec"]
        for p in of_type(public, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    }
    gateway = gateway_labels(config_labels(public))
    peers = policies["inference-traffic"]["ingress"][0]["from"]
    assert {"podSelector": {"matchLabels": gateway}} in peers
    to_engine, dns = policies["gateway-traffic"]["egress"]
    assert to_engine["to"] == [{"podSelector": {"matchLabels": config_labels(public)}}]
    assert {p["port"] for p in dns["ports"]} == {53}


def test_nginx_refuses_requests_without_a_known_key() -> None:
    assert keys_map(f" {KEY},{OTHER},{KEY}") == f'"Bearer {KEY}" 1;\n"Bearer {OTHER}" 1;\n'
    config = nginx_config("http://inference.llm-pub.svc.cluster.local:80")
    assert "default 0;" in config and "return 401;" in config
    assert "proxy_pass http://inference.llm-pub.svc.cluster.local:80;" in config
    assert 'proxy_set_header Authorization "";' in config  # keys stop at the gateway
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in config and "proxy_buffering off;" in config
