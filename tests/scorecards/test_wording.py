"""Stored verdicts worded from the checklist they were scored with, in the reader's language."""

from __future__ import annotations

from pathlib import Path

import pytest

from rules.loader import checklist_from_text
from scorecards.people.wording import Wording, stored_checklist
from scorecards.store.database import Store
from tests.e2e._db import copy_of_built

CHECKLISTS = Path(__file__).resolve().parents[2] / "rules" / "checklists"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    db, _ = copy_of_built(tmp_path_factory.mktemp("wording"), tmp_path_factory.getbasetemp())
    return Store(db)


def _hash_of(store: Store, checklist_id: str) -> str:
    with store.reading() as con:
        return str(con.execute("SELECT checklist_hash FROM checklists WHERE checklist_id = ?", [checklist_id])
                   .fetchone()[0])


def test_titles_messages_bands_and_reasons_follow_the_reader(store: Store) -> None:
    en_hash = _hash_of(store, "service_en")
    zh, en = Wording(store, "zh"), Wording(store, "en")
    assert zh.title(en_hash, "greeting", "stored") == "15 秒内问候客户"
    assert en.title(en_hash, "greeting", "stored") == "stored"  # the checklist's own language: as stored
    assert zh.message(en_hash, "closing", "").startswith("没有规范地结束通话。")
    assert zh.section(en_hash, "opening", "Opening") == "开场"
    assert zh.checklist_title(en_hash, "service_en") == "客服通话质检（英语）"
    assert (en.band(en_hash, "不合格"), zh.band(en_hash, "不合格")) == ("Fail", "不合格")
    assert zh.why(en_hash, "customer_hangs_up_first", "n/a", "does not apply: hangup_by in (...)") == (
        "本通话不适用：适用条件是挂机方为客户或坐席。")
    assert zh.titled("Lets the customer hang up first") == "客户先挂机"
    assert en.titled("客户先挂机") == "Lets the customer hang up first"
    assert zh.fact("hangup_by = agent", "metadata") == "挂机方：坐席"
    assert en.band_labels() == {"优秀": "Excellent", "良好": "Good", "合格": "Pass", "不合格": "Fail"}
    assert zh.band_labels() == {"优秀": "优秀", "良好": "良好", "合格": "合格", "不合格": "不合格"}


def test_a_checklist_the_store_lacks_shows_what_was_stored(store: Store) -> None:
    words = Wording(store, "zh")
    assert stored_checklist(store, "0" * 64) is None
    assert words.title("0" * 64, "greeting", "Greets") == "Greets"
    assert words.why("0" * 64, "greeting", "fail", "missed: the agent says 'hello'") == "missed: the agent says 'hello'"
    assert words.band("0" * 64, "良好") == "良好" and Wording(store, "en").band("", "良好") == "Good"
    assert words.title(_hash_of(store, "service_en"), "no_such_item", "kept") == "kept"


def test_a_checklists_own_band_names_label_the_exports(store: Store, tmp_path: Path) -> None:
    source = (CHECKLISTS / "service_en.yaml").read_text(encoding="utf-8")
    own = source.replace("id: service_en", "id: bands_test").replace(
        "{name: 良好, min: 80, translations: {en: Good}}", "{name: 达标, min: 80, translations: {en: On target}}")
    checklist = checklist_from_text(own, "bands_test.yaml")
    with store.writing() as con:
        con.execute("INSERT INTO checklists VALUES (?, ?, ?, ?, ?, ?, now())",
                    [checklist.content_hash, checklist.id, checklist.version, checklist.title, "bands_test.yaml", own])
    assert Wording(store, "en").band_labels()["达标"] == "On target"
    assert Wording(store, "zh").band_labels()["达标"] == "达标"
