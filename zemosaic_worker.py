"""``zemosaic_worker``: the original ZeMosaic's worker module name, kept for the scripts and tests written for it.

A thin seam over :mod:`zemosaic.pipeline`: every name below is the package's own object. The mission's
hand-off points keep their names and signatures: ``run_mosaic``, ``create_master_tile`` and
``_apply_lecropper_pipeline(arr, cfg)`` (new parameters keyword-only and optional).
"""
from zemosaic.masks import edge_trim_rect
from zemosaic.pipeline.master_tile import (
    MasterTileResult,
    ScannedFrame,
    _apply_lecropper_pipeline,
    create_master_tile,
    crop_wcs,
    resolve_cleanup,
)
from zemosaic.pipeline.run import (
    NothingUsableError,
    RunFolderError,
    RunResult,
    prepare_output_folder,
    run_mosaic,
    scan_input_folder,
)

__all__ = [
    "NothingUsableError",
    "RunFolderError",
    "RunResult",
    "MasterTileResult",
    "ScannedFrame",
    "run_mosaic",
    "prepare_output_folder",
    "scan_input_folder",
    "create_master_tile",
    "resolve_cleanup",
    "edge_trim_rect",
    "crop_wcs",
    "_apply_lecropper_pipeline",
]
