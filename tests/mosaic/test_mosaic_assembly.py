"""Tests of zemosaic.mosaic (tiles, grid, resample, coadd, outputs, overlaps, seams): global grid, alpha-weighted
co-addition, outputs, overlap measurement and seams.

The sky truth is analytic (smooth background + Gaussian stars, defined on a north-up "truth" TAN frame); tiles are
rendered from it through their own rotated TAN WCS, so every mosaic pixel can be compared with the truth.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from astropy.wcs.utils import pixel_to_pixel

from zemosaic import mosaic as ma
from zemosaic.io import fits as fits_io
from zemosaic.mosaic import grid as mosaic_grid
from zemosaic.mosaic import resample

SCALE_DEG = 2.4 / 3600.0
RA0, DEC0 = 150.0, 30.0
TILE_H, TILE_W = 160, 240
BORDER = 6  # alpha-0 band of the test tiles (px)
STAR_SIGMA = 1.5


def _tan(ra, dec, rot_deg, shape, scale=SCALE_DEG):
    h, w = shape
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [w / 2 + 0.5, h / 2 + 0.5]
    t = np.deg2rad(rot_deg)
    wcs.wcs.cd = scale * np.array([[-np.cos(t), np.sin(t)], [np.sin(t), np.cos(t)]])
    wcs.wcs.set()
    wcs.pixel_shape = (w, h)
    return wcs


@dataclass
class Sky:
    """Analytic truth on a north-up frame: level + gradient + Gaussian stars (positions in truth pixels)."""

    wcs: WCS
    star_x: np.ndarray
    star_y: np.ndarray
    star_amp: np.ndarray

    def smooth(self, tx, ty):
        return 1000.0 + 0.15 * tx - 0.1 * ty + 20.0 * np.sin(tx / 90.0) * np.cos(ty / 70.0)

    def render(self, wcs, shape):
        """Truth sampled at the pixel centres of ``wcs`` (H x W float64), and the truth-frame coordinates."""
        yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
        tx, ty = pixel_to_pixel(wcs, self.wcs, xx, yy)
        img = self.smooth(tx, ty)
        for sx, sy, amp in zip(self.star_x, self.star_y, self.star_amp, strict=True):
            d2 = (tx - sx) ** 2 + (ty - sy) ** 2
            near = d2 < (6 * STAR_SIGMA) ** 2
            img[near] += amp * np.exp(-0.5 * d2[near] / STAR_SIGMA**2)
        return img, tx, ty

    def star_distance(self, tx, ty):
        """Distance (truth px) to the nearest star."""
        d = np.full(tx.shape, np.inf)
        for sx, sy in zip(self.star_x, self.star_y, strict=True):
            d = np.minimum(d, np.hypot(tx - sx, ty - sy))
        return d


def _make_sky(seed=1, n_stars=60):
    rng = np.random.default_rng(seed)
    wcs = _tan(RA0, DEC0, 0.0, (400, 560))
    return Sky(wcs, rng.uniform(-260, 260, n_stars) + 280, rng.uniform(-180, 180, n_stars) + 200,
               rng.uniform(300, 3000, n_stars))


# 2x2 layout, ~30 % overlap, small rotations (Alt-Az-like)
_OFFSETS = [(-0.35, -0.35, 0.0), (0.35, -0.35, 3.0), (-0.35, 0.35, -2.0), (0.35, 0.35, 5.0)]


def _tile_wcs(k):
    fx, fy, rot = _OFFSETS[k]
    dra = fx * TILE_W * SCALE_DEG / np.cos(np.deg2rad(DEC0))
    ddec = fy * TILE_H * SCALE_DEG
    return _tan(RA0 - dra, DEC0 + ddec, rot, (TILE_H, TILE_W))


def _alpha(shape=(TILE_H, TILE_W), border=BORDER, value=1.0):
    a = np.zeros(shape, np.float32)
    a[border:-border, border:-border] = value
    return a


def _write_tile(path, data, wcs, alpha=None, n_frames=None):
    extensions = {} if alpha is None else {"ALPHA": alpha, "COVERAGE": alpha * 5}
    extra = {} if n_frames is None else {"NFRAMES": n_frames}
    fits_io.write_fits_image(path, data.astype(np.float32), wcs=wcs, header_extra=extra, extensions=extensions)
    return path


def _tiles_from(folder):
    tiles, rejected = ma.discover_master_tiles(folder)
    assert not rejected
    return tiles


@pytest.fixture(scope="module")
def sky():
    return _make_sky()


@pytest.fixture(scope="module")
def clean_tiles(sky, tmp_path_factory):
    """Four noise-free RGB tiles (channels = truth x 1, 0.8, 0.6) with a zero-alpha border band."""
    folder = tmp_path_factory.mktemp("clean")
    for k in range(4):
        wcs = _tile_wcs(k)
        img, _, _ = sky.render(wcs, (TILE_H, TILE_W))
        rgb = np.stack([img, 0.8 * img, 0.6 * img], axis=2)
        _write_tile(folder / f"master_tile_{k:03d}.fits", rgb, wcs, _alpha(), n_frames=10 + k)
    return _tiles_from(folder)


@pytest.fixture(scope="module")
def clean_mosaic(clean_tiles):
    """The clean tiles co-added by the bilinear kernel (the tests below were written for it; it was the default
    until Lanczos-3 became it, which ``tests/mosaic/test_lanczos_assembly.py`` covers)."""
    grid = ma.compute_global_grid(clean_tiles)
    return ma.assemble_mosaic(clean_tiles, grid, method="interp")


def _truth_on_grid(sky, grid):
    img, tx, ty = sky.render(grid.wcs, grid.shape)
    return img, sky.star_distance(tx, ty)


# --------------------------------------------------------------------------------------------------------------------


def test_discover_reads_headers_and_rejects_bad_files(clean_tiles, tmp_path):
    folder = clean_tiles[0].path.parent
    tiles, rejected = ma.discover_master_tiles(folder)
    assert [t.n_frames for t in tiles] == [10, 11, 12, 13]
    assert all(t.has_alpha and t.n_channels == 3 and t.shape == (TILE_H, TILE_W) for t in tiles)
    assert [t.tile_id for t in tiles] == [0, 1, 2, 3]

    (tmp_path / "notes.fits").write_text("not a fits file")
    fits.PrimaryHDU(np.zeros((20, 30), np.uint16), header=_tile_wcs(0).to_header()).writeto(tmp_path / "raw.fits")
    fits.PrimaryHDU(np.zeros((20, 30), np.float32)).writeto(tmp_path / "nowcs.fits")
    _write_tile(tmp_path / "badalpha.fits", np.ones((20, 30)), _tile_wcs(0))
    with fits.open(tmp_path / "badalpha.fits", mode="append") as hdul:
        hdul.append(fits.ImageHDU(np.ones((10, 10), np.float32), name="ALPHA"))
    _write_tile(tmp_path / "plain.fits", np.ones((20, 30)), _tile_wcs(1))
    (tmp_path / "readme.txt").write_text("ignored")
    tiles, rejected = ma.discover_master_tiles(tmp_path)
    assert [t.path.name for t in tiles] == ["plain.fits"]
    assert not tiles[0].has_alpha and tiles[0].n_frames == 1 and tiles[0].n_channels == 1
    reasons = {r.path.name: r.reason for r in rejected}
    assert set(reasons) == {"notes.fits", "raw.fits", "nowcs.fits", "badalpha.fits"}
    assert all(reason.startswith(str(tmp_path)) for reason in reasons.values())
    assert "ALPHA" in reasons["badalpha.fits"] and "BITPIX=16" in reasons["raw.fits"]


def test_tile_written_by_phase3_equals_the_tile_read_from_its_file(clean_tiles):
    """The Phase 3 -> 4 hand-off describes a tile exactly as its file does, WCS included (to the last bit)."""
    for k, from_file in enumerate(clean_tiles):
        handed = ma.tile_input_from_written(from_file.path, k, shape=(TILE_H, TILE_W, 3), n_frames=from_file.n_frames)
        assert handed == from_file
        assert handed.wcs.to_header_string() == from_file.wcs.to_header_string()
        assert np.array_equal(handed.wcs.wcs.crval, from_file.wcs.wcs.crval)


def test_grid_covers_all_tiles_at_tile_scale(clean_tiles, clean_mosaic):
    grid = clean_mosaic.grid
    assert grid.pixel_scale_arcsec == pytest.approx(2.4, rel=1e-3)
    h, w = grid.shape
    for t in clean_tiles:
        ys, xs = np.array([0, 0, TILE_H - 1, TILE_H - 1]), np.array([0, TILE_W - 1, 0, TILE_W - 1])
        gx, gy = pixel_to_pixel(t.wcs, grid.wcs, xs, ys)
        assert np.all((gx >= -0.5) & (gx <= w - 0.5) & (gy >= -0.5) & (gy <= h - 0.5))
    # tight: the 2x2 layout spans about 1.7 tile widths (+ rotation), not much more
    assert w < 1.9 * TILE_W and h < 2.1 * TILE_H
    assert grid.wcs.wcs.ctype[0] == "RA---TAN"


def test_mosaic_equals_truth_and_star_positions(sky, clean_mosaic):
    grid = clean_mosaic.grid
    truth, star_dist = _truth_on_grid(sky, grid)
    data = clean_mosaic.data
    assert data.shape == grid.shape + (3,) and data.dtype == np.float32
    covered = clean_mosaic.weight > 0
    interior = ndimage_erode(covered, 3)
    smooth = interior & (star_dist > 6 * STAR_SIGMA)
    for c, gain in enumerate((1.0, 0.8, 0.6)):
        rel = np.abs(data[..., c][smooth] / (gain * truth[smooth]) - 1)
        assert np.percentile(rel, 99) < 2e-4 and rel.max() < 1e-3
    # star centroids (background = smooth truth) within 0.1 px of where the WCS puts them
    gx, gy = pixel_to_pixel(sky.wcs, grid.wcs, sky.star_x, sky.star_y)
    smooth_truth = sky.smooth(*pixel_to_pixel(grid.wcs, sky.wcs, *np.meshgrid(
        np.arange(grid.shape[1], dtype=float), np.arange(grid.shape[0], dtype=float))))
    separation = np.hypot(sky.star_x[:, None] - sky.star_x, sky.star_y[:, None] - sky.star_y)
    isolated = np.sort(separation, axis=1)[:, 1] > 10
    errors = []
    for x, y in zip(gx[isolated], gy[isolated], strict=True):
        xi, yi = int(round(x)), int(round(y))
        sl = (slice(yi - 5, yi + 6), slice(xi - 5, xi + 6))
        if not (5 <= yi < grid.shape[0] - 6 and 5 <= xi < grid.shape[1] - 6) or not np.all(interior[sl]):
            continue
        stamp = data[sl][..., 0] - smooth_truth[sl]
        yy, xx = np.mgrid[sl]
        errors.append(np.hypot((stamp * xx).sum() / stamp.sum() - x, (stamp * yy).sum() / stamp.sum() - y))
    assert len(errors) >= 15
    assert max(errors) < 0.1


def ndimage_erode(mask, n):
    from scipy import ndimage

    return ndimage.binary_erosion(mask, iterations=n)


def test_uncovered_pixels_are_nan_and_zero_weight(clean_mosaic, tmp_path):
    covered = clean_mosaic.weight > 0
    assert 0.6 < covered.mean() < 0.99  # the rotated 2x2 layout leaves corners empty
    assert np.all(np.isnan(clean_mosaic.data[~covered]))
    assert np.all(np.isfinite(clean_mosaic.data[covered]))
    assert clean_mosaic.n_tiles == 4
    outputs = ma.write_mosaic_outputs(clean_mosaic, tmp_path / "out")
    assert outputs.fits == tmp_path / "out" / "mosaic.fits" and outputs.preview.is_file()
    back = fits_io.read_fits_image(outputs.fits)
    with fits.open(outputs.fits) as hdul:
        assert hdul[0].data.shape == (3,) + clean_mosaic.grid.shape
    np.testing.assert_array_equal(back.data, clean_mosaic.data)
    np.testing.assert_array_equal(back.extensions["WEIGHT"], clean_mosaic.weight)
    assert np.all(back.extensions["WEIGHT"][~covered] == 0)
    sky_back = back.wcs.pixel_to_world(10.0, 20.0)
    sky_ref = clean_mosaic.grid.wcs.pixel_to_world(10.0, 20.0)
    assert sky_back.separation(sky_ref).arcsec < 1e-3


def test_weights_are_alpha_times_frames_and_alpha_zero_ignored(tmp_path):
    """Two overlapping constant mono tiles: the overlap is the frame-weighted mean; garbage in tile A's alpha-0
    band never shows; alpha 0.5 alone gives the tile's value (no double mask)."""
    wa = _tan(RA0, DEC0, 0.0, (60, 80))
    wb = _tan(RA0 - 40 * SCALE_DEG / np.cos(np.deg2rad(DEC0)), DEC0, 0.0, (60, 80))  # shifted 40 px east
    a = np.full((60, 80), 100.0)
    alpha_a = np.ones((60, 80), np.float32)
    alpha_a[:, :10] = 0.0  # west band of A (outside B) -> garbage must not appear, grid there is NaN
    alpha_a[:, 60:] = 0.0  # east band of A (inside B) -> garbage must not appear, B's value instead
    a[:, :10] = 1e6
    a[:, 60:] = -1e6
    a[5, 30] = np.nan  # a NaN pixel of weight 0
    b = np.full((60, 80), 200.0)
    alpha_b = np.ones((60, 80), np.float32)
    alpha_b[:, 60:] = 0.5  # fractional alpha alone: value 200, not 100
    _write_tile(tmp_path / "a.fits", a, wa, alpha_a, n_frames=1)
    _write_tile(tmp_path / "b.fits", b, wb, alpha_b, n_frames=3)
    tiles = _tiles_from(tmp_path)
    grid = ma.compute_global_grid(tiles)
    res = ma.assemble_mosaic(tiles, grid)
    ax, _ = pixel_to_pixel(wa, grid.wcs, np.arange(80.0), np.full(80, 30.0))
    row = int(round(float(pixel_to_pixel(wa, grid.wcs, 40.0, 30.0)[1])))
    col = lambda xa: int(round(ax[xa]))  # noqa: E731 - grid column of A's column xa
    bx, _ = pixel_to_pixel(wb, grid.wcs, np.arange(80.0), np.full(80, 30.0))
    d, w = res.data[row], res.weight[row]
    assert np.all(np.isnan(d[: col(9) + 1])) and np.all(w[: col(9) + 1] == 0)
    np.testing.assert_allclose(d[col(11): col(39)], 100.0, rtol=1e-5)  # A only
    np.testing.assert_allclose(d[col(41): col(59)], (100.0 + 3 * 200.0) / 4, rtol=1e-5)  # both, weights 1 and 3
    np.testing.assert_allclose(w[col(41): col(59)], 4.0, rtol=1e-5)
    np.testing.assert_allclose(d[col(61): int(round(bx[79])) + 1], 200.0, rtol=1e-5)  # B only, alpha 1 then 0.5
    np.testing.assert_allclose(w[int(round(bx[61])): int(round(bx[79]))], 1.5, rtol=1e-5)  # alpha_b 0.5 x 3 frames
    assert np.all(np.abs(res.data[np.isfinite(res.data)]) <= 200.0 + 1e-3)
    res_none = ma.assemble_mosaic(tiles, grid, tile_weight="none")
    np.testing.assert_allclose(res_none.data[row, col(41): col(59)], 150.0, rtol=1e-5)


