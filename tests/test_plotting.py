"""spectral.plotting: the book's figure style, its PNG display hook, and the legibility of
the committed notebooks' figures."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from spectral import plotting  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture
def book_style():
    with matplotlib.rc_context():
        plotting.use_book_style()
        yield
    plt.close("all")


def test_style_sets_the_book_sizes(book_style):
    rc = matplotlib.rcParams
    assert rc["figure.dpi"] == plotting.DPI
    assert tuple(rc["figure.figsize"]) == pytest.approx((plotting.TEXT_WIDTH,
                                                         plotting.TEXT_WIDTH / 2))
    assert rc["xtick.labelsize"] == 10 and rc["axes.labelsize"] == 11
    assert not rc["axes.grid"]  # no grid lines across images
    plotting.use_book_style()  # a second call changes nothing
    assert rc["figure.dpi"] == plotting.DPI and rc["font.size"] == 11


def test_a_text_width_figure_is_shown_at_1_to_1_and_legible(book_style):
    fig, ax = plt.subplots(figsize=(plotting.TEXT_WIDTH, 3))
    ax.plot([0, 1], [0, 1], label="a line")
    ax.set(xlabel="epoch", ylabel="loss", title="a title")
    ax.legend()
    data, metadata = plotting.figure_png(fig)
    width, height = plotting._png_size(data)
    assert metadata["width"] <= plotting.COLUMN_PX
    assert width == pytest.approx(plotting.RESOLUTION * metadata["width"], abs=2)
    # the smallest text (10 pt ticks) at 100 dpi, shown at 1:1: 10/72 · 100 px
    assert metadata["min_text_px"] == pytest.approx(10 / 72 * plotting.DPI, abs=0.1)
    assert metadata["min_text_px"] >= plotting.MIN_TEXT_PX


def test_a_wide_figure_is_shrunk_to_the_column_and_its_text_with_it(book_style):
    fig, axes = plt.subplots(1, 3, figsize=(13, 3))
    axes[0].plot([0, 1], label="small")
    axes[0].legend(fontsize=7)
    data, metadata = plotting.figure_png(fig)
    own = plotting._png_size(data)[0] / plotting.RESOLUTION
    assert own > plotting.COLUMN_PX and metadata["width"] == plotting.COLUMN_PX
    assert metadata["min_text_px"] == pytest.approx(
        7 / 72 * plotting.DPI * plotting.COLUMN_PX / own, abs=0.1
    )
    assert metadata["min_text_px"] < plotting.MIN_TEXT_PX


def test_hidden_tick_labels_do_not_count(book_style):
    fig, ax = plt.subplots(figsize=(3, 3))
    ax.imshow([[0, 1], [1, 0]])
    ax.tick_params(labelsize=4)
    ax.axis("off")
    ax.set_title("shown")
    assert plotting.figure_png(fig)[1]["min_text_px"] == pytest.approx(11 / 72 * 100, abs=0.1)
    fig, ax = plt.subplots(figsize=(3, 3))
    ax.axis("off")
    assert plotting.figure_png(fig)[1]["min_text_px"] == float("inf")


def test_the_display_hook_shows_figures_as_book_pngs(book_style):
    shell_module = pytest.importorskip("IPython.core.interactiveshell")
    shell = shell_module.InteractiveShell.instance()
    try:
        plotting.use_book_style(shell)
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot([0, 1])
        data, metadata = shell.display_formatter.format(fig)
    finally:  # no IPython shell left behind for the other tests
        shell_module.InteractiveShell.clear_instance()
    assert set(data) >= {"image/png"} and "image/svg+xml" not in data
    png = base64.b64decode(data["image/png"])
    assert plotting._png_size(png)[0] == pytest.approx(
        plotting.RESOLUTION * metadata["image/png"]["width"], abs=2
    )
    assert metadata["image/png"]["min_text_px"] >= plotting.MIN_TEXT_PX


def committed_figures():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        for index, cell in enumerate(cells):
            for output in cell.get("outputs", []):
                shown = output.get("metadata", {}).get("image/png", {})
                if "min_text_px" in shown:
                    yield f"{path.name}, cell {index}", shown


def test_committed_book_style_figures_are_legible():
    """Every figure a page drew under the book style has legible text as shown."""
    small = [
        f"{where}: smallest text {shown['min_text_px']} px at width {shown['width']} px"
        for where, shown in committed_figures()
        if shown["min_text_px"] < plotting.MIN_TEXT_PX
    ]
    assert not small, f"text below {plotting.MIN_TEXT_PX} px in: " + "; ".join(small)
