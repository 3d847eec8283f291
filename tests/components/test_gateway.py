"""`exposure: public`: only behind TLS and API keys, and the gateway is the only public way in."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from llmplane.components.kubernetes.gateway import (
    CONFIG_DIR,
    CONFIG_FILE,
    IMAGE,
    KEYS_DIR,
    KEYS_FILE,
    TLS_DIR,
    gateway_labels,
    keys_map,
    nginx_config,
)
from llmplane.infra.config.errors import SettingsError
from llmplane.infra.config.settings import parse
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
        ({"apiKeys": f'{KEY}, {OTHER}"'}, "llmplane:apiKeys", "entry 2 of 2 holds a character"),
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
    assert keys["stringData"] == {"keys.map": "[secret]"}
    # The program keeps the name k8s-load-balancers-internal-or-gated looks for by default.
    assert keys["metadata"]["name"] == "gateway-keys"


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
    config = nginx_config("http://inference.llm-pub.svc.cluster.local:80")
    assert "default 0;" in config and "return 401;" in config
    assert f"include {KEYS_DIR}/{KEYS_FILE};" in config
    assert "proxy_pass http://inference.llm-pub.svc.cluster.local:80;" in config
    assert 'proxy_set_header Authorization "";' in config  # keys stop at the gateway
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in config and "proxy_buffering off;" in config


def test_each_key_is_one_exact_case_sensitive_match() -> None:
    # nginx matches plain map strings case-insensitively, and a 64-character one overflowed its
    # hash buckets: every entry must be an anchored regular expression, with the key as it is.
    assert keys_map(f" {KEY},{OTHER.upper()} ,{OTHER}") == (
        f'"~^(?i:bearer) +{OTHER.upper()}$" 1;\n'
        f'"~^(?i:bearer) +{KEY}$" 1;\n'
        f'"~^(?i:bearer) +{OTHER}$" 1;\n'
    )


def _pattern(line: str) -> re.Pattern[bytes]:
    """The regular expression of one keys.map line, as nginx's PCRE reads it (bytes)."""
    found = re.fullmatch(r'"~(\^\(\?i:bearer\) \+[A-Za-z0-9\\x]*\$)" 1;', line)
    assert found, f"not one quoted, anchored, escaped pattern: {line!r}"
    return re.compile(found[1].encode())


def test_regex_characters_of_a_key_match_only_themselves() -> None:
    key = "a.b+c/d~e_f-g" + "0" * 20 + "=="
    (line,) = keys_map(key).splitlines()
    escaped = r"a\x2eb\x2bc\x2fd\x7ee\x5ff\x2dg" + "0" * 20 + r"\x3d\x3d"
    assert line == f'"~^(?i:bearer) +{escaped}$" 1;'
    pattern = _pattern(line)
    assert pattern.fullmatch(f"Bearer {key}".encode())
    assert not pattern.fullmatch(f"Bearer {key.replace('.', 'x')}".encode())
    assert not pattern.fullmatch(f"Bearer {key.replace('+', '')}".encode())


@pytest.mark.parametrize(
    "key",
    ['quote"d', "semi;colon", "brace}{", "dollar$http_host", "back\\slash", "[secret]", "é ü"],
)
def test_any_text_becomes_one_exact_match_that_cannot_break_the_config(key: str) -> None:
    # The stack check refuses such keys, but the offline engine's "[secret]" placeholder, or a
    # caller of the component, may still hand one over: it must neither break nor widen the map.
    (line,) = keys_map(f"{key}, {key},").splitlines()
    pattern = _pattern(line)
    assert pattern.fullmatch(f"Bearer {key}".encode())
    assert not pattern.fullmatch(f"Bearer {key}x".encode())
    assert not pattern.fullmatch(f"Bearer x{key}".encode())
    if key.upper() != key:
        assert not pattern.fullmatch(f"Bearer {key.upper()}".encode())


def test_the_pod_mounts_what_the_config_names(public: Plan) -> None:
    spec = one(public, "kubernetes:apps/v1:Deployment", "llm-gateway")["inputs"]["spec"]
    (container,) = spec["template"]["spec"]["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert (mounts["config"], mounts["keys"], mounts["tls"]) == (CONFIG_DIR, KEYS_DIR, TLS_DIR)
    config = one(public, "kubernetes:core/v1:ConfigMap", "llm-gateway-config")["inputs"]["data"]
    assert set(config) == {CONFIG_FILE}
    assert f"ssl_certificate {TLS_DIR}/tls.crt;" in config[CONFIG_FILE]
