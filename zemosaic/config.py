"""ZeMosaic configuration: every key, its default and its meaning in one place.

The run resolves its configuration once (:func:`resolve_config`) into a frozen, validated
:class:`ZeMosaicConfig` and passes that object down. Nothing below the CLI reads files or
environment variables for settings.

Sources, later ones winning: the defaults below, a JSON file (``--config FILE.json``), then
``--set key=value`` overrides (values parsed with the key's type).
"""
from __future__ import annotations

import dataclasses
import difflib
import json
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zemosaic.stack.options import COMBINE_METHODS, NORMALIZE_METHODS, REJECTION_ALGORITHMS, WEIGHTING_METHODS

__all__ = [
    "ConfigError",
    "EXPORT_FORMATS",
    "OUTPUT_PRESETS",
    "RUN_PRESETS",
    "ZeMosaicConfig",
    "resolve_config",
    "as_config",
    "read_config_json",
    "config_keys",
    "describe_keys",
    "parse_override",
]


EXPORT_FORMATS = ("tiff16", "png16", "tiff32")
"""The values ``export_formats`` accepts."""

OUTPUT_PRESETS = ("siril", "pixinsight", "astropy", "swarp")
"""The values ``output_presets`` accepts (``zemosaic run --preset NAME``)."""

RUN_PRESETS: dict[str, dict[str, Any]] = {
    "seestar-altaz": {"mode": "tiles", "altaz_cleanup_enabled": "true", "altaz_use_coverage": True,
                      "split_by_mount_mode": True, "master_tile_canvas": "group", "frame_reject_enabled": True,
                      "frame_partial_enabled": True, "stack_weighting_method": "psf_snr",
                      "mosaic_background": "plane", "colour_calibration": "stars"},
    "seestar-eq": {"mode": "tiles", "altaz_cleanup_enabled": "false", "quality_crop_enabled": True,
                   "split_by_mount_mode": True, "frame_reject_enabled": True, "stack_weighting_method": "psf_snr",
                   "mosaic_background": "plane", "colour_calibration": "stars"},
    "quick-look": {"debayer_method": "bilinear", "stack_rejection_algorithm": "kappa_sigma",
                   "stack_weighting_method": "noise_variance", "frame_partial_enabled": False,
                   "harmonize_plane": False, "assembly_reproject": "interp", "mosaic_background": "plane",
                   "colour_calibration": "none", "max_workers": 0},
    "best-quality": {"debayer_method": "edge_aware", "stack_rejection_algorithm": "winsorized_sigma_clip",
                     "stack_weighting_method": "psf_snr", "frame_reject_enabled": True, "frame_partial_enabled": True,
                     "background_poly_order": 2, "harmonize_enabled": True, "harmonize_plane": True,
                     "assembly_reproject": "adaptive", "mosaic_background": "surface",
                     "colour_calibration": "stars"},
}
"""Run presets (``zemosaic run --preset NAME``, the window's Preset box): several keys set at once, applied over
the defaults and a ``--config`` file, under ``--set``. Seestar Alt-Az: the coverage cleanup on, sharpness-aware
weights; Seestar equatorial: no Alt-Az cleanup; quick look: the fast choices; best quality: the careful ones."""


class ConfigError(ValueError):
    """A configuration key or value is refused; the message names the key."""


