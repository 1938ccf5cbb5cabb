"""Regression examples: a corrected verdict kept as a test of its rule.

When a reviewer overturns a pass or fail (or upholds a dispute), the stretch of the call the verdict rested on
is stored with the corrected verdict (``regression_examples``). ``callqa rules test --db`` runs the active
examples beside the checklist's own; ``callqa rules regressions export`` writes them as YAML in the shape of
the inline examples, to paste under the item. The excerpt is the evidence with a little context, or the whole
call when the rule looks at all of it or the excerpt alone would not reproduce the mistake.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from core.errors import CallQAError
from core.scorecard import DEFAULT_BANDS, Band, evidence_from_json
from core.types import CallMetadata
from rules.engine import judge_item
from rules.loader import load_checklist, transcript_from_lines
from rules.model import Checklist, Example
from scorecards.people.access import Viewer
from scorecards.store.database import Store

CONTEXT_UTTERANCES = 2  # utterances kept either side of the evidence in a regression excerpt
# Call metadata an exported example keeps: what rules may test, minus the customer's number.
_EXAMPLE_METADATA = ("agent_id", "team", "queue", "direction", "hangup_by", "language")


@dataclass(frozen=True, slots=True)
class ExcerptLine:
    """One utterance of a regression example's transcript excerpt."""

    role: str  # agent | customer | unknown
    start: float  # seconds from the start of the call
    end: float
    text: str
    confidence: float = 1.0
    role_confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class RegressionExample:
    """A corrected verdict kept as a test of the rule.

    Attributes:
        example_id: stable id (the same scorecard and item always give the same id).
        checklist_id: the checklist the item belongs to (matched by id: the example runs against the
            current file even when it was made on an older version).
        checklist_hash: the checklist version whose verdict was corrected.
        item_id: the item.
        language: the call's language (zh | en).
        expect: the corrected verdict (pass | fail | n/a).
        automatic_verdict: what the engine said.
        lines: the transcript excerpt, with roles and times.
        source: ``review:<review id>`` or ``dispute:<dispute id>``.
        call_id: the call the excerpt comes from.
        comment: the reviewer's reason.
        created_by: the reviewer.
        created_at: when.
        active: False once withdrawn.
    """

    example_id: str
    checklist_id: str
    checklist_hash: str
    item_id: str
    language: str
    expect: str
    automatic_verdict: str
    lines: tuple[ExcerptLine, ...]
    source: str
    call_id: str
    comment: str
    created_by: str
    created_at: dt.datetime
    active: bool = True
    duration: float = 0.0  # the call's length: windows at the end of the call keep their meaning
    metadata: Mapping[str, str] = field(default_factory=dict)  # call fields a rule may test
    metrics: Mapping[str, float] = field(default_factory=dict)  # the call's metrics the item tests
    scope: str = "local"  # local: evidence ± context; call: the whole call (the rule looks at all of it)

    @property
    def name(self) -> str:
        """How ``callqa rules test`` names it."""
        return f"regression:{self.example_id}"


@dataclass(frozen=True, slots=True)
class ReviewTarget:
    """One verdict of one scorecard with the call it is about, as read inside a transaction."""

    scorecard_id: str
    call_id: str
    transcript_id: str
    checklist_id: str
    checklist_version: str
    checklist_hash: str
    transcript_hash: str
    is_current: bool
    agent_id: str | None
    team: str | None
    language: str
    duration: float
    item_idx: int
    item_id: str
    verdict: str  # the automatic verdict
    evidence: str  # its evidence JSON


def checklist_bands(content: str) -> tuple[Band, ...]:
    """The score bands of a checklist's YAML, read as the loader reads them (the default bands when none)."""
    data = yaml_data(content)
    raw = data.get("bands") if isinstance(data, Mapping) else None
    return tuple(Band(str(b["name"]), float(b["min"])) for b in raw or []) or DEFAULT_BANDS


def checklist_content(con: Any, checklist_hash: str) -> str:
    row = con.execute("SELECT content FROM checklists WHERE checklist_hash = ?", [checklist_hash]).fetchone()
    return str(row[0]) if row else ""


