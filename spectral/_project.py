"""The project folder: where ``notebooks/`` and ``data/`` live.

One rule for every module that needs the folder (the experiment runner's results and
checkpoints, the decoded-data cache): ``$SPECTRAL_PROJECT`` when it is set, else the
source checkout this package is imported from (the folder above ``spectral/``, when it
holds ``pyproject.toml``, as in an editable install), else none (an installed package).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["project_root"]


def project_root() -> Path | None:
    """The project folder, or ``None`` when the package is installed outside a checkout.

    Returns
    -------
    Path or None
        ``$SPECTRAL_PROJECT`` if set and not empty; else the folder above the package if
        it holds ``pyproject.toml``; else ``None``.

    Raises
    ------
    FileNotFoundError
        ``$SPECTRAL_PROJECT`` is set to something that is not a folder.
    """
    chosen = os.environ.get("SPECTRAL_PROJECT")
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(
                f"$SPECTRAL_PROJECT points to {path}, which is not a folder; set it to the "
                "project folder (the one holding notebooks/ and data/) or unset it"
            )
        return path
    checkout = Path(__file__).resolve().parent.parent
    return checkout if (checkout / "pyproject.toml").is_file() else None
