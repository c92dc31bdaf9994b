"""GPU (CuPy) twin of the mask-aware stacker: fits, normalisation, rejection and combination on the device.

``stack_aligned_images_gpu`` has the signature and the :class:`~zemosaic.stack.cpu.StackResult` of
:func:`~zemosaic.stack.cpu.stack_aligned_images` and the same maths (see the ``cpu`` module docstring). All of
the per-pixel work is written once against an array module ``xp`` and runs on CuPy here, on NumPy in the tests:

=====================  ==========================================================================================
step                   where it runs on the device path
=====================  ==========================================================================================
noise estimates        :func:`~zemosaic.stack.gpu_normalize.xp_noise_sigma`, every frame in one batch
``background_match``   :func:`~zemosaic.stack.gpu_normalize.fit_background_device`: block medians and the
                       clip-and-refit of all frames and channels as one batch (rare cases: CPU, per frame)
other normalisations   the host (8,000-pixel grids), with the device's noise
weights                the host: ``1 / sigma**2`` of ``n x C`` numbers
normalising chunks     :class:`~zemosaic.stack.gpu_normalize.ChunkNormalizer` (surfaces by Horner, gains)
rejection, combine     :mod:`~zemosaic.stack.gpu_reject`: one sort per chunk (a sorting network), prefix sums,
                       bisections; work only on the columns still changing
transfers              :mod:`~zemosaic.stack.gpu_pipeline`: pinned buffers filled by host threads, copies on
                       their own streams, the frames resident on the device when they fit; the uploads start
                       before the fits and overlap them and the chunks' work
=====================  ==========================================================================================

Fallback: when CuPy is not installed or no CUDA device answers, one INFO line says so and the CPU stacker does
the work; when the device runs out of memory (or a CUDA runtime, driver or kernel-compilation error stops it),
one WARNING line says so and the whole stack is redone on the CPU.
Results agree with the CPU stacker's within float32 rounding (the tests with ``xp=numpy`` find them bitwise
equal on their data: same masks, same kept samples, same normalisation models).

Parity test on a GPU machine (CuPy installed, e.g. ``pip install cupy-cuda12x``)::

    pytest -m gpu tests/test_stacking_gpu.py

Speed on a GPU machine: ``python bench/bench_gpu_stack.py`` (see its docstring).
"""
from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable

import numpy as np

from zemosaic.progress import emit
from zemosaic.stack import cpu as stacking
from zemosaic.stack import normalization
from zemosaic.stack.cpu import StackOptions, StackResult
from zemosaic.stack.gpu_normalize import ChunkNormalizer, device_noise, fit_background_device
from zemosaic.stack.gpu_pipeline import ChunkLoader, CupyMover, HostMover, plan_chunks
from zemosaic.stack.gpu_reject import reject_and_combine, xp_combine, xp_reject_range
from zemosaic.stack.gpu_xp import is_numpy, to_host

__all__ = [
    "stack_aligned_images_gpu",
    "stack_frames_gpu",
    "stack_aligned_images_xp",
    "run_stack_device",
    "XpBackend",
    "gpu_available",
    "xp_reject_range",
    "xp_combine",
]

logger = logging.getLogger(__name__)


