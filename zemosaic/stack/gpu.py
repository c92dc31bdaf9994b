"""GPU (CuPy) twin of the mask-aware stacker, with the rejection/combine core written once for any array module.

``stack_aligned_images_gpu`` has the signature and the :class:`stacking.StackResult` of
:func:`stacking.stack_aligned_images`. Everything but the per-chunk rejection and combination (input
checks, normalisation and weight fits, chunk loop, coverage, logging) is the CPU module's code; the
chunk work runs in the functions below, which take the array module ``xp`` (``numpy`` or ``cupy``) and
implement exactly the maths of the CPU numba kernels (see the ``stacking`` module docstring):
sort the valid samples of each pixel along the frame axis (missing ones as NaN, which sort last), keep a
contiguous range ``[a, b)`` of sorted positions and trim it iteratively, every pixel carrying its own
state so that a pixel that has converged stops changing exactly as in the per-pixel CPU loop.

Fallback: when CuPy is not installed, no CUDA device is usable, or the device runs out of memory, one
log line (INFO for a missing CuPy/device, WARNING for out-of-memory) says so and the CPU kernels do the
work; the results are the same within float32 tolerance.

Parity test on a GPU machine (CuPy installed, e.g. ``pip install cupy-cuda12x``)::

    pytest -m gpu tests/test_stacking_gpu.py

Without a GPU, ``tests/test_stacking.py`` runs the same core with ``xp=numpy`` against the CPU kernels.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from zemosaic.stack import cpu as stacking
from zemosaic.stack.cpu import MIN_FRAMES_FOR_REJECTION, StackOptions, StackResult

__all__ = [
    "stack_aligned_images_gpu",
    "stack_aligned_images_xp",
    "XpBackend",
    "gpu_available",
    "xp_reject_range",
    "xp_combine",
]

logger = logging.getLogger(__name__)

_HUBER_MAX_ITER = 20
_HUBER_TOL = 1e-3


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
) -> StackResult:
    """Same as :func:`zemosaic.stack.cpu.stack_aligned_images`, with rejection and combination on a CUDA device.

    Falls back to the CPU kernels (one log line) when CuPy or a device is missing, and for the rest of
    the stack when the device runs out of memory.

    Parameters
    ----------
    frames, valid_masks, ..., rejection_max_iterations
        Every parameter is that of :func:`zemosaic.stack.cpu.stack_aligned_images`, with the same
        default (``tests/test_stacking.py`` checks that the two signatures are equal).

    Returns
    -------
    StackResult

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
        rejection_max_iterations=rejection_max_iterations)
    cupy = _import_cupy()
    backend = stacking.CpuBackend() if cupy is None else XpBackend(cupy)
    return stacking.run_stack(frames, valid_masks, options, backend, progress_callback)


def stack_aligned_images_xp(frames, xp, options: StackOptions | None = None, *, valid_masks=None,
                            progress_callback: Callable | None = None) -> StackResult:
    """Stack with the array-module-generic core on module ``xp`` (``numpy`` or ``cupy``), no fallback.

    Used to test the GPU logic on machines without a GPU (``xp=numpy``).

    Parameters
    ----------
    frames, valid_masks, progress_callback
        As in :func:`zemosaic.stack.cpu.stack_aligned_images`.
    xp : module
        ``numpy`` or ``cupy``.
    options : StackOptions, optional
        The stack's options; None for the defaults.

    Returns
    -------
    StackResult
    """
    options = StackOptions() if options is None else options
    return stacking.run_stack(frames, valid_masks, options, XpBackend(xp), progress_callback)


def gpu_available() -> bool:
    """True when CuPy imports and at least one CUDA device answers."""
    return _import_cupy(quiet=True) is not None


class XpBackend:
    """Chunk backend of :func:`stacking.run_stack` running :func:`xp_reject_range` and :func:`xp_combine`."""

    def __init__(self, xp):
        self.xp = xp
        # host memory per input byte: the chunk and its mask; with numpy the work arrays are on the host too
        self.working_factor = 8.0 if xp is np else 1.5
        self.name = f"xp-{xp.__name__}"
        self.oom_errors = _oom_errors(xp)

    def max_chunk_bytes(self) -> int | None:
        """Input bytes per chunk the device can hold (about 8x the chunk is needed there)."""
        if self.xp is np:
            return None
        free, _total = self.xp.cuda.runtime.memGetInfo()
        return int(free * 0.8 / 8)

    def process(self, data: np.ndarray, valid: np.ndarray, weights: np.ndarray, options: StackOptions):
        """Reject then combine one chunk (shapes as in :func:`stacking.run_stack`); host arrays out."""
        xp = self.xp
        d, v = xp.asarray(data), xp.asarray(valid)
        lo, hi = xp_reject_range(xp, d, v, options)
        image, counts = xp_combine(xp, d, v, lo, hi, xp.asarray(weights, dtype=xp.float32),
                                   options.final_combine_method)
        return _to_host(xp, image), _to_host(xp, counts).astype(np.int64)


