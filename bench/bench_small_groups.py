"""Small groups (2-6 frames): which rule for ``altaz_min_coverage_abs`` keeps the field without colour fringes.

For each group size and seed, one synthetic Alt-Az group (the generator's truth known) is stacked into a master tile
under each ``altaz_small_group_rule`` (intersection, all_but_one, fraction), and measured:

- field kept: pixels with alpha > 0.5, as a fraction of one frame's area;
- border chroma: RMS of (R - G, B - G) of the tile minus the truth (one gain + plane per channel fitted on star-free
  kept pixels) in the band within 20 px of the kept region's edge, and its ratio to the interior (deeper than 60 px;
  for tiles too small for an interior, the ratio uses the mean interior of the intersection rule for that seed).

Run: ``python bench/bench_small_groups.py`` (about 3 minutes on 2 cores); ``--sizes 2,3 --seeds 1`` for a quick look.
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import zemosaic_worker as worker  # noqa: E402
from measure import distance_inside, fit_gain_plane  # noqa: E402
from zemosaic.config import resolve_config  # noqa: E402
from zemosaic.io import fits as fits_io  # noqa: E402
from zemosaic.masks import SMALL_GROUP_RULES  # noqa: E402
from zemosaic.pipeline.report import RunReport  # noqa: E402
from zemosaic.synthetic import generator as synthetic  # noqa: E402

BORDER_PX, INTERIOR_PX = 20, 60


def group_spec(n_frames: int, seed: int, drift_deg: float) -> synthetic.SynthSpec:
    return synthetic.SynthSpec(panels=(1, 1), frames_per_panel=n_frames, width=240, height=360,
                               pixel_scale_arcsec=4.8, rotation_drift_deg=drift_deg, seed=seed, nebula=True)


def chroma_residual(tile, scene) -> tuple[np.ndarray, np.ndarray]:
    """(chroma residual H x W x 2, kept star-free mask) of a tile against the scene's truth."""
    data, alpha = tile.data, tile.extensions["ALPHA"]
    truth = scene.render(tile.wcs, data.shape[:2])
    kept = (alpha > 0.5) & np.isfinite(data).all(axis=-1)
    lum = truth.sum(axis=-1)
    starfree = lum < np.percentile(lum, 60)
    resid = np.stack([data[..., c] - fit_gain_plane(data[..., c], truth[..., c], kept & starfree)
                      for c in range(3)], axis=-1)
    return np.stack([resid[..., 0] - resid[..., 1], resid[..., 2] - resid[..., 1]], axis=-1), kept


def measure_tile(tile, scene, frame_area: int) -> dict:
    chroma, kept = chroma_residual(tile, scene)
    data = tile.data
    lum = scene.render(tile.wcs, data.shape[:2]).sum(axis=-1)
    starfree = lum < np.percentile(lum, 60)
    depth = distance_inside(kept)
    border = kept & starfree & (depth <= BORDER_PX)
    interior = kept & starfree & (depth > INTERIOR_PX)
    rms = (lambda m: float(np.sqrt(np.mean(chroma[m] ** 2))) if m.any() else float("nan"))  # noqa: E731
    return {"kept": float(np.count_nonzero(kept)) / frame_area, "border": rms(border), "interior": rms(interior)}


def run(sizes, seeds, drift_deg: float, workdir: Path) -> dict:
    results: dict = {}
    for n in sizes:
        for seed in seeds:
            root = workdir / f"n{n}_s{seed}"
            dataset = synthetic.generate_dataset(root / "in", group_spec(n, seed, drift_deg))
            frames = worker.scan_input_folder(root / "in", RunReport("", "", "bench", {}))
            area = 240 * 360
            for rule in SMALL_GROUP_RULES:
                cfg = resolve_config(overrides=[f"altaz_small_group_rule={rule}", "altaz_cleanup_enabled=true"])
                result = worker.create_master_tile(frames, 0, cfg, root / rule)
                tile = fits_io.read_fits_image(result.path)
                results[(n, seed, rule)] = measure_tile(tile, dataset.scene, area)
    return results


def print_table(results: dict, sizes, seeds) -> None:
    print(f"{'frames':>6} | " + " | ".join(f"{r:^27}" for r in SMALL_GROUP_RULES))
    print(f"{'':>6} | " + " | ".join(f"{'kept':>7} {'border':>7} {'b/int':>6}  " for _ in SMALL_GROUP_RULES))
    for n in sizes:
        row = []
        # interior reference per seed: the intersection tile's (its interior always exists at these sizes)
        ref = {s: results[(n, s, "intersection")]["interior"] for s in seeds}
        for rule in SMALL_GROUP_RULES:
            m = [results[(n, s, rule)] for s in seeds]
            kept = np.mean([x["kept"] for x in m])
            border = np.mean([x["border"] for x in m])
            ratio = np.mean([x["border"] / (x["interior"] if np.isfinite(x["interior"]) else ref[s])
                             for x, s in zip(m, seeds, strict=True)])
            row.append(f"{kept:7.3f} {border:7.2f} {ratio:6.2f}  ")
        print(f"{n:>6} | " + " | ".join(row))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="2,3,4,5,6")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--drift", type=float, default=20.0, help="rotation across the group's session (deg)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    sizes = [int(x) for x in args.sizes.split(",")]
    seeds = [int(x) for x in args.seeds.split(",")]
    with tempfile.TemporaryDirectory(prefix="zemosaic_small_groups_") as tmp:
        results = run(sizes, seeds, args.drift, Path(tmp))
    print(f"small groups, Alt-Az drift {args.drift:g} deg, 240x360 frames at 4.8\"/px, seeds {args.seeds}: "
          "field kept (alpha > 0.5, fraction of a frame), border chroma RMS (ADU) and border / interior")
    print_table(results, sizes, seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