def yaml_data(content: str) -> Any:
    return YAML(typ="safe", pure=True).load(content) if content.strip() else {}


# -- regression examples ---------------------------------------------------------------------------


def example_id_of(target: ReviewTarget) -> str:
    """One example per (scorecard, item): a later correction of the same verdict replaces it."""
    return hashlib.sha256(f"{target.scorecard_id}:{target.item_idx}".encode()).hexdigest()[:16]


def save_example(
    con: Any, viewer: Viewer, target: ReviewTarget, expect: str, source: str, comment: str, now: dt.datetime
) -> str:
    example_id = example_id_of(target)
    content = checklist_content(con, target.checklist_hash)
    rule = _item_rule(yaml_data(content), target.item_id)
    utterances = con.execute(
        "SELECT role, start_s, end_s, text, confidence, role_confidence FROM utterances WHERE transcript_id = ? "
        "ORDER BY idx", [target.transcript_id]).fetchall()
    keep = excerpt_indices(rule, evidence_from_json(target.evidence), len(utterances))
    meta = con.execute(f"SELECT {', '.join(_EXAMPLE_METADATA[:-1])} FROM calls WHERE call_id = ?",
                       [target.call_id]).fetchone()  # fmt: skip
    metadata = {k: str(v) for k, v in zip(_EXAMPLE_METADATA, [*meta, target.language], strict=True) if v}
    names = sorted(_metric_names(rule))
    metrics = {n: float(v) for n, v in con.execute(
        "SELECT name, value FROM call_metrics WHERE transcript_id = ? AND list_contains(?, name)",
        [target.transcript_id, names]).fetchall()}  # fmt: skip
    # milliseconds and three digits of confidence: what an author reads, and finer than any rule looks
    lines = [{"role": r, "start": round(s, 3), "end": round(e, 3), "text": t, "confidence": round(c, 3),
              "role_confidence": round(rc, 3)} for r, s, e, t, c, rc in utterances]  # fmt: skip
    payload = {"scope": "local", "duration": round(float(target.duration), 3), "lines": [lines[i] for i in keep],
               "metadata": metadata, "metrics": metrics}  # fmt: skip
    if len(keep) == len(lines) or not _excerpt_reproduces(target, content, payload):
        payload.update(scope="call", lines=lines)
    con.execute("DELETE FROM regression_examples WHERE example_id = ?", [example_id])
    con.execute("INSERT INTO regression_examples VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE)",
                [example_id, target.checklist_id, target.checklist_hash, target.item_id, target.language, expect,
                 target.verdict, json.dumps(payload, ensure_ascii=False, sort_keys=True), source, target.call_id,
                 comment, viewer.user_id, now])  # fmt: skip
    return example_id


def excerpt_indices(rule: Mapping[str, Any] | None, evidence: Sequence[Any], count: int) -> list[int]:
    """Which utterances a regression example keeps.

    The utterances the evidence quotes, ``CONTEXT_UTTERANCES`` either side, when the verdict rests on what
    was heard there. The whole call when it rests on what was *not* heard (a stretch searched in vain,
    metadata, a metric), or when the rule counts utterances from the call's edges or relative to another
    phrase (``first/last_utterances``, ``within``): an excerpt would change what the rule sees. An
    overturn keeps the excerpt only if the rule, run on it alone, still makes the mistake (see
    ``_excerpt_reproduces``); otherwise the example is the whole call.

    Args:
        rule: the item's mapping from the checklist YAML (None when the checklist is not known).
        evidence: the verdict's evidence.
        count: the call's utterance count.
    """
    quoted = sorted({e.utterance for e in evidence if e.kind in ("hit", "excluded") and 0 <= e.utterance < count})
    rests_on_absence = not quoted or any(e.utterance < 0 for e in evidence)
    if rule is None or rests_on_absence or _needs_whole_call(rule):
        return list(range(count))
    keep: set[int] = set()
    for i in quoted:
        keep.update(range(max(0, i - CONTEXT_UTTERANCES), min(count, i + CONTEXT_UTTERANCES + 1)))
    return sorted(keep)


