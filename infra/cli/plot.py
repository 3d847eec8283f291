"""A bar chart of `llmplane compare` results, to paste into a design document."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..sizing.compare import Row


def bar_chart(path: Path, results: Sequence[tuple[str, Sequence[Row]]], spot: bool) -> None:
    """$/month per cloud region, one panel per model, labelled as estimates."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and CI
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(results), 1, figsize=(10, 3.2 * len(results)), squeeze=False)
    colours = {"aws": "#ff9900", "azure": "#0078d4", "gcp": "#34a853"}
    for (model, rows), axis in zip(results, axes[:, 0], strict=True):
        labels = [
            f"{row.cloud} {row.region}\n{row.option.fit.shape.name}"
            + (f" on {row.option.fit.pipeline} nodes" if row.multi_node else "")
            for row in rows
        ]
        values = [row.monthly_usd for row in rows]
        axis.bar(labels, values, color=[colours[row.cloud] for row in rows])
        axis.set_title(f"{model}: estimated $/month ({'spot' if spot else 'on-demand'})")
        axis.set_ylabel("USD per month (estimate)")
        axis.tick_params(axis="x", labelsize=7, labelrotation=60)
    figure.text(
        0.01,
        0.005,
        "Estimates: list prices from llmplane's catalog, every GPU node the replicas take "
        "(packed) 730 h plus fixed fees; 'on N nodes': a multi-node layout llmplane cannot "
        "deploy yet.",
        fontsize=7,
    )
    figure.tight_layout(rect=(0, 0.02, 1, 1))
    figure.savefig(path, dpi=120)
    plt.close(figure)
