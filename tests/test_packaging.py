"""The distribution's metadata and what a wheel of it holds.

The wheel is built from a copy of the package in a temporary folder (no ``build/`` left
in the checkout), without build isolation: the pinned setuptools of the environment.
"""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]


def test_license_file_is_mit():
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_classifiers_and_urls():
    classifiers = PROJECT["classifiers"]
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # the license field says it
    assert {"Homepage", "Documentation", "Repository", "Issues", "Changelog"} <= set(
        PROJECT["urls"]
    )


def test_layers_install_without_papermill_or_jupyter_book():
    names = {
        dep.split(">")[0].split("<")[0].split("=")[0].strip() for dep in PROJECT["dependencies"]
    }
    assert names.isdisjoint({"papermill", "jupyter-book", "submitit", "pandas", "matplotlib"})
    extras = PROJECT["optional-dependencies"]
    assert "papermill" in extras["experiments"]
    assert any(dep.startswith("jupyter-book") for dep in extras["book"])
    assert "papermill" not in extras["book"]


def test_citation_matches_the_version():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    assert str(citation["version"]) == PROJECT["version"]
    assert citation["license"] == "MIT"
    assert f"## [{PROJECT['version']}]" in (ROOT / "CHANGELOG.md").read_text()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "spectral", source / "spectral", ignore=shutil.ignore_patterns("__pycache__")
    )
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("spectral_cnn-*.whl")
    return zipfile.ZipFile(built)


def test_wheel_ships_py_typed_and_license(wheel):
    names = wheel.namelist()
    assert "spectral/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_wheel_metadata(wheel):
    (meta,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    message = email.message_from_bytes(wheel.read(meta))
    assert message["License-Expression"] == "MIT"
    assert set(message.get_all("Provides-Extra")) >= {"experiments", "book", "test"}
    assert "Typing :: Typed" in message.get_all("Classifier")
    urls = dict(u.split(", ", 1) for u in message.get_all("Project-URL"))
    assert urls["Repository"].startswith("https://github.com/")
