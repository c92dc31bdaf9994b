"""Mutation testing of the mission's code: does the test suite notice when the coverage path breaks?

Each *mutant* is one small change to one function on the coverage path (a comparison flipped, an operator
swapped, a constant moved, a keyword argument dropped, a call removed, ``min``/``max`` swapped, a condition
negated, a returned value replaced by None). A mutant is *killed* when at least one test fails with it.

How it runs, fast enough for a 2-core machine:

1. **Map** (one pytest run in a child process): which tests call which target function (a profiler hook notes, for
   each test's setup and call, the target code objects entered).
2. **Mutate**: the module's source is parsed, one node of one target function changed, the module compiled again,
   and the function's new code object swapped into the live function (``func.__code__``) in a *forked* child
   (the parent has every module imported once, so a child starts in milliseconds). The child runs only the tests
   that call that function, fastest first, with ``-x``; a test run that exceeds its time budget counts as killed.

The targets (``TARGETS`` below): the footprint-to-valid-mask reduction, the coverage accumulator, the master-tile
crop and lecropper hand-off, ``masks.py``'s coverage branch and its coverage-less fallback, and the compatibility
modules (``zemosaic_worker``, ``zemosaic_align_stack``; ``lecropper`` and ``zemosaic_align_stack_gpu`` are the
package's modules under another name, so their code is ``zemosaic.masks`` and ``zemosaic.stack.gpu``: ``masks``
is a target, the GPU stacker is not on the coverage path).

Survivors are printed with their location and the mutated line; ``EQUIVALENT`` lists the mutants that cannot be
killed because they do not change behaviour, each with the reason.

Run: ``python bench/mutation_mission.py`` (all targets; about 30-60 min on 2 idle cores),
``--only masks`` (one module), ``--list`` (count the mutants, run nothing), ``--jobs 2`` (two children at once).
"""
from __future__ import annotations

import argparse
import ast
import copy
import importlib
import importlib.util
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# module -> qualified names of the functions mutated ("Class.method" for methods; "*" = every function)
TARGETS: dict[str, tuple[str, ...]] = {
    "zemosaic.align.group": ("footprint_to_valid_mask", "_channel_axis", "_Group.find", "_Group.warp",
                             "_Group.reference_on"),
    "zemosaic.align.fft": ("fft_overlap_rect", "_overlap_1d", "rect_mask"),
    "zemosaic.stack.coverage": ("*",),
    "zemosaic.pipeline.master_tile": (
        "_coverage_for_tile", "_finish_tile", "_crop_all", "crop_wcs", "_coverage_ready_for_lecropper",
        "_apply_lecropper_pipeline", "_mask_tile", "_decision_after_masker", "_call_masker", "_accepted_keywords",
        "_call_dropping_on_typeerror", "_check_dropped", "_log_fallback_once", "_nanize_low_alpha", "_alpha_stats",
        "_edge_trim", "_group_min_coverage_abs", "resolve_cleanup", "_usable_frames"),
    "zemosaic.masks": (
        "CoverageDecision.__post_init__", "CoverageDecision.not_used", "CoverageDecision.reason",
        "group_min_coverage_abs", "image_layout", "compute_alpha_mask", "mask_altaz_artifacts", "masker_layout",
        "coverage_unusable_reason", "coverage_unusable", "_usable_coverage", "_plane_shape", "_resolve_thresholds",
        "_check_feather_params", "_luminance", "_apply_alpha", "_kept", "_coverage_support", "_open_disk",
        "_distance_to_false", "_drop_small_components", "_fill_real_holes", "_feather", "_ramp", "edge_trim_rect",
        "_peel", "_fallback_alpha"),
    "zemosaic_worker": ("_apply_lecropper_pipeline", "_quality_crop", "_run", "main", "_read_original_config",
                        "_LogFirst.__call__"),
    "zemosaic_align_stack": ("*",),
}

# The tests that guard the coverage path (files under tests/, found wherever the test tree puts them).
TEST_FILES = ("test_coverage.py", "test_lecropper.py", "test_create_master_tile_pipeline.py",
              "test_create_master_tile_coverage.py", "test_upstream_compat.py", "test_alignment.py",
              "test_tile_canvas.py", "test_worker_entry.py")

