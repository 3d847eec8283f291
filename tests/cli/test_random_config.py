"""Random stack files: every run is a valid plan or exit 2 with one line, never a traceback."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmplane.infra.cli.app import main
from tests.conftest import write_stack

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=10),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.text(max_size=12),
    st.sampled_from(["aws", "kubernetes", "tgi", "vllm", "0.0.0.0/0", "10.0.0.0/8", "auto"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)

names = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)


@st.composite
def valid_configs(draw: st.DrawFn) -> dict[str, Any]:
    """A stack that should plan: existing cluster, any engine, consistent limits."""
    engine = draw(st.sampled_from(["tgi", "vllm", "sglang"]))
    low = draw(st.integers(0, 3))
    max_input = draw(st.integers(1, 8000))
    model: dict[str, Any] = {
        "id": draw(st.sampled_from(["meta-llama/Llama-3.1-8B-Instruct", "org/m"]))
    }
    if draw(st.booleans()):
        model |= {
            "maxInputTokens": max_input,
            "maxTotalTokens": max_input + draw(st.integers(1, 8000)),
        }
    if draw(st.booleans()):
        model["quantize"] = draw(st.sampled_from(["awq", "gptq", "fp8"]))
    config: dict[str, Any] = {
        "llmplane:engine": engine,
        "llmplane:model": model,
        "llmplane:replicas": {"min": low, "max": low + draw(st.integers(0, 3))},
        "llmplane:tags": draw(st.dictionaries(names, names, max_size=2)),
    }
    # Mostly the fast existing-cluster target; sometimes a managed cloud, whose stacks are larger.
    cloud = draw(st.sampled_from(["kubernetes", "kubernetes", "kubernetes", "aws", "azure", "gcp"]))
    nodes = {"minNodes": draw(st.integers(0, 2)), "maxNodes": draw(st.integers(2, 4))}
    if cloud == "aws":
        shape = draw(st.sampled_from(["g6.xlarge", "g6.12xlarge", "p5.48xlarge"]))
        extra = {
            "aws:region": "us-west-2",
            "llmplane:gpu": {"shape": shape, "spot": draw(st.booleans()), **nodes},
        }
    elif cloud == "azure":
        shape = draw(st.sampled_from(["Standard_NV36ads_A10_v5", "Standard_NC24ads_A100_v4"]))
        extra = {"azure-native:location": "westeurope", "llmplane:gpu": {"shape": shape, **nodes}}
    elif cloud == "gcp":
        shape = draw(st.sampled_from(["g2-standard-8", "a2-ultragpu-1g"]))
        extra = {
            "gcp:project": "fuzz-project-1",
            "gcp:region": "us-east4",
            "llmplane:gpu": {"shape": shape, **nodes},
        }
    else:
        gpu = {
            "count": draw(st.sampled_from([1, 2, 4, 8])),
            "nodeSelector": draw(st.dictionaries(names, names, max_size=2)),
        }
        extra = {"llmplane:gpu": gpu}
    return {"llmplane:cloud": cloud, **config, **extra}


@st.composite
def stack_configs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid stack with zero to two keys replaced or added with arbitrary values."""
    config = draw(valid_configs())
    keys = [*sorted(config), "llmplane:unknownKey", "kubernetes:context", "aws:region"]
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from(keys))
        if key in config and isinstance(config[key], dict) and config[key] and draw(st.booleans()):
            # Break one field inside an object rather than the whole object.
            field = draw(st.sampled_from([*sorted(config[key]), "extra"]))
            config[key] = {**config[key], field: draw(values)}
        else:
            config[key] = draw(values)
    return config


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """Call the console script's main() in-process and capture what it prints."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stack_configs())
def test_random_config_plans_or_fails_cleanly(stack_config: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        write_stack(Path(folder), stack_config, name="fuzz")
        code, out, err = run_cli(["plan", "--json", "--stacks-dir", folder])
    assert "Traceback" not in err
    if code == 0:
        (plan,) = json.loads(out)["stacks"]
        assert plan["stack"] == "fuzz" and plan["resources"]
    else:
        assert code == 2, err
        assert out == ""
        assert err.count("\n") == 1 and err.startswith("stack fuzz: "), err
