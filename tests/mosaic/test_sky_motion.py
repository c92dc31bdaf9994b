"""The joint fit of the frames' own gradients and the common sky (issue 26 item 1): zemosaic.mosaic.sky_motion.

Cells sampled straight from a known sky seen through rotated, dithered frames, each with its own light-pollution
plane fixed in its pixels (the group's gradient in proportion to the frame's sky level, plus a small jitter):
the sky's plane comes back when the frames rotate, and is declared unidentifiable when they only dither.
"""
import numpy as np
import pytest
from scipy import sparse

from sky_scenes import (
    CELL,
    FRAME_H,
    FRAME_W,
    frame_cell_centres,
    frame_cells_on_sky,
    motion_sky_error,
    nebula_floor_sky,
)
from zemosaic.mosaic import sky_motion

W, H = FRAME_W, FRAME_H


def frames(*, rotation_deg, jitter=0.01, seed=0, noise=0.5, groups=3, per_group=8):
    rng = np.random.default_rng(seed)
    x, y = frame_cell_centres()
    out = []
    for g in range(groups):
        base = np.array([0.20, -0.08]) * rng.uniform(0.7, 1.3)          # ADU/px in the camera's pixels
        for k in range(per_group):
            t = (k * groups + g) / (groups * per_group - 1)
            gx, gy = frame_cells_on_sky(x, y, group=g, t=t, rotation_deg=rotation_deg, rng=rng)
            level = 400.0 * (1 + 0.15 * t)                                 # the sky brightens through the night
            grad = base * level / 400.0 * (1 + jitter * rng.standard_normal())
            values = nebula_floor_sky(gx, gy) + level + 300.0 + grad[0] * (x - W / 2) + grad[1] * (y - H / 2)
            values = values + rng.normal(0, noise, x.size)
            values[rng.random(x.size) < 0.02] += 500.0                      # a few cells hit by bright stars
            out.append(sky_motion.FrameCells(values=values[:, None], x=x, y=y, gx=gx, gy=gy, group=g, zero=300.0))
    return out


def test_rotation_tells_the_sky_plane_from_the_camera_gradient():
    """25 deg of field rotation: the sky's own slope (0.03 ADU/px, the nebula's floor) is found within 0.006 ADU/px
    although every frame carries a camera gradient 7x steeper, and the sky's shape within 2.5 ADU."""
    model = sky_motion.fit_motion_sky(frames(rotation_deg=25.0), node_step=CELL)
    plane, rest = motion_sky_error(model)
    print(model.summary(), plane, rest)
    assert model.identified and model.rotation_spread_deg > 5.0
    assert np.all(np.abs(plane) < 0.006) and rest < 2.5
    assert model.plane_sigma[0] < 0.006
    assert model.as_dict()["identified"] is True


def test_without_rotation_the_plane_is_declared_unidentifiable():
    """Dithers only (an equatorial mount): the fit says it cannot fix the sky's plane, and why."""
    model = sky_motion.fit_motion_sky(frames(rotation_deg=0.0), node_step=CELL)
    assert not model.identified and "cannot be told" in model.reason and model.rotation_spread_deg < 0.1
    assert np.all(model.plane == 0) and not np.isfinite(model.plane_sigma).any()
    _, rest = motion_sky_error(model)
    assert rest < 2.5  # what is not a plane is still the sky's


def test_the_sky_level_trend_is_not_taken_for_rotation():
    """The gradient grows with the sky level (15 % over the night, as the rotation grows): modelled in proportion
    to each frame's level, it does not tilt the sky; fitted as one constant gradient per group, it would."""
    cells = frames(rotation_deg=25.0, jitter=0.0)
    model = sky_motion.fit_motion_sky(cells, node_step=CELL)
    plane, _ = motion_sky_error(model)
    assert np.all(np.abs(plane) < 0.004)
    flat = [sky_motion.FrameCells(c.values, c.x, c.y, c.gx, c.gy, c.group, zero=-1e9) for c in cells]
    tilted, _ = motion_sky_error(sky_motion.fit_motion_sky(flat, node_step=CELL))
    assert np.abs(tilted).max() > 3 * np.abs(plane).max()