def test_memmap_accumulators_equal_ram(clean_tiles, clean_mosaic, tmp_path):
    events = []
    res = ma.assemble_mosaic(clean_tiles, clean_mosaic.grid, method="interp", memmap_dir=tmp_path,
                             memmap_threshold_mb=0.001, progress_callback=events.append)
    assert isinstance(res.data, np.memmap) or isinstance(res.data.base, np.memmap)
    np.testing.assert_array_equal(res.data, clean_mosaic.data)
    np.testing.assert_array_equal(res.weight, clean_mosaic.weight)
    assert [(e.phase, e.done, e.total) for e in events][-1] == ("assemble", 4, 4)
    assert list(tmp_path.iterdir()) == []  # memmap files unlinked (POSIX)


class _PlaneCorrection:
    """Stand-in for tile_harmony.TileCorrection: adds ``0.5 * x - 0.25 * y`` (global px) to every channel."""

    def apply(self, values, x, y):
        return values + (0.5 * x - 0.25 * y)[..., None]


def test_corrections_use_global_pixel_coordinates(sky, clean_tiles, clean_mosaic):
    tile = clean_tiles[3]
    grid = clean_mosaic.grid
    plain = ma.assemble_mosaic([tile], grid)
    corrected = ma.assemble_mosaic([tile], grid, corrections=[_PlaneCorrection()])
    yy, xx = np.mgrid[0:grid.shape[0], 0:grid.shape[1]]
    ok = plain.weight > 0
    np.testing.assert_allclose((corrected.data - plain.data)[ok][:, 1], (0.5 * xx - 0.25 * yy)[ok],
                               rtol=0, atol=2e-3)
    np.testing.assert_array_equal(corrected.weight, plain.weight)


