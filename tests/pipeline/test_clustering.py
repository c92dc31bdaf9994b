"""Clustering of frames into master-tile groups, on fake frame headers with known pointings."""
from dataclasses import dataclass

import numpy as np

from zemosaic.pipeline.clustering import cluster_frames


@dataclass
class FakeFrame:
    ra: float
    dec: float
    mount_mode: str | None = "altaz"
    date_obs: str | None = None
    shape: tuple = (1920, 1080)
    pixel_scale_arcsec: float = 2.4

    @property
    def center_radec(self):
        return (self.ra, self.dec)


def _panel(ra, dec, n, rng, start=0, mount="altaz"):
    # dithers of a few pixels around one pointing (2.4"/px)
    return [FakeFrame(ra + rng.normal(0, 5 / 3600) / np.cos(np.radians(dec)), dec + rng.normal(0, 5 / 3600),
                      mount, f"2026-01-01T00:{start + k:02d}:00") for k in range(n)]


def test_four_panels_give_four_groups_with_central_reference():
    rng = np.random.default_rng(0)
    fov_short = 1080 * 2.4 / 3600  # 0.72 deg
    frames = []
    for r in range(2):
        for c in range(2):
            frames += _panel(83.8 + c * 0.7 * fov_short, -5.4 + r * 0.7 * fov_short, 6, rng, start=10 * (2 * r + c))
    groups = cluster_frames(frames, threshold_fov_frac=0.5)
    assert len(groups) == 4
    assert sorted(len(g) for g in groups) == [6, 6, 6, 6]
    for g in groups:
        ras = np.array([frames[i].ra for i in g.members])
        decs = np.array([frames[i].dec for i in g.members])
        d = np.hypot((ras - ras.mean()) * np.cos(np.radians(decs)), decs - decs.mean())
        assert g.reference == g.members[int(np.argmin(d))]
        assert g.reference in g.members


def test_mount_modes_are_not_mixed_and_large_groups_split_chronologically():
    rng = np.random.default_rng(1)
    frames = _panel(10.0, 40.0, 9, rng) + _panel(10.0, 40.0, 3, rng, start=30, mount="equatorial")
    groups = cluster_frames(frames, max_frames=4)
    altaz = [g for g in groups if g.mount_mode == "altaz"]
    eq = [g for g in groups if g.mount_mode == "equatorial"]
    assert [len(g) for g in altaz] == [3, 3, 3] or sorted(len(g) for g in altaz) == [3, 3, 3]
    assert len(eq) == 1 and len(eq[0]) == 3
    # chronological: each sub-group is a contiguous run of times
    for g in altaz:
        minutes = sorted(int(frames[i].date_obs[14:16]) for i in g.members)
        assert minutes == list(range(minutes[0], minutes[0] + len(minutes)))


def test_ra_wraparound_keeps_one_group():
    frames = [FakeFrame(359.99, 0.0), FakeFrame(0.01, 0.0), FakeFrame(0.0, 0.01)]
    groups = cluster_frames(frames)
    assert len(groups) == 1 and len(groups[0]) == 3
