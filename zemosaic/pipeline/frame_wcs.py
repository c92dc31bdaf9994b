"""Phase 1b: give every frame of a run a WCS, solving as few fields as possible (with the solvers of
:mod:`zemosaic.solve` and the grouping of Phase 2, :mod:`zemosaic.pipeline.clustering`).

What is done, in order:

1. Frames with a usable header WCS keep it (``wcs_source = auto | header``); ``wcs_source = solve`` ignores it.
2. A frame whose file content is in the WCS cache (keyed by SHA-256) takes its cached WCS: a re-run solves nothing.
3. Frames with a pointing hint are grouped by hint (the clustering of Phase 2 on the hint positions). In each
   group, ONE frame is plate-solved: the one nearest the group centre (another if it fails, up to three). Every
   other frame is registered to it on their star lists (astroalign's triangle matching on half-resolution
   star positions, refined by least squares on all pairs) and its WCS is the solved one carried over by that
   similarity transform (exact for a TAN WCS).
4. Frames that do not register (wrong hint, another panel of a Seestar mosaic that wrote the same target into
   every panel, clouds) and frames without any hint are solved on their own (hint-assisted, else blind).
5. A frame that cannot be solved is rejected with the solver's reason; the run goes on with the rest.

Phase 2 then clusters every frame on its (solved or carried-over) WCS, so a mosaic whose panels all carry the
same hint still splits into its real panels. Each master tile's WCS is its reference frame's WCS, as with header
WCSs. Solutions go to the cache as they are found, and optionally to ``.wcs`` sidecars in the output folder;
the input files are only read.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from zemosaic.align.stars import detect_stars
from zemosaic.align.transform import fit_similarity
from zemosaic.io import fits as fits_io
from zemosaic.pipeline.clustering import cluster_frames
from zemosaic.progress import ProgressCallback, emit
from zemosaic.solve import prechecks
from zemosaic.solve.cache import (
    CachedWcs,
    WcsCache,
    exact_terms,
    file_sha256,
    wcs_to_header,
    write_wcs_sidecar,
)
from zemosaic.solve.hints import PointingHint, hint_from_header
from zemosaic.solve.index_catalogue import index_stars
from zemosaic.solve.refine import RefinedWcs, refine_tan_wcs, tan_wcs
from zemosaic.solve.solvers import (
    PlateSolveError,
    PlateSolver,
    SolveFailedError,
    SolveRequest,
    SolveResult,
    SolverUnavailableError,
    select_solver,
)

__all__ = ["WCS_SOURCES", "SolveSettings", "FrameWcsRecord", "FrameAstrometry", "assign_frame_wcs"]

log = logging.getLogger(__name__)

WCS_SOURCES = ("auto", "header", "solve")
_BIN = 2                      # star lists for registration come from 2x2-binned luminance
_SOLVE_TRIES = 3              # frames of a hint group tried as its solved reference
_MIN_REGISTER_PAIRS = 8       # star pairs a registration needs
_MAX_SCALE_DEVIATION = 0.01   # frames of one instrument: a registration must keep the scale
_DEFAULT_SCALE_ARCSEC = 2.4   # only to size the hint clustering when a frame gives no scale


@dataclass(frozen=True)
class SolveSettings:
    """The configuration of Phase 1b, resolved once (see the config keys of the same names)."""

    wcs_source: str = "auto"
    plate_solver: str = "auto"
    index_dirs: tuple[str, ...] = ()
    astap_path: str | None = None
    astap_database_dir: str | None = None
    timeout_s: float = 60.0
    search_radius_deg: float = 3.0
    default_scale_arcsec: float | None = None
    cache_dir: Path | None = None
    sidecar_dir: Path | None = None
    debayer_method: str = "edge_aware"
    solve_strategy: str = "auto"
    blind_budget_s: float = 120.0


@dataclass(frozen=True)
class FrameWcsRecord:
    """How one frame got its WCS, for the run report.

    ``source``: ``header``, ``solved`` (plate-solved itself) or ``aligned`` (the solved WCS of ``reference``
    carried over by the registration transform); ``cached`` when it came from the WCS cache. For ``solved``,
    ``n_matched`` and ``residual_px`` are the catalogue stars of the final fit and their RMS; for ``aligned``
    the registered star pairs and their RMS. ``time_s`` is the solve (or registration) time.
    """

    path: str
    source: str
    cached: bool = False
    solver: str | None = None
    blind: bool = False
    n_matched: int = 0
    residual_px: float = float("nan")
    time_s: float = 0.0
    reference: str | None = None
    hint: str = ""


@dataclass
class FrameAstrometry:
    """The frames that have a WCS (in input order), one record per frame, and the frames left out."""

    frames: list[Any]
    records: list[FrameWcsRecord]
    rejected: list[tuple[Path, str]] = field(default_factory=list)
    n_solves: int = 0
    solve_time_s: float = 0.0

    def summary(self) -> dict:
        """Counts per WCS source, solves and their time, for the log and the run report."""
        counts: dict[str, int] = {}
        for rec in self.records:
            key = rec.source + (" (cached)" if rec.cached else "")
            counts[key] = counts.get(key, 0) + 1
        return {"sources": counts, "rejected": len(self.rejected), "n_solves": self.n_solves,
                "solve_time_s": round(self.solve_time_s, 3)}


def assign_frame_wcs(frames: Sequence[Any], settings: SolveSettings,
                     progress_callback: ProgressCallback | None = None) -> FrameAstrometry:
    """Give every scanned frame a WCS (see the module docstring); ``frames`` hold ``.path`` and ``.info``.

    Returns
    -------
    FrameAstrometry
        ``frames`` are copies of the input items whose ``info.wcs`` is set, in input order, without the
        rejected ones.

    Raises
    ------
    SolverUnavailableError
        Some frames need a solve and no solver is usable, and no frame has a WCS at all: nothing can be built.
    """
    if settings.wcs_source not in WCS_SOURCES:
        raise ValueError(f"wcs_source must be one of {', '.join(WCS_SOURCES)}, got {settings.wcs_source!r}")
    job = _Job(frames, settings, progress_callback)
    job.run()
    return job.outcome()


class _Job:
    """The state of one Phase 1b: which frame has which WCS so far, and the records."""

    def __init__(self, frames: Sequence[Any], settings: SolveSettings, progress_callback):
        self.frames, self.settings, self.progress = list(frames), settings, progress_callback
        self.wcs: dict[int, Any] = {}
        self.records: dict[int, FrameWcsRecord] = {}
        self.rejected: dict[int, str] = {}
        self.keys: dict[int, str] = {}
        self.cache = WcsCache(settings.cache_dir) if settings.cache_dir else None
        self.solver: PlateSolver | None = None
        self.n_solves, self.solve_time = 0, 0.0
        self.binned: dict[int, np.ndarray | None] = {}  # the stars of each frame's 2x2-binned copy, found once
        self.blind = prechecks.BlindBudget(settings.blind_budget_s)
        self.need: list[int] = []  # the frames this run solves or registers (for the progress events)

    # --- the steps -----------------------------------------------------------------------------------
    def run(self) -> None:
        need = [i for i, f in enumerate(self.frames) if not self._keeps_header_wcs(i, f)]
        if not need:
            return
        if self.settings.wcs_source == "header":
            for i in need:
                self.rejected[i] = f"{self.frames[i].info.wcs_problem} and wcs_source=header"
            return
        self.need = need
        emit(self.progress, "solve", 0, len(need), f"{len(need)} frame(s) without a WCS")
        need = [i for i in need if not self._too_small(i)]  # before the cache: a thumbnail costs no read
        need = [i for i in need if not self._from_cache(i)]
        if not need or not self._open_solver(need):
            self._progress(None)
            return
        hints = {i: hint_from_header(self.frames[i].info.header,
                                     default_scale_arcsec=self.settings.default_scale_arcsec) for i in need}
        need = self._pre_checked(need, hints)
        if self._every_frame():
            for i in need:  # the binned stars first; the full-resolution ones when they do not solve
                if not self._solve(i, hints[i], quick=True) and i not in self.rejected:
                    self._solve(i, hints[i])
                self._progress(i)
        else:
            hinted = [i for i in need if hints[i].has_position]
            alone = [i for i in need if i not in hinted]
            for group in _hint_groups(hinted, hints, self.frames):
                alone += self._solve_group(group, hints)
            for i in alone:
                self._solve(i, hints[i])
                self._progress(i)
        self._progress(None)
        log.info("plate solve: %s", self.outcome().summary())

    def _progress(self, i: int | None) -> None:
        """One ``solve`` event: the frames settled so far (solved, cached, registered or rejected) of those
        without a header WCS; ``i`` the frame just settled (None: the end of Phase 1b)."""
        done = sum(1 for k in self.need if k in self.wcs or k in self.rejected)
        if i is None:
            message = "plate solving done"
        else:
            message = f"{self.frames[i].path.name} {'solved' if i in self.wcs else 'rejected'}"
        emit(self.progress, "solve", done, len(self.need), message)

    def _too_small(self, i: int) -> bool:
        """Reject (with the reason) a frame too small to plate-solve, from its header's shape."""
        problem = prechecks.size_problem(self.frames[i].info.shape)
        if problem is not None:
            self._reject_unsolved(i, problem)
        return problem is not None

    def _pre_checked(self, need: list[int], hints: dict[int, PointingHint]) -> list[int]:
        """The frames that pass the checks made before any solve (:mod:`zemosaic.solve.prechecks`); the others
        are rejected with the reason, without a solve."""
        kept = []
        for i in need:
            problem = prechecks.stars_problem(self._binned_count(i))
            if problem is None:
                kept.append(i)
            else:
                self._reject_unsolved(i, problem)
        positions = {k: _position(self.wcs[k], self.frames[k].info.shape) for k in self.wcs}
        positions.update({i: (float(hints[i].ra_deg), float(hints[i].dec_deg))  # type: ignore[arg-type]
                          for i in kept if hints[i].has_position})
        candidates = {i: positions[i] for i in kept if i in positions and i not in self.wcs}
        fov = {i: _fov_deg(self.frames[i].info.shape, hints[i].scale_arcsec) for i in candidates}
        far = prechecks.far_hints(candidates, positions, fov)
        for i, reason in far.items():
            self._reject_unsolved(i, reason)
        n_out = len(need) - len(kept) + len(far)
        if n_out:
            log.info("plate solve: %d of %d frame(s) rejected before any solve (stars, far hint)", n_out, len(need))
        return [i for i in kept if i not in far]

    def _binned_count(self, i: int) -> int | None:
        stars = self._binned(i)
        return None if stars is None else len(stars)

    def _binned(self, i: int) -> np.ndarray | None:
        if i not in self.binned:
            try:
                self.binned[i] = _binned_stars(self.frames[i].path)
            except Exception as exc:  # noqa: BLE001 - the star finder's failure on one frame rejects that frame
                log.info("plate solve: star detection failed on %s: %s: %s", self.frames[i].path.name,
                         type(exc).__name__, exc)
                self.binned[i] = None
        return self.binned[i]

    def _reject_unsolved(self, i: int, reason: str) -> None:
        problem = self.frames[i].info.wcs_problem
        self.rejected[i] = f"{problem + '; ' if problem else ''}not plate-solved: {reason}"
        log.info("plate solve: %s rejected: %s", self.frames[i].path.name, reason)
        self._progress(i)

    def _every_frame(self) -> bool:
        """``solve_strategy``: ``auto`` solves every frame with an in-process solver (a solve costs ~20 ms there,
        less than registering a frame on another), one frame per field with a solver that runs as a process."""
        strategy = self.settings.solve_strategy
        every = strategy == "every_frame" or (strategy == "auto" and bool(getattr(self.solver, "in_process", False)))
        log.info("plate solve: strategy %s -> %s", strategy, "every frame" if every else "one frame per field")
        return every

    def _keeps_header_wcs(self, i: int, frame) -> bool:
        if frame.info.wcs is None or self.settings.wcs_source == "solve":
            return False
        self.wcs[i] = frame.info.wcs
        self.records[i] = FrameWcsRecord(str(frame.path), "header")
        return True

    def _from_cache(self, i: int) -> bool:
        self.keys[i] = file_sha256(self.frames[i].path)
        entry = self.cache.get(self.keys[i]) if self.cache else None
        if entry is None:
            return False
        self._accept(i, entry.wcs, FrameWcsRecord(
            str(self.frames[i].path), entry.source, True, entry.solver, entry.blind, entry.n_matched,
            entry.residual_px, 0.0, entry.reference, entry.hint), cache=False)
        return True

    def _open_solver(self, need: list[int]) -> bool:
        if self.settings.plate_solver == "none":
            for i in need:
                self.rejected[i] = (f"{self.frames[i].info.wcs_problem} and plate_solver=none (set plate_solver=auto "
                                    "to solve it locally)")
            return False
        try:
            self.solver = select_solver(self.settings.plate_solver, index_dirs=self.settings.index_dirs,
                                        astap_path=self.settings.astap_path,
                                        astap_database_dir=self.settings.astap_database_dir,
                                        timeout_s=self.settings.timeout_s,
                                        search_radius_deg=self.settings.search_radius_deg)
        except SolverUnavailableError as exc:
            if not self.wcs:
                raise
            log.warning("%d frames without a WCS left out: %s", len(need), exc)
            for i in need:
                self.rejected[i] = f"no celestial WCS and no plate solver: {exc}"
            return False
        log.info("plate solve: %d frames need a WCS; solver %s", len(need), self.solver.name)
        return True

    def _solve_group(self, group: list[int], hints: dict[int, PointingHint]) -> list[int]:
        """Solve one frame of a hint group and register the others to it; return the frames left to solve alone."""
        stars = {i: self._binned(i) for i in group}
        order = sorted(group, key=lambda i: _hint_distance(hints[i], hints, group))
        tried = order[:_SOLVE_TRIES]
        solved = next((ref for ref in tried if self._solve(ref, hints[ref])), None)
        for ref in tried:
            self._progress(ref)
        if solved is None:
            return order[_SOLVE_TRIES:]
        left = []
        for i in group:
            if i in self.wcs:
                continue
            if self._register_isolated(i, solved, stars):
                self._progress(i)
            elif i not in tried:
                left.append(i)
        return left

    def _register_isolated(self, i: int, ref: int, stars: dict[int, np.ndarray | None]) -> bool:
        """:meth:`_register` behind a per-frame boundary: any failure leaves the frame to be solved alone."""
        try:
            return self._register(i, ref, stars)
        except Exception as exc:  # noqa: BLE001 - one frame's failure must not stop Phase 1b
            log.warning("plate solve: registering %s on %s failed (%s: %s); solving it alone",
                        self.frames[i].path.name, self.frames[ref].path.name, type(exc).__name__, exc)
            return False

    def _solve(self, i: int, hint: PointingHint, *, quick: bool = False) -> bool:
        """Plate-solve frame ``i`` on its own: from its full-resolution stars, or (``quick``) from the stars of
        its 2x2-binned luminance (no debayering; a failure then leaves the frame for a full solve)."""
        frame = self.frames[i]
        t0 = time.perf_counter()
        try:
            request = self._quick_request(i, hint) if quick else self._full_request(frame, hint)
            result = self._solve_request(request, blind_retry=not quick)
        except Exception as exc:  # noqa: BLE001 - any failure of any backend rejects this frame, not the run
            self.solve_time += time.perf_counter() - t0
            self.n_solves += 1
            if not isinstance(exc, (PlateSolveError, fits_io.FitsInputError, OSError)):
                log.warning("plate solve: %s: the solver failed (%s: %s); frame rejected", frame.path.name,
                            type(exc).__name__, exc)
                exc = PlateSolveError(f"the solver failed on it ({type(exc).__name__}: {exc or 'no message'})")
            if quick and not isinstance(exc, prechecks.BlindBudgetSpent):
                return False
            problem = frame.info.wcs_problem
            self.rejected[i] = f"{problem + '; ' if problem else ''}plate solve failed: {exc}"
            log.info("plate solve: %s not solved (%s)", frame.path.name, exc)
            return False
        self.n_solves += 1
        self.solve_time += result.time_s
        log.info("plate solve: %s solved by %s (%s) in %.2f s, %d stars, residual %.3f px", frame.path.name,
                 result.solver, "blind" if result.blind else "hint", result.time_s, result.n_matched,
                 result.residual_px)
        self._accept(i, result.wcs, FrameWcsRecord(
            str(frame.path), "solved", False, result.solver, result.blind, result.n_matched,
            round(result.residual_px, 4), round(time.perf_counter() - t0, 3), None, hint.source))
        return True

    def _solve_request(self, request: SolveRequest, *, blind_retry: bool) -> SolveResult:
        """Solve with the hint; when that fails and ``blind_retry``, solve blind (the hint may be wrong: a
        mount that was not synced, a panel of a mosaic given the mosaic's target)."""
        if not request.hint.has_position:
            return self._solve_blind(request)
        assert self.solver is not None
        try:
            return self.solver.solve(request)
        except SolveFailedError as exc:
            if not blind_retry:
                raise
            log.info("plate solve: no solution near the hint (%s); solving blind", exc)
        blind = PointingHint(None, None, request.hint.scale_arcsec, f"{request.hint.source} (position ignored)")
        return self._solve_blind(dataclasses.replace(request, hint=blind))

    def _solve_blind(self, request: SolveRequest) -> SolveResult:
        """A blind solve, drawn on the run's budget (``solve_blind_budget_s``)."""
        assert self.solver is not None
        if not self.blind.allows():
            raise prechecks.BlindBudgetSpent(self.blind.reason())
        t0 = time.perf_counter()
        try:
            return self.solver.solve(request)
        finally:
            self.blind.charge(time.perf_counter() - t0)

    def _full_request(self, frame, hint: PointingHint) -> SolveRequest:
        image = fits_io.read_frame(frame.path, debayer_method=self.settings.debayer_method, require_wcs=False).data
        plane = image.mean(axis=2) if image.ndim == 3 else image
        return SolveRequest(_detect(plane), plane.shape, hint, plane)

    def _quick_request(self, i: int, hint: PointingHint) -> SolveRequest:
        stars = self._binned(i)
        if stars is None:
            raise SolveFailedError("unreadable frame")
        return SolveRequest(stars, self.frames[i].info.shape, hint, None)

    def _register(self, i: int, ref: int, stars: dict[int, np.ndarray | None]) -> bool:
        t0 = time.perf_counter()
        fit = _register_star_lists(stars[i], stars[ref])
        if fit is None:
            log.info("plate solve: %s does not register on %s; solving it alone", self.frames[i].path.name,
                     self.frames[ref].path.name)
            return False
        matrix, n_pairs, rms = fit
        shape = self.frames[i].info.shape
        wcs = carry_wcs(self.wcs[ref], matrix, shape)
        refined = self._refine_on_catalogue(wcs, stars[i], shape)
        if refined is not None:
            wcs, n_pairs, rms = refined.wcs, refined.n_matched, refined.residual_px
        self._accept(i, wcs, FrameWcsRecord(
            str(self.frames[i].path), "aligned", False, None, False, n_pairs, round(rms, 4),
            round(time.perf_counter() - t0, 3), str(self.frames[ref].path)))
        return True

    def _refine_on_catalogue(self, wcs, stars: np.ndarray | None, shape: tuple[int, int]) -> RefinedWcs | None:
        """The carried WCS fitted again on the catalogue stars of its field (when the solver reads index files):
        the registration only gives the first guess, so carried WCSs are as exact as solved ones."""
        index_files = getattr(self.solver, "index_files", None)
        if not index_files or stars is None:
            return None
        height, width = shape
        ra, dec = wcs.wcs_pix2world([[(width - 1) / 2.0, (height - 1) / 2.0]], 0)[0]
        radius = 0.55 * math.hypot(width, height) * math.sqrt(abs(np.linalg.det(wcs.pixel_scale_matrix)))
        cat = index_stars(float(ra), float(dec), radius, index_files)
        refined = refine_tan_wcs(wcs, stars, cat.ra, cat.dec, shape, radius_px=2.0)
        return refined if refined is not None and refined.n_matched >= _MIN_REGISTER_PAIRS else None

    def _accept(self, i: int, wcs, record: FrameWcsRecord, *, cache: bool = True) -> None:
        self.wcs[i], self.records[i] = wcs, record
        self.rejected.pop(i, None)
        frame = self.frames[i]
        if cache and self.cache is not None:
            reference = self.keys.get(self._index_of(record.reference)) if record.reference else None
            self.cache.put(self.keys[i], CachedWcs(wcs_to_header(wcs), record.source, record.solver or "",
                                                   record.blind, record.n_matched, record.residual_px,
                                                   record.time_s, reference, exact_terms(wcs), record.hint),
                           file_name=frame.path.name)
        if self.settings.sidecar_dir is not None:
            write_wcs_sidecar(self.settings.sidecar_dir / f"{frame.path.stem}.wcs", wcs, frame.info.shape)

    def _index_of(self, path: str | None) -> int:
        return next(k for k, f in enumerate(self.frames) if str(f.path) == path)

    def outcome(self) -> FrameAstrometry:
        kept = []
        for i, frame in enumerate(self.frames):
            if i in self.wcs:
                info = dataclasses.replace(frame.info, wcs=_with_shape(self.wcs[i], frame.info.shape))
                kept.append(dataclasses.replace(frame, info=info))
        rejected = [(self.frames[i].path, reason) for i, reason in sorted(self.rejected.items())]
        records = [self.records[i] for i in sorted(self.records)]
        return FrameAstrometry(kept, records, rejected, self.n_solves, self.solve_time)


