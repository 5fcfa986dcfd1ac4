"""Where an experiment's files are: the project folder, notebooks, profiles, default folders.

``PROJECT`` is the one variable that names the project folder; every module of
:mod:`spectral.experiments` reads it through :func:`project` when it needs it, so
setting ``spectral.experiments.paths.PROJECT`` (as the tests do) moves all of them. It
starts as the ``SPECTRAL_PROJECT`` environment variable, which the runner sets for each
run's subprocess, or else the source checkout that holds the ``spectral`` package
(:func:`spectral._project.project_root`); ``None`` for a package installed outside a
checkout, where the experiment notebooks do not exist.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from spectral._project import project_root
from spectral.experiments.errors import ExperimentError

__all__ = ["PROJECT", "cache_folder", "notebook", "profile", "project", "results_folder"]

#: The project folder (where ``notebooks/`` and ``data/`` live).
PROJECT = project_root()


def project() -> Path:
    """The project folder: ``PROJECT`` as it is now.

    Raises
    ------
    ExperimentError
        If the package is installed outside a checkout (no project folder): the message
        says how to get one.
    """
    if PROJECT is None:
        raise ExperimentError(
            "the experiments live in the book's source checkout (notebooks/experiments/), "
            "which this installed package cannot find: clone the repository and run from "
            "it, or set SPECTRAL_PROJECT=<checkout folder>"
        )
    return PROJECT


def notebook(experiment: str) -> Path:
    """``notebooks/experiments/<experiment>.py`` of the project.

    Raises
    ------
    ExperimentError
        If there is no such notebook; the message lists the known experiments.
    """
    path = project() / "notebooks" / "experiments" / f"{experiment}.py"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.py"))
        raise ExperimentError(f"no experiment {experiment!r}; known: {', '.join(known) or 'none'}")
    return path


def profile(experiment: str, name: str) -> dict:
    """Profile ``name`` of ``notebooks/experiments/<experiment>.json``.

    Raises
    ------
    ExperimentError
        If the experiment or the profile does not exist; the message lists the profiles.
    """
    profiles = json.loads(notebook(experiment).with_suffix(".json").read_text())["profiles"]
    if name not in profiles:
        raise ExperimentError(
            f"no profile {name!r} for {experiment}; choose one of {', '.join(profiles)}"
        )
    return profiles[name]


def results_folder(folder: str | os.PathLike | None = None) -> Path:
    """``folder``, or by default the project's ``data/results``."""
    return Path(folder) if folder is not None else project() / "data" / "results"


def cache_folder(folder: str | os.PathLike | None = None) -> Path:
    """``folder``, or by default the project's ``data/cache``."""
    return Path(folder) if folder is not None else project() / "data" / "cache"
