"""The mosaic sky model (Phase 5.5, ``mosaic_background``): unit tests on arrays with a known sky, the BACKGROUND
extension, and whole runs measured against the generator's truth (definitions in tests/sky_truth.py)."""
import dataclasses
import json

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from scipy import ndimage as ndi

import sky_truth
import zemosaic_worker as worker
from zemosaic.config import resolve_config
from zemosaic.io import fits as fits_io
from zemosaic.mosaic import sky
from zemosaic.synthetic import generator as synthetic
from zemosaic.synthetic.demo import demo_spec

# ---------------------------------------------------------------------------------------------------------------
# unit tests: plane + stars + a large Gaussian blob, every term known


def _scene(shape=(300, 420), seed=0, blob_sigma=45.0, blob_peak=60.0, noise=5.0, blob_xy=(0.6, 0.45)):
    """(image, plane, stars, blob): RGB sky plane with a colour cast, 150 stars, a coloured Gaussian blob."""
    rng = np.random.default_rng(seed)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    levels, tilts = np.array([900.0, 800.0, 650.0]), np.array([[0.6, -0.3], [0.4, -0.2], [0.25, -0.1]])
    plane = np.stack([levels[c] + tilts[c, 0] * (xx - w / 2) + tilts[c, 1] * (yy - h / 2) for c in range(3)], -1)
    stars = np.zeros((h, w))
    for x, y, f in zip(rng.uniform(0, w, 150), rng.uniform(0, h, 150), rng.lognormal(7, 1, 150), strict=True):
        stars += f / (2 * np.pi * 1.5 ** 2) * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.5 ** 2))
    blob = blob_peak * np.exp(-((xx - blob_xy[0] * w) ** 2 + (yy - blob_xy[1] * h) ** 2) / (2 * blob_sigma ** 2))
    colour = np.array([1.0, 0.7, 0.5])
    image = plane + stars[..., None] + blob[..., None] * colour + rng.normal(0, noise, (h, w, 3))
    return image.astype(np.float32), plane, stars, blob[..., None] * colour


def _kept(out, stars, blob):
    """Share of the blob's flux kept over its core (above 20 % of its peak), after one offset per channel (the
    median of what is left once the stars and the blob are taken out: the flat sky, if the fit removed only the
    plane)."""
    sky_left = np.median(out - stars[..., None] - blob, axis=(0, 1))
    core = blob[..., 0] > 0.2 * blob[..., 0].max()
    return (out - stars[..., None] - sky_left)[core].sum(axis=0) / blob[core].sum(axis=0)


def test_plane_is_removed_and_the_blob_kept():
    image, plane, stars, blob = _scene()
    model = sky.fit_mosaic_sky(image, model="plane", neutralise=False)
    out = image.copy()
    sky.subtract_mosaic_sky(out, model)
    left = out - stars[..., None] - blob                                     # flat sky + noise if the plane went
    smooth = np.stack([ndi.uniform_filter(left[..., c], 32) for c in range(3)], -1)[32:-32, 32:-32]
    spread = np.percentile(smooth, 98, axis=(0, 1)) - np.percentile(smooth, 2, axis=(0, 1))
    before = np.ptp(plane, axis=(0, 1))
    kept = _kept(out, stars, blob)
    print(f"plane ptp {before.round(1)} -> residual 98-2 {spread.round(2)}; blob flux kept {kept.round(3)}")
    assert np.all(spread < 0.01 * before) and np.all(spread < 2.0)
    assert np.all(kept > 0.98) and np.all(kept < 1.02)
    assert model.order == 1 and model.reason is None


def test_the_lower_envelope_keeps_a_nebula_over_much_of_the_field_that_a_median_fit_eats():
    """A blob of sigma 70 px off centre in the 300 x 420 field (its 20 % contour covers 39 % of it): a median fit
    (quantile 0.5) tilts into it and keeps 88 % of its flux, the lower envelope (2 %) keeps 97-98 %."""
    image, plane, stars, blob = _scene(seed=4, blob_sigma=70.0, blob_peak=80.0, blob_xy=(0.65, 0.5))
    kept = {}
    for q in (0.02, 0.5):
        model = sky.fit_mosaic_sky(image, model="plane", neutralise=False, quantile=q)
        out = image.copy()
        sky.subtract_mosaic_sky(out, model)
        kept[q] = _kept(out, stars, blob)
        print(f"quantile {q}: blob flux kept {kept[q].round(3)}")
    assert np.all(kept[0.02] > 0.96) and np.all(kept[0.02] < 1.02)
    assert np.all(kept[0.5] < 0.92)


