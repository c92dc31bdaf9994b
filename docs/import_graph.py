"""The import graph of the ``zemosaic`` package, read from the source with :mod:`ast` (nothing is imported).

    python docs/import_graph.py                 # text drawing: each module and the package modules it imports
    python docs/import_graph.py --dot OUT.dot   # the same graph for Graphviz (``dot -Tsvg OUT.dot -o OUT.svg``)
    python docs/import_graph.py --parts --dot OUT.dot   # one box per part (sub-package or top-level module)
    python docs/import_graph.py --package OTHER_CHECKOUT/zemosaic   # the graph of another checkout

An edge ``a -> b`` says that module ``a`` imports module ``b`` (``from zemosaic.b import name`` counts as an import
of ``zemosaic.b``; ``from zemosaic.pkg import mod`` as one of the submodule ``zemosaic.pkg.mod``). Each edge says
whether the import runs when the module loads (``top``), inside a function (``function``) or only for the type
checker (``typing``, under ``if TYPE_CHECKING:``). The text drawing ends with the import loops (strongly connected
components over the ``top`` and ``function`` edges) and the count of imports made inside functions.
``tests/package/test_import_layers.py`` builds on :func:`import_graph` and holds the layer order.
"""
from __future__ import annotations

import argparse
import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "zemosaic"


@dataclass(frozen=True)
class Edge:
    """One import of a package module by another: where it stands and how it runs (top, function, typing)."""

    source: str
    target: str
    line: int
    kind: str


def module_names(package_dir: Path = PACKAGE_DIR) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__.py``)."""
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _resolve(node: ast.ImportFrom, source: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = source.split(".") if is_package else source.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _targets(node: ast.AST, source: str, is_package: bool, modules: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in modules]
    assert isinstance(node, ast.ImportFrom)
    base = _resolve(node, source, is_package)
    found = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
    if base in modules and len(found) < len(node.names):
        found.append(base)  # names taken from the module (or package) itself
    return found


def _kinds(tree: ast.Module):
    """Yield (import node, kind) for every import statement of a module's tree."""
    def walk(node, kind):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, kind
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                yield from walk(child, "typing")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                yield from walk(child, "function" if kind == "top" else kind)
            else:
                yield from walk(child, kind)
    yield from walk(tree, "top")


def import_graph(package_dir: Path = PACKAGE_DIR) -> list[Edge]:
    """Every import of a package module by a package module, in file and line order."""
    modules = module_names(package_dir)
    edges = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, kind in _kinds(tree):
            for target in _targets(node, name, path.name == "__init__.py", modules):
                if target != name:
                    edges.append(Edge(name, target, node.lineno, kind))
    return sorted(edges, key=lambda e: (e.source, e.line, e.target))


def import_loops(edges: list[Edge]) -> list[list[str]]:
    """The import loops: strongly connected components (of more than one module) over the edges that run."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        if e.kind != "typing":
            graph.setdefault(e.source, set()).add(e.target)
            graph.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    loops: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(loops)


def text_drawing(edges: list[Edge]) -> str:
    """Each module with the modules it imports (``~`` in a function, ``?`` for the type checker only)."""
    mark = {"top": "", "function": "~", "typing": "?"}
    lines = []
    for source in sorted({e.source for e in edges}):
        targets = sorted({mark[e.kind] + e.target.removeprefix("zemosaic.") for e in edges if e.source == source})
        lines.append(f"{source.removeprefix('zemosaic.'):<28} -> {', '.join(targets)}")
    loops = import_loops(edges)
    lines.append(f"\nimport loops: {len(loops)}")
    lines += ["  " + " <-> ".join(loop) for loop in loops]
    inner = [e for e in edges if e.kind == "function"]
    lines.append(f"\nimports inside functions: {len(inner)}")
    lines += [f"  {e.source}:{e.line} -> {e.target}" for e in inner]
    return "\n".join(lines)


def dot_drawing(edges: list[Edge]) -> str:
    """The graph for Graphviz, importers above what they import: modules boxed by sub-package, modules in a loop in
    red, dashed edges for imports inside a function, dotted ones for the type checker only."""
    in_loop = {m for loop in import_loops(edges) for m in loop}
    modules = sorted({e.source for e in edges} | {e.target for e in edges})
    lines = ["digraph zemosaic {", "  node [shape=box, fontsize=10];"]

    def node(m: str) -> str:
        return f'"{m}" [label="{m.removeprefix("zemosaic.")}"{", color=red" if m in in_loop else ""}];'

    packages = {m.split(".")[1] for m in modules if m.count(".") >= 2}
    for pkg in sorted(packages):
        lines.append(f'  subgraph "cluster_{pkg}" {{ label="{pkg}";')
        lines += [f"    {node(m)}" for m in modules if m.split(".")[1:2] == [pkg]]
        lines.append("  }")
    lines += [f"  {node(m)}" for m in modules if m.count(".") == 0 or m.split(".")[1] not in packages]
    style = {"top": "", "function": " [style=dashed]", "typing": " [style=dotted]"}
    for e in sorted({(e.source, e.target, e.kind) for e in edges}):
        lines.append(f'  "{e[0]}" -> "{e[1]}"{style[e[2]]};')
    lines.append("}")
    return "\n".join(lines)


def part_of(module: str) -> str:
    """The part of the package a module belongs to: its sub-package, or the top-level module itself."""
    parts = module.split(".")
    return parts[0] if len(parts) == 1 else ".".join(parts[:2])


def part_edges(edges: list[Edge]) -> list[Edge]:
    """The graph between parts (``zemosaic.stack``, ``zemosaic.config``...): one edge per pair and kind."""
    seen = {}
    for e in edges:
        a, b = part_of(e.source), part_of(e.target)
        if a != b:
            seen.setdefault((a, b, e.kind), Edge(a, b, e.line, e.kind))
    return sorted(seen.values(), key=lambda e: (e.source, e.target, e.kind))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dot", type=Path, help="write the Graphviz drawing to this file")
    parser.add_argument("--parts", action="store_true", help="one node per part of the package, not per module")
    parser.add_argument("--package", type=Path, default=PACKAGE_DIR, help="the zemosaic folder to read")
    args = parser.parse_args(argv)
    edges = import_graph(args.package)
    if args.parts:
        edges = part_edges(edges)
    if args.dot:
        args.dot.write_text(dot_drawing(edges) + "\n", encoding="utf-8")
    print(text_drawing(edges))


if __name__ == "__main__":
    main()