def _item_rule(data: Any, item_id: str) -> dict[str, Any] | None:
    """The item's conditions with every ``ref`` replaced by its ``define`` (None when there is no such item)."""
    if not isinstance(data, Mapping):
        return None
    defines = data.get("define") or {}
    for section in data.get("sections") or []:
        for item in section.get("items") or []:
            if item.get("id") == item_id:
                parts = [item.get("condition") or {}, item.get("applies_when") or {}]
                return {"all": [_resolve(p, defines, 0) for p in parts if p]}
    return None


def _resolve(node: Any, defines: Mapping[str, Any], depth: int) -> Any:
    if depth > 20 or not isinstance(node, Mapping):  # a define cannot refer to itself for ever
        return node
    if "ref" in node:
        return {"says": defines.get(str(node["ref"]), {})}
    return {k: [_resolve(p, defines, depth + 1) for p in v] if k in ("all", "any")
            else _resolve(v, defines, depth + 1) if k == "not" else v for k, v in node.items()}  # fmt: skip


def _leaves(node: Any) -> Iterator[tuple[str, Any]]:
    if not isinstance(node, Mapping):
        return
    for key, value in node.items():
        if key in ("all", "any"):
            for part in value or []:
                yield from _leaves(part)
        elif key == "not":
            yield from _leaves(value)
        else:
            yield key, value


def _needs_whole_call(rule: Mapping[str, Any]) -> bool:
    for kind, leaf in _leaves(rule):
        if kind in ("metadata", "metric"):
            return True
        if kind == "says" and isinstance(leaf, Mapping):
            window = leaf.get("window") or {}
            if "within" in leaf or "first_utterances" in window or "last_utterances" in window:
                return True
    return False


def _metric_names(rule: Mapping[str, Any] | None) -> set[str]:
    return {str(leaf.get("name")) for kind, leaf in _leaves(rule) if kind == "metric" and isinstance(leaf, Mapping)}


def regression_examples(store: Store, checklist_id: str | None = None) -> tuple[RegressionExample, ...]:
    """The active regression examples, optionally of one checklist, oldest first."""
    with store.reading() as con:
        rows = con.execute(
            "SELECT example_id, checklist_id, checklist_hash, item_id, language, expect, automatic_verdict, "
            "transcript, source, call_id, comment, created_by, created_at, active FROM regression_examples "
            "WHERE active AND (? IS NULL OR checklist_id = ?) ORDER BY created_at, example_id",
            [checklist_id, checklist_id]).fetchall()
    return tuple(_example(r) for r in rows)


def _example(row: Sequence[Any]) -> RegressionExample:
    payload = json.loads(row[7])
    lines = tuple(ExcerptLine(x["role"], x["start"], x["end"], x["text"], x["confidence"], x["role_confidence"])
                  for x in payload["lines"])  # fmt: skip
    return RegressionExample(
        example_id=row[0], checklist_id=row[1], checklist_hash=row[2], item_id=row[3], language=row[4],
        expect=row[5], automatic_verdict=row[6], lines=lines, source=row[8], call_id=row[9], comment=row[10],
        created_by=row[11], created_at=row[12], active=bool(row[13]), duration=float(payload["duration"]),
        metadata=payload["metadata"], metrics=payload["metrics"], scope=payload["scope"],
    )


_GROUPS = {"pass": "pass", "fail": "fail", "n/a": "na"}


def example_mapping(example: RegressionExample) -> CommentedMap:
    """One example in the shape the checklist loader reads under an item's ``examples: <group>:``."""
    lines = CommentedSeq()
    for x in example.lines:
        # always quoted: ruamel writes "Yes? Account number?" bare in a flow mapping, which no parser reads back
        line = CommentedMap(role=x.role, start=x.start, end=x.end, text=DoubleQuotedScalarString(x.text),
                            confidence=x.confidence, role_confidence=x.role_confidence)  # fmt: skip
        line.fa.set_flow_style()
        lines.append(line)
    out = CommentedMap(transcript=lines, duration=example.duration)
    if example.metadata:
        out["metadata"] = dict(example.metadata)
    if example.metrics:
        out["metrics"] = dict(example.metrics)
    note = f"{example.name} from {example.source}, call {example.call_id[:12]}, engine said {example.automatic_verdict}"
    out["note"] = f"{note}: {example.comment}" if example.comment else note
    return out