def test_adaptive_method_matches_truth_on_smooth_sky(sky, clean_tiles, clean_mosaic):
    grid = clean_mosaic.grid
    res = ma.assemble_mosaic(clean_tiles[:1], grid, method="adaptive")
    truth, star_dist = _truth_on_grid(sky, grid)
    ok = ndimage_erode(res.weight > 0, 3) & (star_dist > 8 * STAR_SIGMA)
    assert ok.sum() > 5000
    assert np.percentile(np.abs(res.data[..., 0][ok] / truth[ok] - 1), 99) < 1e-3


def test_interp_kernel_equals_reproject_interp(clean_tiles, clean_mosaic):
    grid = clean_mosaic.grid
    ref = ma.assemble_mosaic(clean_tiles, grid, method="reproject_interp")
    both = ndimage_erode((ref.weight > 0) & (clean_mosaic.weight > 0), 2)
    assert both.sum() > 0.8 * (clean_mosaic.weight > 0).sum()
    np.testing.assert_allclose(clean_mosaic.data[both], ref.data[both], rtol=1e-5)
    np.testing.assert_allclose(clean_mosaic.weight[both], ref.weight[both], rtol=1e-5)


def test_pixel_map_refines_until_accurate():
    grid_wcs = _tan(RA0, DEC0, 0.0, (100, 100), scale=0.5)
    tile_wcs = _tan(RA0 + 2, DEC0 + 1, 30.0, (100, 100), scale=0.5)
    node_x, node_y, step = resample._pixel_map(grid_wcs, tile_wcs, (0, 100, 0, 100), tolerance_px=0.01)
    assert step < 32  # 50 deg wide fields: the TAN-to-TAN map is curved enough to need finer nodes
    yy, xx = np.mgrid[0:100, 0:100].astype(float)
    ex, ey = pixel_to_pixel(grid_wcs, tile_wcs, xx, yy)
    planes = np.stack([xx, yy], axis=2).astype(np.float32)
    out = np.empty((100, 100, 2), np.float32)
    resample._bilinear_kernel(0, 100, planes, node_x, node_y, float(step), out)  # the coordinate ramps: identity
    inside = (ex > 1) & (ex < 98) & (ey > 1) & (ey < 98)
    assert inside.sum() > 1000
    assert np.abs(out[..., 0][inside] - ex[inside]).max() < 0.011
    assert np.abs(out[..., 1][inside] - ey[inside]).max() < 0.011


