"""The master tile's canvas covers its group (issue 16 item 1), measured against the generator's truth.

On the generator's Alt-Az groups (a +-30 deg group of 24 frames, and a 2x2 mosaic at +-20 deg): the share of the sky
covered by at least ``max(3, frac x max)`` frames of one panel that reaches the mosaic with weight > 0, the border
colour cast of the kept pixels against the interior's, the fewest frames under a kept pixel and the astrometry of
the canvas WCS, with ``master_tile_canvas=reference`` (the old grid) beside ``group`` (the default).
"""
import json
import logging

import numpy as np
import pytest
from astropy.wcs import WCS, Sip
from scipy import ndimage as ndi

import zemosaic_worker as worker
from measure import catalogue_pixels, distance_inside, fit_gain_plane, refine_centroids
from zemosaic import masks
from zemosaic.align import group as alignment
from zemosaic.align.canvas import Canvas
from zemosaic.align.transform import SimilarityTransform
from zemosaic.config import resolve_config
from zemosaic.io import fits as fits_io
from zemosaic.pipeline import tile_canvas
from zemosaic.synthetic import generator as synthetic

FRAC = 0.4  # altaz_min_coverage_frac's default
SCENES = {
    "altaz_30deg": synthetic.SynthSpec(panels=(1, 1), frames_per_panel=24, width=240, height=360,
                                       pixel_scale_arcsec=4.8, rotation_start_deg=-30.0, rotation_drift_deg=60.0,
                                       seed=5),
    "altaz_2x2": synthetic.SynthSpec(panels=(2, 2), frames_per_panel=8, width=240, height=360, pixel_scale_arcsec=4.8,
                                     rotation_start_deg=-20.0, rotation_drift_deg=40.0, seed=11),
}


# ----------------------------------------------------------------------------------------------
# the two scenes, each run with both canvases
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=sorted(SCENES))
def scene_runs(request, tmp_path_factory):
    name = request.param
    root = tmp_path_factory.mktemp(name)
    dataset = synthetic.generate_dataset(root / "in", SCENES[name])
    runs = {}
    for canvas in ("reference", "group"):
        cfg = resolve_config(overrides=[f"master_tile_canvas={canvas}"])
        result = worker.run_mosaic(root / "in", root / canvas, cfg)
        paths = sorted((root / canvas / "master_tiles").glob("master_tile_*.fits"))
        tiles = [fits_io.read_fits_image(p) for p in paths]
        report = json.loads((root / canvas / "run_report.json").read_text())
        runs[canvas] = {"mosaic": fits_io.read_fits_image(result.mosaic_path), "tiles": tiles, "report": report}
    return name, dataset, runs


def _truth_grid(dataset):
    """World coordinates of the generator's global grid (it covers every frame) and, per panel, how many of its
    frames cover each grid pixel (pixel-centre hull, as the valid masks)."""
    h, w = dataset.global_shape
    yy, xx = np.mgrid[0:h, 0:w]
    ra, dec = dataset.global_wcs.wcs_pix2world(xx.ravel(), yy.ravel(), 0)
    counts = {}
    for frame in dataset.frames:
        counts.setdefault(frame.panel, np.zeros(h * w, np.int32))
        counts[frame.panel] += _inside_frame(frame, dataset.spec, ra, dec)
    return (ra, dec), {p: c.reshape(h, w) for p, c in counts.items()}


def _inside_frame(frame, spec, ra, dec, tol=0.0):
    x, y = frame.wcs.wcs_world2pix(ra, dec, 0)
    return (x >= -tol) & (x <= spec.width - 1 + tol) & (y >= -tol) & (y <= spec.height - 1 + tol)


def _well_covered(counts):
    """Sky covered by at least max(3, FRAC x max) frames of one panel (the union over panels)."""
    return np.logical_or.reduce([c >= max(3.0, FRAC * c.max()) for c in counts.values()])


def _mosaic_weight_on(mosaic, radec, shape):
    x, y = mosaic.wcs.wcs_world2pix(radec[0], radec[1], 0)
    xi, yi = np.round(x).astype(int), np.round(y).astype(int)
    h, w = mosaic.data.shape[:2]
    inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    weight = np.zeros(x.size, np.float32)
    weight[inside] = mosaic.extensions["WEIGHT"][yi[inside], xi[inside]]
    return weight.reshape(shape)


