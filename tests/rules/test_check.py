"""Checklist validation: every broken checklist gives its expected file:line:column error; nothing half-applied."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rules.diagnostics import ChecklistError
from rules.loader import CHECKLIST_DIR, check, load_checklist, load_checklists

HERE = Path(__file__).parents[1] / "rules"
BROKEN = sorted((HERE / "broken").glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+):(\d+): (.+)$", re.MULTILINE)


def test_there_are_at_least_a_dozen_broken_checklists() -> None:
    assert len(BROKEN) >= 12


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_checklist_reports_expected_error(path: Path) -> None:
    line, column, message = EXPECT.search(path.read_text(encoding="utf-8")).groups()  # type: ignore[union-attr]
    checklists, diagnostics = check([path])
    assert checklists == []
    assert [(d.line, d.column) for d in diagnostics][:1] == [(int(line), int(column))]
    assert message in diagnostics[0].message
    rendered = diagnostics[0].render()
    # file:line:column, the offending line, and a caret under the column
    assert rendered.startswith(f"{path}:{line}:{column}: error: ")
    source_line, caret_line = rendered.splitlines()[1:3]
    assert source_line.endswith(path.read_text(encoding="utf-8").splitlines()[int(line) - 1])
    assert caret_line.index("^") - caret_line.index("|") - 2 == int(column) - 1


def test_all_errors_of_all_files_are_collected_before_failing() -> None:
    with pytest.raises(ChecklistError) as raised:
        load_checklists([HERE / "broken", CHECKLIST_DIR])
    files = {d.file for d in raised.value.diagnostics}
    assert files == {str(p) for p in BROKEN}
    assert f"{len(raised.value.diagnostics)} error(s) in {len(BROKEN)} checklist file(s)" in str(raised.value)


def test_duplicate_checklist_ids_across_files() -> None:
    checklists, diagnostics = check([HERE / "duplicate_ids"])
    assert [c.id for c in checklists] == ["same_id"]
    assert [(Path(d.file).name, d.line, d.column) for d in diagnostics] == [("second.yaml", 3, 5)]
    assert "first.yaml:3" in diagnostics[0].message


def test_a_file_with_several_mistakes_reports_each(tmp_path: Path) -> None:
    text = (HERE / "broken" / "unknown_key.yaml").read_text(encoding="utf-8")
    text = text.replace("role: agent", "role: agnet").replace("weight: 100", "weight: 90")
    path = tmp_path / "several.yaml"
    path.write_text(text, encoding="utf-8")
    _, diagnostics = check([path])
    messages = [d.message for d in diagnostics]
    assert any("treshold" in m for m in messages) and any("'agnet'" in m for m in messages)


def test_shipped_checklists_are_valid() -> None:
    checklists, diagnostics = check([CHECKLIST_DIR])
    assert diagnostics == []
    assert sorted(c.id for c in checklists) == ["service_en", "service_zh"]


def test_shipped_checklists_carry_the_schema_modeline() -> None:
    for path in CHECKLIST_DIR.glob("*.yaml"):
        assert path.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=../schema.json\n")


SHIPPED_IDS = ["greeting", "self_identification", "identity_verification", "active_listening", "repeat_back",
               "no_deflection", "no_rude_wording", "apology_overuse", "hold_announced",
               "hold_thanked", "empathy", "closing",
               "customer_hangs_up_first", "complaint_length"]  # fmt: skip


@pytest.mark.parametrize("language", ["en", "zh"])
def test_shipped_checklist_has_the_agreed_items_with_enough_examples(language: str) -> None:
    checklist = load_checklist(CHECKLIST_DIR / f"service_{language}.yaml")
    assert sorted(i.id for i in checklist.items) == sorted(SHIPPED_IDS)
    assert sum(s.weight for s in checklist.sections) == 100
    assert [i.id for i in checklist.items if i.veto] == ["no_rude_wording"]
    for item in checklist.items:
        expects = [e.expect for e in item.examples if not e.todo]
        assert expects.count("pass") >= 2 and expects.count("fail") >= 2, item.id
        assert len(item.message) > (40 if language == "zh" else 80), item.id  # missed, why, what to say
        for example in item.examples:
            assert example.transcript.language == language, (item.id, example.line)


def test_content_hash_ignores_layout_and_examples_but_not_rules(tmp_path: Path) -> None:
    source = (CHECKLIST_DIR / "service_en.yaml").read_text(encoding="utf-8")
    original = load_checklist(CHECKLIST_DIR / "service_en.yaml").content_hash
    relaid = tmp_path / "relaid.yaml"
    relaid.write_text("# a comment\n" + source.replace("Have a good one.", "Have a good one, bye."), encoding="utf-8")
    assert load_checklist(relaid).content_hash == original
    changed = tmp_path / "changed.yaml"
    changed.write_text(source.replace("have a good one,", "have a good one, cheers,"), encoding="utf-8")
    assert load_checklist(changed).content_hash != original
