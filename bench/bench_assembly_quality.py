"""Image quality of the assembly (issue 26 items 2-5), before and after, on generated Alt-Az mosaics.

The frames are generated once per scene and the master tiles built once per Phase 3 variant (``--tiles``: the
debayer-then-stack default, and CFA drizzle when asked); Phases 4-6 then run on those tiles once per assembly
variant (``--variants``: ``before`` = bilinear resampling + weight ALPHA x NFRAMES, the defaults until wave 6;
``lanczos`` = Lanczos-3 + ALPHA x NFRAMES, the defaults since; ``coverage`` = Lanczos-3 + ALPHA x COVERAGE).
Each mosaic is measured against the generator's truth:

* **star FWHM**: a Gaussian fitted (``tests/measure.py``'s ``gaussian_fwhm``) to the G plane of isolated
  unsaturated catalogue stars, in each master tile and at the same stars in the mosaic; the median of the per-star
  ratio mosaic / tile (target: within 2 %);
* **worst seam**: :func:`zemosaic.mosaic.seam_step_sigma` across the master tiles' edges (target 0.15 sigma) by
  both estimators.  ``median`` (the first one): its own floor is printed beside it, the same measure on a seamless
  mosaic, the truth (scaled to the mosaic by one gain and offset per channel) plus white noise of the mosaic's
  sigma, median of 3 draws (the median step of a few hundred noisy pairs per depth is itself noisy: ~0.4 sigma at
  the demo's size, ~0.8 at 240 x 360 frames).  ``reference`` (the mosaic's difference across the edge minus the
  continuing tile's, :mod:`zemosaic.mosaic.seams`): the worst step, its standard error and the largest
  ``|step| / se`` over all (seam, channel) cases (a seamless mosaic reads 0 within ~3 se, see
  ``tests/mosaic/test_seam_estimator.py``);
* **chroma**: RMS of (R - G, B - G) of the residual against the truth (one gain + plane per channel fitted on the
  star-free sky), as ``tests/pipeline/test_tile_canvas.py`` measures the tiles.  On each tile: border (kept pixels
  within 20 px of the kept area's edge) over interior (deeper than 60 px), raw and *noise-equalised* (each pixel's
  chroma times sqrt(COVERAGE / max COVERAGE): the colour noise a pixel would have with every frame, so a ratio above
  1 is colour noise beyond what the fewer frames explain).  On the mosaic: pixels within 20 px of a tile's edge
  (inside the tile) over pixels more than 40 px from every tile's edge, raw and noise-equalised by the effective
  frame count ``(sum w)^2 / sum(w^2 / C)`` of the co-addition's own weights; and the chroma RMS (ADU) of the
  pixels where a tile's border lies over another tile's interior (the overlaps the COVERAGE weighting is for);
* **ideal-tile chroma**: the tile's border chroma averaged over 5 x 5 px (the colour blotches that survive
  smoothing) over that of an ideal Bayer stack of the same frames: each colour measured only where the sensor has
  it (R and B on 1/4 of the pixels, G on 1/2), with each frame's photon and read noise, nothing interpolated, so a
  5 x 5 mean holds ``25 d_c N`` samples of channel ``c`` (``N`` = COVERAGE): ``var_c = (sky_c x gain + read^2) /
  gain^2 / (25 d_c N)``, R-G and B-G.  (Interpolation kernels reaching past the 5 x 5 box smooth below it.  On a
  ``cfa_drizzle_2x`` tile the box spans 2.5 x 2.5 raw pixels: its ideal is 2x the printed one.)

Usage: ``python bench/bench_assembly_quality.py [--scenes demo,altaz2x2,eq2x1] [--variants before,lanczos,coverage]
[--tiles debayer,cfa_drizzle] [--keep DIR [--reuse]]`` (``--reuse``: the master tiles already in ``DIR`` are
measured again instead of built).
"""
import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
import zemosaic_worker as worker  # noqa: E402
from measure import catalogue_pixels, fit_gain_plane, gaussian_fwhm  # noqa: E402
from zemosaic.config import resolve_config  # noqa: E402
from zemosaic.io import fits as fits_io  # noqa: E402
from zemosaic.mosaic import GlobalGrid, discover_master_tiles, seam_step_sigma, seam_steps  # noqa: E402
from zemosaic.mosaic.resample import footprint_window, reproject_planes  # noqa: E402
from zemosaic.mosaic.seams import _noise_per_channel  # noqa: E402
from zemosaic.synthetic import generator as synthetic  # noqa: E402
from zemosaic.synthetic.demo import demo_spec  # noqa: E402

