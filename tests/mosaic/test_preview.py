"""Preview: the stretch (background level, colours kept, NaN-safe) and the PNG (alpha, size cap, orientation)."""
import numpy as np
import pytest
from PIL import Image

from zemosaic.mosaic.preview import _block_mean, stretch_for_display, write_preview_png


def sky_with_star(shape=(120, 160), star_rgb=(3000.0, 2000.0, 1000.0), seed=0):
    rng = np.random.default_rng(seed)
    image = rng.normal([100.0, 120.0, 90.0], 5.0, size=shape + (3,)).astype(np.float32)  # sky with a colour cast
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    psf = np.exp(-((yy - 60) ** 2 + (xx - 80) ** 2) / (2 * 2.0 ** 2))
    image += (psf[..., None] * np.asarray(star_rgb)).astype(np.float32)
    return image


def read_png(path):
    with Image.open(path) as picture:
        return picture.mode, np.asarray(picture)


def test_stretch_puts_background_at_the_target_grey_and_neutral():
    out = stretch_for_display(sky_with_star())
    assert out.dtype == np.float32 and out.min() >= 0.0 and out.max() <= 1.0
    background = np.median(out[:40, :40], axis=(0, 1))
    np.testing.assert_allclose(background, 0.15, atol=0.02)  # the sky colour cast is removed per channel


def test_stretch_keeps_star_colour_ratios():
    out = stretch_for_display(sky_with_star(star_rgb=(3000.0, 2000.0, 1000.0)))
    core = out[60, 80]
    assert core[0] > core[1] > core[2]
    np.testing.assert_allclose(core[1] / core[0], 2000.0 / 3000.0, rtol=0.05)
    np.testing.assert_allclose(core[2] / core[0], 1000.0 / 3000.0, rtol=0.1)


def test_stretch_is_nan_safe_and_honours_valid():
    image = sky_with_star()
    image[:10] = np.nan
    image[-20:] = 1e6  # a region outside the valid mask must not steer the statistics
    valid = np.ones(image.shape[:2], bool)
    valid[-20:] = False
    out = stretch_for_display(image, valid=valid)
    assert np.all(out[:10] == 0.0) and np.all(out[-20:] == 0.0)
    np.testing.assert_allclose(np.median(out[20:50, :40], axis=(0, 1)), 0.15, atol=0.02)


@pytest.mark.parametrize("image", [np.full((6, 7), np.nan), np.ones((6, 7)), np.ones((6, 7, 3))])
def test_stretch_degenerate_inputs_give_black(image):
    out = stretch_for_display(image)
    assert out.shape == image.shape and not out.any()


def test_png_alpha_follows_the_alpha_map_and_nans(tmp_path):
    image = sky_with_star()
    alpha = np.ones(image.shape[:2], np.float32)
    alpha[:, :30] = 0.0  # uncovered strip on the left
    alpha[:, 30:60] = 0.2  # weakly covered still counts as covered
    image[100:, 100:] = np.nan
    mode, png = read_png(write_preview_png(tmp_path / "p.png", image, alpha=alpha, flip_rows=False))
    assert mode == "RGBA" and png.shape == image.shape[:2] + (4,)
    assert np.all(png[:, :30, 3] == 0) and np.all(png[:100, 30:, 3] == 255)
    assert np.all(png[100:, 100:, 3] == 0)
    assert png[60, 80, 0] > png[60, 80, 2]  # red star stays red


def test_png_is_flipped_like_fits_viewers_by_default(tmp_path):
    image = np.ones((10, 12), np.float32)
    alpha = np.zeros((10, 12))
    alpha[:3] = 1.0  # first FITS rows covered
    mode, png = read_png(write_preview_png(tmp_path / "g.png", image, alpha=alpha))
    assert mode == "LA"
    assert np.all(png[-3:, :, 1] == 255) and np.all(png[:-3, :, 1] == 0)


def test_png_size_is_capped_with_nan_aware_block_mean(tmp_path):
    image = np.ones((300, 1000, 3), np.float32)
    image[:, :500] = np.nan  # left half has no data
    path = write_preview_png(tmp_path / "big.png", image, max_size=256)
    mode, png = read_png(path)
    assert max(png.shape[:2]) <= 256 and png.shape[:2] == (75, 250)  # factor 4
    assert np.all(png[:, :125, 3] == 0) and np.all(png[:, 125:, 3] == 255)
    assert [p.name for p in tmp_path.iterdir()] == ["big.png"]


def test_block_mean_ignores_uncovered_pixels():
    image = np.array([[1.0, 3.0, 10.0], [np.nan, 5.0, 20.0], [7.0, 7.0, 7.0]], np.float32)
    covered = np.isfinite(image)
    covered[0, 2] = False
    means, block_covered = _block_mean(image, covered, 2)
    np.testing.assert_allclose(means, [[3.0, 20.0], [7.0, 7.0]])
    assert block_covered.all()


def test_png_refuses_mismatched_alpha(tmp_path):
    with pytest.raises(ValueError, match="alpha"):
        write_preview_png(tmp_path / "x.png", np.ones((4, 5)), alpha=np.ones((5, 4)))


