"""Plate solving for frames that carry no WCS (real Seestar sub-frames): hints, local solvers, cache.

``hints``            pointing and pixel scale from the header (RA/DEC or OBJCTRA/OBJCTDEC, FOCALLEN/XPIXSZ)
``solvers``          astrometry.net in-process, ``solve-field``, ASTAP, chosen by ``plate_solver``; never a web service
``refine``           the final TAN fit on all matched stars, with its residual
``index_catalogue``  the stars of astrometry.net index files in a cone (for tests and the synthetic generator)
``cache``            solutions cached by file content in the output folder (or a shared folder)

Phase 1b, one WCS for every frame of a run with as few solves as possible, is the pipeline's
(:mod:`zemosaic.pipeline.frame_wcs`): it groups frames with Phase 2's clustering.
"""
