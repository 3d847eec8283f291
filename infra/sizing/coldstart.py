"""Seconds from a request at zero replicas to the first token, as a sum of parts (pure; estimates).

The parts, in order: GPU node provisioning (per cloud and shape), the engine image pull (its
compressed size over the registry's pull rate), the weights (size over the source's bandwidth)
and the engine's warm-up. Every figure is a row of catalog/coldstart.csv; COLDSTART_NOTES.md
says where each comes from and which are judgements. The activator's wait, the startup probe
and smoke's --wait are all derived here, so that they cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any, Literal

from llmplane.components.kubernetes.engines import ENGINES
from llmplane.components.kubernetes.streamer import STREAMING_ENGINES

from .catalog import rows, shapes
from .workload import MIN_STARTUP_SECONDS, STARTUP_MARGIN

__all__ = [
    "NOTES",
    "ColdStart",
    "ImageSource",
    "Part",
    "WeightsSource",
    "budget",
    "cold_start",
    "figure",
    "probe_budget",
    "shared_cache",
]

ImageSource = Literal["mirror", "public"]
"""Where the engine image comes from: the stack's same-region registry mirror, or upstream."""
WeightsSource = Literal["hub", "cache", "bucket"]
"""Where the weights come from: the Hugging Face Hub, the warm shared cache, or a bucket."""

FILE = "coldstart.csv"
NOTES = "infra/sizing/catalog/COLDSTART_NOTES.md"
MB = 1e6
GB = 1e9
# The engines whose images load weights straight from an object store (Run:ai Model Streamer):
# vLLM's --load-format runai_streamer, SGLang's since sgl-project/sglang#17948. TGI has none.
LABELS = {"node": "GPU node", "image": "image", "weights": "weights", "warmup": "warm-up"}
REGISTRIES = {"mirror": "the same-region private mirror", "public": "the public registry"}
# Where a cluster without a listed cloud (an existing one) finds its node figure.
EXISTING = "kubernetes"


@dataclass(frozen=True)
class Figure:
    """One coldstart.csv row as a lookup used it."""

    value: float
    """The figure, in the row's unit."""
    unit: str
    """s, GB or MB/s."""
    basis: str
    """What the figure assumes (safe to print)."""
    cloud: str
    """The row's cloud; * where it holds for every cloud."""
    pattern: str
    """The row's key: a name, or a pattern such as g* that a family of names matches."""
    ref: str
    """Which row it is, for the part's source reference."""
    fallback: str | None
    """Why a family or default row stood in for the one asked about; None when it matched."""


def _lookup(part: str, cloud: str | None, key: str) -> Figure | None:
    """The best row for `key`: its exact key over a pattern, this cloud's over any cloud's."""
    best: tuple[tuple[bool, bool, int], Mapping[str, str]] | None = None
    for row in rows(FILE):
        if row["part"] != part or row["cloud"] not in (cloud, "*"):
            continue
        pattern = row["key"]
        if not fnmatchcase(key, pattern):
            continue
        rank = (pattern == key, row["cloud"] != "*", len(pattern.replace("*", "")))
        if best is None or rank > best[0]:
            best = (rank, row)
    if best is None:
        return None
    row = best[1]
    pattern = row["key"]
    # A family pattern is how a shape is meant to match; only the catch-all is a stand-in.
    fallback = None
    if pattern == "*" and key != "*":
        asked = f"{key!r} has no figure of its own" if key else "none given"
        where = "" if row["cloud"] == "*" else f"{row['cloud']} "
        fallback = f"{asked}: the {where}default"
    return Figure(
        value=float(row["value"]),
        unit=row["unit"],
        basis=row["basis"],
        cloud=row["cloud"],
        pattern=pattern,
        ref=f"{FILE} {part} {row['cloud']} {pattern} ({row['as_of']})",
        fallback=fallback,
    )


def figure(part: str, cloud: str | None, key: str) -> Figure:
    """The coldstart.csv figure for `key`; a ValueError naming what is missing if none fits."""
    found = _lookup(part, cloud, key)
    if found is None:
        raise ValueError(f"{FILE} has no {part} figure for {key!r} on {cloud or 'any cloud'}")
    return found


def shared_cache(cloud: str | None) -> Figure | None:
    """The cloud's shared weights cache (its read and write rate), None where there is none."""
    found = _lookup("weights", cloud, "cache")
    return found if found is not None and found.cloud == cloud else None


