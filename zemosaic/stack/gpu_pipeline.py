"""Moving the frames to the device chunk by chunk, with transfers overlapped with work.

A stack is cut into row chunks (:func:`plan_chunks`). Each chunk of every frame travels as one *piece*
(``frames[i][r0:r1]`` and its mask rows) into a device *slot*, ``(n, rows, W, C)``:

* **resident**: when the whole stack and the working memory of one chunk fit in the device's free memory,
  there is one slot per chunk; every upload is issued at once, before the normalisation fits, so the frames
  stream to the device while the fits and the first chunks are computed, and nothing is ever re-sent;
* **streaming**: otherwise two slots alternate; the upload of chunk ``j + 1`` runs while chunk ``j`` is being
  rejected and combined, and a slot is overwritten only after the device has finished normalising the chunk
  it held (an event recorded on the compute stream, waited for on the copy stream).

:class:`CupyMover` does the host side in a small thread pool: a worker copies a piece into a pinned host buffer
(reading a memmap there, in parallel with the other workers), issues the asynchronous copy on its own CUDA
stream and returns the event that marks its completion; the compute stream waits for those events on the device
(``Stream.wait_event``), so the host never blocks on a transfer. :class:`HostMover` is the same contract for
NumPy: synchronous copies, no events, one slot; the chunk loop is the same code for both, and the tests drive it
with a deliberately slow asynchronous fake to check the ordering.
"""
from __future__ import annotations

import logging
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from zemosaic.stack.frame_cache import release_rows

__all__ = ["ChunkPlan", "plan_chunks", "HostMover", "CupyMover", "ChunkLoader", "WORK_BYTES_PER_SAMPLE"]

logger = logging.getLogger("zemosaic.stack.gpu")

#: Device bytes per sample of a chunk while it is worked on (measured peak of the NumPy twin, with margin):
#: normalised data (4), the sort input and output and the network's temporaries (16), the float64 prefix sums
#: and their temporary (24), validity, indices and the combine's sums (8).
WORK_BYTES_PER_SAMPLE = 56
#: Samples per chunk the device path aims for, memory permitting. The rejection issues some 10,000 kernel
#: launches per chunk whatever its size (most on the few columns still changing after the first round), so a
#: chunk is as large as memory allows: a 50-frame 1080 x 1920 RGB stack (311 M samples, about 17 GB of work)
#: is one chunk on an 80 GB device, its upload overlapping the normalisation fits; smaller devices stream.
TARGET_CHUNK_SAMPLES = 400_000_000


@dataclass(frozen=True)
class ChunkPlan:
    """Row chunks of a stack and how many device slots hold them."""

    chunks: tuple
    n_slots: int
    resident: bool
    rows: int

    @property
    def n_chunks(self) -> int:
        return len(self.chunks)