def _share_kept(run, dataset):
    radec, counts = _truth_grid(dataset)
    well = _well_covered(counts)
    weight = _mosaic_weight_on(run["mosaic"], radec, well.shape)
    return float(np.count_nonzero(weight[well] > 0) / np.count_nonzero(well)), weight, counts


def test_the_group_canvas_keeps_the_well_covered_sky(scene_runs):
    name, dataset, runs = scene_runs
    share_ref, _, _ = _share_kept(runs["reference"], dataset)
    share, weight, counts = _share_kept(runs["group"], dataset)
    print(f"{name}: well-covered sky reaching the mosaic: reference canvas {share_ref:.4f}, group canvas {share:.4f}")
    assert share >= 0.97
    assert share > share_ref
    if name == "altaz_30deg":
        assert share_ref < 0.9  # what the reference grid threw away: the issue's ~17 % more sky
    # nothing the mosaic keeps lies on sky that fewer than 3 frames cover, beyond the resampling of the tile edges
    total = sum(counts.values())
    low = (weight > 0) & (total < 3)
    reach = distance_inside(total < 3)
    print(f"{name}: kept pixels over < 3 frames: {low.sum()} (at most {reach[low].max() if low.any() else 0:.2f} px "
          f"inside that region)")
    assert not low.any() or reach[low].max() <= 1.5


def test_no_kept_tile_pixel_has_fewer_than_3_frames(scene_runs):
    name, dataset, runs = scene_runs
    for k, tile in enumerate(runs["group"]["tiles"]):
        alpha, coverage = tile.extensions["ALPHA"], tile.extensions["COVERAGE"]
        kept = alpha > 0
        assert coverage[kept].min() >= 3, f"tile {k}"
        # against the truth: the frames of the tile's panel whose hull (grown by 1 px) holds each kept pixel
        h, w = kept.shape
        yy, xx = np.nonzero(kept)
        ra, dec = tile.wcs.wcs_pix2world(xx, yy, 0)
        panel = _tile_panel(tile, dataset)
        n = sum(_inside_frame(f, dataset.spec, ra, dec, tol=1.0).astype(int)
                for f in dataset.frames if f.panel == panel)
        print(f"{name} tile {k}: {kept.sum()} kept pixels, fewest frames {int(coverage[kept].min())} (stack), "
              f"{int(n.min())} (truth)")
        assert n.min() >= 3


def _tile_panel(tile, dataset):
    """The panel whose centre is closest to the tile's centre."""
    h, w = tile.data.shape[:2]
    ra, dec = tile.wcs.wcs_pix2world([(w - 1) / 2.0], [(h - 1) / 2.0], 0)
    best = {}
    for f in dataset.frames:
        fx, fy = f.wcs.wcs_world2pix(ra, dec, 0)
        d = float(np.hypot(fx[0] - (dataset.spec.width - 1) / 2.0, fy[0] - (dataset.spec.height - 1) / 2.0))
        best[f.panel] = min(best.get(f.panel, np.inf), d)
    return min(best, key=best.get)


def _border_and_interior_chroma(tile, scene):
    """Chroma RMS (R-G, B-G residual against the truth after a gain + plane per channel) of star-free kept pixels
    within 20 px of the kept region's edge, and deeper than 60 px
    (as tests/pipeline/test_create_master_tile_coverage.py)."""
    data, alpha = tile.data, tile.extensions["ALPHA"]
    truth = scene.render(tile.wcs, data.shape[:2])
    kept = (alpha > 0.5) & np.isfinite(data).all(axis=-1)
    lum = truth.sum(axis=-1)
    starfree = lum < np.percentile(lum[kept], 60)
    filled = np.nan_to_num(data)
    resid = np.stack([filled[..., c] - fit_gain_plane(filled[..., c], truth[..., c], kept & starfree)
                      for c in range(3)], axis=-1)
    chroma = np.stack([resid[..., 0] - resid[..., 1], resid[..., 2] - resid[..., 1]], axis=-1)
    depth = distance_inside(kept)
    border, interior = kept & starfree & (depth <= 20), kept & starfree & (depth > 60)
    rms = lambda m: float(np.sqrt(np.mean(chroma[m] ** 2)))  # noqa: E731
    return rms(border), rms(interior)