@dataclass(frozen=True)
class Part:
    """One step of the cold start, in whole seconds (rounded up), with what it rests on."""

    name: str
    """node, image, weights or warmup."""
    seconds: int
    """Its duration: an estimate."""
    basis: str
    """The arithmetic and its assumptions, safe to print."""
    source: str
    """The coldstart.csv rows it uses; COLDSTART_NOTES.md gives their public sources."""

    @property
    def label(self) -> str:
        """How the one-line summary names the part."""
        return LABELS[self.name]


def budget(seconds: float, margin: float = STARTUP_MARGIN) -> int:
    """A wait covering `seconds` with the margin, rounded up to a minute, at least the floor."""
    return max(MIN_STARTUP_SECONDS, math.ceil(seconds * margin / 60) * 60)


@dataclass(frozen=True)
class ColdStart:
    """The cold start from zero replicas to the first token, part by part (an estimate)."""

    parts: tuple[Part, ...]
    """Node (absent when a GPU node is already up), image, weights, warm-up, in that order."""
    margin: float = STARTUP_MARGIN
    """Factor on an estimate before a wait gives up on it."""

    def seconds(self, *names: str) -> int:
        """The named parts' seconds together."""
        return sum(part.seconds for part in self.parts if part.name in names)

    @property
    def total_seconds(self) -> int:
        """Every part: from the first request at zero replicas to the first token."""
        return sum(part.seconds for part in self.parts)

    @property
    def node_seconds(self) -> int:
        """GPU node provisioning; 0 where a node is already up."""
        return self.seconds("node")

    @property
    def pod_seconds(self) -> int:
        """Image + weights + warm-up: the pod's share, once a node exists."""
        return self.seconds("image", "weights", "warmup")

    @property
    def probe_seconds(self) -> int:
        """Startup-probe budget: weights + warm-up with the margin.

        Kubelet pulls the image before the container starts, so the probe's clock starts after
        the image part; the Deployment's progress deadline must cover node and image.
        """
        return budget(self.seconds("weights", "warmup"), self.margin)

    @property
    def timeout_seconds(self) -> int:
        """What the activator's wait and smoke's --wait use: the total with the margin."""
        return budget(self.total_seconds, self.margin)

    def line(self) -> str:
        """One line, e.g. `cold start ≈ 412 s (estimate): GPU node 240 s + image 61 s + ...`."""
        steps = " + ".join(f"{part.label} {part.seconds} s" for part in self.parts)
        return f"cold start ≈ {self.total_seconds} s (estimate): {steps}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready and deterministic: whole seconds, parts in order, the margin stated."""
        return {
            "estimate": True,
            "summary": self.line(),
            "totalSeconds": self.total_seconds,
            "nodeSeconds": self.node_seconds,
            "podSeconds": self.pod_seconds,
            "startupProbeSeconds": self.probe_seconds,
            "timeoutSeconds": self.timeout_seconds,
            "margin": self.margin,
            "marginRule": f"x{self.margin:g}, rounded up to a minute, at least "
            f"{MIN_STARTUP_SECONDS} s",
            "parts": [
                {"name": p.name, "seconds": p.seconds, "basis": p.basis, "source": p.source}
                for p in self.parts
            ],
            "sources": NOTES,
        }


def _part(name: str, seconds: float, basis: str, *figures: Figure) -> Part:
    """A part in whole seconds; any stand-in figure says so in the basis."""
    notes = [f.fallback for f in figures if f.fallback]
    text = f"{basis} ({'; '.join(notes)})" if notes else basis
    return Part(name, math.ceil(seconds), text, "; ".join(f.ref for f in figures))


def node_part(cloud: str | None, shape: str | None) -> Part:
    """GPU node provisioning: VM boot, cluster join, driver and device plugin ready."""
    site = cloud or EXISTING
    found = figure("node", site, shape or "")
    where = f"{shape} on {site}" if shape else f"a GPU node on {site}"
    if shape and found.fallback is None and shape not in shapes(site):
        # Matched a family pattern, but the shape is not one the catalog knows.
        note = f"{shape!r} is not a catalog shape: the {site} {found.pattern} family figure"
        found = replace(found, fallback=note)
    return _part("node", found.value, f"{where}: {found.basis}", found)


def _engine(engine: str) -> str:
    """The engine's pinned image; a ValueError listing the engines llmplane knows otherwise."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: use one of {', '.join(sorted(ENGINES))}")
    return ENGINES[engine].image


def image_part(engine: str, source: ImageSource, cloud: str | None = None) -> Part:
    """The engine image pull: compressed size over the registry's pull rate (with unpacking)."""
    image = _engine(engine)
    size = figure("image", cloud, image)
    rate = figure("pull", cloud, source)
    basis = (
        f"{image} ≈ {size.value:g} GB compressed, from {REGISTRIES[source]} at "
        f"{rate.value:g} MB/s including unpacking"
    )
    return _part("image", size.value * GB / (rate.value * MB), basis, size, rate)


