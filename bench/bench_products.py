"""Framing and colour calibration measured on the demo dataset (issue 27): prints, per crop mode, the share of empty
pixels of each product before and after and the data pixels left out; and the stars' colour-ratio error against the
generator's truth without and with ``colour_calibration=stars``; and the preview's sky (the stretch of
``mosaic_preview.png``) in each, with the sky level the preview takes now and with Phase 5.5's own level (before).

    python bench/bench_products.py [--out /tmp/products_demo] [--small]

``--small``: the 2x2 test set of tests/io/test_output_products.py (small frames) instead of the demo.  The demo
dataset carries the S50 sensor response (``SynthSpec.sensor_response``), so its uncalibrated stars are green.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from measure import aperture_flux, catalogue_pixels  # noqa: E402
from zemosaic import cli  # noqa: E402
from zemosaic.mosaic import preview  # noqa: E402
from zemosaic.mosaic.coadd import AssemblyTimings, MosaicResult  # noqa: E402
from zemosaic.mosaic.grid import GlobalGrid  # noqa: E402
from zemosaic.mosaic.outputs import write_mosaic_outputs  # noqa: E402
from zemosaic.synthetic import generator as synthetic  # noqa: E402
from zemosaic.synthetic.demo import demo_spec  # noqa: E402


def _spec(small: bool) -> synthetic.SynthSpec:
    if small:
        return synthetic.SynthSpec(panels=(2, 2), frames_per_panel=3, width=240, height=360, pixel_scale_arcsec=4.8,
                                   seed=27, sensor_response=synthetic.SENSOR_S50)
    return demo_spec(1)


def _colour_errors(out: Path, truth: Path) -> tuple[int, np.ndarray]:
    catalogue = Table.read(truth / "catalogue.csv")
    with fits.open(out / "mosaic.fits") as hdul:
        data = np.moveaxis(hdul[0].data.astype(np.float64), 0, -1)
        wcs = WCS(hdul[0].header).celestial
    x, y, _ = catalogue_pixels(catalogue, wcs, data.shape[:2], n_brightest=400, min_sep_px=12, max_peak=20000)
    cx, cy = wcs.all_world2pix(np.asarray(catalogue["ra"]), np.asarray(catalogue["dec"]), 0)
    index = [int(np.argmin(np.hypot(cx - a, cy - b))) for a, b in zip(x, y, strict=True)]
    measured = np.stack([aperture_flux(data[..., c], x, y) for c in range(3)], axis=1)
    true = np.stack([np.asarray(catalogue[k])[index] for k in ("flux_r", "flux_g", "flux_b")], axis=1)
    ok = np.all(measured > 0, axis=1)
    ratio = (measured[ok, 1:2] / measured[ok]) / (true[ok, 1:2] / true[ok])
    return int(ok.sum()), np.median(np.abs(np.log(ratio[:, [0, 2]])), axis=0)


def _framing(out: Path, work: Path) -> None:
    with fits.open(out / "mosaic.fits") as hdul:
        data = np.moveaxis(hdul[0].data, 0, -1).astype(np.float32)
        weight = hdul["WEIGHT"].data.astype(np.float32)
        wcs = WCS(hdul[0].header).celestial
    result = MosaicResult(data, weight, GlobalGrid(wcs, weight.shape), 4, AssemblyTimings(0, 0, 0, 0, 0))
    for crop in ("none", "covered", "rectangle"):
        framed = write_mosaic_outputs(result, work / crop, crop=crop, presets=["siril", "swarp"],
                                      export_formats=["tiff16"], write_preview=False)
        f = framed.framing
        print(f"crop={crop:9s} {f.shape[1]} x {f.shape[0]} px of {weight.shape[1]} x {weight.shape[0]}: empty pixels "
              f"{100 * f.empty_before:.1f} % -> {100 * f.empty_after:.1f} % in mosaic.fits, mosaic_siril.fits, "
              f"mosaic_swarp_*.fits and mosaic.tif (alpha); data pixels left out {f.data_pixels_dropped} "
              f"({100 * f.data_pixels_dropped / max(1, int((weight > 0).sum())):.1f} % of the data)")


def _preview_sky(out: Path, truth: Path) -> None:
    """The preview's darkest sky (RGB of 255, medians over the 10 % of the star-free covered pixels with the least
    light in the truth; over the whole mosaic, its first and its last quarter of rows), the nebulosity 10 to 20
    ADU above that sky (levels above it) and the covered pixels with a channel at 255."""
    from reproject import reproject_interp
    from scipy import ndimage

    with fits.open(out / "mosaic.fits") as hdul:
        data = np.moveaxis(hdul[0].data, 0, -1).astype(np.float32)
        covered = (hdul["WEIGHT"].data > 0) & np.all(np.isfinite(data), axis=2)
        wcs = WCS(hdul[0].header).celestial
    with fits.open(truth / "truth_sky.fits") as hdul:
        light = np.stack([reproject_interp((plane, WCS(hdul[0].header).celestial), wcs, shape_out=covered.shape)[0]
                          for plane in hdul[0].data], axis=-1).mean(axis=2)
    catalogue = Table.read(truth / "catalogue.csv")
    x, y = wcs.all_world2pix(np.asarray(catalogue["ra"]), np.asarray(catalogue["dec"]), 0)
    inside = (x > -0.5) & (y > -0.5) & (x < covered.shape[1] - 0.5) & (y < covered.shape[0] - 0.5)
    stars = np.zeros(covered.shape, bool)
    stars[np.round(y[inside]).astype(int), np.round(x[inside]).astype(int)] = True
    clear = covered & np.isfinite(light) & ~ndimage.binary_dilation(stars, iterations=6)
    quarter = covered.shape[0] // 4
    original = preview._noise_weighted_sky
    for name, level in (("now", original), ("Phase 5.5's level", lambda *a: None)):
        preview._noise_weighted_sky = level  # type: ignore[assignment]
        shown = np.round(preview.stretch_for_display(data, valid=covered) * 255.0)
        parts = []
        bands = (("whole", slice(None)), ("first rows", slice(0, quarter)), ("last rows", slice(-quarter, None)))
        for where, rows in bands:
            part = np.zeros_like(clear)
            part[rows] = clear[rows]
            sky = part & (light <= np.percentile(light[part], 10))
            parts.append(f"{where} {np.median(shown[sky], axis=0).astype(int).tolist()}")
        sky = clear & (light <= np.percentile(light[clear], 10))
        faint = clear & (light > np.median(light[sky]) + 10.0) & (light < np.median(light[sky]) + 20.0)
        rise = np.median(shown[faint].mean(axis=1)) - np.median(shown[sky].mean(axis=1)) if faint.any() else np.nan
        print(f"  preview ({name}): darkest sky {'; '.join(parts)}; nebula 10-20 ADU above it +{rise:.0f} levels; "
              f"covered pixels with a channel at 255 {100 * np.mean(shown[covered].max(axis=1) >= 255):.2f} %")
    preview._noise_weighted_sky = original


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/products_demo"))
    parser.add_argument("--small", action="store_true")
    args = parser.parse_args()
    frames = args.out / "input"
    if not (frames / "truth").is_dir():
        synthetic.generate_dataset(frames, _spec(args.small))
    runs = {}
    for mode in ("none", "stars"):
        out = args.out / f"out_colour_{mode}"
        code = cli.main(["run", str(frames), "-o", str(out), "--overwrite", "--set", f"colour_calibration={mode}",
                         "--set", "output_crop=none", "--set", "write_preview=false"])
        if code != 0:
            return code
        runs[mode] = out
    _framing(runs["none"], args.out / "framing")
    for mode, out in runs.items():
        n, errors = _colour_errors(out, frames / "truth")
        record = json.loads((out / "run_report.json").read_text())["mosaic"].get("colour_calibration")
        print(f"colour_calibration={mode:5s}: median |log colour ratio| vs truth G/R {errors[0]:.3f}, G/B "
              f"{errors[1]:.3f} over {n} stars; {record}")
        _preview_sky(out, frames / "truth")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
