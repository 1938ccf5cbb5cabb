"""Read and write transcripts as files: the JSON that ``callqa transcript --json`` prints, and plain text.

JSON::

    {"call_id": "…", "language": "zh", "duration": 93.4,
     "metadata": {"agent_id": "A1024", "queue": "complaint", "hangup_by": "customer"},
     "utterances": [{"role": "agent", "start": 0.4, "end": 3.1, "text": "您好…", "confidence": 0.93,
                     "role_confidence": 0.95, "words": [{"start": 0.4, "end": 0.8, "text": "您好",
                     "probability": 0.97}]}]}

``metadata``, ``duration``, ``confidence``, ``role_confidence`` and ``words`` are optional (confidence and
role confidence default to 1.0, the duration to the last utterance's end).

Plain text: one ``AGENT: …`` / ``CUSTOMER: …`` (or ``坐席：`` / ``客户：``) line per utterance. There are no
times: line *n* is given the pseudo-time 3·n to 3·n+3 seconds, and the result says it is untimed.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from core.errors import CallQAError
from core.types import CallMetadata, Role, Transcript, Utterance, Word

SECONDS_PER_LINE = 3.0

ROLE_LABELS = {
    "agent": Role.AGENT, "坐席": Role.AGENT, "客服": Role.AGENT, "座席": Role.AGENT,
    "customer": Role.CUSTOMER, "客户": Role.CUSTOMER, "顾客": Role.CUSTOMER, "caller": Role.CUSTOMER,
    "unknown": Role.UNKNOWN, "未知": Role.UNKNOWN,
}  # fmt: skip
_LINE = re.compile(r"^\s*([^\s:：]+)\s*[:：]\s*(.*)$")
_CJK = re.compile("[\u4e00-\u9fff]")
_METADATA_FIELDS = {f.name for f in fields(CallMetadata)} - {"started_at", "source"}
# "emotion" is what `callqa transcript --json` adds from the store; reading a transcript ignores it
_UTTERANCE_KEYS = {"role", "start", "end", "text", "confidence", "role_confidence", "words", "speaker", "channel",
                   "language", "emotion"}  # fmt: skip
_TOP_KEYS = {"call_id", "language", "duration", "metadata", "utterances", "channels", "model", "code_version",
             "file"}  # fmt: skip


class TranscriptFormatError(CallQAError):
    """A transcript file is malformed; the message names the file, the field and what to do."""


@dataclass(frozen=True, slots=True)
class LoadedTranscript:
    """A transcript read from a file, with the call's metadata and whether it had real times."""

    transcript: Transcript
    metadata: CallMetadata
    call_id: str
    timed: bool
    source: str


