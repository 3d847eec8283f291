"""Every built-in model against its published figures: parameters, checkpoint size, KV per token.

Each row records the published figure, where it was published, and what llmplane computes from
the config.json fields it ships (infra/sizing/catalog/models). Parameters and weights as
shipped must be within 3% of the published figures; KV bytes per token are exact for the
attention type.
Sources were read on 2026-12-01 (the Llama 3.1 / Qwen2.5 / Gemma 2 / Mistral / Phi-3 rows on
2026-11-28, when research/models.md was written).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from llmplane.infra.sizing.fit import weight_bytes
from llmplane.infra.sizing.models import builtin, builtin_ids, entry

GIB = 1024**3
CARD = "model card on huggingface.co/{}"
DEEPSEEK = (
    "DeepSeek-V3 README: 671B main-model parameters, 37B activated (the repo's 685B adds the "
    "14B MTP module)"
)
# deepseek-ai/DeepSeek-V3 model.safetensors.index.json metadata.total_size. It holds the MTP
# module (11.5B parameters, about 15 GB) that engines load only for speculative decoding, so
# the served weights are about 2% below it.
DEEPSEEK_BYTES = 688_586_727_753
GPT_OSS = "gpt-oss model card (OpenAI, 2025-08-05, arXiv:2508.10925), table 1"
GEMMA3 = "Gemma 3 technical report (2025-03-12), table 1: vision + embedding + non-embedding"


@dataclass(frozen=True)
class Published:
    """What a model's publisher says, and what llmplane computes from the shipped config."""

    model_id: str
    parameters: float
    """Published total parameters."""
    parameters_source: str
    checkpoint_bytes: float | None
    """Published size of the weights (None where no publisher gives one)."""
    checkpoint_source: str
    kv_bytes_per_token: int
    """Exact KV cache per token over all layers in bf16, by the attention type's formula."""
    computed_parameters: int
    """llmplane's count (equal to transformers' own classes: tests/unit/test_oracle.py)."""
    computed_bytes: int
    """llmplane's weights as shipped."""


def gqa(layers: int, kv_heads: int, head_dim: int) -> int:
    """Grouped-query attention: K and V of every KV head in every layer, 2 bytes each."""
    return layers * 2 * kv_heads * head_dim * 2


def mla(layers: int, kv_lora_rank: int, rope_dim: int) -> int:
    """Multi-head latent attention: one latent of kv_lora_rank + rope dims per layer."""
    return layers * (kv_lora_rank + rope_dim) * 2


def bf16(parameters: float) -> float:
    """A bf16 checkpoint's size: 2 bytes per parameter (safetensors dtype BF16)."""
    return parameters * 2