def xp_reject_range(xp, data, valid, options: StackOptions):
    """Kept range ``(lo, hi)`` per pixel and channel: the kept samples are valid ones with lo <= v <= hi.

    Parameters
    ----------
    xp : module
        ``numpy`` or ``cupy``.
    data : array, float32 ``(n, P, C)``
    valid : array, bool ``(n, P)``
    options : stacking.StackOptions

    Returns
    -------
    lo, hi : arrays, float32 ``(P, C)``
        ``-inf``/``+inf`` where nothing is rejected (method ``none`` or fewer than
        :data:`stacking.MIN_FRAMES_FOR_REJECTION` valid samples).
    """
    n, n_pix, n_ch = data.shape
    lo = xp.full((n_pix, n_ch), -xp.inf, dtype=xp.float32)
    hi = xp.full((n_pix, n_ch), xp.inf, dtype=xp.float32)
    if options.method_code == 0:
        return lo, hi
    s = xp.sort(xp.where(valid[..., None], data, xp.float32(xp.nan)), axis=0)
    m = xp.broadcast_to(valid.sum(axis=0)[:, None], (n_pix, n_ch)).astype(xp.int64)
    a, b = xp.zeros_like(m), m.copy()
    active = m >= MIN_FRAMES_FOR_REJECTION
    pos = xp.arange(n).reshape(n, 1, 1)
    sigma = None  # winsorized: each round's Huber iteration starts from the previous round's sigma
    for _ in range(int(options.rejection_max_iterations)):
        if not bool(active.any()):
            break
        na, nb, sigma = _trim_step(xp, s, a, b, pos, options, sigma)
        changed = active & ((na != a) | (nb != b)) & (nb > na)
        a, b = xp.where(changed, na, a), xp.where(changed, nb, b)
        active = changed & ((b - a) >= MIN_FRAMES_FOR_REJECTION)
    use = m >= MIN_FRAMES_FOR_REJECTION
    lo = xp.where(use, _take(xp, s, a), lo)
    hi = xp.where(use, _take(xp, s, xp.maximum(b - 1, 0)), hi)
    return lo, hi


def xp_combine(xp, data, valid, lo, hi, weights, method: str):
    """Weighted mean (or median) of the kept samples and the rejected-sample count per frame.

    Returns float32 ``(P, C)`` (NaN where nothing is kept) and int ``(n,)``.
    """
    keep = valid[..., None] & (data >= lo[None]) & (data <= hi[None])
    rejected = (valid[..., None] & ~keep).sum(axis=(1, 2))
    if method == "median":
        s = xp.sort(xp.where(keep, data, xp.float32(xp.nan)), axis=0)
        k = keep.sum(axis=0)
        med = _median_sorted(xp, s, xp.zeros_like(k), k)
        return xp.where(k > 0, med, xp.float32(xp.nan)).astype(xp.float32), rejected
    w = xp.where(keep, weights[:, None, :], xp.float32(0))
    sw = w.sum(axis=0)
    swv = (w * xp.where(keep, data, xp.float32(0))).sum(axis=0)
    image = xp.where(sw > 0, swv / xp.where(sw > 0, sw, 1), xp.float32(xp.nan))
    return image.astype(xp.float32), rejected


# --------------------------------------------------------------------------------------------------
# per-iteration maths (every array is (P, C) except s / pos, which carry the frame axis first)
# --------------------------------------------------------------------------------------------------

def _trim_step(xp, s, a, b, pos, options: StackOptions, sigma_prev):
    """One trimming round for every pixel: the new ``(a, b)`` and the sigma used."""
    k_lo, k_hi = options.sigma_clip_low, options.sigma_clip_high
    inside = (pos >= a[None]) & (pos < b[None])
    if options.method_code == 3:
        return _linear_trim(xp, s, a, b, pos, inside, k_lo, k_hi) + (None,)
    centre = _median_sorted(xp, s, a, b)
    if options.method_code == 1:
        sigma = _clipped_std(xp, s, inside, b - a, -xp.inf, xp.inf)
    else:
        sigma = _winsor_sigma(xp, s, a, b, inside, centre, options, sigma_prev)
    low, high = centre - k_lo * sigma, centre + k_hi * sigma
    n_low = (inside & (s < low[None])).sum(axis=0)
    n_high = (inside & (s > high[None])).sum(axis=0)
    ok = sigma > 0
    na = xp.where(ok, a + n_low, a)
    nb = xp.where(ok, xp.maximum(b - n_high, na), b)
    return na, nb, sigma


