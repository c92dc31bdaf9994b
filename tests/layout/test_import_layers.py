"""The package's import graph (read with ast by ``docs/import_graph.py``): no loop, no import running back up the
layers, and imports inside functions only where a reason allows them.

The layer order is written once, here: a module may import its own part of the package and any part of a LOWER
layer; parts of one layer do not import each other. An import inside a function counts as much as one at the top of
a module (it runs when the function does), an import for the type checker only (``if TYPE_CHECKING:``) does not.
"""
from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# lowest first; a part is a sub-package or a top-level module of ``zemosaic`` (``zemosaic`` itself: the front door)
LAYERS: list[tuple[str, ...]] = [
    ("_version", "_stats", "_numba_cache", "_numba_pool", "_heap", "progress",
     "_selection", "_sorting_network"),  # the last two: exact medians and the sorting network, compiled
    ("_pixels", "_sample_blocks"),  # compiled per-pixel passes and star-clipped block statistics, on the pool
    ("io",),
    ("align", "background", "masks"),
    ("stack", "solve", "quality"),
    ("mosaic", "config", "synthetic"),
    ("pipeline", "compat"),
    ("gui", "_numba_warmup"),  # the window; the compile-ahead rehearsal (a small run in a child process)
    ("cli",),  # the command opens the window (`zemosaic gui`), never the other way round
    ("__main__", "zemosaic"),
]

# An import of a package module inside a function is allowed for three reasons only, and says which in a comment on
# its line or just above its block of imports: the module imported needs an optional dependency at its top
# (PySide6, CuPy, dask.distributed, the astrometry solver), or the importer is where a process or a command starts
# and loads the rest only when it is used (the command line, the front door, the window's run process, the
# compile-ahead rehearsal, a master-tile task, which a spawned worker imports before it sets numba's thread count),
# or start-up time: a module that a process's usual path (e.g. a stack child) does not need, and that costs a
# noticeable time to import, is loaded by the function that needs it; this reason is written ON the import's line,
# starting with FAST_START (as the third-party ones do: scipy.ndimage in zemosaic.background).
OPTIONAL_DEPENDENCIES = ("PySide6", "cupy", "cupyx", "distributed", "dask", "astrometry")
STARTS = ("zemosaic", "zemosaic.cli", "zemosaic.__main__", "zemosaic._numba_warmup", "zemosaic.gui.worker",
          "zemosaic.pipeline.tile_task")
FAST_START = "# fast start:"

def _graph():
    spec = importlib.util.spec_from_file_location("zemosaic_import_graph", REPO / "docs" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def graph():
    return _graph()


@pytest.fixture(scope="module")
def edges(graph):
    return [e for e in graph.import_graph(REPO / "zemosaic") if e.kind != "typing"]


def _part(module: str) -> str:
    parts = module.split(".")
    return "zemosaic" if len(parts) == 1 else parts[1]


def _layer(part: str) -> int:
    for k, layer in enumerate(LAYERS):
        if part in layer:
            return k
    raise AssertionError(f"zemosaic.{part} has no layer: add it to LAYERS in {Path(__file__).name}")


def test_every_part_of_the_package_has_a_layer(graph):
    parts = {_part(m) for m in graph.module_names(REPO / "zemosaic")}
    assert {p for p in parts if not any(p in layer for layer in LAYERS)} == set()


def test_no_import_loop(graph, edges):
    assert graph.import_loops(edges) == []


def test_no_import_loop_even_for_the_type_checker(graph):
    """Annotations may name a module above (``if TYPE_CHECKING:``), but two modules that need each other's
    names, even only for the type checker, should share a lower module (or a Protocol) instead."""
    assert graph.import_loops(graph.import_graph(REPO / "zemosaic")) == []


def test_no_import_runs_back_up_the_layers(edges):
    upward = [f"{e.source}:{e.line} imports {e.target} (layer {_layer(_part(e.source))} -> {_layer(_part(e.target))})"
              for e in edges
              if _part(e.source) != _part(e.target) and _layer(_part(e.target)) >= _layer(_part(e.source))]
    assert upward == []


def _needs_optional_dependency(graph, module: str) -> bool:
    """Whether ``module`` imports an optional dependency when it loads."""
    path = graph.module_names(REPO / "zemosaic")[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(n.split(".")[0] in OPTIONAL_DEPENDENCIES for n in names):
            return True
    return False


def _commented(lines: list[str], line: int) -> bool:
    """Whether the import at ``line`` (1-based), or its block of imports, or the line above the block, has a
    comment."""
    k = line - 1
    while k > 0 and lines[k - 1].strip().startswith(("from ", "import ")):
        k -= 1
    block = lines[k:line] + ([lines[k - 1]] if k > 0 else [])
    return any("#" in text for text in block)


def _fast_start(lines: list[str], line: int) -> bool:
    """Whether the import at ``line`` (1-based) gives start-up time as its reason, on its own line."""
    return FAST_START in lines[line - 1]


def test_imports_inside_functions_have_an_allowed_reason(graph, edges):
    names = graph.module_names(REPO / "zemosaic")
    unexplained, silent = [], []
    for e in (e for e in edges if e.kind == "function"):
        lines = names[e.source].read_text(encoding="utf-8").splitlines()
        if not (e.source in STARTS or _needs_optional_dependency(graph, e.target) or _fast_start(lines, e.line)):
            unexplained.append(f"{e.source}:{e.line} -> {e.target}")
        if not _commented(lines, e.line):
            silent.append(f"{e.source}:{e.line} -> {e.target}")
    assert unexplained == []
    assert silent == []  # the reason is written where the import stands


def test_the_checks_catch_a_loop_and_an_upward_import(graph, tmp_path):
    """The same checks on a tiny package with one loop and one import from io up to mosaic."""
    pkg = tmp_path / "zemosaic"
    for rel, text in {"__init__.py": "", "io/__init__.py": "", "mosaic/__init__.py": "",
                      "io/a.py": "def f():\n    from zemosaic.mosaic import b\n",
                      "mosaic/b.py": "from zemosaic.mosaic import c\n",
                      "mosaic/c.py": "from zemosaic.mosaic import b\n"}.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    found = graph.import_graph(pkg)
    assert graph.import_loops(found) == [["zemosaic.mosaic.b", "zemosaic.mosaic.c"]]
    assert [(e.source, e.target, e.kind) for e in found
            if _layer(_part(e.target)) > _layer(_part(e.source))] == [("zemosaic.io.a", "zemosaic.mosaic.b",
                                                                      "function")]


def _private_uses(path: Path, modules: set[str]) -> list[str]:
    """``module:line name`` for every private name of another package module that ``path`` imports or reads
    through a module it imported (``from zemosaic.x import _f``, ``x._f``); private modules themselves
    (``zemosaic._stats``) may be imported."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("zemosaic"):
            for a in node.names:
                full = f"{node.module}.{a.name}"
                if full in modules:
                    aliases[a.asname or a.name] = full
                elif a.name.startswith("_") and not a.name.startswith("__"):
                    found.append(f"{node.lineno} {full}")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("zemosaic") and a.asname:
                    aliases[a.asname] = a.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")
                and f"{aliases[node.value.id]}.{node.attr}" not in modules):
            found.append(f"{node.lineno} {aliases[node.value.id]}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names(graph):
    names = graph.module_names(REPO / "zemosaic")
    uses = [f"{module}:{use}" for module, path in names.items() for use in _private_uses(path, set(names))]
    assert uses == []

