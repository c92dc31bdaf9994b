"""FITS / WCS I/O: round trips, integer scaling, byte order, Bayer frames, colour cubes, header facts, bad inputs."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from zemosaic.io import fits as fits_io
from zemosaic.io.atomic import atomic_output
from zemosaic.io.fits import (
    FitsInputError,
    NoCelestialWcsError,
    NoImageDataError,
    NotFitsError,
    TruncatedFitsError,
    UnsupportedLayoutError,
    read_fits_image,
    read_frame,
    read_frame_info,
    write_fits_image,
)

SCALE_DEG = 2.4 / 3600.0


def make_wcs(shape, *, rotation_deg=0.0, sip=False, ra=150.0, dec=2.0) -> WCS:
    """TAN (optionally TAN-SIP) WCS, 2.4"/px, rotated, reference pixel at the image centre."""
    height, width = shape
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN-SIP", "DEC--TAN-SIP"] if sip else ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [(width + 1) / 2.0, (height + 1) / 2.0]
    theta = np.deg2rad(rotation_deg)
    wcs.wcs.cd = SCALE_DEG * np.array([[-np.cos(theta), np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    if sip:
        header = wcs.to_header(relax=True)
        header.update({"A_ORDER": 2, "B_ORDER": 2, "A_2_0": 2e-5, "A_1_1": -1e-5, "A_0_2": 5e-6,
                       "B_2_0": -4e-6, "B_1_1": 1.5e-5, "B_0_2": 3e-5})
        wcs = WCS(header)
    return wcs


def frame_header(shape, **extra) -> fits.Header:
    header = make_wcs(shape, rotation_deg=12.0).to_header()
    for key, value in extra.items():
        header[key.replace("_", "-") if key == "DATE_OBS" else key] = value
    return header


def write_raw(path, data, header=None):
    fits.PrimaryHDU(data=data, header=header).writeto(path)
    return path


def corners(shape):
    height, width = shape
    return np.array([0, width - 1, 0, width - 1], float), np.array([0, 0, height - 1, height - 1], float)


# ----------------------------------------------------------------------------------------------------------------
# round trips


@pytest.mark.parametrize("sip", [False, True], ids=["tan_rotated", "tan_sip"])
def test_round_trip_colour_with_wcs_and_extensions(tmp_path, sip):
    shape = (37, 52)
    rng = np.random.default_rng(7)
    image = rng.normal(1000.0, 50.0, size=shape + (3,)).astype(np.float32)
    image[0, :5] = np.nan  # no data stays no data
    wcs = make_wcs(shape, rotation_deg=27.5, sip=sip)
    extensions = {"ALPHA": rng.random(shape).astype(np.float32),
                  "COVERAGE": rng.integers(0, 9, size=shape).astype(np.float32),
                  "weight": rng.random(shape).astype(np.float64)}
    path = write_fits_image(tmp_path / "sub" / "tile.fits", image, wcs=wcs, header_extra={"EXPTIME": 42.0},
                            extensions=extensions)
    assert path == tmp_path / "sub" / "tile.fits"

    back = read_fits_image(path)
    np.testing.assert_array_equal(back.data, image)
    assert back.data.dtype == np.float32 and back.data.shape == shape + (3,)
    assert list(back.extensions) == ["ALPHA", "COVERAGE", "WEIGHT"]
    for name, array in extensions.items():
        np.testing.assert_array_equal(back.extensions[name.upper()], array.astype(np.float32))
    xs, ys = corners(shape)
    before = np.array(wcs.all_pix2world(xs, ys, 0))
    after = np.array(back.wcs.all_pix2world(xs, ys, 0))
    assert np.max(np.abs(after - before)) < 1e-6
    assert (back.wcs.sip is not None) == sip
    assert back.header["EXPTIME"] == 42.0

    with fits.open(path) as hdul:  # on-disk layout: 3 x H x W, explicit CD matrix, float32 extensions
        assert hdul[0].data.shape == (3,) + shape and hdul[0].header["NAXIS3"] == 3
        assert hdul[0].header["BITPIX"] == -32 and hdul["WEIGHT"].header["BITPIX"] == -32
        assert "CD1_1" in hdul[0].header and "PC1_1" not in hdul[0].header and "CDELT1" not in hdul[0].header
        assert hdul[0].header["CTYPE1"].endswith("-SIP") == sip
    assert [p.name for p in path.parent.iterdir()] == ["tile.fits"]  # no temp file left


def test_round_trip_mono_without_wcs_and_overwrite(tmp_path):
    path = tmp_path / "mono.fits"
    write_fits_image(path, np.zeros((4, 5)))
    image = np.arange(20, dtype=np.float32).reshape(4, 5)
    write_fits_image(path, image)  # replaces the old file
    back = read_fits_image(path)
    np.testing.assert_array_equal(back.data, image)
    assert back.wcs is None and back.extensions == {}


def test_header_extra_cannot_break_structure_or_the_new_wcs(tmp_path):
    shape = (20, 30)
    old = frame_header(shape, EXPTIME=10.0, BZERO=32768, BAYERPAT="GRBG")
    old["CRVAL1"] = 10.0  # a stale WCS keyword must not override the WCS given
    old["HISTORY"] = "raw frame"
    wcs = make_wcs(shape, rotation_deg=3.0, ra=200.0)
    path = write_fits_image(tmp_path / "x.fits", np.ones(shape), wcs=wcs, header_extra=old)
    header = fits.getheader(path)
    assert header["CRVAL1"] == pytest.approx(200.0) and header["EXPTIME"] == 10.0
    assert "BZERO" not in header and "raw frame" in str(header["HISTORY"])


def test_write_refuses_bad_shapes(tmp_path):
    with pytest.raises(ValueError, match="H x W"):
        write_fits_image(tmp_path / "a.fits", np.zeros((3, 4, 5)))
    with pytest.raises(ValueError, match="ALPHA"):
        write_fits_image(tmp_path / "a.fits", np.zeros((4, 5)), extensions={"ALPHA": np.zeros((5, 4))})
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_output(path) as handle:
            handle.write(b"half")
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


# ----------------------------------------------------------------------------------------------------------------
# pixel types and layouts


def test_uint16_with_bzero_32768(tmp_path):
    raw = np.array([[0, 1, 32767], [32768, 40000, 65535]], dtype=np.uint16)
    path = write_raw(tmp_path / "u16.fits", raw, frame_header(raw.shape))
    assert fits.getheader(path)["BZERO"] == 32768 and fits.getheader(path)["BITPIX"] == 16
    frame = read_frame(path)
    assert frame.data.dtype == np.float32
    np.testing.assert_array_equal(frame.data, raw.astype(np.float32))


def test_bscale_and_bzero_are_applied(tmp_path):
    values = np.array([[10.0, 10.5, 11.0], [-20.0, 0.0, 1000.5]])
    hdu = fits.PrimaryHDU(data=values.copy(), header=frame_header(values.shape))
    hdu.scale("int16", bscale=0.5, bzero=10.0)
    hdu.writeto(tmp_path / "scaled.fits")
    assert fits.getheader(tmp_path / "scaled.fits")["BSCALE"] == 0.5
    np.testing.assert_array_equal(read_frame(tmp_path / "scaled.fits").data, values.astype(np.float32))


@pytest.mark.parametrize("dtype", [">f4", ">f8", ">i4"])
def test_big_endian_data_come_back_native_float32(tmp_path, dtype):
    values = (np.arange(12).reshape(3, 4) * 1.25 - 3).astype(dtype) if dtype != ">i4" else \
        (np.arange(12).reshape(3, 4) * 1000 - 5000).astype(dtype)
    path = write_raw(tmp_path / "be.fits", values, frame_header(values.shape))
    data = read_frame(path).data
    assert data.dtype == np.float32 and data.dtype.isnative
    np.testing.assert_array_equal(data, values.astype(np.float32))


def test_colour_cube_planes_first(tmp_path):
    planes = np.stack([np.full((6, 8), v, np.float32) for v in (1.0, 2.0, 3.0)])
    path = write_raw(tmp_path / "chw.fits", planes, frame_header((6, 8), BAYERPAT="RGGB"))
    frame = read_frame(path)
    assert frame.info.shape == (6, 8) and frame.info.n_channels == 3 and frame.info.bayer_pattern is None
    assert frame.data.shape == (6, 8, 3)
    np.testing.assert_array_equal(frame.data[2, 3], [1.0, 2.0, 3.0])


def test_colour_cube_interleaved(tmp_path):
    hwc = np.zeros((6, 8, 3), np.float32)
    hwc[..., 0], hwc[..., 2] = 5.0, 7.0
    header = fits.Header()
    header.update({"CTYPE2": "RA---TAN", "CTYPE3": "DEC--TAN", "CRVAL2": 10.0, "CRVAL3": 20.0, "CRPIX2": 4.5,
                   "CRPIX3": 3.5, "CDELT2": -SCALE_DEG, "CDELT3": SCALE_DEG})
    path = write_raw(tmp_path / "hwc.fits", hwc, header)
    frame = read_frame(path)
    assert frame.data.shape == (6, 8, 3) and frame.info.shape == (6, 8)
    np.testing.assert_array_equal(frame.data, hwc)
    assert frame.info.center_radec == pytest.approx((10.0, 20.0), abs=1e-9)
    assert read_fits_image(path).data.shape == (6, 8, 3)


def test_image_in_first_extension_with_facts_in_primary(tmp_path):
    shape = (10, 12)
    primary = fits.PrimaryHDU(header=fits.Header({"EXPTIME": 30.0, "INSTRUME": "Seestar S50"}))
    image = fits.ImageHDU(data=np.ones(shape, np.float32), header=frame_header(shape), name="SCI")
    fits.HDUList([primary, image]).writeto(tmp_path / "ext.fits")
    frame = read_frame(tmp_path / "ext.fits")
    assert frame.data.shape == shape
    assert frame.info.exposure_s == 30.0 and frame.info.instrument == "Seestar S50"


def test_tile_compressed_image(tmp_path):
    raw = np.random.default_rng(1).integers(0, 4000, size=(16, 20)).astype(np.int16)
    hdus = fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data=raw, header=frame_header(raw.shape))])
    hdus.writeto(tmp_path / "c.fits")
    np.testing.assert_array_equal(read_frame(tmp_path / "c.fits").data, raw.astype(np.float32))


