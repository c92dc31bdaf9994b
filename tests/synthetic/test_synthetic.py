"""Truth-based tests of the synthetic Seestar-like generator (small frames, fixed seeds)."""
import json
import math
import shutil
import subprocess
import time
import warnings

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS
from scipy import ndimage

from zemosaic.synthetic import generator as synthetic
from zemosaic.synthetic.generator import SynthSpec

SMALL = dict(panels=(2, 2), frames_per_panel=4, width=160, height=240)


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    spec = SynthSpec(**SMALL, seed=3, star_density_per_deg2=20000.0, defects=("hot_pixels",))
    return synthetic.generate_dataset(tmp_path_factory.mktemp("noisy"), spec)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """Noiseless, with every defect."""
    spec = SynthSpec(**SMALL, seed=5, noise=False, defects=synthetic.DEFECT_NAMES)
    return synthetic.generate_dataset(tmp_path_factory.mktemp("clean"), spec)


# ---------------------------------------------------------------------------------------------------------------
# helpers (test-local, independent of the project's debayer)

def _bilinear_debayer_grbg(cfa):
    h, w = cfa.shape
    masks = np.zeros((3, h, w), bool)
    masks[1, 0::2, 0::2] = masks[1, 1::2, 1::2] = True
    masks[0, 0::2, 1::2] = True
    masks[2, 1::2, 0::2] = True
    k_rb = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 4.0
    k_g = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]]) / 4.0
    planes = [ndimage.convolve(cfa * masks[c], k_g if c == 1 else k_rb, mode="mirror") for c in range(3)]
    return np.stack(planes, axis=-1)


def _windowed_centroid(img, x, y, sigma=1.3, half=6, iters=20):
    """Gaussian-windowed centroid (converges to the centre of a symmetric profile)."""
    ix, iy = int(round(x)), int(round(y))
    cut = img[iy - half:iy + half + 1, ix - half:ix + half + 1]
    yy, xx = np.mgrid[iy - half:iy + half + 1, ix - half:ix + half + 1]
    cx, cy = x, y
    for _ in range(iters):
        wgt = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma ** 2)) * cut
        cx, cy = cx + 2 * (wgt * (xx - cx)).sum() / wgt.sum(), cy + 2 * (wgt * (yy - cy)).sum() / wgt.sum()
    return cx, cy


def _aperture_sum(img, x, y, radius):
    yy, xx = np.mgrid[:img.shape[0], :img.shape[1]]
    inside = (xx - x) ** 2 + (yy - y) ** 2 <= radius ** 2
    return img[inside].sum(axis=0)


def _isolated(x, y, flux, shape, margin, min_sep, rel=0.02):
    keep = []
    for i in range(len(x)):
        if not (margin <= x[i] < shape[1] - margin and margin <= y[i] < shape[0] - margin):
            continue
        d = np.hypot(x - x[i], y - y[i])
        if not np.any((d > 0) & (d < min_sep) & (flux > rel * flux[i])):
            keep.append(i)
    return np.array(keep, dtype=int)


def _expected_signal(ds, frame):
    shape = (ds.spec.height, ds.spec.width)
    sig = frame.sky.render(shape)
    if frame.transparency > 0:
        sig += frame.transparency * ds.scene.render(frame.wcs, shape, fwhm=frame.fwhm_px)
    return sig


# ---------------------------------------------------------------------------------------------------------------
# geometry and astrometric truth

def _centroid_errors(lum, wcs, cat):
    """Distances (px) between measured centroids of bright, isolated, unsaturated catalogue stars and
    where ``wcs`` puts them."""
    x, y = wcs.all_world2pix(np.asarray(cat["ra"]), np.asarray(cat["dec"]), 0)
    sel = _isolated(x, y, np.asarray(cat["flux_g"]), lum.shape, margin=10, min_sep=10)
    sel = sel[(cat["peak_adu"][sel] > 250) & (cat["peak_adu"][sel] < 20000)]
    return [math.hypot(cx - x[i], cy - y[i]) for i in sel for cx, cy in [_windowed_centroid(lum, x[i], y[i])]]