# --- maths and helpers ----------------------------------------------------------------------------------
def carry_wcs(reference_wcs, matrix: np.ndarray, shape: tuple[int, int]):
    """The WCS of a frame whose pixels map onto the reference's by ``p_ref = A p + t`` (``matrix`` 3x3 or 2x3,
    0-based pixels). Exact for a TAN reference: ``CD = CD_ref A``, ``CRPIX = A^-1 (CRPIX_ref - t)``."""
    a, t = np.asarray(matrix, float)[:2, :2], np.asarray(matrix, float)[:2, 2]
    ref = reference_wcs.wcs
    cd_ref = ref.cd if ref.has_cd() else ref.get_pc() * ref.cdelt[:, None]
    crpix0 = np.linalg.solve(a, np.asarray(ref.crpix, float) - 1.0 - t)
    return tan_wcs((float(ref.crval[0]), float(ref.crval[1])), (float(crpix0[0]), float(crpix0[1])),
                   cd_ref @ a, shape)


def _position(wcs, shape: tuple[int, int]) -> tuple[float, float]:
    """The sky position (RA, Dec degrees) of the centre of an image of ``shape`` (H, W)."""
    height, width = shape
    ra, dec = wcs.celestial.wcs_pix2world([[(width - 1) / 2.0, (height - 1) / 2.0]], 0)[0]
    return float(ra), float(dec)


