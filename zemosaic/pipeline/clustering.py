"""Phase 2: group frames that point at about the same place into master-tile groups.

Rule: two frames are linked when the angular distance between their centres is below
``threshold_fov_frac`` x the short side of the field of view; groups are the connected components
of that graph (so a slowly drifting pointing stays one group). Alt-Az and equatorial frames are
never mixed when ``split_by_mount`` is set. A group larger than ``max_frames`` is split into
balanced CHRONOLOGICAL sub-groups: on an Alt-Az mount consecutive frames share a similar field
rotation, so each sub-tile keeps a compact, well-covered footprint (a spatial split of frames that
all point at the same place would make no sense).

The reference of a group is its most central frame (closest to the median pointing), ties broken
by time.

After clustering, :func:`reject_scale_outliers` drops the frames whose pixel scale disagrees with
their group's (a wrong WCS, another instrument), and :func:`separate_targets` tells apart groups
that lie far from all the others (another target in the same folder), which the run reports.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

__all__ = ["FrameGroup", "Target", "cluster_frames", "reject_scale_outliers", "separate_targets", "unit_vectors"]

log = logging.getLogger(__name__)


class _FrameLike(Protocol):  # what clustering needs (reads) of fits_io.FrameInfo, or of a frozen stand-in
    @property
    def shape(self) -> tuple[int, int]: ...

    @property
    def mount_mode(self) -> str | None: ...

    @property
    def date_obs(self) -> str | None: ...

    @property
    def center_radec(self) -> tuple[float, float]: ...

    @property
    def pixel_scale_arcsec(self) -> float: ...


@dataclass(frozen=True)
class FrameGroup:
    """Indices (into the scanned frame list) of one master-tile group, and its reference frame."""

    members: tuple[int, ...]
    reference: int
    center_radec: tuple[float, float]
    mount_mode: str | None

    def __len__(self) -> int:
        return len(self.members)


@dataclass(frozen=True)
class Target:
    """Groups (indices into the group list) that lie together on the sky, far from the other targets."""

    groups: tuple[int, ...]
    n_frames: int
    center_radec: tuple[float, float]
    nearest_other_deg: float | None  # angular distance to the closest group of another target; None if alone


def unit_vectors(ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    """Cartesian unit vectors (N, 3) of sky positions in degrees."""
    ra, dec = np.radians(ra_deg), np.radians(dec_deg)
    return np.column_stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])


def cluster_frames(
    frames: Sequence[_FrameLike],
    *,
    threshold_fov_frac: float = 0.5,
    split_by_mount: bool = True,
    max_frames: int = 400,
) -> list[FrameGroup]:
    """Group frames by sky position into master-tile groups.

    Parameters
    ----------
    frames : sequence of FrameInfo
        Scanned frames (headers + WCS).
    threshold_fov_frac : float
        Link distance as a fraction of the short side of the (median) field of view.
    split_by_mount : bool
        Keep Alt-Az and equatorial frames in separate groups.
    max_frames : int
        Larger groups are split into balanced chronological sub-groups.

    Returns
    -------
    list of FrameGroup
        Ordered by decreasing declination then increasing right ascension of the group centre
        (a stable, reader-friendly tile numbering).
    """
    if not frames:
        return []
    ra, dec = np.array([f.center_radec for f in frames], dtype=float).T
    xyz = unit_vectors(ra, dec)
    fov_deg = np.median([min(f.shape) * f.pixel_scale_arcsec / 3600.0 for f in frames])
    link_deg = threshold_fov_frac * fov_deg
    labels = _linked_components(xyz, link_deg, [f.mount_mode if split_by_mount else None for f in frames])
    log.info("cluster: %d frames, link distance %.4f deg (%.2f x FOV %.4f deg), %d groups before split",
             len(frames), link_deg, threshold_fov_frac, fov_deg, labels.max() + 1)
    groups = []
    for label in range(labels.max() + 1):
        members = np.flatnonzero(labels == label)
        for part in _chronological_parts(members, frames, max_frames):
            groups.append(_make_group(part, frames, xyz))
    groups.sort(key=lambda g: (-round(g.center_radec[1], 4), round(g.center_radec[0], 4)))
    return groups


def _linked_components(xyz: np.ndarray, link_deg: float, mounts: list) -> np.ndarray:
    chord = 2.0 * np.sin(np.radians(link_deg) / 2.0)
    pairs = cKDTree(xyz).query_pairs(chord, output_type="ndarray")
    if len(pairs):
        same_mount = np.array([mounts[i] == mounts[j] for i, j in pairs], dtype=bool)
        pairs = pairs[same_mount]
    n = len(xyz)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n)) if len(pairs) else \
        coo_matrix((n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def _chronological_parts(members: np.ndarray, frames, max_frames: int) -> list[np.ndarray]:
    order = sorted(members, key=lambda i: (frames[i].date_obs or "", i))
    n_parts = int(np.ceil(len(order) / max_frames))
    if n_parts > 1:
        log.info("cluster: group of %d frames split into %d chronological sub-groups (max_frames=%d)",
                 len(order), n_parts, max_frames)
    return [np.array(part) for part in np.array_split(np.array(order), n_parts)]


def _make_group(members: np.ndarray, frames, xyz: np.ndarray) -> FrameGroup:
    centre = xyz[members].mean(axis=0)
    centre /= np.linalg.norm(centre)
    distance = np.linalg.norm(xyz[members] - centre, axis=1)
    ref = int(members[int(np.argmin(distance))])
    ra = float(np.degrees(np.arctan2(centre[1], centre[0])) % 360.0)
    dec = float(np.degrees(np.arcsin(np.clip(centre[2], -1, 1))))
    return FrameGroup(tuple(int(m) for m in members), ref, (ra, dec), frames[ref].mount_mode)


def reject_scale_outliers(groups: Sequence[FrameGroup], frames: Sequence[_FrameLike], tolerance: float
                          ) -> tuple[list[FrameGroup], list[tuple[int, str]]]:
    """Drop from each group the frames whose pixel scale differs from the group's median by more than
    ``tolerance`` (a fraction); returns the groups left (a group whose reference went gets a new one, an
    emptied group goes) and ``(frame index, reason)`` of each frame dropped."""
    if not groups:
        return [], []
    ra, dec = np.array([f.center_radec for f in frames], dtype=float).T
    xyz = unit_vectors(ra, dec)
    kept_groups: list[FrameGroup] = []
    rejected: list[tuple[int, str]] = []
    for group in groups:
        members = np.array(group.members)
        scales = np.array([frames[i].pixel_scale_arcsec for i in members], dtype=float)
        median = float(np.median(scales))
        deviation = np.abs(scales / median - 1.0)
        bad = deviation > tolerance
        for i, scale, dev in zip(members[bad], scales[bad], deviation[bad], strict=True):
            rejected.append((int(i), f"pixel scale {scale:.3f} arcsec differs by {100 * dev:.0f}% from its group's "
                                     f"median {median:.3f} arcsec (tolerance {100 * tolerance:.0f}%, "
                                     "wcs_scale_tolerance)"))
        if not bad.any():
            kept_groups.append(group)
        elif (~bad).any():
            kept_groups.append(_make_group(members[~bad], frames, xyz))
    return kept_groups, rejected


def separate_targets(groups: Sequence[FrameGroup], frames: Sequence[_FrameLike], separation_fov: float = 3.0
                     ) -> list[Target]:
    """Gather the groups into targets: two groups belong to the same target when their centres are closer than
    ``separation_fov`` x the field of view (long side, median over the frames), and targets are the connected
    components of that graph. One target for an ordinary mosaic; a frame of another object 10 degrees away is a
    target of its own. Targets are ordered by decreasing frame count."""
    if not groups:
        return []
    fov_deg = float(np.median([max(f.shape) * f.pixel_scale_arcsec / 3600.0 for f in frames]))
    link_deg = separation_fov * fov_deg
    ra, dec = np.array([g.center_radec for g in groups], dtype=float).T
    xyz = unit_vectors(ra, dec)
    labels = _linked_components(xyz, link_deg, [None] * len(groups))
    targets = []
    for label in range(labels.max() + 1):
        inside = np.flatnonzero(labels == label)
        outside = np.flatnonzero(labels != label)
        nearest = None
        if len(outside):
            dots = np.clip(xyz[inside] @ xyz[outside].T, -1.0, 1.0)
            nearest = float(np.degrees(np.arccos(dots.max())))
        centre = xyz[inside].mean(axis=0)
        centre /= np.linalg.norm(centre)
        radec = (float(np.degrees(np.arctan2(centre[1], centre[0])) % 360.0),
                 float(np.degrees(np.arcsin(np.clip(centre[2], -1, 1)))))
        targets.append(Target(tuple(int(k) for k in inside), sum(len(groups[int(k)]) for k in inside), radec, nearest))
    targets.sort(key=lambda t: (-t.n_frames, t.groups))
    return targets