def test_star_centroids_in_debayered_frames_sit_where_the_wcs_puts_them(noisy):
    errors = []
    for frame in noisy.frames:  # rotations from 0 to the full drift
        raw = fits.getdata(frame.path).astype(np.float64) - noisy.spec.pedestal_adu
        shape = raw.shape
        smooth = frame.sky.render(shape) + noisy.scene.render(frame.wcs, shape, stars=False)  # known, not stars
        rgb = _bilinear_debayer_grbg(raw - synthetic.mosaic_bayer(smooth.astype(np.float64)))
        errors += _centroid_errors(rgb.sum(axis=2), frame.wcs, noisy.catalogue)
    rms = float(np.sqrt(np.mean(np.square(errors))))
    assert len(errors) >= 40 and rms < 0.15, (len(errors), rms)


def test_stars_read_through_fits_io_sit_where_the_header_wcs_puts_them(noisy):
    """The same truth through the product's own reader: BZERO, BAYERPAT, our debayer, the header's WCS."""
    from zemosaic.io import fits as fits_io

    errors = []
    for frame in noisy.frames:
        read = fits_io.read_frame(frame.path)
        shape = read.data.shape[:2]
        smooth = frame.sky.render(shape) + noisy.scene.render(read.info.wcs, shape, stars=False)
        lum = (read.data - noisy.spec.pedestal_adu - smooth).sum(axis=2)
        errors += _centroid_errors(lum, read.info.wcs, noisy.catalogue)
    rms = float(np.sqrt(np.mean(np.square(errors))))
    print(f"read through fits_io: {len(errors)} stars, centroid RMS {rms:.3f} px")
    assert len(errors) >= 40 and rms < 0.15, (len(errors), rms)


def test_altaz_rotation_in_headers_follows_the_requested_drift(noisy):
    frames = sorted(noisy.frames, key=lambda f: f.date_obs)
    rot = np.array([synthetic.wcs_rotation_deg(WCS(fits.getheader(f.path))) for f in frames])
    assert rot[-1] - rot[0] == pytest.approx(noisy.spec.rotation_drift_deg, abs=0.01)
    np.testing.assert_allclose(np.diff(rot), np.diff(rot)[0], atol=1e-6)  # linear in time
    np.testing.assert_allclose(rot, [f.rotation_deg for f in frames], atol=1e-6)
    assert all(fits.getheader(f.path)["EQMODE"] == 0 for f in frames)
    # every panel sees most of the drift (frames interleaved across panels)
    for p in range(4):
        r = [f.rotation_deg for f in frames if f.panel == p]
        assert max(r) - min(r) > 0.7 * noisy.spec.rotation_drift_deg


def test_equatorial_frames_do_not_rotate_but_their_ground_gradient_turns(tmp_path):
    spec = SynthSpec(panels=(1, 2), frames_per_panel=3, width=64, height=96, mount="equatorial",
                     rotation_drift_deg=30.0, nebula=False, seed=2)
    ds = synthetic.generate_dataset(tmp_path, spec)
    rot = [synthetic.wcs_rotation_deg(WCS(fits.getheader(p))) for p in ds.frame_paths]
    np.testing.assert_allclose(rot, 0.0, atol=1e-9)
    assert all(fits.getheader(p)["EQMODE"] == 1 for p in ds.frame_paths)
    turn = (ds.frames[0].sky.angle_deg - ds.frames[-1].sky.angle_deg) % 360.0
    assert abs(turn - 30.0) < 12.0  # +- 3 deg jitter per frame


def test_panels_overlap_by_the_requested_fraction(clean):
    f0 = next(f for f in clean.frames if f.panel == 0)
    f1 = next(f for f in clean.frames if f.panel == 1)
    # centre of panel 1 seen in panel 0's pixels: (1 - overlap) * width to the right, up to dither and rotation
    ra, dec = f1.wcs.wcs_pix2world([[79.5, 119.5]], 0)[0]
    x, y = f0.wcs.wcs_world2pix([[ra, dec]], 0)[0]
    assert math.hypot(x - 79.5, y - 119.5) == pytest.approx(0.7 * 160, abs=2 * 4.0 + 3.0)


