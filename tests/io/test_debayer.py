"""Debayer: pattern offsets, exact colour of uniform fields, channel order, false colour around a star; 2x2
super-pixels."""
import numpy as np
import pytest

from zemosaic.io.debayer import BAYER_PATTERNS, debayer, effective_bayer_pattern, super_pixels

_CHANNEL = {"R": 0, "G": 1, "B": 2}


def mosaic(rgb: np.ndarray, pattern: str) -> np.ndarray:
    """Sample an RGB image through a Bayer filter whose 2x2 top-left is element [0, 0]."""
    raw = np.empty(rgb.shape[:2], dtype=np.float32)
    for oy in range(2):
        for ox in range(2):
            raw[oy::2, ox::2] = rgb[oy::2, ox::2, _CHANNEL[pattern[2 * oy + ox]]]
    return raw


def gaussian_star(shape, cy, cx, fwhm=2.5, flux=5000.0, sky=20.0) -> np.ndarray:
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    sigma = fwhm / 2.3548
    psf = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma ** 2))
    return (sky + flux * psf / psf.sum()).astype(np.float32)


def moffat_star(shape, cy, cx, fwhm=2.5, beta=3.0, flux=5000.0, sky=20.0) -> np.ndarray:
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    alpha = fwhm / (2 * np.sqrt(2 ** (1 / beta) - 1))
    psf = (1 + ((yy - cy) ** 2 + (xx - cx) ** 2) / alpha ** 2) ** (-beta)
    return (sky + flux * psf / psf.sum()).astype(np.float32)


@pytest.mark.parametrize("pattern, dx, dy, expected", [
    ("RGGB", 0, 0, "RGGB"), ("RGGB", 1, 0, "GRBG"), ("RGGB", 0, 1, "GBRG"), ("RGGB", 1, 1, "BGGR"),
    ("GRBG", 1, 0, "RGGB"), ("GRBG", 0, 1, "BGGR"), ("BGGR", 1, 1, "RGGB"), ("gbrg ", 3, -2, "BGGR"),
    ("RGGB", 2, -4, "RGGB"),
])
def test_effective_pattern_follows_offsets(pattern, dx, dy, expected):
    assert effective_bayer_pattern(pattern, dx, dy) == expected


def test_unknown_pattern_and_method_are_refused():
    with pytest.raises(ValueError, match="Bayer pattern"):
        effective_bayer_pattern("RGBG")
    with pytest.raises(ValueError, match="debayer method"):
        debayer(np.zeros((4, 4)), "RGGB", "vng")
    with pytest.raises(ValueError, match="2D mosaic"):
        debayer(np.zeros((1, 8)), "RGGB")
    with pytest.raises(ValueError, match="2D mosaic"):
        debayer(np.zeros((4, 4, 3)), "RGGB")


@pytest.mark.parametrize("method", ["bilinear", "edge_aware"])
@pytest.mark.parametrize("pattern", BAYER_PATTERNS)
@pytest.mark.parametrize("shape", [(8, 12), (9, 13), (2, 2), (3, 5)])
def test_uniform_colour_comes_back_everywhere(pattern, method, shape):
    colour = np.array([0.8, 0.45, 0.15], dtype=np.float32)
    rgb = np.broadcast_to(colour, shape + (3,))
    out = debayer(mosaic(rgb, pattern), pattern, method)
    assert out.shape == shape + (3,) and out.dtype == np.float32
    # the parity-keeping mirror makes it exact up to the border rows and columns
    np.testing.assert_allclose(out, rgb, rtol=1e-5)


@pytest.mark.parametrize("pattern", BAYER_PATTERNS)
def test_channel_order_red_field_is_red(pattern):
    rgb = np.zeros((10, 10, 3), dtype=np.float32)
    rgb[..., 0] = 1000.0  # pure red
    out = debayer(mosaic(rgb, pattern), pattern)
    np.testing.assert_allclose(out[..., 0], 1000.0, rtol=1e-5)
    np.testing.assert_allclose(out[..., 1:], 0.0, atol=1e-3)