TABLE = [
    Published("deepseek-ai/DeepSeek-V3", 671e9, DEEPSEEK, DEEPSEEK_BYTES,
              "DeepSeek-V3 model.safetensors.index.json total_size (fp8, block scales, with MTP)",
              mla(61, 512, 64), 671_026_404_352, 673_152_000_000),
    Published("deepseek-ai/DeepSeek-R1", 671e9, CARD.format("deepseek-ai/DeepSeek-R1")
              + ": 671B total, 37B activated", DEEPSEEK_BYTES,
              "same tensors as DeepSeek-V3 (R1 is trained from V3-Base, same files)",
              mla(61, 512, 64), 671_026_404_352, 673_152_000_000),
    Published("deepseek-ai/DeepSeek-V3.1", 671e9, CARD.format("deepseek-ai/DeepSeek-V3.1")
              + ": 671B total, 37B activated", DEEPSEEK_BYTES,
              "688,586,727,753 bytes, as listed for deepseek-v3.1:671b (same layout as V3)",
              mla(61, 512, 64), 671_026_404_352, 673_152_000_000),
    Published("moonshotai/Kimi-K2-Instruct", 1026.5e9,
              "Hub safetensors metadata: 1026.5B (model card: 1T total, 32B activated)", None,
              "no published size found offline; fp8 block scales as DeepSeek-V3",
              mla(61, 512, 64), 1_026_408_209_408, 1_029_170_000_000),
    Published("moonshotai/Kimi-K2-Instruct-0905", 1026.5e9,
              "Hub safetensors metadata: 1026.5B (model card: 1T total, 32B activated)", None,
              "no published size found offline; same tensors as Kimi-K2-Instruct",
              mla(61, 512, 64), 1_026_408_209_408, 1_029_170_000_000),
    Published("openai/gpt-oss-20b", 20.91e9, GPT_OSS, 12.8 * GIB, GPT_OSS + ": 12.8 GiB",
              gqa(24, 8, 64), 20_914_757_184, 13_760_000_000),
    Published("openai/gpt-oss-120b", 116.83e9, GPT_OSS, 60.8 * GIB, GPT_OSS + ": 60.8 GiB",
              gqa(36, 8, 64), 116_829_156_672, 65_250_000_000),
    Published("Qwen/Qwen3-8B", 8.2e9, CARD.format("Qwen/Qwen3-8B") + ": 8.2B", bf16(8.2e9),
              "bf16 checkpoint", gqa(36, 8, 128), 8_190_735_360, 16_381_470_720),
    Published("Qwen/Qwen3-14B", 14.8e9, CARD.format("Qwen/Qwen3-14B") + ": 14.8B", bf16(14.8e9),
              "bf16 checkpoint", gqa(40, 8, 128), 14_768_307_200, 29_536_614_400),
    Published("Qwen/Qwen3-32B", 32.8e9, CARD.format("Qwen/Qwen3-32B") + ": 32.8B", bf16(32.8e9),
              "bf16 checkpoint", gqa(64, 8, 128), 32_762_123_264, 65_524_246_528),
    Published("Qwen/Qwen3-30B-A3B", 30.5e9, CARD.format("Qwen/Qwen3-30B-A3B")
              + ": 30.5B total, 3.3B activated", bf16(30.5e9), "bf16 checkpoint",
              gqa(48, 4, 128), 30_532_122_624, 61_064_245_248),
    Published("Qwen/Qwen3-235B-A22B", 235e9, CARD.format("Qwen/Qwen3-235B-A22B")
              + ": 235B total, 22B activated", bf16(235e9), "bf16 checkpoint",
              gqa(94, 4, 128), 235_093_634_560, 470_187_269_120),
    Published("google/gemma-3-4b-it", (417 + 675 + 3209) * 1e6, GEMMA3,
              bf16((417 + 675 + 3209) * 1e6), "bf16 checkpoint", gqa(34, 4, 256),
              4_300_079_472, 8_600_158_944),
    Published("google/gemma-3-12b-it", (417 + 1012 + 10759) * 1e6, GEMMA3,
              bf16((417 + 1012 + 10759) * 1e6), "bf16 checkpoint", gqa(48, 8, 256),
              12_187_325_040, 24_374_650_080),
    Published("google/gemma-3-27b-it", (417 + 1416 + 25600) * 1e6, GEMMA3,
              bf16((417 + 1416 + 25600) * 1e6), "bf16 checkpoint", gqa(62, 16, 128),
              27_432_406_640, 54_864_813_280),
    Published("meta-llama/Llama-4-Scout-17B-16E-Instruct", 109e9,
              CARD.format("meta-llama/Llama-4-Scout-17B-16E-Instruct") + ": 17B active, 109B total",
              bf16(109e9), "bf16 checkpoint", gqa(48, 8, 128), 108_641_793_536, 217_283_587_072),
    Published("meta-llama/Llama-4-Maverick-17B-128E-Instruct", 400e9,
              CARD.format("meta-llama/Llama-4-Maverick-17B-128E-Instruct")
              + ": 17B active, 400B total", bf16(400e9), "bf16 checkpoint", gqa(48, 8, 128),
              401_583_781_376, 803_167_562_752),
    Published("mistralai/Mistral-Small-24B-Instruct-2501", 24e9,
              CARD.format("mistralai/Mistral-Small-24B-Instruct-2501") + ": 24B", bf16(24e9),
              "bf16 checkpoint", gqa(40, 8, 128), 23_572_403_200, 47_144_806_400),
    Published("mistralai/Mistral-Small-3.1-24B-Instruct-2503", 24e9,
              CARD.format("mistralai/Mistral-Small-3.1-24B-Instruct-2503") + ": 24B", bf16(24e9),
              "bf16 checkpoint", gqa(40, 8, 128), 24_011_361_280, 48_022_722_560),
    Published("microsoft/phi-4", 14.7e9, "Hub safetensors metadata for microsoft/phi-4: 14.7B",
              bf16(14.7e9), "bf16 checkpoint", gqa(40, 10, 128), 14_659_507_200, 29_319_014_400),
    Published("mistralai/Mixtral-8x7B-Instruct-v0.1", 46.7e9,
              "Mistral AI, 'Mixtral of experts' (2023-12-11): 46.7B total, 12.9B active",
              bf16(46.7e9), "bf16 checkpoint", gqa(32, 8, 128), 46_702_792_704, 93_405_585_408),
    Published("meta-llama/Llama-3.1-8B-Instruct", 8.03e9, "research/models.md", bf16(8.03e9),
              "bf16 checkpoint", gqa(32, 8, 128), 8_030_261_248, 16_060_522_496),
    Published("meta-llama/Llama-3.1-70B-Instruct", 70.6e9, "research/models.md", bf16(70.6e9),
              "bf16 checkpoint", gqa(80, 8, 128), 70_553_706_496, 141_107_412_992),
    Published("meta-llama/Llama-3.1-405B-Instruct", 405e9, "research/models.md", bf16(405e9),
              "bf16 checkpoint", gqa(126, 8, 128), 405_853_388_800, 811_706_777_600),
    Published("hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4", 70.6e9,
              "the base model (research/models.md)", 39.8e9,
              "the checkpoint's safetensors files (research/models.md): about 39.8 GB",
              gqa(80, 8, 128), 70_553_706_496, 39_770_000_000),
    Published("mistralai/Mistral-7B-Instruct-v0.3", 7.25e9, "research/models.md", bf16(7.25e9),
              "bf16 checkpoint", gqa(32, 8, 128), 7_248_023_552, 14_496_047_104),
    Published("Qwen/Qwen2.5-7B-Instruct", 7.61e9, CARD.format("Qwen/Qwen2.5-7B-Instruct")
              + ": 7.61B", bf16(7.61e9), "bf16 checkpoint", gqa(28, 4, 128), 7_615_616_512,
              15_231_233_024),
    Published("Qwen/Qwen2.5-72B-Instruct", 72.7e9, CARD.format("Qwen/Qwen2.5-72B-Instruct")
              + ": 72.7B", bf16(72.7e9), "bf16 checkpoint", gqa(80, 8, 128), 72_706_203_648,
              145_412_407_296),
    Published("google/gemma-2-9b-it", 9.24e9, "research/models.md", bf16(9.24e9),
              "bf16 weights (the checkpoint ships fp32; engines load bf16)", gqa(42, 8, 256),
              9_241_705_984, 18_483_411_968),
    Published("google/gemma-2-27b-it", 27.2e9, "research/models.md", bf16(27.2e9),
              "bf16 checkpoint", gqa(46, 16, 128), 27_227_128_320, 54_454_256_640),
    Published("microsoft/Phi-3-mini-4k-instruct", 3.8e9, "research/models.md", bf16(3.8e9),
              "bf16 checkpoint", gqa(32, 32, 96), 3_821_079_552, 7_642_159_104),
]  # fmt: skip


