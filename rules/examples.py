"""Run the examples written beside each item (``callqa rules test``), Semgrep-style.

An item's ``fail`` examples are the positives (the item must flag them), its ``pass`` examples the
negatives; ``na`` and ``uncertain`` examples must give exactly that verdict; ``todo`` examples are known
gaps (expected to fail, not yet caught): reported, never an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.scorecard import ItemVerdict, Verdict
from rules.engine import judge_item
from rules.model import Checklist, Example, Item


@dataclass(frozen=True, slots=True)
class ExampleResult:
    """What one example gave."""

    checklist: Checklist
    item: Item
    index: int  # position among the item's examples
    example: Example
    verdict: ItemVerdict

    @property
    def ok(self) -> bool:
        return str(self.verdict.verdict) == self.example.expect

    @property
    def where(self) -> str:
        return f"{self.checklist.path}:{self.example.line}"


@dataclass(slots=True)
class Tally:
    """Per-item counts; positive = the item flags the call (``fail``)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    other_ok: int = 0  # n/a and uncertain examples that gave what they expect
    other_wrong: int = 0
    todo_open: int = 0
    todo_fixed: int = 0

    @property
    def failures(self) -> int:
        return self.fp + self.fn + self.other_wrong


def run_item(checklist: Checklist, item: Item) -> list[ExampleResult]:
    """Judge every example of one item."""
    return [
        ExampleResult(checklist, item, i, ex, judge_item(checklist, item, ex.transcript, ex.metadata, ex.metrics))
        for i, ex in enumerate(item.examples)
    ]


def run(checklists: Iterable[Checklist]) -> list[ExampleResult]:
    """Judge every example of every item of every checklist."""
    return [r for c in checklists for item in c.items for r in run_item(c, item)]


def tally(results: Iterable[ExampleResult]) -> dict[tuple[str, str], Tally]:
    """Counts per (checklist id, item id)."""
    out: dict[tuple[str, str], Tally] = {}
    for r in results:
        t = out.setdefault((r.checklist.id, r.item.id), Tally())
        got = r.verdict.verdict
        if r.example.todo:
            if r.ok:
                t.todo_fixed += 1
            else:
                t.todo_open += 1
        elif r.example.expect == "fail":
            if got is Verdict.FAIL:
                t.tp += 1
            else:
                t.fn += 1
        elif r.example.expect == "pass":
            if got is Verdict.FAIL:
                t.fp += 1
            elif got is Verdict.PASS:
                t.tn += 1
            else:
                t.other_wrong += 1
        elif r.ok:
            t.other_ok += 1
        else:
            t.other_wrong += 1
    return out


def run_for_item(checklist: Checklist, item_id: str, examples: Iterable[Example]) -> list[ExampleResult]:
    """Judge examples kept elsewhere (e.g. regression examples from reviewed calls) with one item.

    Raises:
        KeyError: naming the item when the checklist has none such (it was renamed or removed).
    """
    item = next((i for i in checklist.items if i.id == item_id), None)
    if item is None:
        raise KeyError(f"checklist {checklist.id} has no item {item_id!r}")
    return [
        ExampleResult(checklist, item, i, ex, judge_item(checklist, item, ex.transcript, ex.metadata, ex.metrics))
        for i, ex in enumerate(examples)
    ]