def test_the_border_colour_cast_stays_within_1_2x_the_interior(scene_runs):
    name, dataset, runs = scene_runs
    for canvas in ("reference", "group"):
        for k, tile in enumerate(runs[canvas]["tiles"]):
            border, interior = _border_and_interior_chroma(tile, dataset.scene)
            print(f"{name} {canvas} canvas tile {k}: border chroma RMS {border:.2f}, interior {interior:.2f}, "
                  f"ratio {border / interior:.3f}")
            if canvas == "group":
                assert border <= 1.2 * interior


MIN_STAR_FLUX = 1000.0  # ADU: fainter stars are centroided worse than 0.3 px by the noise alone


def _star_errors(tile, dataset, ref_wcs):
    """Measured minus catalogue positions (px) of the isolated unsaturated stars brighter than MIN_STAR_FLUX whose
    centroid window (17 x 17 px, its sky included) is all data, and which of them lie off the reference frame's
    rectangle."""
    data = tile.data
    x, y, flux = catalogue_pixels(dataset.catalogue, tile.wcs, data.shape[:2], max_peak=30000, n_brightest=1000)
    finite = ndi.minimum_filter(np.isfinite(data).all(axis=-1), size=17, mode="constant", cval=False)
    keep = finite[np.round(y).astype(int), np.round(x).astype(int)] & (flux >= MIN_STAR_FLUX)
    x, y = x[keep], y[keep]
    mx, my = refine_centroids(np.nan_to_num(data[..., 1]), x, y)
    ok = np.isfinite(mx)
    ra, dec = tile.wcs.wcs_pix2world(x[ok], y[ok], 0)
    rx, ry = ref_wcs.wcs_world2pix(ra, dec, 0)
    off_ref = (rx < 0) | (ry < 0) | (rx > dataset.spec.width - 1) | (ry > dataset.spec.height - 1)
    return np.column_stack([mx[ok] - x[ok], my[ok] - y[ok]]), off_ref


def test_the_canvas_wcs_puts_the_stars_where_the_truth_says(scene_runs):
    name, dataset, runs = scene_runs
    off_all = []
    rms = lambda d: float(np.sqrt(np.mean(d ** 2))) if d.size else float("nan")  # noqa: E731
    for canvas in ("reference", "group"):
        for k, tile in enumerate(runs[canvas]["tiles"]):
            record = runs[canvas]["report"]["tiles"][k]
            err, off_ref = _star_errors(tile, dataset, _reference_frame_wcs(record, dataset))
            dist = np.hypot(err[:, 0], err[:, 1])
            bias = err.mean(axis=0)
            print(f"{name} {canvas} tile {k}: canvas {record['canvas']['shape']} origin {record['canvas']['origin']}: "
                  f"{len(dist)} stars, RMS {rms(dist):.3f} px, mean offset ({bias[0]:+.3f}, {bias[1]:+.3f}) px; "
                  f"{off_ref.sum()} off the reference rectangle, RMS {rms(dist[off_ref]):.3f} px")
            if canvas == "group":
                assert len(dist) >= 10 and rms(dist) < 0.3 and np.abs(bias).max() < 0.1
                off_all.append(dist[off_ref])
    off = np.concatenate(off_all)
    assert off.size >= 1 and off.max() < 0.3  # stars that the reference grid did not have


def test_the_canvas_wcs_is_the_reference_wcs_moved_by_whole_pixels(scene_runs):
    """Each group tile's WCS maps the reference tile's pixels to whole-pixel shifts of themselves, and the pixels
    there hold the same sky (the content lines up to a few hundredths of a pixel)."""
    name, dataset, runs = scene_runs
    for k, (ref, grp) in enumerate(zip(runs["reference"]["tiles"], runs["group"]["tiles"], strict=True)):
        h, w = ref.data.shape[:2]
        px = np.array([[0.0, 0.0], [w - 1.0, 0.0], [0.0, h - 1.0], [w / 2.0, h / 3.0], [w - 1.0, h - 1.0]])
        moved = np.column_stack(grp.wcs.wcs_world2pix(*ref.wcs.wcs_pix2world(px[:, 0], px[:, 1], 0), 0)) - px
        shift = np.round(moved[0])
        np.testing.assert_allclose(moved, np.broadcast_to(shift, moved.shape), atol=1e-6)
        dx, dy = int(shift[0]), int(shift[1])
        both = (ref.extensions["ALPHA"] == 1) & np.isfinite(ref.data).all(axis=-1)
        ys, xs = np.nonzero(both)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        a = np.nan_to_num(ref.data[y0:y1, x0:x1, 1])
        b = np.nan_to_num(grp.data[y0 + dy:y1 + dy, x0 + dx:x1 + dx, 1])
        found = alignment.phase_correlate(a, b)
        print(f"{name} tile {k}: group tile = reference tile moved by ({dx}, {dy}) px; content shift "
              f"({found.dx:+.4f}, {found.dy:+.4f}) px, confidence {found.confidence:.0f}")
        assert abs(found.dx) < 0.02 and abs(found.dy) < 0.02


