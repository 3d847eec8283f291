"""Secrets: decided by the field's type, never quoted back whatever their shape, kubeconfigs too."""

from __future__ import annotations

from typing import Any

import pytest

from llmplane.infra.config.errors import SettingsError
from llmplane.infra.config.secrets import SECRET_KEYS, kubeconfig_credential
from llmplane.infra.config.settings import ExistingClusterStack, parse
from llmplane.infra.config.stackfile import SECRET_PLACEHOLDER
from tests.conftest import config_with, parse_as

MARK = "Qx7secretQx7"
KUBECONFIG = "kubernetes:kubeconfig"


def _error(config: dict[str, Any], secret_keys: frozenset[str] = frozenset()) -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        parse("dev", config, secret_keys)
    return caught.value


def _assert_clean(error: SettingsError, key: str) -> None:
    """Names the stack and the key, says what to do, on one line, and quotes none of the secret."""
    message = str(error)
    for text in (message, repr(error), error.problem, error.fix):
        assert MARK not in text and MARK.lower() not in text.lower()
    assert error.key == key
    assert message.startswith(f"stack dev: {key}: ")
    assert "pulumi config set --secret" in error.fix
    assert "\n" not in message


def test_the_secret_keys_are_the_fields_typed_secret() -> None:
    # tlsCertificate is a public certificate chain; maxInputTokens is not a token.
    assert set(SECRET_KEYS) == {
        "llmplane:hfToken",
        "llmplane:mirrorToken",
        "llmplane:apiKeys",
        "llmplane:tlsKey",
        KUBECONFIG,
    }


def test_a_key_named_like_a_token_is_not_a_secret() -> None:
    error = _error(config_with(model={"id": "a/b", "maxInputTokens": "many-tokens"}))
    assert error.key == "llmplane:model.maxInputTokens"
    assert "'many-tokens'" in str(error)


WRONG_SHAPES = [
    pytest.param([MARK], id="list"),
    pytest.param({"key": MARK}, id="dict"),
    pytest.param(int("7" * 30), id="int"),
    pytest.param({"a": [{"b": MARK}, MARK]}, id="nested"),
    pytest.param([[MARK, {"c": MARK}]], id="nested-list"),
    pytest.param(True, id="bool"),
    pytest.param(f'["{MARK}"]', id="json-text"),  # how Pulumi hands structured config over
]


@pytest.mark.parametrize("value", WRONG_SHAPES)
@pytest.mark.parametrize("key", SECRET_KEYS)
@pytest.mark.parametrize("encrypted", [False, True], ids=["plaintext", "encrypted"])
def test_a_secret_of_the_wrong_shape_is_never_echoed(key: str, value: Any, encrypted: bool) -> None:
    # The mirror's token is a key of managed clouds only; an existing cluster has no mirror.
    target = {"cloud": "aws", "aws:region": "us-east-1"} if "mirror" in key else {}
    config = config_with(**target, **{key: value})
    error = _error(config, frozenset({key}) if encrypted else frozenset())
    _assert_clean(error, key)
    assert "7" * 30 not in str(error)
    if encrypted:
        assert "not text" in error.problem and "not shown" in error.problem
    elif key != KUBECONFIG:
        assert "plain text" in error.problem


def test_a_huge_number_in_a_secret_is_refused_on_one_line() -> None:
    error = _error(config_with(hfToken=10**5000), frozenset({"llmplane:hfToken"}))
    assert error.key == "llmplane:hfToken"
    assert "0" * 50 not in str(error) and "\n" not in str(error)


@pytest.mark.parametrize("key", [k for k in SECRET_KEYS if k != KUBECONFIG])
def test_a_plaintext_secret_is_refused_before_any_other_problem(key: str) -> None:
    config = config_with(**{key: MARK}, engine="triton")
    _assert_clean(_error(config), key)


