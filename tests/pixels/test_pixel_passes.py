"""zemosaic._pixels: the one-pass per-pixel tests give numpy's answers on every layout they meet."""
import numpy as np
import pytest

from zemosaic._pixels import finite_in_every_channel


def _numpy(image):
    return np.isfinite(image) if image.ndim == 2 else np.all(np.isfinite(image), axis=2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_as_numpy_on_contiguous_strided_and_memmapped_images(dtype, tmp_path):
    rng = np.random.default_rng(3)
    image = rng.normal(0.0, 1.0, (97, 61, 3)).astype(dtype)
    for value, share in ((np.nan, 0.05), (np.inf, 0.01), (-np.inf, 0.01)):
        image[rng.random(image.shape) < share] = value
    mm = np.lib.format.open_memmap(tmp_path / "m.npy", mode="w+", dtype=dtype, shape=image.shape)
    mm[:] = image
    for view in (image, image[::2, 1::3], image[:, :, :2], image[..., 0], mm, mm[10:40], image[:0]):
        got = finite_in_every_channel(view)
        assert got.dtype == bool and np.array_equal(got, _numpy(view))
    assert not finite_in_every_channel(image).all() and finite_in_every_channel(image).any()


def test_integer_images_are_finite_and_other_shapes_raise():
    assert finite_in_every_channel(np.zeros((4, 5, 3), np.uint16)).all()
    with pytest.raises(ValueError, match="H, W"):
        finite_in_every_channel(np.zeros((2, 3, 4, 5), np.float32))


def test_true_pixels_are_numpys_nonzero_in_row_major_order():
    from zemosaic._pixels import true_pixels

    rng = np.random.default_rng(8)
    for shape, share in [((1080, 192), 2e-3), ((7, 3), 0.5), ((0, 5), 0.1), ((1, 1), 1.0), ((13, 17), 0.0),
                         ((100, 100), 1.0)]:
        mask = rng.random(shape) < share
        got, want = true_pixels(mask), np.nonzero(mask)
        assert all(np.array_equal(g, w) and g.dtype == w.dtype for g, w in zip(got, want, strict=True))
    assert true_pixels(np.eye(4, dtype=np.uint8))[1].tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="2-D"):
        true_pixels(np.zeros((2, 2, 2), bool))
