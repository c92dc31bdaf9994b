"""Mask-aware robust stacking of aligned frames, streamed over row chunks with bounded memory.

The stacker follows the shape of a classic "combiner": frames are normalised to a reference, each frame
and channel gets a weight, a rejection step decides per pixel which samples to keep (it only updates a
*kept* description, never the data), and a separate combine step averages (weighted mean) or takes the
median of the kept samples.

Missing data
    A sample is valid when the frame's ``valid_mask`` covers the pixel (``None`` = everywhere) and every
    channel of the pixel is finite. Invalid samples are excluded from every statistic: they are never
    averaged in as zeros. A pixel with no valid frame is NaN in ``StackResult.image`` and 0 in
    ``StackResult.coverage``.

Rejection (per pixel and channel, over the valid samples only)
    Every method keeps a contiguous range of the sorted values and trims it from both ends, iterating
    until nothing changes, ``rejection_max_iterations`` is reached or fewer than
    :data:`MIN_FRAMES_FOR_REJECTION` (3) samples are left. A pixel with fewer than 3 valid samples is
    combined without rejection. The kept set is therefore exactly the valid
    samples ``v`` with ``lo <= v <= hi`` (``lo``/``hi`` = first/last kept sorted value), which is how the
    rejection "mask" is handed to the combine step without storing an ``n_frames`` mask.

    - ``kappa_sigma``: centre = median, sigma = sample standard deviation (ddof=1); reject values outside
      ``[centre - sigma_clip_low * sigma, centre + sigma_clip_high * sigma]``.
    - ``winsorized_sigma_clip`` (our design, Huber-like): centre = median; sigma starts from the
      standard deviation of the sample winsorized at the order statistics ``round(limit * k)`` of each
      tail, then is refined by iterating ``sigma <- f * std(clip(x, centre - z_lo * sigma,
      centre + z_hi * sigma))`` to convergence (relative change <= 1e-3, at most 20 steps), where
      ``z = Phi^-1(1 - limit)`` turns ``winsor_limits`` into normal quantiles (0.05 -> 1.645 sigma) and
      ``f`` is the exact normal-consistency factor of that winsorisation (1.0967 for 0.05/0.05). The
      refinement makes the estimate robust to several outliers at one pixel (two bright trails among
      ten frames are both rejected). Limits of 0 turn the method into median-centred kappa-sigma.
    - ``linear_fit_clip``: fit a least-squares line to the kept sorted values against their rank,
      the rank being expressed as its expected normal score (Blom: ``Phi^-1((r + 0.625) / (k + 0.25))``
      for rank ``r`` of ``k``), so that well-behaved samples lie on a straight line whose slope is their
      sigma. The line is fitted on the central values (10 % of ``k``, at least one, left out at each
      end once ``k >= 5``) so that the outliers under test do not pull it; trim from the low end
      while a value lies more than ``sigma_clip_low`` x slope below the line and from the high end
      while it lies more than ``sigma_clip_high`` x slope above it. (Against
      the raw rank, the sorted normal sample is S-shaped and its extremes would be clipped for nothing.)

Normalisation (per frame and channel, fitted before the chunk loop on a decimated grid, then applied per
chunk): ``none``, ``additive`` (median sky offset), ``multiplicative`` (median ratio), ``linear_fit``
(gain + offset against the reference by a Deming regression that uses both frames' measured noise, with
iterative 3-MAD clipping of the residuals; robust to stars that differ and unbiased by noise in the
reference) and ``background_match`` (``background.fit_background_match``: gain + smooth surface; with
``flatten_reference=True`` the reference's own surface from ``background.fit_reference_flattening`` is
subtracted from every frame after matching). Every frame is mapped to ``(frame - offset) / gain``.

Weighting: ``none`` or ``noise_variance``: ``1 / sigma**2`` with sigma the robust noise (1.4826 x MAD of
adjacent-pixel differences / sqrt(2)) of the *normalised* frame on ``noise_rows`` (24) sampled rows; weights are
scaled so the largest per channel is 1. Every pixel's mean divides by the sum of the weights of its own
kept samples, so the number of valid frames per pixel is always respected.

Implementation: the CPU path runs the numba kernels of :mod:`zemosaic.stack.kernels` on a thread pool (one
thread per CPU): one pass normalises each frame's rows of a chunk (NaN where a sample is not valid; a
``background_match`` model is evaluated in that same pass), then one fused kernel rejects and combines. The chunk
is frame-major, ``n_frames x (pixels x channels)`` "lanes"; the kernel takes about 480 lanes at a time, sorts the
block along the frame axis with a sorting network (Batcher's odd-even merge sort, each comparator a min/max over
all the lanes, which LLVM vectorises once the minima are written out of place), so that every method works on a
sorted column: medians and order statistics are read off it, standard deviations are one vectorised pass, the
trims move the ends of a range (kappa-sigma's first round runs over all the lanes of the block at once). The
combine step then reads the block again, in frame order, for the weights. One core, 30 frames: about 35 ns per
lane to combine, 55 more to sort and 40 more for kappa-sigma's trims (130 in all; 205 before the sort was
vectorised), 240 more for the winsorized Huber loop. The fits before the loop (the noise and ``background_match``:
numba kernels that release the GIL; ``linear_fit`` and the median methods: numpy, whose medians release it) run one
frame per task on the same pool. The array-module-
generic twin of the same maths (numpy or CuPy) lives in :mod:`zemosaic.stack.gpu`; the tests check that
both agree within float32 tolerance, and that the kernels equal a plain per-pixel reference bit for bit
(``tests/stack/test_stack_kernels.py``).

Memory: frames are read with ``frames[i][r0:r1]`` one chunk of rows at a time. The chunk height follows
``memory_budget_mb`` (``n_frames x rows x W x C x 4 bytes x backend working factor <= budget``, at least
1 row; the CPU backend caps the chunk at 192 MB, past which a bigger chunk is no faster), so peak RAM does not
grow with the number of frames; pages of ``np.memmap`` frames are released (``madvise(MADV_DONTNEED)``) once
their rows are read, over the whole frame (read-ahead maps pages beyond the rows read too), so that file-backed
pages do not pile up in the process's resident set either. Chunked and unchunked results are identical.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from zemosaic.background import BackgroundMatch, preload_fit_kernels
from zemosaic.progress import emit
from zemosaic.stack import kernels
from zemosaic.stack.frame_cache import release_rows
from zemosaic.stack.normalization import (
    BackgroundNorm,
    LinearNorm,
    RawNoise,
    as_hwc,
    check_inputs,
    fit_normalizers,
    fit_weights,
    n_channels,
    norm_record,
)
from zemosaic.stack.options import (
    COMBINE_METHODS,
    NORMALIZE_METHODS,
    REJECTION_ALGORITHMS,
    WEIGHTING_METHODS,
    StackOptions,
)

__all__ = [
    "StackResult",
    "StackOptions",
    "CpuBackend",
    "stack_aligned_images",
    "stack_frames",
    "run_stack",
    "NORMALIZE_METHODS",
    "WEIGHTING_METHODS",
    "REJECTION_ALGORITHMS",
    "COMBINE_METHODS",
    "MIN_FRAMES_FOR_REJECTION",
    "normal_scores",
]

_NORMAL = NormalDist()  # the standard normal (stdlib: scipy.stats costs half a second to import)
logger = logging.getLogger(__name__)

#: A pixel with fewer valid samples than this is combined without rejection (all methods).
MIN_FRAMES_FOR_REJECTION = 3



@dataclass(frozen=True)
class StackResult:
    """The stacked image and what it took to make it.

    Attributes
    ----------
    image : np.ndarray
        float32 ``H x W`` or ``H x W x 3``; NaN where no frame is valid.
    coverage : np.ndarray
        float32 ``H x W``: number of frames valid at the pixel (mask and finiteness), before rejection.
    rejected_fraction : float
        Rejected samples / valid samples, over all frames, pixels and channels.
    rejected_fraction_per_frame : np.ndarray
        float64 ``(n_frames,)``: the same per frame (0 for a frame without valid samples).
    weights : np.ndarray
        float64 ``(n_frames, C)``: the weights used (all 1 for ``weighting_method="none"``).
    normalization : list of dict
        Per frame, JSON-able parameters of the normalisation applied.
    n_frames : int
    timings : dict
        Seconds spent per step (``fit``, ``read``, ``reject_combine``, ``total``).
    chunk_rows : int
        Height of the row chunks the stack ran over.
    """

    image: np.ndarray
    coverage: np.ndarray
    rejected_fraction: float
    rejected_fraction_per_frame: np.ndarray
    weights: np.ndarray
    normalization: list
    n_frames: int
    timings: dict
    chunk_rows: int


def stack_aligned_images(
    frames,
    *,
    valid_masks=None,
    normalize_method: str = "background_match",
    weighting_method: str = "noise_variance",
    rejection_algorithm: str = "winsorized_sigma_clip",
    final_combine_method: str = "mean",
    sigma_clip_low: float = 3.0,
    sigma_clip_high: float = 3.0,
    winsor_limits: tuple = (0.05, 0.05),
    progress_callback: Callable | None = None,
    reference_index: int = 0,
    memory_budget_mb: float = 768.0,
    chunk_rows: int | None = None,
    background_order: int = 1,
    flatten_reference: bool = False,
    flatten_order: int = 1,
    sample_step: int | None = None,
    noise_rows: int = 24,
    linear_fit_iterations: int = 4,
    rejection_max_iterations: int = 10,
    frame_weights=None,
) -> StackResult:
    """Stack aligned frames with mask-aware normalisation, weighting, rejection and combination.

    Parameters
    ----------
    frames : sequence of array_like
        ``n`` aligned frames of one shape, ``H x W`` or ``H x W x C`` (float32 or convertible). Each is
        read chunk by chunk with ``frames[i][r0:r1]``: ``np.memmap`` frames stay on disk.
    valid_masks : sequence of (2D bool array or None), optional
        Per frame, True where the frame has data (e.g. ``~footprint`` from astroalign). ``None`` (or a
        ``None`` entry) means valid everywhere. Non-finite pixels are missing as well.
    normalize_method : {"background_match", "none", "additive", "multiplicative", "linear_fit"}
        How each frame is mapped onto the reference before combining (see the module docstring).
    weighting_method : {"noise_variance", "none"}
        Per frame and channel weights ``1 / sigma**2`` of the normalised noise, or all 1.
    rejection_algorithm : {"winsorized_sigma_clip", "none", "kappa_sigma", "linear_fit_clip"}
        Per-pixel outlier rejection over the valid samples.
    final_combine_method : {"mean", "median"}
        Weighted mean or (unweighted) median of the kept samples.
    sigma_clip_low, sigma_clip_high : float
        Rejection thresholds in sigma below / above the centre (or the fitted line); > 0.
    winsor_limits : (float, float)
        Tail fractions of the winsorisation, each in [0, 0.5) (see the module docstring).
    progress_callback : callable, optional
        Receives ``ProgressEvent("stack", done_rows, total_rows, message)`` after each chunk.
    reference_index : int
        Frame the others are normalised to.
    memory_budget_mb : float
        Working memory of one chunk of rows of all frames; sets the chunk height (> 0).
    chunk_rows : int, optional
        Force the chunk height (tests); None derives it from ``memory_budget_mb``.
    background_order : int
        Polynomial order of the ``background_match`` sky-difference surfaces.
    flatten_reference : bool
        ``background_match`` also removes the reference's own smooth surface from every frame.
    flatten_order : int
        Polynomial order of that surface.
    sample_step : int, optional
        Decimation of the normalisation fit grid; None: about 8,000 grid pixels (``linear_fit`` and the
        median methods), 8 (``background_match``).
    noise_rows : int
        Rows sampled per frame for the noise estimate (weights, ``linear_fit``).
    linear_fit_iterations : int
        Clipping rounds of the ``linear_fit`` regression.
    rejection_max_iterations : int
        Trimming rounds of the rejection at most.
    frame_weights : sequence of float, optional
        One factor > 0 per frame multiplying its weights (e.g. the frame-quality sharpness term of
        ``psf_snr``, :mod:`zemosaic.quality`); None: all 1.

    Returns
    -------
    StackResult

    Raises
    ------
    TypeError
        An unknown keyword argument.
    ValueError
        No frames, frames of different shapes, masks of the wrong shape, bad option values.
    ImportError
        ``normalize_method="background_match"`` without the ``background`` module.

    Notes
    -----
    Non-finite input is reported once per stack at INFO with the tag ``STACK_IMG_PREP``.

    Examples
    --------
    Eight frames of a noisy flat sky, one with a hot pixel and one missing its left half: the hot pixel is
    rejected, the missing half is left out of the mean (never averaged in as zeros), and the coverage counts the
    frames behind each pixel:

    >>> import numpy as np
    >>> from zemosaic.stack.cpu import stack_aligned_images
    >>> rng = np.random.default_rng(0)
    >>> frames = [rng.normal(100.0, 1.0, (6, 8)).astype(np.float32) for _ in range(8)]
    >>> frames[2][3, 5] = 10000.0
    >>> valid = [np.ones((6, 8), bool) for _ in range(8)]
    >>> valid[7][:, :4] = False
    >>> frames[7][:, :4] = 0.0
    >>> result = stack_aligned_images(frames, valid_masks=valid, normalize_method="none", weighting_method="none")
    >>> bool(abs(result.image[3, 5] - 100.0) < 2.0), bool(abs(result.image[0, 0] - 100.0) < 2.0)
    (True, True)
    >>> float(result.coverage[0, 0]), float(result.coverage[0, 7])
    (7.0, 8.0)
    """
    options = StackOptions(
        normalize_method=normalize_method, weighting_method=weighting_method,
        rejection_algorithm=rejection_algorithm, final_combine_method=final_combine_method,
        sigma_clip_low=sigma_clip_low, sigma_clip_high=sigma_clip_high, winsor_limits=winsor_limits,
        reference_index=reference_index, memory_budget_mb=memory_budget_mb, chunk_rows=chunk_rows,
        background_order=background_order, flatten_reference=flatten_reference, flatten_order=flatten_order,
        sample_step=sample_step, noise_rows=noise_rows, linear_fit_iterations=linear_fit_iterations,
        rejection_max_iterations=rejection_max_iterations,
        frame_weights=None if frame_weights is None else tuple(frame_weights))
    return stack_frames(frames, options, valid_masks=valid_masks, progress_callback=progress_callback)


def stack_frames(frames, options: StackOptions, *, valid_masks=None,
                 progress_callback: Callable | None = None) -> StackResult:
    """Stack aligned frames with options already resolved: what :func:`stack_aligned_images` does once its
    keywords are a :class:`~zemosaic.stack.options.StackOptions`.

    The pipeline makes its options once from the configuration
    (:func:`zemosaic.pipeline.master_tile.stack_options`) and hands them here (or to the GPU twin,
    :func:`zemosaic.stack.gpu.stack_frames_gpu`). Parameters, result and errors are those of
    :func:`stack_aligned_images`.
    """
    return run_stack(frames, valid_masks, options, CpuBackend(), progress_callback)


def run_stack(frames, valid_masks, options: StackOptions, backend, progress_callback=None) -> StackResult:
    """Run one stack with a given rejection/combine backend (the CPU kernels or an array module).

    ``backend`` provides ``name``, ``working_factor`` (bytes of working memory per input byte of a
    chunk), ``max_chunk_bytes()`` (None or a device limit), ``oom_errors`` (exception types that send the
    rest of the stack to :class:`CpuBackend`) and ``process(data, valid, weights, options)`` with
    ``data`` float32 ``(n, P, C)`` and ``valid`` bool ``(n, P)``, returning the float32 ``(P, C)`` image
    and the int64 ``(n,)`` rejected-sample counts.
    """
    t_start = time.perf_counter()
    frames, masks, shape = check_inputs(frames, valid_masks)
    n = len(frames)
    ref = int(options.reference_index)
    if not 0 <= ref < n:
        raise ValueError(f"reference_index {ref} out of range for {n} frames")
    preload = _preload_kernels(frames[0], options) if isinstance(backend, CpuBackend) else None
    raw_noise = RawNoise(frames, masks, options)
    needs_noise = options.weighting_method == "noise_variance" or options.normalize_method == "linear_fit"
    # only linear_fit uses the noise: the other fits (numpy) run first, while the preload thread pays numba's
    # first use (~0.4 s of CPU) that the noise kernel would otherwise wait for
    normalizers = None if options.normalize_method == "linear_fit" else fit_normalizers(
        frames, masks, ref, options, raw_noise)
    if needs_noise:
        raw_noise.measure(range(n))  # all frames at once, on the thread pool (a numba kernel)
    if normalizers is None:
        normalizers = fit_normalizers(frames, masks, ref, options, raw_noise)
    weights, sigmas = fit_weights(frames, masks, normalizers, options, raw_noise)
    t_fit = time.perf_counter() - t_start
    if preload is not None:
        preload.join()
    chunk_rows = _chunk_rows(n, shape, options, backend)
    logger.debug("stack: %d frames %s, backend=%s, chunk_rows=%d, norm=%s, rej=%s",
                 n, shape, backend.name, chunk_rows, options.normalize_method, options.rejection_algorithm)
    loop = _ChunkLoop(frames, masks, normalizers, weights, options, shape, chunk_rows)
    loop.run(backend, progress_callback)
    _log_nonfinite(loop, n)
    valid_total = loop.valid_samples.sum()
    timings = {"fit": t_fit, "read": loop.t_read, "reject_combine": loop.t_process,
               "total": time.perf_counter() - t_start}
    per_frame = np.divide(loop.rejected, loop.valid_samples, out=np.zeros(n, np.float64),
                          where=loop.valid_samples > 0)
    image = loop.image if len(shape) == 3 else loop.image[..., 0]
    return StackResult(
        image=image, coverage=loop.coverage,
        rejected_fraction=float(loop.rejected.sum() / valid_total) if valid_total else 0.0,
        rejected_fraction_per_frame=per_frame, weights=weights,
        normalization=[norm_record(nz, sg) for nz, sg in zip(normalizers, sigmas, strict=True)],
        n_frames=n, timings=timings, chunk_rows=chunk_rows)


class CpuBackend:
    """Rejection and combination with the numba kernels of :mod:`zemosaic.stack.kernels` (multi-threaded)."""

    name = "cpu-numba"
    working_factor = 1.5  # the chunk itself, its validity mask, per-pixel outputs
    oom_errors: tuple = ()

    def max_chunk_bytes(self) -> int | None:
        return _CPU_CHUNK_BYTES

    def process(self, data: np.ndarray, valid: np.ndarray, weights: np.ndarray, options: StackOptions):
        """Reject then combine one chunk; see :func:`run_stack` for the shapes."""
        n, p, c = data.shape
        lanes = np.where(valid[..., None], data, np.float32(np.nan)).astype(np.float32, copy=False)
        image, rejected = self.process_lanes(lanes.reshape(n, p * c), weights, options)
        return image.reshape(p, c), rejected

    def process_lanes(self, data: np.ndarray, weights: np.ndarray, options: StackOptions):
        """Reject then combine a chunk given as float32 ``(n, Q)`` lanes (``Q = P x C``, lane ``q`` = pixel ``q //
        C``, channel ``q % C``), NaN where a sample is not valid (what the chunk loop reads). Returns the float32
        ``(Q,)`` image and the int64 ``(n,)`` rejected-sample counts."""
        n, n_lanes = data.shape
        channels = weights.shape[1]
        width = kernels.lane_width(n, channels)
        lane_weights = np.ascontiguousarray(np.tile(np.asarray(weights, np.float64), (1, width // channels)))
        z_lo, z_hi = (min(z, 1e30) for z in options.winsor_z)  # finite for fastmath
        method = options.method_code
        out = np.empty(n_lanes, np.float32)
        kernel = kernels.reject_combine(method, options.final_combine_method == "median")
        counts = kernels.run_blocks(
            kernels.reject_combine_task, n_lanes, width, kernel, data, lane_weights, kernels.sorting_network(n),
            options.sigma_clip_low, options.sigma_clip_high, options.winsor_limits[0], options.winsor_limits[1],
            z_lo, z_hi, options.winsor_factor, int(options.rejection_max_iterations), MIN_FRAMES_FOR_REJECTION,
            normal_scores(n) if method == 3 else _NO_SCORES, out)
        return out, np.sum(counts, axis=0)


#: The CPU backend's chunks stay below this whatever the memory budget: a bigger chunk is no faster once the
#: per-chunk costs are amortised, and its buffer costs page faults on first touch (1 s for 768 MB on a busy VM).
_CPU_CHUNK_BYTES = 192 << 20

_NO_SCORES = np.zeros((1, 1))
_NO_SCORES.setflags(write=False)  # read-only like normal_scores(n): one compiled kernel for both


def _preload_kernels(frame, options: StackOptions) -> threading.Thread:
    """Load the chunk loop's kernels from numba's cache (or compile them, on a cold cache) on a thread while the
    fits run: numba's first use costs ~0.4 s of CPU even when cached. The tiny calls below have exactly the
    argument types of the chunk loop's, so nothing is compiled twice."""
    channels = n_channels(frame)
    rows_dtype = np.float32 if np.dtype(frame.dtype) == np.float32 else np.float64

    read_only = not np.asarray(frame).flags.writeable  # a read-only memmap's rows: numba's other signature

    def load() -> None:
        try:
            if options.normalize_method == "background_match":  # first what the fit threads are waiting for
                preload_fit_kernels(channels, read_only)
            rows = np.zeros((1, 2, channels), rows_dtype)
            rows.setflags(write=not read_only)
            out = np.empty((1, 1, 2, channels), np.float32)
            valid = np.empty((1, 1, 2), bool)
            kernels.prepare(rows, np.zeros(2 * channels), np.ones(2 * channels), _NO_MASK, False, out[0], valid[0])
            if rows_dtype == np.float32 and options.normalize_method == "background_match":
                lanes = np.ones(2 * channels, np.float32)
                kernels.prepare_surface(rows, np.ones((2, 2 * channels), np.float32), np.zeros(1), lanes,
                                        np.empty_like(lanes), _NO_MASK, False, out[0], valid[0])
            kernels.count_valid(0, 1, valid, np.empty((1, 2), np.float32))
            lanes = np.full((MIN_FRAMES_FOR_REJECTION, 2 * channels), np.nan, np.float32)
            CpuBackend().process_lanes(lanes, np.ones((MIN_FRAMES_FOR_REJECTION, channels)), options)
        except Exception as exc:  # noqa: BLE001 - the chunk loop will meet (and report) any real problem
            logger.debug("stack: kernel preload failed: %s", exc)

    thread = threading.Thread(target=load, name="zemosaic-stack-preload", daemon=True)
    thread.start()
    return thread


