"""Sphinx configuration of the ZeMosaic documentation (build: ``python -m sphinx -W -b html docs OUT``)."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document this checkout's code, not another installed copy
sys.path.insert(0, str(ROOT / "docs" / "_ext"))  # the project's own directives (zemosaic_settings)

import zemosaic  # noqa: E402  (after the path set-up above)

project = "ZeMosaic"
author = "the ZeMosaic developers"
copyright = "the ZeMosaic developers, GPL-3.0-or-later"
release = zemosaic.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
    "numpydoc",
    "zemosaic_settings",
]

# numpydoc: the docstrings' Parameters/Returns/Raises sections; no class member tables (autodoc lists members)
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_typehints = "none"  # the numpydoc sections give the types
autodoc_member_order = "bysource"
autosummary_generate = False

# No intersphinx: the build must work offline (CI machines without network) with warnings as errors.
exclude_patterns = ["_build"]
templates_path: list[str] = []
html_theme = "alabaster"
html_static_path: list[str] = []
html_title = f"ZeMosaic {release}"
nitpicky = False