def test_decimated_wcs_maps_block_centres():
    wcs = _tile_wcs(1)
    small = mosaic_grid.decimate_wcs(wcs, 4)
    sky = small.pixel_to_world(np.array([0.0, 7.0]), np.array([0.0, 3.0]))
    x, y = wcs.world_to_pixel(sky)
    np.testing.assert_allclose(x, [1.5, 29.5], atol=1e-6)
    np.testing.assert_allclose(y, [1.5, 13.5], atol=1e-6)


def test_bad_arguments_raise(clean_tiles, clean_mosaic):
    with pytest.raises(ValueError, match="method"):
        ma.assemble_mosaic(clean_tiles, clean_mosaic.grid, method="lanczos")
    with pytest.raises(ValueError, match="corrections"):
        ma.assemble_mosaic(clean_tiles, clean_mosaic.grid, corrections=[None])
    with pytest.raises(ValueError, match="no tiles"):
        ma.compute_global_grid([])


# --------------------------------------------------------------------------------------------------------------------
# Phase 4.5: overlaps -> harmony -> seams
# --------------------------------------------------------------------------------------------------------------------

NOISE = 4.0
_GAINS = [(1.0, 1.0, 1.0), (1.04, 1.02, 1.05), (0.96, 0.97, 0.95), (1.02, 0.99, 1.03)]
_OFFSETS_ADU = [(0.0, 0.0, 0.0), (35.0, 25.0, 40.0), (-30.0, -20.0, -25.0), (20.0, 30.0, 15.0)]