def _fov_deg(shape: tuple[int, int], scale_arcsec: float | None) -> float:
    """The diagonal of a frame's field (degrees), at its hinted scale (or the usual Seestar one)."""
    return math.hypot(*shape) * (scale_arcsec or _DEFAULT_SCALE_ARCSEC) / 3600.0


def _with_shape(wcs, shape: tuple[int, int]):
    wcs.pixel_shape = (int(shape[1]), int(shape[0]))
    return wcs


@dataclass(frozen=True)
class _HintedFrame:
    """What the clustering needs, from a hint instead of a WCS."""

    shape: tuple[int, int]
    mount_mode: str | None
    date_obs: str | None
    center_radec: tuple[float, float]
    pixel_scale_arcsec: float


def _hint_groups(indices: list[int], hints: dict[int, PointingHint], frames) -> list[list[int]]:
    if not indices:
        return []
    proxies = [_HintedFrame(frames[i].info.shape, frames[i].info.mount_mode, frames[i].info.date_obs,
                            (float(hints[i].ra_deg), float(hints[i].dec_deg)),  # type: ignore[arg-type]
                            hints[i].scale_arcsec or _DEFAULT_SCALE_ARCSEC) for i in indices]
    groups = cluster_frames(proxies, threshold_fov_frac=0.5, split_by_mount=False, max_frames=len(indices))
    return [[indices[m] for m in g.members] for g in groups]


