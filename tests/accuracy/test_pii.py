"""Personal-data detection on the labelled set (tests/data/pii/): per-kind recall and precision, each language.

The targets are issue 14's: phone, ID, card and email recall ≥ 0.98, names ≥ 0.85, precision ≥ 0.90 overall. They
are checked on the splits the detectors were not written against: ``test`` (first measured before any tuning on it;
docs/privacy.md has both figures) and ``holdout`` (written after the detectors were finished).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.accuracy.pii_eval import DATA, KINDS, Case, Tally, evaluate, load

STRICT = ("PHONE", "ID", "CARD", "EMAIL")


def _table(title: str, tally: Tally) -> str:
    lines = [f"{title}: precision {tally.precision():.3f}"]
    for kind in KINDS:
        n = tally.labelled[kind]
        if n:
            lines.append(f"  {kind:8} {n:3d} spans  recall {tally.recall(kind):.3f}  "
                         f"hidden {tally.hidden[kind] / n:.3f}  precision {tally.precision(kind):.3f}")
    return "\n".join(lines)


def _cases(language: str, split: str) -> list[Case]:
    """The cases of a split: test from the first set, or a later set of its own file (holdout, blind …)."""
    if split == "test":
        return [c for c in load(language) if c.split == split]
    path = DATA / f"{split}_{language}.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is not there")
    return load(f"{split}_{language}")


@pytest.mark.parametrize("split", ["test", "holdout"])  # the blind set is reported, not held (docs/privacy.md)
@pytest.mark.parametrize("language", ["en", "zh"])
def test_personal_data_is_found_in_both_languages(language: str, split: str,
                                                  accuracy_report: Callable[[str], None]) -> None:
    tally = evaluate(_cases(language, split))
    accuracy_report(_table(f"PII {language} {split}", tally))
    low = {k: round(tally.recall(k), 3) for k in STRICT if tally.recall(k) < 0.98}
    assert not low, f"recall below 0.98: {low}; misses: {tally.misses}"
    assert tally.recall("NAME") >= 0.85, tally.misses
    assert tally.precision() >= 0.90, tally.wrong


@pytest.mark.parametrize("blind", ["blind", "blind2", "blind3", "blind4", "blind5", "blind6", "blind7", "blind8"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_blind_sets_are_reported(language: str, blind: str, accuracy_report: Callable[[str], None]) -> None:
    """Each measured once when written; their first figures (docs/privacy.md) are the estimate for unseen text."""
    tally = evaluate(_cases(language, blind))
    accuracy_report(_table(f"PII {language} {blind}", tally))
    assert tally.precision() >= 0.90 and all(tally.hidden[k] >= tally.labelled[k] * 0.6 for k in STRICT)


def test_every_digit_of_a_labelled_number_is_hidden_whatever_kind_it_is_given() -> None:
    """Recall over precision for digits: a phone, ID, card or account number may be typed wrong, never shown."""
    cases = [c for lang in ("en", "zh") for c in load(lang)]
    tally = evaluate(cases)
    for kind in ("PHONE", "ID", "CARD", "NUMBER"):
        assert tally.hidden[kind] == tally.labelled[kind], [m for m in tally.misses if f" {kind} " in m]