def test_global_grid_covers_every_frame(clean):
    gw, (gh, gwid) = clean.global_wcs, clean.global_shape
    for f in clean.frames:
        corners = np.array([[-0.5, -0.5], [159.5, -0.5], [-0.5, 239.5], [159.5, 239.5]])
        gx, gy = gw.wcs_world2pix(f.wcs.wcs_pix2world(corners, 0), 0).T
        assert gx.min() >= -0.5 and gy.min() >= -0.5 and gx.max() <= gwid - 0.5 and gy.max() <= gh - 0.5


# ---------------------------------------------------------------------------------------------------------------
# photometric truth

def test_render_star_field_conserves_flux_and_colour():
    x, y = np.array([30.3, 90.7, 60.0]), np.array([40.2, 35.9, 100.45])
    flux = np.array([1.0e3, 5.0e4, 2.0e6])
    colors = np.array([[1.2, 1.0, 0.7], [0.6, 1.0, 1.4], [1.0, 1.0, 1.0]])
    img = synthetic.render_star_field((140, 120), x, y, flux, fwhm=3.0, colors=colors)
    assert img.shape == (140, 120, 3) and img.dtype == np.float32
    for i in range(3):
        np.testing.assert_allclose(_aperture_sum(img, x[i], y[i], 15), flux[i] * colors[i], rtol=0.01)
    mono = synthetic.render_star_field((140, 120), x[:1], y[:1], flux[:1], fwhm=3.0)
    assert mono.shape == (140, 120)
    assert mono.sum() == pytest.approx(1.0e3, rel=1e-5)  # whole stamp inside: exact conservation
    yy, xx = np.mgrid[:140, :120]
    cx, cy = (mono * xx).sum() / mono.sum(), (mono * yy).sum() / mono.sum()
    assert (cx, cy) == pytest.approx((30.3, 40.2), abs=0.01)


def test_truth_sky_and_catalogue_share_the_frame_flux_scale(clean):
    with fits.open(clean.truth_dir / "truth_sky.fits") as hdul:
        truth = np.moveaxis(hdul[0].data, 0, -1)
        wcs = WCS(hdul[0].header, naxis=2)
        with warnings.catch_warnings():
            warnings.simplefilter("error")                                 # its three axes as written: no fix-up
            cube = WCS(hdul[0].header)
    assert cube.naxis == 3 and cube.wcs.ctype[2] == "CHANNEL"
    assert np.array_equal(cube.celestial.wcs.cd, wcs.wcs.cd) and cube.celestial.wcs.ctype[0] == "RA---TAN"
    assert truth.shape[:2] == clean.global_shape
    cat = Table.read(clean.truth_dir / "catalogue.csv", format="ascii.csv")
    assert len(cat) == len(clean.catalogue)
    x, y = wcs.wcs_world2pix(np.asarray(cat["ra"]), np.asarray(cat["dec"]), 0)
    fluxes = np.column_stack([cat["flux_r"], cat["flux_g"], cat["flux_b"]])
    sel = _isolated(x, y, fluxes[:, 1], truth.shape, margin=20, min_sep=22, rel=0.003)
    sel = sel[fluxes[sel, 1] > 1000][:10]
    assert len(sel) >= 3
    stars_only = truth - clean.scene.render(wcs, truth.shape[:2], stars=False)  # file minus the known nebula
    for i in sel:
        np.testing.assert_allclose(_aperture_sum(stars_only, x[i], y[i], 15), fluxes[i], rtol=0.01)
    np.testing.assert_allclose(truth, clean.scene.render(clean.global_wcs, clean.global_shape), atol=1e-3)


