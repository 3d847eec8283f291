"""llmplane's parameter counts against transformers' own model classes, built on the meta device.

An independent oracle: transformers instantiates the real architecture from a config, without
allocating weights, and counts its parameters exactly. Checked over every built-in config and
seeded random variants of each family's fields. Needs the test-only extra (`pip install -e
'.[oracle]'`: torch's CPU build and transformers), and is skipped without it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest

from llmplane.infra.sizing.architecture import from_config
from llmplane.infra.sizing.models import MODELS, builtin_ids

REASON = "the oracle needs torch and transformers: pip install -e '.[oracle]'"
torch = pytest.importorskip("torch", reason=REASON)
transformers = pytest.importorskip("transformers", reason=REASON)

# transformers has no kimi_k2 config class; the checkpoint names DeepseekV3ForCausalLM.
ORACLE_TYPE = {"kimi_k2": "deepseek_v3"}
VARIANTS = 6


def oracle_count(config: dict[str, Any]) -> int:
    """Parameters of transformers' model class for `config`, built without weights."""
    fields = {k: v for k, v in config.items() if k not in ("model_type", "quantization_config")}
    model_type = ORACLE_TYPE.get(config["model_type"], config["model_type"])
    built = transformers.AutoConfig.for_model(model_type, **fields)
    auto = (
        transformers.AutoModelForImageTextToText
        if "vision_config" in config
        else transformers.AutoModelForCausalLM
    )
    with torch.device("meta"):
        model = auto.from_config(built)
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("file", sorted(set(builtin_ids().values())))
def test_every_builtin_config_counts_as_transformers_does(file: str) -> None:
    config = json.loads((MODELS / file).read_text(encoding="utf-8"))
    assert from_config(config, file).parameters == oracle_count(config)


# --- random variants of each family -------------------------------------------------------


def _attention(rng: random.Random, model_type: str) -> dict[str, Any]:
    heads = rng.choice([2, 4, 8])
    head_dim = rng.choice([8, 16])
    return {
        "model_type": model_type,
        "num_attention_heads": heads,
        "num_key_value_heads": rng.choice([k for k in (1, 2, heads) if heads % k == 0]),
        "head_dim": head_dim,
        # Phi-3 derives head_dim from hidden / heads, so keep the two consistent for every family.
        "hidden_size": heads * head_dim,
        "num_hidden_layers": rng.randint(1, 4),
        "intermediate_size": rng.choice([48, 64, 96]),
        "vocab_size": rng.randint(50, 300),
        "tie_word_embeddings": rng.random() < 0.5,
        "pad_token_id": 0,  # some classes default to an id beyond these small vocabularies
    }


def _experts(rng: random.Random) -> dict[str, Any]:
    experts = rng.choice([2, 4, 8])
    return {"experts": experts, "picks": rng.randint(1, experts), "inner": rng.choice([16, 32])}


def _dense(model_type: str) -> Callable[[random.Random], dict[str, Any]]:
    def make(rng: random.Random) -> dict[str, Any]:
        config = _attention(rng, model_type)
        if model_type in ("llama", "qwen3"):
            config["attention_bias"] = rng.random() < 0.5
        if model_type == "llama":
            config["mlp_bias"] = rng.random() < 0.5
        return config

    return make


def _mixtral(rng: random.Random) -> dict[str, Any]:
    e = _experts(rng)
    return {**_attention(rng, "mixtral"), "num_local_experts": e["experts"],
            "num_experts_per_tok": e["picks"]}  # fmt: skip


def _qwen_moe(model_type: str) -> Callable[[random.Random], dict[str, Any]]:
    def make(rng: random.Random) -> dict[str, Any]:
        config = _attention(rng, model_type)
        e = _experts(rng)
        layers = config["num_hidden_layers"]
        config |= {
            "num_experts": e["experts"],
            "num_experts_per_tok": e["picks"],
            "moe_intermediate_size": e["inner"],
            "decoder_sparse_step": rng.randint(1, 2),
            "mlp_only_layers": sorted(rng.sample(range(layers), rng.randint(0, layers - 1))),
        }
        if model_type == "qwen2_moe":
            config["shared_expert_intermediate_size"] = rng.choice([16, 48])
        return config

    return make


