"""GPU twin of the stacker: CPU fallback, the device path on NumPy and on a simulated asynchronous device (run
everywhere), and CuPy parity (``pytest -m gpu``, needs CuPy and a CUDA device).

Tolerances against the CPU stacker: coverage, NaN pattern and rejected fractions identical (1e-12) on NumPy;
images within 1e-6 relative (they come out bitwise equal). On a real device (the ``gpu`` tests) the surfaces are
evaluated with fused multiply-adds, so an image may move by a few float32 ulps and a sample sitting exactly on
a clip bound may flip: images within 1e-3 ADU at the 99.9th percentile and 0.05 ADU at most on these data,
rejected fractions within 1e-4.
"""
import builtins
import logging
import queue
import random
import sys
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import zemosaic_align_stack_gpu as gpu_stack
from zemosaic.stack import cpu as stacking
from zemosaic.stack import gpu_pipeline


def _frames(n=8, seed=0, h=24, w=32):
    rng = np.random.default_rng(seed)
    truth = rng.uniform(100, 300, (h, w, 3)).astype(np.float32)
    frames = [(truth * rng.uniform(0.9, 1.1) + rng.normal(0, 2, truth.shape)).astype(np.float32) for _ in range(n)]
    frames[2 % n][5] += 500.0
    frames[3 % n][7, 3] = np.nan
    masks = [np.ones((h, w), bool) for _ in range(n)]
    masks[1][:, :10] = False
    return frames, masks


def _assert_same_stack(got, want, rtol=1e-6):
    np.testing.assert_array_equal(np.isnan(got.image), np.isnan(want.image))
    np.testing.assert_allclose(got.image, want.image, rtol=rtol, atol=1e-4)
    np.testing.assert_array_equal(got.coverage, want.coverage)
    np.testing.assert_allclose(got.rejected_fraction_per_frame, want.rejected_fraction_per_frame, atol=1e-12)
    np.testing.assert_allclose(got.weights, want.weights, rtol=1e-9)
    assert got.image.dtype == np.float32 and got.image.shape == want.image.shape


# --------------------------------------------------------------------------------------------------
# fallback
# --------------------------------------------------------------------------------------------------


