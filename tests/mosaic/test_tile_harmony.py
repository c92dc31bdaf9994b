"""Truth-based tests of tile_harmony.py: the inter-tile harmony solve (Phase 4.5) and its overlap samples."""
from __future__ import annotations

import logging

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from sky_scenes import NEB_COLOUR, NOISE, SKY, gaussian_nebula, observe, pixel_grid, star_field
from zemosaic.mosaic import harmony as th
from zemosaic.mosaic import star_photometry as sp

# ---------------------------------------------------------------------------------------------
# Inter-tile harmony
# ---------------------------------------------------------------------------------------------

TILE = 240
STEP = 160             # tile origins: 0 and 160 -> 80-px overlaps between neighbours
ORIGINS = [(0, 0), (0, STEP), (STEP, 0), (STEP, STEP)]
DISTORT = [  # gain, offset (3,), plane coefficients per 1000 px (x, y) per channel
    (1.00, (0.0, 0.0, 0.0), ((0.0, 0.0), (0.0, 0.0), (0.0, 0.0))),
    (0.90, (120.0, 80.0, 60.0), ((150.0, -80.0), (100.0, 60.0), (-50.0, 90.0))),
    (1.12, (-60.0, 40.0, 90.0), ((-90.0, 120.0), (70.0, -60.0), (40.0, 40.0))),
    (0.95, (200.0, 150.0, -40.0), ((60.0, 60.0), (-120.0, 90.0), (80.0, -70.0))),
]


def _mosaic_truth():
    size = TILE + STEP
    rng = np.random.default_rng(21)
    neb = gaussian_nebula((size, size), centre=(0.45 * size, 0.55 * size), sigma=(0.3 * size, 0.35 * size),
                  amplitude=500.0)
    stars, _ = star_field((size, size), rng, 300, 1.5)
    return SKY + neb[:, :, None] * NEB_COLOUR + stars[:, :, None]


def _tiles(truth):
    """Distorted tiles: tile_t = g_t * truth + offset_t + plane_t(x, y) + noise (x, y global)."""
    tiles = []
    for t, (r0, c0) in enumerate(ORIGINS):
        gain, off, plane = DISTORT[t]
        rr, cc = pixel_grid((TILE, TILE))
        x, y = cc + c0, rr + r0
        pl = np.asarray(plane) / 1000.0
        extra = np.asarray(off) + x[:, :, None] * pl[:, 0] + y[:, :, None] * pl[:, 1]
        tiles.append(observe(truth[r0:r0 + TILE, c0:c0 + TILE], gain, extra, seed=100 + t))
    return tiles


def _overlaps(tiles):
    out = []
    for i in range(4):
        for j in range(i + 1, 4):
            (ri, ci), (rj, cj) = ORIGINS[i], ORIGINS[j]
            r0, r1 = max(ri, rj), min(ri, rj) + TILE
            c0, c1 = max(ci, cj), min(ci, cj) + TILE
            wi = tiles[i][r0 - ri:r1 - ri, c0 - ci:c1 - ci]
            wj = tiles[j][r0 - rj:r1 - rj, c0 - cj:c1 - cj]
            ok = np.ones(wi.shape[:2], dtype=bool)
            s = th.sample_overlap(wi, wj, ok, ok, block=16, origin=(r0, c0))
            out.append(th.TileOverlap(i, j, s.x, s.y, s.values_i, s.values_j))
    return out


def _worst_seam(tiles, corrections):
    """Worst |median(tile_i - tile_j)| / noise along each tile edge lying inside a neighbour."""
    worst = 0.0
    for i in range(4):
        for j in range(4):
            if i == j:
                continue
            (ri, ci), (rj, cj) = ORIGINS[i], ORIGINS[j]
            for edge in ("right", "bottom"):
                if edge == "right" and ri == rj and cj == ci + STEP:
                    rows, cols = slice(0, TILE), slice(TILE - 3, TILE)
                elif edge == "bottom" and ci == cj and rj == ri + STEP:
                    rows, cols = slice(TILE - 3, TILE), slice(0, TILE)
                else:
                    continue
                rr, cc = pixel_grid((TILE, TILE))
                x, y = cc[rows, cols] + ci, rr[rows, cols] + ri
                vi = tiles[i][rows, cols]
                vj = tiles[j][y.astype(int) - rj, x.astype(int) - cj]
                if corrections is not None:
                    vi = corrections[i].apply(vi, x, y)
                    vj = corrections[j].apply(vj, x, y)
                worst = max(worst, float(np.max(np.abs(np.median(vi - vj, axis=(0, 1))))) / NOISE)
    return worst


