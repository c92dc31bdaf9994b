"""A disk cache of same-shape frames (one ``.npy`` memmap per cache) so a group's RAM does not grow
with its number of frames: frames are written into slots as they are loaded or aligned, and read
back row chunk by row chunk by the stacker.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["FrameCache"]

log = logging.getLogger(__name__)


class FrameCache:
    """``n`` float32 frames of one shape in a temporary memmap under ``parent``.

    ``cache[i] = array`` stores a frame; ``cache[i]`` returns a memmap view (no copy in RAM).
    Use as a context manager: the files are deleted on exit.
    """

    def __init__(self, n_frames: int, frame_shape: tuple[int, ...], parent: Path | None = None, name: str = "frames"):
        self._dir = Path(tempfile.mkdtemp(prefix=f"zemosaic_{name}_", dir=parent))
        self.path = self._dir / f"{name}.npy"
        self.shape = (int(n_frames),) + tuple(int(s) for s in frame_shape)
        self._array = np.lib.format.open_memmap(self.path, mode="w+", dtype=np.float32, shape=self.shape)
        log.debug("frame cache %s: %s float32 (%.1f MB on disk)", self.path, self.shape, self._array.nbytes / 2**20)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: int) -> np.ndarray:
        return self._array[index]

    def __setitem__(self, index: int, frame: np.ndarray) -> None:
        self._array[index] = frame

    def close(self) -> None:
        """Drop the memmap and delete its files."""
        if self._array is not None:
            del self._array
            self._array = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> "FrameCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