def test_a_private_key_pasted_into_the_certificate_is_not_echoed() -> None:
    config = config_with(tlsCertificate=f"-----BEGIN PRIVATE KEY-----\n{MARK}\n")
    error = _error(config)
    assert error.key == "llmplane:tlsCertificate"
    assert MARK not in str(error) and "wrong format" in str(error)


def _kubeconfig(user: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://k8s.example:6443"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "c",
        "users": [{"name": "other", "user": {}}, {"name": "u", "user": user}],
    }


def _as_text(document: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(document)


HOLDS_A_CREDENTIAL = [
    pytest.param({"token": MARK}, "users[1].user.token", id="token"),
    pytest.param({"username": "admin", "password": MARK}, "users[1].user.password", id="password"),
    pytest.param(
        {"client-certificate-data": "Y2VydA==", "client-key-data": MARK},
        "users[1].user.client-key-data",
        id="client-key-data",
    ),
    pytest.param(
        {"auth-provider": {"name": "oidc", "config": {"id-token": MARK, "refresh-token": MARK}}},
        "users[1].user.auth-provider.config",
        id="auth-provider",
    ),
    pytest.param(
        {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": "aws",
                "args": ["eks", "get-token", "--cluster-name", "c"],
                "env": [{"name": "AWS_SECRET_ACCESS_KEY", "value": MARK}],
            }
        },
        "users[1].user.exec.env",
        id="exec-env",
    ),
]


@pytest.mark.parametrize(("user", "where"), HOLDS_A_CREDENTIAL)
@pytest.mark.parametrize("as_text", [True, False], ids=["yaml-text", "mapping"])
def test_a_plaintext_kubeconfig_holding_a_credential_is_refused(
    user: dict[str, Any], where: str, as_text: bool
) -> None:
    document = _kubeconfig(user)
    value = _as_text(document) if as_text else document
    assert kubeconfig_credential(value) == where
    error = _error(config_with(**{KUBECONFIG: value}))
    _assert_clean(error, KUBECONFIG)
    assert "plain text" in error.problem and where in error.problem


NO_CREDENTIAL = [
    pytest.param(
        _as_text(
            _kubeconfig(
                {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "kubelogin",
                        "args": ["get-token", "--login", "azurecli"],
                        "env": None,
                    }
                }
            )
        ),
        id="exec-plugin",
    ),
    pytest.param(
        _as_text(
            _kubeconfig({"client-certificate": "/etc/k8s/u.crt", "client-key": "/etc/k8s/u.key"})
        ),
        id="cert-paths",
    ),
    pytest.param(_as_text(_kubeconfig({"tokenFile": "/var/run/token"})), id="token-file"),
    pytest.param("~/.kube/config", id="path"),
]


@pytest.mark.parametrize("value", NO_CREDENTIAL)
def test_a_plaintext_kubeconfig_without_a_credential_is_accepted(value: str) -> None:
    assert kubeconfig_credential(value) is None
    settings = parse_as(ExistingClusterStack, "dev", config_with(**{KUBECONFIG: value}))
    assert settings.provider.kubeconfig is not None
    assert settings.provider.kubeconfig.get_secret_value() == value


def test_an_unreadable_plaintext_kubeconfig_counts_as_a_credential() -> None:
    value = f"users:\n- user: {{token: {MARK}\n  bad: [\n"
    error = _error(config_with(**{KUBECONFIG: value}))
    _assert_clean(error, KUBECONFIG)
    assert "cannot be read as YAML" in error.problem


def test_an_encrypted_kubeconfig_may_hold_a_credential() -> None:
    config = config_with(**{KUBECONFIG: SECRET_PLACEHOLDER})
    assert (
        parse_as(ExistingClusterStack, "dev", config, frozenset({KUBECONFIG})).provider.kubeconfig
        is not None
    )
    text = _as_text(_kubeconfig({"token": MARK}))
    settings = parse("dev", config_with(**{KUBECONFIG: text}), frozenset({KUBECONFIG}))
    assert MARK not in repr(settings)
