"""The mosaic drops into the next tool as it is (issue 27): astropy/reproject recipes on mosaic.fits and the astropy
preset, CCDData.read with its MASK, Siril's stat/bg on the siril and pixinsight presets, SWarp on the swarp preset,
the editor exports re-read with tifffile and Pillow, and the framing of every product.

One 2x2 Alt-Az set (small frames, the S50 sensor response, no nebula so that the sky shows) is run once with
every preset and export, ``output_crop=none`` and ``colour_calibration=none``, and once with the defaults; the
framing tests re-frame the first mosaic with :func:`write_mosaic_outputs`.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import warnings

import numpy as np
import pytest
import tifffile
from astropy.io import fits
from astropy.nddata import CCDData
from astropy.wcs import WCS
from PIL import Image, ImageCms
from reproject import reproject_adaptive, reproject_exact, reproject_interp

from zemosaic import cli
from zemosaic.mosaic import exports
from zemosaic.mosaic import framing as mosaic_framing
from zemosaic.mosaic.coadd import AssemblyTimings, MosaicResult
from zemosaic.mosaic.grid import GlobalGrid
from zemosaic.mosaic.outputs import write_mosaic_outputs
from zemosaic.synthetic import generator as synthetic

SPEC = synthetic.SynthSpec(panels=(2, 2), frames_per_panel=3, width=240, height=360, pixel_scale_arcsec=4.8,
                           seed=27, sensor_response=synthetic.SENSOR_S50, nebula=False)  # a sky to check neutral
_TIMINGS = AssemblyTimings(0.0, 0.0, 0.0, 0.0, 0.0)
ALL_PRESETS = ["--preset", "siril,pixinsight", "--preset", "astropy", "--preset", "swarp"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("products")
    synthetic.generate_dataset(base / "in", SPEC)
    out = base / "out"
    code = cli.main(["run", str(base / "in"), "-o", str(out), *ALL_PRESETS, "--export", "tiff16,png16,tiff32",
                     "--set", "output_crop=none", "--set", "colour_calibration=none"])
    assert code == 0
    return out, json.loads((out / "run_report.json").read_text())


def _target_header(wcs: WCS, shape, *, shift=(0.37, -0.61), rotate_deg=3.0, scale=1.1) -> fits.Header:
    """A 2D TAN header on the mosaic's sky, shifted by a fraction of a pixel, rotated and rescaled."""
    target = wcs.deepcopy()
    a = np.radians(rotate_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    target.wcs.cd = (wcs.pixel_scale_matrix @ rot) * scale
    target.wcs.crpix = wcs.wcs.crpix + np.array(shift)
    header = target.to_header()
    header["NAXIS"], header["NAXIS1"], header["NAXIS2"] = 2, int(shape[1] / scale), int(shape[0] / scale)
    return header


def _covered_on(weight, wcs, target) -> np.ndarray:
    """Target pixels well inside the covered area (NaN stays NaN through reproject: only these are finite)."""
    from scipy import ndimage

    covered, _ = reproject_interp(((weight > 0).astype(np.float64), wcs), target)
    return ndimage.binary_erosion(np.nan_to_num(covered) > 0.999, iterations=3)


# --- astropy / reproject ----------------------------------------------------------------------------------------

def test_mosaic_fits_wcs_is_what_the_docs_say_and_reproject_broadcasts_over_the_planes(run):
    """Colour mosaic.fits: WCS(header) has 3 axes (RA, Dec, the colour plane: the header says so, no astropy
    fix-up), its .celestial is the 2D WCS, and the three reproject functions take (data, that WCS) onto a 2D
    target by broadcasting over the planes: the same as reprojecting each plane alone."""
    out, _ = run
    with fits.open(out / "mosaic.fits") as hdul, warnings.catch_warnings():
        warnings.simplefilter("error")  # no FITSFixedWarning: the header is complete as written
        header = hdul[0].header
        wcs = WCS(header)
        assert wcs.naxis == 3 and header["WCSAXES"] == 3 and header["CTYPE3"] == "CHANNEL"
        assert wcs.world_axis_physical_types[:2] == ["pos.eq.ra", "pos.eq.dec"]
        assert np.allclose(wcs.pixel_to_world_values(0, 0, 2)[2], 3.0)  # plane index 2 is channel 3 (B)
        data = hdul[0].data
        target = _target_header(wcs.celestial, data.shape[1:])
        for function in (reproject_interp, reproject_exact, reproject_adaptive):
            cube, footprint = function((data, WCS(hdul[0].header).celestial), target)
            assert cube.shape == (3, target["NAXIS2"], target["NAXIS1"])
            plane, _ = function((data[1], WCS(hdul[0].header).celestial), target)
            np.testing.assert_allclose(cube[1], plane, rtol=1e-6, equal_nan=True)
            assert footprint.shape == cube.shape  # the footprint is broadcast too: one plane per channel
            inside = _covered_on(hdul["WEIGHT"].data, WCS(hdul[0].header).celestial, target)
            assert 0.4 < np.mean(inside) < 1.0 and np.isfinite(cube[:, inside]).all()


def test_astropy_preset_takes_the_hdu_recipes_and_ccddata_read_as_documented(run):
    out, report = run
    assert [p.rsplit("/", 1)[1] for p in report["mosaic"]["presets"]["astropy"]] == [
        "mosaic_astropy_R.fits", "mosaic_astropy_G.fits", "mosaic_astropy_B.fits"]
    with fits.open(out / "mosaic.fits") as hdul:
        science = hdul[0].data[1].astype(np.float64)
        weight = hdul["WEIGHT"].data
        wcs2d = WCS(hdul[0].header).celestial
    header_2d = _target_header(wcs2d, science.shape)
    with fits.open(out / "mosaic_astropy_G.fits") as hdul:  # as written in docs/guide/outputs.rst
        assert WCS(hdul[0].header).naxis == 2
        np.testing.assert_array_equal(hdul[0].data, science)
        for function in (reproject_interp, reproject_exact, reproject_adaptive):
            array, footprint = function(hdul[0], header_2d)
            assert array.shape == (header_2d["NAXIS2"], header_2d["NAXIS1"])
            inside = _covered_on(weight, wcs2d, header_2d)
            assert np.isfinite(array[inside]).all() and inside.mean() > 0.4 and footprint[inside].min() > 0.99
    ccd = CCDData.read(out / "mosaic_astropy_G.fits", unit="adu")
    assert ccd.wcs.naxis == 2 and ccd.wcs.has_celestial and ccd.shape == science.shape
    np.testing.assert_array_equal(ccd.mask, weight == 0)  # the MASK extension, read by default
    assert np.isnan(ccd.data[ccd.mask]).all() and np.isfinite(ccd.data[~ccd.mask]).all()
    cube = CCDData.read(out / "mosaic.fits", unit="adu")  # the science product: its MASK too
    assert cube.shape == (3, *science.shape) and cube.mask.shape == cube.shape
    np.testing.assert_array_equal(cube.mask[2], weight == 0)


def test_mono_mosaic_takes_the_hdu_recipe(tmp_path):
    """A mono mosaic.fits is 2D: reproject_interp(hdul[0], header_2d) and CCDData.read as they are."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype, wcs.wcs.crval, wcs.wcs.crpix = ["RA---TAN", "DEC--TAN"], [10.0, 20.0], [40.0, 30.0]
    wcs.wcs.cd = np.diag([-4.8 / 3600.0, 4.8 / 3600.0])
    data = np.full((60, 80), 100.0, np.float32)
    data[:, :10] = np.nan
    weight = np.where(np.isnan(data), 0.0, 3.0).astype(np.float32)
    result = MosaicResult(data, weight, GlobalGrid(wcs, (60, 80)), 1, _TIMINGS)
    write_mosaic_outputs(result, tmp_path, write_preview=False)
    with fits.open(tmp_path / "mosaic.fits") as hdul:
        assert WCS(hdul[0].header).naxis == 2
        array, footprint = reproject_interp(hdul[0], _target_header(wcs, (60, 80)))
        good = np.isfinite(array)
        assert 0.5 < good.mean() < 0.9 and footprint[good].min() > 0.99
        np.testing.assert_allclose(array[good], 100.0, rtol=1e-6)
    ccd = CCDData.read(tmp_path / "mosaic.fits", unit="adu")
    assert ccd.wcs.naxis == 2 and ccd.mask[:, :10].all() and not ccd.mask[:, 10:].any()


# --- Siril ------------------------------------------------------------------------------------------------------

_STAT = re.compile(r"(Red|Green|Blue) layer: Mean: ([-\d.e+]+), Median: ([-\d.e+]+), Sigma: ([-\d.e+]+)")
_BG = re.compile(r"Background value \(channel: #(\d)\): ([-\d.e+]+|nan)", re.IGNORECASE)


@pytest.mark.skipif(shutil.which("siril-cli") is None, reason="siril-cli is not installed (Debian: siril)")
@pytest.mark.parametrize("preset", ["siril", "pixinsight"])
def test_siril_stat_and_bg_are_finite_and_equal_ours_on_each_preset(run, preset):
    out, _ = run
    name = f"mosaic_{preset}.fits"
    script = out / f"check_{preset}.ssf"
    script.write_text(f"requires 1.0.0\nload {name}\nstat\nbg\n")
    proc = subprocess.run(["siril-cli", "-d", str(out), "-s", str(script)], capture_output=True, text=True,
                          timeout=180)
    text = proc.stdout + proc.stderr
    layers = {m.group(1): [float(v) for v in m.groups()[1:]] for m in _STAT.finditer(text)}
    backgrounds = {int(m.group(1)): float(m.group(2)) for m in _BG.finditer(text)}
    assert set(layers) == {"Red", "Green", "Blue"}, text[-2000:]
    assert len(backgrounds) == 3 and np.isfinite(list(backgrounds.values())).all(), text[-2000:]
    with fits.open(out / name) as hdul:
        assert len(hdul) == 1 and hdul[0].data.shape[0] == 3 and hdul[0].header["ROWORDER"] == "BOTTOM-UP"
        data = hdul[0].data.astype(np.float64)
        assert np.isfinite(data).all() and 0.0 < data.max() <= 1.0  # unit scale, finite fill
    with fits.open(out / "mosaic.fits") as hdul:
        weight = hdul["WEIGHT"].data
        science = hdul[0].data.astype(np.float64) / hdul[0].header.get("ADUSCALE", 1.0)
    peak = max(float(np.max(science[c][weight > 0])) for c in range(3))
    for c, layer in enumerate(("Red", "Green", "Blue")):
        covered = science[c][weight > 0] / peak  # ours: the science product, scaled as the preset
        np.testing.assert_array_equal(np.sort(covered.astype(np.float32)),
                                      np.sort(data[c][weight > 0].astype(np.float32)))
        ours = (covered.mean(), np.median(covered), covered.std())
        print(f"{preset} {layer}: Siril stat {layers[layer]} bg {backgrounds[c]}, ours {np.round(ours, 6)}")
        siril = np.asarray(layers[layer]) / 65535.0  # Siril prints float statistics on the 16-bit scale
        np.testing.assert_allclose(siril, ours, rtol=2e-3, atol=1e-6)
        assert abs(backgrounds[c] / 65535.0 - np.median(covered)) < covered.std()  # bg: its sky estimate


# --- SWarp ------------------------------------------------------------------------------------------------------

def _swarp() -> str | None:
    return shutil.which("SWarp") or shutil.which("swarp")


@pytest.mark.skipif(_swarp() is None, reason="SWarp is not installed (Debian: swarp)")
def test_swarp_resamples_the_swarp_preset_as_reproject_does(run, tmp_path):
    """SWarp takes mosaic_swarp_G.fits with its .weight.fits as they are; its bilinear resampling onto a target
    grid (shifted by fractions of a pixel) matches reproject_interp's on the same file to 1e-3 relative."""
    out, _ = run
    image = out / "mosaic_swarp_G.fits"
    with fits.open(image) as hdul:
        assert len(hdul) == 1 and hdul[0].data.ndim == 2 and np.isfinite(hdul[0].data).all()
        wcs = WCS(hdul[0].header)
        shape = hdul[0].data.shape
    with fits.open(out / "mosaic_swarp_G.weight.fits") as hdul, fits.open(out / "mosaic.fits") as ref:
        np.testing.assert_array_equal(hdul[0].data, ref["WEIGHT"].data)
    target = _target_header(wcs, shape, rotate_deg=0.0, scale=1.0)
    target["NAXIS1"], target["NAXIS2"] = shape[1], shape[0]
    (tmp_path / "swarp_out.head").write_text(target.tostring(sep="\n", endcard=True, padding=False) + "\n")
    cmd = [_swarp(), str(image), "-IMAGEOUT_NAME", str(tmp_path / "swarp_out.fits"),
           "-WEIGHTOUT_NAME", str(tmp_path / "swarp_out.weight.fits"), "-WEIGHT_TYPE", "MAP_WEIGHT",
           "-COMBINE", "N", "-RESAMPLE", "Y", "-RESAMPLING_TYPE", "BILINEAR", "-SUBTRACT_BACK", "N",
           "-FSCALASTRO_TYPE", "NONE", "-RESAMPLE_DIR", str(tmp_path), "-VMEM_DIR", str(tmp_path),
           "-WRITE_XML", "N", "-VERBOSE_TYPE", "QUIET", "-NTHREADS", "1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    resampled = sorted(tmp_path.glob("*.resamp.fits"))
    assert resampled, proc.stderr[-2000:]
    with fits.open(resampled[0]) as hdul:
        theirs, their_wcs = hdul[0].data.astype(np.float64), WCS(hdul[0].header)
    ours, footprint = reproject_interp(image, their_wcs, shape_out=theirs.shape)
    with fits.open(resampled[0].with_name(resampled[0].name.replace(".fits", ".weight.fits"))) as hdul:
        their_weight = hdul[0].data
    inside = (footprint > 0.999) & (their_weight > 0)
    from scipy import ndimage

    inside = ndimage.binary_erosion(inside, iterations=2)
    assert inside.mean() > 0.3
    diff = np.abs(theirs[inside] - ours[inside])
    relative = diff / np.maximum(np.abs(ours[inside]), np.median(np.abs(ours[inside])))
    print(f"SWarp vs reproject_interp: median rel {np.median(relative):.2e}, 99 % {np.quantile(relative, 0.99):.2e}")
    assert np.median(relative) < 1e-3 and np.quantile(relative, 0.99) < 1e-3


# --- editor exports ---------------------------------------------------------------------------------------------

def test_exports_reread_with_tifffile_and_pillow_alpha_from_weight_deflate_and_profiles(run):
    out, _ = run
    with fits.open(out / "mosaic.fits") as hdul:
        covered = (hdul["WEIGHT"].data > 0)[::-1]  # exports: first FITS row at the bottom
    with tifffile.TiffFile(out / "mosaic.tif") as tif:
        page = tif.pages[0]
        pixels = page.asarray()
        assert pixels.dtype == np.uint16 and pixels.shape == (*covered.shape, 4)
        assert page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
        assert page.extrasamples == (tifffile.EXTRASAMPLE.UNASSALPHA,)
        icc = ImageCms.ImageCmsProfile(io.BytesIO(bytes(page.tags["InterColorProfile"].value)))
        assert "sRGB" in ImageCms.getProfileDescription(icc)  # stretched (the default): sRGB
    np.testing.assert_array_equal(pixels[..., 3], np.where(covered, 65535, 0))
    typical = np.median(pixels[covered][:, :3], axis=0) / 65535.0
    assert 0.1 < typical.min() and typical.max() < 0.4  # stretched: shown grey (sky at 15 %), not black
    with Image.open(out / "mosaic.png") as png:
        assert png.mode in ("RGBA", "I;16", "RGBA;16B") or png.mode.startswith("RGBA")
        rgba = np.asarray(png.convert("RGBA"))
    np.testing.assert_array_equal(rgba[..., 3] > 0, covered)
    np.testing.assert_allclose(rgba[..., :3].astype(float), pixels[..., :3] / 257.0, atol=1.0)
    with Image.open(out / "mosaic.tif") as picture:  # Pillow opens the deflated 16-bit RGBA TIFF
        assert picture.size == covered.shape[::-1] and picture.mode == "RGBA"
    with tifffile.TiffFile(out / "mosaic_float32.tif") as tif:
        page = tif.pages[0]
        values = page.asarray()
        assert values.dtype == np.float32 and values.shape == (*covered.shape, 4)
        assert page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
        assert "gamma 1.0" in ImageCms.getProfileDescription(
            ImageCms.ImageCmsProfile(io.BytesIO(bytes(page.tags["InterColorProfile"].value))))
    assert values[..., :3][covered].min() == 0.0 and values[..., :3][covered].max() == 1.0
    np.testing.assert_array_equal(values[..., 3], covered.astype(np.float32))


def test_the_linear_profile_is_linear_light():
    """littleCMS converts our profile's 50 % to sRGB's 188 (the sRGB encoding of linear 0.5), white to white."""
    profile = ImageCms.ImageCmsProfile(io.BytesIO(exports.linear_icc_profile()))
    to_srgb = ImageCms.buildTransform(profile, ImageCms.createProfile("sRGB"), "RGB", "RGB")
    grey = ImageCms.applyTransform(Image.new("RGB", (1, 1), (128, 128, 128)), to_srgb).getpixel((0, 0))
    white = ImageCms.applyTransform(Image.new("RGB", (1, 1), (255, 255, 255)), to_srgb).getpixel((0, 0))
    assert all(abs(v - 188) <= 1 for v in grey) and white == (255, 255, 255)


# --- framing ----------------------------------------------------------------------------------------------------

def test_largest_rectangle_is_the_largest(tmp_path):
    rng = np.random.default_rng(5)
    for _ in range(60):
        good = rng.random((6, 8)) > 0.25
        if not good.any():
            continue
        y0, y1, x0, x1 = mosaic_framing.largest_rectangle(good)
        best = max((b - a) * (d - c) for a in range(6) for b in range(a + 1, 7) for c in range(8)
                   for d in range(c + 1, 9) if good[a:b, c:d].all())
        assert good[y0:y1, x0:x1].all() and (y1 - y0) * (x1 - x0) == best


def _reloaded(out) -> MosaicResult:
    with fits.open(out / "mosaic.fits") as hdul:
        data = np.moveaxis(hdul[0].data, 0, -1).astype(np.float32)
        weight = hdul["WEIGHT"].data.astype(np.float32)
        wcs = WCS(hdul[0].header).celestial
    return MosaicResult(data, weight, GlobalGrid(wcs, weight.shape), 4, _TIMINGS)


def _empty_share(path) -> float:
    with fits.open(path) as hdul:
        if "WEIGHT" in hdul:
            return float(np.mean(hdul["WEIGHT"].data == 0))
        data = hdul[0].data
        return float(np.mean(np.all(data == 0, axis=0) if data.ndim == 3 else data == 0))


@pytest.mark.parametrize("crop", ["covered", "rectangle"])
def test_every_product_is_framed_and_nothing_inside_is_lost(run, tmp_path, crop):
    """The 2x2 set: share of empty pixels in mosaic.fits, the siril and swarp presets and the TIFF before
    (crop=none) and after; every pixel of the window equals the uncropped one at the same sky position."""
    out, _ = run
    result = _reloaded(out)
    framed = write_mosaic_outputs(result, tmp_path, crop=crop, presets=["siril", "swarp"],
                                  export_formats=["tiff16"], write_preview=False)
    window = framed.framing
    products = {"mosaic.fits": "mosaic.fits", "siril": "mosaic_siril.fits", "swarp": "mosaic_swarp_G.fits"}
    for label, name in products.items():
        before, after = _empty_share(out / name), _empty_share(tmp_path / name)
        print(f"crop={crop} {label}: empty pixels {100 * before:.1f} % -> {100 * after:.1f} %")
        assert after < before
    alpha_before = tifffile.imread(out / "mosaic.tif")[..., 3]
    alpha_after = tifffile.imread(tmp_path / "mosaic.tif")[..., 3]
    print(f"crop={crop} mosaic.tif: transparent {100 * np.mean(alpha_before == 0):.1f} % -> "
          f"{100 * np.mean(alpha_after == 0):.1f} %")
    rows, cols = window.window
    with fits.open(tmp_path / "mosaic.fits") as hdul:
        cropped = hdul[0].data
        wcs = WCS(hdul[0].header).celestial
        assert hdul[0].header["CROPMODE"] == crop and hdul[0].header["CROPY0"] == window.y0
        np.testing.assert_array_equal(hdul["WEIGHT"].data, result.weight[rows, cols])
    np.testing.assert_array_equal(cropped, np.moveaxis(result.data[rows, cols], -1, 0))
    sky = result.grid.wcs.pixel_to_world_values(window.x0 + 7.0, window.y0 + 5.0)
    np.testing.assert_allclose(wcs.pixel_to_world_values(7.0, 5.0), sky, atol=1e-10)
    if crop == "covered":
        assert window.data_pixels_dropped == 0 and window.empty_after < window.empty_before
    else:
        assert window.empty_after == 0.0 and np.isfinite(cropped).all()
        assert window.shape[0] * window.shape[1] > 0.3 * result.weight.size


# --- presets on the command line --------------------------------------------------------------------------------

def test_presets_are_named_in_the_report_and_refused_when_unknown(run, capsys):
    out, report = run
    presets = report["mosaic"]["presets"]
    assert list(presets) == ["siril", "pixinsight", "astropy", "swarp"]
    assert len(presets["swarp"]) == 6 and all(p.endswith(".fits") for p in presets["swarp"])
    with fits.open(out / "mosaic_siril.fits") as hdul:
        assert hdul[0].header["PRESET"] == "siril" and hdul[0].header["NCOMBINE"] == 12
    assert cli.main(["run", str(out), "-o", str(out / "x"), "--preset", "gimp"]) != 0
    assert "gimp" in capsys.readouterr().err


# --- colour calibration against the generator's truth -----------------------------------------------------------

@pytest.fixture(scope="module")
def calibrated(run):
    """The same frames with the defaults: colour_calibration=stars, output_crop=covered."""
    out = run[0].parent / "out_defaults"
    assert cli.main(["run", str(run[0].parent / "in"), "-o", str(out)]) == 0
    return out, json.loads((out / "run_report.json").read_text())


def _colour_errors(out, truth_dir):
    """Median |log((G/R)_mosaic / (G/R)_truth)| and the same for G/B, over isolated unsaturated catalogue stars."""
    from astropy.table import Table

    from measure import aperture_flux, catalogue_pixels

    catalogue = Table.read(truth_dir / "catalogue.csv")
    with fits.open(out / "mosaic.fits") as hdul:
        data = np.moveaxis(hdul[0].data.astype(np.float64), 0, -1)
        wcs = WCS(hdul[0].header).celestial
    x, y, _ = catalogue_pixels(catalogue, wcs, data.shape[:2], n_brightest=300, min_sep_px=12, max_peak=20000)
    cx, cy = wcs.all_world2pix(np.asarray(catalogue["ra"]), np.asarray(catalogue["dec"]), 0)
    index = [int(np.argmin(np.hypot(cx - a, cy - b))) for a, b in zip(x, y, strict=True)]
    measured = np.stack([aperture_flux(data[..., c], x, y) for c in range(3)], axis=1)
    truth = np.stack([np.asarray(catalogue[k])[index] for k in ("flux_r", "flux_g", "flux_b")], axis=1)
    ok = np.all(measured > 0, axis=1)
    ratio = (measured[ok, 1:2] / measured[ok]) / (truth[ok, 1:2] / truth[ok])
    return int(ok.sum()), np.median(np.abs(np.log(ratio[:, [0, 2]])), axis=0)


def test_star_colours_against_truth_halved_and_the_sky_still_neutral(run, calibrated):
    """The S50 response makes the uncalibrated stars green (errors ~0.25 in log G/R, ~0.45 in log G/B); the
    calibration at least halves both; the factors are in the header and the report; the sky stays neutral."""
    from zemosaic.mosaic.preview import stretch_for_display

    truth_dir = run[0].parent / "in" / "truth"
    n_before, before = _colour_errors(run[0], truth_dir)
    n_after, after = _colour_errors(calibrated[0], truth_dir)
    print(f"median |log colour ratio| vs truth (G/R, G/B): before {before.round(3)} ({n_before} stars), "
          f"after {after.round(3)} ({n_after} stars)")
    assert n_before >= 30 and n_after >= 30
    assert np.all(before > 0.2) and np.all(after <= before / 2.0)
    record = calibrated[1]["mosaic"]["colour_calibration"]
    assert record["applied"] and record["n_stars"] >= 30
    with fits.open(calibrated[0] / "mosaic.fits") as hdul:
        header = hdul[0].header
        assert header["COLCAL"] == "stars" and header["COLFAC2"] == 1.0
        assert header["COLFAC1"] == pytest.approx(record["factors"][0]) and header["COLFAC3"] > 1.3
        data = np.moveaxis(hdul[0].data, 0, -1)
        covered = hdul["WEIGHT"].data > 0
        wcs = WCS(hdul[0].header).celestial
    shown = stretch_for_display(data, valid=covered) * 255.0
    with fits.open(truth_dir / "truth_sky.fits") as hdul:  # the noiseless scene: sky = where it is darkest
        scene, _ = reproject_interp((hdul[0].data.sum(axis=0), WCS(hdul[0].header).celestial), wcs,
                                    shape_out=covered.shape)
    scene = np.where(covered & np.isfinite(scene), scene, np.inf)
    sky = covered & (scene < 2.0)  # under 2 ADU of star light there (the scene is stars only)
    assert sky.mean() > 0.2
    sky_rgb = np.median(shown[sky], axis=0)
    level = np.median(data[sky], axis=0)
    noise = 1.4826 * np.median(np.abs(data[sky] - level), axis=0)
    print(f"calibrated sky: {level.round(2)} ADU (noise {noise.round(2)}), in the preview stretch {sky_rgb.round(1)}")
    # the neutral point kept, in the data: within 0.2 sigma (about 1.5 ADU; Phase 5.5 leaves the sky neutral to about
    # 1 ADU); a gain about 0 instead would move R and B by 170 and 480 ADU here
    assert np.ptp(level) < 0.2 * noise.min()
    # the preview: grey at 15 % within the preview tests' 4 levels; its channels within 4 levels here (the preview
    # tests' 2 since the stretch's sky level is no longer biased by B's 1.6 times larger noise:
    # test_the_preview_of_the_calibrated_mosaic_shows_a_grey_sky)
    assert np.ptp(sky_rgb) <= 4.0 and abs(sky_rgb.mean() - 0.15 * 255) < 4.0
    assert calibrated[1]["mosaic"]["framing"]["mode"] == "covered"  # the default framing


def test_the_preview_of_the_calibrated_mosaic_shows_a_grey_sky(run, calibrated):
    """mosaic_preview.png of the calibrated run (B's noise 1.6 times G's, R's 1.2 times): the star-free sky
    (truth) is grey, its channels within the preview tests' 2 levels of 255, at 15 % within 4 levels; so is the
    uncalibrated run's."""
    truth_dir = run[0].parent / "in" / "truth"
    for out in (calibrated[0], run[0]):
        with fits.open(out / "mosaic.fits") as hdul:
            covered = hdul["WEIGHT"].data > 0
            wcs = WCS(hdul[0].header).celestial
        with Image.open(out / "mosaic_preview.png") as picture:
            png = np.asarray(picture)[::-1].astype(np.float64)  # the first FITS row at the bottom
        assert png.shape == (*covered.shape, 4)
        with fits.open(truth_dir / "truth_sky.fits") as hdul:  # the noiseless scene (stars only: no nebula)
            scene, _ = reproject_interp((hdul[0].data.sum(axis=0), WCS(hdul[0].header).celestial), wcs,
                                        shape_out=covered.shape)
        sky = covered & np.isfinite(scene) & (np.nan_to_num(scene, nan=np.inf) < 2.0)
        assert sky.mean() > 0.2
        sky_rgb = np.median(png[..., :3][sky], axis=0)
        print(f"{out.name}: preview sky {sky_rgb}")
        assert np.ptp(sky_rgb) <= 2.0 and abs(sky_rgb.mean() - 0.15 * 255) < 4.0


# --- the docs' recipes, as written ------------------------------------------------------------------------------

def _docs_recipes() -> list[str]:
    """The code blocks of the section 'The WCS of mosaic.fits' of docs/guide/outputs.rst, in order."""
    import pathlib

    from docutils import nodes
    from docutils.core import publish_doctree

    text = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "guide" / "outputs.rst").read_text()
    section = text[text.index("The WCS of ``mosaic.fits``"):text.index("Framing (``output_crop``)")]
    tree = publish_doctree(section, settings_overrides={"report_level": 5})
    return [block.astext() for block in tree.findall(nodes.literal_block)]


@pytest.mark.parametrize("function", ["reproject_interp",  # the others: 55 s together (the default suite runs
                                      pytest.param("reproject_exact", marks=pytest.mark.slow),  # them on mosaic.fits
                                      pytest.param("reproject_adaptive", marks=pytest.mark.slow)])  # just above)
def test_the_docs_recipes_run_as_written(run, tmp_path, function):
    """Each recipe of docs/guide/outputs.rst, run as written (OUT = the run's folder, ``reproject_interp`` replaced
    by each reproject function), on the colour run's files and on a mono mosaic.fits, gives what the docs say;
    the hdu and (data, header) forms stop on a colour mosaic.fits with the error the docs quote."""
    out, _ = run
    broadcast, loop, hdu_form, ccd_read = _docs_recipes()
    with fits.open(out / "mosaic.fits") as hdul:
        wcs2d = WCS(hdul[0].header).celestial
        weight = hdul["WEIGHT"].data
    header_2d = _target_header(wcs2d, weight.shape)
    names: dict = {"header_2d": header_2d}

    def run_block(code: str, folder, **replace) -> dict:
        code = code.replace("reproject_interp", function).replace("OUT/", f"{folder}/")
        for old, new in replace.items():
            code = code.replace(old, new)
        exec(compile(code, "docs/guide/outputs.rst", "exec"), names)  # noqa: S102 - the docs' own code
        return names

    run_block(broadcast, out)
    rgb, footprint = names["rgb"], names["footprint"]
    assert rgb.shape == footprint.shape == (3, header_2d["NAXIS2"], header_2d["NAXIS1"])
    inside = _covered_on(weight, wcs2d, header_2d)
    assert 0.4 < inside.mean() < 1.0 and np.isfinite(rgb[:, inside]).all() and np.isnan(rgb[:, ~inside]).any()
    run_block(loop, out)
    np.testing.assert_allclose(names["rgb_loop"], rgb, rtol=1e-6, equal_nan=True)
    run_block(hdu_form, out)
    np.testing.assert_allclose(names["green"], rgb[1], rtol=1e-6, equal_nan=True)  # the astropy preset's G plane
    np.testing.assert_array_equal(names["green_too"], names["green"])
    run_block(ccd_read, out)
    ccd, cube, plane = names["ccd"], names["cube"], names["green_plane"]
    assert ccd.wcs.naxis == 2 and ccd.wcs.has_celestial and str(ccd.unit) == "adu"
    np.testing.assert_array_equal(ccd.mask, weight == 0)
    assert cube.shape == (3, *weight.shape) and cube.wcs.naxis == 3 and cube.mask.shape == cube.shape
    assert plane.wcs.naxis == 2 and plane.wcs.wcs.compare(ccd.wcs.wcs, tolerance=1e-12)
    np.testing.assert_array_equal(plane.mask, ccd.mask)
    np.testing.assert_array_equal(plane.data, ccd.data)
    reproject = {"reproject_interp": reproject_interp, "reproject_exact": reproject_exact,
                 "reproject_adaptive": reproject_adaptive}[function]
    with fits.open(out / "mosaic.fits") as hdul:  # what the docs say the hdu and (data, header) forms do here
        for given in (hdul[0], (hdul[0].data, hdul[0].header)):
            with pytest.raises((ValueError, NotImplementedError), match="Number of dimensions (in|between) input "
                               "and output WCS should match|only data with a 2-d celestial WCS can be reprojected"):
                reproject(given, header_2d)
    mono = _mono_mosaic(tmp_path / "mono", wcs2d, weight)
    run_block(hdu_form, mono, **{"mosaic_astropy_G.fits": "mosaic.fits"})
    good = np.isfinite(names["green"])
    assert 0.4 < good.mean() < 1.0 and np.allclose(names["green"][good], 100.0, rtol=1e-5)
    run_block(ccd_read.splitlines()[2], mono, **{"mosaic_astropy_G.fits": "mosaic.fits"})
    assert names["ccd"].wcs.naxis == 2 and np.array_equal(names["ccd"].mask, weight == 0)


def _mono_mosaic(folder, wcs: WCS, weight: np.ndarray):
    """A mono mosaic.fits (100 ADU where ``weight`` > 0) on ``wcs``, written as a run writes it."""
    data = np.where(weight > 0, 100.0, np.nan).astype(np.float32)
    result = MosaicResult(data, weight.astype(np.float32), GlobalGrid(wcs, weight.shape), 1, _TIMINGS)
    write_mosaic_outputs(result, folder, write_preview=False)
    return folder
