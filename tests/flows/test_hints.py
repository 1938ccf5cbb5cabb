"""The checklists' hint phrases handed to the recogniser: switched by a setting, merged with the user's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ScoringSettings, load_settings
from core.errors import ConfigError
from flows.scoring import load_active, with_checklist_hints
from rules.diagnostics import ChecklistError
from rules.loader import load_checklists, shipped_checklist
from rules.model import recogniser_hints


def test_each_language_gets_the_hints_of_its_checklists_once(tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    text = shipped_checklist("zh").read_text(encoding="utf-8")
    extra.write_text(text.replace("id: service_zh", "id: extra_zh").replace(
        "hints: [您好, 很高兴为您服务,", "hints: [您好, 北风电力,"), encoding="utf-8")
    checklists = load_checklists([shipped_checklist("zh"), shipped_checklist("en"), extra])
    hints = recogniser_hints(checklists)
    assert hints["zh"] == ("您好", "很高兴为您服务", "请问有什么可以帮您", "工号", "请问还有什么可以帮您",
                           "感谢您的耐心等待", "感谢您的来电", "北风电力")  # fmt: skip
    assert hints["en"][:2] == ("thank you for calling", "how can I help you")
    assert recogniser_hints([]) == {}


def test_hints_reach_the_transcription_settings_only_when_switched_on(tmp_path: Path) -> None:
    config = tmp_path / "callqa.toml"
    config.write_text('[transcription]\nhints = {en = ["Northwind Energy"]}\n', encoding="utf-8")
    settings = load_settings(config)
    active = load_active(ScoringSettings())
    assert with_checklist_hints(settings, active) is settings  # off by default
    config.write_text('[transcription]\nchecklist_hints = true\nhints = {en = ["Northwind Energy"]}\n',
                      encoding="utf-8")
    on = with_checklist_hints(load_settings(config), active)
    assert on.transcription.hints["en"][:2] == ("Northwind Energy", "thank you for calling")
    assert on.transcription.hints["zh"][0] == "您好"


def test_a_misspelt_setting_is_named(tmp_path: Path) -> None:
    config = tmp_path / "callqa.toml"
    config.write_text("[transcription]\nchecklist_hint = true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key 'checklist_hint' — did you mean 'checklist_hints'"):
        load_settings(config)


def test_a_hint_too_long_for_the_recogniser_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    text = shipped_checklist("en").read_text(encoding="utf-8")
    long = "have a great day and thank you for being a loyal customer of ours"  # 66 characters
    path.write_text(text.replace("have a great day]", long + "]"), encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "have a great day]" in row)
    with pytest.raises(ChecklistError, match=rf"long.yaml:{line}:32: error: '{long}' is too long"):
        load_checklists([path])
