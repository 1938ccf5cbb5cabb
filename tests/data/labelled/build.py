"""Build the labelled transcript JSON files from the hand-written dialogue sources.

The dialogues and their labels are written by hand in ``source/*.dlg`` (see LABELLING.md for the
format). This script only adds what a person should not type by hand: utterance times from a
speaking rate, word tokens with times, word probabilities and the utterance confidence (their mean).
Everything random is seeded by the call id, so a rebuild gives byte-identical files.

Usage::

    python tests/data/labelled/build.py          # rewrite zh/*.json and en/*.json
    python tests/data/labelled/build.py --check  # exit 1 if a JSON file is missing or stale
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent

ITEMS = {
    "G": "greeting",
    "SI": "self_identification",
    "IV": "identity_verification",
    "AL": "active_listening",
    "RB": "repeat_back",
    "ND": "no_deflection",
    "NR": "no_rude_wording",
    "AO": "apology_overuse",
    "HA": "hold_announced",
    "HT": "hold_thanked",
    "EM": "empathy",
    "CL": "closing",
    "HU": "customer_hangs_up_first",
    "CX": "complaint_length",
}
VERDICTS = {"pass", "fail", "n/a", "uncertain"}
META_KEYS = {"agent_id", "team", "queue", "direction", "hangup_by"}
COMPLAINT_QUEUES = {"complaint", "投诉"}

# Speaking rates: Mandarin in characters per second, English in words per second (telephone speech).
RATES = {"zh": (3.8, 5.2), "en": (2.2, 3.0)}
MIN_UTT, MAX_UTT = 1.0, 12.0
# Words the author did not mark stay well clear of the 0.5 "unreliable" line, so that only the
# deliberately marked spans can make evidence unreliable.
FLOOR_P = 0.6

LINE_RE = re.compile(r"^(?:(?P<gap>\+\d+(?:\.\d+)?)\s+|@(?P<at>\d+(?:\.\d+)?)\s+)?"
                     r"(?P<role>[AC])(?P<opts>(?:\s+\w+=[\d.]+)*)\s*:\s*(?P<text>.+)$")
MARK_RE = re.compile(r"\{([^{}|]+)\|(0?\.\d+)\}")
CJK_RE = re.compile(r"[\u3400-\u9fff]")
PUNCT = set("，。？！、；：…,.?!;:“”\"'（）()—-")


class SourceError(ValueError):
    """A dialogue source line that cannot be built; the message names file, line and fix."""


@dataclass
class Line:
    role: str
    text: str
    opts: dict[str, float]
    gap: float | None
    at: float | None
    where: str


@dataclass
class Dialogue:
    call_id: str
    title: str
    where: str
    metadata: dict[str, str] = field(default_factory=dict)
    settings: dict[str, float] = field(default_factory=dict)
    lines: list[Line] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


def parse_source(path: Path) -> list[Dialogue]:
    """Parse one ``.dlg`` file into dialogues.

    Args:
        path: the source file.

    Returns:
        The dialogues in file order.

    Raises:
        SourceError: a line does not follow the format; the message names ``file:line``.
    """
    dialogues: list[Dialogue] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        where = f"{path.name}:{number}"
        line = raw.strip()
        if not line or (line.startswith("#") and not line.startswith("###")):
            continue
        if line.startswith("###"):
            call_id, _, title = line[3:].partition("|")
            dialogues.append(Dialogue(call_id.strip(), title.strip(), where))
            continue
        if not dialogues:
            raise SourceError(f"{where}: text before the first '### <call_id> | <title>' header")
        _parse_body_line(dialogues[-1], line, where)
    return dialogues


def _pairs(text: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split():
        key, eq, value = part.partition("=")
        if not eq or not value:
            raise SourceError(f"{where}: expected key=value, got '{part}'")
        out[key] = value
    return out


def _parse_body_line(d: Dialogue, line: str, where: str) -> None:
    head, _, rest = line.partition(":")
    if head == "meta":
        d.metadata.update(_pairs(rest, where))
        unknown = set(d.metadata) - META_KEYS
        if unknown:
            raise SourceError(f"{where}: unknown metadata key(s) {sorted(unknown)}; known: {sorted(META_KEYS)}")
    elif head == "set":
        d.settings.update({k: float(v) for k, v in _pairs(rest, where).items()})
    elif head == "label":
        for key, value in _pairs(rest, where).items():
            if key not in ITEMS or value not in VERDICTS:
                raise SourceError(f"{where}: bad label '{key}={value}'; items {list(ITEMS)}, verdicts {VERDICTS}")
            d.labels[ITEMS[key]] = value
    elif head == "note":
        key, _, text = rest.strip().partition(" ")
        if key not in ITEMS:
            raise SourceError(f"{where}: note must start with an item code {list(ITEMS)}, got '{key}'")
        d.notes[ITEMS[key]] = text.strip()
    else:
        m = LINE_RE.match(line)
        if not m:
            raise SourceError(f"{where}: not an utterance line ('A: …', 'C rc=0.5: …', '+40 A: …', '@17 A: …')")
        opts = {k: float(v) for k, v in _pairs(m["opts"], where).items()} if m["opts"].strip() else {}
        d.lines.append(Line(m["role"], m["text"].strip(), opts,
                            float(m["gap"][1:]) if m["gap"] else None,
                            float(m["at"]) if m["at"] else None, where))


def _zh_chunks(text: str, rng: random.Random) -> list[str]:
    """Split unmarked Mandarin text into 1–3 character tokens, punctuation kept on the token before."""
    tokens: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in PUNCT or ch.isspace():
            if tokens:
                tokens[-1] += ch
            else:
                tokens.append(ch)
            i += 1
        elif CJK_RE.match(ch):
            size = rng.choices((1, 2, 3), weights=(2, 6, 2))[0]
            j = i
            while j < len(text) and j - i < size and CJK_RE.match(text[j]):
                j += 1
            tokens.append(text[i:j])
            i = j
        else:  # digits, Latin letters, full-width digits: one token per run
            j = i
            while j < len(text) and not CJK_RE.match(text[j]) and text[j] not in PUNCT and not text[j].isspace():
                j += 1
            tokens.append(text[i:j])
            i = j
    return tokens


def tokens_of(text: str, language: str, rng: random.Random) -> list[tuple[str, float | None]]:
    """Tokens of one utterance, with the fixed probability of author-marked spans (else None)."""
    out: list[tuple[str, float | None]] = []
    pos = 0
    for m in [*MARK_RE.finditer(text), None]:
        plain = text[pos: m.start() if m else len(text)]
        if language == "zh":
            out += [(t, None) for t in _zh_chunks(plain, rng)]
        else:
            out += [(t, None) for t in plain.split()]
        if m is None:
            break
        span, p = m[1], float(m[2])
        if language == "zh":
            out += [(span[k:k + 3], p) for k in range(0, len(span), 3)]
        else:
            out += [(t, p) for t in span.split()]
        pos = m.end()
    if language == "zh":  # punctuation right after a marked span belongs to it
        merged: list[tuple[str, float | None]] = []
        for tok, prob in out:
            if merged and tok and all(c in PUNCT for c in tok):
                merged[-1] = (merged[-1][0] + tok, merged[-1][1])
            else:
                merged.append((tok, prob))
        out = merged
    return [(t, p) for t, p in out if t.strip()]


def _units(text: str, language: str) -> float:
    if language == "zh":
        return len(CJK_RE.findall(text)) + 0.6 * len(re.findall(r"[0-9０-９A-Za-z]", text))
    return float(len(text.split()))


def build(d: Dialogue, language: str) -> dict[str, object]:
    """Turn one parsed dialogue into the transcript JSON object (with labels and notes).

    Raises:
        SourceError: an utterance would be longer than 12 s, times go backwards, or a label is missing.
    """
    missing = [k for k, v in ITEMS.items() if v not in d.labels]
    if missing:
        raise SourceError(f"{d.where}: {d.call_id} has no label for {missing}")
    rng = random.Random(zlib.crc32(d.call_id.encode()))
    lo, hi = RATES[language]
    rate = {"A": rng.uniform(lo + 0.2, hi), "C": rng.uniform(lo, hi - 0.2)}
    role_conf = d.settings.get("rc", round(rng.uniform(0.86, 0.98), 2))
    t = d.settings.get("start", round(rng.uniform(0.3, 1.5), 2))
    utterances = []
    for i, line in enumerate(d.lines):
        if line.at is not None:
            if i and line.at < t:
                raise SourceError(f"{line.where}: @{line.at} is before the previous utterance ends ({t:.2f})")
            t = line.at
        elif i:
            t += line.gap if line.gap is not None else rng.uniform(0.25, 1.1)
        plain = MARK_RE.sub(r"\1", line.text)
        length = max(MIN_UTT, _units(plain, language) / rate[line.role] * rng.uniform(0.92, 1.1))
        if length > MAX_UTT:
            raise SourceError(f"{line.where}: utterance would last {length:.1f} s (> {MAX_UTT}); split it")
        utterances.append(_utterance(line, plain, language, t, t + length, role_conf, rng))
        t += length
    duration = round(t + d.settings.get("tail", rng.uniform(0.4, 2.0)), 2)
    _check_metadata_labels(d, duration)
    call: dict[str, object] = {"call_id": d.call_id, "language": language, "duration": duration}
    if d.metadata:  # metadata is optional in the format: a call without any is written without the key
        call["metadata"] = d.metadata
    call["utterances"] = utterances
    call["labels"] = {v: d.labels[v] for v in ITEMS.values()}
    if d.notes:
        call["notes"] = {v: d.notes[v] for v in ITEMS.values() if v in d.notes}
    return call


def _check_metadata_labels(d: Dialogue, duration: float) -> None:
    """The two metadata items have one right answer: catch an author's slip before it becomes data."""
    hangup = {"customer": "pass", "agent": "fail"}.get(d.metadata.get("hangup_by", ""), "n/a")
    complaint = d.metadata.get("queue", "").lower() in COMPLAINT_QUEUES
    length = ("pass" if duration <= 600 else "fail") if complaint else "n/a"
    for item, want in (("customer_hangs_up_first", hangup), ("complaint_length", length)):
        if d.labels[item] != want:
            raise SourceError(f"{d.where}: {d.call_id} {item} is labelled {d.labels[item]} but the metadata "
                              f"and duration ({duration:.0f} s) say {want}")