@pytest.fixture(scope="module")
def distorted_tiles(sky, tmp_path_factory):
    """The 2x2 RGB tiles with per-tile, per-channel gain and offset and Gaussian noise."""
    return _write_distorted_tiles(tmp_path_factory.mktemp("distorted"), sky, [_tile_wcs(k) for k in range(4)], seed=7)


def _write_distorted_tiles(folder, sky, wcs_list, seed):
    """Render ``sky`` through each WCS with tile k's gains/offsets (+ colour) and noise; write the tiles."""
    rng = np.random.default_rng(seed)
    for k, wcs in enumerate(wcs_list):
        img, _, _ = sky.render(wcs, (TILE_H, TILE_W))
        rgb = np.stack([g * img * f + o
                        for g, o, f in zip(_GAINS[k], _OFFSETS_ADU[k], (1.0, 0.8, 0.6), strict=True)], axis=2)
        rgb += rng.normal(0.0, NOISE, rgb.shape)
        _write_tile(folder / f"master_tile_{k:03d}.fits", rgb, wcs, _alpha(), n_frames=10)
    return _tiles_from(folder)


def test_overlaps_are_in_global_pixels(distorted_tiles):
    from zemosaic.mosaic import harmony as tile_harmony
    assert tile_harmony is not None
    grid = ma.compute_global_grid(distorted_tiles)
    overlaps = ma.measure_tile_overlaps(distorted_tiles, grid)
    pairs = {(o.i, o.j) for o in overlaps}
    assert {(0, 1), (0, 2), (1, 3), (2, 3)} <= pairs
    for o in overlaps:
        # each sample lies inside both tiles' kept areas, and the sample values follow each tile's distortion
        for k in (o.i, o.j):
            tx, ty = pixel_to_pixel(grid.wcs, distorted_tiles[k].wcs, np.asarray(o.x), np.asarray(o.y))
            assert np.all((tx > BORDER - 1) & (tx < TILE_W - BORDER) & (ty > BORDER - 1) & (ty < TILE_H - BORDER))
        vi, vj = np.asarray(o.values_i), np.asarray(o.values_j)
        assert vi.shape == vj.shape == (len(o.x), 3)
        # v = g * truth + o  ->  (vj - oj) / gj == (vi - oi) / gi within noise
        gi, gj = np.array(_GAINS[o.i]), np.array(_GAINS[o.j])
        oi, oj = np.array(_OFFSETS_ADU[o.i]), np.array(_OFFSETS_ADU[o.j])
        resid = (vi - oi) / gi - (vj - oj) / gj
        assert np.all(np.abs(np.median(resid, axis=0)) < 2.0)


