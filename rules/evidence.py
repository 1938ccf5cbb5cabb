"""The evidence entries verdicts rest on: a phrase heard, a stretch searched in vain, a field or metric."""

from __future__ import annotations

from core.scorecard import Evidence
from rules.call import Located, PreparedCall
from rules.match_base import Hit
from rules.memo import by_identity
from rules.model import ReviewPolicy, Says


def hit_evidence(
    says: Says, hit: Hit, loc: Located, call: PreparedCall, unsure_role: frozenset[int], review: ReviewPolicy
) -> Evidence:
    """The evidence of one hit: the words as heard, their times and confidence, and why it is unreliable."""
    u = call.transcript.utterances[hit.utt]
    notes = []
    if loc.confidence < review.min_word_confidence:
        notes.append(f"words heard with low confidence ({loc.confidence:.2f} < {review.min_word_confidence:g})")
    if hit.utt in unsure_role:
        notes.append(f"speaker may not be the {says.role} (role confidence {u.role_confidence:.2f})")
    return Evidence(kind="hit", role=str(u.role), start=round(loc.start, 2), end=round(loc.end, 2), text=loc.heard,
                    pattern=hit.pattern, match=says.matcher.kind, similarity=hit.similarity,
                    confidence=round(loc.confidence, 3), role_confidence=round(u.role_confidence, 3),
                    reliable=not notes, utterance=hit.utt, note="; ".join(notes))


def _phrases_shown(says: Says) -> str:
    return " | ".join(says.phrases[:6])


_looked_for = by_identity(_phrases_shown)  # what an absent-evidence entry says was looked for


def absent_evidence(
    says: Says, indices: tuple[int, ...], confidence: float | None, doubtful: bool, call: PreparedCall
) -> Evidence:
    """The evidence of a stretch searched in vain: where, what was looked for, how well it was heard."""
    utterances = call.transcript.utterances
    start = utterances[indices[0]].start if indices else 0.0
    end = utterances[indices[-1]].end if indices else call.duration
    # Quote what was said instead only for a short stretch ("in the first 15 s you said: …").
    shown = utterances[indices[0]].text if indices and says.windows and len(indices) <= 3 else ""
    note = f"transcript confidence here {confidence:.2f}" if confidence is not None else "nothing said here"
    if doubtful:
        note += " (too low to be sure the phrase was not said)"
    return Evidence(kind="absent", role="" if says.role == "any" else says.role, start=round(start, 2),
                    end=round(end, 2), text=shown, pattern=_looked_for(says), match=says.matcher.kind, similarity=0.0,
                    confidence=round(confidence if confidence is not None else 0.0, 3), reliable=not doubtful,
                    note=note)


def field_evidence(kind: str, name: str, shown: str, pattern: str) -> Evidence:
    return Evidence(kind=kind, text=f"{name} = {shown}", pattern=pattern, match=kind)