def test_all_nan_data_is_not_an_error(tmp_path):
    path = write_raw(tmp_path / "nan.fits", np.full((5, 6), np.nan, np.float32), frame_header((5, 6)))
    assert np.isnan(read_frame(path).data).all()


# ----------------------------------------------------------------------------------------------------------------
# Bayer frames


def bayer_mosaic(shape, rgb, pattern):
    raw = np.empty(shape, np.uint16)
    index = {"R": 0, "G": 1, "B": 2}
    for oy in range(2):
        for ox in range(2):
            raw[oy::2, ox::2] = rgb[index[pattern[2 * oy + ox]]]
    return raw


@pytest.mark.parametrize("x_off, y_off, stored", [(0, 0, "RGGB"), (1, 0, "GRBG"), (0, 1, "GBRG"), (1, 1, "BGGR"),
                                                  (3, 0, "GRBG")])
@pytest.mark.parametrize("method", ["edge_aware", "bilinear"])
def test_bayer_frame_with_offsets_has_right_channel_order(tmp_path, x_off, y_off, stored, method):
    """BAYERPAT=RGGB shifted by the offsets: the data really start with pattern ``stored``."""
    shape = (15, 21)  # odd sizes
    rgb = (1000, 2500, 4000)
    header = frame_header(shape, BAYERPAT="RGGB", XBAYROFF=x_off, YBAYROFF=y_off)
    path = write_raw(tmp_path / "bayer.fits", bayer_mosaic(shape, rgb, stored), header)
    info = read_frame_info(path)
    assert info.bayer_pattern == stored and info.n_channels == 3
    frame = read_frame(path, debayer_method=method)
    assert frame.data.shape == shape + (3,)
    np.testing.assert_allclose(frame.data.reshape(-1, 3), np.broadcast_to(rgb, (shape[0] * shape[1], 3)),
                               rtol=0.01)
    assert frame.data[..., 0].mean() < frame.data[..., 2].mean()  # R is the faint one, B the bright one