def weights_part(
    weights_bytes: float,
    source: WeightsSource,
    cloud: str | None = None,
    shards: int = 1,
    engine: str | None = None,
) -> Part:
    """Weights into GPU memory: from the Hub, the warm shared cache, or a bucket.

    A Hub download lands in the shared cache where the cluster has one (HF_HOME is the cache
    volume), else on the node's local disk.
    """
    if weights_bytes <= 0 or shards < 1:
        raise ValueError(f"weights_bytes ({weights_bytes}) and shards ({shards}) must be positive")
    size = f"{weights_bytes / GB:.1f} GB"
    cache = shared_cache(cloud)
    if source == "bucket":
        if engine not in STREAMING_ENGINES:
            raise ValueError(
                f"{engine or 'this engine'} cannot stream weights from a bucket: the Run:ai "
                f"Model Streamer loads them for {' and '.join(STREAMING_ENGINES)} only"
            )
        rate = figure("weights", cloud, "bucket")
        basis = f"{size} streamed from a bucket at {rate.value:g} MB/s: {rate.basis}"
        return _part("weights", weights_bytes / (rate.value * MB), basis, rate)
    if source == "cache":
        if cache is None:
            raise ValueError(f"{cloud or EXISTING} has no shared weights cache: use hub or bucket")
        basis = f"{size} read from the warm shared cache at {cache.value:g} MB/s: {cache.basis}"
        return _part("weights", weights_bytes / (cache.value * MB), basis, cache)
    hub = figure("weights", cloud, "hub")
    if cache is None:
        # emptyDir on the node: download, then each GPU reads its shard from local disk.
        disk = figure("weights", cloud, "local")
        seconds = weights_bytes / (hub.value * MB) + weights_bytes / shards / (disk.value * MB)
        basis = (
            f"{size} from the Hugging Face Hub at {hub.value:g} MB/s to local disk, then "
            f"{disk.value:g} MB/s into each of {shards} GPU(s)"
        )
        return _part("weights", seconds, basis, hub, disk)
    # HF_HOME is the shared cache: the download is written there, then read back from it.
    landing = min(hub.value, cache.value)
    seconds = weights_bytes / (landing * MB) + weights_bytes / (cache.value * MB)
    basis = (
        f"{size} from the Hugging Face Hub at {landing:g} MB/s into the shared cache, then "
        f"read back at {cache.value:g} MB/s: {cache.basis}"
    )
    return _part("weights", seconds, basis, hub, cache)


def warmup_part(engine: str | None) -> Part:
    """Engine warm-up after the weights are in: compile, CUDA graphs, KV cache, a test batch."""
    found = figure("warmup", None, engine or "")
    return _part("warmup", found.value, found.basis, found)


def cold_start(
    cloud: str | None,
    shape: str | None,
    engine: str,
    image_source: ImageSource,
    weights_bytes: float,
    weights_source: WeightsSource,
    shards: int = 1,
    node_ready: bool | None = None,
) -> ColdStart:
    """The cold start of one replica on `shape` (estimate).

    node_ready: whether a GPU node is already up. By default it is on an existing cluster
    (cloud None or "kubernetes"), whose nodes llmplane does not provision, and is not on a
    managed pool that scales from zero.
    """
    _engine(engine)
    ready = node_ready if node_ready is not None else cloud in (None, EXISTING)
    parts = [] if ready else [node_part(cloud, shape)]
    parts += [
        image_part(engine, image_source, cloud),
        weights_part(weights_bytes, weights_source, cloud, shards, engine),
        warmup_part(engine),
    ]
    return ColdStart(tuple(parts))


def probe_budget(
    weights_bytes: float,
    shards: int,
    engine: str | None = None,
    cloud: str | None = None,
    weights_source: WeightsSource = "hub",
) -> int:
    """The startup probe's budget without a whole cold start: weights + warm-up, with the margin.

    With no engine and no cloud it is fit.startup_seconds' figure: a Hub download to local disk
    and the engine-agnostic warm-up.
    """
    weights = weights_part(weights_bytes, weights_source, cloud, shards, engine)
    return budget(weights.seconds + warmup_part(engine).seconds)