def test_noiseless_raw_frames_are_the_truth_through_a_grbg_filter(clean):
    ped = clean.spec.pedestal_adu
    hot = {(int(y), int(x)) for y, x, _ in clean.hot_pixels}
    for frame in clean.frames[:6]:
        with fits.open(frame.path, do_not_scale_image_data=True) as hdul:
            hdr = hdul[0].header
            assert hdr["BITPIX"] == 16 and hdr["BZERO"] == 32768
            assert hdr["BAYERPAT"] == "GRBG" and hdr["XBAYROFF"] == 0 and hdr["YBAYROFF"] == 0
            assert hdr["INSTRUME"] == "Seestar S50" and hdr["EXPTIME"] == 10.0
        raw = fits.getdata(frame.path)
        assert raw.dtype == np.uint16 and raw.shape == (240, 160)
        expected = synthetic.mosaic_bayer(_expected_signal(clean, frame), "GRBG") + ped
        diff = raw.astype(np.float64) - expected
        ok = np.ones(raw.shape, bool)
        for y, x in hot:
            ok[y, x] = False
        if "satellite_trail" in frame.defects:
            continue
        assert np.abs(diff[ok & (raw < 65535)]).max() <= 0.5 + 1e-3
        assert raw[ok].min() >= ped


def test_mosaic_bayer_grbg_channel_order():
    red = np.zeros((4, 6, 3), np.float32)
    red[..., 0] = 1.0
    cfa = synthetic.mosaic_bayer(red, "GRBG")
    lit = np.zeros((4, 6), bool)
    lit[0::2, 1::2] = True  # R sites of GRBG: row 0, odd columns
    np.testing.assert_array_equal(cfa > 0, lit)
    blue = np.zeros_like(red)
    blue[..., 2] = 1.0
    assert np.array_equal(synthetic.mosaic_bayer(blue, "GRBG") > 0, np.roll(np.roll(lit, 1, 0), 1, 1))


def test_sky_background_levels_differ_between_panels_and_gradient_turns_with_the_sky(noisy):
    levels = [np.mean([f.sky.level_adu for f in noisy.frames if f.panel == p]) for p in range(4)]
    assert (max(levels) - min(levels)) / np.mean(levels) > 0.2
    first, last = noisy.frames[0], noisy.frames[-1]
    # fixed on the ground = fixed in Alt-Az frame pixels, so it turns by the field rotation relative to the sky
    sky_turn = (last.sky.angle_deg + last.rotation_deg) - (first.sky.angle_deg + first.rotation_deg)
    assert abs(((sky_turn + 180) % 360) - 180 - noisy.spec.rotation_drift_deg) < 12.0
    bg = last.sky.render((240, 160))
    a = math.radians(last.sky.angle_deg)
    slope = np.polyfit((np.mgrid[:240, :160][1] * math.cos(a) + np.mgrid[:240, :160][0] * math.sin(a)).ravel(),
                       bg[..., 0].ravel(), 1)[0]
    assert slope * last.sky.scale_px == pytest.approx(last.sky.channel_levels[0] * last.sky.gradient[0], rel=1e-3)


# ---------------------------------------------------------------------------------------------------------------
# defects and files

def test_bad_input_files_are_written_as_requested(clean):
    bad = clean.bad_files
    assert set(bad) == {"truncated_file", "not_fits", "no_wcs", "all_nan", "wrong_size"}
    for path in bad.values():
        assert path.name.startswith("Light_Synth_10.0s_IRCUT_") and path.suffix == ".fit"
        assert path not in clean.frame_paths
    header_blocks = 2880 * math.ceil(len(fits.getheader(clean.frame_paths[0]).tostring()) / 2880)
    assert bad["truncated_file"].stat().st_size < header_blocks + 240 * 160 * 2
    assert bad["truncated_file"].read_bytes()[:6] == b"SIMPLE"
    assert not bad["not_fits"].read_bytes().startswith(b"SIMPLE")
    assert not WCS(fits.getheader(bad["no_wcs"])).has_celestial
    nan = fits.getdata(bad["all_nan"])
    assert nan.dtype.kind == "f" and np.isnan(nan).all()
    assert fits.getdata(bad["wrong_size"]).shape == (120, 80)
    assert WCS(fits.getheader(bad["wrong_size"])).has_celestial