# Mutants that do not change behaviour, by site ("module:function#rank:operator") -> why.
EQUIVALENT: dict[str, str] = {
    "zemosaic.masks:_peel#13:cmp0:Gt": "at lo + (n - hi) == budget the rescale factor is budget / budget = 1: the "
                                       "same (lo, hi) either way",
    "zemosaic.pipeline.master_tile:_usable_frames#6:negate": "it only decides whether an INFO line is logged",
    "zemosaic_align_stack:stack_aligned_images#15:dropkw:dtype": "the stacker's image is float32 by its contract "
                                                                 "(StackResult); the cast is a no-op",
    "zemosaic_align_stack:_usable_frames#3:return_none": "[] and None are both falsy and its callers only test "
                                                         "truthiness",
}

_CMP_SWAP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
             ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_BIN_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
             ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd, ast.Mod: ast.Mult, ast.Pow: ast.Mult}


@dataclass(frozen=True)
class Mutant:
    module: str
    function: str
    index: int  # the index-th mutation site of the function, in walk order
    line: int
    operator: str
    text: str  # the source line, for the report

    @property
    def key(self) -> str:
        return f"{self.module}:{self.function}:{self.line}:{self.operator}"

    @property
    def site(self) -> str:
        """The mutant's name that survives edits elsewhere in the file: its site's rank in the function."""
        return f"{self.module}:{self.function}#{self.index}:{self.operator}"


# ------------------------------------------------------------------------------------------------ mutation sites
def _sites(func: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """Every (node, operator) mutation site inside a function's body (docstring excluded), in a fixed order.

    Not mutated: the arguments of logging calls (``log.info(...)``: their text is a contract checked by tag, and a
    number's format in a log line is not behaviour) and ``help=`` texts.
    """
    body = func.body[1:] if (func.body and isinstance(func.body[0], ast.Expr)
                             and isinstance(func.body[0].value, ast.Constant)) else func.body
    skip: set[int] = set()
    for stmt in body:
        for node in ast.walk(stmt):
            if _is_log_call(node):
                skip.update(id(sub) for sub in ast.walk(node) if sub is not node)
            if isinstance(node, ast.Expr) and _is_log_call(node.value):
                skip.add(id(node))
        for node in ast.walk(stmt):
            if id(node) not in skip:
                yield from _node_sites(node)


def _is_log_call(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("debug", "info", "warning", "error", "exception")
            and isinstance(node.func.value, ast.Name) and node.func.value.id in ("log", "logger", "_log"))


def _node_sites(node: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in _CMP_SWAP:
                yield node, f"cmp{i}:{type(op).__name__}"
    elif isinstance(node, ast.BinOp) and type(node.op) in _BIN_SWAP:
        yield node, f"binop:{type(node.op).__name__}"
    elif isinstance(node, ast.AugAssign) and type(node.op) in _BIN_SWAP:
        yield node, f"augop:{type(node.op).__name__}"
    elif isinstance(node, ast.BoolOp):
        yield node, f"boolop:{type(node.op).__name__}"
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub, ast.Invert)):
        yield node, f"unary:{type(node.op).__name__}"
    elif isinstance(node, ast.Constant) and isinstance(node.value, (bool, int, float)) and not isinstance(
            node.value, complex):
        yield node, f"const:{node.value!r}"
    elif isinstance(node, ast.Call):
        for i, _ in enumerate(node.keywords):
            if node.keywords[i].arg not in (None, "help"):
                yield node, f"dropkw:{node.keywords[i].arg}"
        if isinstance(node.func, ast.Name) and node.func.id in ("min", "max"):
            yield node, f"minmax:{node.func.id}"
    elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
        yield node, "negate"
    elif isinstance(node, ast.Return) and node.value is not None and not (
            isinstance(node.value, ast.Constant) and node.value.value is None):
        yield node, "return_none"
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        yield node, "drop_call"


def _mutate(node: ast.AST, operator: str) -> ast.AST | None:
    """The mutated copy of ``node`` (None: delete the statement)."""
    new = copy.deepcopy(node)
    kind, _, arg = operator.partition(":")
    if kind.startswith("cmp"):
        i = int(kind[3:])
        new.ops[i] = _CMP_SWAP[type(new.ops[i])]()
    elif kind in ("binop", "augop"):
        new.op = _BIN_SWAP[type(new.op)]()
    elif kind == "boolop":
        new.op = ast.Or() if isinstance(new.op, ast.And) else ast.And()
    elif kind == "unary":
        return new.operand
    elif kind == "const":
        v = new.value
        new.value = (not v) if isinstance(v, bool) else (v + 1 if isinstance(v, int) else (v * 2 if v else 1.0))
    elif kind == "dropkw":
        new.keywords = [k for k in new.keywords if k.arg != arg]
    elif kind == "minmax":
        new.func.id = "max" if arg == "min" else "min"
    elif kind == "negate":
        new.test = ast.UnaryOp(ast.Not(), new.test)
    elif kind == "return_none":
        new.value = ast.Constant(None)
    elif kind == "drop_call":
        return ast.Pass()
    return new