def _utterance(line: Line, plain: str, language: str, start: float, end: float,
               role_conf: float, rng: random.Random) -> dict[str, object]:
    level = line.opts.get("p", 0.91)
    tokens = tokens_of(line.text, language, rng)
    weights = [max(1, len(tok.strip("".join(PUNCT)))) for tok, _ in tokens]
    step = (end - start) / sum(weights)
    words: list[dict[str, object]] = []
    probabilities: list[float] = []
    cursor = start
    for (tok, fixed), w in zip(tokens, weights, strict=True):
        p = round(fixed if fixed is not None else min(0.99, max(FLOOR_P, rng.gauss(level, 0.04))), 2)
        probabilities.append(p)
        words.append({"start": round(cursor, 2), "end": round(cursor + w * step, 2),
                      "text": tok, "probability": p})
        cursor += w * step
    words[-1]["end"] = round(end, 2)
    confidence = sum(probabilities) / len(probabilities)
    return {
        "role": "agent" if line.role == "A" else "customer",
        "start": round(start, 2),
        "end": round(end, 2),
        "text": plain,
        "confidence": round(confidence, 3),
        "role_confidence": line.opts.get("rc", role_conf),
        "words": words,
    }


def render(obj: dict[str, object]) -> str:
    """JSON with one utterance header per line and one word per line: readable and diff-friendly."""
    text = json.dumps(obj, ensure_ascii=False, indent=1)
    # Collapse each word object (and the small label/metadata values) onto one line.
    return re.sub(r"\{\n\s+(\"start\"[^{}]*?)\n\s+\}",
                  lambda m: "{" + re.sub(r",\n\s+", ", ", m[1]) + "}", text) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Build (or with ``--check`` verify) every JSON file from ``source/*.dlg``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify instead of writing")
    args = parser.parse_args(argv)
    stale: list[str] = []
    seen: set[str] = set()
    for src in sorted((HERE / "source").glob("*.dlg")):
        language = src.stem.split("_")[0]
        for d in parse_source(src):
            if d.call_id in seen or not d.call_id.startswith(language + "_"):
                raise SourceError(f"{d.where}: call id '{d.call_id}' duplicated or not '{language}_NNN'")
            seen.add(d.call_id)
            out = HERE / language / f"{d.call_id}.json"
            text = render(build(d, language))
            if args.check:
                if not out.is_file() or out.read_text(encoding="utf-8") != text:
                    stale.append(str(out.relative_to(HERE)))
            else:
                out.parent.mkdir(exist_ok=True)
                out.write_text(text, encoding="utf-8")
    extra = [str(p.relative_to(HERE)) for p in HERE.glob("*/*.json") if p.stem not in seen]
    if stale or extra:
        print("stale or missing:", *stale, "without a source:", *extra, file=sys.stderr)
        return 1
    print(f"{len(seen)} transcripts {'up to date' if args.check else 'written'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