def _hint_distance(hint: PointingHint, hints: dict[int, PointingHint], group: list[int]) -> float:
    """Angular distance proxy of a hint to the mean hint of its group (the most central frame is tried first)."""
    ra = np.radians([float(hints[i].ra_deg) for i in group])  # type: ignore[arg-type]
    dec = np.radians([float(hints[i].dec_deg) for i in group])  # type: ignore[arg-type]
    centre = np.array([np.mean(np.cos(dec) * np.cos(ra)), np.mean(np.cos(dec) * np.sin(ra)), np.mean(np.sin(dec))])
    r, d = math.radians(float(hint.ra_deg)), math.radians(float(hint.dec_deg))  # type: ignore[arg-type]
    return -float(np.dot(centre, [math.cos(d) * math.cos(r), math.cos(d) * math.sin(r), math.sin(d)]))


def _detect(plane: np.ndarray) -> np.ndarray:
    """Star positions (N, 2), 0-based x, y, brightest first: ZeMosaic's one star finder."""
    return detect_stars(np.ascontiguousarray(plane, dtype=np.float32))


def _binned_stars(path: Path) -> np.ndarray | None:
    """Stars of the 2x2-binned luminance, in full-resolution pixel coordinates; None when unreadable."""
    try:
        lum = fits_io.read_luminance(path, binning=_BIN)
    except (fits_io.FitsInputError, OSError):
        return None
    return _detect(lum) * _BIN + (_BIN - 1) / 2.0


