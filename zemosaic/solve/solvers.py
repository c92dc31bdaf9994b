"""Local plate solvers behind one interface; never a network service.

Backends, in the order ``plate_solver = auto`` tries them:

``astrometry``   astrometry.net in-process through the ``astrometry`` package from the package index (extra
                 ``zemosaic[solve]``); it loads standard astrometry.net index files (``index-41xx``, ``index-52xx``...,
                 Debian's ``astrometry-data-tycho2`` included). Fastest: no process start, index files loaded once.
``solve-field``  astrometry.net's command-line solver, when installed (Debian/Ubuntu ``astrometry.net``, Homebrew,
                 Windows through WSL or ANSVR); fed our star list as an xylist, so it does no source extraction.
``astap``        ASTAP, when its executable is found (common on Windows); it solves the image itself with its own
                 star database (D50/D80/V50...).

Every backend gets the frame's detected stars (brightest first) and its pointing/scale hint. With a position
hint the search is narrowed to ``search_radius_deg`` around it and the scale to +-``scale_tolerance``;
without one the solve is blind (all sky, wide scale range). A backend returns a first WCS and the catalogue
stars it matched; :func:`zemosaic.solve.refine.refine_tan_wcs` then fits the final TAN WCS on all pairs.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning

from zemosaic.solve.hints import PointingHint
from zemosaic.solve.index_catalogue import DEFAULT_INDEX_FOLDERS, INDEX_DIR_ENV, find_index_files
from zemosaic.solve.refine import refine_tan_wcs

__all__ = [
    "PLATE_SOLVERS",
    "PlateSolveError",
    "SolverUnavailableError",
    "SolveFailedError",
    "SolveRequest",
    "SolveResult",
    "PlateSolver",
    "AstrometryPackageSolver",
    "SolveFieldSolver",
    "AstapSolver",
    "select_solver",
    "install_hint",
]

log = logging.getLogger(__name__)

PLATE_SOLVERS = ("auto", "astrometry", "solve-field", "astap", "none")
_MAX_SOLVE_STARS = 100          # brightest detected stars handed to a solver
_MAX_QUADS = 5000               # field quads the in-process solver tries: bounds a failing solve to ~1-2 s
_BLIND_SCALE_RANGE = (0.3, 30.0)  # arcsec/px searched when a frame has no scale hint
_ASTAP_LOCATIONS = ("/opt/astap/astap", "/usr/bin/astap", "/usr/local/bin/astap",
                    "/Applications/ASTAP.app/Contents/MacOS/astap", r"C:\Program Files\astap\astap.exe",
                    r"C:\Program Files (x86)\astap\astap.exe")


class PlateSolveError(RuntimeError):
    """A plate solve could not be done (the message says why)."""


class SolverUnavailableError(PlateSolveError):
    """No usable solver (or no index files): the message is one line naming what to install and where we looked."""


class SolveFailedError(PlateSolveError):
    """The solver ran but found no solution for this field."""


@dataclass(frozen=True)
class SolveRequest:
    """One field to solve: detected stars ``(N, 2)`` (0-based x, y, brightest first), the image shape
    ``(H, W)``, its hint and, for solvers that read pixels themselves (ASTAP), a 2-D luminance image."""

    stars_xy: np.ndarray
    shape: tuple[int, int]
    hint: PointingHint
    image: np.ndarray | None = None


@dataclass(frozen=True)
class SolveResult:
    """A solved field: its WCS, which solver found it, whether it was blind, the stars the final fit rests on,
    their RMS residual (pixels) and the solve time (seconds, refinement included)."""

    wcs: WCS
    solver: str
    blind: bool
    n_matched: int
    residual_px: float
    time_s: float


class PlateSolver(Protocol):
    """What the pipeline needs of a solver backend (``in_process``: a solve costs milliseconds, no process)."""

    name: str
    in_process: bool

    def solve(self, request: SolveRequest) -> SolveResult:
        """Solve one field; raise :class:`SolveFailedError` when there is no solution."""
        ...


def install_hint(index_dirs: Sequence[Path]) -> str:
    """The one line that says what to install, and where index files were looked for."""
    where = ", ".join(str(d) for d in index_dirs) or "nowhere"
    return ("install a local plate solver: `pip install \"zemosaic[solve]\"` (astrometry.net in-process) with "
            "astrometry.net index files 4107-4110 (Debian/Ubuntu: apt install astrometry-data-tycho2; others: "
            "download index-4107..4110 from data.astrometry.net into one of the folders searched, or set "
            f"ZEMOSAIC_INDEX_DIR), or ASTAP with its D50 database; index files searched in: {where}")


def select_solver(choice: str = "auto", *, index_dirs: Sequence[str | Path] | None = None,
                  astap_path: str | None = None, astap_database_dir: str | None = None, timeout_s: float = 60.0,
                  search_radius_deg: float = 3.0, scale_tolerance: float = 0.1) -> PlateSolver:
    """The solver backend for ``choice`` (one of :data:`PLATE_SOLVERS` but ``none``).

    Raises
    ------
    SolverUnavailableError
        The chosen backend (or, for ``auto``, every backend) is missing, or no index file was found.
    ValueError
        Unknown ``choice``.
    """
    if choice not in PLATE_SOLVERS or choice == "none":
        raise ValueError(f"plate_solver must be one of {', '.join(PLATE_SOLVERS[:-1])}, got {choice!r}")
    folders = [Path(d).expanduser() for d in index_dirs] if index_dirs else _default_folders()
    index_files = find_index_files(folders)
    opts = dict(timeout_s=timeout_s, search_radius_deg=search_radius_deg, scale_tolerance=scale_tolerance)
    candidates = [choice] if choice != "auto" else ["astrometry", "solve-field", "astap"]
    reasons = []
    for name in candidates:
        try:
            return _make_solver(name, index_files, astap_path, astap_database_dir, opts)
        except SolverUnavailableError as exc:
            reasons.append(str(exc))
    detail = "; ".join(reasons)
    raise SolverUnavailableError(f"no plate solver usable ({detail}): {install_hint(folders)}")


def _default_folders() -> list[Path]:
    env = [p for p in os.environ.get(INDEX_DIR_ENV, "").split(os.pathsep) if p]
    return [Path(p).expanduser() for p in (*env, *DEFAULT_INDEX_FOLDERS)]


def _make_solver(name: str, index_files: list[Path], astap_path: str | None, astap_database_dir: str | None,
                 opts: dict) -> PlateSolver:
    if name == "astap":
        exe = _find_astap(astap_path)
        if exe is None:
            raise SolverUnavailableError("astap: executable not found")
        return AstapSolver(exe, database_dir=astap_database_dir, **opts)
    if not index_files:
        raise SolverUnavailableError(f"{name}: no astrometry.net index file found")
    if name == "astrometry":
        try:
            import astrometry  # noqa: F401  (optional extra)
        except ImportError:
            raise SolverUnavailableError("astrometry: the `astrometry` package is not installed") from None
        return AstrometryPackageSolver(index_files, **opts)
    exe = shutil.which("solve-field")
    if exe is None:
        raise SolverUnavailableError("solve-field: not on PATH")
    return SolveFieldSolver(exe, index_files, **opts)


class _HintedSolver:
    """Shared search settings and the refinement step of the astrometry.net backends."""

    name = "base"
    in_process = False

    def __init__(self, *, timeout_s: float, search_radius_deg: float, scale_tolerance: float):
        self.timeout_s = float(timeout_s)
        self.search_radius_deg = float(search_radius_deg)
        self.scale_tolerance = float(scale_tolerance)

    def _scale_range(self, hint: PointingHint) -> tuple[float, float]:
        if hint.scale_arcsec:
            return hint.scale_arcsec * (1 - self.scale_tolerance), hint.scale_arcsec * (1 + self.scale_tolerance)
        return _BLIND_SCALE_RANGE

    def _finish(self, request: SolveRequest, first: WCS, cat_ra, cat_dec, t0: float) -> SolveResult:
        refined = refine_tan_wcs(first, request.stars_xy, np.asarray(cat_ra), np.asarray(cat_dec), request.shape)
        if refined is None:
            raise SolveFailedError(f"{self.name}: the solution is not confirmed by the detected stars")
        return SolveResult(refined.wcs, self.name, not request.hint.has_position, refined.n_matched,
                           refined.residual_px, time.perf_counter() - t0)


class AstrometryPackageSolver(_HintedSolver):
    """astrometry.net in-process (the ``astrometry`` package); index files are loaded once, on first use."""

    name = "astrometry"
    in_process = True  # a solve costs milliseconds: solving every frame is cheaper than registering frames

    def __init__(self, index_files: Sequence[Path], **opts):
        super().__init__(**opts)
        self.index_files = [Path(p) for p in index_files]
        self._solver: Any = None  # astrometry.Solver (optional package, untyped), made on the first solve

    def solve(self, request: SolveRequest) -> SolveResult:
        import astrometry

        t0 = time.perf_counter()
        if self._solver is None:
            with _quiet_astrometry_log():
                self._solver = astrometry.Solver(self.index_files)
        lo, hi = self._scale_range(request.hint)
        position = None
        hint_ra, hint_dec = request.hint.ra_deg, request.hint.dec_deg
        if hint_ra is not None and hint_dec is not None:  # request.hint.has_position
            position = astrometry.PositionHint(float(hint_ra) % 360.0, float(hint_dec), self.search_radius_deg)
        deadline = t0 + self.timeout_s
        params = astrometry.SolutionParameters(
            sip_order=0, tune_up_logodds_threshold=None, maximum_quads=_MAX_QUADS,
            logodds_callback=lambda logodds: _keep_searching(logodds, deadline))
        stars = np.asarray(request.stars_xy, dtype=np.float64)[:_MAX_SOLVE_STARS]
        with _quiet_astrometry_log():
            solution = self._solver.solve(stars=stars.tolist(), size_hint=astrometry.SizeHint(lo, hi),
                                          position_hint=position, solution_parameters=params)
        if not solution.has_match():
            raise SolveFailedError(f"astrometry: no match within {time.perf_counter() - t0:.1f} s "
                                   f"({len(stars)} stars, scale {lo:.2f}-{hi:.2f}\"/px"
                                   f"{'' if position is None else f', {self.search_radius_deg} deg around the hint'})")
        match = solution.best_match()
        ra = [s.ra_deg for s in match.stars]
        dec = [s.dec_deg for s in match.stars]
        return self._finish(request, match.astropy_wcs(), ra, dec, t0)

    def close(self) -> None:
        """Release the loaded index files."""
        if self._solver is not None:
            self._solver.close()
            self._solver = None


class _DropAstrometryRecords(logging.Filter):
    """Drops the records the astrometry package's extension writes on the root logger (about ten INFO lines per
    solve: slices, index files, log-odds); our own line per solve says what matters."""

    def filter(self, record: logging.LogRecord) -> bool:
        return f"{os.sep}astrometry{os.sep}" not in record.pathname


@contextmanager
def _quiet_astrometry_log() -> Iterator[None]:
    root, dropper = logging.getLogger(), _DropAstrometryRecords()
    root.addFilter(dropper)
    try:
        yield
    finally:
        root.removeFilter(dropper)


def _keep_searching(logodds: list[float], deadline: float):
    import astrometry

    if logodds or time.perf_counter() > deadline:
        return astrometry.Action.STOP  # the first verified match is enough: we refine it on all stars
    return astrometry.Action.CONTINUE


class SolveFieldSolver(_HintedSolver):
    """astrometry.net's ``solve-field`` on an xylist of our stars (no source extraction, no plots)."""

    name = "solve-field"
    in_process = False

    def __init__(self, executable: str, index_files: Sequence[Path], **opts):
        super().__init__(**opts)
        self.executable = executable
        self.index_files = [Path(p) for p in index_files]

    def solve(self, request: SolveRequest) -> SolveResult:
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="zemosaic_solve_") as tmp:
            work = Path(tmp)
            xylist = _write_xylist(work / "field.xyls", request.stars_xy[:_MAX_SOLVE_STARS])
            config = _write_config(work / "solve.cfg", self.index_files, self.timeout_s)
            cmd = self._command(request, xylist, config, work)
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout_s + 30)
            wcs_path = work / "field.wcs"
            if proc.returncode != 0 or not wcs_path.exists():
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no solution"]
                raise SolveFailedError(f"solve-field: no solution in {time.perf_counter() - t0:.1f} s ({tail[0]})")
            first = _quiet_wcs(fits.getheader(wcs_path))
            ra, dec = _corr_catalogue(work / "field.corr")
        return self._finish(request, first, ra, dec, t0)

    def _command(self, request: SolveRequest, xylist: Path, config: Path, work: Path) -> list[str]:
        lo, hi = self._scale_range(request.hint)
        height, width = request.shape
        cmd = [self.executable, str(xylist), "--config", str(config), "--dir", str(work), "--overwrite",
               "--no-plots", "--no-remove-lines", "--no-tweak", "--width", str(width), "--height", str(height),
               "--x-column", "X", "--y-column", "Y", "--sort-column", "FLUX", "--scale-units", "arcsecperpix",
               "--scale-low", f"{lo:.4f}", "--scale-high", f"{hi:.4f}", "--new-fits", "none", "--rdls", "none",
               "--match", "none", "--solved", "none", "--temp-axy",
               "--cpulimit", str(int(max(1, self.timeout_s)))]
        if request.hint.has_position:
            cmd += ["--ra", f"{request.hint.ra_deg:.6f}", "--dec", f"{request.hint.dec_deg:.6f}",
                    "--radius", f"{self.search_radius_deg:.3f}"]
        return cmd