def test_frame_defects(clean):
    by_defect = {d: f for f in clean.frames for d in f.defects}
    assert set(by_defect) == {"satellite_trail", "cloudy_frame", "starless_frame"}
    starless = by_defect["starless_frame"]
    raw = fits.getdata(starless.path).astype(np.float64) - clean.spec.pedestal_adu
    expected_bg = synthetic.mosaic_bayer(starless.sky.render((240, 160)).astype(np.float64))
    hot = np.zeros(raw.shape, bool)
    hot[clean.hot_pixels[:, 0], clean.hot_pixels[:, 1]] = True
    assert np.abs(raw - expected_bg)[~hot].max() <= 0.5 + 1e-3  # no star, no nebula
    normal = [f for f in clean.frames if not f.defects and f.panel == starless.panel][0]
    assert starless.sky.level_adu > 2.0 * normal.sky.level_adu
    assert by_defect["cloudy_frame"].transparency == pytest.approx(0.3)
    trail = by_defect["satellite_trail"]
    raw_t = fits.getdata(trail.path).astype(np.float64)
    excess = raw_t - clean.spec.pedestal_adu - synthetic.mosaic_bayer(_expected_signal(clean, trail))
    p = trail.details["satellite_trail"]
    assert excess[int(p["y0"]), int(p["x0"])] > 0.3 * p["peak_adu"]
    assert (excess[~hot] > 100).sum() > 100  # a line, crossing the frame
    for f in clean.frames:  # hot pixels are fixed on the sensor
        data = fits.getdata(f.path).astype(np.float64)
        assert np.all(data[hot] - clean.spec.pedestal_adu >= 0.9 * 2000)


def test_frames_json_records_the_truth(clean):
    record = json.loads((clean.truth_dir / "frames.json").read_text())
    assert len(record["frames"]) == 16 and record["global_shape"] == list(clean.global_shape)
    assert {b["defect"] for b in record["bad_files"]} == set(clean.bad_files)
    for entry, frame in zip(record["frames"], clean.frames, strict=True):
        assert (clean.out_dir / entry["file"]).is_file()
        hdr = fits.getheader(clean.out_dir / entry["file"])
        for key, value in entry["wcs"].items():
            assert hdr[key] == pytest.approx(value, rel=1e-12) if isinstance(value, float) else hdr[key] == value
        assert entry["rotation_deg"] == pytest.approx(frame.rotation_deg)
        assert entry["sky"]["level_adu"] == pytest.approx(frame.sky.level_adu)
    dates = [fits.getheader(p)["DATE-OBS"] for p in clean.frame_paths]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path):
    spec = SynthSpec(panels=(1, 2), frames_per_panel=2, width=64, height=96, defects=("hot_pixels", "truncated_file"))
    a = synthetic.generate_dataset(tmp_path / "a", spec)
    b = synthetic.generate_dataset(tmp_path / "b", spec)
    c = synthetic.generate_dataset(tmp_path / "c", SynthSpec(**{**spec.to_dict(), "panels": (1, 2),
                                                                 "defects": (), "seed": 1}))
    files_a = sorted(p.relative_to(a.out_dir) for p in a.out_dir.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b.out_dir) for p in b.out_dir.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == 4 + 1 + 3
    for rel in files_a:
        assert (a.out_dir / rel).read_bytes() == (b.out_dir / rel).read_bytes(), rel
    assert fits.getdata(a.frame_paths[0]).tobytes() != fits.getdata(c.frame_paths[0]).tobytes()