ALTAZ = synthetic.SynthSpec(panels=(2, 2), frames_per_panel=8, width=240, height=360, pixel_scale_arcsec=4.8,
                            rotation_start_deg=-20.0, rotation_drift_deg=40.0, seed=11, fwhm_px=2.2)
SCENES = {
    "demo": demo_spec(1),
    "altaz2x2": ALTAZ,
    "eq2x1": dataclasses.replace(ALTAZ, panels=(1, 2), mount="equatorial", rotation_start_deg=0.0,
                                 rotation_drift_deg=0.0, seed=4),
}
VARIANTS = {
    "before": ["assembly_reproject=interp", "assembly_tile_weight=frames"],
    "lanczos": ["assembly_reproject=lanczos3", "assembly_tile_weight=frames"],
    "coverage": ["assembly_reproject=lanczos3", "assembly_tile_weight=coverage"],
}
TILE_BUILDS = {"debayer": [], "cfa_drizzle": ["master_tile_stack=cfa_drizzle"],
               "cfa_drizzle_2x": ["master_tile_stack=cfa_drizzle", "drizzle_scale=2"]}
BORDER_PX, INTERIOR_PX = 20, 60


def chroma_residual(data, truth, kept):
    """(H, W, 2) chroma of the residual after one gain + plane per channel, and the star-free kept mask."""
    lum = truth.sum(axis=-1)
    starfree = kept & (lum < np.percentile(lum[kept], 60))
    filled = np.nan_to_num(data)
    resid = np.stack([filled[..., c] - fit_gain_plane(filled[..., c], truth[..., c], starfree) for c in range(3)],
                     axis=-1)
    return np.stack([resid[..., 0] - resid[..., 1], resid[..., 2] - resid[..., 1]], axis=-1), starfree


def rms(values) -> float:
    return float(np.sqrt(np.mean(values ** 2))) if values.size else float("nan")


def tile_chroma(tile, scene) -> dict:
    """Border / interior chroma of one master tile, raw and noise-equalised by its COVERAGE."""
    alpha, cov = tile.extensions["ALPHA"], tile.extensions["COVERAGE"]
    kept = (alpha > 0.5) & np.isfinite(tile.data).all(axis=-1)
    chroma, starfree = chroma_residual(tile.data, scene.render(tile.wcs, alpha.shape), kept)
    depth = ndi.distance_transform_edt(kept)
    border, interior = starfree & (depth <= BORDER_PX), starfree & (depth > INTERIOR_PX)
    equal = chroma * np.sqrt(np.clip(cov, 0, None) / cov.max())[..., None]
    norm = ndi.uniform_filter(starfree.astype(float), 5)
    blotch = np.stack([ndi.uniform_filter(chroma[..., k] * starfree, 5) / np.maximum(norm, 1e-9) for k in range(2)],
                      axis=-1)
    full = border & (norm > 0.999)
    return {"border": rms(chroma[border]), "interior": rms(chroma[interior]),
            "ratio": rms(chroma[border]) / rms(chroma[interior]),
            "ratio_eq": rms(equal[border]) / rms(equal[interior]), "border_5x5": rms(blotch[full])}


