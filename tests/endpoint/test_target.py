"""Resolving --url, --stack and --outputs into a target: URL choice, token rules, wait budget."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from llmplane.infra.config.errors import SettingsError
from llmplane.infra.config.settings import parse
from llmplane.infra.config.stackfile import read_stack_file
from llmplane.infra.endpoint.target import DEFAULT_WAIT_SECONDS, Target, public_url, resolve_target
from llmplane.infra.sizing.serving import serving_for
from tests.conftest import config_with, write_stack
from tests.endpoint.conftest import KEY, outputs_file
from tests.endpoint.fake_server import MODEL


def resolve(tmp_path: Path, environ: dict[str, str] | None = None, **flags: Any) -> Target:
    arguments: dict[str, Any] = {
        "url": None,
        "stack": None,
        "outputs_file": None,
        "stacks_dir": tmp_path,
        "engine": None,
        "model": None,
        "token_env": None,
        "wait": None,
        "environ": environ or {},
    }
    arguments.update(flags)
    return resolve_target(**arguments)


def test_url_alone_is_probed_and_waits_the_default(tmp_path: Path) -> None:
    target = resolve(tmp_path, url="http://127.0.0.1:8080/")
    assert target.url == "http://127.0.0.1:8080"
    assert (target.engine, target.model, target.stack, target.token) == (None, None, None, None)
    assert (target.wait_seconds, target.wait_source) == (DEFAULT_WAIT_SECONDS, "default")


def test_outputs_name_model_engine_gpu_and_prefer_the_public_endpoint(tmp_path: Path) -> None:
    path = outputs_file(
        tmp_path,
        "http://inference.llm-aws-dev.svc.cluster.local",
        publicEndpoint="https://gw.example",
    )
    target = resolve(tmp_path, {"LLMPLANE_API_KEY": KEY}, stack="aws-dev", outputs_file=path)
    assert target.url == "https://gw.example"
    assert (target.model, target.engine, target.cloud) == (MODEL, "tgi", "aws")
    assert target.gpu == {"shape": "g6e.xlarge", "gpusPerReplica": 1}
    assert target.token == KEY and target.auth == "Bearer token from $LLMPLANE_API_KEY"
    assert KEY not in repr(target)


def test_in_cluster_endpoint_says_how_to_reach_it(tmp_path: Path) -> None:
    path = outputs_file(tmp_path, "http://inference.llm-aws-dev.svc.cluster.local")
    target = resolve(tmp_path, stack="aws-dev", outputs_file=path)
    assert target.in_cluster
    assert "kubectl -n llm-aws-dev port-forward svc/inference 8080:80" in target.port_forward_hint()


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        (
            {"publicEndpoint": "https://<load balancer address pending>"},
            "publicEndpoint",
            "refresh",
        ),
        ({"publicEndpoint": "https://gw.example"}, "publicEndpoint", "LLMPLANE_API_KEY"),
        ({"endpoint": None}, "endpoint", "pulumi up"),
        ({"endpoint": "ftp://x"}, "endpoint", "http(s)"),
        ({"engine": "triton"}, "engine", "--engine"),
    ],
)
def test_unusable_outputs_are_bad_input(
    tmp_path: Path, changes: dict[str, Any], key: str, words: str
) -> None:
    path = outputs_file(tmp_path, "http://inference.llm-aws-dev.svc.cluster.local", **changes)
    with pytest.raises(SettingsError) as error:
        resolve(tmp_path, stack="aws-dev", outputs_file=path)
    assert error.value.stack == "aws-dev" and error.value.key == key
    assert words in str(error.value)


@pytest.mark.parametrize(
    ("flags", "key"),
    [
        ({}, "--url"),
        ({"url": "http://h", "stack": "aws-dev"}, "--url"),
        ({"url": "127.0.0.1:8080"}, "--url"),
        ({"url": "http://h:99999"}, "--url"),
        ({"url": "http://h?x=1"}, "--url"),
        ({"url": "http://h", "engine": "tgl"}, "--engine"),
        ({"url": "http://h", "token_env": "NOT_SET_ANYWHERE"}, "--token-env"),
    ],
)
def test_bad_flags_are_bad_input(tmp_path: Path, flags: dict[str, Any], key: str) -> None:
    with pytest.raises(SettingsError) as error:
        resolve(tmp_path, **flags)
    assert error.value.key == key


def test_outputs_file_must_be_a_json_object(tmp_path: Path) -> None:
    path = tmp_path / "outputs.json"
    for text, words in (("{not json", "is not JSON"), ("[1]", "not a JSON object")):
        path.write_text(text)
        with pytest.raises(SettingsError, match=words):
            resolve(tmp_path, stack="s", outputs_file=path)


def test_a_key_never_goes_over_plain_http_to_another_host(tmp_path: Path) -> None:
    environ = {"LLMPLANE_API_KEY": KEY, "OTHER": KEY}
    # The default variable may be meant for another endpoint: withheld, and said so.
    target = resolve(tmp_path, environ, url="http://inference.ns.svc.cluster.local")
    assert target.token is None and "withheld" in target.auth
    # Asked for by name: refused, rather than sent in clear text.
    with pytest.raises(SettingsError, match="clear text"):
        resolve(tmp_path, environ, url="http://10.0.0.7:8080", token_env="OTHER")
    # Loopback (a port-forward) and https are fine.
    assert resolve(tmp_path, environ, url="http://localhost:8080").token == KEY
    assert resolve(tmp_path, environ, url="http://[::1]:8080", token_env="OTHER").token == KEY
    assert resolve(tmp_path, environ, url="https://gw.example").token == KEY


def test_redact_hides_the_key_and_url_password_in_any_text(tmp_path: Path) -> None:
    key = 'k"ey\\42'
    target = resolve(tmp_path, {"LLMPLANE_API_KEY": key}, url="https://u:pw-secret@gw.example")
    echoed = json.dumps({"echo": key})
    text = f"sent {key} and {echoed} to https://u:pw-secret@gw"
    redacted = target.redact(text)
    assert 'k"ey' not in redacted and "pw-secret" not in redacted
    assert redacted.count("[redacted]") == 3
    assert target.display_url == "https://gw.example"
    assert public_url("http://a:b@[::1]:80/x/?q#f") == "http://[::1]:80/x"


def test_wait_is_the_stack_files_startup_budget(tmp_path: Path) -> None:
    stack = write_stack(tmp_path, config_with(), name="dev")
    expected = serving_for(parse(*read_stack_file(stack))).startup_seconds
    path = outputs_file(tmp_path, "http://127.0.0.1:1")
    target = resolve(tmp_path, stack="dev", outputs_file=path)
    assert target.wait_seconds == expected and str(stack) in target.wait_source
    assert resolve(tmp_path, stack="dev", outputs_file=path, wait=5.0).wait_seconds == 5.0
    # No stack file here: the default, not an error.
    assert resolve(tmp_path, stack="other", outputs_file=path).wait_source == "default"


def _fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(f'#!/bin/sh\necho "$@" > {tmp_path / "args"}\n{script}\n')
    pulumi.chmod(pulumi.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(bin_dir))
    return tmp_path / "args"


def test_stack_outputs_come_from_pulumi_without_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = json.dumps({"model": MODEL, "engine": "vllm", "endpoint": "http://127.0.0.1:9"})
    args = _fake_pulumi(tmp_path, monkeypatch, f"echo '{outputs}'")
    target = resolve(tmp_path, stack="gcp-dev")
    assert (target.url, target.engine) == ("http://127.0.0.1:9", "vllm")
    assert args.read_text().split() == ["stack", "output", "--json", "--stack", "gcp-dev"]


def test_pulumi_failures_and_absence_are_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_pulumi(tmp_path, monkeypatch, "echo 'error: no stack named gcp-dve found' >&2; exit 255")
    with pytest.raises(SettingsError, match=r"no stack named gcp-dve found.*pulumi stack ls"):
        resolve(tmp_path, stack="gcp-dve")
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(SettingsError, match=r"not on PATH.*--outputs FILE"):
        resolve(tmp_path, stack="gcp-dev")