def test_sampled_values_are_kept_and_integer_input_accepted():
    raw = np.random.default_rng(3).integers(0, 65535, size=(11, 14)).astype(np.uint16)
    for method in ("bilinear", "edge_aware"):
        out = debayer(raw, "GRBG", method)
        np.testing.assert_array_equal(out[0::2, 1::2, 0], raw[0::2, 1::2])  # R sites
        np.testing.assert_array_equal(out[1::2, 0::2, 2], raw[1::2, 0::2])  # B sites
        np.testing.assert_array_equal(out[0::2, 0::2, 1], raw[0::2, 0::2])  # G sites


def _chroma(rgb: np.ndarray, sky: float) -> float:
    """Total false colour |R-G| + |B-G| around the star, relative to the star's flux."""
    signal = rgb - sky
    return float((np.abs(signal[..., 0] - signal[..., 1]) + np.abs(signal[..., 2] - signal[..., 1])).sum()
                 / signal[..., 1].sum())


@pytest.mark.parametrize("profile", [gaussian_star, moffat_star])
def test_edge_aware_makes_less_false_colour_around_white_star(profile):
    sky = 20.0
    centres = [(16.0, 16.0), (16.5, 16.3), (15.7, 16.5), (16.25, 15.6), (16.5, 16.5)]
    chroma = {"bilinear": [], "edge_aware": []}
    for pattern in ("RGGB", "GRBG"):
        for cy, cx in centres:
            white = profile((33, 33), cy, cx, sky=sky)  # same in R, G and B: the raw mosaic is the star itself
            for method in chroma:
                out = debayer(white, pattern, method)
                chroma[method].append(_chroma(out, sky))
                # linear interpolation keeps each channel's flux, up to the aliasing of the undersampled core
                flux = (out - sky).sum(axis=(0, 1), dtype=np.float64)
                np.testing.assert_allclose(flux, (white - sky).sum(dtype=np.float64), rtol=0.05)
    bilinear, edge_aware = np.mean(chroma["bilinear"]), np.mean(chroma["edge_aware"])
    assert bilinear > 0.3  # the star is undersampled enough for bilinear to fringe
    assert edge_aware < 0.6 * bilinear


def test_large_frame_shape_and_finite():
    raw = np.random.default_rng(0).normal(1000, 30, size=(1080, 1920)).astype(np.float32)
    out = debayer(raw, "GRBG")
    assert out.shape == (1080, 1920, 3) and out.flags.c_contiguous
    assert np.isfinite(out).all()
    # noise-only input: every channel keeps the mean level
    np.testing.assert_allclose(out.mean(axis=(0, 1), dtype=np.float64), 1000.0, rtol=1e-3)


@pytest.mark.parametrize("pattern", BAYER_PATTERNS)
@pytest.mark.parametrize("shape", [(8, 12), (9, 13), (2, 3)])
def test_super_pixels_bin_each_cell_without_interpolation(pattern, shape):
    """Each super-pixel is its own 2x2 cell: R and B as sampled, G the mean of its two; a last odd row or column
    is dropped; integer input accepted."""
    raw = np.random.default_rng(5).integers(0, 65535, size=shape).astype(np.uint16)
    out = super_pixels(raw, pattern)
    h, w = shape[0] // 2, shape[1] // 2
    assert out.shape == (h, w, 3) and out.dtype == np.float32
    sites = {(oy, ox): raw[oy:2 * h:2, ox:2 * w:2].astype(np.float64) for oy in range(2) for ox in range(2)}
    want = np.zeros((h, w, 3))
    for (oy, ox), site in sites.items():
        channel = _CHANNEL[pattern[2 * oy + ox]]
        want[..., channel] += site / (2.0 if channel == 1 else 1.0)
    np.testing.assert_allclose(out, want, rtol=1e-6)
    colour = np.array([0.8, 0.45, 0.15], dtype=np.float32)
    uniform = super_pixels(mosaic(np.broadcast_to(colour, shape + (3,)), pattern), pattern)
    np.testing.assert_allclose(uniform, np.broadcast_to(colour, (h, w, 3)), rtol=1e-6)


def test_super_pixels_refuse_what_is_not_a_mosaic():
    with pytest.raises(ValueError, match="Bayer pattern"):
        super_pixels(np.zeros((4, 4)), "RGBG")
    with pytest.raises(ValueError, match="2D mosaic"):
        super_pixels(np.zeros((4, 4, 3)), "RGGB")
    with pytest.raises(ValueError, match="2D mosaic"):
        super_pixels(np.zeros((1, 8)), "RGGB")