def test_harmony_removes_seams(distorted_tiles):
    from zemosaic.mosaic import harmony as tile_harmony
    grid = ma.compute_global_grid(distorted_tiles)
    overlaps = ma.measure_tile_overlaps(distorted_tiles, grid)
    solution = tile_harmony.solve_tile_harmony(overlaps, len(distorted_tiles), n_channels=3, image_shape=grid.shape)
    raw = ma.assemble_mosaic(distorted_tiles, grid)
    fixed = ma.assemble_mosaic(distorted_tiles, grid, corrections=solution.corrections)
    before = ma.seam_step_sigma(raw, distorted_tiles, grid, noise_sigma=NOISE)
    after = ma.seam_step_sigma(fixed, distorted_tiles, grid, noise_sigma=NOISE)
    assert after <= 1.0
    assert before > 4.0


def test_seam_steps_measure_a_known_offset(clean_tiles, clean_mosaic):
    """Tile 1 shifted by +50 ADU in every channel: seams (1, j) step by 50 x w1 / (w1 + wj) (or less where a third
    tile also contributes); untouched seams stay ~0."""

    class _Offset:
        def __init__(self, o):
            self.o = o

        def apply(self, values, x, y):
            return values + self.o

    corr = [_Offset(0.0), _Offset(50.0), _Offset(0.0), _Offset(0.0)]
    res = ma.assemble_mosaic(clean_tiles, clean_mosaic.grid, corrections=corr)
    steps = ma.seam_steps(res, clean_tiles, clean_mosaic.grid)
    by_pair = {(s.i, s.j): s.step for s in steps if s.channel == 0}
    assert by_pair[(1, 0)] == pytest.approx(50 * 11 / 21, abs=3.0)  # n_frames 11 vs 10
    assert by_pair[(0, 1)] == pytest.approx(-50 * 10 / 21, abs=3.0)
    assert abs(by_pair[(0, 2)]) < 1.0
    clean = ma.seam_step_sigma(clean_mosaic, clean_tiles, clean_mosaic.grid, noise_sigma=1.0)
    assert clean < 1.0


