"""One registration and one read per frame: a master tile reads each FITS file once, reads each frame back from its
disk cache once (the warp; the reference once more), and registers its frames from their WCS without astroalign."""
from __future__ import annotations

from collections import Counter

import numpy as np

import zemosaic_worker as worker
from zemosaic.config import resolve_config
from zemosaic.io import fits as fits_io
from zemosaic.pipeline import master_tile
from zemosaic.pipeline.report import RunReport
from zemosaic.stack.frame_cache import FrameCache
from zemosaic.synthetic import generator as synthetic

SPEC = synthetic.SynthSpec(panels=(1, 1), frames_per_panel=6, width=240, height=360, pixel_scale_arcsec=4.8,
                           rotation_drift_deg=30.0, seed=12, nebula=False)


def test_each_frame_is_read_once_from_disk_and_once_from_the_cache(tmp_path, monkeypatch):
    synthetic.generate_dataset(tmp_path / "in", SPEC)
    frames = worker.scan_input_folder(tmp_path / "in", RunReport("", "", "test", {}))
    files, cache_reads, caches = Counter(), Counter(), []
    read_pixels, cache_read, cache_init = fits_io.read_frame_pixels, FrameCache.read, FrameCache.__init__

    def counting_pixels(path, **kw):
        files[path.name] += 1
        return read_pixels(path, **kw)

    def counting_init(self, *args, **kw):
        cache_init(self, *args, **kw)
        caches.append((kw.get("name"), self))

    def counting_read(self, index):
        cache_reads[(id(self), index)] += 1
        return cache_read(self, index)

    monkeypatch.setattr(fits_io, "read_frame_pixels", counting_pixels)
    monkeypatch.setattr(FrameCache, "__init__", counting_init)
    monkeypatch.setattr(FrameCache, "read", counting_read)
    result = master_tile.create_master_tile(frames, 0, resolve_config(), tmp_path / "tiles")

    assert result.path is not None and result.report.frames_used == 6
    assert sorted(files.values()) == [1] * 6  # every FITS file read (and debayered) once
    raw = next(cache for name, cache in caches if name == "raw")
    per_slot = [cache_reads[(id(raw), k)] for k in range(6)]
    # every frame is read back once, by the warp; the reference (slot 0) once more, when the transforms are
    # measured against its stars and spectrum (it is not kept in RAM between the two passes)
    assert per_slot == [2, 1, 1, 1, 1, 1], per_slot
    methods = Counter(f["method"] for f in result.report.frames)
    assert methods == {"reference": 1, "wcs": 5}, methods
    assert all(np.isfinite(f["rotation_deg"]) for f in result.report.frames if f["method"] == "wcs")


def test_the_read_ahead_yields_every_frame_once_in_order_whatever_the_group_size(monkeypatch):
    """Frames are read and measured two at a time in threads: groups of 0 to 5 frames (a 1-frame group once lost
    its frame to an empty queue) come back complete and in order, even when a later frame finishes first."""
    import time

    def fake_load(path, cfg, shape):
        time.sleep(0.02 if int(path) % 2 == 0 else 0.0)  # odd frames finish before the even one ahead of them
        return path, None, None

    monkeypatch.setattr(master_tile, "_load_and_measure", fake_load)
    cfg = resolve_config()
    for n in range(6):
        paths = [str(k) for k in range(n)]
        got = [data for data, _, _ in master_tile._read_ahead(paths, cfg, (4, 4))]
        assert got == paths
