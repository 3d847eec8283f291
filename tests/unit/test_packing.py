"""Replicas share GPU nodes: node counts, idle GPUs, prices and auto shapes follow the packing."""

from __future__ import annotations

from typing import Any

import pytest

from llmplane.infra.config.errors import SettingsError
from llmplane.infra.config.settings import parse
from llmplane.infra.sizing.catalog import prices
from llmplane.infra.sizing.compare import compare
from llmplane.infra.sizing.cost import (
    HOURS_PER_MONTH,
    Packing,
    expected_gpu_nodes,
    packing,
    price_plan,
)
from llmplane.infra.sizing.fit import workload_for
from llmplane.infra.sizing.models import builtin
from llmplane.infra.sizing.serving import rank, serving_for

MIXTRAL = "mistralai/Mixtral-8x7B-Instruct-v0.1"
US_EAST = {"llmplane:cloud": "aws", "aws:region": "us-east-1"}


def _arch(model_id: str):
    arch = builtin(model_id)
    assert arch is not None
    return arch


def test_replicas_share_a_node_and_the_rest_of_its_gpus_idle() -> None:
    # Two replicas of two GPUs on an 8-GPU machine: one node, four GPUs idle.
    assert packing(2, 2, 8) == Packing(replicas=2, replicas_per_node=4, nodes=1, idle_gpus=4)
    assert (packing(5, 2, 8).nodes, packing(5, 2, 8).idle_gpus) == (2, 6)
    assert (packing(3, 8, 8).nodes, packing(3, 8, 8).idle_gpus) == (3, 0)
    # A replica larger than a node takes whole nodes (a multi-node layout).
    spanning = packing(1, 16, 8)
    assert (spanning.replicas_per_node, spanning.nodes, spanning.idle_gpus) == (0, 2, 0)
    assert expected_gpu_nodes(4, 1, 4) == 1


def test_rank_prices_every_node_the_replicas_take() -> None:
    mixtral = _arch(MIXTRAL)
    workload = workload_for(mixtral)
    one = rank(mixtral, workload, "aws", "us-east-1", False, replicas=1)
    four = rank(mixtral, workload, "aws", "us-east-1", False, replicas=4)
    for option in four:
        assert option.fleet_hourly_usd == pytest.approx(option.packing.nodes * option.hourly_usd)
    assert [o.fleet_hourly_usd for o in four] == sorted(o.fleet_hourly_usd for o in four)
    # One replica is cheapest on a 4-GPU machine; four share one 8-GPU machine instead of taking
    # four 4-GPU ones.
    assert one[0].fit.shape.gpu_count == 4
    best = four[0]
    assert best.fit.shape.gpu_count == 8 and best.packing.nodes == 1
    assert best.fleet_hourly_usd < 4 * one[0].hourly_usd


def test_compare_rows_and_ranking_follow_the_packing() -> None:
    mixtral = _arch(MIXTRAL)
    workload = workload_for(mixtral)
    (row,) = compare(mixtral, workload, False, ["us-east-1"], replicas=4)
    price = prices("aws")[(row.option.fit.shape.name, "us-east-1")].on_demand
    assert price is not None
    nodes = row.option.packing.nodes
    assert row.monthly_usd == pytest.approx(
        nodes * price * HOURS_PER_MONTH + row.fixed.monthly_usd, abs=0.01
    )
    # $/1M tok divides the nodes' price by every replica's tokens.
    expected = nodes * price / (4 * row.tokens_per_second * 3600) * 1e6
    assert row.usd_per_million_tokens == pytest.approx(expected)


def _stack(**keys: Any) -> dict[str, Any]:
    return {**US_EAST, **{f"llmplane:{k}": v for k, v in keys.items()}}


def test_auto_chooses_by_the_packed_price_and_shows_idle_gpus() -> None:
    config = _stack(
        model={"id": MIXTRAL},
        gpu={"shape": "auto", "maxNodes": 2},
        replicas={"min": 4, "max": 8},
    )
    serving = serving_for(parse("packed", config))
    assert serving.shape is not None and serving.shape.gpu_count == 8
    assert serving.packing is not None
    assert (serving.packing.nodes, serving.packing.idle_gpus) == (1, 0)
    assert serving.expected_nodes == 1


def test_the_plan_prices_the_packed_nodes() -> None:
    # The case: 70B with shape auto in eu-north-1 takes a p5en.48xlarge (8 H200) and two
    # H200 per replica; both replicas share one node and four GPUs idle.
    config = {
        "llmplane:cloud": "aws",
        "aws:region": "eu-north-1",
        "llmplane:model": {"id": "meta-llama/Llama-3.1-70B-Instruct", "maxTotalTokens": 32768},
        "llmplane:gpu": {"shape": "auto", "minNodes": 0, "maxNodes": 3},
        "llmplane:replicas": {"min": 2, "max": 3},
    }
    serving = serving_for(parse("eu", config))
    assert serving.shape is not None and serving.shape.name == "p5en.48xlarge"
    assert serving.packing is not None
    assert (serving.gpus, serving.packing.nodes, serving.packing.idle_gpus) == (2, 1, 4)
    # The pool's cost: one node expected, and at most the one node three replicas need.
    node_group = {
        "type": "aws:eks/nodeGroup:NodeGroup",
        "name": "llm-gpu",
        "inputs": {
            "instanceTypes": ["p5en.48xlarge"],
            "scalingConfig": {"minSize": 0, "desiredSize": 0, "maxSize": 3},
        },
    }
    deployment = {
        "type": "kubernetes:apps/v1:Deployment",
        "name": "llm",
        "inputs": {
            "spec": {
                "replicas": 2,
                "template": {
                    "spec": {"containers": [{"resources": {"limits": {"nvidia.com/gpu": "2"}}}]}
                },
            }
        },
    }
    scaler = {
        "type": "kubernetes:keda.sh/v1alpha1:ScaledObject",
        "name": "llm",
        "inputs": {"spec": {"maxReplicaCount": 3, "minReplicaCount": 2}},
    }
    cost = price_plan([node_group, deployment, scaler], "aws", "eu-north-1", 1)
    (gpu,) = [i for i in cost["items"] if i["component"].startswith("GPU nodes")]
    # minReplicaCount 2 keeps the one node both replicas share running, even at the least.
    assert gpu["monthlyQuantity"] == {
        "min": HOURS_PER_MONTH,
        "expected": HOURS_PER_MONTH,
        "max": HOURS_PER_MONTH,
    }


@pytest.mark.parametrize(
    ("replicas", "gpu", "key", "words"),
    [
        ({"min": 2, "max": 2}, {"maxNodes": 1}, "replicas.min", "hold at most 1 replica"),
        ({"min": 1, "max": 50}, {"maxNodes": 2}, "replicas.max", "raise gpu.maxNodes to 50"),
        ({"min": 1, "max": 2}, {"minNodes": 3, "maxNodes": 3}, "gpu.minNodes", "never run"),
    ],
)
def test_pool_bounds_must_hold_the_replicas(
    replicas: dict[str, int], gpu: dict[str, int], key: str, words: str
) -> None:
    config = _stack(
        model={"id": "meta-llama/Llama-3.1-8B-Instruct", "concurrency": 2},
        gpu={"shape": "g6.xlarge", **gpu},
        replicas=replicas,
    )
    with pytest.raises(SettingsError) as caught:
        serving_for(parse("bounds", config))
    assert caught.value.key == f"llmplane:{key}"
    assert words in str(caught.value)