def _register_star_lists(src: np.ndarray | None, dst: np.ndarray | None):
    """Similarity ``dst ~ A src + t`` from two star lists: astroalign's triangle matching, then least squares
    on all mutual nearest pairs within 2 px. Returns ``(3x3 matrix, n_pairs, rms_px)`` or None."""
    import astroalign

    if src is None or dst is None or len(src) < _MIN_REGISTER_PAIRS or len(dst) < _MIN_REGISTER_PAIRS:
        return None
    try:
        first, _ = astroalign.find_transform(src, dst, max_control_points=50)
    except (astroalign.MaxIterError, ValueError, TypeError):
        return None
    matrix = first.params
    for radius in (2.0, 1.0):
        pred = src @ matrix[:2, :2].T + matrix[:2, 2]
        dist, j = cKDTree(dst).query(pred, distance_upper_bound=radius)
        hit = np.isfinite(dist)
        if hit.sum() < _MIN_REGISTER_PAIRS:
            return None
        matrix, _ = fit_similarity(src[hit], dst[j[hit]])
    resid = np.hypot(*(src[hit] @ matrix[:2, :2].T + matrix[:2, 2] - dst[j[hit]]).T)
    scale = math.sqrt(abs(np.linalg.det(matrix[:2, :2])))
    if abs(scale - 1.0) > _MAX_SCALE_DEVIATION:
        return None
    return matrix, int(hit.sum()), float(np.sqrt(np.mean(resid ** 2)))
