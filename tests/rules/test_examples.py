"""Every example shipped beside a checklist item is its own test (checklist, item, example index)."""

from __future__ import annotations

import pytest

from rules.examples import ExampleResult, run_item, tally
from rules.loader import CHECKLIST_DIR, load_checklists
from rules.model import Checklist, Item

CHECKLISTS = load_checklists([CHECKLIST_DIR])
CASES = [(c, item, i) for c in CHECKLISTS for item in c.items for i in range(len(item.examples))]


def _id(case: object) -> str:
    checklist, item, index = case  # type: ignore[misc]
    example = item.examples[index]
    return f"{checklist.id}-{item.id}-{example.expect.replace('/', '')}{index}"


_RESULTS: dict[tuple[str, str], list[ExampleResult]] = {}


def _results(checklist: Checklist, item: Item) -> list[ExampleResult]:
    key = (checklist.id, item.id)
    if key not in _RESULTS:
        _RESULTS[key] = run_item(checklist, item)
    return _RESULTS[key]


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_shipped_example(case: tuple[Checklist, Item, int]) -> None:
    checklist, item, index = case
    result = _results(checklist, item)[index]
    if result.example.todo:
        pytest.xfail(f"known gap at {result.where}")
    assert str(result.verdict.verdict) == result.example.expect, (result.where, result.verdict.reason)
    # a verdict always shows what it rests on
    assert result.verdict.evidence


def test_tally_counts_each_example_once() -> None:
    checklist = CHECKLISTS[0]
    results = [r for item in checklist.items for r in _results(checklist, item)]
    counts = tally(results)
    total = sum(t.tp + t.fp + t.fn + t.tn + t.other_ok + t.other_wrong + t.todo_open + t.todo_fixed
                for t in counts.values())  # fmt: skip
    assert total == len(results)
    assert all(t.failures == 0 for t in counts.values())