def _deepseek(model_type: str) -> Callable[[random.Random], dict[str, Any]]:
    def make(rng: random.Random) -> dict[str, Any]:
        config = _attention(rng, model_type)
        e = _experts(rng)
        config |= {
            "num_key_value_heads": config["num_attention_heads"],
            "q_lora_rank": rng.choice([None, 24]),
            "kv_lora_rank": rng.choice([16, 32]),
            "qk_rope_head_dim": rng.choice([4, 8]),
            "qk_nope_head_dim": rng.choice([8, 16]),
            "v_head_dim": rng.choice([8, 16]),
            "n_routed_experts": e["experts"],
            "n_shared_experts": rng.randint(1, 2),
            "num_experts_per_tok": e["picks"],
            "moe_intermediate_size": e["inner"],
            "first_k_dense_replace": rng.randint(0, config["num_hidden_layers"]),
            "attention_bias": rng.random() < 0.5,
            # transformers' DeepSeek classes assume these; the published configs use them too.
            "n_group": 1,
            "topk_group": 1,
            "moe_layer_freq": 1,
        }
        config.pop("head_dim")
        return config

    return make


def _gpt_oss(rng: random.Random) -> dict[str, Any]:
    config = _attention(rng, "gpt_oss")
    e = _experts(rng)
    layers = config["num_hidden_layers"]
    return config | {
        "num_local_experts": e["experts"],
        "num_experts_per_tok": e["picks"],
        "sliding_window": 8,
        "layer_types": [rng.choice(["sliding_attention", "full_attention"]) for _ in range(layers)],
    }


def _llama4(rng: random.Random) -> dict[str, Any]:
    text = _attention(rng, "llama4_text")
    e = _experts(rng)
    text |= {"num_local_experts": e["experts"], "num_experts_per_tok": 1,
             "interleave_moe_layer_step": rng.randint(1, 2),
             "intermediate_size_mlp": rng.choice([64, 128])}  # fmt: skip
    vision = {"model_type": "llama4_vision_model", "hidden_size": 32, "num_attention_heads": 2,
              "intermediate_size": 64, "num_hidden_layers": rng.randint(1, 2), "image_size": 28,
              "patch_size": 14, "projector_input_dim": 48, "projector_output_dim": 48,
              "vision_output_dim": 48}  # fmt: skip
    return {"model_type": "llama4", "text_config": text, "vision_config": vision,
            "tie_word_embeddings": text["tie_word_embeddings"]}  # fmt: skip


def _gemma3(rng: random.Random) -> dict[str, Any]:
    text = _attention(rng, "gemma3_text")
    vision = {"model_type": "siglip_vision_model", "hidden_size": 32, "num_attention_heads": 2,
              "intermediate_size": rng.choice([48, 64]), "num_hidden_layers": rng.randint(1, 2),
              "image_size": 28, "patch_size": 14, "vision_use_head": False}  # fmt: skip
    return {"model_type": "gemma3", "text_config": text, "vision_config": vision,
            "mm_tokens_per_image": 4,
            "tie_word_embeddings": text["tie_word_embeddings"]}  # fmt: skip


def _mistral3(rng: random.Random) -> dict[str, Any]:
    text = _attention(rng, "mistral")
    vision = {"model_type": "pixtral", "hidden_size": 32, "num_attention_heads": 2, "head_dim": 16,
              "intermediate_size": rng.choice([48, 64]), "num_hidden_layers": rng.randint(1, 2),
              "image_size": 28, "patch_size": 14}  # fmt: skip
    return {"model_type": "mistral3", "text_config": text, "vision_config": vision,
            "multimodal_projector_bias": rng.random() < 0.5, "spatial_merge_size": 2,
            "tie_word_embeddings": text["tie_word_embeddings"]}  # fmt: skip


FAMILIES: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "llama": _dense("llama"),
    "mistral": _dense("mistral"),
    "qwen2": _dense("qwen2"),
    "qwen3": _dense("qwen3"),
    "gemma2": _dense("gemma2"),
    "phi3": _dense("phi3"),
    "mixtral": _mixtral,
    "qwen2_moe": _qwen_moe("qwen2_moe"),
    "qwen3_moe": _qwen_moe("qwen3_moe"),
    "deepseek_v2": _deepseek("deepseek_v2"),
    "deepseek_v3": _deepseek("deepseek_v3"),
    "gpt_oss": _gpt_oss,
    "llama4": _llama4,
    "gemma3": _gemma3,
    "mistral3": _mistral3,
}
CASES = [(family, seed) for family in FAMILIES for seed in range(VARIANTS)]


@pytest.mark.parametrize(("family", "seed"), CASES)
def test_random_variants_of_each_family_count_as_transformers_does(family: str, seed: int) -> None:
    config = FAMILIES[family](random.Random(f"{family}-{seed}"))
    assert from_config(config, f"{family}-{seed}").parameters == oracle_count(config), config
