"""16-bit TIFF/PNG exports (zemosaic.mosaic.exports): re-read with tifffile and Pillow (and a plain PNG decode), 16-bit,
channel order, rows flipped as the preview's, values matching the FITS within one quantisation step."""
import io
import json
import struct
import zlib

import numpy as np
import pytest
import tifffile
from astropy.io import fits
from PIL import Image, ImageCms

from zemosaic import cli
from zemosaic.mosaic import exports
from zemosaic.synthetic.generator import SynthSpec, generate_dataset


def _png16(path):
    """(H, W, C) uint16 and the chunk names of a PNG with filter type 0 rows, decoded without Pillow."""
    blob = path.read_bytes()
    assert blob[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, idat = 8, [], b""
    while pos < len(blob):
        (length,), kind = struct.unpack(">I", blob[pos:pos + 4]), blob[pos + 4:pos + 8]
        payload = blob[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", blob[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + payload)
        chunks.append((kind, payload))
        idat += payload if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[0][1][:10])
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    assert depth == 16
    rows = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, 1 + width * channels * 2)
    assert np.all(rows[:, 0] == 0)
    pixels = rows[:, 1:].copy().view(">u2").reshape(height, width, channels).astype(np.uint16)
    return pixels, dict(chunks)


def _red_star_image():
    """A 20 x 30 RGB image: grey sky 100, a red-only star at row 4 column 7, uncovered last 3 columns."""
    image = np.full((20, 30, 3), 100.0, dtype=np.float32)
    image[4, 7] = (5000.0, 100.0, 100.0)
    image[:, 27:] = np.nan
    valid = np.ones((20, 30), dtype=bool)
    valid[:, 27:] = False
    return image, valid


def test_linear_exports_are_16_bit_linear_profile_tagged_flipped_and_red_where_the_star_is_red(tmp_path):
    """Linear exports carry a linear ICC profile (issue 27: tagged sRGB they opened black in editors)."""
    image, valid = _red_star_image()
    paths = exports.write_exports(tmp_path, image, valid, ["tiff16", "png16"])
    assert [p.name for p in paths] == ["mosaic.tif", "mosaic.png"]
    with tifffile.TiffFile(tmp_path / "mosaic.tif") as tif:
        page = tif.pages[0]
        tiff = page.asarray()
        assert tiff.dtype == np.uint16 and tiff.shape == (20, 30, 3)
        assert page.photometric == tifffile.PHOTOMETRIC.RGB
        icc = page.tags["InterColorProfile"].value
        assert "gamma 1.0" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(bytes(icc))))
    png, chunks = _png16(tmp_path / "mosaic.png")
    assert b"sRGB" not in chunks and struct.unpack(">I", chunks[b"gAMA"])[0] == 100000 and b"iCCP" in chunks
    np.testing.assert_array_equal(png, tiff)
    # FITS row 0 at the bottom: the star of FITS row 4 is on image row 20 - 1 - 4
    assert tuple(tiff[15, 7]) == (65535, 0, 0)  # red only, in the R channel
    assert tiff[15, 7, 0] > 0 and tiff[4, 7, 0] == 0
    assert np.all(tiff[:, 27:] == 0)  # uncovered: black
    with Image.open(tmp_path / "mosaic.png") as picture:  # Pillow reads 16-bit RGB reduced to 8 bits
        rgb = np.asarray(picture.convert("RGB"))
    assert tuple(rgb[15, 7]) == (255, 0, 0)


def test_linear_values_match_the_image_within_one_step():
    rng = np.random.default_rng(3)
    image = rng.uniform(-50.0, 70000.0, size=(16, 12, 3)).astype(np.float32)
    valid = np.ones((16, 12), dtype=bool)
    pixels, black, white = exports.quantise_linear(image, valid)
    assert black == float(image.min()) and white == float(image.max())
    back = black + pixels.astype(np.float64) / 65535.0 * (white - black)
    assert np.max(np.abs(back - image)) <= 0.5 * (white - black) / 65535.0 + 1e-3


def test_stretched_export_is_the_preview_stretch(tmp_path):
    from zemosaic.mosaic.preview import stretch_for_display

    image, valid = _red_star_image()
    exports.write_exports(tmp_path, image, valid, ["png16"], stretch=True)
    png, _ = _png16(tmp_path / "mosaic.png")
    expected = np.rint(stretch_for_display(image, valid=valid) * 65535.0)[::-1]
    np.testing.assert_array_equal(png, expected)


def test_grey_image_and_unknown_format(tmp_path):
    grey = np.arange(12, dtype=np.float32).reshape(3, 4)
    exports.write_exports(tmp_path, grey, np.ones((3, 4), bool), ["png16", "tiff16"])
    png, _ = _png16(tmp_path / "mosaic.png")
    assert png.shape == (3, 4, 1) and png[0, 3, 0] == 65535 and png[2, 0, 0] == 0  # FITS row 2 on top
    assert tifffile.imread(tmp_path / "mosaic.tif").shape == (3, 4)
    with pytest.raises(ValueError, match="jpeg"):
        exports.write_exports(tmp_path, grey, np.ones((3, 4), bool), ["jpeg"])


def test_cli_export_writes_tiff_and_png_matching_the_fits(tmp_path, capsys):
    generate_dataset(tmp_path / "in", SynthSpec(panels=(2, 1), frames_per_panel=3, width=240, height=360,
                                                pixel_scale_arcsec=4.8))
    code = cli.main(["run", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--export", "tiff16,png16",
                     "--set", "export_stretch=false"])  # linear: stretched is the default since issue 27
    assert code == 0
    out = tmp_path / "out"
    report = json.loads((out / "run_report.json").read_text())
    assert sorted(p.rsplit("/", 1)[1] for p in report["mosaic"]["exports"]) == ["mosaic.png", "mosaic.tif"]
    with fits.open(out / "mosaic.fits") as hdul:
        data = np.moveaxis(hdul[0].data, 0, -1)
        covered = hdul["WEIGHT"].data > 0
    tiff = tifffile.imread(out / "mosaic.tif")
    png, _ = _png16(out / "mosaic.png")
    np.testing.assert_array_equal(png, tiff)
    tiff = tiff[..., :3]  # the fourth channel is the alpha from WEIGHT (issue 27)
    values = data[covered]
    black, white = float(values.min()), float(values.max())
    back = black + tiff[::-1].astype(np.float64) / 65535.0 * (white - black)  # unflip: FITS rows
    step = (white - black) / 65535.0
    assert np.max(np.abs(back[covered] - data[covered])) <= 0.5 * step + 1e-3 * step + 1e-6 * white
    assert np.all(tiff[::-1][~covered] == 0)
