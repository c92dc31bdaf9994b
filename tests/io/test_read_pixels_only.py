"""Reading a frame whose headers are known: the pixels (debayered) and the image header without building the WCS,
identical to what the full reader returns."""
from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from zemosaic.io import fits as fits_io
from zemosaic.io.headers import read_primary_headers


def _bayer_frame(path, *, with_wcs=True):
    raw = np.random.default_rng(4).normal(500.0, 20.0, (40, 64)).astype(np.float32)
    header = fits.Header({"BAYERPAT": "GRBG", "EXPTIME": 10.0, "DATE-OBS": "2024-03-15T21:00:00"})
    if with_wcs:
        header.update({"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 315.0, "CRVAL2": 44.0,
                       "CRPIX1": 32.5, "CRPIX2": 20.5, "CDELT1": -6.7e-4, "CDELT2": 6.7e-4})
    fits.PrimaryHDU(raw.astype(np.uint16), header=header).writeto(path)
    return path


@pytest.mark.parametrize("with_wcs", [True, False])
def test_pixels_only_are_the_full_readers_pixels(tmp_path, with_wcs):
    path = _bayer_frame(tmp_path / "f.fit", with_wcs=with_wcs)
    full = fits_io.read_frame(path, require_wcs=False)
    pixels = fits_io.read_frame_pixels(path)
    assert pixels.shape == (40, 64, 3) and pixels.dtype == np.float32
    assert np.array_equal(pixels, full.data)
    assert np.array_equal(fits_io.read_frame_pixels(path, debayer_method="bilinear"),
                          fits_io.read_frame(path, debayer_method="bilinear", require_wcs=False).data)
    assert fits_io.read_image_header(path) == full.info.header
    assert read_primary_headers([path])[0]["EXPTIME"] == 10.0


def test_pixels_only_refuse_what_the_full_reader_refuses(tmp_path):
    bad = tmp_path / "not.fits"
    bad.write_bytes(b"not a fits file at all" * 200)
    with pytest.raises(fits_io.NotFitsError):
        fits_io.read_frame_pixels(bad)
    with pytest.raises(fits_io.NotFitsError):
        fits_io.read_image_header(bad)
    with pytest.raises(ValueError, match="unknown debayer method"):
        fits_io.read_frame_pixels(_bayer_frame(tmp_path / "g.fit"), debayer_method="nearest")