def _reference_frame_wcs(tile_report, dataset):
    by_name = {f.path.name: f for f in dataset.frames}
    reference = next(f for f in tile_report["frames"] if f["method"] == "reference")
    return by_name[reference["path"].split("/")[-1]].wcs


def test_the_report_and_the_log_say_which_canvas(scene_runs):
    name, dataset, runs = scene_runs
    for canvas in ("reference", "group"):
        for k, tile in enumerate(runs[canvas]["report"]["tiles"]):
            record = tile["canvas"]
            assert record["mode"] == canvas, (canvas, k, record)
            h, w = record["shape"]
            if canvas == "reference":
                assert record["origin"] == [0, 0] and (h, w) == (dataset.spec.height, dataset.spec.width)
                assert tile["shape"][0] <= h and tile["shape"][1] <= w
            else:
                assert h * w > dataset.spec.height * dataset.spec.width
                assert record["area_ratio"] <= tile_canvas.MAX_AREA_FACTOR
                assert record["origin"][0] <= 0 and record["origin"][1] <= 0  # the reference rectangle is inside


# ----------------------------------------------------------------------------------------------
# the canvas plan (pure geometry)
# ----------------------------------------------------------------------------------------------

SHAPE = (360, 240)


def _plan(transforms, **kw):
    return tile_canvas.plan_tile_canvas(transforms, SHAPE, **kw)


def _rotation_about_centre(deg, dx=0.0, dy=0.0, shape=SHAPE):
    """Frame -> reference transform of a frame turned by ``deg`` about the reference centre, then shifted."""
    cx, cy = (shape[1] - 1) / 2.0, (shape[0] - 1) / 2.0
    t = np.radians(deg)
    c, s = np.cos(t), np.sin(t)
    return SimilarityTransform(deg, 1.0, cx - c * cx + s * cy + dx, cy - s * cx - c * cy + dy)


def test_a_rotated_group_gets_a_canvas_around_its_well_covered_sky(caplog):
    transforms = [_rotation_about_centre(a) for a in np.linspace(-30, 30, 13)]
    with caplog.at_level(logging.INFO):
        plan = _plan(transforms, tile_id=4)
    assert plan.mode == "group" and plan.step == 1 and plan.threshold == pytest.approx(0.4 * 13)
    h, w = plan.canvas.shape
    x0, y0 = plan.canvas.origin
    assert x0 < 0 and y0 <= 0 and x0 + w > SHAPE[1] and y0 + h >= SHAPE[0]
    # the canvas holds every point the prediction finds well covered, and little more
    xs, ys = np.arange(x0 - 40, x0 + w + 40), np.arange(y0 - 40, y0 + h + 40)
    count = tile_canvas._predicted_coverage(transforms, SHAPE, xs.astype(float), ys.astype(float))
    rows, cols = np.nonzero(count >= plan.threshold)
    assert xs[cols].min() >= x0 and xs[cols].max() <= x0 + w - 1
    assert ys[rows].min() >= y0 and ys[rows].max() <= y0 + h - 1
    assert xs[cols].min() - x0 <= 1 and x0 + w - 1 - xs[cols].max() <= 1
    assert "MT_CANVAS tile_id=4 mode=group shape=" in caplog.text and "reason=bounding box" in caplog.text