def test_frame_cells_clip_stars_and_skip_empty_cells():
    rng = np.random.default_rng(3)
    image = rng.normal(100.0, 1.0, (64, 96, 2)).astype(np.float32)
    image[5:8, 5:8] += 5000.0                                               # a star in cell (0, 0)
    image[40:, :32] = np.nan                                                # a missing corner
    values, x, y = sky_motion.frame_cells(image, 16, scale=2.0)
    assert values.shape == (4 * 6 - 2, 2)  # less the 2 cells under the corner's fully missing rows
    assert np.all(np.abs(values - 100.0) < 1.0)
    assert x[0] == pytest.approx(15.5) and y[0] == pytest.approx(15.5)      # cell centre 7.5 -> frame px 15.5


def test_bad_arguments_raise():
    cells = frames(rotation_deg=10.0, groups=1, per_group=3)
    with pytest.raises(ValueError, match="at least 3 frames"):
        sky_motion.fit_motion_sky(cells[:2], node_step=CELL)
    with pytest.raises(ValueError, match="node_step"):
        sky_motion.fit_motion_sky(cells, node_step=0)
    with pytest.raises(ValueError, match="does not fit"):
        sky_motion.frame_cells(np.zeros((8, 8, 1)), 16)


def test_a_camera_gradient_that_jitters_from_frame_to_frame_falls_back():
    """10 % frame-to-frame changes of the camera's gradient: the rotation no longer pins the sky's plane to 2 % of
    the sky level across the mosaic, and the fit says so (the caller falls back to the lower envelope)."""
    model = sky_motion.fit_motion_sky(frames(rotation_deg=25.0, jitter=0.1), node_step=CELL)
    assert not model.identified and "changes too much" in model.reason
    assert model.rotation_spread_deg > 5.0 and np.all(np.isfinite(model.plane_sigma))


def test_a_frame_with_its_own_gradient_is_left_out_of_the_plane():
    """One frame of 24 with a gradient 3x its group's (a passing cloud lit by the town): the plane is the same."""
    cells = frames(rotation_deg=25.0)
    odd = cells[5]
    extra = 0.4 * (odd.x - W / 2) - 0.2 * (odd.y - H / 2)
    cells[5] = sky_motion.FrameCells(odd.values + extra[:, None], odd.x, odd.y, odd.gx, odd.gy, odd.group, odd.zero)
    plane, _ = motion_sky_error(sky_motion.fit_motion_sky(cells, node_step=CELL))
    assert np.all(np.abs(plane) < 0.006)


def _rotation(deg):
    a = np.radians(deg)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def test_the_rotation_is_judged_from_the_frames_wcs_before_any_is_read():
    """rotation_check on Jacobians alone (what a run computes from the WCS, before reading a frame): the same
    spread as the fit measures, the same verdict."""
    groups = np.repeat([0, 1], 6)
    turning = np.stack([_rotation(a) for a in np.tile(np.linspace(0, 20, 6), 2)])
    spread, why = sky_motion.rotation_check(turning, groups)
    assert why is None and spread == pytest.approx(np.std(np.linspace(0, 20, 6), ddof=1), rel=1e-6)
    dithering = np.stack([_rotation(a) for a in np.tile(np.linspace(0, 0.3, 6), 2)])
    spread, why = sky_motion.rotation_check(dithering, groups)
    assert spread < 0.2 and "rotate by only" in why and "cannot be told" in why
    _, why = sky_motion.rotation_check(turning[:3], np.array([0, 0, 1]))
    assert "too few frames per group" in why
    fitted = sky_motion.fit_motion_sky(frames(rotation_deg=0.0), node_step=CELL)
    assert fitted.reason == sky_motion.rotation_check(
        np.stack([sky_motion._jacobian(f) for f in frames(rotation_deg=0.0)]), np.repeat([0, 1, 2], 8))[1]


def test_frame_jacobians_from_the_wcs():
    from astropy.wcs import WCS

    from zemosaic.pipeline.frame_skies import SkyFrame, frame_jacobians

    def tan(rot_deg, scale):
        w = WCS(naxis=2)
        w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
        w.wcs.crval, w.wcs.crpix = [150.0, 30.0], [120.0, 200.0]
        w.wcs.cd = scale * _rotation(rot_deg) @ np.diag([-1.0, 1.0])
        w.wcs.set()
        return w

    grid = tan(0.0, 2.4 / 3600)
    jac = frame_jacobians([SkyFrame(path=None, wcs=tan(30.0, 2.4 / 3600), tile=0),
                           SkyFrame(path=None, wcs=tan(-5.0, 4.8 / 3600), tile=0)], grid)
    np.testing.assert_allclose(jac[0], _rotation(-30.0), atol=1e-3)  # x flipped in both: the angle turns sign
    np.testing.assert_allclose(jac[1], 2.0 * _rotation(5.0), atol=2e-3)


