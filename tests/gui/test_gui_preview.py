"""The Mosaic tab (pytest-qt, offscreen): the stretch and the histogram change the pixels shown as the numbers
say, linked or per channel; the readout gives the FITS pixel, its RA/Dec and weight; tile outlines; "Export view"
writes the stretch at full resolution."""
from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from astropy.io import fits  # noqa: E402
from astropy.wcs import WCS  # noqa: E402

from zemosaic.gui.preview import MosaicPreview  # noqa: E402
from zemosaic.gui.stretch import Levels, auto_levels, histograms, mtf, stretch_to_rgba  # noqa: E402

H, W = 60, 80


def _wcs(crpix=(40.5, 30.5)) -> WCS:
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [83.8, -5.4]
    w.wcs.crpix = list(crpix)
    w.wcs.cdelt = [-2.4 / 3600, 2.4 / 3600]
    return w


@pytest.fixture
def mosaic(tmp_path):
    rng = np.random.default_rng(1)
    data = (100.0 + rng.normal(0, 5, (3, H, W))).astype(np.float32)
    data[0] += 20.0  # a red sky
    data[:, 30, 40] += 5000.0  # a star
    data[:, :5, :] = np.nan  # rows 0-4 (the bottom on screen): nothing covered
    weight = np.where(np.isfinite(data[0]), 3.0, 0.0).astype(np.float32)
    weight[10:20, 10:20] = 7.0
    header = _wcs().to_header()
    path = tmp_path / "mosaic.fits"
    fits.HDUList([fits.PrimaryHDU(data, header), fits.ImageHDU(weight, header, name="WEIGHT")]).writeto(path)
    tiles = tmp_path / "master_tiles"
    tiles.mkdir()
    # a tile of 40 x 30 px centred on the mosaic's centre pixel
    fits.PrimaryHDU(np.zeros((30, 40), np.float32), _wcs(crpix=(20.5, 15.5)).to_header()).writeto(
        tiles / "master_tile_000.fits")
    return path, data, weight


def test_mtf_and_auto_levels():
    x = np.array([0.0, 0.1, 0.5, 1.0])
    assert np.allclose(mtf(0.1, x), [0.0, 0.5, 0.9, 1.0])
    assert np.allclose(mtf(0.5, x), x)
    plane = np.random.default_rng(0).normal(1000, 10, (100, 100)).astype(np.float32)
    (lv,) = auto_levels(plane)
    assert lv.black == pytest.approx(1000 - 28, abs=2)
    shown = mtf(lv.mid, (np.median(plane) - lv.black) / (lv.white - lv.black))
    assert shown == pytest.approx(0.25, abs=0.01)


def test_the_stretch_and_the_histogram_change_the_pixels_shown(qtbot, mosaic):
    path, data, _ = mosaic
    preview = MosaicPreview()
    qtbot.addWidget(preview)
    assert preview.load_fits(path)
    assert preview.step == 1 and preview.data.shape == (H, W, 3)
    counts = preview.histogram.counts
    assert counts.shape[0] == 3 and abs(counts[1].sum() - np.isfinite(data[1]).sum()) < 0.02 * data[1].size

    def shown(x, y):  # the on-screen RGBA of FITS pixel (x, y): row 0 at the bottom
        image = preview.displayed_image()
        c = image.pixelColor(x, H - 1 - y)
        return np.array([c.red(), c.green(), c.blue(), c.alpha()])

    # auto, linked: the sky about a quarter of the range, the red sky redder, nothing covered transparent
    sky = shown(60, 50)
    assert 30 < sky[1] < 110 and sky[0] > sky[1] + 20 and sky[3] == 255
    assert shown(60, 2)[3] == 0
    assert tuple(shown(40, 30)[:3]) == (255, 255, 255)
    # the black point raised to the green sky: the green sky goes black
    preview.channel_box.setCurrentIndex(1)
    preview.black.setValue(float(np.nanmedian(data[1])) + 30)
    assert shown(60, 50)[1] == 0 and shown(60, 50)[0] == 0  # linked: every channel
    assert preview.levels[0] == preview.levels[1] == preview.levels[2]
    # unlinked auto: each channel's sky at the same grey (the red cast gone)
    preview.linked.setChecked(False)
    preview.auto_stretch()
    r, g, b, _ = shown(60, 50)
    assert abs(int(r) - int(g)) < 25 and abs(int(b) - int(g)) < 25
    # one channel's midtones moved: only that channel changes
    before = shown(60, 50)
    preview.channel_box.setCurrentIndex(2)
    preview.mid.setValue(0.01)
    after = shown(60, 50)
    assert after[2] > before[2] + 40 and after[0] == before[0] and after[1] == before[1]
    # the histogram shows the levels
    assert preview.histogram.levels == preview.levels


def test_the_readout_tells_the_fits_pixel_its_sky_and_weight(qtbot, mosaic):
    path, data, weight = mosaic
    preview = MosaicPreview()
    qtbot.addWidget(preview)
    preview.load_fits(path)
    info = preview.pixel_info(15, 12)
    assert info["value"] == pytest.approx(data[:, 12, 15].tolist())
    assert info["weight"] == 7.0
    ra, dec = _wcs().pixel_to_world_values(15, 12)
    assert info["ra"] == pytest.approx(float(ra)) and info["dec"] == pytest.approx(float(dec))
    assert info["tiles"] == 0  # outside the tile's outline
    assert preview.pixel_info(40, 30)["tiles"] == 1
    assert preview.pixel_info(W, 0) is None
    text = preview.readout_text(15, 12, info)
    assert "RA 05h35m" in text and "Dec -05°" in text and "weight 7" in text
    # the view reports the pixel under the mouse (scene y grows downwards: FITS row 12 is scene row H - 12)
    preview._on_hover(15.5, H - 12.5)
    assert preview.readout.text().startswith("x 15  y 12")
    preview.outlines.setChecked(True)
    assert preview.tile_outline_count() == 1


def test_export_view_writes_the_stretch_at_full_resolution(qtbot, mosaic, tmp_path):
    import tifffile
    from PIL import Image

    path, data, _ = mosaic
    preview = MosaicPreview()
    qtbot.addWidget(preview)
    preview.load_fits(path)
    preview.set_levels([Levels(90.0, 0.2, 400.0)] * 3)
    png = np.asarray(Image.open(preview.export_view(tmp_path / "view.png")))
    assert png.shape == (H, W, 4)
    expected = stretch_to_rgba(np.moveaxis(data, 0, -1), preview.levels)[::-1]
    assert np.array_equal(png, expected)
    image = preview.displayed_image()
    c = image.pixelColor(33, 17)
    assert tuple(png[17, 33, :3]) == (c.red(), c.green(), c.blue())
    tif = tifffile.imread(preview.export_view(tmp_path / "view.tif"))
    assert tif.dtype == np.uint16 and tif.shape == (H, W, 4)
    assert abs(int(tif[17, 33, 1]) / 257 - int(png[17, 33, 1])) <= 1
    assert tif[H - 1, 0, 3] == 0 and tif[0, 0, 3] == 65535  # FITS row 0 (nothing covered) at the bottom


def test_histograms_count_finite_values_per_channel():
    data = np.zeros((4, 4, 3), np.float32)
    data[..., 1] = 1.0
    data[0, 0, 2] = np.nan
    counts, edges = histograms(data, bins=2, value_range=(0.0, 2.0))
    assert counts.tolist() == [[16, 0], [0, 16], [15, 0]]