def test_progress_events(tmp_path):
    events = []
    spec = SynthSpec(panels=(1, 1), frames_per_panel=3, width=32, height=48, nebula=False)
    synthetic.generate_dataset(tmp_path, spec, progress_callback=events.append)
    assert [e.phase for e in events] == ["synth"] * 4
    assert [(e.done, e.total) for e in events] == [(1, 4), (2, 4), (3, 4), (4, 4)]


# ---------------------------------------------------------------------------------------------------------------
# in-memory frame groups

def test_frame_group_noiseless_frames_are_scene_plus_background():
    g = synthetic.make_frame_group(4, shape=(96, 128), noise=False, ref_index=1)
    assert len(g.frames) == 4 and g.frames[0].shape == (96, 128, 3) and g.frames[0].dtype == np.float32
    np.testing.assert_allclose(g.rotations_deg, [0, 20 / 3, 40 / 3, 20], atol=1e-9)
    assert np.all(np.abs(g.shifts) <= 4.0)
    for i in range(4):
        stars_neb = g.scene.render(g.wcs_list[i], (96, 128))
        np.testing.assert_allclose(g.frames[i] - g.background(i), stars_neb, atol=2e-3)
    np.testing.assert_allclose(g.frames[1] - g.background(1), g.truth_sky_ref, atol=2e-3)
    assert np.all(g.noise_sigma == 0)


def test_frame_group_noise_matches_its_sigma_and_layouts():
    g = synthetic.make_frame_group(2, shape=(128, 160), nebula=False, seed=4, star_density_per_deg2=0.0)
    clean = synthetic.make_frame_group(2, shape=(128, 160), nebula=False, seed=4, noise=False,
                                       star_density_per_deg2=0.0)
    resid = g.frames[0] - clean.frames[0]
    np.testing.assert_allclose(resid.reshape(-1, 3).std(axis=0), g.noise_sigma[0], rtol=0.05)
    assert g.noise_sigma.shape == (2, 3)
    mono = synthetic.make_frame_group(2, shape=(64, 64), rgb=False, noise=False)
    assert mono.frames[0].shape == (64, 64) and mono.truth_sky_ref.shape == (64, 64) and mono.layout == "mono"
    bay = synthetic.make_frame_group(2, shape=(64, 64), bayer=True, noise=False)
    assert bay.frames[0].shape == (64, 64) and bay.layout == "bayer:GRBG"
    np.testing.assert_allclose(bay.frames[0], synthetic.mosaic_bayer(
        bay.scene.render(bay.wcs_list[0], (64, 64)) + bay.background_models[0].render((64, 64))), atol=2e-3)


def test_sky_scene_is_the_one_the_dataset_observes(clean):
    scene = synthetic.make_sky_scene(clean.spec)
    assert len(scene.catalogue) == len(clean.catalogue)
    np.testing.assert_array_equal(scene.catalogue["ra"], clean.catalogue["ra"])
    f = clean.frames[0]
    np.testing.assert_array_equal(scene.render(f.wcs, (240, 160)), clean.scene.render(f.wcs, (240, 160)))




def test_spec_validation_names_the_field():
    with pytest.raises(synthetic.SynthSpecError, match="mount"):
        SynthSpec(mount="fork")
    with pytest.raises(synthetic.SynthSpecError, match="defects"):
        SynthSpec(defects=("dust",))


def test_colour_frames_without_bayer_are_three_planes(tmp_path):
    spec = SynthSpec(panels=(1, 1), frames_per_panel=2, width=48, height=64, bayer=False, noise=False,
                     panel_order="sequential", defects=("hot_pixels",))
    ds = synthetic.generate_dataset(tmp_path, spec)
    hdr = fits.getheader(ds.frame_paths[1])
    assert "BAYERPAT" not in hdr and hdr["NAXIS"] == 3 and hdr["NAXIS3"] == 3
    data = fits.getdata(ds.frame_paths[1]).astype(np.float64)
    expected = np.moveaxis(_expected_signal(ds, ds.frames[1]), -1, 0) + spec.pedestal_adu
    ok = np.ones((64, 48), bool)
    ok[ds.hot_pixels[:, 0], ds.hot_pixels[:, 1]] = False
    assert np.abs(data - expected)[:, ok].max() <= 0.5 + 1e-3