def test_bayer_unknown_pattern_and_bad_method(tmp_path):
    path = write_raw(tmp_path / "b.fits", np.zeros((8, 8), np.uint16), frame_header((8, 8), BAYERPAT="CYGM"))
    with pytest.raises(UnsupportedLayoutError, match="BAYERPAT"):
        read_frame_info(path)
    with pytest.raises(ValueError, match="debayer method"):
        read_frame(path, debayer_method="ahd")


# ----------------------------------------------------------------------------------------------------------------
# header facts and WCS


@pytest.mark.parametrize("eqmode, expected", [(0, "altaz"), (1, "equatorial"), (None, None), ("1", "equatorial"),
                                              (7, None)])
def test_mount_mode_from_eqmode(tmp_path, eqmode, expected):
    header = frame_header((8, 10))
    if eqmode is not None:
        header["EQMODE"] = eqmode
    assert read_frame_info(write_raw(tmp_path / "f.fits", np.zeros((8, 10), np.float32), header)).mount_mode \
        == expected


def test_header_facts_and_geometry(tmp_path):
    shape = (40, 60)
    header = frame_header(shape, EXPTIME=10.0, INSTRUME="Seestar S50", EQMODE=0, BAYERPAT="GRBG")
    header["DATE-OBS"] = "2024-03-01T21:05:07.123"
    path = write_raw(tmp_path / "light.fits", np.zeros(shape, np.uint16), header)
    info = read_frame_info(path)
    assert info.path == path and info.shape == shape and info.n_channels == 3
    assert info.bayer_pattern == "GRBG" and info.exposure_s == 10.0
    assert info.date_obs == "2024-03-01T21:05:07.123" and info.instrument == "Seestar S50"
    assert info.mount_mode == "altaz"
    assert info.center_radec == pytest.approx((150.0, 2.0), abs=1e-9)
    assert info.pixel_scale_arcsec == pytest.approx(2.4, rel=1e-9)
    assert info.wcs.naxis == 2 and info.wcs.pixel_shape == (60, 40)
    assert info.header["INSTRUME"] == "Seestar S50"


