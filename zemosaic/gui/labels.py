"""The words of the settings panel: each configuration key's plain label and one-line explanation, the sections
a user decides in (Input, Plate solving, Frames, Stacking, Tiles and mask, Mosaic, Output) with their expert keys
folded, and the names of the choices a box offers. Qt-free (the window translates these English source strings,
context ``Settings``); ``tests/gui/test_labels.py`` checks that every key of the registry has its words here.
"""
from __future__ import annotations

__all__ = ["LABELS", "PRESET_TITLES", "SECTIONS", "CHOICE_LABELS", "TR_CONTEXT", "section_of", "label", "choice_label"]

TR_CONTEXT = "Settings"
"""The translation context of every string of this module."""

# (section title, the keys shown, the expert keys folded under "More settings")
SECTIONS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("Input", ("mode", "use_existing_master_tiles_mode", "input_recursive"),
     ("wcs_scale_tolerance",)),
    ("Plate solving", ("wcs_source", "plate_solver", "solve_search_radius_deg", "astap_path"),
     ("solver_index_dirs", "astap_database_dir", "solve_timeout_s", "solve_blind_budget_s",
      "hint_pixel_scale_arcsec", "solve_strategy", "wcs_cache_dir", "write_wcs_sidecars")),
    ("Frames", ("frame_reject_enabled", "frame_reject_rules", "frame_partial_enabled", "frame_exclude"),
     ("frame_reject_fwhm_k", "frame_reject_fwhm_max_px", "frame_reject_elongation_k", "frame_reject_elongation_max",
      "frame_reject_transparency_k", "frame_reject_transparency_min", "frame_reject_sky_k",
      "frame_reject_sky_max_ratio", "frame_reject_stars_k", "frame_reject_stars_min_ratio",
      "frame_partial_transparency_min", "frame_partial_max_fraction", "frame_quality_cell_px")),
    ("Stacking", ("stack_rejection_algorithm", "stack_sigma_low", "stack_sigma_high", "stack_weighting_method",
                  "stack_normalize_method", "stack_final_combine", "max_workers", "use_gpu"),
     ("stack_winsor_limits", "stack_memory_budget_mb", "debayer_method", "align_detection_sigma", "align_min_area",
      "align_max_control_points", "background_poly_order", "background_flatten_reference",
      "background_flatten_order", "memory_budget_mb", "scheduler")),
    ("Tiles and mask", ("altaz_cleanup_enabled", "altaz_use_coverage", "altaz_min_coverage_abs",
                        "altaz_min_coverage_frac", "quality_crop_enabled", "master_tile_canvas"),
     ("master_tile_stack", "drizzle_scale", "drizzle_pixfrac", "cluster_threshold_fov_frac", "split_by_mount_mode",
      "max_frames_per_tile", "min_frames_per_tile",
      "separate_target_fov", "altaz_small_group_rule", "altaz_morph_open_px", "altaz_margin_percent",
      "altaz_decay_ratio", "altaz_alpha_soft_threshold", "altaz_nanize_threshold", "altaz_nanize_enabled",
      "mt_edge_trim_enabled", "mt_edge_trim_valid_frac", "debug_tile_ids")),
    ("Mosaic", ("harmonize_enabled", "mosaic_background", "colour_calibration", "assembly_reproject"),
     ("harmonize_plane", "assembly_tile_weight", "assembly_memmap_mb", "mosaic_max_memory_mb",
      "mosaic_min_covered_frac", "allow_sparse_mosaic", "colour_catalogue", "grid_tile_size_px", "grid_size_factor",
      "grid_overlap_fraction", "grid_min_frame_fraction", "sds_chunk_px", "sds_batch_gap_hours")),
    ("Output", ("export_formats", "export_stretch", "output_presets", "output_crop", "write_preview",
                "keep_master_tiles"),
     ("output_scale", "output_fill_value")),
)

PRESET_TITLES = {"seestar-altaz": "Seestar Alt-Az", "seestar-eq": "Seestar equatorial",
                 "quick-look": "Quick look", "best-quality": "Best quality"}
