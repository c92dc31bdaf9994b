"""The gain of the sky measurements against truth (``tests/sky_truth.py``) does not depend on how sharp the
mosaic's stars are: a mosaic of known gain, whose stars are blurred by 0 to 1.2 px more than the truth's (what
bilinear resampling and stacking do), reads that gain, and keeps the whole nebula."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

import sky_truth

GAIN = np.array([0.93, 1.0, 1.08])


def _truth(shape=(360, 420), seed=5):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    blob = 300.0 * np.exp(-0.5 * (((xx - 230) / 90.0) ** 2 + ((yy - 170) / 70.0) ** 2))
    nebula = np.stack([blob, 0.7 * blob, 0.5 * blob], axis=2)
    stars = np.zeros(shape)
    for x, y, peak in zip(rng.uniform(10, shape[1] - 10, 160), rng.uniform(10, shape[0] - 10, 160),
                          rng.uniform(1500, 15000, 160), strict=True):
        stars += peak * np.exp(-0.5 * ((xx - x) ** 2 + (yy - y) ** 2) / 1.3 ** 2)
    return nebula + stars[..., None] * np.array([1.0, 0.9, 0.8]), nebula


@pytest.mark.parametrize("blur_px", [0.0, 0.7, 1.2])
def test_the_gain_is_the_stars_flux_ratio_whatever_their_sharpness(blur_px):
    truth, nebula = _truth()
    yy, xx = np.mgrid[0:truth.shape[0], 0:truth.shape[1]].astype(np.float64)
    sky = 400.0 + 0.3 * xx - 0.2 * yy                              # light pollution: not in the truth
    seen = ndi.gaussian_filter(truth, (blur_px, blur_px, 0)) if blur_px else truth
    noise = np.random.default_rng(1).normal(0.0, 4.0, truth.shape)
    data = GAIN * seen + sky[..., None] + noise
    _, masks = sky_truth.residual_after_gain_offset(data, truth, nebula)
    kept = sky_truth.flux_kept(data - sky[..., None], truth, nebula)
    print(f"blur {blur_px} px: gain {masks['gain'].round(4)}, nebula kept {kept.round(4)}")
    np.testing.assert_allclose(masks["gain"], GAIN, rtol=0.005)
    np.testing.assert_allclose(kept, 1.0, atol=0.01)