@pytest.mark.parametrize("plane", [True, False])
def test_harmony_2x2_removes_seams(plane):
    tiles = _tiles(_mosaic_truth())
    overlaps = _overlaps(tiles)
    sol = th.solve_tile_harmony(overlaps, 4, n_channels=3, plane=plane, image_shape=(TILE + STEP,) * 2)
    assert set(sol.dropped_overlaps) == {(0, 3), (1, 2)}   # 80x80 corners: 25 blocks < 50
    assert sol.disconnected_tiles == ()
    before, after = _worst_seam(tiles, None), _worst_seam(tiles, sol.corrections)
    assert before > 5.0
    if plane:
        assert after <= 1.0, after
        assert np.all(sol.rms_after < 0.2 * sol.rms_before)
        anchor = sol.corrections[sol.anchor]
        assert anchor.is_identity
        # gains relative to the anchor are recovered
        g_true = np.array([d[0] for d in DISTORT])
        g_fit = np.array([c.gain.mean() for c in sol.corrections])
        np.testing.assert_allclose(g_fit * g_true, g_true[sol.anchor], rtol=0.01)


def test_harmony_mean_anchor_and_summary():
    tiles = _tiles(_mosaic_truth())
    sol = th.solve_tile_harmony(_overlaps(tiles), 4, n_channels=3, anchor="mean")
    assert sol.anchor is None
    gains = np.array([c.gain for c in sol.corrections])
    np.testing.assert_allclose(gains.mean(axis=0), 1.0, atol=1e-9)
    assert _worst_seam(tiles, sol.corrections) <= 1.0
    summary = sol.as_dict()
    assert len(summary["tiles"]) == 4 and summary["anchor"] is None


def test_harmony_disconnected_tile_gets_identity_with_reason():
    tiles = _tiles(_mosaic_truth())
    overlaps = [ov for ov in _overlaps(tiles) if 3 not in (ov.i, ov.j)]
    sol = th.solve_tile_harmony(overlaps, 5, n_channels=3, min_samples=10)
    assert sol.disconnected_tiles == (3, 4)
    for t in (3, 4):
        assert sol.corrections[t].is_identity and "no usable overlap" in sol.corrections[t].reason
    assert sol.corrections[sol.anchor].is_identity


def test_harmony_separate_component_anchored_on_its_own_tile():
    tiles = _tiles(_mosaic_truth())
    ovs = {(ov.i, ov.j): ov for ov in _overlaps(tiles)}
    sol = th.solve_tile_harmony([ovs[(0, 1)], ovs[(2, 3)]], 4, n_channels=3)
    assert len(sol.disconnected_tiles) == 2
    other = [t for t in sol.disconnected_tiles]
    assert sum(sol.corrections[t].is_identity for t in other) == 1
    assert all("not connected" in sol.corrections[t].reason for t in other)


def test_sample_overlap_is_robust_to_stars():
    rng = np.random.default_rng(3)
    shape = (96, 128)
    stars_i, _ = star_field(shape, rng, 25, 1.2)
    stars_j = gaussian_filter(stars_i, 1.0)                # worse seeing in tile j
    vi = (500.0 + stars_i + rng.normal(0, NOISE, shape)).astype(np.float32)
    vj = (500.0 + stars_j + rng.normal(0, NOISE, shape)).astype(np.float32)
    valid_j = np.ones(shape, dtype=bool)
    valid_j[:, :40] = False
    s = th.sample_overlap(vi, vj, np.ones(shape, dtype=bool), valid_j, block=16, origin=(1000, 2000))
    assert s.values_i.shape == (len(s.x), 1) and len(s.x) == 6 * 6   # columns 40..127 -> 6 blocks (48 half)
    assert s.x.min() >= 2040 and s.y.min() >= 1000
    for values in (s.values_i, s.values_j):
        assert np.all(np.abs(values - 500.0) < 1.0 * NOISE)        # block medians ignore the stars
        assert abs(np.median(values) - 500.0) < 0.2 * NOISE
    block_means = stars_j[:, 32:].reshape(6, 16, 6, 16).mean(axis=(1, 3))
    assert block_means.max() > 2.0 * NOISE                            # block means would not


