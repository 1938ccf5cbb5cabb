"""The shipped checklists on the independent labelled set (tests/data/labelled): per-item precision/recall.

The set was written and labelled by another engineer who did not look at the phrase lists, so it measures
the checklists rather than echoing them. Still a regression suite, not proof: calls never seen will differ.

Two positive classes are reported per item: ``fail`` (a deduction; the one that matters most) and ``pass``.
Precision and recall of both must reach 0.95, and a ``fail`` where the label is ``uncertain`` is an error
in its own right: the evidence was unreliable, so nobody may be marked down on it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from core.transcript_io import parse_json
from rules.engine import score_call
from rules.loader import CHECKLIST_DIR, load_checklist

LABELLED = Path(__file__).parents[1] / "data" / "labelled"
MIN_PRECISION = MIN_RECALL = 0.95
LANGUAGES = ("en", "zh")


@dataclass
class Counts:
    """Confusion counts of one item for one positive class."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, got: bool, want: bool) -> None:
        self.tp += got and want
        self.fp += got and not want
        self.fn += want and not got

    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class ItemResult:
    """How the engine's verdicts on one item compare with the labels."""

    fail: Counts = field(default_factory=Counts)
    passed: Counts = field(default_factory=Counts)
    agree: int = 0
    total: int = 0
    fail_on_uncertain: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)


def labelled_calls(language: str) -> Iterator[tuple[str, dict[str, object]]]:
    """Every labelled call of a language: (file name, parsed JSON)."""
    for path in sorted((LABELLED / language).glob("*.json")):
        yield path.name, json.loads(path.read_text(encoding="utf-8"))


@cache
def evaluate(language: str) -> tuple[dict[str, ItemResult], int]:
    """Score every labelled call of ``language`` with its shipped checklist and compare with the labels."""
    checklist = load_checklist(CHECKLIST_DIR / f"service_{language}.yaml")
    results = {item.id: ItemResult() for item in checklist.items}
    calls = 0
    for name, data in labelled_calls(language):
        labels = data.pop("labels")
        data.pop("notes", None)
        assert isinstance(labels, dict), f"{name}: 'labels' must be an object of item id → verdict"
        assert sorted(labels) == sorted(results), f"{name}: labels {sorted(labels)}"
        loaded = parse_json(json.dumps(data), name)
        card = score_call(checklist, loaded.transcript, loaded.metadata, call_id=loaded.call_id)
        calls += 1
        for item_id, label in labels.items():
            verdict = card.item(item_id)
            got, r = str(verdict.verdict), results[item_id]
            r.total += 1
            r.agree += got == label
            r.fail.add(got == "fail", label == "fail")
            r.passed.add(got == "pass", label == "pass")
            if got != label:
                r.wrong.append(f"{name}: label {label}, got {got} ({verdict.reason[:90]})")
            if label == "uncertain" and got == "fail":
                r.fail_on_uncertain.append(name)
    return results, calls


def table(language: str, results: dict[str, ItemResult]) -> str:
    """The per-item table printed by the tests (pytest -s) and quoted in docs/checklists.md."""
    lines = [f"{language}: item                      fail P   fail R   pass P   pass R   agree",
             "-" * 78]  # fmt: skip
    for item_id, r in results.items():
        lines.append(f"  {item_id:<28} {r.fail.precision():6.2f} {r.fail.recall():8.2f} "
                     f"{r.passed.precision():8.2f} {r.passed.recall():8.2f}   {r.agree}/{r.total}")  # fmt: skip
        lines += [f"      {w}" for w in r.wrong]
    return "\n".join(lines)


@pytest.mark.parametrize("language", LANGUAGES)
def test_labelled_set_is_complete(language: str) -> None:
    _, calls = evaluate(language)
    assert calls >= 40


@pytest.mark.parametrize("language", LANGUAGES)
def test_per_item_precision_and_recall(language: str, accuracy_report: Callable[[str], None]) -> None:
    results, _ = evaluate(language)
    text = table(language, results)
    accuracy_report(f"shipped checklist on the independent labelled set (tests/data/labelled)\n{text}")
    low = [
        f"{item_id} {cls} {which}={value:.2f}"
        for item_id, r in results.items()
        for cls, counts in (("fail", r.fail), ("pass", r.passed))
        for which, value in (("precision", counts.precision()), ("recall", counts.recall()))
        if value < (MIN_PRECISION if which == "precision" else MIN_RECALL)
    ]
    assert low == [], "\n".join(low) + "\n" + text


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_fail_where_label_is_uncertain(language: str) -> None:
    results, _ = evaluate(language)
    bad = {item_id: r.fail_on_uncertain for item_id, r in results.items() if r.fail_on_uncertain}
    assert bad == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_item_has_labelled_fails_and_passes(language: str) -> None:
    # An item never labelled fail (or pass) would report a vacuous 1.00: the set must exercise both.
    results, _ = evaluate(language)
    for item_id, r in results.items():
        assert r.fail.tp + r.fail.fn > 0, f"{item_id}: no call labelled fail"
        assert r.passed.tp + r.passed.fn > 0, f"{item_id}: no call labelled pass"
