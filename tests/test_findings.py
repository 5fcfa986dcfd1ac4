"""book/_ext/findings.py: the landing page's table reads back the verdict boxes."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from spectral import results as res

spec = importlib.util.spec_from_file_location(
    "findings", Path(__file__).parents[1] / "book" / "_ext" / "findings.py")
findings = sys.modules["findings"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(findings)

BOX = res.verdict_box(
    claim="One claim, in “quotes” & <angle brackets>.",
    paper=["Table I: 94.04 %.", "Table VI: +16 %."],
    ours=["`campaign` profile: 91.20 % ± 0.30 %.", "second"],
    scale={"model": ("resnet18", "resnet18"), "training images": ("45,000", "45,000"),
           "epochs": ("30", "200"), "seeds": ("3", "5")},
    verdict=["(a) undecided.", "(b) untested."],
)


def test_a_verdict_box_reads_back_field_by_field():
    box = findings.parse_box(BOX)
    assert box.fields["Claim"] == ["One claim, in “quotes” & <angle brackets>."]
    assert box.fields["Paper"] == ["Table I: 94.04 %.", "Table VI: +16 %."]
    assert box.fields["Ours"][0] == "campaign profile: 91.20 % ± 0.30 %."
    assert box.fields["Verdict"] == ["(a) undecided.", "(b) untested."]
    assert box.scale["epochs"] == ("30", "200") and box.scale["model"] == ("resnet18",) * 2
    assert findings.scale_text(box) == (
        "training images 45,000 (paper 45,000); epochs 30 (200); seeds 3 (5)")
    assert findings.first(box, "Verdict") == "(a) undecided."
    assert findings.first(findings.Box(), "Claim") == "—"


def notebook(tmp_path, outputs):
    path = tmp_path / "page.ipynb"
    cells = [{"cell_type": "code", "source": [], "metadata": {}, "outputs": outputs}]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


def test_the_first_box_among_the_outputs_is_found(tmp_path):
    html = {"output_type": "display_data", "data": {"text/html": [BOX[:50], BOX[50:]]}}
    other = {"output_type": "stream", "name": "stdout", "text": ["verdict-box\n"]}
    box = findings.find_box(notebook(tmp_path, [other, html]))
    assert box is not None and box.fields["Paper"][1] == "Table VI: +16 %."
    assert findings.find_box(notebook(tmp_path, [other])) is None


@pytest.mark.parametrize("page", ["R2_spectral_pooling_results", "R4_sbn_results",
                                  "R6_maximum_gain_results"])
def test_every_committed_results_page_has_a_box_with_all_fields(page):
    box = findings.find_box(Path(__file__).parents[1] / "notebooks" / f"{page}.ipynb")
    assert box is not None
    assert all(box.fields.get(name) for name in findings.FIELDS)
    assert set(findings.SCALE_ROWS) <= set(box.scale)