def read_transcript(path: str | Path) -> LoadedTranscript:
    """Read a transcript file: JSON when it starts with ``{``, plain ``ROLE: text`` lines otherwise."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise TranscriptFormatError(f"{p}: no such transcript file") from exc
    except UnicodeDecodeError as exc:
        raise TranscriptFormatError(f"{p}: not UTF-8 text; save the transcript as UTF-8") from exc
    if text.lstrip().startswith("{"):
        return parse_json(text, str(p))
    return parse_lines(text.splitlines(), str(p))


def parse_json(text: str, source: str = "<json>") -> LoadedTranscript:
    """Parse the transcript JSON (see the module docstring)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptFormatError(f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise TranscriptFormatError(f"{source}: expected a JSON object with 'utterances'")
    _unknown_keys(data, _TOP_KEYS, source, "")
    raw = data.get("utterances")
    if not isinstance(raw, list):
        raise TranscriptFormatError(f"{source}: 'utterances' must be a list of {{role, start, end, text}} objects")
    utterances = tuple(_utterance(u, source, f"utterances[{i}]") for i, u in enumerate(raw))
    duration = data.get("duration")
    if duration is None:
        duration = max((u.end for u in utterances), default=0.0)
    duration = _number(duration, source, "duration")
    language = str(data.get("language") or _guess_language(utterances))
    metadata = _metadata(data.get("metadata") or {}, source)
    transcript = Transcript(utterances=utterances, duration=duration, language=language)
    return LoadedTranscript(transcript, metadata, str(data.get("call_id") or ""), True, source)


def parse_lines(lines: Sequence[str], source: str = "<text>") -> LoadedTranscript:
    """Parse ``ROLE: text`` lines (blank lines and ``#`` comments are skipped) with pseudo-times."""
    utterances: list[Utterance] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        role, text = parse_role_line(line, f"{source}:{number}")
        start = SECONDS_PER_LINE * len(utterances)
        utterances.append(Utterance(start, start + SECONDS_PER_LINE, text, role, role_confidence=1.0))
    if not utterances:
        raise TranscriptFormatError(f"{source}: no 'AGENT: …' / 'CUSTOMER: …' lines found")
    transcript = Transcript(tuple(utterances), utterances[-1].end, _guess_language(utterances))
    return LoadedTranscript(transcript, CallMetadata(), "", False, source)


def parse_role_line(line: str, where: str) -> tuple[Role, str]:
    """Split ``AGENT: text`` into its role and text; the error names ``where`` and the accepted labels."""
    m = _LINE.match(line)
    label = m.group(1).lower() if m else ""
    if not m or label not in ROLE_LABELS:
        raise TranscriptFormatError(
            f"{where}: expected 'AGENT: …' or 'CUSTOMER: …' (also 坐席/客户), got {line.strip()[:60]!r}"
        )
    return ROLE_LABELS[label], m.group(2).strip()


def _utterance(raw: Any, source: str, where: str) -> Utterance:
    if not isinstance(raw, dict):
        raise TranscriptFormatError(f"{source}: {where}: expected an object with role, start, end, text")
    _unknown_keys(raw, _UTTERANCE_KEYS, source, where + ".")
    for key in ("role", "start", "end", "text"):
        if key not in raw:
            raise TranscriptFormatError(f"{source}: {where}: missing '{key}'")
    label = str(raw["role"]).lower()
    if label not in ROLE_LABELS:
        raise TranscriptFormatError(f"{source}: {where}.role: {raw['role']!r} is not agent, customer or unknown")
    start, end = _number(raw["start"], source, f"{where}.start"), _number(raw["end"], source, f"{where}.end")
    if end < start:
        raise TranscriptFormatError(f"{source}: {where}: end {end} is before start {start}")
    words = tuple(_word(w, source, f"{where}.words[{k}]") for k, w in enumerate(raw.get("words") or []))
    return Utterance(
        start=start,
        end=end,
        text=str(raw["text"]),
        role=ROLE_LABELS[label],
        role_confidence=_probability(raw.get("role_confidence", 1.0), source, f"{where}.role_confidence"),
        confidence=_probability(raw.get("confidence", _mean_probability(words)), source, f"{where}.confidence"),
        speaker=str(raw.get("speaker", "ch0")),
        channel=int(raw.get("channel", 0)),
        language=str(raw.get("language", "")),
        words=words,
    )


def _mean_probability(words: tuple[Word, ...]) -> float:
    return sum(w.probability for w in words) / len(words) if words else 1.0


def _word(raw: Any, source: str, where: str) -> Word:
    if not isinstance(raw, dict) or not {"start", "end", "text"} <= raw.keys():
        raise TranscriptFormatError(f"{source}: {where}: expected {{start, end, text, probability}}")
    return Word(
        _number(raw["start"], source, f"{where}.start"),
        _number(raw["end"], source, f"{where}.end"),
        str(raw["text"]),
        _probability(raw.get("probability", 1.0), source, f"{where}.probability"),
    )


def _number(value: Any, source: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TranscriptFormatError(f"{source}: {where}: expected a number of seconds, got {value!r}")
    return float(value)


def _probability(value: Any, source: str, where: str) -> float:
    number = _number(value, source, where) if not isinstance(value, float | int) else float(value)
    if not 0.0 <= number <= 1.0:
        raise TranscriptFormatError(f"{source}: {where}: {number} is not between 0 and 1")
    return number


def _metadata(raw: Any, source: str) -> CallMetadata:
    if not isinstance(raw, dict):
        raise TranscriptFormatError(f"{source}: 'metadata' must be an object")
    _unknown_keys(raw, _METADATA_FIELDS, source, "metadata.")
    values: dict[str, Any] = {k: None if v is None else str(v) for k, v in raw.items()}
    return CallMetadata(**values, source="transcript")


def _unknown_keys(data: Mapping[str, Any], known: set[str], source: str, prefix: str) -> None:
    for key in data:
        if key not in known:
            hint = difflib.get_close_matches(key, known, n=1)
            fix = f" — did you mean '{hint[0]}'?" if hint else f"; known: {', '.join(sorted(known))}"
            raise TranscriptFormatError(f"{source}: unknown field '{prefix}{key}'{fix}")


def _guess_language(utterances: Sequence[Utterance]) -> str:
    return "zh" if any(_CJK.search(u.text) for u in utterances) else "en"


def to_dict(transcript: Transcript, metadata: CallMetadata | None = None, call_id: str = "") -> dict[str, Any]:
    """The JSON form of a transcript (the inverse of :func:`parse_json`)."""
    meta = {k: getattr(metadata, k) for k in sorted(_METADATA_FIELDS)} if metadata else {}
    out: dict[str, Any] = {"call_id": call_id, "language": transcript.language,
                           "duration": round(transcript.duration, 3)}  # fmt: skip
    if any(v is not None for v in meta.values()):
        out["metadata"] = {k: v for k, v in meta.items() if v is not None}
    out["utterances"] = [
        {
            "role": str(u.role),
            "start": round(u.start, 3),
            "end": round(u.end, 3),
            "text": u.text,
            "confidence": round(u.confidence, 4),
            "role_confidence": round(u.role_confidence, 4),
            "speaker": u.speaker,
            **({"words": [{"start": round(w.start, 3), "end": round(w.end, 3), "text": w.text,
                           "probability": round(w.probability, 4)} for w in u.words]} if u.words else {}),
        }
        for u in transcript.utterances
    ]
    return out


def dumps(
    transcript: Transcript, metadata: CallMetadata | None = None, call_id: str = "", indent: int | None = 1
) -> str:
    """The transcript JSON as text (what ``callqa transcript --json`` prints)."""
    return json.dumps(to_dict(transcript, metadata, call_id), ensure_ascii=False, indent=indent)


def transcript_hash(transcript: Transcript) -> str:
    """sha256 of the canonical JSON of the utterances and duration: the transcript's version."""
    canonical = json.dumps(to_dict(transcript), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