def test_a_hopeless_jitter_is_decided_on_half_the_frames(monkeypatch):
    """Phase 5.5's first look (zemosaic.pipeline.mosaic_phases): with a camera gradient that jitters by 20 % from
    frame to frame, the fit on every other frame already shows that all of them cannot pin the plane: the other half
    is never read. A steady gradient reads every frame and leaves the verdict to the full fit."""
    from pathlib import Path

    from astropy.wcs import WCS

    from zemosaic.pipeline import frame_skies, mosaic_phases

    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.cdelt = [-1e-3, 1e-3]
    wcs.wcs.set()
    for jitter, expect_early in ((0.2, True), (0.01, False)):
        cells = frames(rotation_deg=25.0, jitter=jitter)
        read: list[int] = []

        def fake_read(sky_frames, grid_wcs, cells=cells, read=read):
            read.extend(int(f.path.name) for f in sky_frames)
            return [cells[int(f.path.name)] for f in sky_frames], CELL

        monkeypatch.setattr(frame_skies, "motion_frame_cells", fake_read)
        sky_frames = [frame_skies.SkyFrame(Path(str(i)), wcs, c.group) for i, c in enumerate(cells)]
        got, node_step, early = mosaic_phases._first_look(sky_frames, wcs)
        assert node_step == pytest.approx(CELL)
        if expect_early:
            assert early is not None and not early.identified and "the other frames are not read" in early.reason
            assert sorted(read) == list(range(0, 24, 2)) and len(got) == 12
        else:
            assert early is None and sorted(read) == list(range(24)) and len(got) == 24
            assert sky_motion.fit_motion_sky(got, node_step=node_step).identified


