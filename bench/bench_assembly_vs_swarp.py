"""Phase 5 benchmark: co-add the same master tiles with ZeMosaic (`zemosaic.mosaic`) and with SWarp, in one run.

    python bench/bench_assembly_vs_swarp.py [--quick] [--work DIR]

Data: 4 synthetic RGB master tiles (1080 x 1920, ``--quick``: 540 x 960) in a 2x2 layout with ~30 % overlap and small
field rotations, each with an ALPHA extension (0 on a border band, feathered) and NFRAMES, written into
``bench/_work/assembly`` (git-ignored) unless ``--work`` is given.

* ours: one child process running ``discover_master_tiles`` + ``assemble_mosaic`` (bilinear, alpha x NFRAMES
  weights) + ``write_mosaic_outputs`` (FITS + WEIGHT, no PNG preview) on the grid of ``compute_global_grid``, handed
  over as a header file (as SWarp gets it from a ``.head`` file);
* SWarp (see ../shared/PEERS.md): mono planes, so one run per colour channel, MAP_WEIGHT = ALPHA x NFRAMES, output
  on exactly our grid (a ``.head`` file), resampling LANCZOS3 (its default, as in PEERS.md) and BILINEAR (our kernel).
  Splitting the tiles into mono planes and weight maps for SWarp is preparation, not timed.

Wall time and peak RSS come from ``os.wait4`` on each child process.  Printed: both, the ratio ours / SWarp and the
agreement of the two mosaics (median relative difference on pixels both cover, away from the edges).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

_T_START = time.perf_counter()  # before the heavy imports, to report their cost in the child

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from astropy.io import fits  # noqa: E402
from astropy.wcs import WCS  # noqa: E402
from scipy import ndimage  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from zemosaic import mosaic as ma  # noqa: E402
from zemosaic.io import fits as fits_io  # noqa: E402

SCALE_DEG = 2.4 / 3600.0
RA0, DEC0 = 83.8, -5.4
LEVELS = (1000.0, 900.0, 750.0)
NOISE = 8.0
CHANNELS = "RGB"
# (fraction of a tile in x, in y, rotation in degrees) of each tile centre; 0.35 -> 30 % overlap
LAYOUT = [(-0.35, -0.35, 0.0), (0.35, -0.35, 1.5), (-0.35, 0.35, -1.0), (0.35, 0.35, 2.5)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="540 x 960 tiles, SWarp BILINEAR only")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "_work" / "assembly")
    parser.add_argument("--_ours", nargs=3, metavar=("TILES", "GRID", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._ours:
        return _run_ours(*map(Path, args._ours))
    swarp = shutil.which("SWarp") or shutil.which("swarp")
    if swarp is None:
        print("SWarp not found: apt-get install -y swarp", file=sys.stderr)
        return 2
    shape = (540, 960) if args.quick else (1080, 1920)
    work = args.work
    shutil.rmtree(work, ignore_errors=True)
    tiles_dir = _make_tiles(work / "tiles", shape)
    tiles, _ = ma.discover_master_tiles(tiles_dir)
    grid = ma.compute_global_grid(tiles)
    swarp_in = _prepare_swarp_inputs(tiles, work / "swarp_in")
    grid_header = work / "grid.hdr"
    grid_header.write_text(_grid_header(grid).tostring())
    print(f"4 RGB tiles {shape[0]}x{shape[1]} -> mosaic {grid.shape[0]}x{grid.shape[1]} RGB   ({work})")

    ours = _timed([sys.executable, str(Path(__file__).resolve()), "--_ours", str(tiles_dir), str(grid_header),
                   str(work / "ours")])
    rows = [("ours (interp, bilinear)", ours)]
    kernels = ["BILINEAR"] if args.quick else ["BILINEAR", "LANCZOS3"]
    for kernel in kernels:
        run = _run_swarp(swarp, swarp_in, grid, work / f"swarp_{kernel}", kernel)
        rows.append((f"SWarp {kernel} x3 channels", run))
    _report(rows, work, kernels)
    return 0


# --------------------------------------------------------------------------------------------------------------------


def _tan(ra, dec, rot_deg, shape):
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [shape[1] / 2 + 0.5, shape[0] / 2 + 0.5]
    t = np.deg2rad(rot_deg)
    wcs.wcs.cd = SCALE_DEG * np.array([[-np.cos(t), np.sin(t)], [np.sin(t), np.cos(t)]])
    wcs.wcs.set()
    return wcs


def _make_tiles(folder: Path, shape) -> Path:
    """Four RGB master tiles: flat sky + noise + stars placed by sky coordinates (consistent between tiles)."""
    rng = np.random.default_rng(42)
    h, w = shape
    n_stars = int(4e-4 * h * w * 3)
    span = np.array([1.8 * w, 1.8 * h]) * SCALE_DEG
    star_ra = RA0 + rng.uniform(-0.5, 0.5, n_stars) * span[0] / np.cos(np.deg2rad(DEC0))
    star_dec = DEC0 + rng.uniform(-0.5, 0.5, n_stars) * span[1]
    star_amp = 20000.0 * rng.pareto(1.5, n_stars).clip(0.01, 3.0)
    alpha = _feathered_alpha(shape, band=int(0.02 * h), feather=int(0.03 * h))
    for k, (fx, fy, rot) in enumerate(LAYOUT):
        wcs = _tan(RA0 - fx * w * SCALE_DEG / np.cos(np.deg2rad(DEC0)), DEC0 + fy * h * SCALE_DEG, rot, shape)
        img = np.empty((h, w, 3), np.float32)
        for c, level in enumerate(LEVELS):
            img[..., c] = level + rng.normal(0.0, NOISE, shape)
        sx, sy = wcs.all_world2pix(star_ra, star_dec, 0)
        _add_stars(img, sx, sy, star_amp)
        fits_io.write_fits_image(folder / f"master_tile_{k:03d}.fits", img, wcs=wcs,
                                 header_extra={"NFRAMES": 20 + 5 * k},
                                 extensions={"ALPHA": alpha, "COVERAGE": alpha * (20 + 5 * k)})
    return folder


def _feathered_alpha(shape, band: int, feather: int) -> np.ndarray:
    inner = np.zeros(shape, bool)
    inner[band:-band, band:-band] = True
    dist = ndimage.distance_transform_edt(inner)
    return np.clip(dist / max(feather, 1), 0.0, 1.0).astype(np.float32)


def _add_stars(img, sx, sy, amp, sigma=1.6, r=6):
    h, w = img.shape[:2]
    keep = (sx > r) & (sx < w - r - 1) & (sy > r) & (sy < h - r - 1)
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    colour = np.array([1.0, 0.9, 0.7], np.float32)
    for x, y, a in zip(sx[keep], sy[keep], amp[keep], strict=True):  # loop over stars (not pixels): stamps of 13 x 13
        xi, yi = int(x), int(y)
        g = a * np.exp(-0.5 * ((xx + xi - x) ** 2 + (yy + yi - y) ** 2) / sigma**2)
        img[yi - r:yi + r + 1, xi - r:xi + r + 1] += g[..., None].astype(np.float32) * colour


def _prepare_swarp_inputs(tiles, folder: Path) -> dict:
    """Mono planes per channel and weight maps (ALPHA x NFRAMES), with plain CD-matrix WCS headers."""
    folder.mkdir(parents=True, exist_ok=True)
    planes = {c: [] for c in CHANNELS}
    weights = []
    for t in tiles:
        image = fits_io.read_fits_image(t.path)
        header = fits.Header()
        header.update(image.wcs.to_header(relax=True))
        _to_cd(header, image.wcs)
        for c, name in enumerate(CHANNELS):
            path = folder / f"tile{t.tile_id}_{name}.fits"
            fits.PrimaryHDU(np.ascontiguousarray(image.data[..., c]), header=header).writeto(path)
            planes[name].append(path)
        wpath = folder / f"tile{t.tile_id}.weight.fits"
        fits.PrimaryHDU(image.extensions["ALPHA"] * np.float32(t.n_frames), header=header).writeto(wpath)
        weights.append(wpath)
    return {"planes": planes, "weights": weights}


def _to_cd(header: fits.Header, wcs: WCS) -> None:
    for key in ("PC1_1", "PC1_2", "PC2_1", "PC2_2", "CDELT1", "CDELT2"):
        header.remove(key, ignore_missing=True)
    cd = wcs.wcs.cd if wcs.wcs.has_cd() else wcs.wcs.get_pc() * wcs.wcs.cdelt[:, None]
    for i in range(2):
        for j in range(2):
            header[f"CD{i + 1}_{j + 1}"] = float(cd[i, j])


def _run_swarp(swarp: str, inputs: dict, grid, out: Path, kernel: str) -> dict:
    """One SWarp run per channel on our grid (a .head file); wall times summed, peak RSS the max."""
    out.mkdir(parents=True, exist_ok=True)
    head = _grid_header(grid)
    total = {"wall_s": 0.0, "rss_mb": 0.0, "rc": 0}
    for name in CHANNELS:
        (out / f"mosaic_{name}.head").write_text(head.tostring(sep="\n", endcard=True, padding=False) + "\n")
        cmd = [swarp, *map(str, inputs["planes"][name]),
               "-IMAGEOUT_NAME", str(out / f"mosaic_{name}.fits"),
               "-WEIGHTOUT_NAME", str(out / f"mosaic_{name}.weight.fits"),
               "-WEIGHT_TYPE", "MAP_WEIGHT", "-WEIGHT_IMAGE", ",".join(map(str, inputs["weights"])),
               "-COMBINE_TYPE", "WEIGHTED", "-SUBTRACT_BACK", "N", "-RESAMPLING_TYPE", kernel,
               "-FSCALASTRO_TYPE", "NONE", "-RESAMPLE_DIR", str(out), "-VMEM_DIR", str(out),
               "-NTHREADS", "0", "-VERBOSE_TYPE", "QUIET", "-WRITE_XML", "N"]
        run = _timed(cmd)
        total["wall_s"] += run["wall_s"]
        total["rss_mb"] = max(total["rss_mb"], run["rss_mb"])
        total["rc"] = total["rc"] or run["rc"]
    return total


def _grid_header(grid) -> fits.Header:
    head = fits.Header()
    head["NAXIS"] = 2
    head["NAXIS1"], head["NAXIS2"] = grid.shape[1], grid.shape[0]
    head.update(grid.wcs.to_header())
    _to_cd(head, grid.wcs)
    return head


def _timed(cmd) -> dict:
    """Run a child; wall time and its own peak RSS (``os.wait4``)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        print(f"FAILED ({rc}): {' '.join(cmd[:3])} ...\n{output.decode(errors='replace')[-2000:]}", file=sys.stderr)
    text = output.decode(errors="replace").strip()
    return {"wall_s": wall, "rss_mb": usage.ru_maxrss / 1024.0, "rc": rc, "stdout": text}


