"""The book's figure style: set once per page by :func:`use_book_style`.

The HTML book shows a page's outputs in a column about :data:`COLUMN_PX` = 780 CSS pixels
wide. A figure wider than that is shrunk to fit, and its text with it: a 13-inch figure
drawn at 100 dpi loses 40 % of its text height. The style therefore fixes three things.

* **Size.** ``figure.dpi`` is :data:`DPI`, so one inch of figure is 100 CSS pixels and a
  figure :data:`TEXT_WIDTH` (7.8 in) wide is shown at 1:1. Pages size their figures in
  fractions of :data:`TEXT_WIDTH`.
* **Fonts.** seaborn's ``notebook`` theme with ``ticks`` axes (no grid, which would
  cross images) and the font sizes of :data:`BOOK_RC` (11 pt labels, 10 pt ticks and
  legends: about 14 px at 1:1).
* **Resolution.** In IPython each figure is shown as a PNG at :data:`RESOLUTION` times its
  CSS size (sharp on high-density screens), with its shown width in the output's metadata
  (``width``; the book and Jupyter then scale it down, keeping its aspect) and the
  height of its smallest text as shown, in CSS pixels (``min_text_px``), which
  ``tests/test_plotting.py`` checks against :data:`MIN_TEXT_PX` in every committed
  notebook. PNG, not SVG: the notebook checks (nbval) compare SVG text, which holds
  the date it was drawn and the last digits of the plotted data; PNG they skip.

Needs matplotlib and seaborn (the ``book`` extra); IPython only for the display hook.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO

import matplotlib
import seaborn as sns
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure

__all__ = [
    "BOOK_RC",
    "COLUMN_PX",
    "DPI",
    "MIN_TEXT_PX",
    "RESOLUTION",
    "TEXT_WIDTH",
    "figure_png",
    "use_book_style",
]

#: Width of the book's content column, in CSS pixels.
COLUMN_PX = 780
#: ``figure.dpi``: CSS pixels per inch of figure.
DPI = 100
#: The width of a figure shown at 1:1 in the column, in inches.
TEXT_WIDTH = COLUMN_PX / DPI
#: PNG pixels per CSS pixel.
RESOLUTION = 2
#: The smallest text height (CSS pixels, as shown) that the book accepts.
MIN_TEXT_PX = 10.0

#: rcParams on top of seaborn's notebook theme.
BOOK_RC = {
    "figure.dpi": DPI,
    "figure.figsize": (TEXT_WIDTH, 0.5 * TEXT_WIDTH),
    "savefig.dpi": "figure",
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.title_fontsize": 10,
    "figure.titlesize": 12,
    "image.interpolation": "nearest",  # pixels stay pixels in DFT and filter images
}


@contextmanager
def _text_sizes() -> Iterator[list[float]]:
    """Record the point size of every non-empty text the Agg renderer draws."""
    sizes: list[float] = []
    original = RendererAgg.draw_text

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if str(s).strip():
            sizes.append(prop.get_size_in_points())
        return original(self, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    RendererAgg.draw_text = draw_text
    try:
        yield sizes
    finally:
        RendererAgg.draw_text = original


def _png_size(data: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def figure_png(fig: Figure) -> tuple[bytes, dict]:
    """``fig`` as the book shows it: PNG bytes and their display metadata.

    The figure is saved with a tight bounding box at ``RESOLUTION × fig.dpi``.

    Returns
    -------
    (bytes, dict)
        The PNG, and ``{"width": w, "min_text_px": t}``: ``w`` the width in CSS pixels
        at which the book shows it (its own, at most :data:`COLUMN_PX`) and ``t`` the
        height of its smallest drawn text at that width, in CSS pixels (``inf`` for a
        figure without text).
    """
    buffer = BytesIO()
    with _text_sizes() as sizes:
        fig.savefig(buffer, format="png", dpi=RESOLUTION * fig.dpi, bbox_inches="tight",
                    facecolor=fig.get_facecolor())
    data = buffer.getvalue()
    own = _png_size(data)[0] / RESOLUTION
    shown = min(own, COLUMN_PX)
    smallest = min(sizes, default=float("inf")) / 72 * fig.dpi * shown / own
    return data, {"width": int(round(shown)), "min_text_px": round(smallest, 1)}


def _display_png(fig: Figure):
    data, metadata = figure_png(fig)
    return base64.b64encode(data).decode("ascii"), metadata


def use_book_style(shell=None) -> None:
    """Set the book's figure style (seaborn theme, :data:`BOOK_RC`) and, in IPython, show
    figures through :func:`figure_png`.

    Parameters
    ----------
    shell : IPython InteractiveShell, optional
        Where to register the display hook; default the running one, if any (none in a
        plain Python process, where only the style is set).

    Call it once per page, after importing pyplot; calling it again changes nothing.
    """
    sns.set_theme(context="notebook", style="ticks", rc=BOOK_RC)
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython comes with the book extra
            return
        shell = get_ipython()
    if shell is None:
        return
    if "inline" in matplotlib.get_backend():
        # The inline backend registers its own PNG hook when it is first loaded; load it
        # now, so that it does not replace this one at the first figure.
        import matplotlib_inline.backend_inline  # noqa: F401
    formatters = shell.display_formatter.formatters
    for formatter in formatters.values():
        formatter.pop(Figure, None)
    formatters["image/png"].for_type(Figure, _display_png)
