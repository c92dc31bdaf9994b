"""Plate solutions cached by file content, never written into the frames.

A solution is stored as one small JSON file named by the SHA-256 of the frame file's bytes, in the run's
``OUT/wcs_cache/`` or in a folder the user names (``wcs_cache_dir``, ``--wcs-cache DIR``) so that several
runs over the same frames share it. A re-run over unchanged frames finds every WCS there and solves nothing;
a changed file has another hash and is solved again. Entries are written atomically.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from io import BytesIO
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from zemosaic.io.atomic import atomic_write_bytes
from zemosaic.solve.refine import tan_wcs

__all__ = ["CachedWcs", "WcsCache", "file_sha256", "wcs_to_header", "exact_terms", "write_wcs_sidecar"]

log = logging.getLogger(__name__)

_FORMAT = 1
_CHUNK = 1 << 20


@dataclass(frozen=True)
class CachedWcs:
    """A frame's WCS and how it was obtained.

    ``source``: ``"solved"`` (a plate solve of this frame) or ``"aligned"`` (the solved WCS of ``reference``,
    another frame's hash, carried over by the alignment transform between the two). ``solver``, ``blind``,
    ``n_matched``, ``residual_px``, ``time_s`` and ``hint`` (the header keywords used) describe the solve (or the
    alignment: its matched stars and
    residual).
    """

    wcs_header: str
    source: str
    solver: str
    blind: bool
    n_matched: int
    residual_px: float
    time_s: float
    reference: str | None = None

    exact: dict | None = None
    hint: str = ""

    @property
    def wcs(self) -> WCS:
        """The WCS, rebuilt from its header cards with its linear terms restored to the last bit (header text
        rounds them, and a re-run must build the very same mosaic)."""
        wcs = WCS(fits.Header.fromstring(self.wcs_header, sep="\n"), relax=True)
        if not self.exact or wcs.sip is not None or list(wcs.wcs.ctype) != ["RA---TAN", "DEC--TAN"]:
            return wcs
        crpix0 = (self.exact["crpix"][0] - 1.0, self.exact["crpix"][1] - 1.0)
        shape = (wcs.pixel_shape[1], wcs.pixel_shape[0]) if wcs.pixel_shape else (1, 1)
        return tan_wcs(tuple(self.exact["crval"]), crpix0, np.array(self.exact["cd"]), shape)


class WcsCache:
    """Folder of cached solutions keyed by file content (see the module docstring)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def get(self, key: str) -> CachedWcs | None:
        """The cached solution of the file whose SHA-256 is ``key``, or None (absent or unreadable)."""
        path = self.folder / f"{key}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.pop("format", None) != _FORMAT:
                return None
            data.pop("file", None)
            return CachedWcs(**data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            log.warning("wcs cache: ignoring unreadable entry %s (%s)", path.name, exc)
            return None

    def put(self, key: str, entry: CachedWcs, *, file_name: str = "") -> Path:
        """Store ``entry`` under ``key`` (atomically); ``file_name`` is kept for people reading the cache."""
        payload = {"format": _FORMAT, "file": file_name, **asdict(entry)}
        return atomic_write_bytes(self.folder / f"{key}.json", json.dumps(payload, indent=1).encode("utf-8"))


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def wcs_to_header(wcs: WCS) -> str:
    """The WCS cards of ``wcs`` (SIP kept) as newline-separated header text."""
    return wcs.to_header(relax=True).tostring(sep="\n")


def exact_terms(wcs: WCS) -> dict:
    """CRVAL, CRPIX and CD as JSON floats (exact: JSON keeps the shortest repr that round-trips)."""
    cd = wcs.wcs.cd if wcs.wcs.has_cd() else wcs.wcs.get_pc() * wcs.wcs.cdelt[:, None]
    return {"crval": [float(v) for v in wcs.wcs.crval], "crpix": [float(v) for v in wcs.wcs.crpix],
            "cd": [[float(v) for v in row] for row in cd]}


def write_wcs_sidecar(path: str | os.PathLike, wcs: WCS, shape: tuple[int, int]) -> Path:
    """Write an astrometry.net-style ``.wcs`` file (a header-only FITS with the WCS and the image size)."""
    header = wcs.to_header(relax=True)
    header["IMAGEH"] = (int(shape[0]), "image height (pixels)")
    header["IMAGEW"] = (int(shape[1]), "image width (pixels)")
    buf = BytesIO()
    hdu = fits.PrimaryHDU(header=header)
    hdu.writeto(buf)
    return atomic_write_bytes(path, buf.getvalue())
