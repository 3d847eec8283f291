"""A bar chart of `llmplane compare` results, to paste into a design document."""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..config.errors import SettingsError
from ..sizing.compare import Row
from .grammar import in_kernel_fs

if TYPE_CHECKING:  # matplotlib loads only when a chart is asked for
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# What matplotlib writes without extra libraries, by file ending.
FORMATS = (".png", ".svg", ".pdf")

COLOURS = {"aws": "#ff9900", "azure": "#0078d4", "gcp": "#34a853"}
OTHER_COLOUR = "#888888"
MULTI_NODE_HATCH = "///"
MULTI_NODE_LABEL = "multi-node layout, not deployable yet"
FIGURE_WIDTH = 11.0
ROW_INCHES = 0.26  # per bar
PANEL_INCHES = 1.1  # per model: its title and x axis


def check_plot_path(path: Path) -> None:
    """Refuse a --plot file that cannot be written, before anything is computed or printed."""
    if path.suffix.lower() not in FORMATS:
        raise SettingsError(
            "-",
            "--plot",
            f"{path} has no chart file ending",
            f"end the name with one of: {', '.join(FORMATS)}",
        )
    folder = path.parent
    if not folder.is_dir():
        raise SettingsError(
            "-", "--plot", f"the folder {folder} does not exist", "create it, or name another file"
        )
    if path.is_dir():
        raise SettingsError("-", "--plot", f"{path} is a folder", "name a file to write")
    if in_kernel_fs(path) or not os.access(folder, os.W_OK):
        raise SettingsError("-", "--plot", f"cannot write to {folder}", "name a writable folder")


def write_chart(path: Path, results: Sequence[tuple[str, Sequence[Row]]], spot: bool) -> None:
    """bar_chart into a temporary file beside `path`, then moved into place: all or nothing."""
    check_plot_path(path)
    temporary = ""
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent
        )
        os.close(handle)
        bar_chart(Path(temporary), results, spot)
        os.replace(temporary, path)
    except OSError as error:
        raise SettingsError(
            "-", "--plot", f"cannot write {path} ({error.strerror})", "name a writable file"
        ) from None
    finally:
        if temporary:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def bar_chart(path: Path, results: Sequence[tuple[str, Sequence[Row]]], spot: bool) -> None:
    """chart_figure written to `path` (the ending picks the format)."""
    import matplotlib.pyplot as plt

    figure = chart_figure(results, spot)
    try:
        figure.savefig(path, dpi=120)
    finally:
        plt.close(figure)


