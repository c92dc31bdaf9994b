"""The options of one stack: method names, defaults and their validation, in one light module.

:class:`StackOptions` is built once per stack by :func:`zemosaic.stack.cpu.stack_aligned_images` (and its
GPU twin) from their keyword-only parameters and checked in its constructor. The method-name tuples are
also imported by :mod:`zemosaic.config`, so the configuration offers exactly the methods the stacker knows.
This module imports only the standard library (the configuration must not pull in numba).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

__all__ = [
    "NORMALIZE_METHODS",
    "WEIGHTING_METHODS",
    "REJECTION_ALGORITHMS",
    "COMBINE_METHODS",
    "StackOptions",
]

NORMALIZE_METHODS = ("none", "additive", "multiplicative", "linear_fit", "background_match")
WEIGHTING_METHODS = ("none", "noise_variance")
REJECTION_ALGORITHMS = ("none", "kappa_sigma", "winsorized_sigma_clip", "linear_fit_clip")
COMBINE_METHODS = ("mean", "median")

_METHOD_CODES = {"none": 0, "kappa_sigma": 1, "winsorized_sigma_clip": 2, "linear_fit_clip": 3}
_NORMAL = NormalDist()  # the standard normal (stdlib: scipy.stats costs half a second to import)


@dataclass(frozen=True, kw_only=True)
class StackOptions:
    """Validated options of one stack (see :func:`zemosaic.stack.cpu.stack_aligned_images` for their meaning).

    The defaults are those of ``stack_aligned_images`` (a test checks that they agree, and that they
    agree with the configuration keys that feed them).

    Raises
    ------
    TypeError
        An unknown keyword (Python's own message).
    ValueError
        An unknown method name or an out-of-range number.
    """

    normalize_method: str = "background_match"
    weighting_method: str = "noise_variance"
    rejection_algorithm: str = "winsorized_sigma_clip"
    final_combine_method: str = "mean"
    sigma_clip_low: float = 3.0
    sigma_clip_high: float = 3.0
    winsor_limits: tuple = (0.05, 0.05)
    reference_index: int = 0
    memory_budget_mb: float = 768.0
    chunk_rows: int | None = None
    background_order: int = 1
    flatten_reference: bool = False
    flatten_order: int = 1
    sample_step: int | None = None
    noise_rows: int = 24
    linear_fit_iterations: int = 4
    rejection_max_iterations: int = 10
    frame_weights: tuple | None = None

    def __post_init__(self) -> None:
        _check_choice("normalize_method", self.normalize_method, NORMALIZE_METHODS)
        _check_choice("weighting_method", self.weighting_method, WEIGHTING_METHODS)
        _check_choice("rejection_algorithm", self.rejection_algorithm, REJECTION_ALGORITHMS)
        _check_choice("final_combine_method", self.final_combine_method, COMBINE_METHODS)
        low, high = (float(v) for v in self.winsor_limits)
        if not (0.0 <= low < 0.5 and 0.0 <= high < 0.5):
            raise ValueError(f"winsor_limits must be in [0, 0.5), got {self.winsor_limits!r}")
        if not (self.sigma_clip_low > 0 and self.sigma_clip_high > 0):
            raise ValueError("sigma_clip_low and sigma_clip_high must be > 0")
        if not float(self.memory_budget_mb) > 0:
            raise ValueError(f"memory_budget_mb must be > 0, got {self.memory_budget_mb!r}")
        for name in ("noise_rows", "linear_fit_iterations", "rejection_max_iterations"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        for name in ("background_order", "flatten_order"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if self.frame_weights is not None:
            fw = tuple(float(v) for v in self.frame_weights)
            if not all(math.isfinite(v) and v > 0 for v in fw):
                raise ValueError(f"frame_weights must be finite and > 0, got {self.frame_weights!r}")
            object.__setattr__(self, "frame_weights", fw)
        object.__setattr__(self, "sigma_clip_low", float(self.sigma_clip_low))
        object.__setattr__(self, "sigma_clip_high", float(self.sigma_clip_high))
        object.__setattr__(self, "winsor_limits", (low, high))

    @property
    def method_code(self) -> int:
        """Rejection method as the integer the kernels take (0 = none)."""
        return _METHOD_CODES[self.rejection_algorithm]

    @property
    def winsor_z(self) -> tuple:
        """Clip points (in sigma) of the winsorized Huber step, from ``winsor_limits``."""
        return tuple(math.inf if p == 0 else -_NORMAL.inv_cdf(p) for p in self.winsor_limits)

    @property
    def winsor_factor(self) -> float:
        """Normal-consistency factor of ``std(clip(Z, -z_lo, z_hi))``."""
        return winsor_consistency(*self.winsor_z)


def winsor_consistency(z_lo: float, z_hi: float) -> float:
    """``1 / std(clip(Z, -z_lo, z_hi))`` for a standard normal ``Z`` (infinite z = no clipping)."""
    a, b = -min(z_lo, 40.0), min(z_hi, 40.0)  # beyond 40 sigma the normal has no mass in float64
    pa, pb = _NORMAL.cdf(a), _NORMAL.cdf(-b)
    phi_a, phi_b = _NORMAL.pdf(a), _NORMAL.pdf(b)
    mean = a * pa + b * pb + phi_a - phi_b
    second = a * a * pa + b * b * pb + (1.0 - pa - pb) - (b * phi_b - a * phi_a)
    return float(1.0 / math.sqrt(second - mean * mean))


def _check_choice(name: str, value: str, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(allowed)}")
