"""Sizing by architecture: MLA, MoE shapes, windows, multimodal, quantization and refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmplane.infra.config.errors import SettingsError
from llmplane.infra.config.settings import parse
from llmplane.infra.sizing.architecture import from_config
from llmplane.infra.sizing.fit import weight_bytes
from llmplane.infra.sizing.models import builtin
from llmplane.infra.sizing.quantization import check, scheme_of, stored_bytes
from llmplane.infra.sizing.serving import serving_for
from tests.conftest import config_with

# A one-layer model whose every projection is 128 x 128, so storage is easy to count by hand:
# 7 projections (q, k, v, o, gate, up, down) of 16,384 weights; tied embeddings 16 x 128;
# norms 2 x 128 per layer plus the final 128.
MICRO: dict[str, Any] = {
    "model_type": "llama",
    "hidden_size": 128,
    "intermediate_size": 128,
    "num_hidden_layers": 1,
    "num_attention_heads": 1,
    "num_key_value_heads": 1,
    "head_dim": 128,
    "vocab_size": 16,
    "tie_word_embeddings": True,
}
MICRO_PARAMETERS = 7 * 16_384 + 16 * 128 + 3 * 128  # 117,120
PLAIN = (16 * 128 + 3 * 128) * 2  # 4,864 bytes that stay in 16 bits


def _quantized(quant: dict[str, Any]) -> int:
    return weight_bytes(from_config({**MICRO, "quantization_config": quant}, "micro"))


# --- attention -----------------------------------------------------------------------------


def test_mla_caches_one_latent_per_layer_not_per_head_k_and_v() -> None:
    v3 = builtin("deepseek-ai/DeepSeek-V3")
    assert v3 is not None and v3.attention == "mla"
    # 61 layers x (kv_lora_rank 512 + qk_rope_head_dim 64) x 2 bytes; per-head K and V of 128
    # heads x 192 would be 61 x 2 x 128 x 192 x 2 = 5,996,544 bytes per token.
    assert v3.kv_bytes_per_token() == 61 * (512 + 64) * 2 == 70_272
    assert v3.kv_bytes_per_token(kv_bytes=1) == 35_136
    assert v3.kv_cache_bytes(1000) == 70_272_000


def test_mla_without_query_compression_has_a_plain_query_projection() -> None:
    lite = {
        "model_type": "deepseek_v2", "hidden_size": 2048, "num_hidden_layers": 2,
        "num_attention_heads": 16, "num_key_value_heads": 16, "vocab_size": 1000,
        "intermediate_size": 4096, "kv_lora_rank": 512, "q_lora_rank": None,
        "qk_rope_head_dim": 64, "qk_nope_head_dim": 128, "v_head_dim": 128,
        "tie_word_embeddings": False,
    }  # fmt: skip
    arch = from_config(lite, "lite")
    names = {w.name.split(".")[-1] for w in arch.weights}
    assert "q_proj" in names and "q_a_proj" not in names
    assert arch.kv_bytes_per_token() == 2 * 576 * 2


def test_sliding_window_layers_keep_at_most_their_window() -> None:
    oss = builtin("openai/gpt-oss-120b")
    assert oss is not None
    # 36 layers alternate sliding (128 tokens) and full; 2 x 8 KV heads x 64 x 2 bytes a layer.
    per_layer = 2 * 8 * 64 * 2
    assert oss.kv_bytes_per_token() == 36 * per_layer
    assert oss.kv_cache_bytes(8192) == 18 * per_layer * 8192 + 18 * per_layer * 128
    assert oss.kv_cache_bytes(100) == 36 * per_layer * 100  # shorter than the window: all kept


def test_gemma3_is_five_local_layers_to_one_global() -> None:
    gemma = builtin("google/gemma-3-27b-it")
    assert gemma is not None
    assert gemma.layer_windows.count(None) == 10  # layers 6, 12, ... 60 of 62 are global
    per_layer = 2 * 16 * 128 * 2
    assert gemma.kv_cache_bytes(32768) == 10 * per_layer * 32768 + 52 * per_layer * 1024


def test_llama4_chunked_layers_are_bounded_by_the_chunk_and_nope_layers_are_not() -> None:
    scout = builtin("meta-llama/Llama-4-Scout-17B-16E-Instruct")
    assert scout is not None
    assert scout.layer_windows.count(None) == 12  # every 4th layer: no RoPE, global attention
    per_layer = 2 * 8 * 128 * 2
    assert scout.kv_cache_bytes(131072) == 12 * per_layer * 131072 + 36 * per_layer * 8192


@pytest.mark.parametrize(
    ("fields", "windows"),
    [
        ({"model_type": "qwen3", "sliding_window": 64, "use_sliding_window": False}, [None] * 4),
        (
            {"model_type": "qwen3", "sliding_window": 64, "use_sliding_window": True,
             "max_window_layers": 2},
            [None, None, 64, 64],
        ),
        ({"model_type": "mistral", "sliding_window": 64}, [64] * 4),
        ({"model_type": "gemma2", "sliding_window": 64}, [64, None, 64, None]),
        ({"model_type": "gemma3_text", "sliding_window": 64, "sliding_window_pattern": 2},
         [64, None, 64, None]),
        (
            {"model_type": "acme", "sliding_window": 64,
             "layer_types": ["full_attention", "sliding_attention"] * 2},
            [None, 64, None, 64],
        ),
    ],
)  # fmt: skip
def test_each_way_of_declaring_local_layers(
    fields: dict[str, Any], windows: list[int | None]
) -> None:
    config = {**MICRO, "num_hidden_layers": 4, **fields}
    assert list(from_config(config, "x").layer_windows) == windows


# --- mixture of experts ------------------------------------------------------------------


def _moe(**fields: Any) -> dict[str, Any]:
    return {**MICRO, "num_hidden_layers": 6, "moe_intermediate_size": 64, **fields}


@pytest.mark.parametrize(
    ("fields", "sparse"),
    [
        ({"n_routed_experts": 4, "first_k_dense_replace": 2}, 4),
        ({"n_routed_experts": 4, "moe_layer_freq": 2}, 3),
        ({"num_local_experts": 4, "interleave_moe_layer_step": 2}, 3),
        ({"num_experts": 4, "decoder_sparse_step": 3}, 2),
        ({"num_experts": 4, "mlp_only_layers": [0, 5]}, 4),
        ({"num_local_experts": 4, "moe_layers": [1, 4]}, 2),
    ],
)
def test_moe_layer_placement_fields(fields: dict[str, Any], sparse: int) -> None:
    arch = from_config(_moe(num_experts_per_tok=2, **fields), "moe")
    assert arch.moe_layers == sparse and arch.experts == 4 and arch.experts_per_token == 2
    dense = 6 - sparse
    # Dense layers: one MLP of intermediate_size 128; sparse layers: 4 experts of 64, a router.
    mlp = 3 * 128 * 128
    experts = 4 * 3 * 128 * 64
    attention_and_norms = 4 * 128 * 128 + 2 * 128
    assert arch.parameters == (
        6 * attention_and_norms + dense * mlp + sparse * (experts + 4 * 128) + 16 * 128 + 128
    )
    assert arch.active_parameters == arch.parameters - sparse * 2 * 3 * 128 * 64


def test_shared_experts_and_the_dense_mlp_size_of_llama4() -> None:
    deepseek_style = from_config(_moe(n_routed_experts=4, n_shared_experts=2,
                                      num_experts_per_tok=1), "d")  # fmt: skip
    no_shared = from_config(_moe(n_routed_experts=4, num_experts_per_tok=1), "d")
    assert deepseek_style.parameters - no_shared.parameters == 6 * 3 * 128 * (2 * 64)
    llama4 = {
        **MICRO, "model_type": "llama4_text", "num_hidden_layers": 2, "intermediate_size": 64,
        "intermediate_size_mlp": 256, "num_local_experts": 4, "num_experts_per_tok": 1,
        "interleave_moe_layer_step": 2,
    }  # fmt: skip
    arch = from_config(llama4, "l4")
    # Layer 0 dense (intermediate_size_mlp 256); layer 1 four experts and a shared one of 64.
    ff = 3 * 128 * 256 + (4 + 1) * 3 * 128 * 64 + 4 * 128
    assert arch.parameters == 2 * (4 * 128 * 128 + 2 * 128) + ff + 16 * 128 + 128


def test_gpt_oss_counts_expert_biases_router_bias_and_sinks() -> None:
    oss = builtin("openai/gpt-oss-20b")
    assert oss is not None
    names = {w.name.rsplit(".", 1)[-1]: w for w in oss.weights}
    assert names["sinks"].rows == 64  # one per attention head
    assert names["gate_up_proj"].bias == 2 * 2880 and names["down_proj"].bias == 2880
    assert names["router"].bias == 32
    assert names["q_proj"].bias == 64 * 64  # attention_bias: q, k, v and o all biased


# --- multimodal ------------------------------------------------------------------------------


def test_nested_text_config_is_the_model_and_the_vision_tower_is_counted() -> None:
    gemma = builtin("google/gemma-3-4b-it")
    assert gemma is not None
    assert (gemma.family, gemma.layers, gemma.hidden) == ("gemma3_text", 34, 2560)
    # Gemma 3 report, table 1: a 417M-parameter SigLIP encoder (plus its 2.9M projector).
    assert gemma.vision_parameters == pytest.approx(417e6 + 1152 * 2560, rel=0.01)
    assert gemma.notes == ()


def test_an_unknown_vision_tower_is_approximated_and_says_so() -> None:
    config = {
        "model_type": "acme_vl",
        "text_config": {**MICRO, "model_type": "llama"},
        "vision_config": {"model_type": "acme_vit", "hidden_size": 64, "intermediate_size": 256,
                          "num_hidden_layers": 2, "patch_size": 16, "image_size": 64},
    }  # fmt: skip
    arch = from_config(config, "vl")
    assert arch.vision_parameters > 2 * (4 * 64 * 64 + 2 * 64 * 256)
    assert any("approximated as a plain ViT" in note for note in arch.notes)


# --- unknown families and refusals -------------------------------------------------------


def test_an_unknown_family_with_standard_fields_is_sized_and_marked_inferred() -> None:
    kimi = builtin("moonshotai/Kimi-K2-Instruct")
    assert kimi is not None and kimi.family == "kimi_k2" and kimi.family_inferred
    assert kimi.attention == "mla" and kimi.experts == 384
    assert "family inferred" in kimi.notes[0]
    known = builtin("deepseek-ai/DeepSeek-V3")
    assert known is not None and not known.family_inferred and known.notes == ()


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"index_n_heads": 64, "index_head_dim": 128}, "index_head_dim, index_n_heads"),
        ({"layer_types": ["linear_attention", "full_attention"]}, "layer_types (linear_attention)"),
        ({"model_type": "acme", "per_layer_expert_dim": 8}, "per_layer_expert_dim"),
    ],
)
def test_unreadable_size_fields_are_refused_by_name(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(SettingsError) as caught:
        from_config({**MICRO, "num_hidden_layers": 2, **fields}, "cfg.json")
    message = str(caught.value)
    assert f"cfg.json: {named}" in message and "\n" not in message


def test_an_unknown_family_ignores_fields_that_do_not_change_the_size() -> None:
    arch = from_config({**MICRO, "model_type": "acme", "greeting_token_id": 7}, "x")
    assert arch.family_inferred and "not read: greeting_token_id" in arch.notes[0]
    assert arch.parameters == MICRO_PARAMETERS


# --- weights as shipped ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quant", "expected"),
    [
        # 4 bits + per 128 input columns an fp16 scale and a 4-bit zero: 8,192 + 128 x 2.5.
        ({"quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": True},
         7 * (8192 + 320) + PLAIN),
        # GPTQ adds an int32 g_idx per input column.
        ({"quant_method": "gptq", "bits": 4, "group_size": 128}, 7 * (8192 + 320 + 512) + PLAIN),
        # fp8 e4m3 with one fp32 scale per 128 x 128 block.
        ({"quant_method": "fp8", "weight_block_size": [128, 128]}, 7 * (16384 + 4) + PLAIN),
        # compressed-tensors int4, symmetric, groups of 32: 4 bf16 scales per row.
        ({"quant_method": "compressed-tensors", "config_groups": {"g": {"targets": ["Linear"],
          "weights": {"num_bits": 4, "strategy": "group", "group_size": 32,
                      "symmetric": True}}}},
         7 * (8192 + 128 * 4 * 2) + PLAIN),
        # ... and its ignore list keeps the MLP in 16 bits.
        ({"quant_method": "compressed-tensors", "ignore": ["re:.*mlp.*"],
          "config_groups": {"g": {"weights": {"num_bits": 4, "strategy": "group",
                                              "group_size": 32}}}},
         4 * (8192 + 128 * 4 * 2) + 3 * 32768 + PLAIN),
        # bitsandbytes NF4: an fp32 absmax per 64 values; double quantization an 8-bit one.
        ({"quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4"},
         7 * (8192 + 256 * 4) + PLAIN),
        ({"quant_method": "bitsandbytes", "load_in_4bit": True,
          "bnb_4bit_use_double_quant": True},
         int(7 * (8192 + 256 * (1 + 4 / 256)) + PLAIN)),
        # bitsandbytes int8: an fp32 scale per output row.
        ({"quant_method": "bitsandbytes", "load_in_8bit": True}, 7 * (16384 + 512) + PLAIN),
        # modules_to_not_convert keeps a module (and what is under it) in 16 bits.
        ({"quant_method": "awq", "bits": 4, "group_size": 128,
          "modules_to_not_convert": ["model.layers.0.mlp"]},
         4 * (8192 + 320) + 3 * 32768 + PLAIN),
    ],
)  # fmt: skip
def test_weights_as_shipped_follow_quantization_config(
    quant: dict[str, Any], expected: int
) -> None:
    assert _quantized(quant) == expected
    assert weight_bytes(from_config(MICRO, "micro")) == 2 * MICRO_PARAMETERS


def test_mxfp4_quantizes_experts_only() -> None:
    config = _moe(num_local_experts=4, num_experts_per_tok=2, moe_intermediate_size=128)
    plain = weight_bytes(from_config(config, "moe"))
    quant = {"quant_method": "mxfp4", "modules_to_not_convert": ["model.layers.*.self_attn"]}
    mxfp4 = weight_bytes(from_config({**config, "quantization_config": quant}, "moe"))
    experts = 6 * 4 * 3 * 128 * 128  # routed expert weights: 4.25 bits instead of 16
    assert plain - mxfp4 == experts * 2 - experts * (4 + 8 / 32) // 8


def test_on_the_fly_quantize_changes_served_bytes_of_a_16_bit_checkpoint() -> None:
    micro = from_config(MICRO, "micro")
    assert weight_bytes(micro, "fp8") == 7 * (16384 + 4) + PLAIN  # per-tensor fp32 scale
    assert weight_bytes(micro, "eetq") == 7 * (16384 + 256) + PLAIN  # fp16 scale per row
    awq = builtin("hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4")
    assert awq is not None
    # A checkpoint's own quantization wins; naming it again changes nothing.
    assert weight_bytes(awq, "awq") == weight_bytes(awq)
    assert stored_bytes(awq, None) == awq.parameters * 2


def test_scheme_names_follow_llmplane_and_tgi() -> None:
    nf4 = scheme_of({"quant_method": "bitsandbytes", "load_in_4bit": True,
                     "bnb_4bit_quant_type": "nf4"})  # fmt: skip
    assert nf4 is not None and nf4.method == "bitsandbytes-nf4"
    assert scheme_of(None) is None and scheme_of({"quant_method": "fp8"}) is not None


# --- quantize refusals and engine flags -------------------------------------------------


LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct"
AWQ_70B = "hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4"


@pytest.mark.parametrize(
    ("model", "quantize", "words"),
    [
        (LLAMA_8B, "awq", ("is 'awq'", "16-bit checkpoint", "fp8, eetq")),
        (LLAMA_8B, "gptq", ("is 'gptq'", "16-bit checkpoint")),
        (LLAMA_8B, "compressed-tensors", ("16-bit checkpoint",)),
        (AWQ_70B, "fp8", ("is 'fp8'", "ships awq-quantized weights", "drop")),
        (AWQ_70B, "gptq", ("ships awq-quantized weights",)),
        ("deepseek-ai/DeepSeek-V3", "awq", ("ships fp8-quantized weights",)),
    ],
)
def test_quantize_that_cannot_serve_the_checkpoint_is_refused_in_one_line(
    model: str, quantize: str, words: tuple[str, ...]
) -> None:
    arch = builtin(model)
    assert arch is not None
    with pytest.raises(SettingsError) as caught:
        check(arch, quantize, model, "dev")
    message = str(caught.value)
    assert "llmplane:model.quantize" in message and "\n" not in message
    assert all(word in message for word in words)


@pytest.mark.parametrize(
    ("model", "quantize"),
    [(LLAMA_8B, None), (LLAMA_8B, "fp8"), (LLAMA_8B, "bitsandbytes-nf4"), (AWQ_70B, None),
     (AWQ_70B, "awq"), (AWQ_70B, "marlin"), ("deepseek-ai/DeepSeek-V3", "fp8")],
)  # fmt: skip
def test_quantize_that_matches_what_is_sized_passes(model: str, quantize: str | None) -> None:
    arch = builtin(model)
    assert arch is not None
    check(arch, quantize, model, "dev")


def test_stacks_are_refused_before_they_plan_and_flags_match_what_was_sized() -> None:
    with pytest.raises(SettingsError, match=r"llmplane:model\.quantize: is 'awq'"):
        serving_for(parse("dev", config_with(model={"id": LLAMA_8B, "quantize": "awq"})))
    with pytest.raises(SettingsError, match="llmplane:engine: is tgi, which cannot load"):
        serving_for(parse("dev", config_with(model={"id": "openai/gpt-oss-20b"})))
    oss = builtin("openai/gpt-oss-20b")
    assert oss is not None
    check(oss, None, "openai/gpt-oss-20b", engine="vllm")


def test_the_size_cli_checks_quantize_with_its_own_flag_name() -> None:
    from llmplane.infra.cli.sizing import workload_of

    awq = builtin(AWQ_70B)
    assert awq is not None
    with pytest.raises(SettingsError, match=r"--quantize: is 'fp8', but hugging-quants"):
        workload_of(awq, None, 4, "fp8", AWQ_70B)
    assert workload_of(awq, None, 4, None, AWQ_70B).quantize is None


def test_a_quantized_hub_checkpoint_ignores_the_packed_safetensors_count(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import huggingface_hub

    from llmplane.infra.sizing import models as model_source

    config = tmp_path / "config.json"
    config.write_text(json.dumps({**MICRO, "quantization_config": {"quant_method": "awq"}}))

    class Info:
        # AWQ packs 8 weights per int32, so the Hub's count is far below the parameters.
        safetensors = type("Safetensors", (), {"total": 20_000})()

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda *a, **k: str(config))
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", lambda *a, **k: Info())
    monkeypatch.setattr(model_source, "_reachable", lambda endpoint, offline: None)
    assert model_source.resolve("acme/micro-awq", None).parameters == MICRO_PARAMETERS


def test_an_mla_cache_is_whole_on_every_tensor_parallel_gpu() -> None:
    v3, llama = builtin("deepseek-ai/DeepSeek-V3"), builtin(LLAMA_8B)
    assert v3 is not None and llama is not None
    assert v3.kv_split(8) == 1  # one latent per token: replicated, not split
    assert llama.kv_split(4) == 4 and llama.kv_split(16) == 8  # never finer than a KV head