def test_falls_back_to_cpu_without_cupy(monkeypatch, caplog):
    real_import = builtins.__import__

    def no_cupy(name, *args, **kwargs):
        if name == "cupy":
            raise ImportError("no cupy here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cupy)
    frames, masks = _frames()
    with caplog.at_level(logging.INFO, logger="zemosaic.stack"):
        result = gpu_stack.stack_aligned_images_gpu(frames, valid_masks=masks)
    lines = [r for r in caplog.records if r.name == "zemosaic.stack.gpu"]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO and "CPU" in lines[0].getMessage()
    cpu = stacking.stack_aligned_images(frames, valid_masks=masks)
    np.testing.assert_array_equal(result.image, cpu.image)
    np.testing.assert_array_equal(result.coverage, cpu.coverage)
    assert result.timings["device"] == 0.0


def test_out_of_memory_switches_to_cpu(caplog):
    class TinyDevice(gpu_stack.XpBackend):
        def process(self, data, valid, weights, options):
            raise MemoryError("device full")

    frames, masks = _frames()
    options = stacking.StackOptions()
    with caplog.at_level(logging.WARNING):
        result = stacking.run_stack(frames, masks, options, TinyDevice(np))
    assert sum("out of memory" in r.getMessage() for r in caplog.records) == 1
    cpu = stacking.stack_aligned_images(frames, valid_masks=masks)
    np.testing.assert_array_equal(result.image, cpu.image)


def test_device_out_of_memory_redoes_the_stack_on_the_cpu(monkeypatch, caplog):
    """The device path running out of memory: one WARNING, then the CPU stacker's result."""
    fake_cupy = types.SimpleNamespace(__name__="cupy")

    def full_device(*args, **kwargs):
        raise MemoryError("out of device memory")

    monkeypatch.setattr(gpu_stack, "_import_cupy", lambda quiet=False: fake_cupy)
    monkeypatch.setattr(gpu_stack, "_oom_errors", lambda xp: (MemoryError,))
    monkeypatch.setattr(gpu_stack, "_free_device_memory", lambda cupy: None)
    monkeypatch.setattr(gpu_stack, "run_stack_device", full_device)
    frames, masks = _frames()
    with caplog.at_level(logging.INFO, logger="zemosaic.stack"):
        result = gpu_stack.stack_aligned_images_gpu(frames, valid_masks=masks)
    lines = [r for r in caplog.records if r.name == "zemosaic.stack.gpu"]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING and "out of memory" in lines[0].getMessage()
    np.testing.assert_array_equal(result.image, stacking.stack_aligned_images(frames, valid_masks=masks).image)
    assert result.timings["device"] == 0.0


def test_device_cuda_error_redoes_the_stack_on_the_cpu(monkeypatch, caplog):
    class CUDARuntimeError(RuntimeError):
        pass

    fake_cupy = types.SimpleNamespace(__name__="cupy", cuda=types.SimpleNamespace(
        runtime=types.SimpleNamespace(CUDARuntimeError=CUDARuntimeError)))

    def broken(*args, **kwargs):
        raise CUDARuntimeError("cudaErrorLaunchFailure")

    monkeypatch.setattr(gpu_stack, "_import_cupy", lambda quiet=False: fake_cupy)
    monkeypatch.setattr(gpu_stack, "_oom_errors", lambda xp: (MemoryError,))
    monkeypatch.setattr(gpu_stack, "_free_device_memory", lambda cupy: None)
    monkeypatch.setattr(gpu_stack, "run_stack_device", broken)
    frames, masks = _frames()
    with caplog.at_level(logging.INFO, logger="zemosaic.stack"):
        result = gpu_stack.stack_aligned_images_gpu(frames, valid_masks=masks)
    lines = [r for r in caplog.records if r.name == "zemosaic.stack.gpu"]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING
    assert "CUDARuntimeError" in lines[0].getMessage() and "CPU" in lines[0].getMessage()
    np.testing.assert_array_equal(result.image, stacking.stack_aligned_images(frames, valid_masks=masks).image)


# --------------------------------------------------------------------------------------------------
# the device path on NumPy
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("normalize", stacking.NORMALIZE_METHODS)
@pytest.mark.parametrize("rejection", ["winsorized_sigma_clip", "kappa_sigma", "linear_fit_clip"])
def test_device_path_on_numpy_matches_cpu(normalize, rejection):
    frames, masks = _frames(n=9, seed=3, h=40, w=48)
    masks[0] = None
    kw = dict(normalize_method=normalize, rejection_algorithm=rejection)
    want = stacking.stack_aligned_images(frames, valid_masks=masks, **kw)
    got = gpu_stack.stack_aligned_images_xp(frames, np, stacking.StackOptions(chunk_rows=11, **kw),
                                            valid_masks=masks)
    _assert_same_stack(got, want)
    assert got.normalization[1].keys() == want.normalization[1].keys()
    assert got.chunk_rows == 11 and got.timings["device"] == 0.0


def test_device_path_mono_median_memmaps_and_progress(tmp_path):
    frames, masks = _frames(n=6, seed=4, h=30, w=36)
    mono = []
    for i, f in enumerate(frames):
        path = tmp_path / f"f{i}.npy"
        np.save(path, f[..., 1])
        mono.append(np.load(path, mmap_mode="r"))
    kw = dict(final_combine_method="median", weighting_method="none", reference_index=2)
    events = []
    got = gpu_stack.stack_aligned_images_xp(mono, np, stacking.StackOptions(chunk_rows=8, **kw), valid_masks=masks,
                                            progress_callback=events.append)
    want = stacking.stack_aligned_images([np.asarray(m) for m in mono], valid_masks=masks, **kw)
    _assert_same_stack(got, want)
    assert got.image.ndim == 2
    assert [(e.phase, e.done, e.total) for e in events] == [("stack", r, 30) for r in (8, 16, 24, 30)]


def test_device_path_bad_arguments():
    frames, _ = _frames(n=3)
    with pytest.raises(ValueError, match="reference_index"):
        gpu_stack.stack_aligned_images_xp(frames, np, stacking.StackOptions(reference_index=5))
    with pytest.raises(ValueError, match="shape"):
        gpu_stack.stack_aligned_images_xp(frames + [np.zeros((4, 4, 3), np.float32)], np)


# --------------------------------------------------------------------------------------------------
# chunk plans and the transfer pipeline
# --------------------------------------------------------------------------------------------------


def test_plan_chunks_resident_streaming_and_host():
    shape = (1080, 1920, 3)
    big = gpu_pipeline.plan_chunks(50, shape, True, device_free=80 * 2**30, host_budget_mb=768)
    assert big.resident and big.n_slots == big.n_chunks == 1 and big.chunks == ((0, 1080),)
    mid = gpu_pipeline.plan_chunks(50, shape, True, device_free=24 * 2**30, host_budget_mb=768)
    assert mid.resident and mid.n_slots == mid.n_chunks > 1 and mid.chunks[-1][1] == 1080
    small = gpu_pipeline.plan_chunks(50, shape, True, device_free=2 * 2**30, host_budget_mb=768)
    assert not small.resident and small.n_slots == 2 and small.n_chunks > 2
    assert 50 * small.rows * 1920 * 3 * (4 + gpu_pipeline.WORK_BYTES_PER_SAMPLE) <= 0.5 * 0.8 * 2 * 2**30 * 1.01
    host = gpu_pipeline.plan_chunks(50, shape, True, device_free=None, host_budget_mb=768)
    assert host.n_slots == 1 and not host.resident
    forced = gpu_pipeline.plan_chunks(5, (40, 40), False, device_free=2**40, host_budget_mb=1, forced_rows=7)
    assert forced.rows == 7 and forced.chunks[-1] == (35, 40) and forced.n_slots == forced.n_chunks == 6


class _SlowAsyncMover(gpu_pipeline.HostMover):
    """Uploads in threads, late and in random order, each first filling its destination with NaN: a chunk read
    before its upload finished, or a slot overwritten while in use, changes the result."""

    name = "slow-async"

    def __init__(self, free):
        super().__init__()
        self.free, self.rng, self.pool = free, random.Random(1), ThreadPoolExecutor(4)
        self.released_in_order = []

    def upload(self, dst, read, after=None):
        delay = self.rng.uniform(0.0, 0.004)

        def job():
            if after is not None:
                after.wait()
            if dst.dtype.kind == "f":
                dst[...] = np.nan
            time.sleep(delay)
            np.copyto(dst, read(), casting="unsafe")

        return self.pool.submit(job)

    def wait(self, tokens):
        for token in tokens:
            token.result()

    def record(self):
        event = threading.Event()
        event.set()  # NumPy work is finished when the host gets here
        return event

    def free_bytes(self):
        return self.free

    def close(self):
        self.pool.shutdown(wait=True)


@pytest.mark.parametrize("free", [2**40, 1], ids=["resident", "streaming"])
def test_pipeline_waits_for_uploads_and_never_overwrites_a_slot_in_use(free):
    frames, masks = _frames(n=7, seed=5, h=50, w=20)
    options = stacking.StackOptions(chunk_rows=6)
    want = stacking.stack_aligned_images(frames, valid_masks=masks, chunk_rows=6)
    for _ in range(3):
        got = gpu_stack.run_stack_device(frames, masks, options, mover=_SlowAsyncMover(free))
        _assert_same_stack(got, want)


def test_loader_reuses_a_slot_only_after_its_release_event():
    """Streaming: chunk j + 2 goes into chunk j's slot and its copies wait for the event recorded when chunk j was
    released (on a device the work on chunk j may still be running when the host submits chunk j + 2)."""

    class Recorder(gpu_pipeline.HostMover):
        def __init__(self):
            super().__init__()
            self.uploads, self.events = [], []

        def upload(self, dst, read, after=None):
            self.uploads.append((dst, after))
            return super().upload(dst, read, after)

        def record(self):
            self.events.append(object())
            return self.events[-1]

    frames, masks = _frames(n=3, seed=7, h=20, w=8)
    plan = gpu_pipeline.ChunkPlan(chunks=((0, 5), (5, 10), (10, 15), (15, 20)), n_slots=2, resident=False, rows=5)
    mover = Recorder()
    loader = gpu_pipeline.ChunkLoader(frames, masks, frames[0].shape, plan, mover)
    loader.prime()
    assert len(mover.uploads) == 2 * 3 * 2 and all(after is None for _, after in mover.uploads)
    loader.submit_next()  # slot 0 not released yet: nothing happens
    assert len(mover.uploads) == 12
    for j in range(4):
        raw, mask = loader.get(j)
        np.testing.assert_array_equal(raw, np.stack([f[5 * j:5 * j + 5] for f in frames]))
        np.testing.assert_array_equal(mask, np.stack([m[5 * j:5 * j + 5] for m in masks]))
        loader.release(j)
        loader.submit_next()
        if j < 2:  # chunk j + 2 was submitted into slot j % 2, after chunk j's release event
            new = mover.uploads[-6:]
            assert all(after is mover.events[-1] for _, after in new)
            assert all(np.shares_memory(dst, loader.slots[j % 2]) or np.shares_memory(dst, loader.mask_slots[j % 2])
                       for dst, _ in new)
    with pytest.raises(RuntimeError, match="not submitted"):
        loader.get(0)


def _fake_cupy():
    """NumPy dressed as CuPy: device arrays with ``.set``, streams that run their copies late on their own
    threads (poisoning the destination first), events, pinned buffers. Enough to run the device path and
    :class:`CupyMover` on the CPU; the real CuPy is exercised by the ``gpu`` tests."""

    class DeviceArray(np.ndarray):
        def set(self, arr, stream=None):
            if not self.flags.c_contiguous:
                raise RuntimeError("Cannot set to non-contiguous array")
            src = arr.copy()  # what the host buffer holds now ...
            host = arr

            def copy():
                if self.dtype.kind == "f":
                    self[...] = np.nan
                time.sleep(random.uniform(0.0, 0.002))
                if not np.array_equal(host, src, equal_nan=True):
                    raise AssertionError("a pinned buffer was reused before its copy ran")
                np.copyto(self, host)

            stream.enqueue(copy)

    class Event:
        def __init__(self, block=False, disable_timing=False):
            self._done = threading.Event()

        def record(self, stream=None):
            stream.enqueue(self._done.set)

        def synchronize(self):
            self._done.wait()

    class Stream:
        def __init__(self, non_blocking=False):
            self.sync = threading.current_thread() is threading.main_thread()  # the compute stream
            if not self.sync:
                self.q = queue.Queue()
                self.errors = []
                threading.Thread(target=self._run, daemon=True).start()

        def _run(self):
            while True:
                op = self.q.get()
                try:
                    op()
                except Exception as exc:  # noqa: BLE001 - reported by synchronize()
                    self.errors.append(exc)

        def enqueue(self, op):
            if self.sync:
                op()
            else:
                self.q.put(op)

        def wait_event(self, event):
            self.enqueue(event.synchronize)

        def synchronize(self):
            if not self.sync:
                done = threading.Event()
                self.q.put(done.set)
                done.wait()
                if self.errors:
                    raise self.errors[0]

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    class Device:
        def __init__(self, i=0):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    runtime = types.SimpleNamespace(getDevice=lambda: 0, memGetInfo=lambda: (2**40, 2**40))
    cuda = types.SimpleNamespace(Stream=Stream, Event=Event, Device=Device, runtime=runtime)

    class FakeCupy(types.ModuleType):
        def __getattr__(self, name):
            return getattr(np, name)

    fake = FakeCupy("cupy")
    fake.cuda = cuda
    fake.asnumpy = np.asarray
    fake.empty = lambda shape, dtype=float: np.empty(shape, dtype).view(DeviceArray)
    fake.get_default_memory_pool = lambda: types.SimpleNamespace(free_bytes=lambda: 0)
    fakex = types.ModuleType("cupyx")
    fakex.empty_pinned = lambda shape, dtype=float: np.empty(shape, dtype)
    return fake, fakex


@pytest.mark.parametrize("resident", [True, False])
def test_cupy_mover_and_device_code_on_a_simulated_device(monkeypatch, resident):
    """The device path as CuPy runs it (sorting network, CupyMover's threads, pinned buffers, streams and
    events), with NumPy underneath and copies that land late."""
    fake, fakex = _fake_cupy()
    monkeypatch.setitem(sys.modules, "cupyx", fakex)
    if not resident:
        monkeypatch.setattr(fake.cuda.runtime, "memGetInfo", lambda: (1, 2**40))
    frames, masks = _frames(n=9, seed=6, h=44, w=30)
    masks[4] = None
    for rejection in ("winsorized_sigma_clip", "kappa_sigma"):
        options = stacking.StackOptions(chunk_rows=10, rejection_algorithm=rejection)
        want = stacking.stack_aligned_images(frames, valid_masks=masks, chunk_rows=10, rejection_algorithm=rejection)
        mover = gpu_pipeline.CupyMover(fake, threads=3)
        got = gpu_stack.run_stack_device(frames, masks, options, mover=mover)
        _assert_same_stack(got, want)
        assert got.timings["device"] == 1.0


# --------------------------------------------------------------------------------------------------
# CuPy on a real device
# --------------------------------------------------------------------------------------------------


def _cupy_or_skip():
    cupy = pytest.importorskip("cupy")
    if not gpu_stack.gpu_available():
        pytest.skip("no CUDA device")
    return cupy


def _device_tolerance(got, want):
    np.testing.assert_array_equal(np.isnan(got.image), np.isnan(want.image))
    np.testing.assert_array_equal(got.coverage, want.coverage)
    both = np.isfinite(want.image)
    diff = np.abs(got.image[both].astype(np.float64) - want.image[both])
    assert np.percentile(diff, 99.9) <= 1e-3 and diff.max() <= 0.05, (np.percentile(diff, 99.9), diff.max())
    np.testing.assert_allclose(got.rejected_fraction_per_frame, want.rejected_fraction_per_frame, atol=1e-4)
    np.testing.assert_allclose(got.weights, want.weights, rtol=1e-6)


@pytest.mark.gpu
@pytest.mark.parametrize("algorithm", stacking.REJECTION_ALGORITHMS)
@pytest.mark.parametrize("combine", stacking.COMBINE_METHODS)
def test_cupy_matches_cpu(algorithm, combine):
    _cupy_or_skip()
    frames, masks = _frames(n=16)
    kw = dict(rejection_algorithm=algorithm, final_combine_method=combine)
    gpu = gpu_stack.stack_aligned_images_gpu(frames, valid_masks=masks, **kw)
    cpu = stacking.stack_aligned_images(frames, valid_masks=masks, **kw)
    assert gpu.timings["device"] == 1.0  # the device did it: no fallback
    _device_tolerance(gpu, cpu)


@pytest.mark.gpu
@pytest.mark.parametrize("normalize", stacking.NORMALIZE_METHODS)
def test_cupy_normalisations_match_cpu(normalize):
    _cupy_or_skip()
    from test_gpu_xp_parity import _masks, _sky_frames

    frames = _sky_frames(n=12, h=200, w=260)
    masks = _masks(frames)
    kw = dict(normalize_method=normalize, background_order=2)
    gpu = gpu_stack.stack_aligned_images_gpu(frames, valid_masks=masks, **kw)
    cpu = stacking.stack_aligned_images(frames, valid_masks=masks, **kw)
    assert gpu.timings["device"] == 1.0
    _device_tolerance(gpu, cpu)


@pytest.mark.gpu
def test_cupy_pieces_match_numpy():
    """The xp functions give the NumPy results on CuPy (network vs library sort, bisect medians, the batched
    background fit, chunk normalisation, rejection)."""
    cupy = _cupy_or_skip()
    from test_gpu_xp_parity import _chunk, _masks, _sky_frames
    from zemosaic.stack import gpu_normalize as gn
    from zemosaic.stack import gpu_reject as gr
    from zemosaic.stack import gpu_xp

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 10_000)).astype(np.float32)
    x[rng.random(x.shape) < 0.1] = np.inf
    np.testing.assert_array_equal(cupy.asnumpy(gpu_xp.sort_axis0(cupy, cupy.asarray(x), "network")),
                                  np.sort(x, axis=0))
    v = rng.normal(size=(3, 5, 40_000))
    ok = rng.random(v.shape) > 0.2
    want = gpu_xp.masked_median_lastaxis(np, v, ok, "sort")
    for method in ("sort", "bisect"):
        got = gpu_xp.masked_median_lastaxis(cupy, cupy.asarray(v), cupy.asarray(ok), method)
        np.testing.assert_array_equal(cupy.asnumpy(got), want)
    data, valid, weights = _chunk(n=30, n_pix=20_000)
    for algorithm in ("kappa_sigma", "winsorized_sigma_clip", "linear_fit_clip"):
        options = stacking.StackOptions(rejection_algorithm=algorithm)
        want_img, want_rej = gr.reject_and_combine(np, data, valid, weights, options)
        img, rej = gr.reject_and_combine(cupy, cupy.asarray(data), cupy.asarray(valid), cupy.asarray(weights),
                                         options)
        np.testing.assert_array_equal(cupy.asnumpy(rej), want_rej)
        np.testing.assert_allclose(cupy.asnumpy(img), want_img, rtol=1e-6, atol=1e-4)
    frames = _sky_frames(n=8, h=150, w=200)
    masks = _masks(frames)
    np.testing.assert_allclose(gn.device_noise(cupy, frames, masks, 24), gn.device_noise(np, frames, masks, 24),
                               rtol=1e-12)
    options = stacking.StackOptions(background_order=2)
    with np.errstate(all="ignore"):
        want_models = gn.fit_background_device(np, frames, masks, 0, options)
    got_models = gn.fit_background_device(cupy, frames, masks, 0, options)
    for a, b in zip(want_models[1:], got_models[1:], strict=True):
        assert (a.match.order, a.match.n_samples, a.match.bounds) == (b.match.order, b.match.n_samples,
                                                                       b.match.bounds)
        np.testing.assert_allclose(b.match.gain, a.match.gain, atol=1e-9)
        np.testing.assert_allclose(b.match.coeffs, a.match.coeffs, rtol=1e-7, atol=1e-7)


