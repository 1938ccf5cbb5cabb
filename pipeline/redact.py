"""The redaction stage: a transcript with its personal data replaced by placeholders, before anything is stored.

Each span :mod:`pipeline.pii` finds is widened to the recognised words it touches, so the stored text and
words agree and the player can silence exactly the words' times. The utterance then reads
"my number is [PHONE]", its words hold one ``[PHONE]`` word over the digits' time, and a :class:`Redaction`
records where, what kind and which detector, never the value. Everything downstream (rules, emotion,
metrics, the store, pages, exports) sees only the redacted transcript.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from core.pii import KIND_PRIORITY, PLACEHOLDER, PiiKind
from core.types import CallMetadata, Redaction, Transcript, Utterance, Word
from pipeline.pii import Finding, detect

# Bump when detection or placement changes what a transcript's redacted text is (it is part of the options).
REDACTOR_VERSION = "1"
# Seconds added around a span whose time is estimated from its characters (an utterance without word times).
_PAD = 0.25


@dataclass(frozen=True, slots=True)
class RedactedTranscript:
    """A transcript with placeholders in place of personal data, and where each one is."""

    transcript: Transcript
    redactions: tuple[Redaction, ...]


@dataclass(frozen=True, slots=True)
class _Span:
    """A merged finding: characters ``start:end`` of the clear text."""

    start: int
    end: int
    kind: PiiKind
    detector: str
    confidence: float


def redact_transcript(transcript: Transcript, metadata: CallMetadata | None = None) -> RedactedTranscript:
    """``transcript`` with every span of personal data replaced by its placeholder (``[PHONE]``, ``[NAME]`` …).

    Idempotent: placeholders are never found again, so redacting a redacted transcript changes nothing.
    """
    return _redacted(transcript, _findings(transcript, metadata)[1])


def redact_with_values(transcript: Transcript,
                       metadata: CallMetadata | None = None) -> tuple[RedactedTranscript, list[tuple[str, str]]]:
    """The redacted transcript, and (clear text, placeholder) for each span it hid, longest first: to hide the
    same values where older rows quote them (a stored scorecard's evidence). Held in memory only; never store
    the values."""
    utterances, found = _findings(transcript, metadata)
    pairs = {utterances[f.utterance].text[f.start: f.end].strip(): f.kind.placeholder for f in found}
    values = sorted(((k, v) for k, v in pairs.items() if len(k) >= 2), key=lambda kv: -len(kv[0]))
    return _redacted(transcript, found), values


def _findings(transcript: Transcript, metadata: CallMetadata | None) -> tuple[list[Utterance], list[Finding]]:
    """The utterances as the detectors read them (placeholders blanked) and what they find there."""
    names = [metadata.customer_name] if metadata and metadata.customer_name else []
    utterances = [masked(u) for u in transcript.utterances]
    return utterances, detect(utterances, names)


def _redacted(transcript: Transcript, found: Sequence[Finding]) -> RedactedTranscript:
    by_utterance: dict[int, list[Finding]] = {}
    for f in found:
        by_utterance.setdefault(f.utterance, []).append(f)
    utterances = list(transcript.utterances)
    redactions: list[Redaction] = []
    for idx, findings in sorted(by_utterance.items()):
        utterances[idx], placed = redact_utterance(utterances[idx], findings)
        redactions += [replace(r, utterance=idx) for r in placed]
    return RedactedTranscript(replace(transcript, utterances=tuple(utterances)), tuple(redactions))


def masked(u: Utterance) -> Utterance:
    """The utterance with existing placeholders blanked (same length), so no detector reads them as words; the
    blank is a block character, which joins nothing (a space would join the digits on either side)."""
    return replace(u, text=PLACEHOLDER.sub(lambda m: "█" * len(m.group(0)), u.text)) if "[" in u.text else u


def word_offsets(u: Utterance) -> list[tuple[int, int] | None]:
    """Each word's character span in the utterance text, found in order (None for a word the text does not hold)."""
    out: list[tuple[int, int] | None] = []
    cursor = 0
    for w in u.words:
        token = w.text.strip()
        at = u.text.find(token, cursor) if token else -1
        if at < 0:
            out.append(None)
            continue
        out.append((at, at + len(token)))
        cursor = at + len(token)
    return out


def redact_utterance(u: Utterance, findings: Sequence[Finding]) -> tuple[Utterance, list[Redaction]]:
    """One utterance with its findings replaced by placeholders; the redactions' ``utterance`` is left 0.

    The text changes only inside the spans ("是13812345678。" → "是[PHONE]。"); a word that holds part of a span
    keeps what it holds outside it, and the words of one span become one word over their time.
    """
    offsets = word_offsets(u)
    spans = _merged([_trimmed(u.text, f) for f in findings])
    parts: list[str] = []
    placed: list[tuple[_Span, int, int]] = []  # span, its placeholder's start and end in the new text
    redactions: list[Redaction] = []
    cursor = length = 0
    for span in spans:
        parts.append(u.text[cursor: span.start])
        length += span.start - cursor
        label = f"[{span.kind.value}]"
        start_s, end_s = _times(u, offsets, span)
        redactions.append(Redaction(0, start_s, end_s, length, length + len(label), span.kind.value, span.detector,
                                    round(span.confidence, 3)))
        placed.append((span, length, length + len(label)))
        parts.append(label)
        length += len(label)
        cursor = span.end
    parts.append(u.text[cursor:])
    text = "".join(parts)
    hidden = [u.text[s.start: s.end] for s in spans]
    return replace(u, text=text, words=_redact_words(u.words, offsets, placed, text, hidden)), redactions


def _trimmed(text: str, f: Finding) -> Finding:
    """The finding without the spaces at its edges (a placeholder never swallows the space beside it)."""
    start, end = f.start, f.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return replace(f, start=start, end=end)


def _merged(findings: Sequence[Finding]) -> list[_Span]:
    """Findings in text order, overlapping ones merged into one span of the kind most in need of hiding."""
    merged: list[_Span] = []
    spans = (_Span(f.start, f.end, f.kind, f.detector, f.confidence) for f in findings if f.end > f.start)
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            best = max(last, span, key=lambda x: (KIND_PRIORITY[x.kind], x.confidence))
            merged[-1] = _Span(last.start, max(last.end, span.end), best.kind, best.detector,
                               max(last.confidence, span.confidence))
        else:
            merged.append(span)
    return merged


def _overlaps(off: tuple[int, int] | None, start: int, end: int) -> bool:
    return off is not None and off[0] < end and start < off[1]


def _times(u: Utterance, offsets: Sequence[tuple[int, int] | None], span: _Span) -> tuple[float, float]:
    """When the span was said: its words' times, else estimated from its place in the text (padded)."""
    inside = [w for w, off in zip(u.words, offsets, strict=True) if _overlaps(off, span.start, span.end)]
    if inside:
        return round(min(w.start for w in inside), 3), round(max(w.end for w in inside), 3)
    length = max(len(u.text), 1)
    duration = u.end - u.start
    start = u.start + duration * span.start / length - _PAD
    end = u.start + duration * span.end / length + _PAD
    return round(max(u.start, start), 3), round(min(u.end, end), 3)


def _redact_words(words: Sequence[Word], offsets: Sequence[tuple[int, int] | None],
                  placed: Sequence[tuple[_Span, int, int]], text: str, hidden: Sequence[str]) -> tuple[Word, ...]:
    """The words of the redacted text: each word's text is its slice of ``text``, the words of one span merged.

    A word the text does not hold (recogniser and text disagree) is dropped when its text is part of what was
    hidden or holds a digit: a stored word must never keep what the text lost.
    """
    def moved(pos: int, at_end: bool) -> int:
        shift = 0
        for span, new_start, new_end in placed:
            if span.start < pos < span.end:
                return new_end if at_end else new_start
            if span.end <= pos:
                shift = new_end - span.end
        return pos + shift

    out: list[Word] = []
    # (the last span the previous word reaches into, where the merged word's text starts in ``text``)
    group: tuple[int, int] | None = None
    for w, off in zip(words, offsets, strict=True):
        hits = [] if off is None else [i for i, (s, _, _) in enumerate(placed) if _overlaps(off, s.start, s.end)]
        if off is None or not hits:
            token = w.text.strip()
            if off is None and token and (any(token in h for h in hidden) or re.search(r"\d", token)):
                continue
            out.append(w)
            group = None
            continue
        if group is not None and group[0] == hits[0]:  # the word goes on with the span the previous one ended in
            prev = out.pop()
            lead = prev.text[: len(prev.text) - len(prev.text.lstrip())]
            out.append(Word(prev.start, max(prev.end, w.end), lead + text[group[1]: moved(off[1], True)],
                            min(prev.probability, w.probability)))
            group = (hits[-1], group[1])
            continue
        group = (hits[-1], moved(off[0], False))
        lead = w.text[: len(w.text) - len(w.text.lstrip())]
        out.append(Word(w.start, w.end, lead + text[group[1]: moved(off[1], True)], w.probability))
    return tuple(out)
