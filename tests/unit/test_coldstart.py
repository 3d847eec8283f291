"""The cold-start budget: parts that add up, sources that behave, one figure for every wait."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest

from llmplane.components.kubernetes.engines import ENGINES
from llmplane.components.kubernetes.streamer import STREAMING_ENGINES
from llmplane.infra.sizing import workload
from llmplane.infra.sizing.catalog import CATALOG, shapes
from llmplane.infra.sizing.coldstart import (
    ColdStart,
    budget,
    cold_start,
    figure,
    probe_budget,
    shared_cache,
)
from llmplane.infra.sizing.fit import startup_seconds, weight_bytes, workload_for
from llmplane.infra.sizing.models import builtin

GB = 1e9
LLAMA_8B = 16.06 * GB
LLAMA_70B = 141.1 * GB
MANAGED = ("aws", "gcp", "azure")
ROWS = list(csv.DictReader((CATALOG / "coldstart.csv").open(newline="", encoding="utf-8")))


def aws(**changes: object) -> ColdStart:
    """A cold start on aws g6.xlarge with vLLM, changed where the test says."""
    args: dict = {
        "cloud": "aws",
        "shape": "g6.xlarge",
        "engine": "vllm",
        "image_source": "mirror",
        "weights_bytes": LLAMA_8B,
        "weights_source": "cache",
        **changes,
    }
    return cold_start(**args)


def test_every_row_has_a_source_a_date_and_a_positive_value() -> None:
    assert ROWS
    for row in ROWS:
        assert row["source"].strip() and row["basis"].strip(), row
        assert dt.date.fromisoformat(row["as_of"]) <= dt.date(2026, 12, 1), row
        assert float(row["value"]) > 0, row
        assert row["part"] in ("node", "image", "pull", "weights", "warmup"), row


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_every_pinned_engine_image_has_its_own_size_and_warm_up(engine: str) -> None:
    # A new tag in engines.py fails here until its size is looked up and recorded.
    image = figure("image", None, ENGINES[engine].image)
    assert image.fallback is None and image.pattern == ENGINES[engine].image
    assert figure("warmup", None, engine).fallback is None


@pytest.mark.parametrize("cloud", MANAGED)
def test_every_catalog_shape_has_a_family_figure_not_the_catch_all(cloud: str) -> None:
    for name in shapes(cloud):
        found = figure("node", cloud, name)
        assert found.pattern != "*" and found.fallback is None, (cloud, name)


def test_the_parts_sum_to_the_total_and_the_pod_and_node_shares() -> None:
    start = aws()
    assert [part.name for part in start.parts] == ["node", "image", "weights", "warmup"]
    assert start.total_seconds == sum(part.seconds for part in start.parts)
    assert start.total_seconds == start.node_seconds + start.pod_seconds
    document = start.as_dict()
    assert document["totalSeconds"] == sum(part["seconds"] for part in document["parts"])


def test_the_timeout_covers_the_total_with_the_margin_in_whole_minutes() -> None:
    start = aws(shape="p5.48xlarge", weights_bytes=LLAMA_70B, shards=8, image_source="public")
    assert start.timeout_seconds >= start.total_seconds * start.margin
    assert start.timeout_seconds % 60 == 0
    assert start.timeout_seconds - start.total_seconds * start.margin < 60
    # The probe starts once the image is in, so it covers weights and warm-up only.
    assert start.probe_seconds == budget(start.seconds("weights", "warmup"))
    assert start.probe_seconds <= start.timeout_seconds
    assert budget(1) == workload.MIN_STARTUP_SECONDS


@pytest.mark.parametrize("cloud", ["aws"])
def test_the_warm_cache_is_faster_than_the_hub_for_the_same_model(cloud: str) -> None:
    cache, hub = aws(cloud=cloud), aws(cloud=cloud, weights_source="hub")
    assert cache.seconds("weights") < hub.seconds("weights")
    assert cache.total_seconds < hub.total_seconds


@pytest.mark.parametrize("cloud", MANAGED)
def test_the_hub_lands_in_the_shared_cache_so_it_never_beats_reading_it_back(cloud: str) -> None:
    # Filestore Basic HDD and a small Azure Files share are slower than the Hub figure; a Hub
    # download is written to them anyway (HF_HOME is the cache), so it cannot be faster.
    shape = next(iter(shapes(cloud)))
    cache = aws(cloud=cloud, shape=shape)
    hub = aws(cloud=cloud, shape=shape, weights_source="hub")
    assert cache.seconds("weights") < hub.seconds("weights")


def test_the_private_mirror_is_faster_than_the_public_registry() -> None:
    mirror, public = aws(image_source="mirror"), aws(image_source="public")
    assert mirror.seconds("image") < public.seconds("image")
    assert "mirror" in mirror.parts[1].basis and "public registry" in public.parts[1].basis


@pytest.mark.parametrize("source", ["hub", "cache", "bucket"])
def test_a_bigger_model_takes_longer(source: str) -> None:
    small = aws(weights_source=source)
    large = aws(weights_source=source, weights_bytes=LLAMA_70B)
    assert large.seconds("weights") > small.seconds("weights")
    assert large.total_seconds > small.total_seconds


def test_an_existing_cluster_has_no_node_part_unless_told() -> None:
    for cloud in (None, "kubernetes"):
        ready = cold_start(cloud, None, "tgi", "public", LLAMA_8B, "hub")
        assert "node" not in [part.name for part in ready.parts]
        assert ready.node_seconds == 0 and ready.total_seconds == ready.pod_seconds
        told = cold_start(cloud, None, "tgi", "public", LLAMA_8B, "hub", node_ready=False)
        assert told.parts[0].name == "node" and told.node_seconds > 0
    # A managed pool scales from zero, so its node is counted unless said to be up.
    assert aws().node_seconds > 0 and aws(node_ready=True).node_seconds == 0


def test_an_unknown_shape_falls_back_and_the_basis_says_so() -> None:
    known = aws().parts[0]
    assert "not" not in known.basis
    family = aws(shape="g6.16xlarge").parts[0]
    assert family.seconds == known.seconds
    assert "'g6.16xlarge' is not a catalog shape: the aws g* family figure" in family.basis
    unknown = aws(shape="x9.metal").parts[0]
    assert unknown.seconds == figure("node", "aws", "*").value
    assert "'x9.metal' has no figure of its own: the aws default" in unknown.basis
    assert "node aws *" in unknown.source


def test_larger_gpu_families_take_longer_to_provision() -> None:
    assert aws(shape="p5.48xlarge").node_seconds > aws(shape="g6.xlarge").node_seconds
    small = cold_start("azure", "Standard_NV36ads_A10_v5", "vllm", "mirror", LLAMA_8B, "cache")
    large = cold_start("azure", "Standard_ND96isr_H100_v5", "vllm", "mirror", LLAMA_8B, "cache")
    assert large.node_seconds > small.node_seconds


def test_the_text_and_the_document_say_estimate_and_are_deterministic() -> None:
    start = aws()
    line = start.line()
    assert line.startswith(f"cold start ≈ {start.total_seconds} s (estimate): GPU node ")
    assert " + image " in line and " + weights " in line and line.endswith(" s")
    assert "warm-up" in line
    document = start.as_dict()
    assert document["estimate"] is True
    assert json.dumps(document, sort_keys=True) == json.dumps(aws().as_dict(), sort_keys=True)
    for part in document["parts"]:
        assert (
            isinstance(part["seconds"], int) and part["basis"] and "coldstart.csv" in part["source"]
        )


def test_sources_that_do_not_exist_are_refused_in_one_line() -> None:
    with pytest.raises(ValueError, match="tgi cannot stream weights from a bucket"):
        aws(engine="tgi", weights_source="bucket")
    with pytest.raises(ValueError, match="kubernetes has no shared weights cache"):
        cold_start("kubernetes", None, "vllm", "public", LLAMA_8B, "cache")
    with pytest.raises(ValueError, match="unknown engine 'triton'"):
        aws(engine="triton")
    assert set(STREAMING_ENGINES) <= set(ENGINES)
    assert shared_cache("kubernetes") is None and shared_cache(None) is None
    assert all(shared_cache(cloud) is not None for cloud in MANAGED)


def test_the_generic_figures_are_the_workload_assumptions_that_plan_prints() -> None:
    # workload.ASSUMPTIONS prints these three; the catalog rows must say the same.
    assert figure("weights", None, "hub").value == workload.DOWNLOAD_MB_S
    assert figure("weights", None, "local").value == workload.LOAD_GB_S * 1000
    assert figure("warmup", None, "").value == workload.WARMUP_SECONDS


@pytest.mark.parametrize(
    ("model", "shards", "expected"),
    [("meta-llama/Llama-3.1-8B-Instruct", 1, 600), ("meta-llama/Llama-3.1-70B-Instruct", 8, 1620)],
)
def test_startup_seconds_is_the_probe_budget_and_keeps_the_shipped_stacks_figures(
    model: str, shards: int, expected: int
) -> None:
    arch = builtin(model)
    assert arch is not None
    load = workload_for(arch)
    assert startup_seconds(arch, load, shards) == expected
    assert startup_seconds(arch, load, shards) == probe_budget(weight_bytes(arch), shards)
