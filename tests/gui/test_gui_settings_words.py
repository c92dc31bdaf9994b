"""The settings a user reads: a plain label and explanation for every key, the sections, the run presets (the
window's and ``zemosaic run --preset``'s), and the text contrast of both palettes (pytest-qt, offscreen)."""
from __future__ import annotations

import dataclasses
import json
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtGui import QColor, QPalette  # noqa: E402
from PySide6.QtWidgets import QApplication, QLabel  # noqa: E402

from zemosaic.cli import _resolve_run_config, build_parser  # noqa: E402
from zemosaic.config import RUN_PRESETS, ZeMosaicConfig, config_keys, resolve_config  # noqa: E402
from zemosaic.gui.frames_view import decision_colour  # noqa: E402
from zemosaic.gui.labels import CHOICE_LABELS, LABELS, SECTIONS, section_of  # noqa: E402
from zemosaic.gui.settings_panel import PRESET_TITLES, SettingsPanel, help_colour  # noqa: E402

SECTION_TITLES = ["Input", "Plate solving", "Frames", "Stacking", "Tiles and mask", "Mosaic", "Output"]


def test_every_key_has_a_label_an_explanation_and_one_section():
    keys = config_keys()
    assert sorted(LABELS) == sorted(keys)  # a new key without its words fails here
    assert [title for title, _, _ in SECTIONS] == SECTION_TITLES
    placed = [k for _, shown, expert in SECTIONS for k in shown + expert]
    assert sorted(placed) == sorted(keys) and len(placed) == len(set(placed))
    for key in keys:
        text, explanation = LABELS[key]
        assert text and "_" not in text and text != key, key
        assert explanation.endswith(".") and len(explanation) < 120, key
    for f in dataclasses.fields(ZeMosaicConfig):  # every choice a box offers has its name
        for choice in f.metadata.get("choices", ()):
            assert (f.name, choice) in CHOICE_LABELS, (f.name, choice)
    assert section_of("altaz_min_coverage_abs") == ("Tiles and mask", False)
    assert section_of("frame_reject_fwhm_k") == ("Frames", True)


def test_the_panel_shows_words_and_keeps_the_key_as_detail(qtbot):
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    for key in config_keys():
        widget = panel.widget(key)
        assert key in widget.toolTip() and LABELS[key][0] in widget.toolTip()
        note = panel.findChild(QLabel, f"help_{key}")
        assert note is not None and LABELS[key][1].split(" ")[0] in note.text() and key in note.text()
    titles = [box.title() for box in panel.sections.values()]
    assert titles == SECTION_TITLES
    # expert keys are folded until asked for
    panel.show()
    assert not panel.widget("frame_reject_fwhm_k").isVisible() and panel.widget("frame_reject_enabled").isVisible()
    panel.advanced_toggle.setChecked(True)
    assert panel.widget("frame_reject_fwhm_k").isVisible()


@pytest.mark.parametrize("name", sorted(RUN_PRESETS))
def test_a_preset_is_the_same_in_the_window_and_on_the_command_line(qtbot, tmp_path, name):
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    panel.set_value("stack_sigma_high", 2.5)  # a key no preset sets is kept
    set_keys = panel.apply_preset(name)
    assert set_keys == RUN_PRESETS[name] and len(set_keys) >= 5
    cfg = panel.config()
    cli = _resolve_run_config(build_parser().parse_args(["run", "in", "-o", "out", "--preset", name,
                                                         "--set", "stack_sigma_high=2.5"]))
    assert cfg == cli and cfg.stack_sigma_high == 2.5
    for key, value in RUN_PRESETS[name].items():
        assert getattr(cfg, key) == value == getattr(cli, key), key
    # what it sets is shown, by label
    shown = panel.preset_text.text()
    assert all(LABELS[key][0] in shown for key in RUN_PRESETS[name])
    assert panel.preset_box.currentText() == PRESET_TITLES[name]
    # and it survives the JSON the CLI reads
    panel.save_json(tmp_path / "s.json")
    assert resolve_config(config_file=tmp_path / "s.json") == cfg


def test_run_and_tool_presets_share_the_option():
    args = build_parser().parse_args(["run", "in", "-o", "out", "--preset", "quick-look,siril", "--preset", "swarp",
                                      "--set", "debayer_method=edge_aware"])
    cfg = _resolve_run_config(args)
    assert cfg.output_presets == ["siril", "swarp"]
    assert cfg.stack_rejection_algorithm == "kappa_sigma"  # from quick-look
    assert cfg.debayer_method == "edge_aware"  # --set wins over the preset
    plain = _resolve_run_config(build_parser().parse_args(["run", "in", "-o", "out"]))
    assert plain == ZeMosaicConfig()


def test_list_keys_with_known_values_are_check_boxes(qtbot):
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    panel.widget("export_formats").boxes["tiff16"].setChecked(True)
    panel.widget("output_presets").boxes["siril"].setChecked(True)
    panel.widget("frame_reject_rules").boxes["sky"].setChecked(False)
    cfg = panel.config()
    assert cfg.export_formats == ["tiff16"] and cfg.output_presets == ["siril"]
    assert cfg.frame_reject_rules == ["fwhm", "elongation", "transparency", "stars"]
    assert json.loads(json.dumps(cfg.export_formats)) == ["tiff16"]


def _luminance(c: QColor) -> float:
    def lin(v: int) -> float:
        s = v / 255.0
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(c.red()) + 0.7152 * lin(c.green()) + 0.0722 * lin(c.blue())


def contrast(a: QColor, b: QColor) -> float:
    """The WCAG 2 contrast ratio of two colours."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_formula():
    assert contrast(QColor("black"), QColor("white")) == pytest.approx(21.0)
    assert contrast(QColor(119, 119, 119), QColor("white")) == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_contrast_is_at_least_4_5_in_both_themes(qtbot, theme):
    from zemosaic.gui.app import dark_palette, light_palette

    palette = dark_palette() if theme == "dark" else light_palette()
    R = QPalette.ColorRole
    pairs = {"text/window": (R.WindowText, R.Window), "text/base": (R.Text, R.Base),
             "button": (R.ButtonText, R.Button), "text/alternate": (R.Text, R.AlternateBase),
             "tooltip": (R.ToolTipText, R.ToolTipBase), "selection": (R.HighlightedText, R.Highlight),
             "placeholder": (R.PlaceholderText, R.Base), "link": (R.Link, R.Base)}
    ratios = {name: contrast(palette.color(fg), palette.color(bg)) for name, (fg, bg) in pairs.items()}
    ratios["help text"] = contrast(help_colour(palette), palette.color(R.Window))
    ratios["help on base"] = contrast(help_colour(palette), palette.color(R.Base))
    for decision in ("kept", "rejected", "excluded"):  # the Frames tab's decision column, on plain and alternate rows
        for role in (R.Base, R.AlternateBase):
            ratios[f"{decision} on {role.name}"] = contrast(decision_colour(decision, palette.color(role)),
                                                            palette.color(role))
    assert min(ratios.values()) >= 4.5, ratios
    # the panel really paints its explanations in that colour
    QApplication.instance().setPalette(palette)
    try:
        panel = SettingsPanel()
        qtbot.addWidget(panel)
        note = panel.findChild(QLabel, "help_mode")
        shown = note.palette().color(R.WindowText)
        assert contrast(shown, palette.color(R.Window)) >= 4.5
    finally:
        QApplication.instance().setPalette(light_palette())