class _Replace(ast.NodeTransformer):
    def __init__(self, target: ast.AST, operator: str):
        self.target, self.operator = target, operator

    def generic_visit(self, node):
        if node is self.target:
            out = _mutate(node, self.operator)
            return ast.copy_location(out, node) if out is not None else None
        return super().generic_visit(node)


# ------------------------------------------------------------------------------------------------ modules
def _module_file(module: str) -> Path:
    return Path(importlib.util.find_spec(module).origin)


_SOURCES: dict[str, str] = {}  # module -> its source as read once (editing the tree during a run changes nothing)


def _source(module: str) -> str:
    if module not in _SOURCES:
        _SOURCES[module] = _module_file(module).read_text()
    return _SOURCES[module]


def _function_nodes(tree: ast.Module, names: tuple[str, ...]) -> dict[str, ast.AST]:
    found: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    found[f"{node.name}.{sub.name}"] = sub
    if names == ("*",):
        return found
    missing = [n for n in names if n not in found]
    if missing:
        print(f"note: {', '.join(missing)} not found (renamed?): skipped", file=sys.stderr)
    return {n: found[n] for n in names if n in found}


def list_mutants(only: str | None = None) -> list[Mutant]:
    mutants = []
    for module, names in TARGETS.items():
        if only and only not in module:
            continue
        source = _source(module)
        lines = source.splitlines()
        for name, fnode in _function_nodes(ast.parse(source), names).items():
            for i, (node, operator) in enumerate(_sites(fnode)):
                line = getattr(node, "lineno", fnode.lineno)
                mutants.append(Mutant(module, name, i, line, operator, lines[line - 1].strip()))
    return mutants


def _live_function(module_obj, qualname: str):
    obj = module_obj
    for part in qualname.split("."):
        obj = vars(obj)[part] if isinstance(obj, type) else getattr(obj, part)
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if isinstance(obj, property):
        obj = obj.fget
    return obj


def _mutated_code(m: Mutant):
    """The code object of ``m.function`` with the mutation applied."""
    path = _module_file(m.module)
    tree = ast.parse(_source(m.module))
    fnode = _function_nodes(tree, (m.function,))[m.function]
    node, operator = list(_sites(fnode))[m.index]
    _Replace(node, operator).visit(tree)
    ast.fix_missing_locations(tree)
    code = compile(tree, str(path), "exec")
    first = fnode.decorator_list[0].lineno if fnode.decorator_list else fnode.lineno  # a code object starts there
    return _find_code(code, m.function.split(".")[-1], first)


def _find_code(code, name: str, lineno: int):
    for const in code.co_consts:
        if hasattr(const, "co_name"):
            if const.co_name == name and const.co_firstlineno == lineno:
                return const
            inner = _find_code(const, name, lineno)
            if inner is not None:
                return inner
    return None


# ------------------------------------------------------------------------------------------------ test map
def map_tests(test_paths: list[str], out: Path) -> dict:
    """Run the tests once in a child: {function key: [node ids calling it]} and each test's duration."""
    code = f"""
import json, sys, threading
sys.path.insert(0, {str(ROOT)!r})
sys.path.insert(0, {str(ROOT / 'bench')!r})
import mutation_mission as mm
codes = mm.target_codes()
current = [None]
calls, durations, outcome = {{}}, {{}}, {{}}
def profile(frame, event, arg):
    if event == "call" and current[0] is not None:
        key = codes.get(frame.f_code)
        if key is not None:
            calls.setdefault(key, set()).add(current[0])
class Plugin:
    def pytest_runtest_setup(self, item):
        current[0] = item.nodeid
    def pytest_runtest_logreport(self, report):
        durations[report.nodeid] = durations.get(report.nodeid, 0.0) + report.duration
        if report.failed:
            outcome[report.nodeid] = "failed"
    def pytest_runtest_teardown(self, item):
        current[0] = None
sys.setprofile(profile)
threading.setprofile(profile)
import pytest
rc = pytest.main({test_paths!r} + ["-q", "-p", "no:cacheprovider", "-m", "not slow and not gpu"], plugins=[Plugin()])
sys.setprofile(None)
json.dump({{"rc": int(rc), "calls": {{k: sorted(v) for k, v in calls.items()}}, "durations": durations,
           "failed": sorted(outcome)}}, open({str(out)!r}, "w"))
"""
    import subprocess
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False)
    return json.loads(out.read_text())


