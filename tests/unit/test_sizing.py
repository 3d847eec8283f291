"""Sizing from config.json: parameter counts, weights, KV cache, fits, shards and engine limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmplane.infra.config.errors import SettingsError
from llmplane.infra.sizing.architecture import from_config
from llmplane.infra.sizing.catalog import shapes
from llmplane.infra.sizing.fit import (
    best_fit,
    decode_speed,
    engine_limits,
    shm_gib,
    startup_seconds,
    valid_shards,
    weight_bytes,
    workload_for,
)
from llmplane.infra.sizing.models import MODELS, builtin, builtin_ids, from_file, resolve

CONFIGS = Path(__file__).resolve().parents[1] / "fixtures" / "configs"

# The architecture table of research/models.md: model id, bf16 weights (GB), KV per token (KiB).
MODELS_MD = [
    ("meta-llama/Llama-3.1-8B-Instruct", 16.1, 128),
    ("meta-llama/Llama-3.1-70B-Instruct", 141, 320),
    ("meta-llama/Llama-3.1-405B-Instruct", 810, 504),
    ("mistralai/Mistral-7B-Instruct-v0.3", 14.5, 128),
    ("mistralai/Mixtral-8x7B-Instruct-v0.1", 93.4, 128),
    ("Qwen/Qwen2.5-7B-Instruct", 15.2, 56),
    ("Qwen/Qwen2.5-72B-Instruct", 145, 320),
    ("google/gemma-2-9b-it", 18.5, 336),
    ("google/gemma-2-27b-it", 54.4, 368),
    ("microsoft/Phi-3-mini-4k-instruct", 7.6, 384),
]


def _arch(model_id: str):
    arch = builtin(model_id)
    assert arch is not None
    return arch


@pytest.mark.parametrize(("model_id", "weights_gb", "kv_kib"), MODELS_MD)
def test_weights_and_kv_match_the_research_table_within_2_percent(
    model_id: str, weights_gb: float, kv_kib: int
) -> None:
    arch = _arch(model_id)
    assert weight_bytes(arch) / 1e9 == pytest.approx(weights_gb, rel=0.02)
    assert arch.kv_bytes_per_token() / 1024 == pytest.approx(kv_kib, rel=0.02)


def test_mixture_of_experts_counts_active_parameters_apart() -> None:
    mixtral = _arch("mistralai/Mixtral-8x7B-Instruct-v0.1")
    assert mixtral.parameters / 1e9 == pytest.approx(46.7, rel=0.01)
    assert mixtral.active_parameters / 1e9 == pytest.approx(12.9, rel=0.01)


def test_tied_embeddings_are_counted_once() -> None:
    # Llama 3.2 1B's shape: 1.24B parameters with the output head tied to the embeddings.
    tied = from_file(CONFIGS / "tiny-llama-tied.json")
    assert tied.parameters / 1e9 == pytest.approx(1.24, rel=0.01)
    untied = from_config({**json.loads((CONFIGS / "tiny-llama-tied.json").read_text()),
                          "tie_word_embeddings": False}, "untied")  # fmt: skip
    assert untied.parameters - tied.parameters == 128256 * 2048


def test_safetensors_count_wins_over_the_derived_one() -> None:
    config = json.loads((MODELS / "llama-3.1-8b.json").read_text())
    assert from_config(config, "x", parameters=8_030_261_248).parameters == 8_030_261_248


def test_awq_checkpoint_keeps_embeddings_in_16_bits() -> None:
    awq = _arch("hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4")
    assert awq.checkpoint_quantization == "awq"
    # That checkpoint's files total about 39.8 GB: 4-bit layers, 16-bit embeddings and head.
    assert weight_bytes(awq) / 1e9 == pytest.approx(39.8, rel=0.03)
    bf16 = _arch("meta-llama/Llama-3.1-70B-Instruct")
    assert weight_bytes(bf16, "fp8") / 1e9 == pytest.approx(72.6, rel=0.02)


def test_unknown_family_and_bad_fields_are_one_line_errors() -> None:
    # Unknown families are sized from the standard fields; Falcon's config lacks one of them.
    with pytest.raises(SettingsError, match="intermediate_size: missing: model_type 'falcon' is"):
        from_file(CONFIGS / "falcon.json")
    with pytest.raises(SettingsError, match="num_hidden_layers: is '32', not a positive integer"):
        from_file(CONFIGS / "broken-layers.json")
    with pytest.raises(SettingsError, match="not valid JSON"):
        from_file(CONFIGS / "README.md" if (CONFIGS / "README.md").exists() else Path(__file__))


def test_offline_unknown_model_names_the_nearest_builtin_ids() -> None:
    with pytest.raises(SettingsError) as caught:
        resolve("meta-llama/Llama-3.1-8B-Instrukt", None, hub=False)
    assert "meta-llama/Llama-3.1-8B-Instruct" in str(caught.value)


def test_every_builtin_id_resolves_to_a_sizable_architecture() -> None:
    for model_id in builtin_ids():
        assert _arch(model_id).parameters > 1e9


@pytest.mark.parametrize(
    ("model_id", "gpus", "expected"),
    [
        ("Qwen/Qwen2.5-7B-Instruct", 8, [1, 2, 4]),  # 28 heads: 8 does not divide them
        ("google/gemma-2-9b-it", 8, [1, 2, 4, 8]),
        ("meta-llama/Llama-3.1-8B-Instruct", 4, [1, 2, 4]),  # never more than the node has
    ],
)
def test_shards_divide_the_heads_and_fit_on_one_node(
    model_id: str, gpus: int, expected: list[int]
) -> None:
    assert valid_shards(_arch(model_id), gpus) == expected


def test_fit_picks_the_fewest_shards_that_hold_the_workload() -> None:
    llama8 = _arch("meta-llama/Llama-3.1-8B-Instruct")
    workload = workload_for(llama8, concurrency=2)
    on_l4 = best_fit(llama8, shapes("aws")["g6.xlarge"], workload)
    assert on_l4 is not None and on_l4.shards == 1 and on_l4.fits
    # Twice the concurrency no longer fits one L4 with the fit margin; four L4s split it.
    busy = workload_for(llama8, concurrency=4)
    assert best_fit(llama8, shapes("aws")["g6.xlarge"], busy) is None
    split = best_fit(llama8, shapes("aws")["g6.12xlarge"], busy)
    assert split is not None and split.shards == 2
    llama70 = _arch("meta-llama/Llama-3.1-70B-Instruct")
    assert best_fit(llama70, shapes("aws")["g6.12xlarge"], workload_for(llama70)) is None
    # research/models.md's fit guide: 70B in bf16 needs 4 x 80 GB.
    h100 = best_fit(llama70, shapes("aws")["p5.48xlarge"], workload_for(llama70))
    assert h100 is not None and h100.shards == 4


def test_fp8_needs_an_ada_or_hopper_gpu() -> None:
    llama8 = _arch("meta-llama/Llama-3.1-8B-Instruct")
    fp8 = workload_for(llama8, quantize="fp8")
    assert best_fit(llama8, shapes("aws")["p4d.24xlarge"], fp8) is None  # A100: no fp8
    assert best_fit(llama8, shapes("aws")["g6.xlarge"], fp8) is not None  # L4 (Ada)


def test_engine_limits_hold_a_full_prompt_and_the_model_context() -> None:
    llama8 = _arch("meta-llama/Llama-3.1-8B-Instruct")
    workload = workload_for(llama8, max_total_tokens=16384)
    fitted = best_fit(llama8, shapes("aws")["g6e.xlarge"], workload)
    assert fitted is not None
    limits = engine_limits(workload, fitted)
    assert limits.max_total_tokens == 16384
    assert limits.max_input_tokens < limits.max_total_tokens
    assert limits.batch_prefill_tokens >= limits.max_input_tokens
    assert 0 < limits.memory_fraction < 1
    # Without a context the model's own limit caps the 8k default (Phi-3 mini: 4k).
    assert workload_for(_arch("microsoft/Phi-3-mini-4k-instruct")).max_total_tokens == 4096


def test_startup_budget_grows_with_the_weights_and_has_a_floor() -> None:
    small = _arch("microsoft/Phi-3-mini-4k-instruct")
    large = _arch("meta-llama/Llama-3.1-405B-Instruct")
    assert startup_seconds(small, workload_for(small), 1) == 600
    big = startup_seconds(large, workload_for(large), 8)
    assert big > 5000 and big % 60 == 0  # 810 GB at 150 MB/s is 90 minutes before any margin
    assert shm_gib(1) == 1 and shm_gib(8) == 2


def test_decoding_speed_follows_memory_bandwidth() -> None:
    llama8 = _arch("meta-llama/Llama-3.1-8B-Instruct")
    workload = workload_for(llama8, concurrency=2)
    l4 = best_fit(llama8, shapes("aws")["g6.xlarge"], workload)
    h100 = best_fit(llama8, shapes("aws")["p5.4xlarge"], workload)
    assert l4 is not None and h100 is not None
    ratio = (
        decode_speed(llama8, workload, h100).tokens_per_second
        / decode_speed(llama8, workload, l4).tokens_per_second
    )
    assert ratio == pytest.approx(3.35 / 0.3, rel=0.01)


def test_hub_models_use_the_safetensors_parameter_count(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    from llmplane.infra.sizing import models as model_source

    class Info:
        safetensors = type("Safetensors", (), {"total": 1_235_814_400})()

    calls: list[tuple[str, str | None]] = []

    def download(
        repo_id: str, filename: str, revision: str | None = None, token: str | None = None
    ):
        calls.append((repo_id, token))
        return str(CONFIGS / "tiny-llama-tied.json")

    monkeypatch.setenv("HF_TOKEN", "hf_test")
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", lambda *a, **k: Info())
    monkeypatch.setattr(model_source, "_reachable", lambda endpoint, offline: None)
    arch = resolve("acme/tiny-1b", None)
    assert arch.parameters == 1_235_814_400
    assert calls == [("acme/tiny-1b", "hf_test")]
