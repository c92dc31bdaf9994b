"""Packaging: what ``pip install .`` puts at the top level of site-packages, that it installs beside PyPI's
``progress``, ``background``, ``stacking``, ``alignment`` and ``synthetic`` without either side breaking the
other, and that an editable install picks up a new module without being re-run.

The wheel is built once per session from a copy of the source tree (an in-tree build would leave ``build/``
in the repository, and a stale ``build/lib`` can smuggle removed modules into a wheel). The fresh virtual
environments borrow the test environment's installed dependencies (numpy, astropy, numba...) through a
``.pth`` path line instead of downloading them again; a path line adds that folder to ``sys.path`` but does
not run that folder's own ``.pth`` files, so the editable install of zemosaic stays invisible there, which
the tests check before installing the wheel.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import uuid
import zipfile
from base64 import urlsafe_b64encode
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Everything our wheel may put at the top level of site-packages (the issue: 22 generic module names did).
EXPECTED_TOP_LEVEL = {"zemosaic", "zemosaic_worker", "zemosaic_align_stack", "zemosaic_align_stack_gpu", "lecropper"}

# PyPI distributions named like our former top-level modules; each installs a top-level package or module of
# that same name (background-0.2.1 a single ``background.py``, the others a package folder).
PYPI_NEIGHBOURS = ("progress", "background", "stacking", "alignment", "synthetic")

# pip's output when the index cannot be reached (only then are the PyPI tests skipped).
_NETWORK_ERROR = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Network is unreachable|No route to host"
    r"|Temporary failure in name resolution|Name or service not known|nodename nor servname"
    r"|Max retries exceeded|ConnectTimeout|Read timed out|Connection refused|Connection reset|ProxyError"
    r"|SSLError|CERTIFICATE_VERIFY_FAILED",
    re.IGNORECASE,
)

_COPY_IGNORE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".*cache", ".venv*",
                                      "shared", "*.fits", "*.fit", "*.png")

_BIN = "Scripts" if os.name == "nt" else "bin"
_EXE = ".exe" if os.name == "nt" else ""


def _clean_env(venv: Path | None = None) -> dict:
    """The environment for child processes: no PYTHONPATH/PYTHONHOME leaking the source tree in."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH", "VIRTUAL_ENV"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if venv is not None:
        env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = str(venv / _BIN) + os.pathsep + env.get("PATH", "")
    return env


def _run(cmd: list, *, cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env if env is not None else _clean_env(),
                          capture_output=True, text=True, timeout=timeout)


def _output(proc: subprocess.CompletedProcess) -> str:
    return f"exit code {proc.returncode}\n--- stdout\n{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-6000:]}"


def _version_tuple(text: str) -> tuple:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _local_build_backend_ok() -> bool:
    """True when this environment can build the wheel offline (``--no-build-isolation``): setuptools at the
    version pyproject's [build-system] asks for (>= 68) and a bdist_wheel (the ``wheel`` package, or
    setuptools >= 70.1 which carries its own)."""
    try:
        setuptools_version = _version_tuple(metadata.version("setuptools"))
    except metadata.PackageNotFoundError:
        return False
    if setuptools_version < (68,):
        return False
    if setuptools_version >= (70, 1):
        return True
    try:
        metadata.version("wheel")
    except metadata.PackageNotFoundError:
        return False
    return True


def _pip_wheel(args: list, *, cwd: Path, what: str) -> None:
    """``pip wheel`` ARGS; skip the test when pip failed because the package index cannot be reached."""
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--timeout", "20", "--retries", "1"]
    if _local_build_backend_ok():
        cmd.append("--no-build-isolation")
    proc = _run(cmd + args, cwd=cwd)
    if proc.returncode != 0:
        if _NETWORK_ERROR.search(proc.stdout + proc.stderr):
            pytest.skip(f"package index unreachable while building {what}: "
                        f"{_NETWORK_ERROR.search(proc.stdout + proc.stderr).group(0)}")
        pytest.fail(f"pip wheel failed for {what}\n{_output(proc)}")


@pytest.fixture(scope="session")
def source_copy(tmp_path_factory) -> Path:
    """A snapshot of the source tree, without VCS, caches or build leftovers."""
    dest = tmp_path_factory.mktemp("src") / "zemosaic-src"
    shutil.copytree(REPO, dest, ignore=_COPY_IGNORE)
    return dest