@pytest.mark.gpu
@pytest.mark.parametrize("algorithm", ["winsorized_sigma_clip", "kappa_sigma"])
def test_cupy_large_stack_streaming_and_resident(algorithm, monkeypatch, caplog):
    """A 40-frame 300 x 400 stack, resident and (with the device's free memory understated) streaming."""
    cupy = _cupy_or_skip()
    rng = np.random.default_rng(1)
    truth = rng.uniform(500, 3000, (300, 400, 3)).astype(np.float32)
    frames = [(truth * rng.uniform(0.95, 1.05) + rng.normal(0, 8, truth.shape)).astype(np.float32)
              for _ in range(40)]
    frames[3][100:103] += 2000.0
    cpu = stacking.stack_aligned_images(frames, rejection_algorithm=algorithm)
    options = stacking.StackOptions(rejection_algorithm=algorithm)
    resident = gpu_stack.run_stack_device(frames, None, options, cupy)
    _device_tolerance(resident, cpu)
    monkeypatch.setattr(gpu_pipeline.CupyMover, "free_bytes", lambda self: 100 * 2**20)  # plan as if small
    with caplog.at_level(logging.DEBUG, logger="zemosaic.stack.gpu"):
        streaming = gpu_stack.run_stack_device(frames, None, options, cupy)
    assert streaming.chunk_rows < 300 and any("streaming" in r.getMessage() for r in caplog.records)
    _device_tolerance(streaming, cpu)
