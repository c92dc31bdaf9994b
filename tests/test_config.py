"""Configuration: defaults, JSON + --set sources, typed parsing and one-line errors naming the key."""
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
    with pytest.raises(Exception):
        cfg.altaz_min_coverage_abs = 1.0


def test_readme_documents_every_key():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    missing = [k for k in config_keys() if f"`{k}`" not in readme]
    assert not missing, f"README.md does not document: {missing}"