def regressions_yaml(examples: Sequence[RegressionExample]) -> str:
    """YAML in the shape of a checklist item's inline ``examples`` (pass/fail/na lists), grouped by item.

    The document maps checklist id → item id → group → examples; an author pastes an item's groups under
    that item's ``examples:`` in the checklist file.
    """
    doc = CommentedMap()
    for ex in sorted(examples, key=lambda e: (e.checklist_id, e.item_id, e.created_at, e.example_id)):
        item = doc.setdefault(ex.checklist_id, CommentedMap()).setdefault(ex.item_id, CommentedMap())
        item.setdefault(_GROUPS[ex.expect], CommentedSeq()).append(example_mapping(ex))
    yaml = YAML(typ="rt")
    yaml.width = 4096  # one utterance per line, however long
    yaml.allow_unicode = True
    buf = StringIO()
    buf.write("# Regression examples from reviewed calls: checklist id > item id > examples.\n"
              "# Paste an item's groups (pass/fail/na) under that item's `examples:` in the checklist.\n")  # fmt: skip
    if doc:
        yaml.dump(doc, buf)
    else:
        buf.write("{}\n")
    return buf.getvalue()


def as_rule_example(example: RegressionExample) -> Example:
    """The example as the rule engine runs it (what ``callqa rules test`` judges)."""
    lines = [{"role": x.role, "start": x.start, "end": x.end, "text": x.text, "confidence": x.confidence,
              "role_confidence": x.role_confidence} for x in example.lines]  # fmt: skip
    return _rule_example(example.expect, lines, example.duration, example.metadata, example.metrics)


def _rule_example(
    expect: str,
    lines: Sequence[Mapping[str, Any]],
    duration: float,
    meta: Mapping[str, str],
    metrics: Mapping[str, float],
) -> Example:
    transcript = transcript_from_lines(lines, duration)
    metadata = CallMetadata(agent_id=meta.get("agent_id"), team=meta.get("team"), queue=meta.get("queue"),
                            direction=meta.get("direction"), hangup_by=meta.get("hangup_by"),
                            language=meta.get("language"), source="example")  # fmt: skip
    return Example(expect, False, transcript, metadata, dict(metrics), 0)


_COMPILED: dict[str, Checklist | None] = {}


def _compiled(checklist_hash: str, content: str) -> Checklist | None:
    """The stored checklist compiled by the current loader, once per process (None if it no longer loads)."""
    if checklist_hash not in _COMPILED:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "checklist.yaml"
            path.write_text(content, encoding="utf-8")
            try:
                _COMPILED[checklist_hash] = load_checklist(path)
            except CallQAError:
                _COMPILED[checklist_hash] = None
    return _COMPILED[checklist_hash]


def _excerpt_reproduces(target: ReviewTarget, content: str, payload: Mapping[str, Any]) -> bool:
    """Whether the rule, run on the excerpt alone, still gives the verdict the reviewer corrected.

    An excerpt that does not would pass as a test at once while the rule stays wrong on the call. Rules
    matching by sentence similarity are not run here (that loads the embedding model into a web request):
    their examples keep the whole call.
    """
    checklist = _compiled(target.checklist_hash, content) if content else None
    if checklist is None or checklist.uses_similar:
        return False
    item = next((i for i in checklist.items if i.id == target.item_id), None)
    if item is None:
        return False
    ex = _rule_example("", payload["lines"], payload["duration"], payload["metadata"], payload["metrics"])
    return str(judge_item(checklist, item, ex.transcript, ex.metadata, ex.metrics).verdict) == target.verdict