# --------------------------------------------------------------------------------------------------
# chunk geometry
# --------------------------------------------------------------------------------------------------
def _chunk_rows(n: int, shape: tuple, options: StackOptions, backend) -> int:
    height, width = shape[:2]
    forced = options.chunk_rows
    if forced is not None:
        return max(1, min(height, int(forced)))
    channels = shape[2] if len(shape) == 3 else 1
    row_bytes = n * width * channels * 4 * backend.working_factor
    budget = float(options.memory_budget_mb) * 2**20
    device = backend.max_chunk_bytes()
    if device is not None:
        budget = min(budget, float(device))
    return max(1, min(height, int(budget // row_bytes)))


# --------------------------------------------------------------------------------------------------
# the chunk loop
# --------------------------------------------------------------------------------------------------

class _ChunkLoop:
    """Reads, normalises and stacks the frames one chunk of rows at a time."""

    def __init__(self, frames, masks, normalizers, weights, options, shape, chunk_rows):
        self.frames, self.masks, self.normalizers = frames, masks, normalizers
        self.weights, self.options, self.chunk_rows = weights, options, chunk_rows
        n = len(frames)
        self.height, self.width = shape[:2]
        self.channels = shape[2] if len(shape) == 3 else 1
        self.image = np.empty((self.height, self.width, self.channels), np.float32)
        self.coverage = np.empty((self.height, self.width), np.float32)
        self.rejected = np.zeros(n, np.int64)
        self.valid_samples = np.zeros(n, np.int64)
        self.nonfinite = np.zeros(n, np.int64)
        self._surfaces = [_FusedSurface.of(nz, frame) for nz, frame in zip(normalizers, frames, strict=True)]
        self._identity = (self._lanes((0.0,) * self.channels), self._lanes((1.0,) * self.channels))  # offset, gain
        self._data = np.empty(n * chunk_rows * self.width * self.channels, np.float32)
        self._valid = np.empty(n * chunk_rows * self.width, bool)
        self.t_read = self.t_process = 0.0

    def run(self, backend, progress_callback: Callable | None) -> None:
        self.backend = backend
        for r0 in range(0, self.height, self.chunk_rows):
            r1 = min(self.height, r0 + self.chunk_rows)
            t0 = time.perf_counter()
            data, valid = self._read(r0, r1)
            t1 = time.perf_counter()
            image, rejected = self._process(data, valid)
            self.t_process += time.perf_counter() - t1
            self.t_read += t1 - t0
            self.image[r0:r1] = image.reshape(r1 - r0, self.width, self.channels)
            self.rejected += rejected
            emit(progress_callback, "stack", r1, self.height, f"stacked rows {r0}-{r1} of {self.height}")

    def _process(self, data, valid):
        n = data.shape[0]
        if isinstance(self.backend, CpuBackend):  # the samples that are not valid are NaN already
            return self.backend.process_lanes(data.reshape(n, -1), self.weights, self.options)
        flat_data = data.reshape(n, -1, self.channels)
        flat_valid = valid.reshape(n, -1)
        try:
            return self.backend.process(flat_data, flat_valid, self.weights, self.options)
        except self.backend.oom_errors as exc:
            logger.warning("stack: %s ran out of memory (%s); the rest of this stack runs on the CPU",
                           self.backend.name, exc)
            self.backend = CpuBackend()
            return self.backend.process(flat_data, flat_valid, self.weights, self.options)

    def _read(self, r0: int, r1: int):
        """The chunk's normalised samples ``(n, h, W, C)``, NaN where not valid, and the validity ``(n, h, W)``."""
        n, h = len(self.frames), r1 - r0
        data = self._data[: n * h * self.width * self.channels].reshape(n, h, self.width, self.channels)
        valid = self._valid[: n * h * self.width].reshape(n, h, self.width)
        counts = kernels.parallel_map(lambda i: self._read_frame(i, r0, r1, data[i], valid[i]), range(n))
        for i, (good, bad) in enumerate(counts):
            self.valid_samples[i] += good * self.channels
            self.nonfinite[i] += bad
        kernels.run_blocks(kernels.count_valid, h, 1, valid, self.coverage[r0:r1])
        return data, valid

    def _lanes(self, values) -> np.ndarray:
        """Per-channel ``values`` repeated over the lanes of a row (``W x C``, float64), for :func:`kernels.prepare`."""
        return np.tile(np.asarray(values, np.float64), self.width)

    def _read_frame(self, i: int, r0: int, r1: int, out: np.ndarray, valid: np.ndarray) -> tuple:
        """Rows ``r0:r1`` of frame ``i``, normalised into ``out`` (NaN where not valid) and ``valid``; returns the
        frame's valid pixels and the pixels its mask calls valid that are not finite. Runs on the thread pool."""
        frame, norm, mask = self.frames[i], self.normalizers[i], self.masks[i]
        surface = self._surfaces[i]
        offset, gain = self._identity
        if isinstance(norm, LinearNorm):
            block = as_hwc(frame[r0:r1])
            offset, gain = self._lanes(norm.offset), self._lanes(norm.gain)
        elif surface is not None:  # float32 rows, matched below in the pass that finds their validity
            block = as_hwc(frame[r0:r1])
        else:  # a background model applies to rows of the frame's own shape (H x W for mono)
            block = as_hwc(norm.apply(np.asarray(frame[r0:r1]), r0))
        if block.dtype != np.float32:  # one compiled kernel for float32 frames, one for anything else
            block = block.astype(np.float64)
        mask_rows = _NO_MASK if mask is None else np.ascontiguousarray(mask[r0:r1], dtype=bool)
        block = np.ascontiguousarray(block)
        if surface is not None and surface.polys is not None:  # matched in the same pass (bit for bit the model's)
            assert surface.match is not None  # polys come with the model
            counts = kernels.prepare_surface(block, surface.polys, surface.match.row_coordinates(r0, r1),
                                             surface.inv_gain, np.empty(surface.inv_gain.size, np.float32), mask_rows,
                                             mask is not None, out, valid)
        else:
            counts = kernels.prepare(block, offset, gain, mask_rows, mask is not None, out, valid)
        # the whole frame: fault-around and read-ahead map pages on both sides of the rows read (up to a few
        # hundred KB per frame with large page-cache folios), which would add up to n_frames x that
        release_rows(frame, 0, frame.shape[0])
        if mask is not None:
            release_rows(mask, 0, mask.shape[0])
        return counts


@dataclass(frozen=True)
class _FusedSurface:
    """A ``background_match`` normaliser the chunk loop applies inside its own pass (:func:`kernels.prepare_surface`):
    the model's column polynomials and ``1 / gain`` per lane of a row (``W x C``) and the model (its row
    coordinates), or ``polys=None`` for the reference (the identity: :func:`kernels.prepare`, offset 0, gain 1)."""

    polys: np.ndarray | None
    inv_gain: np.ndarray
    match: BackgroundMatch | None = None

    @staticmethod
    def of(norm, frame) -> _FusedSurface | None:
        """The fused form of ``norm`` for float32 ``frame``; None where the model's own ``apply`` must run (a
        flattened reference, another dtype: its rounding to float32 comes before the validity test)."""
        if not isinstance(norm, BackgroundNorm) or norm.flatten is not None or np.dtype(frame.dtype) != np.float32:
            return None
        channels = n_channels(frame)
        if norm.match is None:
            return _FusedSurface(None, np.ones(channels, np.float32))
        width = frame.shape[1]
        polys = np.ascontiguousarray(norm.match.column_polynomials().reshape(-1, width * channels))
        inv_gain = np.tile((1.0 / np.asarray(norm.match.gain)).astype(np.float32), width)
        return _FusedSurface(polys, inv_gain, norm.match)


_NO_MASK = np.ones((1, 1), bool)


def _log_nonfinite(loop: _ChunkLoop, n: int) -> None:
    affected = int(np.count_nonzero(loop.nonfinite))
    logger.info("STACK_IMG_PREP non-finite pixels: %d in %d/%d frames (treated as missing, not as 0)",
                int(loop.nonfinite.sum()), affected, n)


# --------------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def normal_scores(n: int) -> np.ndarray:
    """float64 ``(n + 1, n)`` table: row ``k`` holds the Blom normal scores of ranks ``0..k-1``."""
    table = np.zeros((n + 1, max(n, 1)))
    for k in range(1, n + 1):
        table[k, :k] = [_NORMAL.inv_cdf((r + 0.625) / (k + 0.25)) for r in range(k)]
    table.setflags(write=False)
    return table
