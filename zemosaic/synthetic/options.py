"""Command-line options of ``zemosaic synth``: argparse options that build a :class:`synthetic.SynthSpec`.

Format errors become argparse's one-line errors; the defaults are :class:`~synthetic.SynthSpec`'s.
"""
from __future__ import annotations

import argparse

from zemosaic.synthetic.generator import DEFECT_NAMES, MOUNT_MODES, SynthSpec

__all__ = ["add_synth_arguments", "spec_from_args"]


def add_synth_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``zemosaic synth`` options (not the OUT positional) to ``parser``.

    Format errors become argparse's one-line errors; defaults are :class:`SynthSpec`'s.
    """
    d = SynthSpec()
    g = parser.add_argument_group("synthetic dataset")
    g.add_argument("--panels", type=_arg_pair("ROWSxCOLS"), default=d.panels, metavar="ROWSxCOLS",
                   help=f"panel grid, rows x columns (default {d.panels[0]}x{d.panels[1]})")
    g.add_argument("--overlap", type=_arg_float(0.0, 0.9), default=d.overlap,
                   help=f"overlap fraction between neighbouring panels, 0-0.9 (default {d.overlap})")
    g.add_argument("--frames", type=_arg_int(1), default=d.frames_per_panel,
                   help=f"frames per panel (default {d.frames_per_panel})")
    g.add_argument("--size", type=_arg_pair("WxH"), default=(d.width, d.height), metavar="WxH",
                   help=f"frame size in pixels, width x height (default {d.width}x{d.height}, Seestar portrait)")
    g.add_argument("--scale", type=_arg_float(0.01, 3600.0), default=d.pixel_scale_arcsec,
                   help=f"pixel scale in arcsec/px (default {d.pixel_scale_arcsec})")
    g.add_argument("--mount", choices=MOUNT_MODES, default=d.mount,
                   help="altaz: the field rotates across the session; equatorial: no rotation (default altaz)")
    g.add_argument("--rotation-drift", type=float, default=d.rotation_drift_deg, metavar="DEG",
                   help=f"field rotation from first to last frame, degrees (default {d.rotation_drift_deg})")
    g.add_argument("--dither", type=_arg_float(0.0, 1e4), default=d.dither_px, metavar="PX",
                   help=f"random dither amplitude per axis, pixels (default {d.dither_px})")
    g.add_argument("--seed", type=int, default=d.seed, help=f"random seed (default {d.seed})")
    g.add_argument("--target", default=d.target, help=f"target name used in file names (default {d.target})")
    g.add_argument("--ra", type=_arg_float(0.0, 360.0), default=d.ra_deg, help="centre RA, degrees")
    g.add_argument("--dec", type=_arg_float(-89.0, 89.0), default=d.dec_deg, help="centre Dec, degrees")
    g.add_argument("--stars", type=_arg_int(0), default=None, metavar="N",
                   help=f"stars in the whole scene (default: {d.star_density_per_deg2:g} per square degree)")
    g.add_argument("--fwhm", type=_arg_float(0.5, 50.0), default=d.fwhm_px, help="star FWHM, pixels")
    g.add_argument("--no-nebula", action="store_true", help="no extended nebulosity")
    g.add_argument("--sky-level", type=_arg_float(0.0, 60000.0), default=d.sky_level_adu, metavar="ADU",
                   help=f"light-pollution level per frame, ADU (default {d.sky_level_adu})")
    g.add_argument("--gradient", type=_arg_float(0.0, 0.9), default=d.gradient_frac, metavar="FRAC",
                   help=f"sky gradient, fraction of the level from centre to corner (default {d.gradient_frac})")
    g.add_argument("--no-panel-sky-offsets", action="store_true", help="same sky level for every panel")
    g.add_argument("--pedestal", type=_arg_float(0.0, 60000.0), default=d.pedestal_adu, metavar="ADU",
                   help=f"offset added to the raw data, ADU (default {d.pedestal_adu})")
    g.add_argument("--exposure", type=_arg_float(0.001, 3600.0), default=d.exposure_s, metavar="S",
                   help=f"exposure per frame, seconds (default {d.exposure_s})")
    g.add_argument("--no-bayer", action="store_true", help="write 3 x H x W colour frames instead of GRBG raw")
    g.add_argument("--no-noise", action="store_true", help="noiseless frames")
    g.add_argument("--defects", type=_arg_defects, default=(), metavar="A,B",
                   help="comma-separated defects to include, or 'all': " + ", ".join(DEFECT_NAMES))
    r = parser.add_argument_group("real-telescope frames (for plate solving)")
    r.add_argument("--no-header-wcs", action="store_true",
                   help="write no WCS, only Seestar hints (RA/DEC, OBJCTRA/OBJCTDEC, FOCALLEN, XPIXSZ), as a Seestar")
    r.add_argument("--hint-error-arcmin", type=_arg_float(0.0, 600.0), default=d.hint_error_arcmin,
                   metavar="ARCMIN", help="the RA/DEC hints miss the true frame centre by about this (default 0)")
    r.add_argument("--hint-same-for-all", action="store_true",
                   help="one target RA/DEC in every frame, as the Seestar mosaic mode writes")
    r.add_argument("--real-stars", nargs="?", const="auto", default=d.real_stars, metavar="DIR|auto",
                   help="put the stars of the astrometry.net index files in DIR (or found, 'auto', the default "
                        "when the option has no value) at their real positions; synthetic stars below their limit")


def spec_from_args(namespace: argparse.Namespace) -> SynthSpec:
    """Build the :class:`SynthSpec` of options added by :func:`add_synth_arguments`.

    Raises
    ------
    SynthSpecError
        A combination of values the spec refuses (message names the field).
    """
    return SynthSpec(panels=namespace.panels, overlap=namespace.overlap, frames_per_panel=namespace.frames,
                     width=namespace.size[0], height=namespace.size[1], pixel_scale_arcsec=namespace.scale,
                     mount=namespace.mount, rotation_drift_deg=namespace.rotation_drift, dither_px=namespace.dither,
                     seed=namespace.seed, target=namespace.target, ra_deg=namespace.ra, dec_deg=namespace.dec,
                     n_stars=namespace.stars, fwhm_px=namespace.fwhm, nebula=not namespace.no_nebula,
                     sky_level_adu=namespace.sky_level, gradient_frac=namespace.gradient,
                     panel_sky_offsets=not namespace.no_panel_sky_offsets, pedestal_adu=namespace.pedestal,
                     exposure_s=namespace.exposure, bayer=not namespace.no_bayer, noise=not namespace.no_noise,
                     defects=tuple(namespace.defects), header_wcs=not namespace.no_header_wcs,
                     hint_error_arcmin=namespace.hint_error_arcmin, hint_same_for_all=namespace.hint_same_for_all,
                     real_stars=namespace.real_stars)


# ------------------------------------------------------------------------------------------------------------------
# private helpers: argument parsers


def _arg_pair(form: str):
    def parse(text: str) -> tuple[int, int]:
        parts = text.lower().split("x")
        if len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
            raise argparse.ArgumentTypeError(f"expected {form} with positive integers, got {text!r}")
        return int(parts[0]), int(parts[1])
    return parse


def _arg_float(lo: float, hi: float):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value:g} is outside [{lo:g}, {hi:g}]")
        return value
    return parse


def _arg_int(lo: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < lo:
            raise argparse.ArgumentTypeError(f"{value} is below {lo}")
        return value
    return parse


def _arg_defects(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if names == ("all",):
        return DEFECT_NAMES
    unknown = [n for n in names if n not in DEFECT_NAMES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown defect(s) {', '.join(unknown)}; known: {', '.join(DEFECT_NAMES)}")
    return names
