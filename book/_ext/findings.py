"""Sphinx extension of this book: the landing page's table of findings.

Every results page opens with a verdict box (:func:`spectral.results.verdict_box`) that
its code fills from the result files: the claim, the paper's numbers, ours, the scale and
the verdict. The ``findings`` directive gathers the headline of each box into one table,
so the landing page shows the same numbers as the pages, read at build time from their
executed notebooks (no number is typed twice)::

    ```{findings}
    notebooks/R2_spectral_pooling_results
    notebooks/R4_sbn_results
    ```

One row per page listed (a document name, as in ``_toc.yml``): the first entry of each of
the box's Claim (after the page's title, linked), Paper, Ours and Verdict fields, and the
training images, epochs and seeds of its Scale table (ours against the paper's). A
listed page without a verdict box is a build error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective

#: The Scale rows the table shows, in this order.
SCALE_ROWS = ("training images", "epochs", "seeds")
FIELDS = ("Claim", "Paper", "Ours", "Verdict")


@dataclass
class Box:
    """A verdict box as text: each field's entries, and the Scale table's rows."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    scale: dict[str, tuple[str, ...]] = field(default_factory=dict)


class _BoxParser(HTMLParser):
    """Reads the ``<dl>`` of a verdict box: ``<dt>`` names, ``<dd>`` texts or ``<li>``s,
    and in the Scale ``<dd>`` the rows ``<th>name</th><td>ours</td><td>paper</td>``."""

    def __init__(self) -> None:
        super().__init__()
        self.box = Box()
        self._field: str | None = None
        self._text: list[str] | None = None
        self._in_dt = False
        self._row: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "dt":
            self._in_dt, self._text = True, []
        elif tag in ("li", "th", "td") or (tag == "dd" and self._field):
            self._text = []
        if tag == "tr":
            self._row = []

    def handle_endtag(self, tag: str) -> None:
        text = " ".join("".join(self._text or []).split())
        if tag == "dt":
            self._field, self._in_dt = text, False
            self.box.fields[text] = []
        elif tag == "li" and self._field:
            self.box.fields[self._field].append(text)
        elif tag == "dd" and self._field and not self.box.fields[self._field]:
            if text:
                self.box.fields[self._field].append(text)  # a single text, no list
        elif tag in ("th", "td"):
            self._row.append(text)
            self._text = []
        elif tag == "tr" and self._field == "Scale" and len(self._row) == 3:
            self.box.scale[self._row[0]] = tuple(self._row[1:])
        if tag in ("li", "dd", "dt"):
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def parse_box(html: str) -> Box:
    """The fields of the verdict box in ``html`` (the ``text/html`` of an output)."""
    parser = _BoxParser()
    parser.feed(html)
    return parser.box


def find_box(notebook: Path) -> Box | None:
    """The first verdict box among the outputs of the executed ``notebook``, if any."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html")
            html = "".join(html) if isinstance(html, list) else html
            if html and "verdict-box" in html:
                return parse_box(html)
    return None


def scale_text(box: Box) -> str:
    """E.g. ``training images 45,000 (paper 45,000); epochs 30 (200); seeds 3 (5)``."""
    parts = []
    for i, row in enumerate(r for r in SCALE_ROWS if r in box.scale):
        ours, paper = box.scale[row]
        parts.append(f"{row} {ours} ({'paper ' if i == 0 else ''}{paper})")
    return "; ".join(parts)


def first(box: Box, name: str) -> str:
    entries = box.fields.get(name) or ["—"]
    return entries[0]


class FindingsDirective(SphinxDirective):
    """``{findings}`` with one results-page document name per line."""

    has_content = True

    def run(self) -> list[nodes.Node]:
        pages = [line.strip() for line in self.content if line.strip()]
        if not pages:
            raise self.error("findings: list the results pages, one document name per line")
        header = ["claim (results page)", "paper", "ours", "scale: ours (paper)", "verdict"]
        table = nodes.table(classes=["findings"])
        group = nodes.tgroup(cols=len(header))
        table += group
        group.extend(nodes.colspec(colwidth=1) for _ in header)
        head, body = nodes.thead(), nodes.tbody()
        group += head
        group += body
        head += self._row([nodes.Text(h) for h in header])
        for page in pages:
            body += self._row(self._cells(page))
        return [table]

    def _cells(self, page: str) -> list[nodes.Node]:
        root = Path(self.env.srcdir)
        notebook = root / f"{page}.ipynb"
        if not notebook.is_file():
            raise self.error(f"findings: {page}.ipynb not found under {root}")
        box = find_box(notebook)
        if box is None:
            raise self.error(
                f"findings: {page}.ipynb has no verdict box among its outputs; execute it "
                "(make notebooks) or take it off the list"
            )
        self.env.note_dependency(str(notebook))
        # A {doc} cross-reference: Sphinx resolves it to the page and its title (-n checks it).
        link = addnodes.pending_xref(
            "", nodes.inline("", page), refdomain="std", reftype="doc",
            reftarget=f"/{page}", refexplicit=False, refdoc=self.env.docname,
        )
        claim = [nodes.strong("", "", link), nodes.Text(": " + first(box, "Claim"))]
        texts = [first(box, "Paper"), first(box, "Ours"), scale_text(box), first(box, "Verdict")]
        return [claim, *([nodes.Text(t)] for t in texts)]

    @staticmethod
    def _row(cells: list) -> nodes.row:
        """A row of cells, each a node or a list of inline nodes."""
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += nodes.paragraph("", "", *(cell if isinstance(cell, list) else [cell]))
            row += entry
        return row


def setup(app: Any) -> dict:
    app.add_directive("findings", FindingsDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