def test_aligned_frames_keep_the_reference_grid():
    plan = _plan([SimilarityTransform.translation(0, 0)] * 6)
    assert plan.canvas == Canvas.reference(SHAPE) and plan.mode == "reference"
    assert "within the reference frame" in plan.reason
    assert _plan([_rotation_about_centre(a) for a in (-20, 0, 20)], mode="reference").canvas == Canvas.reference(SHAPE)
    assert _plan([SimilarityTransform.translation(0, 0), None, None]).canvas == Canvas.reference(SHAPE)


def test_a_barely_overlapping_group_keeps_only_where_frames_pile_up():
    w = SHAPE[1]
    # a strip of frames, each 0.8 frame widths from the last: at most 2 frames anywhere, below the 3-frame floor
    strip = [SimilarityTransform.translation(0.8 * w * k, 0) for k in range(8)]
    plan = _plan(strip)
    assert plan.canvas == Canvas.reference(SHAPE) and "no well-covered region" in plan.reason
    # two stacks of 5 frames, 1.5 widths apart with a 10 px dither: both stacks are well covered, the gap is not
    rng = np.random.default_rng(1)
    two = [SimilarityTransform.translation(1.5 * w * (k % 2) + rng.uniform(-10, 10), rng.uniform(-10, 10))
           for k in range(10)]
    plan = _plan(two)
    assert plan.mode == "group" and plan.canvas.shape[1] > 2.4 * w and plan.area_ratio <= 2.7
    # the same two stacks 4 widths apart: the box exceeds the memory guard and is cut around the coverage centre
    far = [SimilarityTransform.translation(4.0 * w * (k % 2) + (k % 3), k % 4) for k in range(10)]
    plan = _plan(far)
    assert plan.reason.startswith("capped") and plan.area_ratio <= tile_canvas.MAX_AREA_FACTOR
    assert plan.area_ratio > 0.95 * tile_canvas.MAX_AREA_FACTOR


def test_the_stack_budget_bounds_the_canvas_width():
    transforms = [_rotation_about_centre(a) for a in np.linspace(-30, 30, 13)]
    wide = _plan(transforms)
    budget = 13 * 3 * 8 * tile_canvas.MIN_STACK_ROWS * 200 / 2**20  # room for 200 px of width
    narrow = _plan(transforms, memory_budget_mb=budget)
    assert wide.canvas.shape[1] > 250 and narrow.canvas.shape[1] == 200 and narrow.reason.startswith("capped")


def test_the_canvas_wcs_keeps_the_sky_of_every_pixel():
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN-SIP", "DEC--TAN-SIP"]
    wcs.wcs.crval = [83.8, -5.4]
    wcs.wcs.crpix = [120.5, 180.5]
    wcs.wcs.cd = np.array([[-1.3e-3, 2e-5], [2e-5, 1.3e-3]])
    a, b = np.zeros((3, 3)), np.zeros((3, 3))
    a[2, 0], b[0, 2] = 2e-6, -1e-6
    wcs.sip = Sip(a, b, None, None, wcs.wcs.crpix)
    canvas = Canvas((420, 330), (-57, -10))
    moved = tile_canvas.canvas_wcs(wcs, canvas)
    x, y = np.array([0.0, 57.0, 300.0]), np.array([0.0, 10.0, 400.0])
    np.testing.assert_allclose(np.array(moved.all_pix2world(x, y, 0)),
                               np.array(wcs.all_pix2world(x - 57, y - 10, 0)), atol=1e-10)
    assert moved.pixel_shape == (330, 420)
    assert tile_canvas.canvas_wcs(wcs, Canvas.reference(SHAPE)).wcs.crpix.tolist() == wcs.wcs.crpix.tolist()


# ----------------------------------------------------------------------------------------------
# the two-pass warp
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_group():
    group = synthetic.make_frame_group(4, shape=(160, 120), rotation_drift_deg=24.0, seed=3)
    return list(group.frames)


def test_warp_group_on_the_reference_grid_is_align_images_in_group(small_group):
    one_pass = alignment.align_images_in_group(small_group, 0, propagate_mask=True)
    found = alignment.find_group_transforms(small_group, 0)
    assert all(f.image is None and f.valid is None for f in found)
    two_pass = alignment.warp_group(small_group, found, Canvas.reference(small_group[0].shape), propagate_mask=True)
    for a, b in zip(one_pass, two_pass, strict=True):
        assert a.method == b.method and a.transform == b.transform
        np.testing.assert_array_equal(a.image, b.image)
        np.testing.assert_array_equal(a.valid, b.valid)


