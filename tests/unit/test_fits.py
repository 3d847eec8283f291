"""Honest fits: a stated margin, headroom in GiB and tokens, KV dtype, MLA, multi-node, MoE."""

from __future__ import annotations

import pytest

from llmplane.components.kubernetes.engines import ENGINES, ServeRequest
from llmplane.infra.sizing.catalog import shapes
from llmplane.infra.sizing.fit import (
    ETA,
    FIT_MARGIN,
    GIB,
    MEMORY_FRACTION,
    best_fit,
    decode_speed,
    experts_read,
    fit,
    multi_node,
    needs_of,
    step_weight_bytes,
    weight_bytes,
    workload_for,
)
from llmplane.infra.sizing.models import builtin

LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct"
LLAMA_70B = "meta-llama/Llama-3.1-70B-Instruct"


def _arch(model_id: str):
    arch = builtin(model_id)
    assert arch is not None, model_id
    return arch


def test_a_fit_keeps_the_stated_margin_free() -> None:
    # The case: 70B "fitted" two A100 80 GB at 71.71 of 72.0 GiB, with nothing to spare.
    llama70 = _arch(LLAMA_70B)
    workload = workload_for(llama70)
    two = fit(llama70, shapes("aws")["p4de.24xlarge"], 2, workload)
    assert two.used_gib <= two.budget_gib * 1.01  # within the old rule's reach ...
    assert not two.fits  # ... but not within the margin
    assert two.usable_gib == pytest.approx(two.budget_gib * (1 - FIT_MARGIN))
    assert two.budget_gib == pytest.approx(81920 / 1024 * MEMORY_FRACTION)
    four = best_fit(llama70, shapes("aws")["p4de.24xlarge"], workload)
    assert four is not None and four.shards == 4 and four.fits


def test_overhead_counts_runtime_and_prefill_activations() -> None:
    llama8 = _arch(LLAMA_8B)
    short = fit(llama8, shapes("aws")["g6e.xlarge"], 1, workload_for(llama8, 8192))
    long = fit(llama8, shapes("aws")["g6e.xlarge"], 1, workload_for(llama8, 65536))
    # 1 GiB of runtime plus activations that grow with the prefill batch (the prompt).
    assert 1.0 < short.overhead_gib < long.overhead_gib
    assert short.used_gib == pytest.approx(short.weights_gib + short.kv_gib + short.overhead_gib)


def test_headroom_is_shown_in_gib_and_in_tokens() -> None:
    llama8 = _arch(LLAMA_8B)
    workload = workload_for(llama8, concurrency=2)
    fitted = fit(llama8, shapes("aws")["g6.xlarge"], 1, workload)
    assert fitted.fits and fitted.headroom_gib > 0
    per_token = llama8.kv_bytes_per_token() / GIB
    assert fitted.headroom_tokens == pytest.approx(fitted.headroom_gib / per_token, abs=1)
    # The engine's KV pool: at least the two required requests, plus the headroom and margin.
    assert fitted.max_requests >= 2
    assert fitted.kv_capacity_tokens > 2 * 8192 + fitted.headroom_tokens
    # A workload that does not fit has negative headroom: that is how far short it is.
    short = fit(llama8, shapes("aws")["g6.xlarge"], 1, workload_for(llama8, concurrency=4))
    assert not short.fits and short.headroom_gib < 0 and short.headroom_tokens < 0


def test_an_fp8_kv_cache_halves_the_kv_and_every_engine_gets_its_flag() -> None:
    llama8 = _arch(LLAMA_8B)
    bf16 = workload_for(llama8, concurrency=4)
    fp8 = workload_for(llama8, concurrency=4, kv_cache_dtype="fp8")
    shape = shapes("aws")["g6.xlarge"]
    halved = fit(llama8, shape, 1, bf16).kv_gib / 2
    assert fit(llama8, shape, 1, fp8).kv_gib == pytest.approx(halved)
    assert best_fit(llama8, shape, bf16) is None and best_fit(llama8, shape, fp8) is not None
    request = ServeRequest(LLAMA_8B, None, 1, None, None, None, kv_cache_dtype="fp8")
    flags = {name: engine.args(request) for name, engine in ENGINES.items()}
    # Each engine's own spelling: TGI's launcher enum, vLLM's CacheDType, SGLang's choices.
    expected = {"tgi": "fp8_e4m3fn", "vllm": "fp8", "sglang": "fp8_e4m3"}
    for name, args in flags.items():
        assert args[args.index("--kv-cache-dtype") + 1] == expected[name]
    plain = ServeRequest(LLAMA_8B, None, 1, None, None, None)
    assert all("--kv-cache-dtype" not in e.args(plain) for e in ENGINES.values())
    bf16_request = ServeRequest(LLAMA_8B, None, 1, None, None, None, kv_cache_dtype="bf16")
    assert "--kv-cache-dtype" not in ENGINES["tgi"].args(bf16_request)  # TGI: the model's dtype
    vllm = ENGINES["vllm"].args(bf16_request)
    assert vllm[vllm.index("--kv-cache-dtype") + 1] == "bfloat16"


