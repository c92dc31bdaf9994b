"""The original ZeMosaic's configuration, read as ours: its key names, its value spellings, once.

Scripts written for the original (tinystork/zemosaic) hand its configuration around as a plain dict or
JSON file (``zemosaic_config.json``: GUI state, solver paths and a few hundred tuning keys). This module
is the one place that knows how those keys map onto :class:`zemosaic.config.ZeMosaicConfig`; the
top-level compatibility modules (``zemosaic_worker``, ``zemosaic_align_stack``) use it.

A key of the original mapping is

- **translated** when :data:`ORIGINAL_KEY_MAP` names our key of the same meaning (renamed, e.g.
  ``altaz_decay`` -> ``altaz_decay_ratio``, or respelt, e.g. ``stacking_winsor_limits="0.05,0.05"``);
- **taken as is** when it already is one of our keys (a mapping may mix both);
- **ignored** otherwise (GUI state, GPU and memory tuning, features we do not have). Ignored keys are
  logged once per process, in one line, so that a run over many tiles does not repeat them.

Translated values that change meaning on the way (a method we do not have, mapped to the nearest one)
are logged the same way. Values are then validated by :mod:`zemosaic.config` as ours are; a refused
value raises :class:`zemosaic.config.ConfigError` naming our key.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from zemosaic.config import ConfigError, ZeMosaicConfig, config_keys, resolve_config

__all__ = [
    "ORIGINAL_KEY_MAP",
    "ORIGINAL_NORMALIZE_METHODS",
    "ORIGINAL_WEIGHTING_METHODS",
    "ORIGINAL_LECROPPER_DEFAULTS",
    "Translation",
    "translate_original_config",
    "config_from_original",
    "log_translation",
    "stack_method_names",
]

log = logging.getLogger(__name__)

ORIGINAL_NORMALIZE_METHODS = {"none": "none", "linear_fit": "linear_fit", "sky_mean": "additive"}
"""The original's ``normalize_method`` names -> ours (``sky_mean`` is its sky-offset subtraction)."""

ORIGINAL_WEIGHTING_METHODS = {"none": "none", "noise_variance": "noise_variance", "noise_fwhm": "noise_variance"}
"""The original's ``weighting_method`` names -> ours (no FWHM weighting here: noise variance, logged)."""

ORIGINAL_LECROPPER_DEFAULTS = {"altaz_cleanup_enabled": "false", "quality_crop_enabled": False}
"""Our keys as the original's ``_apply_lecropper_pipeline`` reads a cfg that lacks them: nothing is cleaned."""

_RUN_FOLDER_KEYS = frozenset({"input_dir", "output_dir"})  # given on the command line, not configuration


def _same(value: Any) -> Any:
    return value


def _cleanup_switch(value: Any) -> Any:
    return ("true" if value else "false") if isinstance(value, bool) else value


def _winsor_pair(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return [float(part) for part in value.split(",")]
        except ValueError:
            raise ConfigError(f"stacking_winsor_limits: {value!r} is not 'low,high'") from None
    return value


def _tile_weighting(value: Any) -> Any:
    return ("frames" if value else "none") if isinstance(value, bool) else value


def _named(table: dict[str, str]) -> Callable[[Any], Any]:
    """The original's method name -> ours; any other value goes on to our validation unchanged."""
    def convert(value: Any) -> Any:
        return table.get(value.strip().lower(), value) if isinstance(value, str) else value
    return convert


ORIGINAL_KEY_MAP: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "use_existing_master_tiles": ("use_existing_master_tiles_mode", _same),
    "stacking_normalize_method": ("stack_normalize_method",
                                  _named(ORIGINAL_NORMALIZE_METHODS)),
    "stacking_weighting_method": ("stack_weighting_method",
                                  _named(ORIGINAL_WEIGHTING_METHODS)),
    "stacking_rejection_algorithm": ("stack_rejection_algorithm", _same),
    "stacking_final_combine_method": ("stack_final_combine", _same),
    "stacking_kappa_low": ("stack_sigma_low", _same),
    "stacking_kappa_high": ("stack_sigma_high", _same),
    "stacking_winsor_limits": ("stack_winsor_limits", _winsor_pair),
    "altaz_cleanup_enabled": ("altaz_cleanup_enabled", _cleanup_switch),
    "altaz_decay": ("altaz_decay_ratio", _same),
    "altaz_nanize": ("altaz_nanize_enabled", _same),
    "astap_executable_path": ("astap_path", _same),
    "astap_default_search_radius": ("solve_search_radius_deg", _same),
    "intertile_photometric_match": ("harmonize_enabled", _same),
    "enable_tile_weighting": ("assembly_tile_weight", _tile_weighting),
}
"""Original key -> (our key, value converter). Keys spelt alike in both (``altaz_margin_percent``,
``altaz_alpha_soft_threshold``, ``altaz_nanize_threshold``, ``altaz_min_coverage_abs``,
``altaz_min_coverage_frac``, ``altaz_morph_open_px``, ``quality_crop_enabled``) need no entry;
``max_raw_per_master_tile`` is handled apart (its 0 means "automatic": our default)."""