@pytest.fixture(scope="session")
def our_wheel(tmp_path_factory, source_copy) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _pip_wheel(["-w", out, source_copy], cwd=out, what="the zemosaic wheel")
    wheels = sorted(out.glob("zemosaic-*.whl"))
    assert len(wheels) == 1, f"expected one zemosaic wheel, found {[w.name for w in out.iterdir()]}"
    return wheels[0]


@pytest.fixture(scope="session")
def neighbour_wheels(tmp_path_factory) -> dict:
    """The PyPI distributions named like our former top-level modules, as wheels ({name: path})."""
    out = tmp_path_factory.mktemp("pypi")
    _pip_wheel(["-w", out, *PYPI_NEIGHBOURS], cwd=out, what=", ".join(PYPI_NEIGHBOURS) + " from the index")
    found = {}
    for whl in out.glob("*.whl"):
        name = whl.name.split("-")[0].lower()
        found[name] = whl
    missing = set(PYPI_NEIGHBOURS) - set(found)
    assert not missing, f"no wheel for {sorted(missing)}: {[w.name for w in out.iterdir()]}"
    return found


def _wheel_top_level(names: list) -> set:
    """The importable names a wheel puts at the top level of site-packages (files other than modules and
    packages are listed by their full name, so a stray ``.pth`` or data file shows up too)."""
    top = set()
    for name in names:
        parts = name.split("/")
        if parts[0].endswith(".dist-info"):
            continue
        if parts[0].endswith(".data"):
            if len(parts) > 2 and parts[1] in {"purelib", "platlib"}:
                parts = parts[2:]
            else:
                continue  # scripts, headers, data: not importable
        if len(parts) > 1:
            top.add(parts[0])
        elif parts[0].endswith(".py"):
            top.add(parts[0][:-3])
        elif parts[0].endswith((".so", ".pyd")):
            top.add(parts[0].split(".")[0])
        elif parts[0]:
            top.add(parts[0])
    return top


# ---------------------------------------------------------------------------------------------- (a) the wheel

def test_wheel_top_level_is_only_ours(our_wheel):
    with zipfile.ZipFile(our_wheel) as zf:
        top = _wheel_top_level(zf.namelist())
    assert top == EXPECTED_TOP_LEVEL, (f"unexpected top-level names {sorted(top - EXPECTED_TOP_LEVEL)}, "
                                       f"missing {sorted(EXPECTED_TOP_LEVEL - top)}")


def test_wheel_holds_every_subpackage_and_module(our_wheel, source_copy):
    with zipfile.ZipFile(our_wheel) as zf:
        in_wheel = set(zf.namelist())
    package_root = source_copy / "zemosaic"
    subpackages = sorted(p.parent.relative_to(source_copy).as_posix()
                         for p in package_root.rglob("__init__.py"))
    assert "zemosaic/pipeline" in subpackages  # the walk did find the tree
    missing_packages = [p for p in subpackages if f"{p}/__init__.py" not in in_wheel]
    assert not missing_packages, f"subpackages missing from the wheel: {missing_packages}"
    # Every module file too, so that a folder without __init__.py (not found by setuptools) is caught.
    modules = sorted(p.relative_to(source_copy).as_posix() for p in package_root.rglob("*.py"))
    missing_modules = [m for m in modules if m not in in_wheel]
    assert not missing_modules, f"modules missing from the wheel: {missing_modules}"


# ------------------------------------------------------------------------- (b) beside PyPI's namesakes

def _outer_site_dirs() -> list:
    """The test environment's site-packages folders (where numpy, astropy, numba... are installed)."""
    dirs = []
    candidates = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    candidates += [p for p in sys.path if Path(p).name in {"site-packages", "dist-packages"}]
    for p in candidates:
        path = Path(p).resolve()
        if path.is_dir() and path not in dirs and path != REPO:
            dirs.append(path)
    return dirs