@pytest.fixture(scope="module")
def starry_tiles(tmp_path_factory):
    """The distorted 2x2 tiles (per-tile, per-channel gain and offset, noise) on a sky with 400 stars, overlapping
    by half a tile (the overlaps of the 160 x 240 tiles are otherwise too thin for apertures + sky annuli)."""
    wcs_list = [_tan(RA0 - 0.25 * np.sign(fx) * TILE_W * SCALE_DEG / np.cos(np.deg2rad(DEC0)),
                     DEC0 + 0.25 * np.sign(fy) * TILE_H * SCALE_DEG, rot, (TILE_H, TILE_W))
                for fx, fy, rot in _OFFSETS[:4]]
    return _write_distorted_tiles(tmp_path_factory.mktemp("starry"), _make_sky(seed=2, n_stars=400), wcs_list, seed=8)


def test_overlap_star_samples_give_the_gains(starry_tiles):
    from zemosaic.mosaic import harmony as tile_harmony
    grid = ma.compute_global_grid(starry_tiles)
    overlaps = ma.measure_tile_overlaps(starry_tiles, grid)
    gains = np.array(_GAINS)
    sides = [o for o in overlaps if (o.i, o.j) in {(0, 1), (0, 2), (1, 3), (2, 3)}]
    assert min(o.n_stars for o in sides) >= 10
    for o in sides:
        for k in (o.i, o.j):   # every star lies inside both tiles' kept areas
            tx, ty = pixel_to_pixel(grid.wcs, starry_tiles[k].wcs, o.star_x, o.star_y)
            assert np.all((tx > BORDER) & (tx < TILE_W - BORDER - 1) & (ty > BORDER) & (ty < TILE_H - BORDER - 1))
        ratio = np.nanmedian(o.star_i / o.star_j, axis=0)
        np.testing.assert_allclose(ratio, gains[o.i] / gains[o.j], rtol=0.02)   # plain median of ~15 stars
    solution = tile_harmony.solve_tile_harmony(overlaps, 4, n_channels=3, image_shape=grid.shape)
    assert all(m == ("stars",) * 3 for i, j, m in solution.gain_estimators if (i, j) in {(0, 1), (2, 3)})
    fit = np.array([c.gain for c in solution.corrections]) * gains
    np.testing.assert_allclose(fit / fit[solution.anchor], 1.0, atol=0.01)
    fixed = ma.assemble_mosaic(starry_tiles, grid, corrections=solution.corrections)
    assert ma.seam_step_sigma(fixed, starry_tiles, grid, noise_sigma=NOISE) <= 1.0
    assert all(o.n_stars == 0 for o in ma.measure_tile_overlaps(starry_tiles, grid, stars=False))