def test_background_is_neutral_despite_a_coloured_gradient_and_unequal_noise():
    rng = np.random.default_rng(3)
    h, w = 200, 300
    ramp = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :, None]
    level = np.array([900.0, 700.0, 450.0], np.float32)  # light pollution: a brown sky
    noise = np.array([6.0, 4.0, 2.5], np.float32)
    image = level + 150.0 * ramp * np.array([1.3, 1.0, 0.6], np.float32) + rng.normal(0, 1, (h, w, 3)) * noise
    out = stretch_for_display(image.astype(np.float32))
    centre = np.median(out[:, w // 2 - 10:w // 2 + 10], axis=(0, 1))
    assert np.ptp(centre) < 0.03, f"background colour {centre}"  # grey, not brown


def nebula_field(shape=(400, 600), seed=7):
    """(image, nebula, stars): a sky with a colour cast (900/800/650 ADU, noise 6), a red nebula of sigma 110 px
    (peak 60 ADU in red) over most of the 400 x 600 field (18 % of it is below 3 ADU), 300 stars."""
    rng = np.random.default_rng(seed)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    nebula = 60.0 * np.exp(-((xx - 0.45 * w) ** 2 + (yy - 0.5 * h) ** 2) / (2 * 110.0 ** 2))
    nebula = nebula[..., None] * np.array([1.0, 0.35, 0.4])
    stars = np.zeros((h, w))
    for x, y, f in zip(rng.uniform(0, w, 300), rng.uniform(0, h, 300), rng.lognormal(8, 1.2, 300), strict=True):
        stars += f / (2 * np.pi * 1.6 ** 2) * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.6 ** 2))
    image = np.array([900.0, 800.0, 650.0]) + nebula + stars[..., None] + rng.normal(0, 6.0, (h, w, 3))
    return image.astype(np.float32), nebula, stars


def test_the_sky_is_grey_and_the_faint_nebula_shows_when_a_nebula_fills_the_field():
    """The sky is taken from the darkest cells, not the image median (which sits in the nebula here): the nebula-free
    sky comes out grey at 15 %, the nebula's faint outskirts (2-4 noise sigmas) clearly above it, few star pixels
    at 255."""
    image, nebula, stars = nebula_field()
    shown = np.round(stretch_for_display(image) * 255.0)
    clear = stars < 5.0
    sky = clear & (nebula[..., 0] < 3.0)
    faint = clear & (nebula[..., 0] > 12.0) & (nebula[..., 0] < 24.0)
    sky_rgb = np.median(shown[sky], axis=0)
    faint_lum = np.median(shown[faint].mean(axis=1))
    print(f"sky RGB {sky_rgb}, faint nebula luminance {faint_lum}, saturated {np.mean(shown.max(axis=2) >= 255):.4f}")
    assert np.ptp(sky_rgb) <= 2.0 and abs(sky_rgb.mean() - 0.15 * 255) < 4.0
    assert faint_lum >= sky_rgb.mean() + 15.0
    assert np.mean(shown.max(axis=2) >= 255) < 0.01


def test_the_image_median_would_have_tinted_that_sky(monkeypatch):
    """What the sky reference changes: with the image median as the sky (the stretch before issue 16), the red
    nebula's share of the median is taken for a colour cast and the clear sky comes out cyan."""
    from zemosaic.mosaic import preview

    image, nebula, stars = nebula_field()
    monkeypatch.setattr(preview, "_sky_level", lambda colour, mask, samples: np.median(samples, axis=0))
    shown = np.round(stretch_for_display(image) * 255.0)
    sky_rgb = np.median(shown[(stars < 5.0) & (nebula[..., 0] < 3.0)], axis=0)
    print(f"sky RGB with the median as the sky {sky_rgb}")
    assert sky_rgb[0] < min(sky_rgb[1], sky_rgb[2]) - 4.0


def calibrated_sky(seed, shape=(400, 600)):
    """(image, stars): a neutral sky (800 ADU in every channel) whose noise is that of a colour-calibrated mosaic:
    R 1.2 and B 1.6 times G's (the S50 calibration's factors), spatially correlated as resampling leaves it
    (Gaussian of 1 px), 8 ADU in G; 300 white stars."""
    from scipy import ndimage as ndi

    rng = np.random.default_rng(seed)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    stars = np.zeros((h, w))
    for x, y, f in zip(rng.uniform(0, w, 300), rng.uniform(0, h, 300), rng.lognormal(8, 1.2, 300), strict=True):
        stars += f / (2 * np.pi * 1.6 ** 2) * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.6 ** 2))
    noise = ndi.gaussian_filter(rng.normal(0.0, 1.0, (h, w, 3)), (1.0, 1.0, 0.0))
    noise *= np.array([1.2, 1.0, 1.6]) * 8.0 / noise.std(axis=(0, 1))
    return (800.0 + stars[..., None] + noise).astype(np.float32), stars


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_neutral_sky_with_unequal_noise_stays_grey(seed, monkeypatch):
    """Issue 27: after colour calibration B's noise is 1.6 times G's. The sky level from the darkest cells chosen
    on the pixels that measure it (Phase 5.5's own level) is biased low by each channel's noise: the sky showed
    tinted (B up to 3.5 levels above G here); from cells chosen on the noise-weighted sum it is grey (within the
    preview tests' 2 levels) at 15 %."""
    from zemosaic.mosaic import preview

    image, stars = calibrated_sky(seed)
    sky = stars < 1.0
    shown = np.median(stretch_for_display(image)[sky], axis=0) * 255.0
    monkeypatch.setattr(preview, "_noise_weighted_sky", lambda colour, mask, fit: None)  # Phase 5.5's level alone
    before = np.median(stretch_for_display(image)[sky], axis=0) * 255.0
    print(f"sky RGB {shown.round(2)}, with Phase 5.5's level {before.round(2)}")
    assert np.ptp(shown) <= 2.0 and abs(shown.mean() - 0.15 * 255) < 4.0
    assert np.ptp(before) > 2.0 and before[2] == before.max()