def _make_venv(root: Path) -> tuple:
    """A fresh venv (no pip of its own) that sees the test environment's site-packages but not zemosaic."""
    outer = _outer_site_dirs()
    for site_dir in outer:
        if (site_dir / "zemosaic" / "__init__.py").exists():
            pytest.skip(f"zemosaic is installed non-editable in {site_dir}: a venv sharing it cannot tell "
                        "our wheel apart")
    proc = _run([sys.executable, "-m", "venv", "--without-pip", root], cwd=root.parent)
    assert proc.returncode == 0, _output(proc)
    python = root / _BIN / f"python{_EXE}"
    env = _clean_env(root)
    proc = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root, env=env)
    assert proc.returncode == 0, _output(proc)
    site_packages = Path(proc.stdout.strip())
    (site_packages / "_zemosaic_test_shared_site.pth").write_text("".join(f"{d}\n" for d in outer))
    # The claim this set-up rests on: the shared folders' own .pth files (the editable finder) are not run.
    proc = _run([python, "-I", "-c", "import numpy, astropy, pip\nimport zemosaic"], cwd=root, env=env)
    assert proc.returncode != 0 and "No module named 'zemosaic'" in proc.stderr, (
        "the fresh venv must see the shared dependencies but not zemosaic before our wheel is installed\n"
        + _output(proc))
    return python, site_packages, env


def _pip_install(python: Path, wheels: list, *, cwd: Path, env: dict) -> None:
    proc = _run([python, "-m", "pip", "install", "--no-index", "--no-deps", "--ignore-installed", *wheels],
                cwd=cwd, env=env)
    assert proc.returncode == 0, _output(proc)


def _record_digests(site_packages: Path, dist_name: str) -> dict:
    """{path: sha256} of every file a distribution's RECORD lists (what pip installed for it)."""
    (dist_info,) = site_packages.glob(f"{dist_name}-*.dist-info")
    digests = {}
    for line in (dist_info / "RECORD").read_text().splitlines():
        path = line.rsplit(",", 2)[0]
        target = (site_packages / path).resolve()
        if target.is_file() and not path.endswith("RECORD"):
            raw = hashlib.sha256(target.read_bytes()).digest()
            digests[path] = urlsafe_b64encode(raw).rstrip(b"=").decode()
    return digests


_CHECK_NEIGHBOURS = textwrap.dedent("""
    import importlib.util, io, json, sys
    from pathlib import Path
    site = Path(sys.argv[1]).resolve()
    origins = {}
    for name in sys.argv[2:]:
        spec = importlib.util.find_spec(name)
        origins[name] = str(Path(spec.origin).resolve().relative_to(site)) if spec and spec.origin else None
    import progress
    from progress.bar import Bar
    out = io.StringIO()
    bar = Bar("probe", max=3, file=out, check_tty=False, hide_cursor=False)
    for _ in range(3):
        bar.next()
    bar.finish()
    import background
    print(json.dumps({
        "origins": origins,
        "progress_has_ProgressEvent": hasattr(progress, "ProgressEvent"),
        "progress_attrs": [a for a in ("Infinite", "Progress", "__version__") if hasattr(progress, a)],
        "bar_output": out.getvalue(),
        "background_attrs": [a for a in ("run", "task", "callback") if hasattr(background, a)],
    }))
""")

_CHECK_OURS = textwrap.dedent("""
    import json
    import zemosaic, zemosaic.progress, zemosaic.background
    import zemosaic_worker, zemosaic_align_stack, zemosaic_align_stack_gpu, lecropper
    print(json.dumps({"zemosaic": zemosaic.__file__, "ProgressEvent": hasattr(zemosaic.progress, "ProgressEvent"),
                      "run_mosaic": hasattr(zemosaic_worker, "run_mosaic")}))
""")


