"""The run, phase by phase (what is decided, logged and recorded; the maths lives in the capability packages).

``run``            :func:`~zemosaic.pipeline.run.run_mosaic`: folders, Phase 1 scan, Phase 1b WCS (plate solving),
                   Phase 2 clustering, Phase 3 over the groups, then the mosaic phases
``frame_wcs``      Phase 1b: one WCS for every frame (header, cache, or a plate solve per field carried to the others)
``clustering``     Phase 2: frames grouped by sky position and mount mode into master-tile groups
``master_tile``    Phase 3: :func:`~zemosaic.pipeline.master_tile.create_master_tile` and the mission's
                   ``_apply_lecropper_pipeline`` (coverage-driven alpha, edge trim)
``mosaic_phases``  Phases 4 to 6: grid, harmony, co-addition, outputs
``report``         the run report (``run_report.json``) and the run's log file
"""
