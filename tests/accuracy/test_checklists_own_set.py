"""The shipped checklists on labelled calls (tests/rules/labelled): per-item precision and recall.

A regression suite, not proof: the calls were written by the checklist's author, with hits, near-misses,
misrecognitions and low-confidence stretches for every item. Positive class: the item fails the call.
The independent set (tests/data/labelled, tests/accuracy/test_checklists.py) is the reference: where the two disagreed,
this set's labels were brought in line with its guide (an order number asked only to find the order is not
identity verification: zh03, zh04, zh08, zh13, zh19, zh25, zh34 ver=F, zh10 ver=U as its opening is
unreliable; "That's not fair." is an upset customer: en16 emp=F).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from core.scorecard import CallScorecard
from core.types import CallMetadata
from rules.engine import score_call
from rules.loader import CHECKLIST_DIR, load_checklist, transcript_from_lines

HERE = Path(__file__).parents[1] / "rules" / "labelled"
KEYS = {"gr": "greeting", "id": "self_identification", "ver": "identity_verification", "lis": "active_listening",
        "rep": "repeat_back", "emp": "empathy", "apo": "apology_overuse",
        "def": "no_deflection", "rude": "no_rude_wording", "clo": "closing", "hang": "customer_hangs_up_first",
        "comp": "complaint_length"}  # fmt: skip
# The "hold" labels of this set predate the split into hold_announced / hold_thanked, and its untimed lines
# have no silences to find a hold in: holds are measured on the independent set (tests/accuracy/test_checklists.py).
RETIRED = {"hold"}
VERDICTS = {"P": "pass", "F": "fail", "N": "n/a", "U": "uncertain"}
MIN_PRECISION = MIN_RECALL = 0.95


def labels_of(text: str) -> dict[str, str]:
    pairs = dict(pair.split("=") for pair in text.split())
    labels = {KEYS[k]: VERDICTS[v] for k, v in pairs.items() if k not in RETIRED}
    for optional in ("customer_hangs_up_first", "complaint_length"):
        labels.setdefault(optional, "n/a")
    assert sorted(labels) == sorted(KEYS.values()), sorted(set(KEYS.values()) - set(labels))
    return labels


@dataclass
class Confusion:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    agree: int = 0
    total: int = 0
    fail_on_unreliable: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def evaluate(language: str) -> tuple[dict[str, Confusion], int]:
    calls = YAML(typ="safe").load((HERE / f"{language}.yaml").read_text(encoding="utf-8"))
    checklist = load_checklist(CHECKLIST_DIR / f"service_{language}.yaml")
    out = {item.id: Confusion() for item in checklist.items if item.id in KEYS.values()}
    for call in calls:
        transcript = transcript_from_lines(call["lines"], call.get("duration"))
        metadata = CallMetadata(**{k: str(v) for k, v in (call.get("metadata") or {}).items()})
        card: CallScorecard = score_call(checklist, transcript, metadata)
        for item_id, label in labels_of(call["labels"]).items():
            got, c = str(card.item(item_id).verdict), out[item_id]
            c.total += 1
            c.agree += got == label
            c.tp += got == "fail" and label == "fail"
            c.fp += got == "fail" and label != "fail"
            c.fn += got != "fail" and label == "fail"
            if got != label:
                c.wrong.append(f"{call['id']}: label {label}, got {got} ({card.item(item_id).reason[:80]})")
            if label == "uncertain" and got == "fail":
                c.fail_on_unreliable.append(call["id"])
    return out, len(calls)


def report(language: str, results: dict[str, Confusion]) -> str:
    lines = [f"{language}: item precision recall agreement"]
    for item_id, c in results.items():
        lines.append(f"  {item_id:<26} {c.precision():.2f} {c.recall():.2f} {c.agree}/{c.total}")
        lines += [f"      {w}" for w in c.wrong]
    return "\n".join(lines)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_labelled_calls(language: str, accuracy_report: Callable[[str], None]) -> None:
    results, calls = evaluate(language)
    assert calls >= 40
    text = report(language, results)
    accuracy_report(f"shipped checklist on the set written with it (tests/rules/labelled)\n{text}")
    for item_id, c in results.items():
        assert c.precision() >= MIN_PRECISION and c.recall() >= MIN_RECALL, f"{item_id}\n{text}"
        assert c.fail_on_unreliable == [], f"{item_id} failed calls whose evidence is unreliable\n{text}"
        assert c.tp + c.fn > 0 or item_id in ("apology_overuse",), f"{item_id}: no labelled fail"