def target_codes() -> dict:
    """{code object: "module:function"} of every target function (the live ones, as imported)."""
    codes = {}
    for module, names in TARGETS.items():
        mod = importlib.import_module(module)
        tree = ast.parse(_source(module))
        for name in _function_nodes(tree, names):
            try:
                codes[_live_function(mod, name).__code__] = f"{module}:{name}"
            except (AttributeError, KeyError):
                pass
    return codes


# ------------------------------------------------------------------------------------------------ run
def _start_mutant(m: Mutant, tests: list[str]) -> int | str:
    """Fork a child running ``tests`` with the mutant in place; its pid, or 'error: ...'."""
    try:
        new_code = _mutated_code(m)
    except SyntaxError as exc:
        return f"error: {exc}"
    if new_code is None:
        return "error: code object not found"
    pid = os.fork()
    if pid == 0:  # child
        try:
            import pytest
            func = _live_function(importlib.import_module(m.module), m.function)
            func.__code__ = new_code
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            rc = pytest.main(tests + ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"])
            os._exit(0 if rc == 0 else 1)
        except BaseException:  # noqa: BLE001 - the child must exit, whatever the mutant did
            os._exit(2)
    return pid


def _poll(pid: int, deadline: float) -> str | None:
    """The finished child's outcome, 'timeout' (killed) past its deadline, or None while it runs."""
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        return "survived" if os.waitstatus_to_exitcode(status) == 0 else "killed"
    if time.monotonic() > deadline:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return "timeout"
    return None


def _test_paths() -> list[str]:
    paths = []
    for name in TEST_FILES:
        hits = sorted((ROOT / "tests").rglob(name))
        paths.extend(str(p.relative_to(ROOT)) for p in hits)
    return paths


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", help="mutate only the target modules whose name contains this")
    p.add_argument("--list", action="store_true", help="count the mutants per function and stop")
    p.add_argument("--max", type=int, default=0, help="run at most this many mutants (spread over the list)")
    p.add_argument("--json", help="write every mutant's outcome to this file")
    p.add_argument("--keys", help="run only the mutants whose key (module:function:line:operator) is listed in this "
                                  "file, one per line (e.g. the survivors of an earlier run)")
    p.add_argument("--extra-tests", help="JSON {mutant key: [test node ids]} run first for those mutants (the tests "
                                         "written for the survivors of an earlier run, not yet in the test map)")
    p.add_argument("--test-budget", type=float, default=0.0,
                   help="run, per mutant, only the fastest tests calling its function up to this many seconds of "
                        "their unmutated duration (0: all of them)")
    p.add_argument("--timeout-factor", type=float, default=3.0,
                   help="a mutant's tests may take this many times their unmutated duration (+30 s) before the "
                        "run counts as a hang; raise it on a loaded machine")
    p.add_argument("--jobs", type=int, default=1, help="mutants run at once (forked children)")
    p.add_argument("--map", help="the test map's file: reused when it exists, else written there")
    args = p.parse_args(argv)
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    mutants = list_mutants(args.only)
    if args.list:
        per: dict[str, int] = {}
        for m in mutants:
            per[f"{m.module}:{m.function}"] = per.get(f"{m.module}:{m.function}", 0) + 1
        for k, v in sorted(per.items()):
            print(f"{v:5d}  {k}")
        print(f"{len(mutants)} mutants")
        return 0
    if args.keys:
        wanted = set(Path(args.keys).read_text().split())
        mutants = [m for m in mutants if m.key in wanted or m.site in wanted]
    if args.max and len(mutants) > args.max:
        step = len(mutants) / args.max
        mutants = [mutants[int(i * step)] for i in range(args.max)]
    os.environ.setdefault("ZEMOSAIC_NUMBA_WARMUP", "0")
    with tempfile.TemporaryDirectory(prefix="zemosaic_mutation_") as tmp:
        t0 = time.perf_counter()
        map_file = Path(args.map) if args.map else Path(tmp) / "map.json"
        test_map = json.loads(map_file.read_text()) if map_file.is_file() else map_tests(_test_paths(), map_file)
        if test_map["failed"]:
            print(f"the unmutated tests fail: {test_map['failed']}", file=sys.stderr)
            return 2
        print(f"test map: {len(test_map['durations'])} tests in {time.perf_counter() - t0:.0f} s")
        for module in TARGETS:  # the parent imports everything once; children start from here
            importlib.import_module(module)
        importlib.import_module("pytest")
        if args.extra_tests:
            for key, tests in json.loads(Path(args.extra_tests).read_text()).items():
                test_map["calls"][key] = tests  # the mutant's own entry, looked up before its function's
        outcomes = _run_all(mutants, test_map, args.jobs, args.test_budget, args.timeout_factor)
    return _report(outcomes, args.json)


def _run_all(mutants: list[Mutant], test_map: dict, jobs: int, test_budget: float,
             timeout_factor: float = 3.0) -> list[tuple[Mutant, str]]:
    durations = test_map["durations"]
    outcomes: dict[int, str] = {}
    running: dict[int, tuple[int, float]] = {}  # mutant index -> (pid, deadline)
    t0, queue = time.perf_counter(), list(range(len(mutants)))
    while queue or running:
        while queue and len(running) < jobs:
            k = queue.pop(0)
            m = mutants[k]
            tests = test_map["calls"].get(m.key, []) + test_map["calls"].get(m.site, []) + _within_budget(
                sorted(test_map["calls"].get(f"{m.module}:{m.function}", []), key=lambda t: durations.get(t, 1.0)),
                durations, test_budget)
            if m.key in EQUIVALENT or m.site in EQUIVALENT:
                _record(outcomes, k, m, "equivalent", len(mutants), t0)
            elif not tests:
                _record(outcomes, k, m, "no test", len(mutants), t0)
            else:
                started = _start_mutant(m, tests)
                if isinstance(started, str):
                    _record(outcomes, k, m, started, len(mutants), t0)
                else:
                    budget = timeout_factor * sum(durations.get(t, 1.0) for t in tests) + 30.0
                    running[k] = (started, time.monotonic() + budget)
        for k, (pid, deadline) in list(running.items()):
            outcome = _poll(pid, deadline)
            if outcome is not None:
                del running[k]
                _record(outcomes, k, mutants[k], outcome, len(mutants), t0)
        time.sleep(0.05)
    return [(mutants[k], outcomes[k]) for k in range(len(mutants))]


def _within_budget(tests: list[str], durations: dict, budget: float) -> list[str]:
    """The fastest tests first, as many as fit in ``budget`` seconds (at least one); all when budget is 0."""
    if budget <= 0:
        return tests
    kept, total = [], 0.0
    for t in tests:
        if kept and total + durations.get(t, 1.0) > budget:
            break
        kept.append(t)
        total += durations.get(t, 1.0)
    return kept


def _record(outcomes: dict, k: int, m: Mutant, outcome: str, total: int, t0: float) -> None:
    outcomes[k] = outcome
    if outcome in ("survived", "no test") or outcome.startswith("error"):
        print(f"  {outcome:9s} {m.key}  [{m.text[:90]}]", flush=True)
    if len(outcomes) % 25 == 0:
        print(f"{len(outcomes)}/{total} mutants, {time.perf_counter() - t0:.0f} s", flush=True)


def _report(outcomes: list[tuple[Mutant, str]], json_path: str | None) -> int:
    counts: dict[str, int] = {}
    for _, o in outcomes:
        key = "error" if o.startswith("error") else o
        counts[key] = counts.get(key, 0) + 1
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    alive = counts.get("survived", 0) + counts.get("no test", 0)
    score = killed / max(killed + alive, 1)
    print(f"mutants: {len(outcomes)}  killed {counts.get('killed', 0)}  timeout {counts.get('timeout', 0)}  "
          f"survived {counts.get('survived', 0)}  no test {counts.get('no test', 0)}  "
          f"equivalent {counts.get('equivalent', 0)}  error {counts.get('error', 0)}")
    print(f"mutation score (killed / non-equivalent): {100 * score:.1f} %")
    if json_path:
        Path(json_path).write_text(json.dumps([{"key": m.key, "site": m.site, "text": m.text, "outcome": o}
                                               for m, o in outcomes], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
