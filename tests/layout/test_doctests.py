"""The examples in the docstrings of the main public functions run, and give what they show."""
from __future__ import annotations

import doctest
import importlib
import tempfile

import pytest

# the modules whose docstrings carry examples (the front door's functions and the main building blocks)
MODULES = [
    "zemosaic.config",
    "zemosaic.pipeline.run",
    "zemosaic.pipeline.in_memory",
    "zemosaic.pipeline.master_tile",
    "zemosaic.stack.cpu",
    "zemosaic.synthetic.demo",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes a relative path writes it here
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # and its temporary folders here
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0, f"{name} has no example"
    assert result.failed == 0
