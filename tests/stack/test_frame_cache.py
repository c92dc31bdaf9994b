"""The disk frame cache: exact round trip, RAM copies, released pages, files removed."""
import numpy as np
import pytest

from zemosaic.stack.frame_cache import FrameCache


def _resident_pages(array):
    import mmap
    import os

    # mincore is not exposed by Python: read the process's own RSS share of the mapping instead
    path = os.path.realpath(array.filename)
    with open("/proc/self/smaps") as fh:
        lines = fh.read().splitlines()
    for k, line in enumerate(lines):
        if line.rstrip().endswith(path):
            for follow in lines[k + 1:k + 20]:
                if follow.startswith("Rss:"):
                    return int(follow.split()[1]) * 1024 // mmap.PAGESIZE
    return 0


def test_round_trip_reader_and_cleanup(tmp_path):
    rng = np.random.default_rng(0)
    frames = [rng.normal(size=(64, 48, 3)).astype(np.float32) for _ in range(4)]
    with FrameCache(5, (64, 48, 3), parent=tmp_path, name="t") as cache:
        for i, f in enumerate(frames):
            cache[i] = f
        reader = cache.reader(4)
        assert len(reader) == 4
        for i, f in enumerate(frames):
            got = reader[i]
            assert not isinstance(got, np.memmap)
            np.testing.assert_array_equal(got, f)
            np.testing.assert_array_equal(cache[i], f)
        np.testing.assert_array_equal(reader[-1], frames[-1])
        folder = cache.path.parent
        assert folder.exists()
    assert not folder.exists()


def test_writes_and_reads_do_not_stay_resident(tmp_path):
    shape = (512, 512, 3)  # 3 MB per frame
    with FrameCache(8, shape, parent=tmp_path, name="rss") as cache:
        for i in range(8):
            cache[i] = np.full(shape, i, np.float32)
            cache.read(i)
        pages = _resident_pages(cache._array)
    frame_pages = np.prod(shape) * 4 // 4096
    assert pages < 2 * frame_pages, f"{pages} pages resident for 8 frames of {frame_pages}"


def test_released_on_read_reads_like_the_mask_and_leaves_no_page_resident(tmp_path):
    from zemosaic.stack.frame_cache import ReleasedOnRead

    shape = (1024, 1024)  # a 1 MB bool mask per frame
    rng = np.random.default_rng(1)
    masks = [rng.random(shape) > 0.3 for _ in range(6)]
    with FrameCache(6, shape, parent=tmp_path, name="valid", dtype=bool) as cache:
        for i, m in enumerate(masks):
            cache[i] = m
        views = [ReleasedOnRead(cache[i]) for i in range(6)]
        picks = np.linspace(0, shape[0] - 1, 24).astype(int)  # what the stacker's noise estimate reads
        for v, m in zip(views, masks, strict=True):
            assert v.shape == shape and v.dtype == bool and v.ndim == 2 and len(v) == shape[0]
            np.testing.assert_array_equal(v[picks], m[picks])
            np.testing.assert_array_equal(v[::8, ::8], m[::8, ::8])
            np.testing.assert_array_equal(np.asarray(v, dtype=bool), m)
        assert _resident_pages(cache._array) < 64
        for i in range(6):  # the plain memmap rows read the same way stay mapped
            np.asarray(cache[i][picks])
        assert _resident_pages(cache._array) > 6 * 24


def test_a_stored_frame_is_converted_broadcast_and_seen_by_the_memmap_at_once(tmp_path):
    """Frames are written with os.pwrite, not through the memmap: the memmap must see them as stored, with numpy's
    assignment rules (dtype cast, broadcasting, negative index, out-of-range index refused)."""
    import pytest

    with FrameCache(3, (20, 10, 3), parent=tmp_path, name="w") as cache:
        view = cache[1]  # a memmap view taken BEFORE the write
        frame64 = np.arange(600, dtype=np.float64).reshape(20, 10, 3) / 7.0
        cache[1] = frame64
        np.testing.assert_array_equal(view, frame64.astype(np.float32))
        cache[-1] = 2.5  # broadcast to the whole slot, last slot
        assert np.all(cache[2] == 2.5)
        cache[0] = np.asfortranarray(frame64[::-1])  # non-contiguous input
        np.testing.assert_array_equal(cache.read(0), frame64[::-1].astype(np.float32))
        with pytest.raises(IndexError):
            cache[3] = frame64
        with pytest.raises(ValueError):
            cache[0] = np.zeros((20, 11, 3))
    with FrameCache(2, (4, 5), parent=tmp_path, name="m", dtype=bool) as masks:
        masks[0] = np.eye(4, 5) > 0
        np.testing.assert_array_equal(masks[0], np.eye(4, 5) > 0)
        assert not masks[1].any()
    with pytest.raises(ValueError, match="closed"):
        masks[0] = np.ones((4, 5), bool)