"""The names the window gives the run presets (:data:`zemosaic.config.RUN_PRESETS`, ``zemosaic run --preset``)."""

# key: (label, one-line explanation)
LABELS: dict[str, tuple[str, str]] = {
    # Input
    "mode": ("How to build the mosaic", "Master tiles (default), a regular grid, or frames stacked straight onto "
             "the mosaic."),
    "use_existing_master_tiles_mode": ("The folder holds master tiles", "Use finished master tiles as they are: "
                                       "no scan, grouping or stacking."),
    "input_recursive": ("Look in subfolders too", "Also take the frames of the input folder's subfolders."),
    "wcs_scale_tolerance": ("Pixel-scale tolerance", "Reject a frame whose scale differs this much (fraction) "
                            "from its group's."),
    # Plate solving
    "wcs_source": ("Frame positions from", "The header's astrometry when present, else a plate solve; or always "
                   "one of them."),
    "plate_solver": ("Plate solver", "Which installed solver finds where each frame points."),
    "solve_search_radius_deg": ("Search radius (degrees)", "How far around the telescope's pointing the solver "
                                "looks."),
    "astap_path": ("ASTAP program", "Where ASTAP is installed (empty: found automatically)."),
    "solver_index_dirs": ("Index folders", "Folders of astrometry.net index files (empty: the usual places)."),
    "astap_database_dir": ("ASTAP star database", "Folder of ASTAP's star database (empty: ASTAP's default)."),
    "solve_timeout_s": ("Time limit per solve (s)", "Longest time one plate solve may take."),
    "solve_blind_budget_s": ("Blind-solve budget (s)", "Time a run may spend on frames with no pointing in their "
                             "header."),
    "hint_pixel_scale_arcsec": ("Pixel scale hint (arcsec)", "Pixel scale for frames whose header gives none "
                                "(0: search widely)."),
    "solve_strategy": ("Solve each frame or each field", "Solve every frame, or one per field and carry it to the "
                       "others."),
    "wcs_cache_dir": ("Plate-solution cache", "Folder of saved solutions, reusable between runs (empty: in the "
                      "output folder)."),
    "write_wcs_sidecars": ("Write .wcs files", "Also save each frame's solution as a .wcs file in the output."),
    # Frames
    "frame_reject_enabled": ("Reject poor frames", "Leave out frames that fail a quality rule; the reason is "
                             "reported."),
    "frame_reject_rules": ("Quality rules", "Which measures may reject a frame."),
    "frame_partial_enabled": ("Cut clouds and obstacles", "Leave out only the dimmed part of a frame."),
    "frame_exclude": ("Frames never stacked", "A file naming frames to leave out (the Frames tab writes one)."),
    "frame_reject_fwhm_k": ("Blur limit (sigmas)", "Reject stars blurrier than the group's by this many "
                            "sigmas (0: off)."),
    "frame_reject_fwhm_max_px": ("Blur limit (pixels)", "Reject frames whose star size exceeds this (0: none)."),
    "frame_reject_elongation_k": ("Trailing limit (sigmas)", "Reject stars more elongated than the group's by "
                                  "this many sigmas."),
    "frame_reject_elongation_max": ("Trailing limit", "Reject frames whose stars are more elongated than this."),
    "frame_reject_transparency_k": ("Transparency limit (sigmas)", "Reject frames dimmer than the group's by "
                                    "this many sigmas."),
    "frame_reject_transparency_min": ("Lowest transparency", "Reject frames keeping less than this fraction of "
                                      "the star light."),
    "frame_reject_sky_k": ("Bright-sky limit (sigmas)", "Reject frames whose sky is brighter than the group's by "
                           "this many sigmas."),
    "frame_reject_sky_max_ratio": ("Bright-sky limit (ratio)", "Reject frames whose sky exceeds this many times "
                                   "the group's (0: none)."),
    "frame_reject_stars_k": ("Star-count limit (sigmas)", "Reject frames with fewer stars than the group's by "
                             "this many sigmas."),
    "frame_reject_stars_min_ratio": ("Fewest stars (ratio)", "Reject frames with fewer than this fraction of the "
                                     "group's stars."),
    "frame_partial_transparency_min": ("Region transparency limit", "A region keeping less than this fraction of "
                                       "the star light is left out."),
    "frame_partial_max_fraction": ("Largest part left out", "A frame losing more than this fraction is rejected "
                                   "whole."),
    "frame_quality_cell_px": ("Region size (pixels)", "Size of the regions judged for clouds and obstacles."),
    # Stacking
    "stack_rejection_algorithm": ("Outlier rejection", "How satellite trails, planes and hot pixels are removed."),
    "stack_sigma_low": ("Low rejection (sigma)", "Pixels this far below the others are rejected."),
    "stack_sigma_high": ("High rejection (sigma)", "Pixels this far above the others are rejected."),
    "stack_weighting_method": ("Frame weights", "How much each frame counts in the stack."),
    "stack_normalize_method": ("Frame normalisation", "How each frame's sky is matched to the reference before "
                               "stacking."),
    "stack_final_combine": ("Combine with", "Weighted mean (less noise) or median."),
    "max_workers": ("Tiles at the same time", "Master tiles built in parallel (0: one per core)."),
    "use_gpu": ("Use the graphics card", "Stack on an NVIDIA GPU when one is available."),
    "stack_winsor_limits": ("Winsorisation limits", "Low and high fractions clipped by winsorised rejection."),
    "stack_memory_budget_mb": ("Stacking memory (MB)", "Memory one stack may use at a time."),
    "debayer_method": ("Debayering", "How colour is rebuilt from the sensor's Bayer pattern."),
    "align_detection_sigma": ("Star detection threshold", "How far above the sky (in sigmas) a star must rise."),
    "align_min_area": ("Smallest star (pixels)", "Fewest connected pixels that make a star."),
    "align_max_control_points": ("Stars matched", "Most stars used to align two frames."),
    "background_poly_order": ("Sky matching order", "Shape of the sky difference removed per frame (0: flat, "
                              "1: tilt...)."),
    "background_flatten_reference": ("Flatten the reference", "Also remove the reference frame's own gradient."),
    "background_flatten_order": ("Flattening order", "Shape of that gradient (a plane keeps large nebulae)."),
    "memory_budget_mb": ("Memory for parallel tiles (MB)", "Memory the tiles built together may take (0: 3/4 of "
                         "the free memory)."),
    "scheduler": ("Cluster", "Build tiles on a dask cluster: empty (this computer), local, or an address."),
    # Tiles and mask
    "altaz_cleanup_enabled": ("Alt-Az edge cleanup", "Fade out tile edges that too few frames cover (on for "
                              "Alt-Az mounts)."),
    "altaz_use_coverage": ("Use the frame count", "Decide the edges from how many frames cover each pixel."),
    "altaz_min_coverage_abs": ("Fewest frames per pixel", "A kept pixel needs at least this many frames."),
    "altaz_min_coverage_frac": ("Fewest frames (fraction)", "Or this fraction of the tile's best coverage."),
    "quality_crop_enabled": ("Crop bad borders", "Crop dark or colour-cast bands at the tile edges."),
    "master_tile_canvas": ("Tile size", "A tile covers the whole group's sky, or only its reference frame."),
    "master_tile_stack": ("Colour from raw frames", "Debayer each frame, or drop each raw colour sample (CFA "
                          "drizzle)."),
    "drizzle_scale": ("Drizzle sampling", "Output pixels per raw pixel a side for CFA drizzle."),
    "drizzle_pixfrac": ("Drizzle drop size", "Size of a raw pixel's drop, in raw pixels."),
    "cluster_threshold_fov_frac": ("Grouping distance", "Frames closer than this fraction of a field share a "
                                   "tile."),
    "split_by_mount_mode": ("Keep mount types apart", "Never mix Alt-Az and equatorial frames in one tile."),
    "max_frames_per_tile": ("Most frames per tile", "Larger groups are split in time."),
    "min_frames_per_tile": ("Fewest frames per tile", "Smaller groups are skipped."),
    "separate_target_fov": ("Separate target distance", "Groups farther than this many fields are another "
                            "target."),
    "altaz_small_group_rule": ("Small groups", "How the frame count limit meets a tile of few frames."),
    "altaz_morph_open_px": ("Mask smoothing (pixels)", "Removes specks from the coverage mask."),
    "altaz_margin_percent": ("Feather width (%)", "Width of the faded edge, in percent of the tile's short side."),
    "altaz_decay_ratio": ("Feather steepness", "How quickly the edge fades."),
    "altaz_alpha_soft_threshold": ("Masked below", "Mask values at or below this count as masked."),
    "altaz_nanize_threshold": ("Blank below", "Tile pixels whose mask is at or below this are written blank."),
    "altaz_nanize_enabled": ("Blank masked pixels", "Write blank (NaN) where a tile is fully masked."),
    "mt_edge_trim_enabled": ("Trim empty edges", "Peel tile rows and columns that are almost fully masked."),
    "mt_edge_trim_valid_frac": ("Edge trim limit", "A row is peeled while less than this fraction is kept."),
    "debug_tile_ids": ("Debug tiles", "Tile numbers whose alignment is logged in detail."),
    # Mosaic
    "harmonize_enabled": ("Match tile brightness", "Even out the tiles' brightness where they overlap."),
    "mosaic_background": ("Remove light pollution", "Subtract the sky gradient left in the mosaic."),
    "colour_calibration": ("Colour balance", "White-balance the mosaic on its stars."),
    "assembly_reproject": ("Resampling", "Fast bilinear, or flux-conserving (slower)."),
    "harmonize_plane": ("Match tile gradients", "Also even out a tilt per tile."),
    "assembly_tile_weight": ("Tile weight", "Weight tiles by their number of frames, or equally."),
    "assembly_memmap_mb": ("Disk buffer above (MB)", "A mosaic larger than this is assembled on disk."),
    "mosaic_max_memory_mb": ("Largest mosaic (MB)", "Stop before building a mosaic that needs more memory "
                             "(0: no limit)."),
    "mosaic_min_covered_frac": ("Least filled mosaic", "Stop when the tiles fill less than this fraction of the "
                                "mosaic."),
    "allow_sparse_mosaic": ("Allow a sparse mosaic", "Build it even when it is mostly empty."),
    "colour_catalogue": ("Colour star catalogue", "A table of star colours for the balance (empty: the average "
                         "star)."),
    "grid_tile_size_px": ("Grid tile size (pixels)", "Side of a grid tile (0: from the frame size)."),
    "grid_size_factor": ("Grid tile size (frames)", "Grid tile side as a multiple of a frame's short side."),
    "grid_overlap_fraction": ("Grid overlap", "Overlap between neighbouring grid tiles (fraction)."),
    "grid_min_frame_fraction": ("Grid frame threshold", "A frame joins a grid tile covering at least this "
                                "fraction."),
    "sds_chunk_px": ("Chunk size (pixels)", "Side of the sky regions stacked one at a time."),
    "sds_batch_gap_hours": ("Session gap (hours)", "Frames further apart in time are stacked as separate "
                            "sessions."),
    # Output
    "export_formats": ("Export for image editors", "Also write 16-bit TIFF or PNG, or 32-bit TIFF."),
    "export_stretch": ("Stretch the exports", "Apply the preview's stretch (off: linear)."),
    "output_presets": ("Files for other software", "Also write the mosaic as Siril, PixInsight, astropy or SWarp "
                       "expect."),
    "output_crop": ("Framing", "Keep the whole grid, trim empty borders, or cut the largest full rectangle."),
    "write_preview": ("Write a preview picture", "Save mosaic_preview.png."),
    "keep_master_tiles": ("Keep the master tiles", "Keep master_tiles/ in the output folder."),
    "output_scale": ("Pixel values", "The frames' ADU, or scaled to peak at 1."),
    "output_fill_value": ("Empty pixels", "Value written where nothing was covered (nan or a number)."),
}