def test_mono_frame_without_bayer_and_exposure_keyword(tmp_path):
    header = frame_header((8, 10), EXPOSURE=5.5)
    info = read_frame_info(write_raw(tmp_path / "m.fits", np.zeros((8, 10), np.float32), header))
    assert info.n_channels == 1 and info.bayer_pattern is None and info.exposure_s == 5.5
    assert info.date_obs is None and info.instrument is None and info.mount_mode is None


def test_sip_is_kept_when_reading_a_frame(tmp_path):
    shape = (30, 40)
    wcs = make_wcs(shape, rotation_deg=-40.0, sip=True)
    path = write_raw(tmp_path / "sip.fits", np.zeros(shape, np.float32), wcs.to_header(relax=True))
    info = read_frame_info(path)
    assert info.wcs.sip is not None
    xs, ys = corners(shape)
    assert np.max(np.abs(np.array(info.wcs.all_pix2world(xs, ys, 0)) - np.array(wcs.all_pix2world(xs, ys, 0)))) \
        < 1e-9


def test_read_frame_info_does_not_read_pixels(tmp_path, monkeypatch):
    path = write_raw(tmp_path / "f.fits", np.zeros((8, 10), np.float32), frame_header((8, 10)))

    def no_data(self):
        raise AssertionError("pixel data were read")

    monkeypatch.setattr(fits.PrimaryHDU, "data", property(no_data))
    assert read_frame_info(path).shape == (8, 10)


# ----------------------------------------------------------------------------------------------------------------
# bad inputs: each kind raises its own error, whose message starts with the file path


def _text_file(path):
    path.write_text("this is a list of stars, not an image\n" * 100)