@pytest.mark.parametrize("row", TABLE, ids=[row.model_id for row in TABLE])
def test_parameters_and_weights_match_published_figures_within_3_percent(row: Published) -> None:
    arch = builtin(row.model_id)
    assert arch is not None, f"{row.model_id} is not built in"
    assert arch.parameters == row.computed_parameters
    assert arch.parameters == pytest.approx(row.parameters, rel=0.03), row.parameters_source
    shipped = weight_bytes(arch)
    assert shipped == pytest.approx(row.computed_bytes, rel=0.001)
    if row.checkpoint_bytes is not None:
        assert shipped == pytest.approx(row.checkpoint_bytes, rel=0.03), row.checkpoint_source


@pytest.mark.parametrize("row", TABLE, ids=[row.model_id for row in TABLE])
def test_kv_bytes_per_token_are_exact_for_the_attention_type(row: Published) -> None:
    arch = builtin(row.model_id)
    assert arch is not None
    assert arch.kv_bytes_per_token() == row.kv_bytes_per_token


def test_weights_as_shipped_sit_beside_the_bf16_figure() -> None:
    v3 = builtin("deepseek-ai/DeepSeek-V3")
    oss = builtin("openai/gpt-oss-120b")
    assert v3 is not None and oss is not None
    # fp8 weights take about half of bf16; MXFP4 experts about a quarter of the experts' bf16.
    assert weight_bytes(v3) / (v3.parameters * 2) == pytest.approx(0.50, abs=0.01)
    assert weight_bytes(oss) / (oss.parameters * 2) == pytest.approx(0.28, abs=0.01)


def test_every_built_in_id_has_a_row_a_source_a_date_and_a_gated_mark() -> None:
    rows = {row.model_id for row in TABLE}
    files = set(builtin_ids().values())
    assert files == {builtin_ids()[model_id] for model_id in rows}  # every file is checked
    for model_id in builtin_ids():
        facts = entry(model_id)
        assert facts is not None and facts.source.startswith("https://huggingface.co/")
        assert facts.checked.startswith("2026-")
    gated = {model_id for model_id in builtin_ids() if getattr(entry(model_id), "gated", False)}
    assert "meta-llama/Llama-4-Scout-17B-16E-Instruct" in gated
    assert "google/gemma-3-27b-it" in gated
    assert "openai/gpt-oss-120b" not in gated and "Qwen/Qwen3-8B" not in gated
