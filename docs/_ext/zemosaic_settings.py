"""Sphinx directive ``.. zemosaic-settings::``: the table of every configuration key, generated from the registry
(:func:`zemosaic.config.describe_keys`), so the settings reference cannot drift from the code."""
from __future__ import annotations

import re

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective


def rst_text(doc: str) -> str:
    """A key's documentation (plain text with markdown-style code spans) as inline reStructuredText."""
    out = []
    for part in re.split(r"(`[^`]+`)", doc):
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f":code:`{part[1:-1]}`")
        else:  # characters that would start markup in plain text
            out.append(re.sub(r"([*|\\]|_(?=\W|$))", r"\\\1", part))
    return "".join(out)


class SettingsTable(SphinxDirective):
    """Every key of :class:`zemosaic.config.ZeMosaicConfig`: name, default and meaning, in the registry's order."""

    def run(self) -> list[nodes.Node]:
        from zemosaic.config import describe_keys

        lines = [".. list-table::", "   :header-rows: 1", "   :widths: 22 14 64", "",
                 "   * - key", "     - default", "     - meaning"]
        for key, default, doc in describe_keys():
            lines += [f"   * - ``{key}``", f"     - ``{default!r}``", f"     - {rst_text(doc)}"]
        holder = nodes.container()
        self.state.nested_parse(StringList(lines, source="zemosaic.config.describe_keys"), self.content_offset,
                                holder)
        return holder.children


def setup(app):
    app.add_directive("zemosaic-settings", SettingsTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