def _truncated(path):
    write_raw(path, np.zeros((64, 64), np.float32), frame_header((64, 64)))
    content = path.read_bytes()
    path.write_bytes(content[:len(content) // 2])


def _truncated_header(path):
    header = frame_header((64, 64))
    for i in range(40):
        header[f"KEY{i}"] = i  # header longer than one 2880-byte block
    write_raw(path, np.zeros((64, 64), np.float32), header)
    path.write_bytes(path.read_bytes()[:3000])


def _header_only_and_table(path):
    table = fits.BinTableHDU.from_columns([fits.Column(name="flux", format="E", array=np.ones(3))])
    fits.HDUList([fits.PrimaryHDU(header=frame_header((8, 8))), table]).writeto(path)


def _four_d(path):
    write_raw(path, np.zeros((2, 3, 8, 8), np.float32), frame_header((8, 8)))


def _one_d(path):
    write_raw(path, np.zeros(16, np.float32))


def _no_ctype(path):
    write_raw(path, np.zeros((8, 8), np.float32), fits.Header({"EXPTIME": 10.0}))


def _linear_ctype(path):
    write_raw(path, np.zeros((8, 8), np.float32), fits.Header({"CTYPE1": "X", "CTYPE2": "Y", "CDELT1": 1.0}))


def _singular_cd(path):
    header = frame_header((8, 8))
    for key in ("PC1_1", "PC1_2", "PC2_1", "PC2_2", "CDELT1", "CDELT2"):
        header.remove(key, ignore_missing=True)
    header["CD1_1"], header["CD1_2"], header["CD2_1"], header["CD2_2"] = 1e-3, 2e-3, 1e-3, 2e-3  # rank 1
    write_raw(path, np.zeros((8, 8), np.float32), header)


@pytest.mark.parametrize("make, error, words", [
    (_text_file, NotFitsError, "not a FITS file"),
    (_truncated, TruncatedFitsError, "truncated"),
    (_truncated_header, TruncatedFitsError, "truncated"),
    (_header_only_and_table, NoImageDataError, "no image data"),
    (_four_d, UnsupportedLayoutError, "unsupported image layout 2 x 3 x 8 x 8"),
    (_one_d, UnsupportedLayoutError, "unsupported image layout"),
    (_no_ctype, NoCelestialWcsError, "no CTYPE"),
    (_linear_ctype, NoCelestialWcsError, "non-celestial"),
    (_singular_cd, NoCelestialWcsError, "singular"),
], ids=lambda v: getattr(v, "__name__", None) if callable(v) else None)
def test_bad_inputs_raise_specific_errors_naming_the_file(tmp_path, make, error, words):
    path = tmp_path / f"bad_{make.__name__.strip('_')}.fits"
    make(path)
    size_before = path.stat().st_size
    for reader in (read_frame_info, read_frame):
        with pytest.raises(error) as caught:
            reader(path)
        message = str(caught.value)
        assert message.startswith(str(path)) and words in message
        assert isinstance(caught.value, FitsInputError) and isinstance(caught.value, ValueError)
    assert path.stat().st_size == size_before  # input never modified


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(FitsInputError, match="cannot read file"):
        read_frame_info(tmp_path / "nowhere.fits")


def test_read_fits_image_tolerates_missing_wcs_but_not_truncation(tmp_path):
    path = tmp_path / "t.fits"
    write_fits_image(path, np.ones((64, 64), np.float32), extensions={"WEIGHT": np.ones((64, 64))})
    assert read_fits_image(path).wcs is None
    content = path.read_bytes()
    path.write_bytes(content[:len(content) - 4000])  # cut inside the WEIGHT extension
    with pytest.raises(TruncatedFitsError, match="HDU 1"):
        read_fits_image(path)


def test_module_lists_its_public_names():
    for name in fits_io.__all__:
        assert hasattr(fits_io, name)
    assert fits_io.__name__ == "zemosaic.io.fits"


def test_frame_without_wcs_is_readable_when_the_wcs_is_not_required(tmp_path):
    path = tmp_path / "nowcs.fits"
    header = fits.Header({"EXPTIME": 10.0, "RA": 83.8, "DEC": -5.4, "BAYERPAT": "GRBG"})
    raw = np.arange(8 * 12, dtype=np.uint16).reshape(8, 12)
    write_raw(path, raw, header)
    info = read_frame_info(path, require_wcs=False)
    assert info.wcs is None and "no CTYPE" in info.wcs_problem and info.header["RA"] == 83.8
    with pytest.raises(NoCelestialWcsError, match=str(path)):
        _ = info.center_radec
    assert read_frame(path, require_wcs=False).data.shape == (8, 12, 3)


def test_read_luminance_sums_bayer_cells_without_debayering(tmp_path):
    path = tmp_path / "bayer.fits"
    rng = np.random.default_rng(3)
    raw = rng.integers(0, 4000, (9, 13)).astype(np.uint16)  # odd sizes: the partial edge blocks are dropped
    write_raw(path, raw, fits.Header({"BAYERPAT": "GRBG"}))
    lum = fits_io.read_luminance(path)
    expected = raw[:8, :12].astype(np.float64).reshape(4, 2, 6, 2).sum(axis=(1, 3))
    np.testing.assert_allclose(lum, expected, rtol=1e-6)
    assert lum.dtype == np.float32 and lum.shape == (4, 6)
