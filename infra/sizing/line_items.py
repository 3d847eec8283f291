"""A Plan's resources -> priced line items: the item types, and one pricer per resource type."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .catalog import fee_or_proxy, prices, shapes, system_price
from .packing import packing

__all__ = [
    "GKE_ZONES",
    "HOURS_PER_MONTH",
    "PRICERS",
    "Context",
    "CostItem",
    "Counts",
    "Resource",
]

# Hours in a month as the clouds' price calculators count them: every $/month figure uses it.
HOURS_PER_MONTH = 730
# A regional GKE node pool puts its per-zone node count in each of the region's zones.
GKE_ZONES = 3

Resource = Mapping[str, Any]


@dataclass(frozen=True)
class Counts:
    """How many of a component run at the pool's minimum, expected and maximum size."""

    min: float
    """At the fewest nodes."""
    expected: float
    """At the size the stack normally runs at."""
    max: float
    """At the most nodes."""

    @staticmethod
    def fixed(count: float) -> Counts:
        """The same count whatever the pools do."""
        return Counts(count, count, count)

    def times(self, factor: float) -> Counts:
        """Every count multiplied by `factor`."""
        return Counts(self.min * factor, self.expected * factor, self.max * factor)


@dataclass(frozen=True)
class CostItem:
    """One priced component of one resource (an estimate)."""

    resource: str
    """The Pulumi resource name."""
    component: str
    """What is charged, e.g. 'GPU nodes (g6.xlarge, spot)'."""
    unit: str
    """The unit priced: hour, month, GB-month (one of it, as a price reads: $/hour)."""
    unit_price: float | None
    """USD per unit; None where the catalog has no sourced figure."""
    monthly_quantity: Counts
    """Units per month at the min, expected and max size."""
    source: str
    """Where the unit price comes from."""
    as_of: str
    """When it was taken."""
    usage_based: bool = False
    """Billed by use (GB processed, GB stored); kept out of the totals."""

    def monthly(self) -> Counts | None:
        """USD per month at min, expected and max; None when the price is unknown."""
        if self.unit_price is None:
            return None
        return self.monthly_quantity.times(self.unit_price)


@dataclass(frozen=True)
class Context:
    """What pricing needs beyond a resource's inputs."""

    cloud: str
    """The stack's cloud."""
    region: str
    """Its region (Azure: location)."""
    expected_gpu_nodes: int
    """GPU nodes the stack runs at its minimum replica count."""
    launch_templates: Mapping[str, Resource]
    """EKS launch templates by name: node groups take their disks from them."""
    replicas: tuple[int, int, int] | None = None
    """The GPU workload's fewest and most replicas and GPUs per replica, if the plan says."""
    items: list[CostItem] = field(default_factory=lambda: [])
    """Collected items."""

    def add_fee(
        self, resource: Resource, item: str, component: str, quantity: Counts, usage: bool = False
    ) -> None:
        """Price `quantity` units of a catalog fee; record the gap if the catalog lacks it."""
        found, _ = fee_or_proxy(self.cloud, item, self.region)
        self.items.append(
            CostItem(
                resource=resource["name"],
                component=component,
                unit=_UNITS.get(found.unit, found.unit) if found else item,
                unit_price=found.usd if found else None,
                monthly_quantity=quantity,
                source=found.source if found else "not in the catalog: fees.csv has no row",
                as_of=found.as_of if found else "",
                usage_based=usage,
            )
        )


_UNITS = {"vm_hour": "VM-hour"}
HOURS = Counts.fixed(HOURS_PER_MONTH)
ONE = Counts.fixed(1)
# Storage a registry holds for one stack: the cached engine image, about 10 GB.
REGISTRY_GB = 10.0


