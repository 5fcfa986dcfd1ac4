"""Fail when a chapter's ``.py`` source and its executed ``.ipynb`` differ in content.

Usage: ``python tools/check_pairs.py notebooks notebooks/experiments``

For every ``NN_name.py`` / ``RN_name.py`` in a folder (every ``.py`` in an
``experiments`` folder), the paired ``NN_name.ipynb`` must exist and
converting it back to percent format must give the ``.py`` text exactly (code and
markdown; outputs are not part of the ``.py``). Fix a failure with ``make notebooks``.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import jupytext


def drift(source: Path) -> list[str]:
    paired = source.with_suffix(".ipynb")
    if not paired.exists():
        return [f"{paired} is missing: run `make notebooks`"]
    from_ipynb = jupytext.writes(jupytext.read(paired), fmt="py:percent")
    text = source.read_text()
    if from_ipynb == text:
        return []
    diff = difflib.unified_diff(
        text.splitlines(), from_ipynb.splitlines(), str(source), str(paired), lineterm="", n=1
    )
    return [f"{source} and {paired} differ (run `make notebooks`):", *list(diff)[:40]]


def check(folder: str) -> list[str]:
    # chapters and results pages; every notebook of an experiments folder
    patterns = ("*",) if Path(folder).name == "experiments" else ("[0-9][0-9]_*", "R[0-9]_*")
    sources = sorted(p for pattern in patterns for p in Path(folder).glob(f"{pattern}.py"))
    problems = [line for source in sources for line in drift(source)]
    notebooks = [p for pattern in patterns for p in Path(folder).glob(f"{pattern}.ipynb")]
    orphans = [p for p in notebooks if not p.with_suffix(".py").exists()]
    problems += [f"{p} has no .py source" for p in orphans]
    if not problems:
        print(f"{folder}: {len(sources)} notebook pairs in sync")
    return problems


if __name__ == "__main__":
    problems = [line for folder in sys.argv[1:] or ["notebooks"] for line in check(folder)]
    if problems:
        sys.exit("\n".join(problems))
