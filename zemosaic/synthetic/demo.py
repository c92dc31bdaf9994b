"""The built-in demo dataset (``zemosaic demo``, the window's demo, the documentation's pictures): its spec."""
from __future__ import annotations

import dataclasses

from zemosaic.solve import index_catalogue
from zemosaic.solve.solvers import install_hint
from zemosaic.synthetic.generator import SENSOR_S50, SynthSpec, SynthSpecError

__all__ = ["demo_spec"]


def demo_spec(seed: int, *, seestar_headers: bool = False) -> SynthSpec:
    """The built-in demo: 2x2 Alt-Az panels, small frames, enough of them to show the coverage mask.

    Parameters
    ----------
    seed : int
        Random seed of the dataset (``zemosaic demo --seed``).
    seestar_headers : bool
        Write the frames as a Seestar does: no WCS, only the mount's pointing (5 arcmin off) and the optics, with
        the real Tycho-2 stars of the installed astrometry.net index files, so that a run plate-solves them.

    Returns
    -------
    SynthSpec
        The dataset's description, for :func:`~zemosaic.synthetic.generator.generate_dataset`.

    Raises
    ------
    SynthSpecError
        ``seestar_headers`` without astrometry.net index files to take the stars from (the message says what to
        install).

    Examples
    --------
    >>> from zemosaic.synthetic.demo import demo_spec
    >>> spec = demo_spec(1)
    >>> spec.panels, spec.frames_per_panel, (spec.width, spec.height), spec.mount
    ((2, 2), 10, (540, 960), 'altaz')
    """
    spec = SynthSpec(panels=(2, 2), overlap=0.3, frames_per_panel=10, width=540, height=960,
                     pixel_scale_arcsec=4.8, mount="altaz", rotation_drift_deg=25.0, seed=seed,
                     sensor_response=SENSOR_S50)
    if not seestar_headers:
        return spec
    if not index_catalogue.find_index_files():
        raise SynthSpecError(f"--seestar-headers needs astrometry.net index files: {install_hint([])}")
    return dataclasses.replace(spec, header_wcs=False, hint_error_arcmin=5.0, real_stars="auto")