# ---------------------------------------------------------------------------------------------------------------
# real-telescope frames: no WCS, Seestar hints, real index stars -- a plate solver must solve them

def _index_files():
    from zemosaic.solve.index_catalogue import find_index_files
    return find_index_files()


needs_index = pytest.mark.skipif(not _index_files(), reason="no astrometry.net index files installed")
HINT_ERROR_ARCMIN = 5.0


def _sep_arcmin(ra1, dec1, ra2, dec2):
    r1, d1, r2, d2 = map(np.radians, (ra1, dec1, ra2, dec2))
    h = np.sin((d2 - d1) / 2) ** 2 + np.cos(d1) * np.cos(d2) * np.sin((r2 - r1) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(h))) * 60.0


@pytest.fixture(scope="module")
def seestar(tmp_path_factory):
    """Full Seestar geometry, no header WCS, 5' hint errors, Tycho-2 stars at their real positions."""
    spec = SynthSpec(panels=(1, 2), frames_per_panel=2, header_wcs=False, hint_error_arcmin=HINT_ERROR_ARCMIN,
                     real_stars="auto", seed=11)
    return synthetic.generate_dataset(tmp_path_factory.mktemp("seestar"), spec)


def test_seestar_like_headers_carry_hints_but_no_wcs(tmp_path):
    spec = SynthSpec(panels=(1, 2), frames_per_panel=2, width=64, height=96, header_wcs=False,
                     hint_error_arcmin=HINT_ERROR_ARCMIN)
    ds = synthetic.generate_dataset(tmp_path / "own", spec)
    for frame in ds.frames:
        hdr = fits.getheader(frame.path)
        assert not WCS(hdr).has_celestial
        assert not [k for k in hdr if k.startswith(("CTYPE", "CRVAL", "CRPIX", "CD", "PC", "CDELT", "A_", "B_"))]
        assert (hdr["CREATOR"], hdr["INSTRUME"], hdr["IMAGETYP"], hdr["STACKCNT"]) == (
            "ZWO Seestar S50", "Seestar S50", "Light", 1)
        assert (hdr["XPIXSZ"], hdr["XBINNING"], hdr["BAYERPAT"], hdr["EQMODE"]) == (2.9, 1, "GRBG", 0)
        assert 206.265 * hdr["XPIXSZ"] / hdr["FOCALLEN"] == pytest.approx(spec.pixel_scale_arcsec, rel=1e-3)
        true_ra, true_dec = frame.wcs.wcs_pix2world([[(spec.width - 1) / 2, (spec.height - 1) / 2]], 0)[0]
        miss = _sep_arcmin(hdr["RA"], hdr["DEC"], true_ra, true_dec)
        assert 0.4 * HINT_ERROR_ARCMIN < miss < 2 * HINT_ERROR_ARCMIN
        h, m, s = (float(v) for v in hdr["OBJCTRA"].split())
        d, dm, ds_ = (abs(float(v)) for v in hdr["OBJCTDEC"].split())
        sign = -1.0 if hdr["OBJCTDEC"].startswith("-") else 1.0
        assert 15 * (h + m / 60 + s / 3600) == pytest.approx(hdr["RA"], abs=1e-4)
        assert sign * (d + dm / 60 + ds_ / 3600) == pytest.approx(hdr["DEC"], abs=1e-4)
    same = synthetic.generate_dataset(tmp_path / "same", SynthSpec(**{**spec.__dict__, "hint_same_for_all": True}))
    hints = {(fits.getheader(p)["RA"], fits.getheader(p)["DEC"]) for p in same.frame_paths}
    assert len(hints) == 1
    (ra, dec), = hints
    assert _sep_arcmin(ra, dec, spec.ra_deg, spec.dec_deg) < 2 * HINT_ERROR_ARCMIN
    with_wcs = synthetic.generate_dataset(tmp_path / "wcs", SynthSpec(**{**spec.__dict__, "header_wcs": True,
                                                                         "hint_error_arcmin": 0.0}))
    hdr = fits.getheader(with_wcs.frame_paths[0])
    assert WCS(hdr).has_celestial and (hdr["RA"], hdr["DEC"]) == (hdr["CRVAL1"], hdr["CRVAL2"])
    assert "OBJCTRA" not in hdr and hdr["CREATOR"] == "ZeMosaic synthetic generator"