def _run_ours(tiles_dir: Path, grid_header: Path, out: Path) -> int:
    """Phase 5 as the pipeline runs it, on the grid computed by the parent (as SWarp gets it from a .head file)."""
    t0 = time.perf_counter()
    tiles, _ = ma.discover_master_tiles(tiles_dir)
    header = fits.Header.fromstring(grid_header.read_text())
    grid = ma.GlobalGrid(WCS(header), (header["NAXIS2"], header["NAXIS1"]))
    result = ma.assemble_mosaic(tiles, grid)
    t1 = time.perf_counter()
    ma.write_mosaic_outputs(result, out, write_preview=False)
    t2 = time.perf_counter()
    t = result.timings
    print(f"in-process {t2 - t0:.2f} s = assemble {t.total_s:.2f} (read {t.read_s:.2f}, reproject "
          f"{t.reproject_s:.2f}, accumulate {t.accumulate_s:.2f}, finalise {t.finalize_s:.2f}) + write FITS "
          f"{t2 - t1:.2f}; imports + start {t0 - _T_START:.2f} s")
    return 0


def _report(rows, work: Path, kernels) -> None:
    ours = rows[0][1]
    print(f"{'':34s} {'wall s':>8s} {'peak RSS MB':>12s} {'ours/peer':>10s}")
    for name, r in rows:
        ratio = "" if r is ours else f"{ours['wall_s'] / r['wall_s']:10.2f}"
        status = "" if r["rc"] == 0 else f"  FAILED rc={r['rc']}"
        print(f"{name:34s} {r['wall_s']:8.2f} {r['rss_mb']:12.0f} {ratio}{status}")
    print(f"ours, inside the child: {ours['stdout']}")
    mine = fits_io.read_fits_image(work / "ours" / "mosaic.fits")
    for kernel in kernels:
        diffs = []
        for c, name in enumerate(CHANNELS):
            theirs = fits.getdata(work / f"swarp_{kernel}" / f"mosaic_{name}.fits").astype(np.float32)
            both = ndimage.binary_erosion((mine.extensions["WEIGHT"] > 0) & (theirs != 0), iterations=8)
            diffs.append(np.median(np.abs(mine.data[..., c][both] / theirs[both] - 1)))
        print(f"agreement with SWarp {kernel}: median |ours/SWarp - 1| per channel = "
              + ", ".join(f"{d:.2e}" for d in diffs))


if __name__ == "__main__":
    sys.exit(main())
