"""Values users type: choices in any case, numbers YAML read as text, all valid values listed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmplane.components.kubernetes.engines import QUANTIZATIONS
from llmplane.infra.config.errors import SettingsError, choices, edit_distance
from llmplane.infra.config.settings import parse
from llmplane.infra.config.stackfile import read_stack_file
from tests.conftest import config_with

AWS = {"llmplane:cloud": "aws", "aws:region": "us-east-1"}
AZURE = {"llmplane:cloud": "azure", "azure-native:location": "eastus"}


def _error(config: dict[str, Any]) -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        parse("dev", config)
    message = str(caught.value)
    assert message.startswith(f"stack dev: {caught.value.key}: ") and "\n" not in message
    return caught.value


@pytest.mark.parametrize(
    ("typed", "canonical", "read"),
    [
        (config_with(model={"id": "a/b", "quantize": "AWQ"}, engine="vllm"), "awq", "quantize"),
        (config_with(model={"id": "a/b", "quantize": "Fp8"}), "fp8", "quantize"),
        (config_with(engine="VLLM"), "vllm", "engine"),
        (config_with(engine="SGLang"), "sglang", "engine"),
        (config_with(cloud="Kubernetes"), "kubernetes", "cloud"),
        ({**config_with(**AWS), "llmplane:cloud": "AWS"}, "aws", "cloud"),
        (config_with(exposure="Internal"), "internal", "exposure"),
        (config_with(model={"id": "a/b", "kvCacheDtype": "FP8"}), "fp8", "kvCacheDtype"),
        (config_with(**AWS, network={"natGateways": "PERZONE"}), "perZone", "natGateways"),
        (config_with(**AZURE, cluster={"tier": "Free"}), "free", "tier"),
    ],
)
def test_choices_match_in_any_case_and_keep_their_spelling(
    typed: dict[str, Any], canonical: str, read: str
) -> None:
    settings = parse("dev", typed)
    found = {
        "quantize": lambda: settings.model.quantize,
        "engine": lambda: settings.engine,
        "cloud": lambda: settings.cloud,
        "exposure": lambda: settings.exposure,
        "kvCacheDtype": lambda: settings.model.kv_cache_dtype,
        # AWS and Azure keys: read from the stack's own model.
        "natGateways": lambda: getattr(settings, "network").nat_gateways,  # noqa: B009
        "tier": lambda: getattr(settings, "cluster").tier,  # noqa: B009
    }[read]()
    assert found == canonical


def test_the_case_a_user_types_does_not_change_the_settings() -> None:
    lower = config_with(**AWS, engine="vllm", model={"id": "a/b", "quantize": "awq"})
    upper = {**lower, "llmplane:cloud": "AWS", "llmplane:engine": "vLLM"}
    upper["llmplane:model"] = {"id": "a/b", "quantize": "AWQ"}
    assert parse("dev", upper) == parse("dev", lower)


def test_case_does_not_make_a_wrong_value_right() -> None:
    error = _error(config_with(engine="Triton"))
    assert error.key == "llmplane:engine" and "'Triton'" in error.problem


def test_an_unquoted_kubernetes_version_says_to_quote_it(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(
        "config:\n  llmplane:cloud: aws\n  aws:region: us-east-1\n"
        "  llmplane:model:\n    id: a/b\n  llmplane:cluster:\n    kubernetesVersion: 1.30\n"
    )
    _, config, secret = read_stack_file(path)
    with pytest.raises(SettingsError) as caught:
        parse("dev", config, secret)
    error = caught.value
    assert error.key == "llmplane:cluster.kubernetesVersion"
    assert "the number 1.3" in error.problem
    assert 'quote it: "1.30"' in error.fix


@pytest.mark.parametrize(
    ("config", "key", "quoted"),
    [
        (
            config_with(**AWS, cluster={"kubernetesVersion": 1.33}),
            "cluster.kubernetesVersion",
            "1.33",
        ),
        (config_with(tags={"team": 42}), "tags.team", "42"),
        (config_with(model={"id": "a/b", "revision": 2024}), "model.revision", "2024"),
    ],
)
def test_a_number_where_text_belongs_says_to_quote_it(
    config: dict[str, Any], key: str, quoted: str
) -> None:
    error = _error(config)
    assert error.key == f"llmplane:{key}"
    assert f'quote it: "{quoted}"' in error.fix


def test_up_to_twelve_choices_are_all_listed() -> None:
    assert choices("x", ["a", "b", "c"]) == "a, b, c"
    twelve = [f"name{n}" for n in range(12)]
    assert choices("x", twelve) == ", ".join(twelve)


def test_more_choices_give_the_nearest_by_edit_distance() -> None:
    names = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota"]
    names += ["kappa", "lambda", "mu", "nu"]
    hint = choices("thetta", names)
    assert hint.startswith("theta, ")
    assert hint.endswith("(the nearest of 13)")
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3


@pytest.mark.parametrize(
    ("config", "key", "listed"),
    [
        (config_with(engine="triton"), "llmplane:engine", ["tgi", "vllm", "sglang"]),
        (config_with(cloud="oracle"), "llmplane:cloud", ["aws", "azure", "gcp", "kubernetes"]),
        (config_with(gpu={"count": 3}), "llmplane:gpu.count", ["1", "2", "4", "8"]),
        (config_with(exposure="open"), "llmplane:exposure", ["internal", "public"]),
        (
            config_with(**AWS, network={"natGateways": "perAz"}),
            "llmplane:network.natGateways",
            ["single", "perZone"],
        ),
        (
            config_with(model={"id": "a/b", "kvCacheDtype": "int4"}),
            "llmplane:model.kvCacheDtype",
            ["auto", "bf16", "fp8"],
        ),
    ],
)
def test_a_bad_choice_lists_every_valid_value(
    config: dict[str, Any], key: str, listed: list[str]
) -> None:
    error = _error(config)
    assert error.key == key
    assert error.fix == f"use one of: {', '.join(listed)}"


def test_a_bad_quantization_lists_every_one() -> None:
    error = _error(config_with(model={"id": "a/b", "quantize": "bitsandbytes-nf5"}))
    assert error.key == "llmplane:model.quantize"
    assert error.fix == f"use one of: {', '.join(QUANTIZATIONS)}"


def test_an_unsupported_quantization_lists_the_engines_own() -> None:
    error = _error(config_with(engine="sglang", model={"id": "a/b", "quantize": "EETQ"}))
    assert error.key == "llmplane:model.quantize"
    assert error.fix == "use one of: awq, gptq, fp8, or another engine"


def test_an_unknown_key_suggests_the_nearest_spelling() -> None:
    # An AWS stack reads 16 top-level keys: too many to list, so the nearest come first.
    error = _error(config_with(**AWS, hftoken="x"))
    assert error.key == "llmplane:hftoken"
    assert error.fix.startswith("use one of: hfToken, ")
    # An existing cluster's stack reads 12: every one is listed.
    assert _error(config_with(hftoken="x")).fix.count(",") == 11


def test_an_unknown_provider_key_lists_its_namespace() -> None:
    error = _error(config_with(**{"kubernetes:kubeConfig": "x"}))
    assert error.fix == "use one of: kubernetes:context, kubernetes:kubeconfig"


@pytest.mark.parametrize(
    ("config", "key"),
    [
        # Pydantic's own location: map keys keep the user's spelling, aliases theirs (GiB).
        (config_with(tags={"cost_center": 7}), "llmplane:tags.cost_center"),
        (config_with(gpu={"memoryGiB": "80"}), "llmplane:gpu.memoryGiB"),
        (
            config_with(**AWS, cluster={"authorizedCidrs": [7]}),
            "llmplane:cluster.authorizedCidrs[0]",
        ),
        (
            config_with(replicas={"activeHours": {"timezone": 1}}),
            "llmplane:replicas.activeHours.timezone",
        ),
        ({**config_with(**AWS), "aws:region": 5}, "aws:region"),
        (config_with(**{"kubernetes:context": ["a"]}), "kubernetes:context"),
    ],
)
def test_error_locations_are_the_stack_file_keys(config: dict[str, Any], key: str) -> None:
    assert _error(config).key == key


def test_a_huge_number_is_a_clean_error() -> None:
    error = _error(config_with(replicas={"max": 10**5000}))
    assert error.key == "llmplane:replicas" and "too long" in error.problem