def _nodes(
    ctx: Context, resource: Resource, shape: str, counts: Counts, spot: bool, disk_gb: float
) -> None:
    """Node-hours of one pool at its shape's price, and its disks."""
    gpu_shape = shapes(ctx.cloud).get(shape)
    if gpu_shape is not None:
        price = prices(ctx.cloud).get((shape, ctx.region))
        hourly = price.hourly(spot) if price is not None else None
        kind = f"GPU nodes ({shape}{', spot' if spot else ''})"
        source = price.source if price else f"not in the catalog: no {shape} price in {ctx.region}"
        as_of = price.as_of if price else ""
    else:
        system = system_price(ctx.cloud, shape, ctx.region)
        hourly = system.on_demand if system else None
        kind = f"system nodes ({shape})"
        source = system.source if system else f"not in the catalog: no {shape} price"
        as_of = system.as_of if system else ""
    ctx.items.append(
        CostItem(
            resource["name"], kind, "hour", hourly, counts.times(HOURS_PER_MONTH), source, as_of
        )
    )
    if disk_gb:
        ctx.add_fee(
            resource, "disk_ssd", f"node disks ({disk_gb:g} GB each)", counts.times(disk_gb)
        )


def _gpu_counts(ctx: Context, low: int, high: int, shape: str) -> Counts:
    """A GPU pool at its fewest nodes, at what the replicas normally need, and at its most.

    Its fewest is what the fewest replicas keep running (a pool may scale to zero, but not
    below a replica KEDA keeps), and its most what the most replicas take, packed: the
    autoscaler adds a node only for a replica that fits on none, so a pool bound above that is
    never reached.
    """
    top, least = high, low
    gpu_shape = shapes(ctx.cloud).get(shape)
    if ctx.replicas is not None and gpu_shape is not None:
        fewest, most, per_replica = ctx.replicas
        top = min(high, max(low, packing(most, per_replica, gpu_shape.gpu_count).nodes))
        if fewest > 0:
            least = min(top, max(low, packing(fewest, per_replica, gpu_shape.gpu_count).nodes))
    return Counts(least, min(top, max(least, ctx.expected_gpu_nodes)), top)


def _pool_counts(ctx: Context, shape: str, low: int, desired: int, high: int) -> Counts:
    """A GPU pool runs what the replicas need; a system pool its desired size."""
    if shape in shapes(ctx.cloud):
        return _gpu_counts(ctx, low, high, shape)
    return Counts(low, desired, high)


def _eks_node_group(ctx: Context, r: Resource) -> None:
    inputs, scaling = r["inputs"], r["inputs"].get("scalingConfig", {})
    shape = inputs["instanceTypes"][0]
    low, high = int(scaling.get("minSize", 0)), int(scaling.get("maxSize", 0))
    counts = _pool_counts(ctx, shape, low, scaling.get("desiredSize", low), high)
    # The node group's launch template of the same name holds its root volume.
    template = ctx.launch_templates.get(r["name"], {"inputs": {}})
    disk = sum(
        float(mapping.get("ebs", {}).get("volumeSize", 0))
        for mapping in template["inputs"].get("blockDeviceMappings", [])
    )
    _nodes(ctx, r, shape, counts, inputs.get("capacityType") == "SPOT", disk)


def _aks_cluster(ctx: Context, r: Resource) -> None:
    tier = str((r["inputs"].get("sku") or {}).get("tier", "Free")).lower()
    ctx.add_fee(r, f"control_plane_{tier}", f"AKS control plane ({tier} tier)", HOURS)
    for pool in r["inputs"].get("agentPoolProfiles", []):
        _aks_pool(ctx, r, pool)


def _aks_pool(ctx: Context, r: Resource, pool: Mapping[str, Any]) -> None:
    shape = pool["vmSize"]
    low, high = int(pool.get("minCount", pool.get("count", 0))), int(pool.get("maxCount", 0))
    is_gpu = shape in shapes(ctx.cloud)
    counts = _pool_counts(ctx, shape, low, pool.get("count", low), high)
    spot = pool.get("scaleSetPriority") == "Spot"
    # A GPU size's ephemeral OS disk lives on its own temp disk and costs nothing extra.
    disk = 0 if is_gpu else float(pool.get("osDiskSizeGB", 0))
    _nodes(ctx, r, shape, counts, spot, disk)