def _key(default, doc, choices=None, low=None, high=None):
    meta = {"doc": doc}
    if choices is not None:
        meta["choices"] = tuple(choices)
    if low is not None:
        meta["low"] = low
    if high is not None:
        meta["high"] = high
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ZeMosaicConfig:
    """The validated settings of one run. Build it with :func:`resolve_config`."""

    # --- run mode -------------------------------------------------------------------------
    use_existing_master_tiles_mode: bool = _key(
        False, "Input folder holds finished master tiles: skip scan/cluster/stack (Phases 1-3); "
        "the coverage feature is then a no-op.")
    mode: str = _key(
        "auto", "How the mosaic is built: 'tiles' (master tiles, the mission's coverage mask active), 'grid' (a "
        "regular grid of overlapping tiles on the global WCS, each stacked from the frames touching it), 'sds' "
        "(mosaic-first: frames stacked per pixel on the global grid; falls back to tiles on failure) or 'auto' "
        "(grid when the input folder holds stack_plan.csv, else tiles).", choices=("auto", "tiles", "grid", "sds"))
    grid_tile_size_px: int = _key(
        0, "GRID: side of a grid tile in mosaic pixels (0: grid_size_factor x the frames' median short side).", low=0)
    grid_size_factor: float = _key(
        1.0, "GRID: grid tile side as a multiple of the frames' median short side (when grid_tile_size_px is 0).",
        low=0.05, high=1000.0)
    grid_overlap_fraction: float = _key(
        0.1, "GRID: overlap between neighbouring grid tiles, as a fraction of the tile side (it feeds the "
        "photometric matching of Phase 4.5).", low=0.0, high=0.5)
    grid_min_frame_fraction: float = _key(
        0.02, "GRID: a frame is stacked into a grid tile when it covers at least this fraction of the tile.",
        low=0.0, high=1.0)
    sds_chunk_px: int = _key(
        1024, "SDS: side of the sky-region chunks stacked one at a time (memory is bounded by the chunk and "
        "stack_memory_budget_mb, whatever the number of frames).", low=64)
    sds_batch_gap_hours: float = _key(
        4.0, "SDS: frames separated by a longer gap in DATE-OBS (another night or session) are stacked in separate "
        "batches, matched and co-added by Phases 4.5-5 (a stack_plan.csv batch column takes precedence).", low=0.0)
    # --- Phase 1-2: scan and clustering ---------------------------------------------------
    input_recursive: bool = _key(
        False, "Scan the subfolders of the input folder too (`zemosaic run --recursive`); otherwise they are "
        "listed as ignored in run_report.json.")
    wcs_scale_tolerance: float = _key(
        0.2, "A frame whose pixel scale differs from its group's median by more than this fraction is "
        "rejected (a wrong WCS or another instrument).", low=0.01, high=10.0)
    separate_target_fov: float = _key(
        3.0, "Groups of frames farther than this many fields of view (long side) from all the others are "
        "reported as a separate target (log line, `targets` in run_report.json).", low=0.5)
    cluster_threshold_fov_frac: float = _key(
        0.5, "Frames whose centres are closer than this fraction of the field of view (short side) "
        "are linked into the same master-tile group.", low=0.01, high=5.0)
    split_by_mount_mode: bool = _key(True, "Never mix Alt-Az (EQMODE=0) and equatorial frames in one group.")
    max_frames_per_tile: int = _key(
        400, "Groups larger than this are split into balanced chronological sub-groups (similar field rotation).",
        low=2)
    min_frames_per_tile: int = _key(1, "Groups with fewer usable frames are skipped (logged).", low=1)
    # --- Phase 1b: plate solving (frames without a WCS) ---------------------------------------
    wcs_source: str = _key(
        "auto", "Where frame WCSs come from: 'auto' (the header's when present, else a plate solve), 'header' "
        "(frames without one are left out) or 'solve' (solve every frame, ignoring header WCSs).",
        choices=("auto", "header", "solve"))
    plate_solver: str = _key(
        "auto", "Local plate solver: 'auto' (astrometry.net in-process, else solve-field, else ASTAP), "
        "'astrometry', 'solve-field', 'astap' or 'none'.",
        choices=("auto", "astrometry", "solve-field", "astap", "none"))
    solver_index_dirs: list = _key(
        [], "Folders of astrometry.net index files (empty: $ZEMOSAIC_INDEX_DIR, then /usr/share/astrometry, "
        "/usr/local/astrometry/data, /usr/local/share/astrometry, /opt/homebrew/share/astrometry, ~/.astrometry).")
    astap_path: str = _key("", "ASTAP executable (empty: found on PATH or in its usual install folders).")
    astap_database_dir: str = _key(
        "", "Folder of ASTAP's star database (D50, D80, V50...; empty: ASTAP's own default, next to its executable).")
    solve_timeout_s: float = _key(60.0, "Longest time one plate solve may take (seconds).", low=1.0)
    solve_search_radius_deg: float = _key(
        3.0, "Hint-assisted solves search this far (degrees) around the header's pointing.", low=0.05, high=180.0)
    solve_blind_budget_s: float = _key(
        120.0, "Seconds of blind plate solving (frames without a usable pointing hint) one run may spend; the frames "
        "left to solve blind once it is spent are rejected with that reason (0: no blind solve).", low=0.0)
    hint_pixel_scale_arcsec: float = _key(
        0.0, "Pixel scale (arcsec) for frames whose header gives none (no FOCALLEN/XPIXSZ); 0: search widely.",
        low=0.0)
    solve_strategy: str = _key(
        "auto", "'per_field': solve one frame per field and carry its WCS to the others by registration; "
        "'every_frame': solve each frame on its own; 'auto': every_frame with the in-process solver (a solve "
        "costs ~20 ms there), per_field with solve-field or ASTAP (a solve costs seconds).",
        choices=("auto", "per_field", "every_frame"))
    wcs_cache_dir: str = _key(
        "", "Folder of cached plate solutions, keyed by file content and shareable between runs "
        "(empty: OUT/wcs_cache).")
    write_wcs_sidecars: bool = _key(
        False, "Also write each frame's WCS as OUT/wcs/<frame>.wcs (astrometry.net format); inputs are never "
        "modified.")
    # --- Phase 3: load, align ---------------------------------------------------------------
    debayer_method: str = _key(
        "edge_aware", "Bayer demosaicing: 'edge_aware' (gradient-corrected, no star fringes) or 'bilinear'.",
        choices=("edge_aware", "bilinear"))
    align_detection_sigma: float = _key(3.0, "Star detection threshold (sigma above sky) for astroalign.", low=1.0)
    align_min_area: int = _key(5, "Minimum connected pixels for a detected star.", low=1)
    align_max_control_points: int = _key(50, "Stars astroalign matches at most.", low=5)
    master_tile_canvas: str = _key(
        "group", "Grid a master tile is stacked on: 'group' (grows to the bounding box of the group's well-covered "
        "sky, at most 4 x the reference frame's area, so the coverage alpha decides what is kept) or 'reference' "
        "(the reference frame's own grid, as before: the field the rotated and dithered frames cover outside it "
        "is lost).", choices=("group", "reference"))
    master_tile_stack: str = _key(
        "debayer", "How a master tile turns raw Bayer frames into colour: 'debayer' (each frame debayered, warped "
        "and stacked with the stacker's normalisation and rejection) or 'cfa_drizzle' (each raw pixel's one colour "
        "dropped onto the tile grid through its frame's alignment transform, no colour interpolation; "
        "zemosaic.stack.cfa_drizzle). Frames that are not Bayer mosaics always use 'debayer'.",
        choices=("debayer", "cfa_drizzle"))
    drizzle_scale: float = _key(
        1.0, "CFA drizzle output sampling, output pixels per raw pixel a side: 1, 1.5 or 2 (the S50's 2.4\"/px "
        "undersamples its stars; any value from 1 to 3 works); the coverage, the alpha and the WCS are those of the "
        "drizzled grid.", low=1.0, high=3.0)
    drizzle_pixfrac: float = _key(
        1.0, "CFA drizzle drop size, in raw pixels a side (smaller keeps more resolution but leaves channel pixels "
        "no drop reached, filled from their neighbours, with few frames).", low=0.3, high=3.0)
    # --- Phase 3: stack --------------------------------------------------------------------
    stack_normalize_method: str = _key(
        "background_match", "Per-frame normalisation against the reference frame before combining.",
        choices=NORMALIZE_METHODS)
    stack_weighting_method: str = _key(
        "noise_variance", "Frame weights: 'none', 'noise_variance' (1/sigma^2, robust, per channel) or 'psf_snr' "
        "(noise_variance x (group median FWHM / frame FWHM)^2: the point-source signal-to-noise ratio).",
        choices=WEIGHTING_METHODS + ("psf_snr",))
    stack_rejection_algorithm: str = _key(
        "winsorized_sigma_clip", "Outlier rejection before combining.", choices=REJECTION_ALGORITHMS)
    stack_final_combine: str = _key("mean", "Combine the kept pixels with a weighted mean or a median.",
                                    choices=COMBINE_METHODS)
    stack_sigma_low: float = _key(3.0, "Lower rejection threshold in sigma.", low=0.1)
    stack_sigma_high: float = _key(3.0, "Upper rejection threshold in sigma.", low=0.1)
    stack_winsor_limits: list = _key([0.05, 0.05], "Winsorisation limits (low, high fractions).")
    stack_memory_budget_mb: float = _key(
        768.0, "RAM the stacker may use for one row chunk of all frames (sets the chunk height).", low=16.0)
    use_gpu: bool = _key(False, "Stack on the GPU with CuPy when available (falls back to CPU with one log line).")
    # --- Phase 3: frame quality (measured once per frame; docs/guide/frame_quality.rst) -----------
    frame_reject_enabled: bool = _key(
        True, "Reject the frames of a group that fail a quality rule (frame_reject_rules), with the measure and "
        "the limit in the reason; the measures are taken and reported either way.")
    frame_reject_rules: list = _key(
        ["fwhm", "elongation", "transparency", "sky", "stars"], "Quality rules switched on (subset of fwhm, "
        "elongation, transparency, sky, stars).")
    frame_reject_fwhm_k: float = _key(
        3.0, "FWHM rule: reject above the group median + k robust sigmas (and 15 % of the median); 0: off.", low=0.0)
    frame_reject_fwhm_max_px: float = _key(0.0, "FWHM rule: absolute limit in pixels (0: none).", low=0.0)
    frame_reject_elongation_k: float = _key(
        3.0, "Elongation (1 - b/a) rule: reject above the group median + k robust sigmas (and + 0.05); 0: off.",
        low=0.0)
    frame_reject_elongation_max: float = _key(0.3, "Elongation rule: absolute limit (0: none).", low=0.0, high=1.0)
    frame_reject_transparency_k: float = _key(
        3.0, "Transparency rule (star flux over the group's clearest frames): reject below the group median - k "
        "robust sigmas (and - 0.1); 0: off.", low=0.0)
    frame_reject_transparency_min: float = _key(
        0.5, "Transparency rule: absolute limit, fraction of the clearest frames' (0: none).", low=0.0, high=1.0)
    frame_reject_sky_k: float = _key(
        5.0, "Sky rule: reject above the group median + k robust sigmas (and 25 % of the median); 0: off.", low=0.0)
    frame_reject_sky_max_ratio: float = _key(0.0, "Sky rule: absolute limit, times the group median (0: none).",
                                             low=0.0)
    frame_reject_stars_k: float = _key(
        3.0, "Star-count rule: reject below the group median - k robust sigmas (and 30 % of the median); 0: off.",
        low=0.0)
    frame_reject_stars_min_ratio: float = _key(
        0.3, "Star-count rule: absolute limit, fraction of the group median (0: none).", low=0.0, high=1.0)
    frame_partial_enabled: bool = _key(
        True, "Leave out the part of a frame where a cloud or an obstacle dims or hides the stars (from the local "
        "transparency of its stars matched to the reference); the coverage counts it as missing.")
    frame_partial_transparency_min: float = _key(
        0.5, "A frame region whose stars keep less than this fraction of the clearest frames' flux is left out.",
        low=0.0, high=1.0)
    frame_partial_max_fraction: float = _key(
        0.6, "A frame whose bad regions exceed this fraction of its area is rejected whole.", low=0.0, high=1.0)
    frame_quality_cell_px: int = _key(
        128, "Size (frame pixels) of the cells in which the local transparency is judged.", low=16, high=4096)
    frame_exclude: str = _key(
        "", "File of frame names or glob patterns (one a line, # comments) that are never stacked; wins over "
        "the automatic decisions, recorded in run_report.json.")
    # --- Phase 3: background matching -------------------------------------------------------
    background_poly_order: int = _key(
        1, "Order of the 2D polynomial sky-difference surface fitted per frame and channel (0-3).", low=0, high=3)
    background_flatten_reference: bool = _key(
        False, "Also remove the reference frame's own smooth gradient (can eat faint large nebulae).")
    background_flatten_order: int = _key(
        1, "Polynomial order of that absolute flattening (a plane eats least of a large nebula).", low=0, high=3)
    # --- Phase 3: master-tile cleanup (the mission) ------------------------------------------
    altaz_cleanup_enabled: str = _key(
        "auto", "Alt-Az border cleanup on master tiles: 'true', 'false' or 'auto' "
        "(on for Alt-Az frames by EQMODE and for frames whose mount is unknown).",
        choices=("auto", "true", "false"))
    altaz_use_coverage: bool = _key(
        True, "Drive the cleanup by the intra-tile coverage map; false keeps the cleanup but uses the "
        "low-signal/radial fallback (to compare both).")
    altaz_min_coverage_abs: float = _key(
        3.0, "Minimum number of frames a kept pixel needs (clamped to the frames stacked).", low=0.0)
    altaz_small_group_rule: str = _key(
        "all_but_one", "How altaz_min_coverage_abs meets a group with fewer frames: all_but_one (one frame may be "
        "missing, never fewer than 2), intersection (every frame), or fraction (only altaz_min_coverage_frac).",
        choices=("intersection", "all_but_one", "fraction"))
    altaz_min_coverage_frac: float = _key(
        0.4, "Minimum coverage as a fraction of the tile's maximum coverage.", low=0.0, high=1.0)
    altaz_morph_open_px: int = _key(3, "Radius of the morphological opening of the coverage mask (px).",
                                    low=0, high=64)
    altaz_margin_percent: float = _key(5.0, "Feather / radial margin width in percent of the short side.",
                                       low=0.0, high=50.0)
    altaz_decay_ratio: float = _key(0.15, "Steepness of the feather ramp (fraction of the margin).",
                                    low=0.0, high=1.0)
    altaz_alpha_soft_threshold: float = _key(
        1e-3, "Alpha at or below this counts as 'masked' (hard threshold of the masker).", low=0.0, high=1.0)
    altaz_nanize_threshold: float = _key(
        1e-3, "Pixels with alpha at or below this become NaN in the written tile (float32 copy only). "
        "Must not exceed altaz_alpha_soft_threshold (checked at load time).",
        low=0.0, high=1.0)
    altaz_nanize_enabled: bool = _key(True, "Write NaN into master-tile pixels whose alpha is ~0.")
    quality_crop_enabled: bool = _key(
        True, "Crop dark/flat/colour-cast border bands of the master tile (tile, coverage, alpha and WCS "
        "cropped together).")
    mt_edge_trim_enabled: bool = _key(True, "Peel master-tile edge rows/columns that are mostly alpha=0.")
    mt_edge_trim_valid_frac: float = _key(
        0.05, "An edge row/column is peeled while less than this fraction of it has alpha > 0.", low=0.0, high=1.0)
    debug_tile_ids: list = _key(
        [], "Master-tile ids (integers) whose alignment logs per-frame details (transform, footprint, FFT "
        "overlap); when set, zemosaic.log records DEBUG lines.")
    # --- Phase 3: parallel and distributed master tiles ---------------------------------------
    max_workers: int = _key(
        1, "Master tiles built at the same time in worker processes (`zemosaic run --workers N`): 1 = in the run's "
        "process, two at once in two threads where two cores and the memory allow (one tile's reads beside the "
        "other's kernels; one at a time with use_gpu), else one after another; N = up to N processes; 0 = auto "
        "(the usable cores; in the run's process when all the groups hold under 40 Mpx of frames, too little to "
        "pay the workers' start). Never more than memory_budget_mb allows. The tiles and the mosaic are bit for "
        "bit those of a serial run.", low=0)
    memory_budget_mb: float = _key(
        0.0, "RAM the master tiles built at the same time may take together (MB); it caps the number of workers at "
        "this budget / one tile's estimated peak (stack_memory_budget_mb + 8 frames + 250 MB); 0 = 3/4 of the RAM "
        "available when Phase 3 starts.", low=0.0)
    scheduler: str = _key(
        "", "Build the master tiles on a dask.distributed cluster (`zemosaic run --scheduler ...`, needs the "
        "'cluster' extra): '' = no (this machine, see max_workers); 'local' = a LocalCluster of max_workers worker "
        "processes on this machine; or a scheduler address such as 'tcp://host:8786' (the input and output folders "
        "must then be on a file system every worker sees at the same path).")
    # --- Phase 4-5: mosaic -------------------------------------------------------------------
    harmonize_enabled: bool = _key(True, "Phase 4.5: match tiles photometrically on their overlaps.")
    harmonize_plane: bool = _key(True, "Phase 4.5 also fits a plane (tilt) per tile and channel.")
    assembly_reproject: str = _key(
        "lanczos3", "Reprojection of tiles onto the mosaic grid: 'lanczos3' (default; Lanczos-3: keeps star profiles "
        "and flux, the mosaic's star FWHM within 1 % of the tiles'; pixels next to a weight-0 pixel fall back to "
        "bilinear, so nothing of weight 0 leaks), 'interp' (bilinear, faster; widens 2-3 px stars by 5-15 %) or "
        "'adaptive' (anti-aliased, for tiles whose scale differs from the grid's; slower).",
        choices=("interp", "lanczos3", "adaptive"))
    assembly_tile_weight: str = _key(
        "frames", "Weight of a tile's pixel in the mosaic besides its ALPHA: 'frames' (the tile's frame count, the "
        "same for all its pixels), 'coverage' (the frames stacked into that pixel, the tile's COVERAGE: an overlap "
        "leans further on the better-covered tile; NFRAMES for tiles without COVERAGE) or 'none'.",
        choices=("frames", "coverage", "none"))
    assembly_memmap_mb: float = _key(
        1024.0, "Mosaic accumulators larger than this live in a disk memmap.", low=1.0)
    mosaic_background: str = _key(
        "motion", "Phase 5.5: remove the light-pollution gradient left in the assembled mosaic, per channel, then "
        "neutralise the sky (R and B brought to green's). 'motion' (default): the gradient is told from the sky "
        "by the frames' own motion: every frame stacked in this run gets its own plane in its own pixels, fitted "
        "jointly with one common sky on the mosaic grid; the frames of a tile share one camera gradient, so their "
        "field rotation (Alt-Az) fixes the sky's plane; the mosaic's smooth difference to that common sky (a cubic) "
        "is removed. Without rotation (equatorial: dithers only) or without frames (existing master tiles, GRID, "
        "SDS) it falls back to 'plane', said in the log. 'plane': the lower envelope of the mosaic's sky (only the "
        "darkest cells steer it, a nebula that fills the field tilts it), 'surface' (cubic lower envelope: follows "
        "curved gradients, bends into the faint floor of a large nebula) or 'none'. The model subtracted is the "
        "BACKGROUND extension of mosaic.fits; docs/guide/sky_background.rst.",
        choices=("none", "plane", "surface", "motion"))
    mosaic_max_memory_mb: float = _key(
        16384.0, "Stop before allocating the mosaic when its memory estimate (H x W x (2 x channels + 1) x 4 "
        "bytes: accumulators and the written copy) exceeds this many MB; 0 = no limit.", low=0.0)
    mosaic_min_covered_frac: float = _key(
        0.05, "Stop before allocating the mosaic when the tiles cover less than this fraction of its grid "
        "(frames of distant targets in one folder), unless allow_sparse_mosaic is true.", low=0.0, high=1.0)
    allow_sparse_mosaic: bool = _key(
        False, "Build the mosaic even when it is mostly empty (below mosaic_min_covered_frac).")
    colour_calibration: str = _key(
        "stars", "Phase 5.6: white-balance the mosaic on its stars: 'stars' (default: isolated, unsaturated stars "
        "measured in R, G and B; their average colour made white, the sky's neutral point kept; a factor within "
        "its noise or 2 % of 1 is left at 1; factors in the header, COLFAC1..3) or 'none' (the sensor's colour "
        "balance).", choices=("none", "stars"))
    colour_catalogue: str = _key(
        "", "Table of stars with a colour (CSV/ECSV/FITS: columns ra, dec in degrees and bv = B-V, or Tycho-2 BT "
        "and VT) for colour_calibration=stars: the white reference is then the solar-type stars (B-V 0.55-0.75) "
        "matched in the mosaic instead of the average star. Empty (default): the average star.")
    # --- outputs -----------------------------------------------------------------------------
    keep_master_tiles: bool = _key(True, "Keep master_tiles/ in the output folder.")
    write_preview: bool = _key(True, "Write mosaic_preview.png.")
    output_scale: str = _key(
        "adu", "Pixel values of mosaic.fits: 'adu' (the frames' ADU, linear; BUNIT='ADU'; what photometry, "
        "astropy and SWarp take as they are) or 'unit' (divided by the mosaic's brightest value so that it "
        "peaks at 1, as Siril and PixInsight expect of float images; ADUSCALE gives the factor back to ADU). "
        "Default 'adu': the values stay those of the frames, with nothing lost.",
        choices=("adu", "unit"))
    output_fill_value: str = _key(
        "nan", "Value written in mosaic.fits where nothing was covered: 'nan' (default: tools that skip NaN "
        "tell it from data) or a number such as 0 for tools whose statistics stop at NaN; the WEIGHT extension "
        "is 0 there either way.")
    export_formats: list = _key(
        [], "Extra exports of the mosaic for image editors (`zemosaic run --export tiff16,png16,tiff32`): any of "
        "'tiff16' (mosaic.tif) and 'png16' (mosaic.png), 16-bit, and 'tiff32' (mosaic_float32.tif, float in "
        "[0, 1], linear); deflate-compressed, an alpha channel from WEIGHT, first FITS row at the bottom.")
    export_stretch: bool = _key(
        True, "Apply the preview's automatic stretch to the 16-bit exports, tagged sRGB (default: an editor shows "
        "them as the preview); false: linear (black at the mosaic's minimum, white at its maximum) tagged with a "
        "linear ICC profile.")
    output_presets: list = _key(
        [], "Also write the mosaic as a named tool takes it (`zemosaic run --preset siril --preset swarp`): any "
        "of 'siril' (mosaic_siril.fits: one HDU, 3 planes, unit scale, 0 fill), 'pixinsight' "
        "(mosaic_pixinsight.fits, the same layout), 'astropy' (mosaic_astropy_R/G/B.fits: 2D, 2D WCS, WEIGHT, "
        "MASK) and 'swarp' (mosaic_swarp_R/G/B.fits + .weight.fits). The GUI's preset boxes set this key.")
    output_crop: str = _key(
        "covered", "Framing of every product: 'none' (the whole grid), 'covered' (default: empty rows and "
        "columns trimmed, no data lost) or 'rectangle' (the largest rectangle whose pixels all hold data with at "
        "least the tiles' alpha threshold, altaz_alpha_soft_threshold, relative to the median weight; the "
        "staircase edge is cut off). The WCS follows.", choices=("none", "covered", "rectangle"))


