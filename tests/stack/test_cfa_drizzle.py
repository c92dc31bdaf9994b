"""CFA drizzle (issue 26 item 5): raw Bayer samples dropped onto the tile grid through the alignment transforms.

Frames are sampled from an analytic colour field on the canvas through known similarity transforms (rotations of
a few degrees, sub-pixel shifts), one colour per raw pixel by the GRBG pattern, so every drizzled pixel can be
compared with the field; then a whole master tile is drizzled from generated Seestar-like frames.
"""
from __future__ import annotations

import numpy as np
import pytest
from astropy.wcs import WCS

import zemosaic_worker as worker
from measure import catalogue_pixels, refine_centroids
from zemosaic.align.transform import SimilarityTransform
from zemosaic.config import resolve_config
from zemosaic.io import fits as fits_io
from zemosaic.pipeline.report import RunReport
from zemosaic.stack import cfa_drizzle
from zemosaic.synthetic import generator as synthetic

FRAME_HW = (60, 80)
PATTERN = "GRBG"  # row 0: G R, row 1: B G


def _field(x, y):
    """R, G, B of the smooth truth at canvas coordinates (x, y)."""
    return np.stack([500 + 2.0 * x + 20 * np.sin(x / 9.0), 300 + 1.5 * y + 15 * np.cos(y / 7.0),
                     200 + 0.5 * x - 0.8 * y], axis=-1)


def _raw_frame(t: SimilarityTransform, trail=False):
    h, w = FRAME_HW
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    cx, cy = (np.stack([xx, yy, np.ones_like(xx)], -1) @ t.matrix.T)[..., :2].transpose(2, 0, 1)
    rgb = _field(cx, cy)
    cmap = np.array([[1, 0], [2, 1]])
    raw = np.take_along_axis(rgb, cmap[yy.astype(int) % 2, xx.astype(int) % 2][..., None], axis=-1)[..., 0]
    if trail:
        raw[np.abs(yy - 0.4 * xx - 20) < 1.0] += 5000.0
    return raw.astype(np.float32)


def _transforms(n=10, seed=2):
    rng = np.random.default_rng(seed)
    return [SimilarityTransform(0.0, 1.0, 10.0, 10.0)] + [
        SimilarityTransform(float(rng.uniform(-6, 6)), 1.0, 10.0 + float(rng.uniform(-2, 2)),
                            10.0 + float(rng.uniform(-2, 2))) for _ in range(n - 1)]


def _drizzle(transforms, scale, trail_frame=None, pixfrac=1.0):
    frames = [(_raw_frame(t, trail=(k == trail_frame)), PATTERN) for k, t in enumerate(transforms)]
    matrices = [cfa_drizzle.drizzle_matrix(t.matrix, scale) for t in transforms]
    out_hw = cfa_drizzle.output_shape((FRAME_HW[0] + 20, FRAME_HW[1] + 20), scale)
    return cfa_drizzle.cfa_drizzle(lambda k: frames[k], matrices, out_hw, scale=scale, pixfrac=pixfrac)


def _truth_on_output(shape, scale):
    oy, ox = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
    return _field((ox + 0.5) / scale - 0.5, (oy + 0.5) / scale - 0.5)


@pytest.mark.parametrize("scale", [1.0, 1.5, 2.0])
def test_drizzle_reproduces_the_colour_field_in_the_right_channels(scale):
    transforms = _transforms()
    res = _drizzle(transforms, scale)
    truth = _truth_on_output(res.image.shape[:2], scale)
    deep = res.coverage >= len(transforms)
    inner = np.zeros_like(deep)
    m = int(4 * scale)
    inner[m:-m, m:-m] = True
    err = np.abs(res.image - truth)[deep & inner]
    print(f"scale {scale}: {deep.sum()} px covered by every frame, max |error| per channel "
          f"{err.max(axis=0).round(3)}, filled {res.filled_fraction:.4f}")
    assert deep.sum() > 0.5 * FRAME_HW[0] * FRAME_HW[1] * scale**2
    # an output pixel takes the mean of the drops that overlap it, centred up to ~0.5 raw px away (R and B sites
    # are 2 px apart): the error is bounded by the field's slope (ADU / raw px) x 0.6 px, + 0.5 ADU of curvature
    slope = np.array([2.0 + 20 / 9.0, 1.5 + 15 / 7.0, np.hypot(0.5, 0.8)])
    assert np.all(err.max(axis=0) < 0.6 * slope + 0.5)
    # channel order: R holds the red field (500 + ...), B the blue (200 + ...): a swap would be off by ~300
    assert np.median(res.image[..., 0][deep]) > 550 and np.median(res.image[..., 2][deep]) < 260


def test_coverage_counts_the_frames_over_each_drizzled_pixel():
    transforms = _transforms(6)
    scale = 1.5
    res = _drizzle(transforms, scale)
    oy, ox = np.mgrid[0:res.coverage.shape[0], 0:res.coverage.shape[1]].astype(float)
    cx, cy = (ox + 0.5) / scale - 0.5, (oy + 0.5) / scale - 0.5
    expected = np.zeros(res.coverage.shape)
    for t in transforms:
        inv = np.linalg.inv(t.matrix)
        fx = inv[0, 0] * cx + inv[0, 1] * cy + inv[0, 2]
        fy = inv[1, 0] * cx + inv[1, 1] * cy + inv[1, 2]
        expected += (fx >= 0) & (fy >= 0) & (fx <= FRAME_HW[1] - 1) & (fy <= FRAME_HW[0] - 1)
    mismatch = res.coverage != expected
    assert mismatch.mean() < 0.002  # pixel centres on a hull edge, within round-off
    assert np.isnan(res.image[res.coverage == 0]).all()
    assert np.isfinite(res.image[res.coverage > 0]).all()