def test_within_cache_files_reused_a_closed_cache_hands_its_file_to_the_next(tmp_path):
    from zemosaic.stack.frame_cache import cache_files_reused

    rng = np.random.default_rng(2)
    first = [rng.normal(size=(40, 30, 3)).astype(np.float32) for _ in range(3)]
    with cache_files_reused(tmp_path):
        with FrameCache(3, (40, 30, 3), parent=tmp_path, name="raw") as cache:
            for i, f in enumerate(first):
                cache[i] = f
            file = cache.path
        assert file.exists()  # kept for the next cache
        with FrameCache(4, (30, 20), parent=tmp_path, name="valid", dtype=bool) as smaller:
            assert smaller.path == file  # the smallest free file that holds it
            mask = rng.random((30, 20)) > 0.5
            smaller[1] = mask
            np.testing.assert_array_equal(smaller[1], mask)
            for unwritten in (0, 2, 3):  # the earlier frames' bytes read as the zeros of a new file
                assert not smaller[unwritten].any() and not smaller.read(unwritten).any()
        with FrameCache(5, (40, 30, 3), parent=tmp_path, name="aligned") as larger:
            assert larger.path == file  # none holds it: the largest free file, grown
            assert file.stat().st_size == 5 * 40 * 30 * 3 * 4
            larger[4] = first[0]
            np.testing.assert_array_equal(larger.read(4), first[0])
            assert not larger[0].any()
            with FrameCache(2, (8, 8), parent=tmp_path, name="other") as beside:  # the file is taken: a new one
                assert beside.path != file
    assert not file.exists() and not any(tmp_path.iterdir())  # every kept file deleted at the scope's end


def test_without_the_scope_or_under_another_folder_a_closed_cache_deletes_its_file(tmp_path):
    from zemosaic.stack.frame_cache import cache_files_reused

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with cache_files_reused(tmp_path / "a"):
        with FrameCache(2, (8, 8), parent=tmp_path / "b", name="t") as cache:
            file = cache.path
        assert not file.exists()
    with FrameCache(2, (8, 8), parent=tmp_path / "a", name="t") as cache:
        file = cache.path
    assert not file.exists()


@pytest.mark.parametrize("made_shape", [(12, 11, 3), (6, 9, 3), (8, 10, 3)])
def test_a_cache_made_over_another_shares_its_file_in_the_order_that_keeps_unread_frames(tmp_path, made_shape):
    """FrameCache(over=...): the frames made one by one from another cache's (each read first) are written into
    its file, in fill_order (last first when they are larger, so that no frame still to be read is overwritten):
    every frame read and every made frame comes back exact; a slot not yet made reads as zeros; the file is the
    first cache's, closed with it, and never holds more than the larger of the two."""
    rng = np.random.default_rng(5)
    n = 6
    source = [rng.normal(size=(8, 10, 3)).astype(np.float32) for _ in range(n)]
    with FrameCache(n, (8, 10, 3), parent=tmp_path, name="raw") as raw:
        for k, frame in enumerate(source):
            raw[k] = frame
        reader = raw.reader()
        made = FrameCache(n, made_shape, parent=tmp_path, name="aligned", over=raw)
        order = made.fill_order()
        assert order == (list(range(n))[::-1] if np.prod(made_shape) > 8 * 10 * 3 else list(range(n)))
        assert made.path == raw.path and not made[order[0]].any()
        views = {}
        for k in order:
            frame = reader[k]
            np.testing.assert_array_equal(frame, source[k])              # never overwritten before it is read
            out = np.full(made_shape, -1.0, np.float32)
            h, w = min(8, made_shape[0]), min(10, made_shape[1])
            out[:h, :w] = 2 * frame[:h, :w]
            made[k] = out
            views[k] = made[k]
        for k, view in views.items():                                      # no later write reached an earlier one
            want = np.full(made_shape, -1.0, np.float32)
            h, w = min(8, made_shape[0]), min(10, made_shape[1])
            want[:h, :w] = 2 * source[k][:h, :w]
            np.testing.assert_array_equal(view, want)
        file = raw.path
        assert file.stat().st_size == n * max(np.prod(made_shape), 8 * 10 * 3) * 4
    assert made._array is None and not file.exists()                     # closed with the cache it was made over
    with pytest.raises(ValueError, match="closed"):
        made[0] = np.zeros(made_shape, np.float32)
    with pytest.raises(ValueError, match="no cache can be made over it"):
        FrameCache(n, made_shape, parent=tmp_path, over=raw)