def _gke_pool(ctx: Context, r: Resource) -> None:
    inputs = r["inputs"]
    config, scaling = inputs.get("nodeConfig", {}), inputs.get("autoscaling")
    shape = config["machineType"]
    if scaling:
        counts = _gpu_counts(
            ctx,
            int(scaling.get("totalMinNodeCount", 0)),
            int(scaling.get("totalMaxNodeCount", 0)),
            shape,
        )
    else:
        counts = Counts.fixed(int(inputs.get("nodeCount", 1)) * GKE_ZONES)
    _nodes(ctx, r, shape, counts, bool(config.get("spot")), float(config.get("diskSizeGb", 0)))
    ctx.add_fee(r, "nat_gateway", "Cloud NAT (per VM-hour)", counts.times(HOURS_PER_MONTH))


def _vpc_endpoint(ctx: Context, r: Resource) -> None:
    # Gateway endpoints (S3) are free; interface endpoints are billed per AZ-hour.
    if r["inputs"].get("vpcEndpointType") == "Interface":
        zones = len(r["inputs"].get("subnetIds") or [])
        ctx.add_fee(r, "vpc_endpoint", f"interface endpoint ({zones} AZs)", HOURS.times(zones))


def _registry_storage(ctx: Context, r: Resource) -> None:
    ctx.add_fee(
        r, "registry_storage", "registry storage (GB-months)", Counts.fixed(REGISTRY_GB), True
    )


def _nat(ctx: Context, r: Resource) -> None:
    ctx.add_fee(r, "nat_gateway", "NAT gateway", HOURS)
    ctx.add_fee(r, "nat_data", "NAT data processed (per GB)", ONE, usage=True)


def _fee(item: str, component: str, quantity: Counts) -> Callable[[Context, Resource], None]:
    """A pricer that charges one catalog fee per resource."""
    return lambda ctx, r: ctx.add_fee(r, item, component, quantity)


def _hsm(r: Resource) -> bool:
    template = r["inputs"].get("versionTemplate") or {}
    return template.get("protectionLevel") == "HSM"


def _load_balancers(ctx: Context, r: Resource) -> None:
    if (r["inputs"].get("spec") or {}).get("type") == "LoadBalancer":
        ctx.add_fee(r, "load_balancer", "load balancer", HOURS)


PRICERS: dict[str, Callable[[Context, Resource], None]] = {
    "aws:eks/cluster:Cluster": _fee("control_plane", "EKS control plane", HOURS),
    "aws:eks/nodeGroup:NodeGroup": _eks_node_group,
    "aws:ec2/natGateway:NatGateway": _nat,
    "aws:ec2/eip:Eip": _fee("public_ip", "public IPv4 address", HOURS),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:kms/key:Key": _fee("kms_key", "KMS customer managed key", ONE),
    "aws:ecr/repository:Repository": _registry_storage,
    "aws:efs/fileSystem:FileSystem": lambda c, r: c.add_fee(
        r, "shared_cache_storage", "EFS weights cache (GB-months)", Counts.fixed(1), usage=True
    ),
    "azure-native:containerservice:ManagedCluster": _aks_cluster,
    "azure-native:containerservice:AgentPool": lambda c, r: _aks_pool(c, r, r["inputs"]),
    "azure-native:network:NatGateway": _nat,
    "azure-native:network:PublicIPAddress": _fee("public_ip", "public IPv4 address", HOURS),
    "azure-native:keyvault:Key": _fee("kms_key", "Key Vault HSM key", ONE),
    "azure-native:containerregistry:Registry": _fee("registry", "Container Registry Premium", ONE),
    "gcp:container/cluster:Cluster": _fee("control_plane", "GKE cluster management", HOURS),
    "gcp:container/nodePool:NodePool": _gke_pool,
    "gcp:compute/routerNat:RouterNat": lambda c, r: c.add_fee(
        r, "nat_data", "Cloud NAT data processed (per GiB)", ONE, usage=True
    ),
    "gcp:kms/cryptoKey:CryptoKey": lambda c, r: c.add_fee(
        r, "kms_key_hsm" if _hsm(r) else "kms_key", "Cloud KMS key version", ONE
    ),
    "gcp:artifactregistry/repository:Repository": _registry_storage,
    "kubernetes:core/v1:Service": _load_balancers,
}