def test_accumulation_in_one_pass_is_numpys_bit_for_bit():
    """A reprojected tile is added to the accumulators in one compiled pass: the same float32 sums as numpy's steps
    (round-off weights zeroed, the harmony's correction at global coordinates), with and without a correction."""
    from zemosaic.mosaic import coadd
    from zemosaic.mosaic.harmony import TileCorrection

    rng = np.random.default_rng(9)
    h, w, factor, window = 57, 81, 12.0, (30, 87, 40, 121)
    weight = (rng.random((h, w)) * factor).astype(np.float32)
    weight[rng.random((h, w)) < 0.2] = 0.0
    weight[:3] = np.float32(1e-6 * factor) * np.float32(0.999)                   # interpolation round-off
    planes = np.concatenate([(rng.normal(900, 80, (h, w, 3)) * weight[..., None]).astype(np.float32),
                             weight[..., None]], axis=2)
    correction = TileCorrection(gain=np.array([1.01, 0.98, 1.2]), offset=np.array([-15.5, 3.25, 40.0]),
                                plane=np.array([[1e-3, -2e-3], [0.0, 5e-4], [-3e-4, 1e-4]]))
    for corr in (None, correction):
        start_wv = rng.normal(0, 1e4, (100, 130, 3)).astype(np.float32)
        start_w = rng.random((100, 130)).astype(np.float32)
        want_wv, want_w = start_wv.copy(), start_w.copy()
        out = planes.copy()
        w_out = out[..., -1]
        empty = w_out < 1e-6 * factor
        w_out[empty] = 0.0
        wv = out[..., :-1]
        wv[empty] = 0.0
        if corr is not None:
            values = wv / np.where(w_out > 0, w_out, 1.0)[..., None]
            xs = np.arange(window[2], window[3], dtype=np.float64)[None, :]
            ys = np.arange(window[0], window[1], dtype=np.float64)[:, None]
            wv = np.asarray(corr.apply(values, xs, ys), dtype=np.float32) * w_out[..., None]
        want_wv[30:87, 40:121] += wv
        want_w[30:87, 40:121] += w_out
        got_w_out = coadd._accumulate(planes.copy(), window, start_wv, start_w, corr, factor)
        assert np.array_equal(got_w_out, w_out) and (got_w_out[:3] == 0).all()
        assert np.array_equal(start_wv, want_wv) and np.array_equal(start_w, want_w)