def tile_maps_on_grid(tiles_dir: Path, grid: GlobalGrid, weight_mode: str):
    """Per grid pixel: distance to the nearest tile edge (inside a tile), depth inside the tile that holds it
    deepest, and the effective frame count ``(sum w)^2 / sum(w^2 / C)`` of the co-addition weights."""
    sum_w, sum_w2c = np.zeros(grid.shape), np.zeros(grid.shape)
    edge = np.full(grid.shape, np.inf)
    deepest = np.zeros(grid.shape)
    for path in sorted(tiles_dir.glob("master_tile_*.fits")):
        tile = fits_io.read_fits_image(path)
        alpha, cov = np.nan_to_num(tile.extensions["ALPHA"]), np.nan_to_num(tile.extensions["COVERAGE"])
        weight = alpha * (cov if weight_mode == "coverage" else float(cov.max()))
        planes = np.stack([weight, weight * cov, (alpha > 0).astype(float)], axis=2).astype(np.float32)
        window = footprint_window(tile.wcs, alpha.shape, grid)
        y0, y1, x0, x1 = window
        out = reproject_planes(planes, tile.wcs, grid, window, "interp")
        w = out[..., 0]
        c = np.divide(out[..., 1], w, out=np.zeros_like(w), where=w > 1e-6)
        sum_w[y0:y1, x0:x1] += w
        sum_w2c[y0:y1, x0:x1] += np.divide(w * w, c, out=np.zeros_like(w), where=c > 0.5)
        inside = out[..., 2] > 0.5
        d = ndi.distance_transform_edt(np.pad(inside, 1))[1:-1, 1:-1]
        edge[y0:y1, x0:x1] = np.where(inside, np.minimum(edge[y0:y1, x0:x1], d), edge[y0:y1, x0:x1])
        deepest[y0:y1, x0:x1] = np.maximum(deepest[y0:y1, x0:x1], np.where(inside, d, 0))
    n_eff = np.divide(sum_w ** 2, sum_w2c, out=np.zeros_like(sum_w), where=sum_w2c > 0)
    return edge, deepest, n_eff


def mosaic_chroma(mosaic, scene, tiles_dir: Path, weight_mode: str) -> dict:
    data = mosaic.data
    grid = GlobalGrid(mosaic.wcs, data.shape[:2])
    kept = np.isfinite(data).all(axis=-1) & (mosaic.extensions["WEIGHT"] > 0)
    chroma, starfree = chroma_residual(data, scene.render(mosaic.wcs, data.shape[:2]), kept)
    edge, deepest, n_eff = tile_maps_on_grid(tiles_dir, grid, weight_mode)
    border = starfree & (edge <= BORDER_PX)
    interior = starfree & (edge > 40) & (deepest > 40)
    overlap_border = border & (deepest > BORDER_PX)  # a tile's border over another tile's interior
    equal = chroma * np.sqrt(n_eff / max(float(n_eff.max()), 1.0))[..., None]
    return {"border": rms(chroma[border]), "interior": rms(chroma[interior]),
            "ratio": rms(chroma[border]) / rms(chroma[interior]),
            "ratio_eq": rms(equal[border]) / rms(equal[interior]), "overlap_border": rms(chroma[overlap_border])}


def ideal_border_chroma(spec, tile) -> float:
    """5 x 5 mean chroma RMS of an ideal Bayer stack of the tile's frames on its border (module docstring)."""
    alpha, cov = tile.extensions["ALPHA"], tile.extensions["COVERAGE"]
    kept = alpha > 0.5
    border = kept & (ndi.distance_transform_edt(kept) <= BORDER_PX)
    sky = spec.sky_level_adu * np.array(spec.sky_colour)
    var = (sky * spec.gain + spec.read_noise_e ** 2) / spec.gain ** 2  # ADU^2 per frame, per channel
    n = 25.0 * np.clip(cov[border], 1, None)
    density = (0.25, 0.5, 0.25)
    chroma_var = (var[0] / density[0] + var[1] / density[1]) / n, (var[2] / density[2] + var[1] / density[1]) / n
    return float(np.sqrt(np.mean(np.concatenate(chroma_var))))