def test_harmony_robust_to_outlier_samples():
    tiles = _tiles(_mosaic_truth())
    rng = np.random.default_rng(9)
    noisy = []
    for ov in _overlaps(tiles):
        vi = ov.values_i.copy()
        bad = rng.random(len(vi)) < 0.08                     # 8 % of samples hit by e.g. a satellite trail
        vi[bad] += rng.uniform(200.0, 3000.0, (bad.sum(), 1))
        noisy.append(th.TileOverlap(ov.i, ov.j, ov.x, ov.y, vi, ov.values_j))
    sol = th.solve_tile_harmony(noisy, 4, n_channels=3, image_shape=(TILE + STEP,) * 2)
    assert _worst_seam(tiles, sol.corrections) <= 1.0


# ---------------------------------------------------------------------------------------------
# Harmony gains from stars
# ---------------------------------------------------------------------------------------------

STAR_GAINS = (0.93, 1.00, 1.06, 0.98)
SKY_OFFSETS = [(0.0, 0.0, 0.0), (300.0, 200.0, 150.0), (-150.0, 100.0, 250.0), (500.0, 380.0, -100.0)]
SKY_PLANES = [  # per 1000 px (x, y) per channel: strong, different gradients
    ((0.0, 0.0), (0.0, 0.0), (0.0, 0.0)),
    ((400.0, -200.0), (250.0, 150.0), (-120.0, 220.0)),
    ((-220.0, 300.0), (170.0, -150.0), (100.0, 100.0)),
    ((150.0, 150.0), (-300.0, 220.0), (200.0, -180.0)),
]


@pytest.fixture(scope="module")
def starry_truth():
    """Mosaic truth: sky + a smooth nebula wider than a tile (800 ADU peak) + 600 stars of 3e3..1e5 ADU."""
    size = TILE + STEP
    rng = np.random.default_rng(5)
    neb = gaussian_nebula((size, size), centre=(0.45 * size, 0.55 * size), sigma=(0.35 * size, 0.4 * size),
                  amplitude=800.0)
    deltas = np.zeros((size, size))
    rows, cols = rng.integers(3, size - 3, 600), rng.integers(3, size - 3, 600)
    np.add.at(deltas, (rows, cols), np.exp(rng.uniform(np.log(3e3), np.log(1e5), 600)))
    return SKY + neb[:, :, None] * NEB_COLOUR + gaussian_filter(deltas, 1.5)[:, :, None]


def _sky_tiles(truth, gains):
    """tile_t = gain_t * truth + offset_t + plane_t(x, y) + noise, offsets/planes from SKY_OFFSETS/SKY_PLANES."""
    tiles = []
    for t, (r0, c0) in enumerate(ORIGINS):
        rr, cc = pixel_grid((TILE, TILE))
        pl = np.asarray(SKY_PLANES[t]) / 1000.0
        extra = np.asarray(SKY_OFFSETS[t]) + (cc + c0)[:, :, None] * pl[:, 0] + (rr + r0)[:, :, None] * pl[:, 1]
        tiles.append(observe(truth[r0:r0 + TILE, c0:c0 + TILE], gains[t], extra, seed=200 + t))
    return tiles


