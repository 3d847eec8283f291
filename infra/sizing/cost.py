"""Plan -> cost items, as Infracost does for Terraform: resource -> components -> monthly cost.

Pure: reads a Plan's resources and the catalog, never a cloud API. Every figure is an estimate at
list prices; GPU pools are priced at their minimum, expected and maximum node counts, and
usage-billed components (NAT data, registry storage) are listed apart from the totals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .line_items import GKE_ZONES, HOURS_PER_MONTH, PRICERS, Context, CostItem, Resource
from .packing import Packing, expected_gpu_nodes, packing

# The packing names are listed too: infra/offline and the tests import them from here.
__all__ = [
    "ASSUMPTIONS",
    "GKE_ZONES",
    "HOURS_PER_MONTH",
    "Packing",
    "expected_gpu_nodes",
    "packing",
    "price_plan",
]

ASSUMPTIONS = {
    "hoursPerMonth": HOURS_PER_MONTH,
    "prices": "list prices from infra/sizing/catalog (each item names its source and date)",
    "minGpuNodes": "the nodes replicas.min replicas keep running (KEDA's minReplicaCount), "
    "packed the same way, within the pool's bounds; none when replicas.min is 0",
    "gkeZonesPerRegionalPool": GKE_ZONES,
    "expectedGpuNodes": "enough nodes for replicas.min replicas (at least one), replicas "
    "sharing a node where its GPUs allow, within the pool's bounds",
    "maxGpuNodes": "the nodes the autoscaler's most replicas take, packed the same way, within "
    "the pool's bounds: a node no replica needs is never added",
}


def price_plan(
    resources: Sequence[Resource], cloud: str, region: str | None, expected_gpu_nodes: int
) -> dict[str, Any]:
    """The `cost` section of a Plan: items, usage-based items, totals and assumptions."""
    if region is None:
        return {
            "estimate": True,
            "currency": "USD",
            "note": "an existing cluster: its nodes and control plane are not llmplane's to price",
            "items": [],
            "usageBased": [],
            "unpriced": [],
            "monthly": {"min": 0.0, "expected": 0.0, "max": 0.0},
            "assumptions": ASSUMPTIONS,
        }
    templates = {
        r["name"]: r for r in resources if r["type"] == "aws:ec2/launchTemplate:LaunchTemplate"
    }
    ctx = Context(cloud, region, expected_gpu_nodes, templates, _replica_bounds(resources))
    for resource in resources:
        pricer = PRICERS.get(resource["type"])
        if pricer is not None:
            pricer(ctx, resource)
    priced = [item for item in ctx.items if item.unit_price is not None]
    fixed = [item for item in priced if not item.usage_based]
    totals = {
        # fsum: the total must not depend on the order the items come in (it follows URNs).
        level: round(math.fsum(getattr(item.monthly(), level) for item in fixed), 2)
        for level in ("min", "expected", "max")
    }
    return {
        "estimate": True,
        "currency": "USD",
        "region": region,
        "items": [_item_json(item) for item in fixed],
        "usageBased": [_item_json(item) for item in priced if item.usage_based],
        "unpriced": [
            {"resource": i.resource, "component": i.component, "reason": i.source}
            for i in ctx.items
            if i.unit_price is None
        ],
        "monthly": totals,
        "hourly": {level: round(value / HOURS_PER_MONTH, 4) for level, value in totals.items()},
        "assumptions": ASSUMPTIONS,
    }


SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
GPU_RESOURCE = "nvidia.com/gpu"


def _replica_bounds(resources: Sequence[Resource]) -> tuple[int, int, int] | None:
    """The GPU Deployment's fewest and most replicas, and the GPUs each takes.

    KEDA's minReplicaCount and maxReplicaCount where a ScaledObject scales it, else its own
    replica count for both. None unless the plan has exactly one Deployment asking for GPUs.
    """
    found: list[tuple[int, int, int]] = []
    scaled = [r["inputs"]["spec"] for r in resources if r["type"] == SCALED_OBJECT]
    for r in resources:
        if r["type"] != "kubernetes:apps/v1:Deployment":
            continue
        spec = r["inputs"].get("spec") or {}
        pod = (spec.get("template") or {}).get("spec") or {}
        gpus = sum(
            int(((c.get("resources") or {}).get("limits") or {}).get(GPU_RESOURCE, 0))
            for c in pod.get("containers") or []
        )
        if not gpus:
            continue
        own = int(spec.get("replicas", 1))
        if scaled:
            least = min(int(s.get("minReplicaCount", 0)) for s in scaled)
            most = max(int(s.get("maxReplicaCount", 0)) for s in scaled)
        else:
            least = most = own
        found.append((least, most, gpus))
    return found[0] if len(found) == 1 else None


def _item_json(item: CostItem) -> dict[str, Any]:
    monthly = item.monthly()
    assert monthly is not None
    quantity = item.monthly_quantity
    return {
        "resource": item.resource,
        "component": item.component,
        "unit": item.unit,
        "unitPrice": item.unit_price,
        "monthlyQuantity": {
            "min": quantity.min,
            "expected": quantity.expected,
            "max": quantity.max,
        },
        "monthly": {
            "min": round(monthly.min, 2),
            "expected": round(monthly.expected, 2),
            "max": round(monthly.max, 2),
        },
        "source": item.source,
        "asOf": item.as_of,
    }
