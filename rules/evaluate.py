"""Checklists measured against people's labels: per-item agreement, precision of ``fail``, share sent to review.

A labelled folder holds calls — transcript JSON (``callqa transcript --json``) or ``AGENT:``/``CUSTOMER:`` text
— each with a labels file beside it, ``NAME.labels.yaml``, mapping item ids to ``pass``, ``fail``, ``n/a`` or
``unsure``. Every call is scored with the checklist given, or with the shipped checklist of its language, and
each labelled item's verdict is compared with its label:

* **agreement**: the verdict equals the label, over the pairs whose label and verdict are both decided
  (``pass``/``fail``/``n/a``): an ``uncertain`` verdict is counted apart, as review work, not as agreement.
* **false deduction**: a ``fail`` where the label is ``pass``, ``n/a`` or ``unsure`` — the error an agent
  disputes. **Fail precision** is the share of ``fail`` verdicts that are not false deductions.
* **uncertain share**: the pairs whose verdict is ``uncertain`` (the call goes to a reviewer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from core.errors import CallQAError
from core.scorecard import CallScorecard, ItemVerdict, Verdict
from core.transcript_io import LoadedTranscript, read_transcript, transcript_hash
from rules.engine import score_call
from rules.match_base import Embedder
from rules.model import Checklist

LABELS = ("pass", "fail", "n/a", "unsure")
LABELS_SUFFIX = ".labels.yaml"
TRANSCRIPT_SUFFIXES = (".json", ".txt")
DEFAULT_MIN_FAIL_PRECISION = 0.95


class LabelsError(CallQAError):
    """A labelled folder or labels file that cannot be evaluated; the message names the file and line."""

    http_status = 422


@dataclass(frozen=True, slots=True)
class Label:
    """One item's label on one call, and where it was written (``file:line``)."""

    item_id: str
    value: str
    where: str


@dataclass(frozen=True, slots=True)
class LabelledCall:
    """A transcript and its labels."""

    name: str
    loaded: LoadedTranscript
    labels: tuple[Label, ...]


@dataclass(frozen=True, slots=True)
class Pair:
    """One labelled item on one call: the label, the verdict and what the verdict rests on."""

    call: str
    checklist_id: str
    language: str
    label: Label
    verdict: ItemVerdict

    @property
    def agrees(self) -> bool:
        return self.label.value == self.verdict.verdict.value

    @property
    def decided(self) -> bool:
        return self.label.value != "unsure" and self.verdict.verdict is not Verdict.UNCERTAIN

    @property
    def false_deduction(self) -> bool:
        return self.verdict.verdict is Verdict.FAIL and self.label.value != "fail"