# (key, value): the name shown for a choice (values not listed are shown as they are)
CHOICE_LABELS: dict[tuple[str, str], str] = {
    ("mode", "auto"): "Automatic", ("mode", "tiles"): "Master tiles", ("mode", "grid"): "Regular grid",
    ("mode", "sds"): "Mosaic first (SDS)",
    ("wcs_source", "auto"): "Header, else plate solve", ("wcs_source", "header"): "Header only",
    ("wcs_source", "solve"): "Always plate solve",
    ("plate_solver", "auto"): "Automatic", ("plate_solver", "none"): "None",
    ("plate_solver", "astrometry"): "astrometry.net (built in)", ("plate_solver", "solve-field"):
    "solve-field (astrometry.net)", ("plate_solver", "astap"): "ASTAP",
    ("altaz_small_group_rule", "intersection"): "Every frame", ("altaz_small_group_rule", "all_but_one"):
    "All but one frame", ("altaz_small_group_rule", "fraction"): "Fraction only",
    ("assembly_tile_weight", "frames"): "By number of frames", ("assembly_tile_weight", "none"): "Equal",
    ("assembly_tile_weight", "coverage"): "By frames under each pixel",
    ("assembly_reproject", "lanczos3"): "Lanczos-3 (sharp stars)",
    ("master_tile_stack", "debayer"): "Debayer then stack", ("master_tile_stack", "cfa_drizzle"): "CFA drizzle",
    ("altaz_cleanup_enabled", "auto"): "Automatic (Alt-Az frames)", ("altaz_cleanup_enabled", "true"): "On",
    ("altaz_cleanup_enabled", "false"): "Off",
    ("mosaic_background", "none"): "None", ("mosaic_background", "plane"): "Plane (lower envelope)",
    ("mosaic_background", "surface"): "Curved surface",
    ("mosaic_background", "motion"): "From the frames' rotation (default)",
    ("colour_calibration", "none"): "None (sensor balance)", ("colour_calibration", "stars"): "On the stars",
    ("assembly_reproject", "interp"): "Bilinear (fast)", ("assembly_reproject", "adaptive"): "Flux-conserving",
    ("output_crop", "none"): "Whole grid", ("output_crop", "covered"): "Trim empty borders",
    ("output_crop", "rectangle"): "Largest full rectangle",
    ("stack_rejection_algorithm", "none"): "None", ("stack_rejection_algorithm", "kappa_sigma"): "Sigma clipping",
    ("stack_rejection_algorithm", "winsorized_sigma_clip"): "Winsorised sigma clipping",
    ("stack_rejection_algorithm", "linear_fit_clip"): "Linear fit clipping",
    ("stack_weighting_method", "none"): "Equal", ("stack_weighting_method", "noise_variance"): "By noise",
    ("stack_weighting_method", "psf_snr"): "By noise and sharpness",
    ("stack_normalize_method", "none"): "None", ("stack_normalize_method", "additive"): "Additive",
    ("stack_normalize_method", "multiplicative"): "Multiplicative",
    ("stack_normalize_method", "linear_fit"): "Linear fit",
    ("stack_normalize_method", "background_match"): "Sky surface match",
    ("stack_final_combine", "mean"): "Mean", ("stack_final_combine", "median"): "Median",
    ("master_tile_canvas", "group"): "The group's sky", ("master_tile_canvas", "reference"): "The reference frame",
    ("debayer_method", "edge_aware"): "Edge-aware", ("debayer_method", "bilinear"): "Bilinear",
    ("solve_strategy", "auto"): "Automatic", ("solve_strategy", "per_field"): "One per field",
    ("solve_strategy", "every_frame"): "Every frame",
    ("output_scale", "adu"): "ADU (linear)", ("output_scale", "unit"): "Peak at 1",
}


def section_of(key: str) -> tuple[str, bool]:
    """(section title, expert?) of ``key``; KeyError for a key of no section."""
    for title, shown, expert in SECTIONS:
        if key in shown:
            return title, False
        if key in expert:
            return title, True
    raise KeyError(key)


def label(key: str) -> tuple[str, str]:
    """(label, explanation) of ``key`` (English source strings)."""
    return LABELS[key]


def choice_label(key: str, value: object) -> str:
    """The name shown for choice ``value`` of ``key`` (the value itself when it has none)."""
    return CHOICE_LABELS.get((key, str(value)), str(value))
