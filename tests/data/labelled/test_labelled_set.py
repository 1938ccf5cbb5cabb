"""Integrity of the labelled transcript set: built from its sources, well-formed, labels consistent.

These tests guard the data, not the rule engine: the JSON must be exactly what ``build.py`` makes from
``source/*.dlg`` (so nobody edits one without the other), the format must hold, and the labels that
follow mechanically from the data (metadata items, ``uncertain``) must agree with it.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent


def _load(name: str) -> ModuleType:
    # Loaded by path under a unique name: "build" would shadow the PyPA package of that name.
    spec = importlib.util.spec_from_file_location(f"labelled_{name}", HERE / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


build = _load("build")
summarise = _load("summarise")
DIALOGUES = [(src.stem.split("_")[0], d) for src in sorted((HERE / "source").glob("*.dlg"))
             for d in build.parse_source(src)]
FILES = sorted(HERE.glob("*/*.json"))


def _call(path: Path) -> dict[str, Any]:
    call: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return call


@pytest.mark.parametrize(("language", "dialogue"), DIALOGUES, ids=[d.call_id for _, d in DIALOGUES])
def test_json_is_built_from_its_source(language: str, dialogue: Any) -> None:
    path = HERE / language / f"{dialogue.call_id}.json"
    assert path.read_text(encoding="utf-8") == build.render(build.build(dialogue, language))


def test_every_json_has_a_source_and_each_language_has_enough() -> None:
    assert sorted(p.stem for p in FILES) == sorted(d.call_id for _, d in DIALOGUES)
    for language in summarise.LANGUAGES:
        assert len([p for p in FILES if p.parent.name == language]) >= summarise.MIN_PER_LANGUAGE


def test_format_and_counts() -> None:
    calls, problems = summarise.load()
    _, short = summarise.count_table(calls)
    assert problems == []
    assert short == []


def test_guide_tables_are_current() -> None:
    assert summarise.main(["--check"]) == 0


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_labels_that_follow_from_the_data(path: Path) -> None:
    call = _call(path)
    labels, metadata = call["labels"], call.get("metadata", {})
    hangup = {"customer": "pass", "agent": "fail"}.get(metadata.get("hangup_by"), "n/a")
    assert labels["customer_hangs_up_first"] == hangup
    if metadata.get("queue", "").lower() in {"complaint", "投诉"}:
        assert labels["complaint_length"] == ("pass" if call["duration"] <= 600 else "fail")
    else:
        assert labels["complaint_length"] == "n/a"
    unreliable = [w for u in call["utterances"] for w in u["words"] if w["probability"] < 0.5]
    unreliable_roles = [u for u in call["utterances"] if u["role_confidence"] < 0.6]
    # In this set unreliable evidence is only ever written where a verdict rests on it.
    has_uncertain = "uncertain" in labels.values()
    assert has_uncertain == bool(unreliable or unreliable_roles)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_times_are_ordered_and_inside_the_call(path: Path) -> None:
    call = _call(path)
    previous = 0.0
    for u in call["utterances"]:
        assert previous <= u["start"] < u["end"] <= call["duration"]
        assert [w["start"] for w in u["words"]] == sorted(w["start"] for w in u["words"])
        assert u["words"][0]["start"] == u["start"] and u["words"][-1]["end"] == u["end"]
        joiner = "" if call["language"] == "zh" else " "
        assert joiner.join(w["text"] for w in u["words"]) == u["text"]
        previous = u["end"]