def test_a_nebula_running_off_the_edge_is_partly_taken_for_sky():
    """The limit of the protection: a blob of sigma 120 px centred at 85 % of the width runs off the right edge
    (that whole side is at least 40 % of its peak); the darkest cells there are nebula, and the plane tilts into it:
    about 80 % of its flux is kept (the median fit keeps 68 %)."""
    image, plane, stars, blob = _scene(seed=4, blob_sigma=120.0, blob_peak=80.0, blob_xy=(0.85, 0.5))
    model = sky.fit_mosaic_sky(image, model="plane", neutralise=False)
    out = image.copy()
    sky.subtract_mosaic_sky(out, model)
    kept = _kept(out, stars, blob)
    print(f"blob running off the edge: flux kept {kept.round(3)}")
    assert np.all(kept > 0.7) and np.all(kept < 0.9)


def test_a_nebula_that_is_itself_a_ramp_is_taken_for_sky():
    """The documented limit: nebulosity rising linearly across the whole field is a plane; it goes with the sky."""
    image, plane, stars, _ = _scene(seed=5, blob_peak=0.0)
    h, w = image.shape[:2]
    ramp = np.broadcast_to((40.0 * np.arange(w) / (w - 1))[None, :, None], image.shape)
    model = sky.fit_mosaic_sky(image + ramp.astype(np.float32), model="plane", neutralise=False)
    out = image + ramp.astype(np.float32)
    sky.subtract_mosaic_sky(out, model)
    left = np.median((out - stars[..., None])[:, -40:], axis=(0, 1)) - np.median((out - stars[..., None])[:, :40],
                                                                                  axis=(0, 1))
    assert np.all(np.abs(left) < 3.0)                                        # the 40 ADU ramp is gone


def test_surface_is_removed_too_and_the_record_is_json():
    image, plane, stars, blob = _scene(seed=1)
    model = sky.fit_mosaic_sky(image, model="surface")
    assert model.order == 3
    out = image.copy()
    sky.subtract_mosaic_sky(out, model)
    left = (out - stars[..., None] - blob)[32:-32, 32:-32]
    spread = np.ptp(np.stack([ndi.uniform_filter(left[..., c], 32) for c in range(3)], -1), axis=(0, 1))
    assert np.all(spread < 0.05 * np.ptp(plane, axis=(0, 1)))
    record = json.loads(json.dumps(model.as_dict()))
    assert record["model"] == "surface" and len(record["coeffs"]) == 3 and len(record["coeffs"][0]) == 10
    assert record["quantile"] == 0.02 and 0 < record["sky_cells"] < record["cells"]
    assert len(record["surface_ptp"]) == 3 and record["neutral_offsets"][1] == 0.0


def test_neutralisation_brings_the_sky_to_green():
    image, _, stars, blob = _scene(seed=2)
    model = sky.fit_mosaic_sky(image, model="plane")
    out = image.copy()
    sky.subtract_mosaic_sky(out, model)
    far = blob[..., 0] < 0.01 * blob[..., 0].max()
    sky_medians = np.median((out - stars[..., None])[far], axis=0)
    print(f"sky medians after neutralisation {sky_medians.round(2)}, offsets {model.offsets.round(2)}")
    np.testing.assert_allclose(sky_medians, sky_medians[1], atol=1.5)
    assert abs(sky_medians[1] - 800.0) < 5.0                                   # at the level of green
    assert model.offsets[1] == 0.0


def test_memmap_chunks_weight_and_mono(tmp_path):
    image, _, _, _ = _scene(seed=3)
    weight = np.ones(image.shape[:2], np.float32)
    image[:, :40] = np.nan
    weight[:, :40] = 0.0
    mm = np.lib.format.open_memmap(tmp_path / "m.npy", mode="w+", dtype=np.float32, shape=image.shape)
    mm[:] = image
    model = sky.fit_mosaic_sky(mm, weight, model="plane")
    whole = model.apply(image, 0)
    sky.subtract_mosaic_sky(mm, model, weight, chunk_rows=37)
    assert isinstance(mm, np.memmap)
    np.testing.assert_allclose(mm[:, 40:], whole[:, 40:], rtol=0, atol=1e-3)
    assert np.isnan(mm[:, :40]).all()
    assert model.bounds[2] == 40.0                                               # fitted on the covered part only
    mono = sky.fit_mosaic_sky(image[..., 1], weight, model="plane")
    assert mono.offsets.tolist() == [0.0] and mono.apply(image[:8, :, 1], 0).shape == (8, image.shape[1])