def _write_xylist(path: Path, stars_xy: np.ndarray) -> Path:
    """An xylist FITS table (1-based X, Y as astrometry.net expects; FLUX ranks brightest first)."""
    xy = np.asarray(stars_xy, dtype=np.float64)
    flux = np.arange(len(xy), 0, -1, dtype=np.float64)
    cols = [fits.Column("X", "D", array=xy[:, 0] + 1.0), fits.Column("Y", "D", array=xy[:, 1] + 1.0),
            fits.Column("FLUX", "D", array=flux)]
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(cols)]).writeto(path, overwrite=True)
    return path


def _write_config(path: Path, index_files: Sequence[Path], timeout_s: float) -> Path:
    lines = [f"cpulimit {int(max(1, timeout_s))}", "inparallel"] + [f"index {p}" for p in index_files]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _corr_catalogue(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Catalogue RA/Dec of the stars solve-field matched (its .corr table); empty when absent."""
    if not path.exists():
        return np.zeros(0), np.zeros(0)
    with fits.open(path) as hdul:
        table = hdul[1].data
        return np.asarray(table["index_ra"], float), np.asarray(table["index_dec"], float)


class AstapSolver:
    """ASTAP on a temporary FITS of the luminance; reads back the ``.wcs`` header it writes.

    ASTAP matches against its own star database, not astrometry.net index files, so its WCS is used as it
    is: ``residual_px`` is NaN and ``n_matched`` is the count ASTAP writes (0 when it writes none).
    """

    name = "astap"
    in_process = False

    def __init__(self, executable: str, *, timeout_s: float, search_radius_deg: float, scale_tolerance: float,
                 database_dir: str | None = None):
        self.executable = executable
        self.database_dir = database_dir
        self.timeout_s = float(timeout_s)
        self.search_radius_deg = float(search_radius_deg)
        self.scale_tolerance = float(scale_tolerance)

    def solve(self, request: SolveRequest) -> SolveResult:
        if request.image is None:
            raise SolveFailedError("astap: needs the image, not only its stars")
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="zemosaic_astap_") as tmp:
            image_path = Path(tmp) / "field.fits"
            fits.PrimaryHDU(np.asarray(request.image, dtype=np.float32)).writeto(image_path)
            proc = subprocess.run(self.command(request, image_path), capture_output=True, text=True,
                                  timeout=self.timeout_s + 30)
            wcs_path = image_path.with_suffix(".wcs")
            if proc.returncode != 0 or not wcs_path.exists():
                raise SolveFailedError(f"astap: no solution in {time.perf_counter() - t0:.1f} s "
                                       f"(exit {proc.returncode})")
            header = fits.Header.fromtextfile(wcs_path) if _is_text(wcs_path) else fits.getheader(wcs_path)
        wcs = _quiet_wcs(header)
        if not wcs.has_celestial:
            raise SolveFailedError("astap: its .wcs file holds no celestial WCS")
        wcs.pixel_shape = (request.shape[1], request.shape[0])
        return SolveResult(wcs, self.name, not request.hint.has_position, int(header.get("NSTARS", 0) or 0),
                           float("nan"), time.perf_counter() - t0)

    def command(self, request: SolveRequest, image_path: Path) -> list[str]:
        """ASTAP's command line: position hint in hours and south-pole distance, field height in degrees."""
        hint = request.hint
        cmd = [self.executable, "-f", str(image_path), "-wcs", "-z", "0", "-s", str(_MAX_SOLVE_STARS)]
        if self.database_dir:
            cmd += ["-d", str(self.database_dir)]
        if hint.scale_arcsec:
            cmd += ["-fov", f"{hint.scale_arcsec * request.shape[0] / 3600.0:.4f}"]
        if hint.ra_deg is not None and hint.dec_deg is not None:  # hint.has_position
            cmd += ["-ra", f"{float(hint.ra_deg) / 15.0:.6f}", "-spd", f"{float(hint.dec_deg) + 90.0:.6f}",
                    "-r", f"{self.search_radius_deg:.3f}"]
        else:
            cmd += ["-r", "180"]
        return cmd


def _quiet_wcs(header: fits.Header) -> WCS:
    """The WCS of a header-only file (astropy warns that the header has no image axes: expected here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        return WCS(header, naxis=2, relax=True)


def _is_text(path: Path) -> bool:
    """ASTAP writes its .wcs as a FITS header with newlines (text) on some versions, as a FITS block on others."""
    head = path.read_bytes()[:2880]
    return b"\n" in head


def _find_astap(explicit: str | None) -> str | None:
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    found = shutil.which("astap") or shutil.which("astap_cli")
    if found:
        return found
    return next((p for p in _ASTAP_LOCATIONS if os.access(p, os.X_OK)), None)
