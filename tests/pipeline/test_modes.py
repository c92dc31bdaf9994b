"""GRID and SDS modes: mode choice, log tags, products, SDS fallback, resume and workers, against a known truth."""
import json
import logging

import numpy as np
import pytest
from astropy.io import fits
from scipy import ndimage as ndi

from measure import aperture_flux, catalogue_pixels, refine_centroids
from zemosaic import cli as zemosaic_cli
from zemosaic.config import resolve_config
from zemosaic.io import fits as fits_io
from zemosaic.pipeline import run as run_module
from zemosaic.pipeline import sds_mode
from zemosaic.pipeline.global_frames import AlignedFrame, RegionView
from zemosaic.pipeline.grid_mode import plan_grid_tiles
from zemosaic.synthetic import generator as synthetic

SPEC = synthetic.SynthSpec(panels=(2, 1), overlap=0.35, frames_per_panel=4, width=240, height=360,
                           pixel_scale_arcsec=4.8, mount="altaz", rotation_drift_deg=20.0, seed=11)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return synthetic.generate_dataset(tmp_path_factory.mktemp("modes") / "in", SPEC)


def _run(inp, out, **settings):
    cfg = resolve_config(overrides=[f"{k}={v}" for k, v in settings.items()])
    return run_module.run_mosaic(inp, out, cfg, overwrite=True)