def test_warp_group_on_a_canvas_is_the_same_warp_moved_by_the_origin(small_group):
    h, w = small_group[0].shape[:2]
    canvas = Canvas((h + 50, w + 40), (-25, -30))
    found = alignment.find_group_transforms(small_group, 0)
    on_ref = alignment.warp_group(small_group, found, Canvas.reference((h, w)), propagate_mask=True)
    on_canvas = alignment.warp_group(small_group, found, canvas, propagate_mask=True)
    inner = (slice(30, 30 + h), slice(25, 25 + w))
    ref = on_canvas[0]
    assert ref.valid.sum() == h * w and ref.valid[inner].all()
    np.testing.assert_array_equal(ref.image[inner], small_group[0])  # copied, not resampled
    for a, b in zip(on_ref[1:], on_canvas[1:], strict=True):
        np.testing.assert_allclose(b.image[inner][a.valid], a.image[a.valid], atol=1e-3)
        np.testing.assert_array_equal(b.valid[inner], a.valid)
        assert b.valid.sum() > a.valid.sum()  # each rotated frame lands partly outside the reference rectangle
        assert b.transform == a.transform     # still frame -> reference


def test_warp_group_in_any_order_gives_the_same_frames_in_input_order(small_group):
    """warp_group(order=...): the frames are read and warped in that order (the reference read first whatever
    it is), the results come back in input order, the same bit for bit; an order that is not every index once
    is refused."""
    h, w = small_group[0].shape[:2]
    canvas = Canvas((h + 30, w + 20), (-10, -15))
    found = alignment.find_group_transforms(small_group, 0)
    read: list[int] = []

    class Recorded(list):
        def __getitem__(self, i):
            read.append(i)
            return list.__getitem__(self, i)

    forward = alignment.warp_group(small_group, found, canvas, propagate_mask=True)
    backward = alignment.warp_group(Recorded(small_group), found, canvas, propagate_mask=True, order=[3, 2, 1, 0])
    assert read == [0, 3, 2, 1]
    for a, b in zip(forward, backward, strict=True):
        assert a.method == b.method and a.transform == b.transform
        np.testing.assert_array_equal(a.image, b.image)
        np.testing.assert_array_equal(a.valid, b.valid)
    with pytest.raises(ValueError, match="every frame index"):
        alignment.warp_group(small_group, found, canvas, order=[0, 1, 1, 2])


def test_the_reference_on_a_canvas_is_framed_by_its_own_sky_per_channel(small_group):
    h, w = small_group[0].shape[:2]
    found = alignment.find_group_transforms(small_group, 0)
    ref = alignment.warp_group(small_group, found, Canvas((h + 20, w + 16), (-8, -10)), propagate_mask=True)[0]
    outside = ref.image[~ref.valid]
    assert outside.size and np.isfinite(ref.image).all()  # a finite fill, never NaN, where the reference has no data
    sky = np.median(small_group[0].reshape(-1, 3), axis=0)
    assert np.ptp(sky) > 0.1 * sky.mean()  # the channels' skies differ: one fill for all would be wrong
    np.testing.assert_allclose(outside[0], sky, rtol=0.05)
    assert (outside == outside[0]).all()


def test_the_quality_crop_ignores_the_canvas_corners_no_frame_covers():
    rng = np.random.default_rng(2)
    img = (400.0 + rng.normal(0.0, 5.0, (300, 260, 3))).astype(np.float32)
    yy, xx = np.mgrid[0:300, 0:260]
    covered = np.abs((xx - 130) * 0.8 + (yy - 150) * 0.6) + np.abs(-(xx - 130) * 0.6 + (yy - 150) * 0.8) < 190
    img[~covered] = np.nan
    assert masks.detect_quality_crop_rect(img) is not None       # the NaN corners read as bad bands
    assert masks.detect_quality_crop_rect(img, valid=covered) is None
    dark = img.copy()
    dark[:, :30][covered[:, :30]] = 50.0                            # a real dark band is still cropped
    rect = masks.detect_quality_crop_rect(dark, valid=covered)
    assert rect is not None and rect[1] >= 28 and rect[3] == 260