def test_a_satellite_trail_in_one_frame_is_rejected():
    transforms = _transforms()
    clean = _drizzle(transforms, 1.0)
    trailed = _drizzle(transforms, 1.0, trail_frame=3)
    both = (clean.coverage >= len(transforms)) & np.isfinite(trailed.image).all(-1)
    diff = np.abs(trailed.image - clean.image)[both]
    print(f"trail: rejected {trailed.rejected_fraction:.4f} of the drops, max change {diff.max():.2f} ADU")
    assert trailed.rejected_fraction > 0.004
    assert diff.max() < 5.0  # 5000 ADU / 10 frames = 500 ADU had it been averaged in


def test_scaled_wcs_keeps_the_sky():
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN-SIP", "DEC--TAN-SIP"]
    wcs.wcs.crval = [150.0, 30.0]
    wcs.wcs.crpix = [40.5, 30.5]
    wcs.wcs.cd = np.array([[-2.4, 0.3], [0.3, 2.4]]) / 3600
    from astropy.wcs import Sip
    a = np.zeros((3, 3))
    a[2, 0] = 2e-5
    b = np.zeros((3, 3))
    b[0, 2] = -1e-5
    wcs.sip = Sip(a, b, None, None, wcs.wcs.crpix)
    wcs.wcs.set()
    for scale in (1.5, 2.0):
        out = cfa_drizzle.scale_wcs(wcs, scale)
        cx, cy = np.array([0.0, 17.3, 79.0]), np.array([0.0, 41.2, 59.0])
        ra, dec = wcs.all_pix2world(cx, cy, 0)
        ra2, dec2 = out.all_pix2world(scale * (cx + 0.5) - 0.5, scale * (cy + 0.5) - 0.5, 0)
        sep = np.hypot((ra2 - ra) * np.cos(np.deg2rad(30)), dec2 - dec) * 3600
        assert sep.max() < 1e-3, scale


SPEC = synthetic.SynthSpec(panels=(1, 1), frames_per_panel=8, width=120, height=180, pixel_scale_arcsec=4.8,
                           rotation_drift_deg=30.0, seed=7, nebula=True)


@pytest.fixture(scope="module")
def group(tmp_path_factory):
    root = tmp_path_factory.mktemp("drizzle_group")
    dataset = synthetic.generate_dataset(root / "in", SPEC)
    frames = worker.scan_input_folder(root / "in", RunReport("", "", "test", {}))
    return dataset, frames, root


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_master_tile_by_cfa_drizzle_has_its_masks_on_the_drizzled_grid(group, scale):
    dataset, frames, root = group
    plain = worker.create_master_tile(frames, 0, resolve_config(), root / "debayer")
    cfg = resolve_config(overrides=["master_tile_stack=cfa_drizzle", f"drizzle_scale={scale}"])
    result = worker.create_master_tile(frames, 0, cfg, root / f"drizzle_{scale}")
    tile, ref = fits_io.read_fits_image(result.path), fits_io.read_fits_image(plain.path)
    alpha, cov = tile.extensions["ALPHA"], tile.extensions["COVERAGE"]
    print(f"scale {scale}: tile {tile.data.shape} (debayer {ref.data.shape}), coverage max {cov.max():.0f}, "
          f"kept {np.mean(alpha > 0.5):.3f} ({np.mean(ref.extensions['ALPHA'] > 0.5):.3f}); {result.report.stack}")
    assert result.report.stack["method"] == "cfa_drizzle"
    assert alpha.shape == cov.shape == tile.data.shape[:2]
    assert abs(tile.data.shape[0] - scale * ref.data.shape[0]) <= 2 * scale + 1
    assert cov.max() == SPEC.frames_per_panel and np.all(alpha[cov < 3] == 0)
    # the drizzled grid's WCS: the generator's bright stars where the truth says, as well as on the debayered tile
    x, y, flux = catalogue_pixels(dataset.catalogue, tile.wcs, tile.data.shape[:2], max_peak=30000, n_brightest=30,
                                  margin=int(15 * scale), min_sep_px=12.0 * scale)
    inside = (alpha[np.round(y).astype(int), np.round(x).astype(int)] > 0.99) & (flux >= 1000.0)
    x, y = x[inside], y[inside]
    mx, my = refine_centroids(np.nan_to_num(tile.data[..., 1]), x, y, box=int(3 * scale))
    err = np.hypot(mx - x, my - y) / scale  # in raw pixels
    rx, ry = ref.wcs.all_world2pix(*tile.wcs.all_pix2world(x, y, 0), 0)
    dx, dy = refine_centroids(np.nan_to_num(ref.data[..., 1]), rx, ry, box=3)
    err_ref = np.hypot(dx - rx, dy - ry)
    ok = np.isfinite(err) & np.isfinite(err_ref)
    print(f"  {ok.sum()} stars of >= 1000 ADU: median error {np.median(err[ok]):.3f} raw px (debayer tile "
          f"{np.median(err_ref[ok]):.3f})")
    assert ok.sum() >= 3 and np.median(err[ok]) < np.median(err_ref[ok]) + 0.15