@needs_index
def test_real_index_stars_are_in_the_truth_at_their_catalogue_positions(seestar):
    from zemosaic.solve.index_catalogue import index_stars

    cat = seestar.catalogue
    real = np.asarray(cat["index_star"])
    centre = seestar.global_wcs.wcs.crval
    stars = index_stars(centre[0], centre[1], 0.3)
    assert len(stars) > 5
    for ra, dec in zip(stars.ra, stars.dec, strict=True):  # the index's stars near the centre are in the truth, exactly
        assert np.min(_sep_arcmin(ra, dec, np.asarray(cat["ra"])[real], np.asarray(cat["dec"])[real])) < 1e-6
    flux = np.asarray(cat["flux_g"])  # colour ratios are relative to G
    mag = np.asarray(cat["mag"])
    np.testing.assert_allclose(flux[real], 10 ** (-0.4 * (mag[real] - synthetic.REAL_STAR_ZERO_POINT)))
    assert np.all(np.isnan(mag[~real]))
    assert np.max(flux[~real]) <= np.min(flux[real]) * (1 + 1e-9)  # synthetic stars only below the index's limit
    for frame in seestar.frames:  # tens of real stars per frame, thousands of synthetic ones
        x, y = frame.wcs.wcs_world2pix(np.asarray(cat["ra"]), np.asarray(cat["dec"]), 0)
        inside = (x >= 0) & (x < seestar.spec.width) & (y >= 0) & (y < seestar.spec.height)
        assert (inside & real).sum() >= 30 and (inside & ~real).sum() > 2000


@needs_index
@pytest.mark.skipif(shutil.which("solve-field") is None, reason="astrometry.net solve-field not installed")
@pytest.mark.filterwarnings("ignore::astropy.wcs.FITSFixedWarning")
def test_solve_field_solves_a_no_wcs_frame_to_the_true_wcs(seestar, tmp_path):
    frame = seestar.frames[-1]  # rotated by the full drift
    hdr = fits.getheader(frame.path)
    assert not WCS(hdr).has_celestial
    start = time.perf_counter()
    done = subprocess.run(
        ["solve-field", "--no-plots", "--overwrite", "--scale-units", "arcsecperpix", "--scale-low", "2.2",
         "--scale-high", "2.6", "--ra", str(hdr["RA"]), "--dec", str(hdr["DEC"]), "--radius", "2",
         "--downsample", "2", "--cpulimit", "60", "--dir", str(tmp_path), "--new-fits", "none", "--corr", "none",
         "--rdls", "none", "--match", "none", "--index-xyls", "none", "--solved", "none", "--temp-axy",
         str(frame.path)], capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - start
    solved = tmp_path / (frame.path.stem + ".wcs")
    assert solved.exists(), done.stdout[-2000:] + done.stderr[-2000:]
    wcs = WCS(fits.getheader(solved))
    spec = seestar.spec
    pts = np.array([[(spec.width - 1) / 2, (spec.height - 1) / 2], [0, 0], [spec.width - 1, spec.height - 1]])
    x, y = frame.wcs.all_world2pix(*wcs.all_pix2world(pts[:, 0], pts[:, 1], 0), 0)
    offsets = np.hypot(x - pts[:, 0], y - pts[:, 1])
    print(f"solve-field: {elapsed:.1f} s, offset at centre {offsets[0]:.3f} px, corners {offsets[1:].round(3)}")
    assert offsets[0] < 1.0 and np.max(offsets) < 2.0