def test_a_bayer_frame_is_measured_on_its_super_pixels(tmp_path):
    """Phase 5.5 reads a Bayer frame's background from its 2x2 super-pixels (zemosaic.pipeline.frame_skies): the
    cells' centres in the frame's own pixels, each channel's smooth ramp where it is (within half a pixel of its
    slope: a colour's sites sit half a pixel from their cell's centre, an offset the frame's own plane absorbs), a
    star clipped, the pedestal kept; the same medians as over the bilinear-debayered frame, within 0.3 ADU."""
    from astropy.io import fits
    from astropy.wcs import WCS

    from zemosaic.io.debayer import debayer
    from zemosaic.pipeline import frame_skies

    h, w, pattern = 192, 256, "GRBG"
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    slopes = {"R": (0.30, 0.10), "G": (-0.20, 0.25), "B": (0.05, -0.40)}
    levels = {"R": 900.0, "G": 800.0, "B": 700.0}
    ramp = {c: levels[c] + sx * xx + sy * yy for c, (sx, sy) in slopes.items()}
    raw = np.empty((h, w))
    for oy in range(2):
        for ox in range(2):
            raw[oy::2, ox::2] = ramp[pattern[2 * oy + ox]][oy::2, ox::2]
    raw[100:104, 60:64] += 20000.0                                         # a star
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval, wcs.wcs.crpix, wcs.wcs.cdelt = [150.0, 30.0], [128.0, 96.0], [-6.7e-4, 6.7e-4]
    wcs.wcs.set()
    header = wcs.to_header()
    header["BAYERPAT"], header["PEDESTAL"] = pattern, 100
    path = tmp_path / "bayer.fits"
    fits.PrimaryHDU(raw.astype(np.float32), header=header).writeto(path)

    cells, cell = frame_skies.motion_frame_cells([frame_skies.SkyFrame(path, wcs, 0)], wcs)
    assert cell == 16 and len(cells) == 1
    got = cells[0]
    assert got.values.shape == ((h // 16) * (w // 16), 3) and got.zero == 100.0
    np.testing.assert_allclose(got.gx, got.x, atol=1e-6)                  # the grid is the frame's own WCS
    assert got.x[0] == pytest.approx(7.5) and got.y[0] == pytest.approx(7.5)
    star_cell = (np.abs(got.x - 55.5) < 1) & (np.abs(got.y - 103.5) < 1)
    assert star_cell.sum() == 1
    for k, c in enumerate("RGB"):
        sx, sy = slopes[c]
        error = np.abs(got.values[:, k] - (levels[c] + sx * got.x + sy * got.y))
        assert np.max(error[~star_cell]) <= 0.5 * (abs(sx) + abs(sy)) + 1e-3
        assert error[star_cell][0] < 1.0                                     # its 16 samples clipped, not 20000
    debayered, _, _ = sky_motion.frame_cells(debayer(raw.astype(np.float32), pattern, "bilinear"), 16)
    assert np.max(np.abs(got.values - debayered)) < 0.3

    del header["BAYERPAT"]                                                    # a mono frame: its own pixels
    mono = tmp_path / "mono.fits"
    fits.PrimaryHDU(raw.astype(np.float32), header=header).writeto(mono)
    (cells_mono,), cell = frame_skies.motion_frame_cells([frame_skies.SkyFrame(mono, wcs, 0)], wcs)
    want, x, _ = sky_motion.frame_cells(raw.astype(np.float32)[..., None], 16)
    assert cell == 16 and np.array_equal(cells_mono.values, want) and np.array_equal(cells_mono.x, x)


def test_the_banded_solve_equals_the_sparse_lu(monkeypatch):
    """The joint fit's normal system solved as a band and its Schur complement (sky_motion._solve_normal) gives
    the sparse LU's solution; when the band does not factorise, the LU solves it."""
    from scipy import linalg
    from scipy.sparse.linalg import splu

    seen = []
    solve = sky_motion._solve_normal

    def compare(normal, shape, rhs):
        x = solve(normal, shape, rhs)
        seen.append(np.max(np.abs(x - splu(normal.tocsc()).solve(rhs))) / np.max(np.abs(x)))
        assert np.max(np.abs(normal @ x - rhs)) <= 1e-10 * np.max(np.abs(rhs))
        return x

    monkeypatch.setattr(sky_motion, "_solve_normal", compare)
    banded = sky_motion.fit_motion_sky(frames(rotation_deg=25.0), node_step=CELL)
    assert len(seen) == sky_motion._ITERATIONS and max(seen) < 1e-6

    def refuse(*args, **kwargs):
        raise linalg.LinAlgError("not positive definite")

    monkeypatch.setattr(sky_motion.linalg, "cholesky_banded", refuse)
    by_lu = sky_motion.fit_motion_sky(frames(rotation_deg=25.0), node_step=CELL)
    np.testing.assert_allclose(by_lu.plane, banded.plane, rtol=1e-6, atol=1e-9)
    assert by_lu.identified == banded.identified


@pytest.mark.parametrize("shape", [(6, 11), (11, 6), (7, 7)])
def test_the_banded_solve_on_either_orientation_of_the_node_grid(shape):
    """sky_motion._solve_normal numbers the nodes along the grid's shorter side first, whichever it is, and
    solves the nodes-and-frames normal system as the dense solver does."""
    rng = np.random.default_rng(7)
    n_frames, n_nodes = 4, shape[0] * shape[1]
    gx, gy = rng.uniform(0, (shape[1] - 1) * 10.0, 400), rng.uniform(0, (shape[0] - 1) * 10.0, 400)
    frames_ = [sky_motion.FrameCells(values=rng.normal(size=(100, 1)), x=rng.uniform(0, 500, 100),
                                     y=rng.uniform(0, 300, 100), gx=gx[k::4], gy=gy[k::4], group=0, zero=0.0)
               for k in range(n_frames)]
    design = sky_motion._design(frames_, (0.0, 0.0), 10.0, shape)
    smooth = sky_motion._smoothness(shape, design.shape[1])
    normal = (design.T @ design + 0.3 * (smooth.T @ smooth)).tocsc()
    normal = normal + 1e-6 * sparse.identity(normal.shape[0], format="csc")
    rhs = rng.normal(size=(n_nodes + 3 * n_frames, 2))
    np.testing.assert_allclose(sky_motion._solve_normal(normal, shape, rhs), np.linalg.solve(normal.toarray(), rhs),
                               rtol=1e-7, atol=1e-9)