def config_keys() -> tuple[str, ...]:
    """Names of every configuration key, in definition order."""
    return tuple(f.name for f in dataclasses.fields(ZeMosaicConfig))


def describe_keys() -> list[tuple[str, Any, str]]:
    """(key, default, documentation) for every key; used by ``--help`` and the README."""
    out = []
    for f in dataclasses.fields(ZeMosaicConfig):
        # a field has a default or a default factory, never both (dataclasses refuses that)
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        out.append((f.name, default, f.metadata["doc"]))
    return out


def resolve_config(
    base: Mapping[str, Any] | None = None,
    *,
    config_file: str | Path | None = None,
    overrides: Sequence[str] | Mapping[str, Any] = (),
) -> ZeMosaicConfig:
    """Merge defaults, a mapping, a JSON file and ``key=value`` overrides into one validated config.

    Parameters
    ----------
    base : mapping, optional
        ``{key: value}`` over the defaults.
    config_file : path, optional
        A JSON file of ``{key: value}`` (``zemosaic run --config``), over ``base``.
    overrides : sequence of str or mapping
        ``"key=value"`` strings (``--set``; the value parsed for the key's type) or a mapping, applied last.

    Returns
    -------
    ZeMosaicConfig
        Every key of the run, validated (frozen).

    Raises
    ------
    ConfigError
        Unknown key (the message suggests the closest valid key), a value of the wrong type or
        outside its allowed range, or an unreadable JSON file.

    Examples
    --------
    >>> from zemosaic import resolve_config
    >>> cfg = resolve_config(overrides=["altaz_min_coverage_frac=0.5", "max_workers=2"])
    >>> cfg.altaz_min_coverage_frac, cfg.max_workers, cfg.stack_rejection_algorithm
    (0.5, 2, 'winsorized_sigma_clip')
    >>> resolve_config(overrides=["altaz_min_coverage_fracc=0.5"])
    Traceback (most recent call last):
    ...
    zemosaic.config.ConfigError: unknown configuration key 'altaz_min_coverage_fracc'; did you mean ...?
    """
    values: dict[str, Any] = {}
    if base:
        values.update(_validated_items(base.items(), source="mapping"))
    if config_file is not None:
        values.update(_validated_items(read_config_json(config_file).items(), source=str(config_file)))
    if isinstance(overrides, Mapping):
        values.update(_validated_items(overrides.items(), source="override"))
    else:
        values.update(_validated_items((parse_override(o) for o in overrides), source="--set"))
    cfg = ZeMosaicConfig(**values)
    _check_consistency(cfg)
    return cfg