def _winsor_sigma(xp, s, a, b, inside, centre, options: StackOptions, sigma_prev):
    z_lo, z_hi = options.winsor_z
    factor = options.winsor_factor
    k = b - a
    if sigma_prev is None:  # first round: start from the order statistics
        lim_lo, lim_hi = options.winsor_limits
        half = (k - 1) // 2
        n_lo = xp.minimum(xp.floor(lim_lo * k + 0.5).astype(k.dtype), half)
        n_hi = xp.minimum(xp.floor(lim_hi * k + 0.5).astype(k.dtype), half)
        w_lo = _take(xp, s, xp.clip(a + n_lo, 0, s.shape[0] - 1))
        w_hi = _take(xp, s, xp.clip(b - 1 - n_hi, 0, s.shape[0] - 1))
        sigma = factor * _clipped_std(xp, s, inside, k, w_lo, w_hi)
    else:
        sigma = sigma_prev
    done = xp.zeros(sigma.shape, dtype=bool)
    for _ in range(_HUBER_MAX_ITER):
        new = factor * _clipped_std(xp, s, inside, k, centre - z_lo * sigma, centre + z_hi * sigma)
        newly = ~done & (xp.abs(new - sigma) <= _HUBER_TOL * sigma)
        sigma = xp.where(done, sigma, new)
        done = done | newly
        if bool(done.all()):
            break
    return sigma


def _clipped_std(xp, s, inside, k, low, high):
    """ddof=1 standard deviation of ``clip(s, low, high)`` over ``inside`` (0 where k < 2)."""
    x = xp.where(inside, xp.clip(s, low, high) if _finite_bounds(low, high) else s, 0)
    kf = xp.maximum(k, 1).astype(xp.float32)
    mean = x.sum(axis=0) / kf
    d = xp.where(inside, x - mean[None], 0)
    var = (d * d).sum(axis=0) / xp.maximum(k - 1, 1).astype(xp.float32)
    return xp.where(k >= 2, xp.sqrt(var), 0).astype(xp.float32)


def _finite_bounds(low, high) -> bool:
    return not (np.isscalar(low) and np.isinf(low) and np.isscalar(high) and np.isinf(high))


def _linear_trim(xp, s, a, b, pos, inside, k_lo, k_hi):
    n = s.shape[0]
    k = b - a
    table = xp.asarray(stacking.normal_scores(n), dtype=xp.float32)
    x = table[k[None], xp.clip(pos - a[None], 0, n - 1)]  # (n, P, C) normal score of each rank
    t = xp.maximum(1, (0.1 * k).astype(k.dtype))  # ends left out of the fit, as in the CPU kernel
    t = xp.where(k - 2 * t >= 3, t, 0)
    central = (pos >= (a + t)[None]) & (pos < (b - t)[None])
    kf = xp.maximum(k - 2 * t, 1).astype(xp.float32)
    mean_x = xp.where(central, x, 0).sum(axis=0) / kf
    mean_v = xp.where(central, s, 0).sum(axis=0) / kf
    dx = xp.where(central, x - mean_x[None], 0)
    sxx = (dx * dx).sum(axis=0)
    sxv = (dx * xp.where(central, s - mean_v[None], 0)).sum(axis=0)
    slope = xp.where(sxx > 0, sxv / xp.where(sxx > 0, sxx, 1), 0)
    resid = s - (mean_v[None] + slope[None] * (x - mean_x[None]))
    bad_low = (inside & (resid < -k_lo * slope[None])) | (pos < a[None])
    bad_high = (inside & (resid > k_hi * slope[None])) | (pos >= b[None])
    lead = xp.cumprod(bad_low, axis=0).sum(axis=0)
    trail = xp.cumprod(bad_high[::-1], axis=0).sum(axis=0)
    ok = slope > 0
    na = xp.where(ok, xp.minimum(lead, b), a)
    nb = xp.where(ok, xp.maximum(n - trail, na), b)
    return na.astype(a.dtype), nb.astype(b.dtype)


def _take(xp, s, index):
    return xp.take_along_axis(s, index[None], axis=0)[0]


def _median_sorted(xp, s, a, b):
    last = s.shape[0] - 1
    low = _take(xp, s, xp.clip((a + b - 1) // 2, 0, last))
    high = _take(xp, s, xp.clip((a + b) // 2, 0, last))
    return 0.5 * (low + high)


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
    if xp is np:
        return (MemoryError,)
    return (xp.cuda.memory.OutOfMemoryError, MemoryError)


def _to_host(xp, array) -> np.ndarray:
    return xp.asnumpy(array) if hasattr(xp, "asnumpy") else np.asarray(array)
