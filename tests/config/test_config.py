"""Configuration: defaults, JSON + --set sources, typed parsing and one-line errors naming the key."""
import dataclasses
import json

import pytest

from zemosaic.config import ConfigError, ZeMosaicConfig, config_keys, describe_keys, resolve_config


def test_defaults_match_the_mission():
    cfg = resolve_config()
    assert cfg.altaz_min_coverage_abs == 3.0
    assert cfg.altaz_min_coverage_frac == 0.4
    assert cfg.altaz_morph_open_px == 3
    assert cfg.altaz_use_coverage is True
    assert cfg.use_existing_master_tiles_mode is False
    assert cfg.altaz_nanize_threshold <= cfg.altaz_alpha_soft_threshold
    for key in ("altaz_cleanup_enabled", "quality_crop_enabled", "altaz_alpha_soft_threshold"):
        assert key in config_keys()
    assert all(doc for _, _, doc in describe_keys())


def test_sources_in_order_json_then_overrides(tmp_path):
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"altaz_min_coverage_frac": 0.6, "debug_tile_ids": [2]}))
    cfg = resolve_config(config_file=path, overrides=["altaz_min_coverage_frac=0.5", "altaz_use_coverage=false",
                                                      "altaz_morph_open_px=4", "stack_winsor_limits=[0.1, 0.1]"])
    assert cfg.altaz_min_coverage_frac == 0.5
    assert cfg.altaz_use_coverage is False
    assert cfg.altaz_morph_open_px == 4
    assert cfg.debug_tile_ids == [2]
    assert cfg.stack_winsor_limits == [0.1, 0.1]


def test_typo_names_the_closest_key():
    with pytest.raises(ConfigError, match="altaz_min_coverage_frac") as info:
        resolve_config(overrides=["altaz_min_coverge_frac=0.5"])
    assert "unknown configuration key 'altaz_min_coverge_frac'" in str(info.value)


@pytest.mark.parametrize("override, key", [
    ("altaz_morph_open_px=abc", "altaz_morph_open_px"),
    ("altaz_use_coverage=maybe", "altaz_use_coverage"),
    ("altaz_min_coverage_frac=1.5", "altaz_min_coverage_frac"),
    ("stack_rejection_algorithm=magic", "stack_rejection_algorithm"),
    ("altaz_morph_open_px=2.5", "altaz_morph_open_px"),
])
def test_wrong_value_names_the_key(override, key):
    with pytest.raises(ConfigError, match=key):
        resolve_config(overrides=[override])


def test_json_wrong_type_and_bad_file(tmp_path):
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"quality_crop_enabled": "yes"}))
    with pytest.raises(ConfigError, match="quality_crop_enabled"):
        resolve_config(config_file=path)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="invalid JSON"):
        resolve_config(config_file=path)


def test_inconsistent_thresholds_refused():
    with pytest.raises(ConfigError, match="altaz_nanize_threshold"):
        resolve_config(overrides=["altaz_nanize_threshold=0.5", "altaz_alpha_soft_threshold=0.1"])


def test_config_is_frozen():
    cfg = resolve_config()
    assert isinstance(cfg, ZeMosaicConfig)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.altaz_min_coverage_abs = 1.0


def test_readme_documents_every_key():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [k for k in config_keys() if f"`{k}`" not in readme]
    assert not missing, f"README.md does not document: {missing}"


# ----------------------------------------------------------------------------------------------
# every key agrees with the function parameter it feeds, and every key is read
# ----------------------------------------------------------------------------------------------

def _feeds():
    """config key -> (function, parameter) it is handed to by the pipeline, or a module default constant."""
    from zemosaic import masks, mosaic
    from zemosaic.align.group import align_images_in_group
    from zemosaic.io import fits as fits_io
    from zemosaic.pipeline import clustering
    from zemosaic.stack.cpu import stack_aligned_images

    stack = {"stack_normalize_method": "normalize_method", "stack_weighting_method": "weighting_method",
             "stack_rejection_algorithm": "rejection_algorithm", "stack_final_combine": "final_combine_method",
             "stack_sigma_low": "sigma_clip_low", "stack_sigma_high": "sigma_clip_high",
             "stack_winsor_limits": "winsor_limits", "stack_memory_budget_mb": "memory_budget_mb",
             "background_poly_order": "background_order", "background_flatten_reference": "flatten_reference",
             "background_flatten_order": "flatten_order"}
    feeds = {key: (stack_aligned_images, param) for key, param in stack.items()}
    feeds.update({
        "cluster_threshold_fov_frac": (clustering.cluster_frames, "threshold_fov_frac"),
        "split_by_mount_mode": (clustering.cluster_frames, "split_by_mount"),
        "max_frames_per_tile": (clustering.cluster_frames, "max_frames"),
        "debayer_method": (fits_io.read_frame, "debayer_method"),
        "align_detection_sigma": (align_images_in_group, "detection_sigma"),
        "align_min_area": (align_images_in_group, "min_area"),
        "align_max_control_points": (align_images_in_group, "max_control_points"),
        "altaz_margin_percent": (masks.mask_altaz_artifacts, "margin_percent"),
        "altaz_decay_ratio": (masks.mask_altaz_artifacts, "decay_ratio"),
        "altaz_alpha_soft_threshold": (masks.mask_altaz_artifacts, "hard_threshold"),
        # the masker's coverage parameters default to None, meaning these module constants
        "altaz_min_coverage_abs": masks.MIN_COVERAGE_ABS_DEFAULT,
        "altaz_min_coverage_frac": masks.MIN_COVERAGE_FRAC_DEFAULT,
        "altaz_morph_open_px": masks.MORPH_OPEN_PX_DEFAULT,
        "harmonize_plane": (mosaic.solve_tile_harmony, "plane"),
        "assembly_reproject": (mosaic.assemble_mosaic, "method"),
        "assembly_tile_weight": (mosaic.assemble_mosaic, "tile_weight"),
        "assembly_memmap_mb": (mosaic.assemble_mosaic, "memmap_threshold_mb"),
        "write_preview": (mosaic.write_mosaic_outputs, "write_preview"),
    })
    return feeds


def _plain(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def test_config_defaults_agree_with_the_parameters_they_feed():
    import inspect

    import zemosaic_align_stack_gpu

    defaults = {key: default for key, default, _ in describe_keys()}
    feeds = _feeds()
    feeds.update({key: (zemosaic_align_stack_gpu.stack_aligned_images_gpu, target[1])
                  for key, target in list(feeds.items()) if key.startswith(("stack_", "background_"))
                  and not isinstance(target, (int, float))})
    assert set(feeds) <= set(defaults)
    disagreements = []
    for key, target in feeds.items():
        if isinstance(target, tuple):
            function, param = target
            expected = inspect.signature(function).parameters[param].default
            where = f"{function.__module__}.{function.__qualname__}({param}=...)"
        else:
            expected, where = target, "module constant"
        if _plain(defaults[key]) != _plain(expected):
            disagreements.append(f"{key}={defaults[key]!r} but {where} defaults to {expected!r}")
    assert not disagreements, "\n".join(disagreements)


def test_every_config_key_is_read_by_the_package():
    from pathlib import Path

    import zemosaic

    root = Path(zemosaic.__file__).parent
    source = "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*.py") if p.name != "config.py")
    unread = [key for key in config_keys() if f"cfg.{key}" not in source and f"config.{key}" not in source]
    assert not unread, f"documented but never read: {unread}"