def plan_chunks(n: int, shape: tuple, has_masks: bool, *, device_free: int | None, host_budget_mb: float,
                forced_rows: int | None = None, work_bytes: int | None = None,
                target_samples: int | None = None) -> ChunkPlan:
    """Chunk rows, slot count and residency.

    Parameters
    ----------
    n, shape
        Frame count and frame shape.
    has_masks : bool
        Masks travel with the frames (one byte per pixel).
    device_free : int or None
        Free device bytes; None for NumPy (host memory: ``host_budget_mb`` bounds the chunk, one slot).
    host_budget_mb : float
        ``memory_budget_mb`` of the stack.
    forced_rows : int, optional
        The ``chunk_rows`` option.
    work_bytes, target_samples : int, optional
        Device bytes per sample while a chunk is worked on, samples per chunk aimed at (default
        :data:`WORK_BYTES_PER_SAMPLE`, :data:`TARGET_CHUNK_SAMPLES`).
    """
    work_bytes = WORK_BYTES_PER_SAMPLE if work_bytes is None else work_bytes
    target_samples = TARGET_CHUNK_SAMPLES if target_samples is None else target_samples
    height, width = shape[:2]
    channels = shape[2] if len(shape) == 3 else 1
    samples_row = n * width * channels
    raw_row = samples_row * 4 + (n * width if has_masks else 0)
    work_row = samples_row * work_bytes
    if device_free is None:
        rows = forced_rows or max(1, int(float(host_budget_mb) * 2**20 // (raw_row + work_row)))
        rows = max(1, min(height, int(rows)))
        return ChunkPlan(_chunks(height, rows), 1, False, rows)
    usable = 0.8 * float(device_free)
    if forced_rows:
        rows = max(1, min(height, int(forced_rows)))
    else:
        by_memory = int(0.5 * usable // max(work_row + raw_row, 1))
        by_target = max(1, int(target_samples // max(samples_row, 1)))
        rows = max(1, min(height, by_memory, by_target))
        n_chunks = math.ceil(height / rows)
        rows = math.ceil(height / n_chunks)  # even chunks
    chunks = _chunks(height, rows)
    resident = height * raw_row + rows * work_row <= usable
    n_slots = len(chunks) if resident else min(2, len(chunks))
    return ChunkPlan(chunks, n_slots, resident, rows)


def _chunks(height: int, rows: int) -> tuple:
    return tuple((r0, min(height, r0 + rows)) for r0 in range(0, height, rows))


# --------------------------------------------------------------------------------------------------
# movers
# --------------------------------------------------------------------------------------------------

class HostMover:
    """NumPy "device": slots are host arrays, an upload is a synchronous copy, events are None."""

    name = "numpy"

    def __init__(self):
        self.xp = np

    def alloc(self, shape, dtype):
        return np.empty(shape, dtype)

    def upload(self, dst, read, after=None):
        """Copy ``read()`` into ``dst`` now; returns a completed token (None)."""
        np.copyto(dst, read(), casting="unsafe")
        _done(read)
        return None

    def wait(self, tokens) -> None:
        """Make the compute wait for the uploads (nothing to wait for on the host)."""

    def record(self):
        """A token marking the compute done so far (None: it is done)."""
        return None

    def compute_context(self):
        import contextlib

        return contextlib.nullcontext()

    def free_bytes(self) -> int | None:
        return None

    def close(self) -> None:
        pass


class CupyMover:
    """Pinned-buffer, multi-stream uploads for CuPy (see the module docstring).

    Parameters
    ----------
    cupy : module
    threads : int
        Host workers filling the pinned buffers (and reading memmaps); each has its own copy stream and two
        pinned buffers, used in turn.
    """

    name = "cupy"

    def __init__(self, cupy, threads: int = 8):
        self.xp = cupy
        self.cp = cupy
        self.device_id = cupy.cuda.runtime.getDevice()
        self.compute = cupy.cuda.Stream(non_blocking=True)
        self.pool = ThreadPoolExecutor(max_workers=max(1, int(threads)), thread_name_prefix="zemosaic-h2d")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._streams: list = []
        self._buffers: list = []
        import cupyx

        self._empty_pinned = cupyx.empty_pinned

    def alloc(self, shape, dtype):
        with self.compute:
            return self.cp.empty(shape, dtype)

    def upload(self, dst, read, after=None):
        """Schedule ``dst <- read()`` (a contiguous device array and a host-array factory); returns a future
        whose result is the CUDA event of the finished copy. ``after``: an event the copy must wait for (the
        slot's previous chunk released)."""
        return self.pool.submit(self._upload, dst, read, after)

    def _upload(self, dst, read, after):
        cp = self.cp
        with cp.cuda.Device(self.device_id):
            loc = self._local
            if not hasattr(loc, "stream"):
                loc.stream = cp.cuda.Stream(non_blocking=True)
                loc.buffers = [None, None]
                loc.events = [None, None]
                loc.turn = 0
                with self._lock:
                    self._streams.append(loc.stream)
            turn = loc.turn
            loc.turn ^= 1
            if loc.events[turn] is not None:
                loc.events[turn].synchronize()  # the copy that last used this pinned buffer is over
            nbytes = int(np.prod(dst.shape)) * np.dtype(dst.dtype).itemsize
            if loc.buffers[turn] is None or loc.buffers[turn].nbytes < nbytes:
                loc.buffers[turn] = self._empty_pinned((nbytes,), dtype=np.uint8)
                with self._lock:
                    self._buffers.append(loc.buffers[turn])  # alive until close(), after the streams are synced
            pinned = loc.buffers[turn][:nbytes].view(dst.dtype).reshape(dst.shape)
            np.copyto(pinned, read(), casting="unsafe")
            _done(read)
            if after is not None:
                loc.stream.wait_event(after)
            dst.set(pinned, stream=loc.stream)
            event = cp.cuda.Event(block=False, disable_timing=True)
            event.record(loc.stream)
            loc.events[turn] = event
            return event

    def wait(self, tokens) -> None:
        """Make the compute stream wait (on the device) for the uploads' events."""
        for token in tokens:
            self.compute.wait_event(token.result())

    def record(self):
        event = self.cp.cuda.Event(block=False, disable_timing=True)
        event.record(self.compute)
        return event

    def compute_context(self):
        return self.compute

    def free_bytes(self) -> int | None:
        pool = self.cp.get_default_memory_pool()
        free, _total = self.cp.cuda.runtime.memGetInfo()
        return int(free + pool.free_bytes())

    def close(self) -> None:
        """Wait for every upload issued (a slot must not be freed under a running copy)."""
        self.pool.shutdown(wait=True)
        for stream in self._streams:
            stream.synchronize()
        self.compute.synchronize()
        self._buffers.clear()


# --------------------------------------------------------------------------------------------------
# the chunk loader
# --------------------------------------------------------------------------------------------------

class ChunkLoader:
    """Uploads the raw row chunks of every frame (and mask) into the plan's slots, in chunk order.

    ``submit(j)`` schedules chunk ``j`` into slot ``j % n_slots`` (after that slot's release), ``get(j)`` returns
    its device views ``raw (n, rows, W, C)`` and ``mask (n, rows, W)`` (None when no frame has a mask) once the
    compute side waits for them, ``release(j)`` marks the slot reusable after the work issued so far.
    ``prime()`` submits as many chunks as there are slots.
    """

    def __init__(self, frames, masks, shape, plan: ChunkPlan, mover):
        self.frames, self.masks, self.plan, self.mover = frames, masks, plan, mover
        self.n = len(frames)
        self.height, self.width = shape[:2]
        self.channels = shape[2] if len(shape) == 3 else 1
        self.has_masks = any(m is not None for m in masks)
        slot_shape = (self.n, plan.rows, self.width, self.channels)
        self.slots = [mover.alloc(slot_shape, np.float32) for _ in range(plan.n_slots)]
        self.mask_slots: list = ([mover.alloc(slot_shape[:3], np.bool_) for _ in range(plan.n_slots)]
                                 if self.has_masks else [])
        self._released: dict = {}
        self._pending: dict = {}
        self._next = 0

    def prime(self) -> None:
        while self._next < min(self.plan.n_chunks, self.plan.n_slots):
            self.submit(self._next)

    def submit_next(self) -> None:
        """Submit the next chunk in order if its slot has been released (or is still unused)."""
        if self._next < self.plan.n_chunks:
            slot = self._next % self.plan.n_slots
            if self._next < self.plan.n_slots or slot in self._released:
                self.submit(self._next)

    def submit(self, j: int) -> None:
        if j != self._next:
            raise RuntimeError(f"chunks are submitted in order: expected {self._next}, got {j}")
        self._next += 1
        r0, r1 = self.plan.chunks[j]
        rows = r1 - r0
        slot = j % self.plan.n_slots
        after = self._released.pop(slot, None)
        tokens = []
        for i in range(self.n):
            # the first ``rows`` rows of frame i in a C-ordered slot: a contiguous destination
            tokens.append(self.mover.upload(self.slots[slot][i][:rows],
                                            _Reader(self.frames[i], r0, r1), after))
            if self.has_masks:
                tokens.append(self.mover.upload(self.mask_slots[slot][i][:rows],
                                                _MaskReader(self.masks[i], r0, r1, self.width), after))
        self._pending[j] = tokens

    def get(self, j: int):
        if j not in self._pending:
            raise RuntimeError(f"chunk {j} was not submitted")
        self.mover.wait(self._pending.pop(j))
        r0, r1 = self.plan.chunks[j]
        slot = j % self.plan.n_slots
        raw = self.slots[slot][:, : r1 - r0]
        mask = self.mask_slots[slot][:, : r1 - r0] if self.has_masks else None
        return raw, mask

    def release(self, j: int) -> None:
        self._released[j % self.plan.n_slots] = self.mover.record()


def _done(read) -> None:
    """Tell a reader its rows were copied (a memmap's pages can go)."""
    release = getattr(read, "release", None)
    if release is not None:
        release()


class _Reader:
    """Rows ``r0:r1`` of a frame as ``(rows, W, C)`` (a view: the mover copies it), then page release."""

    def __init__(self, frame, r0, r1):
        self.frame, self.r0, self.r1 = frame, r0, r1

    def __call__(self):
        block = np.asarray(self.frame[self.r0:self.r1])
        return block[..., None] if block.ndim == 2 else block

    def release(self) -> None:
        release_rows(self.frame, 0, self.r1)


class _MaskReader:
    """Rows ``r0:r1`` of a mask (all True for a frame without one)."""

    def __init__(self, mask, r0, r1, width):
        self.mask, self.r0, self.r1, self.width = mask, r0, r1, width

    def __call__(self):
        if self.mask is None:
            return np.ones((self.r1 - self.r0, self.width), bool)
        return np.asarray(self.mask[self.r0:self.r1])

    def release(self) -> None:
        if self.mask is not None:
            release_rows(self.mask, 0, self.r1)
