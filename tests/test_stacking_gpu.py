"""GPU twin of the stacker: CPU fallback (runs everywhere) and CuPy parity (``pytest -m gpu``, needs a GPU)."""
import builtins
import logging

import numpy as np
import pytest

import zemosaic_align_stack_gpu as gpu_stack
from zemosaic.stack import cpu as stacking


def _frames(n=8, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.uniform(100, 300, (24, 32, 3)).astype(np.float32)
    frames = [(truth + rng.normal(0, 2, truth.shape)).astype(np.float32) for _ in range(n)]
    frames[2][5] += 500.0
    masks = [np.ones((24, 32), bool) for _ in range(n)]
    masks[1][:, :10] = False
    return frames, masks


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


@pytest.mark.gpu
@pytest.mark.parametrize("algorithm", stacking.REJECTION_ALGORITHMS)
def test_cupy_matches_cpu(algorithm):
    cupy = pytest.importorskip("cupy")
    if not gpu_stack.gpu_available():
        pytest.skip("no CUDA device")
    frames, masks = _frames(n=16)
    gpu = gpu_stack.stack_aligned_images_gpu(frames, valid_masks=masks, rejection_algorithm=algorithm)
    cpu = stacking.stack_aligned_images(frames, valid_masks=masks, rejection_algorithm=algorithm)
    assert cupy is not None
    np.testing.assert_allclose(gpu.image, cpu.image, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(gpu.rejected_fraction_per_frame, cpu.rejected_fraction_per_frame, atol=1e-3)
