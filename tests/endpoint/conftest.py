"""Fixtures: a fake endpoint on a loopback port, and the CLI run in-process with its exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from llmplane.infra.cli.app import main
from tests.endpoint.fake_server import MODEL, FakeEndpoint, Script

KEY = "llmplane-test-key-7f3a9c1e5b"
"""An API key no output may ever show."""


@pytest.fixture
def fake() -> Iterator[FakeEndpoint]:
    """A TGI-like endpoint serving MODEL; tests change `fake.script` to make it misbehave."""
    endpoint = FakeEndpoint(Script()).start()
    yield endpoint
    endpoint.stop()


@pytest.fixture(autouse=True)
def no_ambient_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own keys must not leak into a test, nor a test depend on them."""
    for name in ("LLMPLANE_API_KEY", "HF_TOKEN", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)


@dataclass(frozen=True)
class Result:
    """What an in-process `llmplane` run printed, and its exit code."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout parsed as JSON."""
        return json.loads(self.stdout)


def llmplane(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """Run the CLI's entry point in this process: quicker than a subprocess, same exit codes."""
    capsys.readouterr()
    try:
        main(list(args))
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 0
    else:  # main() always exits
        raise AssertionError("main() returned without sys.exit")
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def assert_one_line(result: Result, code: int, *words: str) -> None:
    """The contract for failures: the exit code, one line on stderr naming what matters."""
    assert result.code == code, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def console_script(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed `llmplane` script, as users do."""
    script = Path(sys.executable).with_name("llmplane")
    environment = {k: v for k, v in os.environ.items() if k not in ("LLMPLANE_API_KEY", "HF_TOKEN")}
    return subprocess.run(
        [str(script), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**environment, **(env or {})},
    )


def outputs_file(tmp_path: Path, url: str, **changes: Any) -> Path:
    """A stack's outputs, as `pulumi stack output --json` writes them, pointing at `url`."""
    outputs: dict[str, Any] = {
        "cloud": "aws",
        "model": MODEL,
        "engine": "tgi",
        "gpu": {"shape": "g6e.xlarge", "gpusPerReplica": 1, "chosen": "auto", "fallbacks": []},
        "namespace": "llm-aws-dev",
        "endpoint": url,
        "kubeconfig": "[secret]",
    }
    outputs.update(changes)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({k: v for k, v in outputs.items() if v is not None}))
    return path