def star_fwhm(dataset, tiles, mosaic) -> dict:
    """Median FWHM (G) of isolated catalogue stars in the tiles and at the same stars in the mosaic."""
    ratios, f_tiles, f_mosaic = [], [], []
    for tile in tiles:
        x, y, _ = catalogue_pixels(dataset.catalogue, tile.wcs, tile.data.shape[:2], max_peak=30000,
                                   n_brightest=200, min_sep_px=12.0)
        deep = ndi.distance_transform_edt(tile.extensions["ALPHA"] > 0.5) > 10
        keep = deep[np.round(y).astype(int), np.round(x).astype(int)]
        x, y = x[keep], y[keep]
        ft = gaussian_fwhm(tile.data[..., 1], x, y)
        ra, dec = tile.wcs.all_pix2world(x, y, 0)
        mx, my = mosaic.wcs.all_world2pix(ra, dec, 0)
        fm = gaussian_fwhm(mosaic.data[..., 1], mx, my)
        ok = np.isfinite(ft) & np.isfinite(fm) & (ft > 0.8) & (ft < 8)
        ratios += list(fm[ok] / ft[ok])
        f_tiles += list(ft[ok])
        f_mosaic += list(fm[ok])
    return {"n_stars": len(ratios), "fwhm_tile": float(np.median(f_tiles)), "fwhm_mosaic": float(np.median(f_mosaic)),
            "fwhm_ratio": float(np.median(ratios))}


