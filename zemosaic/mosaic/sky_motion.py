"""The light-pollution gradient told from the sky by the frames' own motion (Phase 5.5, ``mosaic_background=motion``).

A gradient from the horizon or the Moon is fixed in each frame's pixels (it follows the camera), the nebula is fixed
on the sky. Every frame ``i`` is modelled, per channel, on a coarse grid of star-clipped cell medians::

    frame_i(x, y) = sky(T_i(x, y)) + c_i + g_i . (x, y)

``T_i`` maps the frame's pixels onto the mosaic grid (its WCS), ``sky`` is one common surface on the mosaic grid
(bilinear between nodes ``node_step`` pixels apart: the nebula, at that resolution), and ``c_i + g_i . (x, y)`` is
the frame's own plane in its own pixels (light pollution, its level and its colour). :func:`fit_motion_sky` solves it
as one sparse robust least-squares problem (stars and defects clipped, iterated).

What is identifiable. Any plane added to the sky is a plane in every frame's pixels too (``T_i`` is affine there),
so the joint fit alone leaves the sky's plane free: per-frame planes absorb it. It is fixed by what light pollution
is: the same gradient in the camera's pixels for all the frames of a group (a panel), ``g_i = A_k + small``. Adding
``q . X`` to the sky turns frame ``i``'s gradient into ``g_i - J_i^T q`` (``J_i`` the Jacobian of ``T_i``); ``q``
and the ``A_k`` are the least-squares choice that makes every group's gradients agree. When the frames of a group
rotate relative to the sky (Alt-Az field rotation), ``J_i^T q`` turns with them and ``q`` is determined; with dithers
only (equatorial mount, no rotation), ``J_i^T q`` is the same for every frame and ``q`` is degenerate with the
``A_k``: the sky's plane cannot be told from the camera's gradient. The offsets (``c_i``, the sky's level) are never
identifiable; nor is anything a frame's plane cannot express (curved light pollution goes into the sky).

:meth:`MotionSky.sky_at` gives the common sky (with the plane ``q``) on the mosaic grid, up to a constant;
:func:`zemosaic.mosaic.sky.fit_mosaic_sky_to` fits the assembled mosaic's difference to it.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import linalg, sparse
from scipy.sparse.linalg import splu

from zemosaic._stats import MAD_TO_SIGMA

__all__ = ["MAX_PLANE_SPAN", "FrameCells", "MotionSky", "frame_cells", "fit_motion_sky", "rotation_check"]

log = logging.getLogger(__name__)

_CLIP = 3.0                  # residual clip of the robust iterations, in robust sigmas
_ITERATIONS = 4
_SMOOTH = 0.05               # weight of the sky's second differences (zero on a plane), per ADU of residual sigma
_MIN_ROTATION_DEG = 1.0      # pooled within-group spread of the frames' angles needed to identify the sky's plane
_MIN_FRAMES = 3
_STAR_CLIP = 3.0             # samples this far above a cell's median (in its robust sigmas) are stars
_IQR_TO_SIGMA = 1.349       # interquartile range of a unit Gaussian
_DARK_PERCENTILE = 1.0       # the sky's zero: this percentile of its nodes
MAX_PLANE_SPAN = 0.02        # the sky's plane must be pinned to 2 % of the sky level across the mosaic (1 sigma)
_MIN_SUPPORT = 0.25          # nodes with less bilinear weight than this share of the median node's are left out


@dataclass(frozen=True, eq=False)
class FrameCells:
    """One frame's background samples: star-clipped cell medians in its own pixels and where they fall on the
    mosaic grid.

    Attributes
    ----------
    values : numpy.ndarray
        ``(n, C)`` cell medians (ADU, any pedestal).
    x, y : numpy.ndarray
        ``(n,)`` cell centres in the frame's own pixels (0-based, x = column).
    gx, gy : numpy.ndarray
        ``(n,)`` the same points on the mosaic grid.
    group : int
        The frame's group (master tile): the frames of a group share one camera gradient, in proportion to
        their sky level.
    zero : float
        The frame's zero level (the sensor's pedestal, ADU; 0 when unknown): its sky level is measured above it.
    """

    values: np.ndarray
    x: np.ndarray
    y: np.ndarray
    gx: np.ndarray
    gy: np.ndarray
    group: int
    zero: float = 0.0


@dataclass(frozen=True, eq=False)
class MotionSky:
    """The common sky of a joint fit and what could be identified.

    Attributes
    ----------
    identified : bool
        Whether the sky's plane was fixed by the frames' rotation (False: the nodes carry an arbitrary plane and
        the caller falls back, ``reason`` says why).
    reason : str
        What decided it (rotation spread, frames).
    nodes : numpy.ndarray
        ``(ny, nx, C)`` the sky at the nodes, the plane ``q`` included; NaN where the frames' cells give a node
        less than a quarter of the median node's bilinear weight (edges: poorly fixed).
    origin : tuple of float
        Mosaic pixel ``(x, y)`` of node ``[0, 0]``.
    step : float
        Node spacing in mosaic pixels.
    plane : numpy.ndarray
        ``(C, 2)`` the sky plane ``q`` (ADU per mosaic pixel along x, y) fixed by the rotation (zeros if not).
    plane_sigma : numpy.ndarray
        ``(C,)`` 1-sigma uncertainty of that plane's slope (ADU per mosaic pixel, worst direction); inf if not.
    gradients : numpy.ndarray
        ``(N, C, 2)`` each frame's gradient in its own pixels (ADU per pixel along x, y) after the plane.
    rotation_spread_deg : float
        Pooled within-group standard deviation of the frames' angles on the mosaic grid.
    n_frames, n_cells : int
        Frames and cell samples fitted.
    plane_span_frac : float
        The plane's 1-sigma uncertainty across the frames' extent over the sky level, worst channel (inf when the
        rotation could not pin it at all); identified when at most ``max_plane_span``.
    direction_spread_deg : numpy.ndarray
        ``(C,)`` how far the groups' gradient directions were allowed to differ from their common direction (the
        spread fitted to the data, degrees; 0: one direction shared by all the groups; inf: each group its own, as
        when the groups' directions disagree); NaN when the rotation was not used.
    """

    identified: bool
    reason: str
    nodes: np.ndarray
    origin: tuple
    step: float
    plane: np.ndarray
    plane_sigma: np.ndarray
    gradients: np.ndarray
    rotation_spread_deg: float
    n_frames: int
    n_cells: int
    plane_span_frac: float = float("inf")
    direction_spread_deg: np.ndarray = dataclasses.field(default_factory=lambda: np.full(1, np.nan))

    def sky_at(self, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
        """``(n, C)`` the common sky at mosaic points (bilinear between nodes; NaN where a node is missing)."""
        idx, wts = _bilinear(np.asarray(gx, float), np.asarray(gy, float), self.origin, self.step,
                             self.nodes.shape[:2])
        flat = self.nodes.reshape(-1, self.nodes.shape[2])
        return np.einsum("nk,nkc->nc", wts, flat[idx])

    def as_dict(self) -> dict:
        """JSON-able record for the run report."""
        finite = bool(np.all(np.isfinite(self.plane_sigma)))
        return {"identified": self.identified, "reason": self.reason, "frames": self.n_frames, "cells": self.n_cells,
                "node_step_px": round(self.step, 2), "rotation_spread_deg": round(self.rotation_spread_deg, 3),
                "sky_plane_adu_per_1000px": np.round(self.plane * 1e3, 3).tolist(),
                "sky_plane_sigma_adu_per_1000px": np.round(self.plane_sigma * 1e3, 3).tolist() if finite else None,
                "gradient_direction_spread_deg": [round(float(v), 2) if np.isfinite(v) else None
                                                  for v in self.direction_spread_deg]}

    def summary(self) -> str:
        """One line for the log."""
        sig = "inf" if not np.all(np.isfinite(self.plane_sigma)) else np.round(self.plane_sigma * 1e3, 3).tolist()
        spread = [round(float(v), 2) for v in self.direction_spread_deg]
        return (f"{self.n_frames} frames, {self.n_cells} cells, rotation spread {self.rotation_spread_deg:.2f} deg; "
                f"sky plane {np.round(self.plane * 1e3, 3).tolist()} +- {sig} ADU per 1000 px; groups' gradient "
                f"directions tied within {spread} deg; {self.reason}")


def frame_cells(image: np.ndarray, cell: int, *, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Star-clipped medians of ``cell x cell`` blocks of an ``(H, W, C)`` image (NaN = missing).

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W, C)`` float image; a block counts when at least half of its pixels are finite in every channel.
    cell : int
        Block side in image pixels (the last partial row and column of blocks are dropped).
    scale : float
        Frame pixels per image pixel (2 for a Bayer frame binned into super-pixels): the centres are returned in
        frame pixels.

    Returns
    -------
    values, x, y : numpy.ndarray
        ``(n, C)`` block medians after clipping samples more than 3 robust sigmas (interquartile) above the
        block's median, and
        the block centres in frame pixels.

    Raises
    ------
    ValueError
        On a cell smaller than 2 or an image smaller than one cell.
    """
    if cell < 2 or image.shape[0] < cell or image.shape[1] < cell:
        raise ValueError(f"cell {cell} does not fit an image of {image.shape[:2]}")
    ny, nx = image.shape[0] // cell, image.shape[1] // cell
    blocks = image[:ny * cell, :nx * cell].reshape(ny, cell, nx, cell, -1).transpose(0, 2, 4, 1, 3)
    blocks = blocks.reshape(ny, nx, image.shape[2], cell * cell).astype(np.float32)
    ranked = np.sort(blocks, axis=3)                                              # NaN sort last
    n = np.isfinite(blocks).sum(axis=3)
    sigma = (_ranked(ranked, n, 0.75) - _ranked(ranked, n, 0.25)) / _IQR_TO_SIGMA
    keep = (ranked <= (_ranked(ranked, n, 0.5) + _STAR_CLIP * sigma)[..., None]).sum(axis=3)
    values = 0.5 * (_pick(ranked, (keep - 1) // 2) + _pick(ranked, keep // 2))      # median of the kept samples
    fill = np.isfinite(blocks).all(axis=2).mean(axis=2)
    ok = (fill >= 0.5) & np.isfinite(values).all(axis=2)
    rows, cols = np.nonzero(ok)
    centre = (cell - 1) / 2.0
    x = ((cols * cell + centre) + 0.5) * scale - 0.5
    y = ((rows * cell + centre) + 0.5) * scale - 0.5
    return values[ok].astype(np.float64), x, y


def fit_motion_sky(frames: Sequence[FrameCells], *, node_step: float, min_rotation_deg: float = _MIN_ROTATION_DEG,
                   max_plane_span: float = MAX_PLANE_SPAN) -> MotionSky:
    """Fit the common sky and every frame's own plane jointly (module docstring), per channel.

    Parameters
    ----------
    frames : sequence of FrameCells
        The frames' samples (at least 3 frames); all with the same number of channels.
    node_step : float
        Spacing of the sky's nodes in mosaic pixels (about the cells' size on the mosaic).
    min_rotation_deg : float
        Pooled within-group spread of the frames' angles below which the sky's plane is not identified.
    max_plane_span : float
        The plane is not identified either when its 1-sigma uncertainty, across the frames' extent on the mosaic,
        exceeds this fraction of the frames' sky level in any channel (the camera's gradient changes from frame
        to frame more than the rotation can average out).

    Returns
    -------
    MotionSky

    Raises
    ------
    ValueError
        On fewer than 3 frames, frames of different channel counts or a non-positive ``node_step``.
    """
    if len(frames) < _MIN_FRAMES:
        raise ValueError(f"a joint sky fit needs at least {_MIN_FRAMES} frames, got {len(frames)}")
    if node_step <= 0:
        raise ValueError(f"node_step must be > 0, got {node_step}")
    n_ch = {f.values.shape[1] for f in frames}
    if len(n_ch) != 1:
        raise ValueError(f"frames have different channel counts: {sorted(n_ch)}")
    gx = np.concatenate([f.gx for f in frames])
    gy = np.concatenate([f.gy for f in frames])
    origin = (float(np.floor(gx.min())), float(np.floor(gy.min())))
    shape = (int((gy.max() - origin[1]) // node_step) + 2, int((gx.max() - origin[0]) // node_step) + 2)
    design = _design(frames, origin, node_step, shape)
    values = np.concatenate([f.values for f in frames])
    n_nodes, n_ch = shape[0] * shape[1], values.shape[1]
    support = np.asarray(design[:, :n_nodes].sum(axis=0)).ravel()                  # bilinear weight per node
    reached = support >= _MIN_SUPPORT * float(np.median(support[support > 0]))
    solved = _robust_solve(design, values, shape)                                    # (nodes + 3 N, C)
    nodes = np.where(reached[:, None], solved[:n_nodes], np.nan)                     # (nodes, C)
    per_frame = solved[n_nodes:].reshape(len(frames), 3, n_ch)
    offsets, gradients = per_frame[:, 0], per_frame[:, 1:].transpose(0, 2, 1) / _FRAME_NORM  # (N, C), (N, C, 2)
    jac = np.stack([_jacobian(f) for f in frames])                                   # (N, 2, 2)
    groups = np.array([f.group for f in frames])
    spread, no_rotation = rotation_check(jac, groups, min_rotation_deg)
    identified = no_rotation is None
    plane, plane_sigma = np.zeros((n_ch, 2)), np.full(n_ch, np.inf)
    spreads = np.full(n_ch, np.nan)
    worst = float("inf")
    if identified:
        node_xy = _node_xy(origin, node_step, shape)
        centres = np.array([[np.mean(f.gx), np.mean(f.gy)] for f in frames])
        zeros = np.array([f.zero for f in frames])
        for c in range(n_ch):
            plane[c], plane_sigma[c], spreads[c] = _fix_plane(nodes[:, c], node_xy, offsets[:, c] - zeros,
                                                              centres, gradients[:, c], jac, groups)
        gradients -= np.einsum("nji,cj->nci", jac, plane)
        nodes += node_xy @ plane.T
        span = plane_sigma * float(np.hypot(np.ptp(gx), np.ptp(gy)))
        level = np.median(np.stack([np.median(f.values, axis=0) - f.zero for f in frames]), axis=0)
        worst = float(np.max(span / np.maximum(np.abs(level), 1e-6)))
        identified = worst <= max_plane_span
        reason = (f"the frames rotate by {spread:.2f} deg (pooled within-group spread), which pins the sky's plane "
                  f"to +-{np.round(span, 1).tolist()} ADU across the mosaic, {100 * worst:.1f} % of the sky level "
                  + ("(<= " if identified else "(> ") + f"{100 * max_plane_span:g} %)"
                  + (": the sky's plane is told from the camera's gradient" if identified else
                     ": the camera's gradient changes too much from frame to frame to tell them apart"))
    else:
        reason = str(no_rotation)
    return MotionSky(identified=identified, reason=reason, nodes=nodes.reshape(shape + (n_ch,)),
                     origin=origin, step=float(node_step), plane=plane, plane_sigma=plane_sigma,
                     gradients=gradients, rotation_spread_deg=spread, n_frames=len(frames), n_cells=int(gx.size),
                     plane_span_frac=worst, direction_spread_deg=spreads)


def rotation_check(jacobians: np.ndarray, groups: np.ndarray,
                   min_rotation_deg: float = _MIN_ROTATION_DEG) -> tuple[float, str | None]:
    """Whether the frames rotate enough within their groups to identify the sky's plane; known from their WCS
    alone, so a run can decide it before reading any frame.

    Parameters
    ----------
    jacobians : numpy.ndarray
        ``(N, 2, 2)`` d(mosaic x, y) / d(frame x, y) of every frame.
    groups : numpy.ndarray
        ``(N,)`` the frames' groups (master tiles).
    min_rotation_deg : float
        Pooled within-group spread of the frames' angles below which the plane is not identified.

    Returns
    -------
    spread : float
        The pooled within-group standard deviation of the frames' angles on the mosaic grid (degrees).
    reason : str or None
        Why the sky's plane cannot be identified (too little rotation, or too few frames for their groups), None
        when it can.
    """
    spread = _rotation_spread(np.asarray(jacobians, np.float64), np.asarray(groups))
    if spread < min_rotation_deg:
        return spread, (f"the frames rotate by only {spread:.2f} deg within their groups (< {min_rotation_deg:g}: "
                        "dithers only, e.g. an equatorial mount): the sky's plane cannot be told from the camera's "
                        "gradient")
    if len(set(np.asarray(groups).tolist())) > len(groups) - 2:
        return spread, (f"{len(groups)} frames in {len(set(np.asarray(groups).tolist()))} groups: too few frames "
                        "per group to tell the sky's plane from the camera's gradient")
    return spread, None


def _fix_plane(nodes: np.ndarray, node_xy: np.ndarray, offsets: np.ndarray, centres: np.ndarray, grad: np.ndarray,
               jac: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, float, float]:
    """The sky plane ``q`` of one channel (module docstring), its uncertainty and the groups' fitted direction
    spread (:func:`_tied_gauge`). The frames' sky levels the gradients are proportional to are their offsets above
    their zero, with the sky's own zero at the darkest 1 % of its nodes (the nebula-free sky, or the faintest
    nebula); they depend on ``q`` a little, so twice."""
    plane = np.zeros(2)
    sigma, spread = np.inf, np.nan
    for _ in range(3):
        tilted = nodes + node_xy @ plane
        dark = float(np.nanpercentile(tilted, _DARK_PERCENTILE))
        levels = offsets - centres @ plane + dark
        plane, sigma, spread = _gauge(grad, jac, groups, levels)
    return plane, sigma, spread


def _node_xy(origin: tuple, step: float, shape: tuple) -> np.ndarray:
    """``(nodes, 2)`` mosaic ``(x, y)`` of every node."""
    ny, nx = np.divmod(np.arange(shape[0] * shape[1]), shape[1])
    return np.column_stack([origin[0] + nx * step, origin[1] + ny * step])


# ---------------------------------------------------------------------------------------------------------------
# private helpers

_FRAME_NORM = 1000.0         # frame coordinates are divided by this in the design (conditioning)


def _ranked(ranked: np.ndarray, n: np.ndarray, q: float) -> np.ndarray:
    """The ``q`` quantile (nearest rank) of the ``n`` finite sorted samples along the last axis."""
    return _pick(ranked, np.floor(q * np.maximum(n - 1, 0)).astype(int))


def _pick(ranked: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``ranked[..., index]`` per block (NaN where the block has no sample)."""
    out = np.take_along_axis(ranked, np.clip(index, 0, ranked.shape[-1] - 1)[..., None], axis=-1)[..., 0]
    return np.where(index >= 0, out, np.nan)


def _bilinear(gx: np.ndarray, gy: np.ndarray, origin: tuple, step: float, shape: tuple) -> tuple[np.ndarray,
                                                                                                   np.ndarray]:
    """Indices ``(n, 4)`` of the 4 nodes around each point and their bilinear weights ``(n, 4)``."""
    fx = np.clip((gx - origin[0]) / step, 0.0, shape[1] - 1.000001)
    fy = np.clip((gy - origin[1]) / step, 0.0, shape[0] - 1.000001)
    ix, iy = np.floor(fx).astype(int), np.floor(fy).astype(int)
    tx, ty = fx - ix, fy - iy
    idx = np.stack([iy * shape[1] + ix, iy * shape[1] + ix + 1, (iy + 1) * shape[1] + ix,
                    (iy + 1) * shape[1] + ix + 1], axis=1)
    wts = np.stack([(1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty], axis=1)
    return idx, wts


def _design(frames: Sequence[FrameCells], origin: tuple, step: float, shape: tuple) -> sparse.csr_matrix:
    """Sparse design ``(cells, nodes + 3 N)``: bilinear sky weights, then each frame's ``1, x, y`` (centred)."""
    n_nodes = shape[0] * shape[1]
    rows, cols, vals = [], [], []
    start = 0
    for i, f in enumerate(frames):
        n = f.values.shape[0]
        r = np.arange(start, start + n)
        idx, wts = _bilinear(f.gx, f.gy, origin, step, shape)
        rows.append(np.repeat(r, 4))
        cols.append(idx.ravel())
        vals.append(wts.ravel())
        cx, cy = float(np.mean(f.x)), float(np.mean(f.y))
        for k, term in enumerate((np.ones(n), (f.x - cx) / _FRAME_NORM, (f.y - cy) / _FRAME_NORM)):
            rows.append(r)
            cols.append(np.full(n, n_nodes + 3 * i + k))
            vals.append(term)
        start += n
    return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(start, n_nodes + 3 * len(frames)))


def _smoothness(shape: tuple, n_cols: int) -> sparse.csr_matrix:
    """Second differences of the nodes along x and y (zero on a plane), as rows of a sparse matrix."""
    ny, nx = shape
    idx = np.arange(ny * nx).reshape(shape)
    triples = [(idx[:, :-2], idx[:, 1:-1], idx[:, 2:]), (idx[:-2], idx[1:-1], idx[2:])]
    rows, cols, vals, start = [], [], [], 0
    for a, b, c in triples:
        n = a.size
        r = np.arange(start, start + n)
        rows += [r, r, r]
        cols += [a.ravel(), b.ravel(), c.ravel()]
        vals += [np.ones(n), -2.0 * np.ones(n), np.ones(n)]
        start += n
    return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(start, n_cols))


def _robust_solve(design: sparse.csr_matrix, z: np.ndarray, shape: tuple) -> np.ndarray:
    """Iteratively clipped least squares of every channel of ``z`` ``(cells, C)``, with a light smoothness prior on
    the nodes and a tiny ridge (the degenerate directions, the sky's plane and level, come out at their minimum
    norm). A cell clipped in one channel is clipped in all (a star, a trail: the channels share one factorisation,
    :func:`_solve_normal`)."""
    smooth = _smoothness(shape, design.shape[1])
    prior = smooth.T @ smooth
    weight = np.ones(z.shape[0])
    sigma = np.std(z, axis=0) + 1e-6
    x = np.zeros((design.shape[1], z.shape[1]))
    for _ in range(_ITERATIONS):
        wd = sparse.diags(weight) @ design
        lam = _SMOOTH * float(np.median(np.maximum(sigma, 1e-3)))
        normal = (wd.T @ wd + (lam * lam) * prior).tocsc()
        normal = normal + 1e-9 * float(normal.diagonal().max()) * sparse.identity(design.shape[1], format="csc")
        x = _solve_normal(normal, shape, np.asarray(wd.T @ (weight[:, None] * z)))
        resid = z - design @ x
        sigma = MAD_TO_SIGMA * np.median(np.abs(resid - np.median(resid, axis=0)), axis=0)
        weight = np.all(np.abs(resid) <= _CLIP * np.maximum(sigma, 1e-6), axis=1).astype(float)
    return x


def _solve_normal(normal: sparse.csc_matrix, shape: tuple, rhs: np.ndarray) -> np.ndarray:
    """Solve the symmetric positive definite normal system of the joint fit for every column of ``rhs``.

    Its unknowns are the sky's nodes, then 3 per frame. The nodes couple only to their neighbours (bilinear cells,
    second differences): numbered along the grid's shorter side first, their block is a band of twice that side.
    It is factorised as a band (Cholesky) and the frames' few unknowns are solved densely through its Schur
    complement: 0.03-0.19 s for the 2107 unknowns of the 48-frame bench's first look, against 0.09-0.33 s for a
    sparse LU with a minimum-degree ordering (the same system, measured on a loaded 2-core machine).
    Should the band not factorise (rounding on a nearly singular system), the sparse LU solves it."""
    n_nodes = shape[0] * shape[1]
    order = np.arange(n_nodes).reshape(shape)
    order = (order.T if shape[0] < shape[1] else order).ravel()        # the shorter side numbered first
    perm = np.concatenate([order, np.arange(n_nodes, normal.shape[0])])
    permuted = normal[perm][:, perm]
    a = permuted[:n_nodes, :n_nodes].tocoo()
    b = permuted[:n_nodes, n_nodes:].toarray()
    lower = a.row >= a.col
    band = np.zeros((int(np.max(a.row[lower] - a.col[lower])) + 1, n_nodes))
    band[a.row[lower] - a.col[lower], a.col[lower]] = a.data[lower]
    try:
        factor = (linalg.cholesky_banded(band, lower=True), True)
    except linalg.LinAlgError:
        return splu(normal, permc_spec="MMD_AT_PLUS_A").solve(rhs)
    r = rhs[perm]
    inv_b = linalg.cho_solve_banded(factor, b)                          # A^-1 B
    y = linalg.cho_solve_banded(factor, r[:n_nodes])                    # A^-1 r_nodes
    schur = permuted[n_nodes:, n_nodes:].toarray() - b.T @ inv_b
    x_frames = np.linalg.solve(schur, r[n_nodes:] - b.T @ y)
    out = np.empty_like(r)
    out[perm] = np.concatenate([y - inv_b @ x_frames, x_frames])
    return out


def _jacobian(f: FrameCells) -> np.ndarray:
    """``(2, 2)`` affine Jacobian d(gx, gy) / d(x, y) of the frame's cells (least squares)."""
    a = np.column_stack([f.x, f.y, np.ones_like(f.x)])
    coef = np.linalg.lstsq(a, np.column_stack([f.gx, f.gy]), rcond=None)[0]
    return coef[:2].T


def _rotation_spread(jac: np.ndarray, groups: np.ndarray) -> float:
    """Pooled within-group standard deviation (degrees) of the frames' angles on the mosaic grid."""
    proper = np.linalg.det(jac) > 0                                              # a mirror between the grids
    angle = np.degrees(np.where(proper, np.arctan2(jac[:, 1, 0] - jac[:, 0, 1], jac[:, 0, 0] + jac[:, 1, 1]),
                                np.arctan2(jac[:, 1, 0] + jac[:, 0, 1], jac[:, 0, 0] - jac[:, 1, 1])))
    dev, n = [], 0
    for g in np.unique(groups):
        a = angle[groups == g]
        if a.size < 2:
            continue
        centred = (a - a[0] + 180.0) % 360.0 - 180.0
        dev.append(centred - centred.mean())
        n += a.size - 1
    if n == 0:
        return 0.0
    return float(np.sqrt(np.sum(np.concatenate(dev) ** 2) / n))


def _gauge(grad: np.ndarray, jac: np.ndarray, groups: np.ndarray,
           levels: np.ndarray) -> tuple[np.ndarray, float, float]:
    """The sky plane ``q`` (2,) that makes each group's gradients ``grad_i - J_i^T q`` one vector per group times
    the frames' sky levels, its worst-direction 1-sigma uncertainty and the groups' direction spread: frames far
    from their group's gradient are left out first (with one free vector per group), then the groups' vectors
    are tied by a common direction (:func:`_tied_gauge`)."""
    labels = {g: k for k, g in enumerate(np.unique(groups))}
    n = grad.shape[0]
    m = np.zeros((2 * n, 2 + 2 * len(labels)))
    m[0::2, :2] = jac[:, :, 0]                                                   # (J^T q)_x = J[0,0] qx + J[1,0] qy
    m[1::2, :2] = jac[:, :, 1]
    scale = levels / max(float(np.median(levels)), 1e-6)
    for i, g in enumerate(groups):
        m[2 * i, 2 + 2 * labels[g]] = scale[i]
        m[2 * i + 1, 3 + 2 * labels[g]] = scale[i]
    b = grad.reshape(-1)
    frames_kept = np.ones(n, bool)
    for _ in range(2):  # a frame whose gradient is far from its group's (a passing cloud, the Moon) is left out
        keep = np.repeat(frames_kept, 2)
        sol, *_ = np.linalg.lstsq(m[keep], b[keep], rcond=None)
        off = np.hypot(*(b - m @ sol).reshape(n, 2).T)
        limit = _CLIP * MAD_TO_SIGMA * float(np.median(off)) * 1.5 + 1e-12   # median of a 2D norm ~ 1.18 sigma
        now = off <= limit
        if now.all() or now.sum() < 0.75 * n:
            break
        frames_kept = now
    free = sol[2:].reshape(-1, 2)[[labels[g] for g in np.unique(groups[frames_kept])]]  # groups left after that
    return _tied_gauge(grad[frames_kept], jac[frames_kept], groups[frames_kept], scale[frames_kept], free)


_SPREAD_GRID = np.concatenate([[0.0], np.logspace(-2.0, 2.0, 25)])  # groups' direction spread / frames' noise


def _tied_gauge(grad: np.ndarray, jac: np.ndarray, groups: np.ndarray, scale: np.ndarray,
                free: np.ndarray) -> tuple[np.ndarray, float, float]:
    """The sky plane with each group's gradient ``A_k = s_k R(eps + d_k) u``: a strength per group (the horizon's
    glow grows as a panel points lower), a direction common to all the groups (on an Alt-Az mount the camera's
    down is the horizon for every panel) and each group's own turn ``d_k ~ N(0, tau^2)``. ``tau`` is fitted
    (restricted maximum likelihood over ``_SPREAD_GRID`` times the frames' relative gradient noise): groups whose
    directions agree share one (the panels' common direction pins the sky plane's mean turn as well); groups whose
    directions differ (a light dome off to the side, the Moon) keep their own, as with one free vector per group.
    Linear in ``d_k`` about the common direction ``u`` (from ``free``, the groups' free vectors), refined twice.

    Returns the plane, its worst-direction 1-sigma uncertainty and ``tau`` in degrees (inf at the grid's top)."""
    keys, gi = np.unique(groups, return_inverse=True)
    n, k = grad.shape[0], keys.size
    b = grad.reshape(-1)
    total = free.sum(axis=0)
    u = total / max(float(np.hypot(*total)), 1e-30)
    strength = free @ u
    norm = float(np.median(np.abs(strength))) + 1e-30
    best: tuple = ()
    for _ in range(3):
        perp = np.array([-u[1], u[0]])
        x = np.zeros((2 * n, 3 + k))
        x[0::2, :2], x[1::2, :2] = jac[:, :, 0], jac[:, :, 1]
        z = np.zeros((2 * n, k))
        rows = np.arange(n)
        for comp in (0, 1):
            x[2 * rows + comp, 2 + gi] = scale * u[comp]
            z[2 * rows + comp, gi] = scale * perp[comp] * strength[gi]
        x[:, 2 + k] = z.sum(axis=1)                                              # the common direction's turn eps
        best = max((_reml(x, z, b, (rho / norm) ** 2) + (rho,) for rho in _SPREAD_GRID), key=lambda t: t[0])
        eps = float(best[1][2 + k])
        u = np.array([np.cos(eps) * u[0] - np.sin(eps) * u[1], np.sin(eps) * u[0] + np.cos(eps) * u[1]])
        strength = best[1][2:2 + k]
    _, beta, cov, sig2, rho = best
    tau = np.inf if rho >= _SPREAD_GRID[-1] else float(np.degrees(rho * np.sqrt(sig2) / norm))
    return beta[:2], float(np.sqrt(max(np.linalg.eigvalsh(cov[:2, :2]).max(), 0.0))), tau


def _reml(x: np.ndarray, z: np.ndarray, b: np.ndarray, lam: float) -> tuple[float, np.ndarray, np.ndarray, float]:
    """Restricted log-likelihood of ``b = x beta + z d + e``, ``d ~ N(0, lam sigma^2)``, ``e ~ N(0, sigma^2)``
    (Woodbury: only ``z``'s few columns are inverted), with the generalised least-squares ``beta``, its covariance
    and ``sigma^2``."""
    g = z.T @ z
    inner = np.linalg.inv(np.eye(g.shape[0]) + lam * g)                           # V^-1 = I - lam z inner z^T

    def vinv(a: np.ndarray) -> np.ndarray:
        return a - lam * z @ (inner @ (z.T @ a))

    vx = vinv(x)
    f = x.T @ vx
    beta = np.linalg.lstsq(f, vx.T @ b, rcond=None)[0]
    r = b - x @ beta
    dof = max(1, b.size - x.shape[1])
    sig2 = max(float(r @ vinv(r)) / dof, 1e-300)
    sign, logdet_f = np.linalg.slogdet(f)
    if sign <= 0:
        return -np.inf, beta, np.full(f.shape, np.inf), sig2
    ll = -0.5 * (dof * np.log(sig2) + np.linalg.slogdet(np.eye(g.shape[0]) + lam * g)[1] + logdet_f)
    return float(ll), beta, sig2 * np.linalg.inv(f), sig2