def test_installs_beside_pypi_namesakes_and_runs(tmp_path, our_wheel, neighbour_wheels):
    python, site_packages, env = _make_venv(tmp_path / "venv")
    _pip_install(python, [neighbour_wheels[n] for n in PYPI_NEIGHBOURS], cwd=tmp_path, env=env)
    _pip_install(python, [our_wheel], cwd=tmp_path, env=env)
    zemosaic_exe = tmp_path / "venv" / _BIN / f"zemosaic{_EXE}"

    proc = _run([zemosaic_exe, "--version"], cwd=tmp_path, env=env)
    assert proc.returncode == 0 and proc.stdout.strip().startswith("zemosaic "), _output(proc)

    # PyPI's packages are still the ones imported under their names, and still work.
    proc = _run([python, "-I", "-c", _CHECK_NEIGHBOURS, site_packages, *PYPI_NEIGHBOURS], cwd=tmp_path, env=env)
    assert proc.returncode == 0, _output(proc)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["origins"] == {"progress": "progress/__init__.py", "background": "background.py",
                                 "stacking": "stacking/__init__.py", "alignment": "alignment/__init__.py",
                                 "synthetic": "synthetic/__init__.py"}, report
    assert not report["progress_has_ProgressEvent"]
    assert report["progress_attrs"] == ["Infinite", "Progress", "__version__"]
    assert "3/3" in report["bar_output"] or "probe" in report["bar_output"], report["bar_output"]
    assert report["background_attrs"] == ["run", "task", "callback"]

    # Ours imports from the fresh venv's site-packages, with our own progress module.
    proc = _run([python, "-I", "-c", _CHECK_OURS], cwd=tmp_path, env=env)
    assert proc.returncode == 0, _output(proc)
    ours = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(ours["zemosaic"]).resolve().is_relative_to(site_packages.resolve()), ours
    assert ours["ProgressEvent"] and ours["run_mosaic"]

    # A tiny end-to-end run: two panels of three small frames.
    frames = tmp_path / "frames"
    proc = _run([zemosaic_exe, "synth", "--panels", "1x2", "--frames", "3", "--size", "160x240", "--scale", "4.8",
                 "--mount", "equatorial", frames], cwd=tmp_path, env=env)
    assert proc.returncode == 0, _output(proc)
    out = tmp_path / "out"
    proc = _run([zemosaic_exe, "run", frames, "-o", out], cwd=tmp_path, env=env)
    assert proc.returncode == 0, _output(proc)
    assert (out / "mosaic.fits").is_file(), _output(proc)


def test_pypi_namesakes_installed_after_ours_overwrite_nothing(tmp_path, our_wheel, neighbour_wheels):
    python, site_packages, env = _make_venv(tmp_path / "venv")
    _pip_install(python, [our_wheel], cwd=tmp_path, env=env)
    before = _record_digests(site_packages, "zemosaic")
    assert any(p.startswith("zemosaic/") for p in before) and "zemosaic_worker.py" in before
    _pip_install(python, [neighbour_wheels[n] for n in PYPI_NEIGHBOURS], cwd=tmp_path, env=env)
    assert _record_digests(site_packages, "zemosaic") == before
    proc = _run([tmp_path / "venv" / _BIN / f"zemosaic{_EXE}", "--version"], cwd=tmp_path, env=env)
    assert proc.returncode == 0 and proc.stdout.strip().startswith("zemosaic "), _output(proc)


# ------------------------------------------------------------------------------- (c) the editable install

def _editable_source() -> Path | None:
    """The source folder of an editable install of zemosaic in the running environment, or None."""
    from urllib.parse import unquote, urlparse

    # Every metadata folder named zemosaic: a source tree's own zemosaic.egg-info may come first on sys.path.
    for dist in metadata.distributions(name="zemosaic"):
        raw = dist.read_text("direct_url.json")
        if not raw:
            continue
        info = json.loads(raw)
        if info.get("dir_info", {}).get("editable") and info.get("url", "").startswith("file://"):
            return Path(unquote(urlparse(info["url"]).path)).resolve()
    return None


def test_editable_install_sees_new_modules(tmp_path):
    source = _editable_source()
    if source is None:
        pytest.skip("zemosaic is not installed in editable mode (pip install -e .) in this environment")
    if source != REPO:
        pytest.skip(f"the editable install of zemosaic points at {source}, not at this tree ({REPO})")
    name = f"_probe_{uuid.uuid4().hex[:12]}"
    probe = REPO / "zemosaic" / f"{name}.py"
    token = uuid.uuid4().hex
    try:
        probe.write_text(f'"""Temporary module written by tests/install/test_packaging.py."""\nTOKEN = "{token}"\n')
        # -I: no current folder, PYTHONPATH or user site on sys.path; only the installed editable finder.
        proc = _run([sys.executable, "-I", "-c",
                     f"import zemosaic.{name} as m, zemosaic; print(m.TOKEN); print(m.__file__)"],
                    cwd=tmp_path)
        assert proc.returncode == 0, _output(proc)
        lines = proc.stdout.strip().splitlines()
        assert lines[0] == token
        assert Path(lines[1]).resolve() == probe.resolve()
    finally:
        probe.unlink(missing_ok=True)
        for cached in (REPO / "zemosaic" / "__pycache__").glob(f"{name}.*"):
            cached.unlink(missing_ok=True)