def _star_overlaps(tiles):
    """Block samples (as _overlaps) plus the matched star samples of each pair, positions in mosaic pixels."""
    cats = []
    for tile, (r0, c0) in zip(tiles, ORIGINS, strict=True):
        st = sp.measure_stars(tile)
        cats.append(sp.StarFluxes(st.x + c0, st.y + r0, st.flux, st.noise, st.radii, st.fwhm))
    out = []
    for ov in _overlaps(tiles):
        s = sp.match_star_samples(cats[ov.i], cats[ov.j])
        out.append(th.TileOverlap(ov.i, ov.j, ov.x, ov.y, ov.values_i, ov.values_j, star_i=s.flux_i,
                                  star_j=s.flux_j, star_err=s.err, star_x=s.x, star_y=s.y))
    return out


def _relative_gains(sol, true_gains):
    """Corrected / true gain per tile and channel, relative to the anchor (1 everywhere when exact)."""
    fit = np.array([c.gain for c in sol.corrections]) * np.asarray(true_gains)[:, None]
    return fit / fit[sol.anchor]


def test_harmony_gains_from_stars_recover_truth(starry_truth, caplog):
    tiles = _sky_tiles(starry_truth, STAR_GAINS)
    overlaps = _star_overlaps(tiles)
    sides = [ov for ov in overlaps if (ov.i, ov.j) in {(0, 1), (0, 2), (1, 3), (2, 3)}]
    assert min(ov.n_stars for ov in sides) >= 15
    with caplog.at_level(logging.INFO, logger="zemosaic.mosaic"):
        sol = th.solve_tile_harmony(overlaps, 4, n_channels=3, image_shape=(TILE + STEP,) * 2)
    assert all(m == ("stars",) * 3 for i, j, m in sol.gain_estimators)
    assert "gain ratio from stars/stars/stars" in caplog.text
    rel = _relative_gains(sol, STAR_GAINS)
    assert np.all(np.abs(rel - 1.0) < 0.01), rel          # measured: worst 0.27 %
    assert _worst_seam(tiles, sol.corrections) <= 1.0      # measured: 0.14 sigma


def test_harmony_equal_gains_with_different_skies_stay_at_one(starry_truth):
    tiles = _sky_tiles(starry_truth, (1.0,) * 4)
    assert _worst_seam(tiles, None) > 20.0
    sol = th.solve_tile_harmony(_star_overlaps(tiles), 4, n_channels=3, image_shape=(TILE + STEP,) * 2)
    gains = np.array([c.gain for c in sol.corrections])
    assert np.all(np.abs(gains - 1.0) < 0.01), gains
    assert _worst_seam(tiles, sol.corrections) <= 1.0


def test_too_few_stars_fall_back_on_the_structure(starry_truth):
    tiles = _sky_tiles(starry_truth, STAR_GAINS)
    few = [th.TileOverlap(ov.i, ov.j, ov.x, ov.y, ov.values_i, ov.values_j, star_i=ov.star_i[:4],
                          star_j=ov.star_j[:4], star_err=ov.star_err[:4]) for ov in _star_overlaps(tiles)]
    sol = th.solve_tile_harmony(few, 4, n_channels=3, image_shape=(TILE + STEP,) * 2)
    assert all(m == ("structure",) * 3 for i, j, m in sol.gain_estimators)
    assert _worst_seam(tiles, sol.corrections) <= 1.0


def test_star_log_ratio_is_robust_and_weighted():
    rng = np.random.default_rng(4)
    flux = np.exp(rng.uniform(np.log(2e3), np.log(1e5), 40))
    err = 30.0 * np.sqrt(2.0) / flux                                     # sky-limited stars
    si = 1.05 * flux * (1.0 + rng.normal(0.0, 30.0 / flux))
    sj = flux * (1.0 + rng.normal(0.0, 30.0 / flux))
    si[:4] *= 1.6                                                        # 4 stars blended or saturated in one
    ratio, se = th._star_log_ratio(si, sj, err, 5)
    assert abs(ratio - np.log(1.05)) < 0.003 and se < 0.005
    ratio_eq, se_eq = th._star_log_ratio(si, sj, None, 5)                # equal weights: MAD-based error
    assert abs(ratio_eq - np.log(1.05)) < 3.0 * se_eq
    ratio_few, se_few = th._star_log_ratio(si[:4], sj[:4], err[:4], 5)
    assert np.isnan(ratio_few) and se_few == np.inf