def test_samples_taken_once_give_the_same_fits_and_the_subtraction_in_chunks_is_the_whole_one():
    image, _, _, _ = _scene(seed=4)
    weight = np.ones(image.shape[:2], np.float32)
    weight[:30] = 0.0
    samples = sky.sample_mosaic_sky(image, weight)
    for model in ("plane", "surface"):
        alone, shared = (sky.fit_mosaic_sky(image, weight, model=model, samples=s) for s in (None, samples))
        assert np.array_equal(alone.coeffs, shared.coeffs) and np.array_equal(alone.offsets, shared.offsets)
        assert (alone.step, alone.n_cells, alone.n_sky_cells) == (shared.step, shared.n_cells, shared.n_sky_cells)
    out = image.copy()
    sky.subtract_mosaic_sky(out, alone, weight, chunk_rows=23)                  # 14 chunks, two at a time
    whole = alone.apply(image, 0)
    whole[:30] = image[:30]                                                      # weight 0: left as it was
    assert np.array_equal(out, whole)
    with pytest.raises(ValueError, match="sky samples of a"):
        sky.fit_mosaic_sky(image[:200], weight[:200], samples=samples)


def test_too_few_cells_give_the_identity_with_a_reason():
    image = np.full((8, 8, 3), 100.0, np.float32)
    model = sky.fit_mosaic_sky(image, model="surface")
    assert model.order == 0 and not model.coeffs.any() and "too few" in model.reason
    np.testing.assert_array_equal(model.apply(image, 0), image)


def test_bad_arguments_raise():
    image = np.zeros((64, 64, 3), np.float32)
    with pytest.raises(ValueError, match="model"):
        sky.fit_mosaic_sky(image, model="spline")
    with pytest.raises(ValueError, match="quantile"):
        sky.fit_mosaic_sky(image, quantile=0.9)
    with pytest.raises(ValueError, match="valid mask shape"):
        sky.fit_mosaic_sky(image, np.ones((10, 10)))
    model = sky.fit_mosaic_sky(image + 5.0, model="plane")
    with pytest.raises(ValueError, match="differs"):
        sky.subtract_mosaic_sky(np.zeros((32, 64, 3), np.float32), model)
    with pytest.raises(ValueError, match="does not fit"):
        model.apply(np.zeros((8, 10, 3), np.float32), 0)


def _upsample(small, step, shape):
    """Bilinear interpolation of the BACKGROUND samples (at i * step + (step - 1) / 2) back onto the full grid."""
    rows = (np.arange(shape[0]) - (step - 1) / 2.0) / step
    cols = (np.arange(shape[1]) - (step - 1) / 2.0) / step
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    return np.stack([ndi.map_coordinates(small[..., c].astype(np.float64), [rr, cc], order=1, mode="nearest")
                     for c in range(small.shape[2])], -1)