@dataclass(frozen=True, slots=True)
class ItemFigures:
    """One item's figures over a labelled folder."""

    checklist_id: str
    language: str
    item_id: str
    pairs: int  # labelled pairs
    decided: int  # pairs whose label and verdict are both decided
    agreed: int  # of those, the verdict equals the label
    uncertain: int  # pairs whose verdict is uncertain
    fails: int  # fail verdicts
    false_deductions: int  # fail verdicts where the label is not fail

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.decided if self.decided else None

    @property
    def fail_precision(self) -> float | None:
        return (self.fails - self.false_deductions) / self.fails if self.fails else None

    @property
    def uncertain_share(self) -> float | None:
        return self.uncertain / self.pairs if self.pairs else None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Every labelled pair of a folder and the figures per item, in checklist order."""

    calls: int
    pairs: tuple[Pair, ...]
    items: tuple[ItemFigures, ...]
    unlabelled: int  # checklist items of scored calls that had no label (not counted)

    def below(self, min_fail_precision: float) -> tuple[ItemFigures, ...]:
        """The items whose fail precision is under the gate (items with no fail pass it)."""
        return tuple(f for f in self.items if f.fail_precision is not None and f.fail_precision < min_fail_precision)

    def disagreements(self) -> tuple[Pair, ...]:
        """False deductions first, then the other pairs whose verdict differs from a decided label."""
        wrong = [p for p in self.pairs if p.false_deduction or (p.decided and not p.agrees)]
        return tuple(sorted(wrong, key=lambda p: (not p.false_deduction, p.checklist_id, p.label.item_id, p.call)))


def read_labelled_folder(folder: Path) -> tuple[LabelledCall, ...]:
    """Every transcript of ``folder`` (not its subfolders) with its labels file; raises :class:`LabelsError`."""
    if not folder.is_dir():
        raise LabelsError(f"{folder}: not a folder; pass a folder of transcripts with NAME{LABELS_SUFFIX} beside each")
    transcripts = sorted(p for p in folder.iterdir() if p.suffix in TRANSCRIPT_SUFFIXES and p.is_file())
    named = {p.name[: -len(LABELS_SUFFIX)] for p in folder.glob(f"*{LABELS_SUFFIX}")}
    stems = {p.stem for p in transcripts}
    if orphans := sorted(named - stems):
        name = orphans[0]
        raise LabelsError(f"{folder / (name + LABELS_SUFFIX)}: labels without a transcript {name}.json or "
                          f"{name}.txt beside them; add it or remove the labels file")  # fmt: skip
    if not transcripts:
        raise LabelsError(f"{folder}: no transcripts (*.json or *.txt) to evaluate")
    calls = []
    for path in transcripts:
        labels_path = path.with_name(path.stem + LABELS_SUFFIX)
        if not labels_path.is_file():
            raise LabelsError(f"{path}: no labels file {labels_path.name} beside it; write one ('item_id: pass', "
                              "one line per item) or move the transcript out of the folder")  # fmt: skip
        calls.append(LabelledCall(path.stem, read_transcript(path), read_labels(labels_path)))
    return tuple(calls)


def read_labels(path: Path) -> tuple[Label, ...]:
    """A labels file: a YAML mapping of item ids to labels; raises :class:`LabelsError` naming the line."""
    try:
        data = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    except (YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise LabelsError(f"{where}: not readable YAML ({getattr(exc, 'problem', None) or exc}); write one "
                          "'item_id: label' per line") from None  # fmt: skip
    if data is None:
        raise LabelsError(f"{path}: empty; write one 'item_id: label' per line ({', '.join(LABELS)})")
    if not isinstance(data, CommentedMap):
        raise LabelsError(f"{path}:1: expected a mapping of item ids to labels ({', '.join(LABELS)})")
    labels = []
    for key, value in data.items():
        line = data.lc.key(key)[0] + 1
        if not isinstance(value, str) or value not in LABELS:
            hint = " ('unsure' is the label for an item the labeller cannot decide)" if value == "uncertain" else ""
            raise LabelsError(f"{path}:{line}: {key}: label {value!r} is not one of {', '.join(LABELS)}{hint}")
        labels.append(Label(str(key), value, f"{path}:{line}"))
    return tuple(labels)


def evaluate(
    calls: Sequence[LabelledCall],
    checklist_for: Callable[[str], Checklist],
    *,
    embedder: Callable[[], Embedder] | None = None,
) -> Evaluation:
    """Score every call with ``checklist_for(its language)`` and compare each labelled item with its label.

    A label naming an item the checklist does not have is an error (a misspelt id would otherwise be
    silently left out); items without a label are counted in ``unlabelled`` only."""
    pairs: list[Pair] = []
    unlabelled = 0
    order: dict[tuple[str, str], int] = {}
    for call in calls:
        transcript = call.loaded.transcript
        checklist = checklist_for(transcript.language)
        card = _score(checklist, call, embedder)
        verdicts = {v.item_id: v for v in card.items}
        for label in call.labels:
            if label.item_id not in verdicts:
                known = ", ".join(verdicts)
                raise LabelsError(f"{label.where}: {label.item_id}: no such item in checklist {checklist.id} "
                                  f"(its items: {known}); correct the id or remove the line")  # fmt: skip
            pairs.append(Pair(call.name, checklist.id, transcript.language, label, verdicts[label.item_id]))
        unlabelled += len(set(verdicts) - {label.item_id for label in call.labels})
        for k, item in enumerate(checklist.items):
            order.setdefault((checklist.id, item.id), len(order) * 1000 + k)
    return Evaluation(len(calls), tuple(pairs), _figures(pairs, order), unlabelled)


def _score(checklist: Checklist, call: LabelledCall, embedder: Callable[[], Embedder] | None) -> CallScorecard:
    loaded = call.loaded
    return score_call(checklist, loaded.transcript, loaded.metadata, call_id=loaded.call_id or call.name,
                      transcript_hash=transcript_hash(loaded.transcript), embedder=embedder,
                      timed=loaded.timed)  # fmt: skip


def _figures(pairs: Iterable[Pair], order: dict[tuple[str, str], int]) -> tuple[ItemFigures, ...]:
    by_item: dict[tuple[str, str], list[Pair]] = {}
    for p in pairs:
        by_item.setdefault((p.checklist_id, p.label.item_id), []).append(p)
    out = []
    for (checklist_id, item_id), group in sorted(by_item.items(), key=lambda kv: order.get(kv[0], 0)):
        decided = [p for p in group if p.decided]
        out.append(ItemFigures(
            checklist_id, group[0].language, item_id, len(group), len(decided), sum(p.agrees for p in decided),
            sum(p.verdict.verdict is Verdict.UNCERTAIN for p in group),
            sum(p.verdict.verdict is Verdict.FAIL for p in group), sum(p.false_deduction for p in group),
        ))  # fmt: skip
    return tuple(out)
