"""The write side of the review work: confirm or overturn a verdict, disputes, acknowledgements.

A review never changes the engine's verdict: it is stored beside it (``verdict_reviews``), and the
call's reviewed score (``reviewed_scores``) is recomputed from the automatic verdicts with the current
reviews applied, by the same arithmetic as the automatic score (:func:`scorecards.scoring.build_scorecard`).
An overturned verdict becomes a regression example: the stretch of the call the verdict rested on with
the corrected verdict, kept as data and run by ``callqa rules test`` beside the checklist's own examples.

Every function takes the :class:`~scorecards.store.Store` and the :class:`~scorecards.access.Viewer` first
and raises :class:`~scorecards.access.NotFound` (no such thing, or not visible to the viewer),
:class:`~scorecards.access.Forbidden` (visible, but not theirs to do) or :class:`~scorecards.access.Invalid`
(a field with a value it cannot take; the message names the field).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from callqa.errors import CallQAError
from callqa.types import CallMetadata
from rules.engine import judge_item
from rules.loader import load_checklist, transcript_from_lines
from rules.model import Checklist, Example
from scorecards.access import Forbidden, Invalid, NotFound, UserRole, Viewer
from scorecards.scoring import DEFAULT_BANDS, Band, ItemVerdict, Verdict, build_scorecard, evidence_from_json
from scorecards.store import Store

Decision = Literal["confirm", "overturn"]
REVIEWED_VERDICTS = ("pass", "fail", "n/a")
CONTEXT_UTTERANCES = 2  # utterances kept either side of the evidence in a regression excerpt
# Call metadata an exported example keeps: what rules may test, minus the customer's number.
_EXAMPLE_METADATA = ("agent_id", "team", "queue", "direction", "hangup_by", "language")


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """What a review did.

    Attributes:
        review_id: the stored review.
        scorecard_id: the scorecard reviewed.
        item_idx: the verdict's position in the scorecard (``verdicts.idx``).
        item_id: the checklist item.
        automatic_verdict: the engine's verdict (unchanged).
        reviewed_verdict: the verdict that counts now.
        decision: confirm or overturn.
        total: the reviewed total (None when nothing counted).
        raw_total: the reviewed total before a veto.
        band: the reviewed band.
        veto: a veto item fails after the review.
        reviewed_items: how many verdicts of the scorecard have a current review.
        example_id: the regression example an overturn created (None for a confirm).
    """

    review_id: str
    scorecard_id: str
    item_idx: int
    item_id: str
    automatic_verdict: str
    reviewed_verdict: str
    decision: Decision
    total: float | None
    raw_total: float | None
    band: str
    veto: bool
    reviewed_items: int
    example_id: str | None


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


# -- reviews ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Target:
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


def review_verdict(
    store: Store,
    viewer: Viewer,
    scorecard_id: str,
    item_idx: int,
    *,
    decision: Decision,
    verdict: str | None,
    comment: str,
    dispute_id: str | None = None,
) -> ReviewOutcome:
    """Confirm or overturn one automatic verdict, recompute the reviewed score, all in one transaction.

    An uncertain verdict has nothing to confirm: the reviewer overturns it to the verdict they heard, and
    no regression example is made (the engine asked a person instead of being wrong). A confirm after an
    overturn withdraws the regression example the overturn made. With ``dispute_id``, the dispute is
    answered by this review (upheld by an overturn, rejected by a confirm, the comment as the answer).

    Args:
        store: the database.
        viewer: a reviewer (admin, QA, or the supervisor of the call's team).
        scorecard_id: a current scorecard the viewer can see.
        item_idx: the verdict's position in the scorecard.
        decision: ``confirm`` keeps the automatic verdict; ``overturn`` replaces it with ``verdict``.
        verdict: for an overturn, pass | fail | n/a, different from the automatic verdict; for a confirm,
            None or the automatic verdict.
        comment: why; required (non-blank) for an overturn.
        dispute_id: the open dispute of this verdict that the review answers, if any.

    Returns:
        The stored review and the reviewed score.

    Raises:
        Forbidden: the viewer is an agent.
        NotFound: no such scorecard, item or dispute visible to the viewer.
        Invalid: a bad decision, verdict or comment (the message names the field), or a superseded scorecard.
    """
    if not viewer.reviews:
        raise Forbidden("only admins, QA and supervisors review verdicts")
    with store.writing() as con:
        target = _target(con, viewer, scorecard_id, item_idx)
        reviewed = _check_review(target, decision, verdict, comment)
        if dispute_id is not None:
            _open_dispute_of(con, viewer, dispute_id, target)
        outcome = _store_review(con, viewer, target, decision, reviewed, comment.strip(), dispute_id)
        if dispute_id is not None:
            _close_dispute(con, viewer, dispute_id, upheld=decision == "overturn", answer=comment.strip())
    return outcome


def _target(con: Any, viewer: Viewer, scorecard_id: str, item_idx: int) -> _Target:
    row = _scorecard_row(con, viewer, scorecard_id)
    item = con.execute("SELECT idx, item_id, verdict, evidence FROM verdicts WHERE scorecard_id = ? AND idx = ?",
                       [scorecard_id, item_idx]).fetchone()  # fmt: skip
    if item is None:
        raise NotFound(f"item_idx: scorecard {scorecard_id} has no item {item_idx}")
    return _Target(*row, *item)


def _scorecard_row(con: Any, viewer: Viewer, scorecard_id: str) -> tuple[Any, ...]:
    where, params = viewer.call_filter("c")
    row = con.execute(
        "SELECT s.scorecard_id, s.call_id, s.transcript_id, s.checklist_id, s.checklist_version, s.checklist_hash, "
        "s.transcript_hash, s.is_current, c.agent_id, c.team, t.language, t.duration "
        "FROM scorecards s JOIN calls c ON c.call_id = s.call_id JOIN transcripts t ON t.transcript_id = "
        f"s.transcript_id WHERE s.scorecard_id = ? AND {where}", [str(scorecard_id), *params]).fetchone()
    if row is None:
        raise NotFound(f"scorecard_id: no scorecard '{scorecard_id}' among the calls you can see")
    return tuple(row)


def _check_review(target: _Target, decision: str, verdict: str | None, comment: str) -> str:
    """The verdict the review gives, or Invalid naming the field that is wrong."""
    if not target.is_current:
        raise Invalid(f"scorecard_id: scorecard {target.scorecard_id} was replaced by a rescoring; "
                      "review the call's current scorecard")  # fmt: skip
    auto = target.verdict
    if decision == "confirm":
        if auto == Verdict.UNCERTAIN:
            raise Invalid("decision: the automatic verdict is uncertain, there is nothing to confirm; "
                          "overturn it to pass, fail or n/a")  # fmt: skip
        if verdict is not None and verdict != auto:
            raise Invalid(f"verdict: a confirm keeps the automatic verdict '{auto}'; overturn to change it")
        return auto
    if decision != "overturn":
        raise Invalid(f"decision: '{decision}' is neither confirm nor overturn")
    if verdict not in REVIEWED_VERDICTS:
        raise Invalid(f"verdict: '{verdict}' is not one of {', '.join(REVIEWED_VERDICTS)}")
    if verdict == auto:
        raise Invalid(f"verdict: the automatic verdict is already '{auto}'; confirm it instead")
    if not comment.strip():
        raise Invalid("comment: say why the verdict is overturned")
    return verdict


def _store_review(
    con: Any, viewer: Viewer, target: _Target, decision: Decision, reviewed: str, comment: str, dispute_id: str | None
) -> ReviewOutcome:
    review_id = secrets.token_hex(8)
    now = _now()
    con.execute("UPDATE verdict_reviews SET is_current = FALSE WHERE scorecard_id = ? AND item_idx = ? AND is_current",
                [target.scorecard_id, target.item_idx])  # fmt: skip
    con.execute("INSERT INTO verdict_reviews VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE)",
                [review_id, target.scorecard_id, target.item_idx, target.item_id, target.verdict, decision, reviewed,
                 comment, viewer.user_id, dispute_id, now])  # fmt: skip
    total, raw_total, band, veto, count = _rescore(con, target, viewer.user_id, now)
    example_id = None
    if decision == "overturn" and target.verdict in (Verdict.PASS, Verdict.FAIL):
        source = f"dispute:{dispute_id}" if dispute_id else f"review:{review_id}"
        example_id = _save_example(con, viewer, target, reviewed, source, comment, now)
    else:  # the automatic verdict stands (or was only uncertain): an earlier correction's example goes
        con.execute("UPDATE regression_examples SET active = FALSE WHERE example_id = ?", [_example_id(target)])
    return ReviewOutcome(review_id, target.scorecard_id, target.item_idx, target.item_id, target.verdict, reviewed,
                         decision, total, raw_total, band, veto, count, example_id)  # fmt: skip


def _rescore(con: Any, target: _Target, user_id: str, now: dt.datetime) -> tuple[Any, ...]:
    """Recompute the reviewed score from the automatic verdicts with the current reviews applied."""
    rows = con.execute(
        "SELECT v.item_id, v.section_id, v.title, v.verdict, v.points, v.veto, v.message, v.reason, "
        "r.reviewed_verdict FROM verdicts v LEFT JOIN verdict_reviews r ON r.scorecard_id = v.scorecard_id "
        "AND r.item_idx = v.idx AND r.is_current WHERE v.scorecard_id = ? ORDER BY v.idx",
        [target.scorecard_id]).fetchall()
    items = []
    for item_id, section_id, title, auto, points, veto, message, reason, reviewed in rows:
        final = Verdict(reviewed or auto)
        items.append(ItemVerdict(item_id, section_id, title, final, points,
                                 points if final is Verdict.PASS else 0.0, veto, message, reason))  # fmt: skip
    sections = [tuple(r) for r in con.execute(
        "SELECT section_id, title, weight FROM section_scores WHERE scorecard_id = ? ORDER BY rowid",
        [target.scorecard_id]).fetchall()]
    content = _checklist_content(con, target.checklist_hash)
    card = build_scorecard(items, sections, call_id=target.call_id,
                           checklist=(target.checklist_id, target.checklist_version, target.checklist_hash),
                           transcript_hash=target.transcript_hash, bands=checklist_bands(content))  # fmt: skip
    count = sum(1 for r in rows if r[8] is not None)
    con.execute("DELETE FROM reviewed_scores WHERE scorecard_id = ?", [target.scorecard_id])
    con.execute("INSERT INTO reviewed_scores VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [target.scorecard_id, card.total, card.raw_total, card.band, card.veto, count, now, user_id])
    return card.total, card.raw_total, card.band, card.veto, count


def checklist_bands(content: str) -> tuple[Band, ...]:
    """The score bands of a checklist's YAML, read as the loader reads them (the default bands when none)."""
    data = _yaml_data(content)
    raw = data.get("bands") if isinstance(data, Mapping) else None
    return tuple(Band(str(b["name"]), float(b["min"])) for b in raw or []) or DEFAULT_BANDS


def _checklist_content(con: Any, checklist_hash: str) -> str:
    row = con.execute("SELECT content FROM checklists WHERE checklist_hash = ?", [checklist_hash]).fetchone()
    return str(row[0]) if row else ""


def _yaml_data(content: str) -> Any:
    return YAML(typ="safe", pure=True).load(content) if content.strip() else {}


# -- regression examples ---------------------------------------------------------------------------


def _example_id(target: _Target) -> str:
    """One example per (scorecard, item): a later correction of the same verdict replaces it."""
    return hashlib.sha256(f"{target.scorecard_id}:{target.item_idx}".encode()).hexdigest()[:16]


def _save_example(
    con: Any, viewer: Viewer, target: _Target, expect: str, source: str, comment: str, now: dt.datetime
) -> str:
    example_id = _example_id(target)
    content = _checklist_content(con, target.checklist_hash)
    rule = _item_rule(_yaml_data(content), target.item_id)
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


def _excerpt_reproduces(target: _Target, content: str, payload: Mapping[str, Any]) -> bool:
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


# -- disputes and acknowledgements -----------------------------------------------------------------


def open_dispute(store: Store, viewer: Viewer, scorecard_id: str, item_idx: int, comment: str) -> str:
    """The call's agent disputes one verdict; returns the dispute id.

    Raises:
        NotFound: no such scorecard or item visible to the viewer.
        Forbidden: the viewer is not the call's agent.
        Invalid: blank comment, or an open dispute of the same verdict exists.
    """
    with store.writing() as con:
        target = _target(con, viewer, scorecard_id, item_idx)
        _require_own_call(viewer, target.agent_id, "dispute")
        if not target.is_current:
            raise Invalid(f"scorecard_id: scorecard {scorecard_id} was replaced by a rescoring; dispute the new one")
        if not comment.strip():
            raise Invalid("comment: say what the verdict got wrong")
        if con.execute("SELECT 1 FROM disputes WHERE scorecard_id = ? AND item_idx = ? AND status = 'open'",
                       [scorecard_id, item_idx]).fetchone():  # fmt: skip
            raise Invalid(f"item_idx: item {target.item_id} already has an open dispute; wait for the answer")
        dispute_id = secrets.token_hex(8)
        con.execute("INSERT INTO disputes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', NULL, NULL, NULL, NULL)",
                    [dispute_id, scorecard_id, item_idx, target.item_id, target.call_id, target.agent_id,
                     comment.strip(), viewer.user_id, _now()])  # fmt: skip
    return dispute_id


def answer_dispute(
    store: Store, viewer: Viewer, dispute_id: str, *, upheld: bool, answer: str, verdict: str | None = None
) -> None:
    """A reviewer answers an open dispute.

    Upheld: the verdict is overturned (to ``verdict``, or the opposite of a pass or fail when not given)
    and a regression example is made. Rejected: the verdict that counts now is confirmed with the answer
    as the comment (an uncertain verdict nobody reviewed stays as it is). When the scorecard was replaced
    by a rescoring since the dispute was opened, only the answer is stored: the disputed verdict no longer
    counts.

    Raises:
        Forbidden: the viewer does not review (an agent).
        NotFound: no such dispute visible to the viewer.
        Invalid: blank answer, the dispute is already answered, or no verdict to overturn to.
    """
    if not viewer.reviews:
        raise Forbidden("only admins, QA and supervisors answer disputes")
    if not answer.strip():
        raise Invalid("answer: tell the agent why")
    with store.writing() as con:
        scorecard_id, item_idx = _dispute_row(con, viewer, dispute_id)
        target = _target(con, viewer, scorecard_id, item_idx)
        _open_dispute_of(con, viewer, dispute_id, target)
        current = _current_verdict(con, target)
        if not target.is_current:  # rescored since: the disputed verdict no longer counts, only the answer is kept
            _close_dispute(con, viewer, dispute_id, upheld=upheld, answer=answer.strip())
            return
        if upheld:
            verdict = verdict or {"pass": "fail", "fail": "pass"}.get(current)
            if verdict is None or verdict == current:
                raise Invalid(f"verdict: the verdict is '{current}'; say which verdict the dispute is right about")
        else:
            verdict = current
        if verdict != Verdict.UNCERTAIN:
            decision: Decision = "confirm" if verdict == target.verdict else "overturn"
            reviewed = _check_review(target, decision, verdict, answer)
            _store_review(con, viewer, target, decision, reviewed, answer.strip(), dispute_id)
        _close_dispute(con, viewer, dispute_id, upheld=upheld, answer=answer.strip())


def _dispute_row(con: Any, viewer: Viewer, dispute_id: str) -> tuple[str, int]:
    where, params = viewer.call_filter("c")
    row = con.execute(f"SELECT d.scorecard_id, d.item_idx FROM disputes d JOIN calls c ON c.call_id = d.call_id "
                      f"WHERE d.dispute_id = ? AND {where}", [dispute_id, *params]).fetchone()  # fmt: skip
    if row is None:
        raise NotFound(f"dispute_id: no dispute '{dispute_id}' among the calls you can see")
    return str(row[0]), int(row[1])


def _open_dispute_of(con: Any, viewer: Viewer, dispute_id: str, target: _Target) -> None:
    """NotFound unless the dispute is about this verdict; Invalid when it is answered already."""
    if _dispute_row(con, viewer, dispute_id) != (target.scorecard_id, target.item_idx):
        raise NotFound(f"dispute_id: dispute '{dispute_id}' is about another verdict")
    status = con.execute("SELECT status FROM disputes WHERE dispute_id = ?", [dispute_id]).fetchone()[0]
    if status != "open":
        raise Invalid(f"dispute_id: dispute '{dispute_id}' was answered already ({status})")


def _close_dispute(con: Any, viewer: Viewer, dispute_id: str, *, upheld: bool, answer: str) -> None:
    con.execute("UPDATE disputes SET status = ?, answer = ?, answered_by = ?, answered_at = ? WHERE dispute_id = ?",
                ["upheld" if upheld else "rejected", answer, viewer.user_id, _now(), dispute_id])  # fmt: skip


def _current_verdict(con: Any, target: _Target) -> str:
    row = con.execute("SELECT reviewed_verdict FROM verdict_reviews WHERE scorecard_id = ? AND item_idx = ? "
                      "AND is_current", [target.scorecard_id, target.item_idx]).fetchone()  # fmt: skip
    return str(row[0]) if row else target.verdict


def mark_dispute_seen(store: Store, viewer: Viewer, dispute_id: str) -> None:
    """The call's agent has seen the answer of a dispute (sets ``seen_by_agent_at`` once).

    Nothing changes while the dispute is open, or when someone else (a supervisor) looks at it.

    Raises:
        NotFound: no such dispute visible to the viewer.
    """
    with store.writing() as con:
        _dispute_row(con, viewer, dispute_id)
        if viewer.role is not UserRole.AGENT:
            return
        con.execute("UPDATE disputes SET seen_by_agent_at = ? WHERE dispute_id = ? AND agent_id = ? "
                    "AND status <> 'open' AND seen_by_agent_at IS NULL",
                    [_now(), dispute_id, viewer.agent_id])  # fmt: skip


def acknowledge(store: Store, viewer: Viewer, scorecard_id: str) -> None:
    """The call's agent acknowledges a scorecard; doing it again changes nothing.

    Raises:
        NotFound: no such scorecard visible to the viewer.
        Forbidden: the viewer is not the call's agent.
    """
    with store.writing() as con:
        row = _scorecard_row(con, viewer, scorecard_id)
        _require_own_call(viewer, row[8], "acknowledge")
        con.execute("INSERT INTO acknowledgements SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM acknowledgements "
                    "WHERE scorecard_id = ? AND user_id = ?)",
                    [scorecard_id, viewer.user_id, _now(), scorecard_id, viewer.user_id])  # fmt: skip


def _require_own_call(viewer: Viewer, agent_id: str | None, what: str) -> None:
    if viewer.role is not UserRole.AGENT or agent_id is None or viewer.agent_id != agent_id:
        raise Forbidden(f"only the agent of the call may {what} its scorecard")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
