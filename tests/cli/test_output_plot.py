"""The `compare --plot` chart: log $/month axis, clouds' legend, shards on bars, estimate title."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import pytest

from llmplane.infra.cli.plot import MULTI_NODE_LABEL, bar_label, chart_figure
from llmplane.infra.sizing.compare import Row, compare
from llmplane.infra.sizing.fit import workload_for
from llmplane.infra.sizing.models import builtin

if TYPE_CHECKING:
    from matplotlib.figure import Figure

pytest.importorskip("matplotlib")

Charted = tuple[list[tuple[str, list[Row]]], "Figure"]


def rows_of(model: str, regions: Sequence[str] = ()) -> list[Row]:
    arch = builtin(model)
    assert arch is not None
    return compare(arch, workload_for(arch, None), False, list(regions))


@pytest.fixture(scope="module")
def charted() -> Iterator[Charted]:
    import matplotlib.pyplot as plt

    results = [
        ("Qwen/Qwen2.5-7B-Instruct", rows_of("Qwen/Qwen2.5-7B-Instruct")),
        ("meta-llama/Llama-3.1-70B-Instruct", rows_of("meta-llama/Llama-3.1-70B-Instruct")),
    ]
    figure = chart_figure(results, spot=False)
    yield results, figure
    plt.close(figure)


def test_every_panel_has_a_log_dollar_axis_a_cloud_legend_and_labelled_bars(
    charted: Charted,
) -> None:
    results, figure = charted
    assert "estimate" in figure.get_suptitle().lower()
    assert len(figure.axes) == len(results)
    for (model, rows), axis in zip(results, figure.axes, strict=True):
        assert axis.get_xscale() == "log"
        assert axis.get_title(loc="left") == model
        legend = axis.get_legend()
        assert legend is not None
        assert [t.get_text() for t in legend.get_texts()] == sorted({r.cloud for r in rows})
        bars = axis.patches
        assert len(bars) == len(rows)
        labels = [text.get_text() for text in axis.texts]
        assert labels == [bar_label(row) for row in rows]
        for row, label in zip(rows, labels, strict=True):
            assert f"{row.option.fit.shards} GPU" in label
        # Every label ends inside the axis, and no two y labels share a line.
        figure.canvas.draw()
        right = axis.get_window_extent().x1
        assert all(text.get_window_extent().x1 <= right + 1 for text in axis.texts)
        ticks = [t.get_window_extent() for t in axis.get_yticklabels()]
        assert all(a.y0 >= b.y1 - 0.5 for a, b in itertools.pairwise(ticks))


def test_bars_on_a_log_axis_keep_their_order_of_magnitude(charted: Charted) -> None:
    from matplotlib.patches import Rectangle

    results, figure = charted
    for (_, rows), axis in zip(results, figure.axes, strict=True):
        widths = [bar.get_width() for bar in axis.patches if isinstance(bar, Rectangle)]
        assert widths == [row.monthly_usd for row in rows]
        low, high = axis.get_xlim()
        assert low <= min(widths) and math.log10(high / low) < 4


def test_multi_node_rows_are_hatched_named_in_the_legend_and_the_label() -> None:
    import matplotlib.pyplot as plt

    rows = rows_of("meta-llama/Llama-3.1-405B-Instruct", ["us-east-1", "eastus", "eu-west-1"])
    assert any(row.multi_node for row in rows) and not all(row.multi_node for row in rows)
    figure = chart_figure([("405B", rows)], spot=True)
    try:
        (axis,) = figure.axes
        assert "spot" in figure.get_suptitle()
        shown = axis.get_legend()
        assert shown is not None
        legend = [text.get_text() for text in shown.get_texts()]
        assert legend[-1] == MULTI_NODE_LABEL
        for row, bar, text in zip(rows, axis.patches, axis.texts, strict=True):
            assert bool(bar.get_hatch()) == row.multi_node
            assert (f"x {row.option.fit.pipeline} nodes" in text.get_text()) == row.multi_node
    finally:
        plt.close(figure)