def test_background_image_is_the_subtracted_model_decimated_with_its_wcs():
    image, _, _, _ = _scene(shape=(1100, 700), seed=6)
    model = sky.fit_mosaic_sky(image, model="plane")
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval, wcs.wcs.crpix = [83.8, -5.4], [351.0, 551.0]
    wcs.wcs.cd = [[-0.0013, 0.0], [0.0, 0.0013]]
    small, small_wcs, header = model.background_image(wcs)
    step = model.step
    assert step == 3 and small.shape == (367, 234, 3) and small.dtype == np.float32 and np.isfinite(small).all()
    assert header["BKGMODEL"] == "plane" and header["BKGSTEP"] == step and header["BKGOFF2"] == 0.0
    full = model.model_rows(0, image.shape[0])
    centres = full[(step - 1) // 2::step, (step - 1) // 2::step]                # 367 x 233: the last column of
    np.testing.assert_allclose(small[:, :233], centres, atol=1e-3)             # samples stands for 1 px only
    inner = (slice(step, -step), slice(step, -step))
    np.testing.assert_allclose(_upsample(small, step, image.shape[:2])[inner], full[inner], atol=1e-2)
    # the same sky point through both WCS
    ra, dec = wcs.all_pix2world([[10.0 * step + 1.0, 20.0 * step + 1.0]], 0)[0]
    x, y = small_wcs.all_world2pix([[ra, dec]], 0)[0]
    assert abs(x - 10.0) < 1e-6 and abs(y - 20.0) < 1e-6
    # what was subtracted is the model: corrected + model = original
    out = image.copy()
    sky.subtract_mosaic_sky(out, model)
    np.testing.assert_allclose(out + full, image, atol=1e-2)


# ---------------------------------------------------------------------------------------------------------------
# whole runs against the generator's truth

SPEC = synthetic.SynthSpec(panels=(2, 2), frames_per_panel=6, width=240, height=360, pixel_scale_arcsec=4.8,
                           rotation_drift_deg=30.0, seed=11, gradient_frac=0.5)


def _runs(root, spec, models):
    dataset = synthetic.generate_dataset(root / "in", spec)
    out = {}
    for model in models:
        result = worker.run_mosaic(root / "in", root / model, resolve_config(overrides=[f"mosaic_background={model}"]))
        image = fits_io.read_fits_image(result.mosaic_path)
        report = json.loads((root / model / "run_report.json").read_text())
        out[model] = (image, report)
    image = out[models[0]][0]
    truth = np.asarray(dataset.scene.render(image.wcs, image.data.shape[:2]), np.float64)
    nebula = np.asarray(dataset.scene.render(image.wcs, image.data.shape[:2], stars=False), np.float64)
    sigma = sky_truth.single_frame_noise(dataset.frame_paths)
    return out, truth, nebula, sigma


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return _runs(tmp_path_factory.mktemp("mosaic_sky"), SPEC, sky.MOSAIC_BACKGROUND_MODELS)


def _figures(out, truth, nebula):
    figures = {}
    for m, (image, _) in out.items():
        data = np.asarray(image.data, np.float64)
        figures[m] = (sky_truth.sky_left(data, truth, nebula), sky_truth.flux_kept(data, truth, nebula))
        print(f"mosaic_background={m:8s} large-scale sky 98-2 % (R, G, B) {figures[m][0].round(1)} ADU; "
              f"nebula flux kept {figures[m][1].round(3)}")
    return figures


def test_the_sky_left_in_the_mosaic_drops_and_the_nebula_stays(runs):
    """Small frames and a gradient of +-50 % (gradient_frac 0.5), the generator's nebula filling most of the
    mosaic: the plane takes the sky left from ~580/400/240 ADU to below 8 ADU, a third of a single frame's pixel
    noise (~24/23/20 ADU), and keeps the nebula; the cubic surface bends into it (its documented limit)."""
    out, truth, nebula, sigma = runs
    figures = _figures(out, truth, nebula)
    print(f"single-frame pixel sigma {sigma.round(2)}")
    base = figures["none"][0]
    assert np.all(figures["plane"][0] * 40.0 <= base)
    assert np.all(figures["plane"][0] < sigma / 3.0)
    assert np.all(figures["plane"][1] >= 0.97) and np.all(figures["plane"][1] <= 1.03)
    assert np.all(figures["surface"][0] * 5.0 <= base)
    assert np.all(figures["surface"][1] >= 0.8) and figures["surface"][1].min() < figures["plane"][1].min() - 0.05


def test_the_run_report_and_the_fits_record_the_model(runs):
    out, _, _, _ = runs
    image, report = out["none"]
    assert report["mosaic"]["background"] == {"model": "none"} and "BACKGROUND" not in image.extensions
    assert "Phase 5.5 sky: mosaic_background=none" in [str(v) for v in image.header["HISTORY"]]
    for m in ("plane", "surface"):
        image, report = out[m]
        record = report["mosaic"]["background"]
        assert record["model"] == m and record["order"] == {"plane": 1, "surface": 3}[m]
        assert record["extension"] == "BACKGROUND" and record["quantile"] == 0.02
        assert len(record["coeffs"]) == 3 and 0 < record["sky_cells"] < record["cells"]
        assert record["neutral_offsets"][1] == 0.0
        assert "5.5_background" in report["phase_timings_s"]
        assert image.header["BKGMODEL"] == m
        assert any(str(v).startswith(f"Phase 5.5 sky: mosaic_background={m}") for v in image.header["HISTORY"])


def test_the_background_extension_gives_the_assembled_mosaic_back(runs, tmp_path):
    """mosaic.fits: WEIGHT stays the first extension, BACKGROUND follows (decimated, own WCS), and the mosaic
    written with mosaic_background=plane plus the upsampled BACKGROUND is the mosaic written with none."""
    out, _, _, _ = runs
    before = np.asarray(out["none"][0].data, np.float64)
    path = out["plane"][1]["mosaic"]["path"]
    with fits.open(path) as hdul:
        assert [h.name for h in hdul] == ["PRIMARY", "WEIGHT", "BACKGROUND", "MASK"]  # MASK: issue 27
        bkg = hdul["BACKGROUND"]
        step = bkg.header["BKGSTEP"]
        assert bkg.data.dtype.kind == "f" and bkg.data.shape == (3, -(-before.shape[0] // step),
                                                                  -(-before.shape[1] // step))
        assert "CD1_1" in bkg.header and "PC1_1" not in bkg.header
        assert bkg.header["CD1_1"] == pytest.approx(hdul[0].header["CD1_1"] * step)
        small = np.moveaxis(bkg.data, 0, -1)
        after = np.moveaxis(hdul[0].data, 0, -1).astype(np.float64)
    restored = after + _upsample(small, step, after.shape[:2])
    inner = ndi.binary_erosion(np.isfinite(before).all(axis=2), iterations=step)
    np.testing.assert_allclose(restored[inner], before[inner], atol=0.05)
    assert np.array_equal(np.isnan(after), np.isnan(before))


@pytest.mark.slow
def test_the_demo_sky_against_truth(tmp_path):
    """The demo's dataset (``zemosaic demo``): the plane takes the sky left from ~560/370/235 ADU to ~2.7/1.0/1.3,
    below what the same statistic gives on a single debayered frame's noise, and keeps the nebula (which fills
    most of the mosaic and is wider than a tile)."""
    # the demo's frames as they were made before the demo took the S50 sensor response (issue 27): this test's
    # figures are of the sky model on those data
    spec = dataclasses.replace(demo_spec(1), sensor_response=None)
    out, truth, nebula, sigma = _runs(tmp_path, spec, ("none", "plane"))
    figures = _figures(out, truth, nebula)
    single = sky_truth.single_debayered_frame_level(sigma)
    print(f"single-frame pixel sigma {sigma.round(2)}, same statistic on a single frame {single.round(2)}")
    assert np.all(figures["plane"][0] * 5.0 <= figures["none"][0])
    assert np.all(figures["plane"][0] < single)
    assert np.all(figures["plane"][1] >= 0.95)


def _preview_figures(png_path, truth, nebula):
    """From the preview PNG (first FITS row at the bottom) and the truth: RGB medians of the darkest sky (the 10 %
    of the clear covered pixels with the least nebula), luminance of the faint nebula (2 to 4 mosaic noise sigmas
    above that sky) and of the sky, and the share of covered pixels with a channel at 255."""
    from PIL import Image

    with Image.open(png_path) as picture:
        png = np.asarray(picture)[::-1].astype(np.float64)
    covered = png[..., 3] > 0
    clear = covered & ~ndi.binary_dilation((truth - nebula).max(axis=2) > 5.0, iterations=3)
    lum = nebula.mean(axis=2)
    sky = clear & (lum <= np.percentile(lum[clear], 10))
    return png, covered, clear, lum, sky


def test_the_preview_shows_a_grey_sky_and_the_faint_nebula(runs):
    """mosaic_preview.png of the plane run: the darkest sky is grey (channel medians within 4 levels of 255), the
    nebula 2-4 noise sigmas above it at least 12 levels brighter, under 1 % of the covered pixels at 255."""
    out, truth, nebula, _ = runs
    report = out["plane"][1]
    png, covered, clear, lum, sky = _preview_figures(
        report["mosaic"]["path"].replace("mosaic.fits", "mosaic_preview.png"), truth, nebula)
    data = np.asarray(out["plane"][0].data, np.float64)
    pairs = sky[:, 1:] & sky[:, :-1]
    noise = float(np.mean([sky_truth.diff_noise_sigma((data[:, 1:, c] - data[:, :-1, c])[pairs]) for c in range(3)]))
    base = np.median(lum[sky])
    faint = clear & (lum > base + 2.0 * noise) & (lum < base + 4.0 * noise)
    sky_rgb = np.median(png[..., :3][sky], axis=0)
    faint_lum = np.median(png[..., :3][faint].mean(axis=1))
    saturated = np.mean(png[..., :3][covered].max(axis=1) >= 255)
    print(f"preview: sky RGB {sky_rgb}, faint nebula ({faint.sum()} px, {base + 2 * noise:.1f}-{base + 4 * noise:.1f} "
          f"ADU) luminance {faint_lum:.1f}, noise {noise:.2f} ADU, pixels at 255 {100 * saturated:.2f} %")
    assert np.ptp(sky_rgb) <= 4.0
    assert faint_lum >= sky_rgb.mean() + 12.0
    assert saturated < 0.01
