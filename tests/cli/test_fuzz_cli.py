"""Fuzzing the stack-file reader and the flags: exit 0, 1 or 2, one line, and no secret on stderr.

Stack files come in any encoding, with huge numbers, deep nesting and a wrong type for any key;
flags get arbitrary values. Each run goes through main() in-process (as test_random_config.py
does), so that the examples stay cheap.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.test_random_config import run_cli, values
from tests.conftest import BASE_CONFIG

SECRET = "sk-fuzz-Secret-8d1f0c"
"""A value that must never reach stderr, whatever key or shape holds it."""

KEYS = [
    *(
        f"llmplane:{key}"
        for key in (
            "apiKeys", "aws", "azure", "cloud", "cluster", "engine", "exposure", "gcp", "gpu",
            "hfToken", "kubernetes", "mirrorToken", "mirrorUsername", "model", "network",
            "policyWaivers", "replicas", "tags", "tlsCertificate", "tlsKey",
        )
    ),
    "aws:region", "azure-native:location", "gcp:project", "gcp:region", "kubernetes:context",
    "kubernetes:kubeconfig", "unknown:key", "llmplane:model.id",
]  # fmt: skip
SECRET_KEYS = [
    "llmplane:apiKeys",
    "llmplane:hfToken",
    "llmplane:mirrorToken",
    "llmplane:tlsKey",
    "kubernetes:kubeconfig",
]
ENCODINGS = ["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-16-le", "utf-32"]

huge_numbers = st.one_of(
    st.integers(min_value=4000, max_value=6000).map(lambda n: "9" * n),
    st.integers(min_value=20, max_value=200).map(lambda n: "-" + "1" * n),
    st.integers(min_value=1, max_value=3000).map(lambda n: "0x" + "f" * n),
    st.sampled_from(["1e400", "-1e400", ".inf", ".nan", "1_000_000_000_000_000_000_000_000"]),
)


def nested(depth: int, leaf: Any, as_list: bool) -> Any:
    for _ in range(depth):
        leaf = [leaf] if as_list else {"x": leaf}
    return leaf


def secret_shapes() -> st.SearchStrategy[Any]:
    """The secret in every shape a user might write: text, list, map, nested, a `secure:` typo."""
    return st.sampled_from(
        [
            SECRET,
            [SECRET],
            [SECRET, "other-key-value"],
            {"key": SECRET},
            {"secure": SECRET, "extra": 1},
            {"a": {"b": [SECRET]}},
            f"prefix {SECRET} suffix",
            [[SECRET]],
        ]
    )


@st.composite
def stack_texts(draw: st.DrawFn) -> bytes:
    """A stack file's bytes: the base stack with keys replaced, in some encoding."""
    config: dict[str, Any] = dict(BASE_CONFIG)
    raw_lines: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["wrong-type", "secret", "huge", "deep", "deep"]))
        key = draw(st.sampled_from(KEYS))
        if kind == "wrong-type":
            config[key] = draw(values)
        elif kind == "secret":
            config[draw(st.sampled_from(SECRET_KEYS))] = draw(secret_shapes())
        elif kind == "deep":
            depth = draw(st.integers(10, 80))
            config[key] = nested(depth, draw(values), draw(st.booleans()))
        else:
            # Written by hand: yaml.safe_dump would quote the number as a string.
            raw_lines.append(f"  {key}: {draw(huge_numbers)}\n")
    text = yaml.safe_dump({"config": config}, sort_keys=True, width=10_000)
    text = text.replace("config:\n", "config:\n" + "".join(raw_lines), 1)
    if draw(st.booleans()):
        text += f"  llmplane:tags:\n    note: {draw(st.text(max_size=8))!r}\n"
    encoding = draw(st.sampled_from(ENCODINGS))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 4)) == 0:
        index = draw(st.integers(0, len(data)))
        data = data[:index] + draw(st.binary(min_size=1, max_size=4)) + data[index:]
    return data


def check_clean(code: int, out: str, err: str) -> None:
    assert "Traceback" not in err, err
    assert SECRET not in err, err
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        assert err.count("\n") == 1, err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stack_texts())
def test_any_stack_file_plans_or_fails_in_one_line(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "Pulumi.fuzz.yaml").write_bytes(data)
        code, out, err = run_cli(["plan", "--json", "--stacks-dir", folder])
    check_clean(code, out, err)
    if code == 2:
        assert out == "" and err.startswith("stack fuzz: "), err


flag_values = st.one_of(
    st.text(max_size=20),
    st.integers(min_value=-(10**6), max_value=10**30).map(str),
    huge_numbers,
    st.sampled_from(["", "-", "--", "auto", "fp8", "AWQ", "JSON", "us-east-1", "nan", "inf"]),
)
COMMANDS: dict[str, list[str]] = {
    "size": ["--context", "--concurrency", "--quantize", "--kv-cache-dtype", "--model-config"],
    "compare": ["--context", "--concurrency", "--quantize", "--regions", "--format", "--replicas"],
    "plan": ["--stacks-dir", "--json", "--colour"],
    "graph": ["--format", "--stacks-dir"],
    "render": ["--out", "--stacks-dir"],
    "cost": ["--format", "--stacks-dir"],
    "check": ["--format", "--policy-config", "--resources", "--stacks-dir"],
    "smoke": ["--url", "--engine", "--timeout", "--wait", "--token-env"],
    "bench": ["--url", "--concurrency", "--requests", "--max-error-rate", "--stacks-dir"],
}


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    """A command with one to three of its flags (or a wrong one) given arbitrary values."""
    command = draw(st.sampled_from(sorted(COMMANDS)))
    args = [command]
    if command in ("size", "compare"):
        args += ["--model", "meta-llama/Llama-3.1-8B-Instruct"]
    if command in ("graph", "render", "cost", "plan", "check"):
        # No shipped stack: these would plan, which the reader fuzz above already covers.
        args.append(draw(st.sampled_from(["no-such-stack", "x/Pulumi.none.yaml", ""])))
    for _ in range(draw(st.integers(1, 3))):
        args += [draw(st.sampled_from([*COMMANDS[command], "--bogus"])), draw(flag_values)]
    return args


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(command_lines())
def test_any_flag_value_is_handled_in_one_line(args: list[str]) -> None:
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as folder:
        # Offline, and nothing written where the test runs: render's --out is relative here.
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.chdir(folder)
        code, out, err = run_cli(args)
    check_clean(code, out, err)
    if code == 2:
        assert err.startswith(("llmplane ", "llmplane: ", "stack ")), err