def test_fits_take_the_kv_cache_from_the_architecture_entry_point() -> None:
    # Gemma 2 keeps a 4096-token window on every other layer: less than per-token x tokens.
    gemma = _arch("google/gemma-2-9b-it")
    workload = workload_for(gemma, 8192, concurrency=1)
    needs = needs_of(gemma, workload)
    assert needs.kv_bytes == gemma.kv_cache_bytes(8192)
    assert needs.kv_bytes < gemma.kv_bytes_per_token() * 8192


def test_an_mla_latent_is_not_split_by_tensor_parallelism() -> None:
    deepseek = _arch("deepseek-ai/DeepSeek-V3")
    assert deepseek.attention == "mla"
    workload = workload_for(deepseek)
    on_eight = fit(deepseek, shapes("aws")["p5en.48xlarge"], 8, workload)
    # Every shard caches the whole latent of its layers; the weights are split eightfold.
    assert on_eight.kv_gib == pytest.approx(deepseek.kv_cache_bytes(8192) * 4 / GIB)
    assert on_eight.weights_gib == pytest.approx(weight_bytes(deepseek) / 8 / GIB)


def test_a_model_no_machine_holds_gets_the_fewest_nodes_that_do() -> None:
    llama405 = _arch("meta-llama/Llama-3.1-405B-Instruct")
    workload = workload_for(llama405, 131072)
    p5en = shapes("aws")["p5en.48xlarge"]
    assert best_fit(llama405, p5en, workload) is None
    layout = multi_node(llama405, p5en, workload)
    assert layout is not None and layout.fits
    assert (layout.pipeline, layout.shards, layout.gpus) == (2, 8, 16)
    # Pipeline stages split the weights and KV again; one node fewer would not hold it.
    assert layout.weights_gib == pytest.approx(weight_bytes(llama405) / 16 / GIB)
    assert not fit(llama405, p5en, 8, workload).fits


def test_moe_speed_counts_the_distinct_experts_the_streams_read() -> None:
    assert experts_read(8, 2, 1) == pytest.approx(2)
    assert experts_read(8, 2, 4) == pytest.approx(8 * (1 - 0.75**4))
    assert experts_read(8, 2, 1000) == pytest.approx(8)
    mixtral = _arch("mistralai/Mixtral-8x7B-Instruct-v0.1")
    total = weight_bytes(mixtral)
    active = total * mixtral.active_parameters / mixtral.parameters
    assert step_weight_bytes(mixtral, None, 1) == pytest.approx(active, rel=0.01)
    assert step_weight_bytes(mixtral, None, 4) > 2 * active
    workload = workload_for(mixtral)
    fitted = best_fit(mixtral, shapes("aws")["p5.48xlarge"], workload)
    assert fitted is not None
    # What the old estimate said: only the active experts read, about twice too fast.
    kv = mixtral.kv_cache_bytes(workload.max_total_tokens // 2) * workload.concurrency
    bandwidth = ETA * fitted.gpu.hbm_bandwidth_tbs * 1e12
    active_only = bandwidth / ((active + kv) / fitted.shards) * workload.concurrency
    speed = decode_speed(mixtral, workload, fitted)
    assert speed.concurrency == 4
    assert speed.tokens_per_second < active_only / 2
    # A dense model reads all its weights at any concurrency.
    llama8 = _arch(LLAMA_8B)
    assert step_weight_bytes(llama8, None, 16) == weight_bytes(llama8)


def test_every_kv_cache_dtype_is_a_stack_value_and_every_engine_spells_it() -> None:
    from typing import get_args

    from llmplane.infra.config.settings import ModelSettings
    from llmplane.infra.sizing.fit import KV_BYTES, KV_CACHE_DTYPES

    annotation = ModelSettings.model_fields["kv_cache_dtype"].annotation
    assert get_args(annotation) == KV_CACHE_DTYPES == tuple(KV_BYTES)
    for engine in ENGINES.values():
        assert tuple(engine.kv_cache_dtypes) == KV_CACHE_DTYPES