def stack_aligned_images_gpu(
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
    """Same as :func:`zemosaic.stack.cpu.stack_aligned_images`, on a CUDA device.

    Falls back to the CPU stacker (one log line) when CuPy or a device is missing, or when the device runs out
    of memory or fails with a CUDA error.

    Parameters
    ----------
    frames, valid_masks, ..., rejection_max_iterations, frame_weights
        Every parameter is that of :func:`zemosaic.stack.cpu.stack_aligned_images`, with the same default
        (``tests/test_stacking.py`` checks that the two signatures are equal). ``memory_budget_mb`` bounds the
        host memory of the CPU path; the device path sizes its chunks from the device's free memory, and
        ``chunk_rows`` forces their height.

    Returns
    -------
    StackResult
        ``timings`` also holds ``device`` (1.0 when the device did the stack, 0.0 after a fallback).

    Raises
    ------
    TypeError
        An unknown keyword argument.
    ValueError
        No frames, frames of different shapes, masks of the wrong shape, bad option values.
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
    return stack_frames_gpu(frames, options, valid_masks=valid_masks, progress_callback=progress_callback)


def stack_frames_gpu(frames, options: StackOptions, *, valid_masks=None,
                     progress_callback: Callable | None = None) -> StackResult:
    """:func:`stack_aligned_images_gpu` with options already resolved (the GPU twin of
    :func:`zemosaic.stack.cpu.stack_frames`): the device path, or the CPU stacker with one log line when CuPy or a
    device is missing, or when the device runs out of memory or fails."""
    cupy = _import_cupy()
    if cupy is None:
        return _cpu_stack(frames, valid_masks, options, progress_callback)
    try:
        return run_stack_device(frames, valid_masks, options, cupy, progress_callback)
    except _oom_errors(cupy) as exc:
        logger.warning("stack: the GPU ran out of memory (%s); this stack runs on the CPU", exc)
    except _device_errors(cupy) as exc:  # a CUDA runtime/driver error or a kernel that does not compile
        logger.warning("stack: the GPU failed (%s: %s); this stack runs on the CPU", type(exc).__name__, exc)
    _free_device_memory(cupy)
    return _cpu_stack(frames, valid_masks, options, progress_callback)


def stack_aligned_images_xp(frames, xp, options: StackOptions | None = None, *, valid_masks=None,
                            progress_callback: Callable | None = None, **device_kw) -> StackResult:
    """Stack with the device path on module ``xp`` (``numpy`` or ``cupy``), no fallback.

    Used to test the GPU logic on machines without a GPU (``xp=numpy``). ``device_kw`` goes to
    :func:`run_stack_device`.
    """
    options = StackOptions() if options is None else options
    return run_stack_device(frames, valid_masks, options, xp, progress_callback, **device_kw)


def gpu_available() -> bool:
    """True when CuPy imports and at least one CUDA device answers."""
    return _import_cupy(quiet=True) is not None


def run_stack_device(frames, valid_masks, options: StackOptions, xp=None, progress_callback=None, *,
                     mover=None, sort: str = "auto", check_every: int = 4, threads: int | None = None
                     ) -> StackResult:
    """One stack on the device path (fits, normalisation, rejection, combination on ``xp``).

    Parameters
    ----------
    frames, valid_masks, options, progress_callback
        As for :func:`zemosaic.stack.cpu.run_stack`.
    xp : module, optional
        ``numpy`` or ``cupy`` (ignored when ``mover`` is given).
    mover : object, optional
        The transfer layer (:class:`~zemosaic.stack.gpu_pipeline.HostMover`,
        :class:`~zemosaic.stack.gpu_pipeline.CupyMover` or a test double); by default the one for ``xp``.
    sort, check_every
        See :func:`~zemosaic.stack.gpu_reject.xp_reject_range`.
    threads : int, optional
        Host threads filling the pinned buffers (CuPy); default ``min(8, cores)``.

    Returns
    -------
    StackResult
    """
    t_start = time.perf_counter()
    frames, masks, shape = normalization.check_inputs(frames, valid_masks)
    n = len(frames)
    ref = int(options.reference_index)
    if not 0 <= ref < n:
        raise ValueError(f"reference_index {ref} out of range for {n} frames")
    if mover is None:
        if xp is None or is_numpy(xp):
            mover = HostMover()
        else:
            mover = CupyMover(xp, threads or min(8, os.cpu_count() or 1))
    xp = mover.xp
    height, width = shape[:2]
    channels = shape[2] if len(shape) == 3 else 1
    quiet = np.errstate(all="ignore") if is_numpy(xp) else contextlib.nullcontext()
    try:
        with mover.compute_context(), quiet:
            plan = plan_chunks(n, shape, any(m is not None for m in masks), device_free=mover.free_bytes(),
                               host_budget_mb=options.memory_budget_mb, forced_rows=options.chunk_rows)
            logger.debug("stack: %d frames %s on %s, %d chunks of %d rows, %s, norm=%s, rej=%s", n, shape,
                         mover.name, plan.n_chunks, plan.rows, "resident" if plan.resident else "streaming",
                         options.normalize_method, options.rejection_algorithm)
            loader = ChunkLoader(frames, masks, shape, plan, mover)
            loader.prime()  # the uploads start now: they overlap the fits below
            normalizers, weights, sigmas = _fit(xp, frames, masks, ref, options)
            t_fit = time.perf_counter() - t_start
            norm = ChunkNormalizer(xp, normalizers, shape)
            w_dev = xp.asarray(np.asarray(weights, np.float64))
            image = np.empty((height, width, channels), np.float32)
            coverage = np.empty((height, width), np.float32)
            rejected = xp.zeros(n, dtype=xp.int64)
            valid_samples = xp.zeros(n, dtype=xp.int64)
            nonfinite = xp.zeros(n, dtype=xp.int64)
            t_read = t_process = 0.0
            for j, (r0, r1) in enumerate(plan.chunks):
                t0 = time.perf_counter()
                raw, mask = loader.get(j)
                data, valid, bad = norm.apply(raw, mask, r0)
                loader.release(j)
                loader.submit_next()
                nonfinite += bad
                valid_samples += valid.reshape(n, -1).sum(axis=1) * channels
                cov = valid.sum(axis=0, dtype=xp.int32)
                t1 = time.perf_counter()
                chunk, rej = reject_and_combine(xp, data.reshape(n, -1, channels), valid.reshape(n, -1), w_dev,
                                                options, sort=sort, check_every=check_every)
                rejected += rej
                image[r0:r1] = to_host(xp, chunk).reshape(r1 - r0, width, channels)
                coverage[r0:r1] = to_host(xp, cov)
                t_read += t1 - t0
                t_process += time.perf_counter() - t1
                emit(progress_callback, "stack", r1, height, f"stacked rows {r0}-{r1} of {height}")
            rejected_h, valid_h, nonfinite_h = (to_host(xp, a).astype(np.int64)
                                                for a in (rejected, valid_samples, nonfinite))
    finally:
        mover.close()
    logger.info("STACK_IMG_PREP non-finite pixels: %d in %d/%d frames (treated as missing, not as 0)",
                int(nonfinite_h.sum()), int(np.count_nonzero(nonfinite_h)), n)
    valid_total = valid_h.sum()
    per_frame = np.divide(rejected_h, valid_h, out=np.zeros(n, np.float64), where=valid_h > 0)
    timings = {"fit": t_fit, "read": t_read, "reject_combine": t_process,
               "total": time.perf_counter() - t_start, "device": 0.0 if is_numpy(xp) else 1.0}
    return StackResult(
        image=image if len(shape) == 3 else image[..., 0], coverage=coverage,
        rejected_fraction=float(rejected_h.sum() / valid_total) if valid_total else 0.0,
        rejected_fraction_per_frame=per_frame, weights=weights,
        normalization=[normalization.norm_record(nz, sg) for nz, sg in zip(normalizers, sigmas, strict=True)],
        n_frames=n, timings=timings, chunk_rows=plan.rows)


class _NoiseTable(normalization.RawNoise):
    """``raw_noise[i]`` for the CPU helpers, from the device's batch (measured on first use)."""

    def __init__(self, xp, frames, masks, options):
        super().__init__(frames, masks, options)
        self._args = (xp, frames, masks, int(options.noise_rows))
        self._sigma: np.ndarray | None = None

    def __getitem__(self, i: int) -> np.ndarray:
        if self._sigma is None:
            self._sigma = device_noise(*self._args)
        return self._sigma[i]


def _fit(xp, frames, masks, ref: int, options: StackOptions):
    """Normalisers, weights and normalised noise of every frame, as ``cpu.run_stack`` fits them."""
    raw_noise = _NoiseTable(xp, frames, masks, options)
    if options.normalize_method == "background_match":
        normalizers = fit_background_device(xp, frames, masks, ref, options)
    else:
        normalizers = normalization.fit_normalizers(frames, masks, ref, options, raw_noise)
    weights, sigmas = normalization.fit_weights(frames, masks, normalizers, options, raw_noise)
    return normalizers, weights, sigmas


def _cpu_stack(frames, valid_masks, options: StackOptions, progress_callback) -> StackResult:
    result = stacking.run_stack(frames, valid_masks, options, stacking.CpuBackend(), progress_callback)
    result.timings["device"] = 0.0
    return result


class XpBackend:
    """Chunk backend of :func:`zemosaic.stack.cpu.run_stack` on module ``xp`` (rejection and combination only;
    the host does the fits and the normalisation). :func:`run_stack_device` is the full device path."""

    def __init__(self, xp):
        self.xp = xp
        # host memory per input byte: the chunk and its mask; with numpy the work arrays are on the host too
        self.working_factor = 12.0 if is_numpy(xp) else 1.5
        self.name = f"xp-{xp.__name__}"
        self.oom_errors = _oom_errors(xp)

    def max_chunk_bytes(self) -> int | None:
        """Input bytes per chunk the device can hold (about 12x the chunk is needed there)."""
        if is_numpy(self.xp):
            return None
        free, _total = self.xp.cuda.runtime.memGetInfo()
        return int(free * 0.8 / 12)

    def process(self, data: np.ndarray, valid: np.ndarray, weights: np.ndarray, options: StackOptions):
        """Reject then combine one chunk (shapes as in :func:`zemosaic.stack.cpu.run_stack`); host arrays out."""
        xp = self.xp
        image, counts = reject_and_combine(xp, xp.asarray(data), xp.asarray(valid),
                                           xp.asarray(weights, dtype=xp.float64), options)
        return to_host(xp, image), to_host(xp, counts).astype(np.int64)


# --------------------------------------------------------------------------------------------------
# CuPy detection
# --------------------------------------------------------------------------------------------------

def _import_cupy(quiet: bool = False):
    try:
        import cupy
    except ImportError:
        if not quiet:
            logger.info("stack: CuPy is not installed; stacking on the CPU")
        return None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as exc:
        count = 0
        reason = str(exc)
    else:
        reason = "no CUDA device"
    if count < 1:
        if not quiet:
            logger.info("stack: CuPy has no usable CUDA device (%s); stacking on the CPU", reason)
        return None
    return cupy


def _oom_errors(xp) -> tuple:
    if is_numpy(xp):
        return (MemoryError,)
    return (xp.cuda.memory.OutOfMemoryError, MemoryError)


def _device_errors(cupy) -> tuple:
    """CuPy's CUDA runtime, driver and compiler errors (those this CuPy has)."""
    found = []
    for owner, name in (("runtime", "CUDARuntimeError"), ("driver", "CUDADriverError"),
                        ("compiler", "CompileException")):
        err = getattr(getattr(getattr(cupy, "cuda", None), owner, None), name, None)
        if isinstance(err, type) and issubclass(err, Exception):
            found.append(err)
    return tuple(found)


def _free_device_memory(cupy) -> None:
    with contextlib.suppress(Exception):
        cupy.get_default_memory_pool().free_all_blocks()
        cupy.get_default_pinned_memory_pool().free_all_blocks()
