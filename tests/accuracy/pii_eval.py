"""Recall and precision of the personal-data detectors on the labelled set in tests/data/pii/ (see its README).

A labelled span is *found* when spans of its own kind cover at least 80 % of its letters and digits, and
*hidden* when spans of any kind do (a phone number hidden as ``[NUMBER]`` is hidden, not found). A detected
span is *right* when it overlaps a labelled span of its kind. Run ``python -m tests.accuracy.pii_eval`` for
the table per language, split and kind.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from core.types import Role, Utterance
from pipeline.pii import Finding, detect

DATA = Path(__file__).resolve().parents[1] / "data" / "pii"
KINDS = ("PHONE", "ID", "CARD", "EMAIL", "ADDRESS", "NAME", "DATE", "NUMBER")


@dataclass(frozen=True)
class Label:
    turn: int
    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Case:
    case_id: str
    split: str
    utterances: tuple[Utterance, ...]
    labels: tuple[Label, ...]


@dataclass
class Tally:
    labelled: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    hidden: Counter[str] = field(default_factory=Counter)
    detected: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def recall(self, kind: str) -> float:
        return self.found[kind] / self.labelled[kind] if self.labelled[kind] else 1.0

    def precision(self, kind: str | None = None) -> float:
        d = sum(self.detected.values()) if kind is None else self.detected[kind]
        r = sum(self.right.values()) if kind is None else self.right[kind]
        return r / d if d else 1.0


def load(language: str) -> list[Case]:
    cases = []
    for line in (DATA / f"{language}.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        utts = tuple(
            Utterance(start=i * 5.0, end=i * 5.0 + 4.0, text=t["text"],
                      role=Role.AGENT if t["role"] == "agent" else Role.CUSTOMER, speaker=t["role"])
            for i, t in enumerate(raw["turns"]))
        labels = []
        for e in raw["entities"]:
            text = utts[e["turn"]].text
            at = -1
            for _ in range(e.get("occurrence", 1)):
                at = text.index(e["text"], at + 1)
            labels.append(Label(e["turn"], at, at + len(e["text"]), e["type"]))
        cases.append(Case(raw["id"], raw["split"], utts, tuple(labels)))
    return cases


def _covered(label: Label, spans: list[Finding], text: str) -> float:
    chars = [i for i in range(label.start, label.end) if re.match(r"\w", text[i])]
    if not chars:
        return 0.0
    hit = sum(any(f.start <= i < f.end for f in spans) for i in chars)
    return hit / len(chars)


def evaluate(cases: list[Case]) -> Tally:
    tally = Tally()
    for case in cases:
        found = detect(case.utterances)
        for label in case.labels:
            text = case.utterances[label.turn].text
            mine = [f for f in found if f.utterance == label.turn]
            tally.labelled[label.kind] += 1
            if _covered(label, [f for f in mine if f.kind == label.kind], text) >= 0.8:
                tally.found[label.kind] += 1
            else:
                got = ",".join(sorted({f"{f.kind}:{text[f.start:f.end]}" for f in mine
                                       if f.start < label.end and label.start < f.end})) or "nothing"
                tally.misses.append(f"{case.case_id} {label.kind} '{text[label.start:label.end]}' → {got}")
            if _covered(label, mine, text) >= 0.8:
                tally.hidden[label.kind] += 1
        for f in found:
            tally.detected[f.kind] += 1
            text = case.utterances[f.utterance].text
            if any(lb.turn == f.utterance and lb.kind == f.kind and lb.start < f.end and f.start < lb.end
                   for lb in case.labels):
                tally.right[f.kind] += 1
            else:
                tally.wrong.append(f"{case.case_id} {f.kind} '{text[f.start:f.end]}' ({f.detector})")
    return tally


def report(language: str, split: str, verbose: bool = False) -> Tally:
    cases = [c for c in load(language) if c.split == split or split == "all"]
    tally = evaluate(cases)
    print(f"\n{language} {split}: {len(cases)} cases, precision overall {tally.precision():.3f}")
    print(f"{'kind':8} {'spans':>5} {'recall':>7} {'hidden':>7} {'detected':>8} {'precision':>9}")
    for k in KINDS:
        n = tally.labelled[k]
        hidden = tally.hidden[k] / n if n else 1.0
        print(f"{k:8} {n:5d} {tally.recall(k):7.3f} {hidden:7.3f} {tally.detected[k]:8d} {tally.precision(k):9.3f}")
    if verbose:
        print("missed:", *tally.misses, sep="\n  ")
        print("wrong:", *tally.wrong, sep="\n  ")
    return tally


if __name__ == "__main__":
    args = sys.argv[1:]
    verbose = "-v" in args
    splits = [a for a in args if a in ("dev", "test", "all")] or ["dev"]
    for lang in ("en", "zh"):
        for sp in splits:
            report(lang, sp, verbose)