@pytest.fixture(scope="module")
def grid_run(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("grid") / "out"
    return _run(dataset.out_dir, out, mode="grid", grid_tile_size_px=200, grid_overlap_fraction=0.25)


@pytest.fixture(scope="module")
def sds_run(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("sds") / "out"
    return _run(dataset.out_dir, out, mode="sds", sds_chunk_px=128)


def _log(result) -> str:
    return result.log_path.read_text()


def _report(result) -> dict:
    return json.loads(result.report_path.read_text())


def _astrometry_and_photometry(dataset, result):
    mosaic = fits_io.read_fits_image(result.mosaic_path)
    x, y, flux = catalogue_pixels(dataset.catalogue, mosaic.wcs, mosaic.data.shape[:2], max_peak=30000,
                                  n_brightest=40)
    covered = ndi.minimum_filter(np.isfinite(mosaic.data).all(axis=-1).astype(np.uint8), size=31) > 0
    inside = covered[np.round(y).astype(int), np.round(x).astype(int)]  # stars whose apertures are covered
    x, y, flux = x[inside], y[inside], flux[inside]
    mx, my = refine_centroids(np.nan_to_num(mosaic.data[..., 1]), x, y)
    dist = np.hypot(mx - x, my - y)
    ok = np.isfinite(dist) & (dist < 3.0)  # a blend (a neighbour pulls the centroid away) is not a WCS error
    assert np.count_nonzero(np.isfinite(dist) & ~ok) <= 1
    rms = float(np.sqrt(np.mean(dist[ok] ** 2)))
    ratio = aperture_flux(mosaic.data[..., 1], x, y) / flux
    good = ratio[np.isfinite(ratio)]
    centre = np.median(good)  # robust scatter: a blended star is not a photometric error of the mosaic
    return int(ok.sum()), rms, float(1.4826 * np.median(np.abs(good - centre)) / centre), mosaic


@pytest.mark.parametrize("which", ["grid_run", "sds_run"])
def test_mode_mosaic_is_astrometric_and_photometric(which, dataset, request):
    n, rms, scatter, mosaic = _astrometry_and_photometry(dataset, request.getfixturevalue(which))
    print(f"{which}: {n} stars, astrometry RMS {rms:.3f} px, photometric scatter {scatter:.4f}")
    assert n >= 20 and rms < 0.5 and scatter < 0.03
    assert mosaic.data.ndim == 3 and "WEIGHT" in mosaic.extensions


def test_grid_logs_no_phase_3_and_the_coverage_no_op(grid_run):
    text = _log(grid_run)
    assert text.count("[GRID] Invoking grid_mode.run_grid_mode(...): no Phase 3") == 1
    assert text.count("coverage path is a no-op in GRID mode") == 1
    for absent in ("PHASE_UPDATE:3", "MT_PIPELINE", "ALPHA_STATS", "sds_and_mosaic_first_failed"):
        assert absent not in text, absent
    assert " ERROR " not in text
    report = _report(grid_run)
    assert report["mode"] == "grid" and report["mode_info"]["n_grid_tiles"] == grid_run.n_tiles > 2
    assert grid_run.n_frames_used == 8  # each frame counted once, although it is stacked into several tiles


def test_sds_logs_phase_5_polish_and_skips_master_tiles(sds_run):
    text = _log(sds_run)
    assert text.count("[SDS] Phase 5 polish on global SDS mosaic (skipping master tiles)") == 1
    for absent in ("PHASE_UPDATE:3", "MT_PIPELINE", "sds_and_mosaic_first_failed_fallback_mastertiles"):
        assert absent not in text, absent
    report = _report(sds_run)
    assert report["mode"] == "sds" and sds_run.n_tiles == 1 and sds_run.n_frames_used == 8
    assert report["mode_info"]["n_chunks"] > 4  # the canvas was stacked in sky-region chunks


def test_weight_is_the_frame_count(sds_run, grid_run):
    """WEIGHT is the number of frames stacked at each pixel: 1..8, more where the two panels overlap, and the same
    count in GRID (where tiles overlap, a frame is counted once) as in SDS."""
    sds = fits_io.read_fits_image(sds_run.mosaic_path)
    grid = fits_io.read_fits_image(grid_run.mosaic_path)
    w_sds, w_grid = sds.extensions["WEIGHT"], grid.extensions["WEIGHT"]
    assert w_sds.shape == w_grid.shape  # both on the frames' global grid
    assert np.array_equal(w_sds, np.round(w_sds)) and w_sds.max() == 8 and w_sds[w_sds > 0].min() >= 1
    assert np.array_equal(np.isfinite(sds.data).all(axis=-1), w_sds > 0)
    inner = (w_sds > 0) & (w_grid > 0)
    assert np.mean(w_sds[inner] == w_grid[inner]) > 0.98
    assert np.mean(w_sds >= 5) > 0.05  # the panel overlap: frames of both panels stacked per pixel


def test_sds_failure_falls_back_to_master_tiles_with_the_reason(dataset, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise sds_mode.SdsFailed("forced failure for the test")

    monkeypatch.setattr(sds_mode, "stack_sds_batches", broken)
    result = _run(dataset.out_dir, tmp_path / "out", mode="sds")
    text = _log(result)
    tag = text.index("sds_and_mosaic_first_failed_fallback_mastertiles")
    assert "forced failure for the test" in text[tag:tag + 300]
    assert text.index("PHASE_UPDATE:3") > tag and "MT_PIPELINE_FLAGS" in text[tag:]
    assert "[SDS] Phase 5 polish" not in text and " ERROR " not in text
    report = _report(result)
    assert report["mode"] == "master_tiles" and "forced failure" in report["mode_info"]["reason"]
    assert result.n_tiles == 2 and all(t["coverage_decision"] for t in report["tiles"])


def test_stack_plan_makes_grid_mode_with_its_frames_only(dataset, tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    frames = sorted(dataset.out_dir.glob("*.fit"))
    for p in frames:
        (inp / p.name).symlink_to(p)
    plan = ["file_path,exposure,batch,order"] + [f"{p.name},10,night1,{k}" for k, p in enumerate(frames[:6])]
    plan.append("missing_frame.fit,10,night1,99")
    (inp / "stack_plan.csv").write_text("\n".join(plan) + "\n")
    result = _run(inp, tmp_path / "out", grid_tile_size_px=200, grid_overlap_fraction=0.25)
    report = _report(result)
    text = _log(result)
    assert report["mode"] == "grid"
    assert "stack_plan.csv found in the input folder: its frames are the run's (grid mode)" in text
    assert result.n_frames_used == 6
    plan_rejects = [r for r in report["rejected_inputs"] if r["phase"] == "stack_plan"]
    assert len(plan_rejects) == 1 and "line 8" in plan_rejects[0]["reason"]
    ignored = {e["path"].rsplit("/", 1)[-1] for e in report["input_files"] if e["status"] == "ignored"}
    assert {p.name for p in frames[6:]} <= ignored


def test_grid_resume_reuses_the_tiles_and_workers_change_nothing(dataset, grid_run, tmp_path, caplog):
    out = grid_run.output_dir
    first = fits_io.read_fits_image(grid_run.mosaic_path).data
    with caplog.at_level(logging.INFO):
        again = run_module.run_mosaic(dataset.out_dir, out, resolve_config(overrides=[
            "mode=grid", "grid_tile_size_px=200", "grid_overlap_fraction=0.25"]), resume=True)
    assert f"resume: {grid_run.n_tiles} grid tile(s) reused" in caplog.text
    assert "frames aligned on the global grid" not in caplog.text
    assert np.array_equal(fits_io.read_fits_image(again.mosaic_path).data, first, equal_nan=True)
    parallel = _run(dataset.out_dir, tmp_path / "par", mode="grid", grid_tile_size_px=200,
                    grid_overlap_fraction=0.25, max_workers=2)
    assert np.array_equal(fits_io.read_fits_image(parallel.mosaic_path).data, first, equal_nan=True)


def test_plan_grid_tiles_cover_the_canvas_with_the_overlap():
    tiles = plan_grid_tiles((500, 730), 200, 0.25)
    covered = np.zeros((500, 730), int)
    for t in tiles:
        y0, y1, x0, x1 = t.region
        assert 0 <= y0 < y1 <= 500 and 0 <= x0 < x1 <= 730 and (y1 - y0, x1 - x0) == (200, 200)
        covered[y0:y1, x0:x1] += 1
    assert covered.min() >= 1
    xs = sorted({t.region[2] for t in tiles})
    assert xs[1] - xs[0] == 150 and xs[-1] == 530  # step = 200 x (1 - 0.25); the last one ends on the edge


def _fake_frame(tmp_path, index, window, date=None, value=1.0):
    h, w = window[1] - window[0], window[3] - window[2]
    arr = np.full((h, w, 3), value, np.float32)
    arr[0, :] = np.nan
    path = tmp_path / f"f{index}.npy"
    np.save(path, arr)
    info = type("Info", (), {"date_obs": date, "shape": (h, w)})()
    return AlignedFrame(index, tmp_path / f"f{index}.fit", window, path, 3,
                        np.isfinite(arr[::8, ::8, 0]), info)


def test_region_view_reads_rows_as_the_stacker_does(tmp_path):
    frame = _fake_frame(tmp_path, 0, (10, 30, 5, 25), value=2.0)
    view = RegionView(frame, (0, 40, 0, 40))
    assert view.shape == (40, 40, 3) and len(view) == 40
    full = np.asarray(view)
    assert np.isnan(full[:10]).all() and np.isnan(full[10]).all() and np.isnan(full[:, :5]).all()
    assert np.all(full[11:30, 5:25] == 2.0) and np.isnan(full[30:]).all()
    assert np.array_equal(view[12:15], full[12:15], equal_nan=True)
    assert np.array_equal(view[::4, ::4], full[::4, ::4], equal_nan=True)
    picks = np.array([3, 11, 29])
    assert np.array_equal(view[picks], full[picks], equal_nan=True)
    scaled = RegionView(frame, (0, 40, 0, 40), lambda v, x, y: v * 2 + 0 * x[..., None] + 0 * y[..., None])
    assert np.all(np.asarray(scaled)[11:30, 5:25] == 4.0)


def test_sds_batches_follow_the_nights_or_the_plan(tmp_path):
    cfg = resolve_config(overrides=["sds_batch_gap_hours=4"])
    dates = ["2024-03-15T21:00:00", "2024-03-15T23:30:00", "2024-03-16T21:10:00", None]
    frames = [_fake_frame(tmp_path, k, (0, 16, 0, 16), d) for k, d in enumerate(dates)]
    batches = sds_mode.batch_frames(frames, cfg)
    assert [[f.index for f in b.frames] for b in batches] == [[0, 1, 3], [2]]
    plan = {str(f.path): ("A" if f.index % 2 else "B") for f in frames}
    by_plan = sds_mode.batch_frames(frames, cfg, plan)
    assert {b.key: [f.index for f in b.frames] for b in by_plan} == {"B": [0, 2], "A": [1, 3]}


def test_cli_and_config_take_the_mode():
    args = zemosaic_cli.build_parser().parse_args(["run", "IN", "-o", "OUT", "--mode", "sds"])
    assert zemosaic_cli._resolve_run_config(args).mode == "sds"
    args = zemosaic_cli.build_parser().parse_args(["run", "IN", "-o", "OUT", "--mode", "master-tiles"])
    assert zemosaic_cli._resolve_run_config(args).mode == "tiles"
    with pytest.raises(ValueError, match="mode"):
        resolve_config(overrides=["mode=mosaic"])


def test_frame_photometry_keeps_the_strips_that_tie_the_panels():
    """Frames of one field overlap almost wholly, the fields only along strips: each frame keeps its largest
    overlaps in its field AND across the strips, so the solve links every panel (a panel left out is anchored on
    its own and its sky jumps)."""
    from zemosaic.pipeline.frame_photometry import _frame_overlaps, _FrameView

    rng = np.random.default_rng(0)
    views = []
    for panel in range(2):
        for k in range(12):  # 12 frames a panel: more than _MAX_PAIRS in their own field
            x0 = panel * 70 + k % 3
            values = (100.0 + rng.normal(0, 1, (64, 80, 1))).astype(np.float32)
            views.append(_FrameView((0, x0), values, np.ones((64, 80), bool), None))
    import zemosaic.pipeline.frame_photometry as fp

    original = fp._pair
    fp._pair = lambda a, b, i, j, factor, block: (i, j)  # the pair selection only
    try:
        pairs = _frame_overlaps(views, 1, 2)
    finally:
        fp._pair = original
    across = [(i, j) for i, j in pairs if (i < 12) != (j < 12)]
    assert across and all((i < 12) == (j < 12) for i, j in set(pairs) - set(across))
    assert len(pairs) < 24 * 23 / 2  # not every pair: the solve grows linearly with the frames


def test_grid_resume_after_an_interruption_reuses_the_finished_tiles(dataset, grid_run, tmp_path, caplog):
    """A GRID run stopped while stacking (no manifest, its last tile missing): ``--resume`` aligns the frames
    again, reuses the tiles it finished (their ``ZRESKEY``: same frames, corrections, settings) and stacks the
    missing one; the mosaic is the uninterrupted run's. A setting that changes the tiles restacks them all."""
    import shutil

    out = tmp_path / "out"
    shutil.copytree(grid_run.output_dir, out)
    tiles = sorted((out / "master_tiles").glob("master_tile_*.fits"))
    card = fits.getheader(tiles[0]).cards["ZRESKEY"]                   # a whole card: no comment cut short on write
    assert len(card.value) == 64 and len(card.image) == 80 and card.comment == ""
    (out / "master_tiles" / "mode_manifest.json").unlink()
    tiles[-1].unlink()
    settings = ["mode=grid", "grid_tile_size_px=200", "grid_overlap_fraction=0.25"]
    with caplog.at_level(logging.INFO):
        again = run_module.run_mosaic(dataset.out_dir, out, resolve_config(overrides=settings), resume=True)
    n = grid_run.n_tiles
    assert f"resume: {n - 1} grid tile(s) reused, 1 stacked" in caplog.text
    assert "frames aligned on the global grid" in caplog.text
    assert _report(again)["resume"] == {"reused": list(range(n - 1)), "rebuilt": [n - 1]}
    first = fits_io.read_fits_image(grid_run.mosaic_path).data
    assert np.array_equal(fits_io.read_fits_image(again.mosaic_path).data, first, equal_nan=True)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        run_module.run_mosaic(dataset.out_dir, out, resolve_config(overrides=settings + ["stack_sigma_high=2.5"]),
                              resume=True)
    assert f"resume: 0 grid tile(s) reused, {n} stacked" in caplog.text


def test_sds_workers_change_nothing(dataset, sds_run, tmp_path):
    """``max_workers=2`` aligns the frames on two threads: the SDS mosaic is the serial run's, bit for bit."""
    parallel = _run(dataset.out_dir, tmp_path / "par", mode="sds", sds_chunk_px=128, max_workers=2)
    first = fits_io.read_fits_image(sds_run.mosaic_path).data
    assert np.array_equal(fits_io.read_fits_image(parallel.mosaic_path).data, first, equal_nan=True)