_REPORTED: set[str] = set()  # log lines already written in this process (see log_translation)


@dataclass(frozen=True)
class Translation:
    """An original configuration read as ours.

    Attributes
    ----------
    values : dict
        Our keys and their (not yet validated) values.
    ignored : tuple of str
        Original keys with no counterpart here, sorted.
    notes : tuple of str
        One line per value whose meaning changed on the way (e.g. ``noise_fwhm`` -> ``noise_variance``).
    """

    values: dict[str, Any]
    ignored: tuple[str, ...]
    notes: tuple[str, ...]


def translate_original_config(mapping: Mapping[str, Any] | None) -> Translation:
    """Read an original ZeMosaic configuration mapping as our configuration keys (module docstring).

    Raises
    ------
    ConfigError
        A translated value that cannot be converted (e.g. an unknown normalisation method).
    """
    ours = set(config_keys())
    values: dict[str, Any] = {}
    ignored, notes = [], []
    for key, value in (mapping or {}).items():
        if key in ORIGINAL_KEY_MAP:
            target, convert = ORIGINAL_KEY_MAP[key]
            values[target] = convert(value)
            if key == "stacking_weighting_method" and str(value).strip().lower() == "noise_fwhm":
                notes.append("stacking_weighting_method='noise_fwhm': no FWHM weighting here, noise_variance used")
        elif key == "max_raw_per_master_tile":
            if isinstance(value, int) and value > 0:
                values["max_frames_per_tile"] = value
        elif key in ours:
            values[key] = value
        elif key not in _RUN_FOLDER_KEYS:
            ignored.append(key)
    _keep_nanize_below_soft(values, notes)
    return Translation(values, tuple(sorted(ignored)), tuple(notes))


def config_from_original(mapping: Mapping[str, Any] | None, *,
                         defaults: Mapping[str, Any] | None = None) -> ZeMosaicConfig:
    """A validated :class:`ZeMosaicConfig` from an original configuration mapping.

    ``defaults`` (our keys) fill what the mapping does not set, over our own defaults; the ignored keys
    and the notes are logged once (:func:`log_translation`).
    """
    translation = translate_original_config(mapping)
    log_translation(translation)
    values = dict(defaults or {})
    values.update(translation.values)
    return resolve_config(base=values)


def log_translation(translation: Translation, logger: logging.Logger | None = None, *, once: bool = True) -> None:
    """Log the ignored keys (one line) and the notes of a translation; with ``once``, what this process
    has already logged is not repeated (a cfg handed to every tile of a run is reported once)."""
    logger = logger or log
    new = [key for key in translation.ignored if not once or f"ignored:{key}" not in _REPORTED]
    if new:
        _REPORTED.update(f"ignored:{key}" for key in new)
        logger.warning("original ZeMosaic configuration: %d key(s) ignored (no counterpart here): %s",
                       len(new), ", ".join(new))
    for note in translation.notes:
        if not once or f"note:{note}" not in _REPORTED:
            _REPORTED.add(f"note:{note}")
            logger.warning("original ZeMosaic configuration: %s", note)


def stack_method_names(normalize_method: str, weighting_method: str) -> tuple[str, str]:
    """Our names for the original's stacker method names (ours pass through unchanged).

    Raises
    ------
    ValueError
        A name neither the original nor we know.
    """
    norm = str(normalize_method or "none").strip().lower()
    weight = str(weighting_method or "none").strip().lower()
    norm = ORIGINAL_NORMALIZE_METHODS.get(norm, norm)
    if weight == "noise_fwhm" and "note:noise_fwhm" not in _REPORTED:
        _REPORTED.add("note:noise_fwhm")
        log.warning("weighting_method='noise_fwhm': no FWHM weighting here, noise_variance used")
    weight = ORIGINAL_WEIGHTING_METHODS.get(weight, weight)
    return norm, weight


def _keep_nanize_below_soft(values: dict[str, Any], notes: list[str]) -> None:
    """The original clips each threshold on its own; ours refuses a NaN threshold above the soft one."""
    soft = values.get("altaz_alpha_soft_threshold", ZeMosaicConfig.altaz_alpha_soft_threshold)
    nanize = values.get("altaz_nanize_threshold")
    if isinstance(soft, (int, float)) and isinstance(nanize, (int, float)) and nanize > soft:
        values["altaz_nanize_threshold"] = soft
        notes.append(f"altaz_nanize_threshold={nanize} lowered to altaz_alpha_soft_threshold={soft}")