def build_tiles(inp: Path, out: Path, overrides) -> dict:
    """``zemosaic run`` (Phases 1-6) in a child process: wall and CPU seconds, peak RSS (MB) of that process."""
    cmd = [sys.executable, "-m", "zemosaic.cli", "run", str(inp), "-o", str(out), "--overwrite",
           *[a for kv in overrides for a in ("--set", kv)]]
    env = dict(os.environ, PYTHONPATH=str(ROOT), ZEMOSAIC_NUMBA_WARMUP="0")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if status != 0:
        raise RuntimeError(f"run failed ({status}): {err[-2000:]}")
    return {"tiles_wall_s": time.perf_counter() - t0, "tiles_cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024.0}


def measure_variant(dataset, tiles_dir: Path, out: Path, variant: str) -> dict:
    overrides = ["use_existing_master_tiles_mode=true", *VARIANTS[variant]]
    result = worker.run_mosaic(tiles_dir, out, resolve_config(overrides=overrides), overwrite=True)
    mosaic = fits_io.read_fits_image(result.mosaic_path)
    tiles, _ = discover_master_tiles(tiles_dir)
    grid = GlobalGrid(mosaic.wcs, mosaic.data.shape[:2])
    tile_images = [fits_io.read_fits_image(t.path) for t in tiles]
    weight_mode = "coverage" if "assembly_tile_weight=coverage" in VARIANTS[variant] else "frames"
    row = {"seam_sigma": seam_step_sigma(mosaic.data, tiles, grid) if len(tiles) > 1 else float("nan"),
           "seam_floor": seam_floor(mosaic, dataset.scene, tiles, grid) if len(tiles) > 1 else float("nan")}
    row.update(reference_seams(mosaic.data, tiles, grid, VARIANTS[variant][0].split("=")[1]))
    row.update(star_fwhm(dataset, tile_images, mosaic))
    row.update({f"mosaic_{k}": v for k, v in mosaic_chroma(mosaic, dataset.scene, tiles_dir, weight_mode).items()})
    return row


def reference_seams(data, tiles, grid, method: str) -> dict:
    """Worst seam by the reference estimator (sigma), its standard error (sigma), and the largest |step| / se."""
    sigma = _noise_per_channel(data, None)
    steps = seam_steps(data, tiles, grid, estimator="reference", method=method) if len(tiles) > 1 else []
    if not steps:
        return {"seam_ref": float("nan"), "seam_ref_se": float("nan"), "seam_ref_z": float("nan")}
    worst = max(steps, key=lambda s: abs(s.step) / sigma[s.channel])
    return {"seam_ref": abs(worst.step) / sigma[worst.channel], "seam_ref_se": worst.se / sigma[worst.channel],
            "seam_ref_z": max(abs(s.step) / s.se for s in steps)}


def seam_floor(mosaic, scene, tiles, grid, draws: int = 3) -> float:
    """Worst seam of a seamless mosaic with the same noise: median over ``draws`` of the truth (one gain and offset
    per channel to the mosaic) plus white noise of the mosaic's per-channel sigma."""
    data = mosaic.data
    truth = scene.render(mosaic.wcs, data.shape[:2])
    ok = np.isfinite(data).all(axis=-1)
    sigma = _noise_per_channel(data, None)
    model = np.full(data.shape, np.nan, np.float32)
    for c in range(data.shape[2]):
        a, b = np.polyfit(truth[..., c][ok], data[..., c][ok], 1)
        model[..., c][ok] = a * truth[..., c][ok] + b
    rng = np.random.default_rng(0)
    worst = [seam_step_sigma(model + (rng.normal(size=data.shape) * sigma).astype(np.float32), tiles, grid,
                             noise_sigma=sigma) for _ in range(draws)]
    return float(np.median(worst))


def tile_figures(dataset, tiles_dir: Path) -> dict:
    rows = []
    for path in sorted(tiles_dir.glob("master_tile_*.fits")):
        tile = fits_io.read_fits_image(path)
        row = tile_chroma(tile, dataset.scene)
        row["ideal"] = ideal_border_chroma(dataset.spec, tile)
        rows.append(row)
    return {k: [r[k] for r in rows] for k in rows[0]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenes", default="demo,altaz2x2,eq2x1")
    ap.add_argument("--variants", default="before,lanczos,coverage")
    ap.add_argument("--tiles", default="debayer")
    ap.add_argument("--keep", type=Path)
    ap.add_argument("--reuse", action="store_true", help="with --keep: reuse master tiles already built there")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_assembly_"))
    for scene in args.scenes.split(","):
        dataset = synthetic.generate_dataset(work / scene / "in", SCENES[scene])
        for build in args.tiles.split(","):
            run_dir = work / scene / build
            if args.reuse and (run_dir / "master_tiles").is_dir():
                print(f"\n== {scene}, master tiles by {build}: reused from {run_dir}")
            else:
                cost = build_tiles(work / scene / "in", run_dir, TILE_BUILDS[build])
                print(f"\n== {scene}, master tiles by {build}: Phases 1-6 {cost['tiles_wall_s']:.1f} s wall, "
                      f"{cost['tiles_cpu_s']:.1f} s CPU, peak RSS {cost['peak_rss_mb']:.0f} MB (child process)")
            tf = tile_figures(dataset, run_dir / "master_tiles")
            for k in range(len(tf["ratio"])):
                print(f"  tile {k}: border chroma {tf['border'][k]:.2f} ADU (5x5 {tf['border_5x5'][k]:.2f}, "
                      f"x{tf['border_5x5'][k] / tf['ideal'][k]:.2f} the ideal Bayer stack's), interior "
                      f"{tf['interior'][k]:.2f}, border/interior "
                      f"{tf['ratio'][k]:.3f}, noise-equalised {tf['ratio_eq'][k]:.3f}")
            print(f"  {'variant':8s} {'seam sig':>8s} {'floor':>5s} {'ref seam':>8s} {'se':>5s} {'max z':>5s} "
                  f"{'stars':>5s} {'FWHM tile':>9s} {'mosaic':>6s} "
                  f"{'ratio':>6s} {'chroma border/int':>17s} {'noise-eq':>8s} {'overlap-border chroma':>21s}")
            for variant in args.variants.split(","):
                r = measure_variant(dataset, run_dir / "master_tiles", work / scene / f"{build}_{variant}", variant)
                print(f"  {variant:8s} {r['seam_sigma']:8.3f} {r['seam_floor']:5.2f} {r['seam_ref']:8.3f} "
                      f"{r['seam_ref_se']:5.3f} {r['seam_ref_z']:5.1f} {r['n_stars']:5d} "
                      f"{r['fwhm_tile']:9.3f} {r['fwhm_mosaic']:6.3f} {r['fwhm_ratio']:6.3f} {r['mosaic_ratio']:17.3f} "
                      f"{r['mosaic_ratio_eq']:8.3f} {r['mosaic_overlap_border']:21.3f}")
    print(f"\nwork folder: {work}")


if __name__ == "__main__":
    main()
