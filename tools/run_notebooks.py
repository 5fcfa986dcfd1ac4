"""Execute chapter notebooks from their Jupytext ``.py`` sources; write the ``.ipynb``.

Usage: ``python tools/run_notebooks.py notebooks/01_dft_basics.py [...]``

Each ``.py`` (percent format, the source of truth) is read with jupytext, executed
top to bottom by nbclient in its own folder (as myst-nb and nbval do), and written
to the paired ``.ipynb`` with its outputs. Per-cell timings are not recorded, so
re-running an unchanged chapter leaves the committed notebook unchanged.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import jupytext
import nbclient


def execute(source: Path) -> Path:
    notebook = jupytext.read(source)
    notebook.metadata.setdefault("jupytext", {})["formats"] = "ipynb,py:percent"
    start = time.perf_counter()
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(source.parent)}},
    )
    client.execute()
    target = source.with_suffix(".ipynb")
    jupytext.write(notebook, target)
    print(f"{source} -> {target} in {time.perf_counter() - start:.1f} s")
    return target


def main(paths: list[str]) -> None:
    if not paths:
        sys.exit("usage: python tools/run_notebooks.py notebooks/NN_name.py [...]")
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for path in paths:
        execute(Path(path))


if __name__ == "__main__":
    main(sys.argv[1:])