def chart_figure(results: Sequence[tuple[str, Sequence[Row]]], spot: bool) -> Figure:
    """Horizontal bars of $/month on a log axis, one panel per model, labelled as estimates.

    Each bar is one cloud region, coloured by cloud (with a legend), named by region and shape
    on the left, and labelled with its $/month and the GPUs one replica takes on the right.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers and CI
    import matplotlib.pyplot as plt

    heights = [len(rows) * ROW_INCHES + PANEL_INCHES for _, rows in results]
    figure, axes = plt.subplots(
        len(results),
        1,
        figsize=(FIGURE_WIDTH, sum(heights) + 1.3),
        squeeze=False,
        layout="constrained",
        gridspec_kw={"height_ratios": heights},
    )
    prices = "spot" if spot else "on-demand"
    figure.suptitle(
        f"Estimated $/month to serve each model, by cloud region ({prices} list prices): "
        "estimates, not quotes",
        fontsize=11,
    )
    for (model, rows), axis in zip(results, axes[:, 0], strict=True):
        _panel(axis, model, rows)
    figure.supxlabel(_footnote(results), x=0.01, ha="left", fontsize=7, color="#444444")
    _fit_labels(figure)
    return figure


def _panel(axis: Axes, model: str, rows: Sequence[Row]) -> None:
    """One model's bars, their labels, the log $/month axis and the clouds' legend."""
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    positions = list(range(len(rows)))
    values = [row.monthly_usd for row in rows]
    bars = axis.barh(
        positions,
        values,
        color=[COLOURS.get(row.cloud, OTHER_COLOUR) for row in rows],
        hatch=[MULTI_NODE_HATCH if row.multi_node else "" for row in rows],
        edgecolor="white",
        height=0.72,
    )
    axis.set_yticks(positions, [f"{row.cloud} {row.region} · {_shape(row)}" for row in rows])
    axis.tick_params(axis="y", labelsize=8, length=0)
    axis.invert_yaxis()  # the first row (the cheapest single machine) on top
    axis.set_xscale("log")
    axis.set_xlim(_floor_125(min(values) / 2), max(values) * 1.2)  # widened by _fit_labels
    axis.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: _dollars(value)))
    axis.xaxis.set_minor_formatter(NullFormatter())
    axis.tick_params(axis="x", labelsize=8)
    axis.grid(axis="x", which="major", color="#dddddd", linewidth=0.6)
    axis.set_axisbelow(True)
    axis.set_xlabel("USD per month, log scale (estimate)", fontsize=8)
    axis.set_title(model, fontsize=10, loc="left")
    for spine in ("top", "right"):
        axis.spines[spine].set_visible(False)
    for bar, row in zip(bars, rows, strict=True):
        axis.annotate(
            bar_label(row),
            xy=(bar.get_width(), bar.get_y() + bar.get_height() / 2),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=7.5,
        )
    present = {row.cloud for row in rows}
    clouds = [cloud for cloud in COLOURS if cloud in present] + sorted(present - set(COLOURS))
    handles = [Patch(color=COLOURS.get(cloud, OTHER_COLOUR), label=cloud) for cloud in clouds]
    if any(row.multi_node for row in rows):
        handles.append(
            Patch(
                facecolor="#bbbbbb",
                hatch=MULTI_NODE_HATCH,
                edgecolor="white",
                label=MULTI_NODE_LABEL,
            )
        )
    # Above the bars, right of the model's name: clear of every bar and label.
    axis.legend(
        handles=handles,
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncol=len(handles),
        fontsize=8,
        frameon=False,
        borderaxespad=0.2,
    )


def _fit_labels(figure: Figure) -> None:
    """Widen each log axis to the right until every bar's label ends inside it."""
    from matplotlib.text import Annotation

    figure.canvas.draw()
    for axis in figure.axes:
        left, right = axis.get_xlim()
        width = axis.get_window_extent().width
        span = math.log10(right / left)
        for label in axis.texts:
            end = label.get_window_extent().x1
            value = float(label.xy[0]) if isinstance(label, Annotation) else right
            share = (end - axis.transData.transform((value, 0))[0]) / width + 0.01
            span = max(span, math.log10(value / left) / (1 - share))
        axis.set_xlim(left, left * 10**span)


def _floor_125(value: float) -> float:
    """The largest of 1, 2, 5 times a power of ten at or below `value`: a tick on the axis."""
    power = 10 ** math.floor(math.log10(value))
    return max(step * power for step in (1, 2, 5) if step * power <= value)


def _shape(row: Row) -> str:
    """The machine shape, and for a multi-node layout how many of them one replica spans."""
    fit = row.option.fit
    return f"{fit.pipeline} x {fit.shape.name}" if row.multi_node else fit.shape.name


def bar_label(row: Row) -> str:
    """'$8,016 · 4 GPUs', '$24,397 · 1 GPU (7 idle)' or '$48,319 · 8 GPUs x 2 nodes'."""
    fit = row.option.fit
    shards = f"{fit.shards} GPU{'s' if fit.shards != 1 else ''}"
    if row.multi_node:
        shards += f" x {fit.pipeline} nodes"
    idle = row.option.packing.idle_gpus
    return f"${row.monthly_usd:,.0f}{'*' if row.fixed.missing else ''} · {shards}" + (
        f" ({idle} idle)" if idle else ""
    )


def _dollars(value: float) -> str:
    """'$500', '$2k', '$10k', '$1M': tick labels short enough not to crowd the axis."""
    if value >= 1e6:
        return f"${value / 1e6:g}M"
    if value >= 1e3:
        return f"${value / 1e3:g}k"
    return f"${value:g}"


def _footnote(results: Sequence[tuple[str, Sequence[Row]]]) -> str:
    """What the bars and their labels mean, wrapped to the figure's width."""
    rows = [row for _, model_rows in results for row in model_rows]
    text = (
        "Estimates from llmplane's catalog list prices: every GPU node the replicas take "
        "(replicas packed onto shared nodes), 730 h a month, plus the platform's fixed fees. "
        "Bar labels: $/month · GPUs per replica (tensor-parallel shards), with the GPUs left "
        "idle on its nodes, which are paid for too."
    )
    if any(row.multi_node for row in rows):
        text += (
            f" Hatched: {MULTI_NODE_LABEL} (pipeline parallel across the nodes), for regions "
            "where no single machine holds the model."
        )
    if any(row.fixed.missing for row in rows):
        text += " * some fee has no catalog price and is left out."
    return textwrap.fill(text, width=185)