def as_config(config: ZeMosaicConfig | Mapping[str, Any] | None) -> ZeMosaicConfig:
    """``config`` as a validated :class:`ZeMosaicConfig`: the defaults for None, itself when it already is
    one, else the mapping resolved over the defaults (:func:`resolve_config`)."""
    if config is None:
        return resolve_config()
    if isinstance(config, ZeMosaicConfig):
        return config
    return resolve_config(base=config)


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``key=value`` and parse the value for that key's type."""
    if "=" not in text:
        raise ConfigError(f"--set expects key=value, got {text!r}")
    key, raw = (part.strip() for part in text.split("=", 1))
    spec = _field(key)
    return key, _parse_text(spec, raw)


# ----------------------------------------------------------------------------------------------
def read_config_json(path: str | Path) -> dict:
    """The flat ``{key: value}`` object of a JSON configuration file (not validated: keys may be another
    program's). Raises :class:`ConfigError` naming the file when it is missing, not JSON or not an object."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path}: not found") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"config file {path}: invalid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: the top level must be an object of key: value")
    return data


def _field(key: str) -> dataclasses.Field:
    fields = {f.name: f for f in dataclasses.fields(ZeMosaicConfig)}
    if key in fields:
        return fields[key]
    close = difflib.get_close_matches(key, fields.keys(), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ConfigError(f"unknown configuration key {key!r}{hint}")


def _validated_items(items: Iterable[tuple[str, Any]], source: str) -> dict[str, Any]:
    return {key: _validated_value(_field(key), value) for key, value in items}


_TYPES = typing.get_type_hints(ZeMosaicConfig)


def _parse_text(spec: dataclasses.Field, raw: str) -> Any:
    kind = _TYPES[spec.name]
    if kind is str:
        return raw
    if kind is bool:
        low = raw.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{spec.name}: expected true/false, got {raw!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        example = " (write a list as JSON, e.g. [0.05, 0.05] or [])" if kind is list else ""
        raise ConfigError(f"{spec.name}: cannot parse {raw!r} as {kind.__name__}{example}") from exc
    return value


def _validated_value(spec: dataclasses.Field, value: Any) -> Any:
    name, kind, meta = spec.name, _TYPES[spec.name], spec.metadata
    if name == "altaz_cleanup_enabled" and isinstance(value, bool):
        value = "true" if value else "false"
    if name == "output_fill_value" and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = repr(float(value))  # a number in a JSON file or a mapping
    if kind is bool and not isinstance(value, bool):
        raise ConfigError(f"{name}: expected true/false, got {value!r}")
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ConfigError(f"{name}: expected an integer, got {value!r}")
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{name}: expected a number, got {value!r}")
        value = float(value)
    if kind is str and not isinstance(value, str):
        raise ConfigError(f"{name}: expected a string, got {value!r}")
    if kind is list and not isinstance(value, (list, tuple)):
        raise ConfigError(f"{name}: expected a list, got {value!r}")
    if "choices" in meta and value not in meta["choices"]:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(meta['choices'])}")
    if "low" in meta and value < meta["low"]:
        raise ConfigError(f"{name}: {value!r} is below the minimum {meta['low']}")
    if "high" in meta and value > meta["high"]:
        raise ConfigError(f"{name}: {value!r} is above the maximum {meta['high']}")
    return list(value) if kind is list else value


def _check_consistency(cfg: ZeMosaicConfig) -> None:
    lo, hi = (cfg.stack_winsor_limits + [None, None])[:2]
    if len(cfg.stack_winsor_limits) != 2 or not all(isinstance(v, (int, float)) and 0 <= v < 0.5 for v in (lo, hi)):
        raise ConfigError("stack_winsor_limits: expected two fractions in [0, 0.5), e.g. [0.05, 0.05]")
    if not all(isinstance(t, int) and not isinstance(t, bool) for t in cfg.debug_tile_ids):
        raise ConfigError("debug_tile_ids: expected a list of integer tile ids")
    try:
        float(cfg.output_fill_value)
    except ValueError:
        raise ConfigError(f"output_fill_value: expected a number or 'nan', got {cfg.output_fill_value!r}") from None
    unknown = [f for f in cfg.export_formats if f not in EXPORT_FORMATS]
    if unknown:
        raise ConfigError(f"export_formats: {unknown[0]!r} is not one of {', '.join(EXPORT_FORMATS)}")
    unknown = [p for p in cfg.output_presets if p not in OUTPUT_PRESETS]
    if unknown:
        raise ConfigError(f"output_presets: {unknown[0]!r} is not one of {', '.join(OUTPUT_PRESETS)}")
    rules = ("fwhm", "elongation", "transparency", "sky", "stars")
    unknown_rules = [r for r in cfg.frame_reject_rules if r not in rules]
    if unknown_rules:
        raise ConfigError(f"frame_reject_rules: {unknown_rules[0]!r} is not one of fwhm, elongation, transparency, "
                          "sky, stars")
    if cfg.altaz_nanize_threshold > cfg.altaz_alpha_soft_threshold:
        raise ConfigError(
            "altaz_nanize_threshold: must not exceed altaz_alpha_soft_threshold "
            f"({cfg.altaz_nanize_threshold} > {cfg.altaz_alpha_soft_threshold}): a pixel kept as a soft "
            "alpha would otherwise be NaN in the tile")
