"""Cheap checks before a plate solve, and the run's budget for blind solves.

A solve costs from tens of milliseconds (in-process, hinted) to several seconds (``solve-field`` blind); a folder of
thumbnails or a frame with a corrupted pointing must not cost the night. Before any solve, Phase 1b rejects, each
with its reason:

- a frame too small to hold a star field (:func:`size_problem`: under :data:`MIN_SIDE_PX` pixels a side, read from
  the header, no pixels loaded);
- a frame with fewer than :data:`MIN_STARS` stars on its 2x2-binned copy (:func:`stars_problem`), which no solver
  can match;
- a frame whose pointing hint is far from every other frame's position (:func:`far_hints`): more than
  :data:`FAR_HINT_FOV` fields of view and :data:`FAR_HINT_MIN_DEG` degrees from the nearest, when at least three
  frames have a position (with two, either may be the odd one).

Blind solves (no position hint, or the retry after a hinted solve failed) draw on one :class:`BlindBudget` per
run (``solve_blind_budget_s``); once it is spent, the frames left to solve blind are rejected with that reason.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from zemosaic.solve.solvers import SolveFailedError

__all__ = ["MIN_SIDE_PX", "MIN_STARS", "FAR_HINT_FOV", "FAR_HINT_MIN_DEG", "BlindBudget", "BlindBudgetSpent",
           "size_problem", "stars_problem", "far_hints"]

MIN_SIDE_PX = 64          # a smaller image holds too few stars for any solver (thumbnails, previews, icons)
MIN_STARS = 8             # stars a solve needs on the binned copy (a quad and its verification)
FAR_HINT_FOV = 10.0       # a hint farther than this many fields of view from every other frame is an outlier...
FAR_HINT_MIN_DEG = 2.0    # ... and farther than this many degrees


def size_problem(shape: tuple[int, int]) -> str | None:
    """Why an image of ``shape`` (H, W) is not solved, or None."""
    height, width = int(shape[0]), int(shape[1])
    if min(height, width) < MIN_SIDE_PX:
        return (f"image too small to plate-solve ({width} x {height} px; a solve needs at least {MIN_SIDE_PX} px a "
                "side)")
    return None


def stars_problem(n_stars: int | None) -> str | None:
    """Why a frame with ``n_stars`` stars on its 2x2-binned copy (None: unreadable) is not solved, or None."""
    if n_stars is None:
        return "its pixels could not be read for star detection"
    if n_stars < MIN_STARS:
        return (f"{n_stars} star(s) detected on its 2x2-binned copy; a plate solve needs at least {MIN_STARS} "
                "(clouds, a starless or blank frame)")
    return None


def _unit(ra_deg: float, dec_deg: float) -> np.ndarray:
    ra, dec = math.radians(ra_deg), math.radians(dec_deg)
    return np.array([math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra), math.sin(dec)])


def far_hints(candidates: Mapping[int, tuple[float, float]], positions: Mapping[int, tuple[float, float]],
              fov_deg: Mapping[int, float]) -> dict[int, str]:
    """The candidate frames whose hinted position (``candidates``: index -> (RA, Dec) degrees) is far from every
    other frame's position (``positions``: every frame with a hint or a WCS, candidates included), with the reason.
    ``fov_deg``: each candidate's field of view (its diagonal). Nothing is far when fewer than three frames have a
    position."""
    if len(positions) < 3:
        return {}
    keys = list(positions)
    units = np.array([_unit(*positions[k]) for k in keys])
    far = {}
    for i, (ra, dec) in candidates.items():
        others = np.array([k != i for k in keys])
        cosines = np.clip(units[others] @ _unit(ra, dec), -1.0, 1.0)
        nearest = math.degrees(math.acos(float(cosines.max())))
        limit = max(FAR_HINT_MIN_DEG, FAR_HINT_FOV * fov_deg.get(i, 0.0))
        if nearest > limit:
            far[i] = (f"pointing hint RA {ra:.4f} Dec {dec:.4f} is {nearest:.1f} deg from the nearest of the "
                      f"{len(keys) - 1} other frames (over {limit:.1f} deg: a wrong pointing, or another target)")
    return far


class BlindBudgetSpent(SolveFailedError):
    """A blind solve was not started: the run's budget for blind solves is spent (the message says so)."""


@dataclass
class BlindBudget:
    """Seconds of blind solving a run may spend (``budget_s``); ``spent_s`` so far."""

    budget_s: float
    spent_s: float = 0.0

    def allows(self) -> bool:
        """Whether another blind solve may start."""
        return self.spent_s < self.budget_s

    def charge(self, seconds: float) -> None:
        self.spent_s += max(0.0, float(seconds))

    def reason(self) -> str:
        """The rejection reason of a frame left unsolved for lack of budget."""
        return (f"not solved blind: the run's blind-solve budget of {self.budget_s:g} s is spent "
                f"({self.spent_s:.1f} s used; raise solve_blind_budget_s to solve more frames blind)")
