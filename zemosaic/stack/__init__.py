"""The master-tile stack, one module per job.

``cpu``          :func:`~zemosaic.stack.cpu.stack_aligned_images`: mask-aware normalisation, weighting, rejection and
                 combine over row chunks (numba kernels); missing pixels never count as zeros
``gpu``          the CuPy twin with the same contract and results, CPU fallback (also importable as
                 ``zemosaic_align_stack_gpu``); its array-module code: ``gpu_xp`` (sorting network, bisections,
                 medians), ``gpu_reject`` (rejection, combine), ``gpu_normalize`` (noise, background fits, chunk
                 normalisation), ``gpu_pipeline`` (chunk plan, pinned-buffer uploads overlapped with work)
``options``      :class:`~zemosaic.stack.options.StackOptions`, the validated stack settings, and the method names
``coverage``     :class:`~zemosaic.stack.coverage.CoverageAccumulator`: per-pixel count of contributing frames
``frame_cache``  the disk memmap cache that keeps a group's RAM flat in its number of frames
"""
