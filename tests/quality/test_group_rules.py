"""The quality gate's decisions on measured groups (zemosaic.quality.group): rules and reasons, weights, the
group never emptied, partial defects, the user's exclusion list."""
import numpy as np
import pytest

from zemosaic.quality.group import (
    QualitySettings,
    decide_group,
    is_excluded,
    partial_mask_on_grid,
    read_exclude_list,
)
from zemosaic.quality.measures import FrameQuality


def _frame(fwhm=3.0, elong=0.02, t=1.0, sky=400.0, stars=300, noise=20.0, grid=None):
    return FrameQuality(n_stars=stars, fwhm_px=fwhm, elongation=elong, elongation_angle_deg=0.0, sky_level=sky,
                        sky_gradient=0.0, sky_gradient_angle_deg=0.0, noise=noise, transparency=t,
                        local_transparency=grid or [])


def _clean(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return [_frame(fwhm=3.0 * (1 + 0.04 * rng.standard_normal()), elong=abs(0.02 + 0.01 * rng.standard_normal()),
                   t=1.0 - 0.03 * rng.random(), sky=400 * (1 + 0.02 * rng.standard_normal()),
                   stars=int(300 + 10 * rng.standard_normal())) for _ in range(n)]


def test_a_clean_group_loses_no_frame():
    for seed in range(20):
        qs = _clean(seed=seed)
        d = decide_group(qs, [f"f{k}" for k in range(len(qs))], QualitySettings())
        assert all(d.kept), [q.reason for q in qs]


@pytest.mark.parametrize("bad, measure", [
    (dict(fwhm=6.0), "FWHM"), (dict(elong=0.35), "elongation"), (dict(t=0.4, sky=700.0), "transparency"),
    (dict(stars=60), "stars"), (dict(sky=1500.0), "sky")])
def test_each_rule_rejects_its_outlier_and_says_why(bad, measure):
    qs = _clean()
    qs[5] = _frame(**bad)
    d = decide_group(qs, [f"f{k}" for k in range(len(qs))], QualitySettings())
    assert d.kept == [k != 5 for k in range(len(qs))]
    assert qs[5].decision == "rejected"
    assert qs[5].reason.startswith(measure) and "group median" in qs[5].reason
    assert ">" in qs[5].reason or "<" in qs[5].reason


def test_reason_names_the_value_and_the_limit():
    qs = _clean()
    qs[3] = _frame(fwhm=5.8)
    decide_group(qs, [f"f{k}" for k in range(len(qs))], QualitySettings())
    value, limit = qs[3].reason.split(" > ")
    assert value == "FWHM 5.8px"
    assert float(limit.split("px")[0]) == pytest.approx(3.0 * 1.15, rel=0.05)  # the 15 % floor of a tight group


def test_a_rule_switched_off_rejects_nothing():
    qs = _clean()
    qs[2] = _frame(fwhm=6.0)
    d = decide_group(qs, [f"f{k}" for k in range(len(qs))], QualitySettings(rules=("elongation",)))
    assert all(d.kept)
    d = decide_group(qs, [f"f{k}" for k in range(len(qs))], QualitySettings(fwhm_k=0.0, fwhm_max_px=0.0))
    assert all(d.kept)


def test_absolute_limits_catch_a_night_that_is_bad_throughout():
    qs = [_frame(elong=0.45 + 0.01 * k) for k in range(8)] + [_frame(elong=0.05), _frame(elong=0.06)]
    d = decide_group(qs, [f"f{k}" for k in range(10)], QualitySettings(), protect=None)
    assert d.kept == [False] * 8 + [True, True]
    assert "absolute limit" in qs[0].reason


def test_the_group_is_never_emptied_the_best_frames_stay():
    qs = [_frame(elong=0.5, fwhm=3.0 + 0.5 * k) for k in range(6)]
    d = decide_group(qs, [f"f{k}" for k in range(6)], QualitySettings(), protect=None)
    assert any(d.kept)
    assert d.kept[0]  # the sharpest (highest weight)
    assert d.warnings and "best kept" in d.warnings[0]


def test_the_reference_is_protected():
    qs = _clean()
    qs[0] = _frame(fwhm=7.0)
    d = decide_group(qs, [f"f{k}" for k in range(len(qs))], QualitySettings(), protect=0)
    assert d.kept[0] and "reference frame f0 kept" in d.warnings[0]


def test_weights_follow_transparency_noise_and_fwhm():
    qs = [_frame(), _frame(t=0.5), _frame(fwhm=6.0), _frame(noise=40.0), _frame()]
    d = decide_group(qs, [f"f{k}" for k in range(5)], QualitySettings(reject=False))
    w = np.array(d.weights)
    assert w[1] / w[0] == pytest.approx(0.25)
    assert w[2] / w[0] == pytest.approx(0.25)
    assert w[3] / w[0] == pytest.approx(0.25)
    assert np.median(w) == pytest.approx(1.0)


def test_partial_defect_cells_and_the_frame_judged_on_its_clear_part():
    clear = [[1.0] * 4 for _ in range(6)]
    half = [[1.0, 1.0, 0.1, 0.0] for _ in range(6)]
    qs = _clean(8)
    for q in qs:
        q.local_transparency = clear
    qs[4] = _frame(t=0.6, stars=180, sky=520.0, grid=half)
    d = decide_group(qs, [f"f{k}" for k in range(8)], QualitySettings())
    assert d.kept[4]
    assert qs[4].masked_fraction == pytest.approx(0.5)
    assert d.bad_cells[4][:, 2:].all() and not d.bad_cells[4][:, :2].any()
    assert all(c is None for k, c in enumerate(d.bad_cells) if k != 4)


def test_a_frame_mostly_covered_is_rejected_whole():
    qs = _clean(8)
    qs[3] = _frame(grid=[[0.0, 0.0, 0.1, 1.0] for _ in range(6)])
    decide_group(qs, [f"f{k}" for k in range(8)], QualitySettings())
    assert qs[3].decision == "rejected" and qs[3].reason.startswith("partial defect over 75 %")


def test_a_lone_dim_cell_is_noise():
    grid = [[1.0] * 4 for _ in range(6)]
    grid[2][1] = 0.2
    qs = _clean(8)
    qs[1] = _frame(grid=grid)
    d = decide_group(qs, [f"f{k}" for k in range(8)], QualitySettings())
    assert d.bad_cells[1] is None and qs[1].masked_fraction == 0


def test_the_user_list_wins(tmp_path):
    listing = tmp_path / "exclude.txt"
    listing.write_text("# bad ones\nLight_*-2105*.fit\nframe_07.fits  # the dome\n", encoding="utf-8")
    patterns = read_exclude_list(listing)
    assert patterns == ["Light_*-2105*.fit", "frame_07.fits"]
    assert is_excluded("/data/Light_M31_10s_20240101-210512.fit", patterns)
    assert is_excluded("frame_07.fits", patterns) and not is_excluded("frame_08.fits", patterns)
    qs = _clean(6)
    d = decide_group(qs, [f"f{k}" for k in range(6)], QualitySettings(), excluded=[False, True] + [False] * 4)
    assert d.kept == [True, False, True, True, True, True]
    assert qs[1].decision == "excluded" and qs[1].reason == "frame_exclude list"


def test_partial_mask_on_a_shifted_grid():
    cells = np.zeros((2, 3), bool)
    cells[0, 2] = True  # frame x 200..300, y 0..100 of a 200 x 300 frame
    shift = np.array([[1.0, 0, 10.0], [0, 1.0, 5.0], [0, 0, 1]])  # frame -> grid
    mask = partial_mask_on_grid(cells, (200, 300), shift, (220, 330))
    ys, xs = np.nonzero(mask)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (5, 104, 210, 309)
    assert mask.sum() == 100 * 100


def test_the_signature_changes_only_with_the_decisions():
    qs = _clean()
    qs[5] = _frame(fwhm=6.0)
    names = [f"f{k}" for k in range(len(qs))]
    a = decide_group(qs, names, QualitySettings()).signature()
    b = decide_group(qs, names, QualitySettings(fwhm_k=2.5)).signature()
    c = decide_group(qs, names, QualitySettings(fwhm_k=0.0)).signature()
    assert a == b and a != c
