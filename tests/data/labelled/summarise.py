"""Check the labelled transcript set and write its summary tables into LABELLING.md.

Usage::

    python tests/data/labelled/summarise.py          # validate, then rewrite the tables in LABELLING.md
    python tests/data/labelled/summarise.py --check  # validate and exit 1 if LABELLING.md is stale

Validation covers the format, not the judgement: every item labelled with a known verdict, times
monotonic and inside the call, utterances of 1–12 s, confidence equal to the mean word probability,
and at least ``MIN_PER_VERDICT`` pass and fail labels per item and language.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GUIDE = HERE / "LABELLING.md"
ITEMS = (
    "greeting", "self_identification", "identity_verification", "active_listening", "repeat_back",
    "no_deflection", "no_rude_wording", "apology_overuse", "hold_announced", "hold_thanked",
    "empathy", "closing",
    "customer_hangs_up_first", "complaint_length",
)
VERDICTS = ("pass", "fail", "n/a", "uncertain")
LANGUAGES = ("zh", "en")
MIN_PER_VERDICT = 5
MIN_PER_LANGUAGE = 40
BEGIN, END = "<!-- summary:begin -->", "<!-- summary:end -->"


def problems_in(path: Path, call: dict[str, Any]) -> list[str]:
    """Format problems of one labelled transcript, each naming the file and field."""
    out: list[str] = []
    name = path.name
    if call.get("language") != path.parent.name:
        out.append(f"{name}: language {call.get('language')!r} does not match folder {path.parent.name}")
    labels = call.get("labels", {})
    for item in ITEMS:
        if labels.get(item) not in VERDICTS:
            out.append(f"{name}: labels.{item} is {labels.get(item)!r}; use one of {VERDICTS}")
    out += [f"{name}: labels.{k} is not a checklist item" for k in labels if k not in ITEMS]
    out += [f"{name}: notes.{k} is not a checklist item" for k in call.get("notes", {}) if k not in ITEMS]
    previous_end = 0.0
    utterances = call.get("utterances", [])
    if not 6 <= len(utterances) <= 30:
        out.append(f"{name}: {len(utterances)} utterances; write 6–30")
    for i, u in enumerate(utterances):
        where = f"{name}: utterances[{i}]"
        if u["role"] not in ("agent", "customer"):
            out.append(f"{where}.role is {u['role']!r}")
        if u["start"] < previous_end or not 1.0 <= round(u["end"] - u["start"], 2) <= 12.0:
            out.append(f"{where}: {u['start']}–{u['end']} overlaps the previous one or is not 1–12 s long")
        previous_end = u["end"]
        words = u.get("words", [])
        if words:
            mean = sum(w["probability"] for w in words) / len(words)
            if abs(mean - u["confidence"]) > 0.001:
                out.append(f"{where}.confidence {u['confidence']} is not the mean word probability {mean:.3f}")
            if any(not u["start"] <= w["start"] <= w["end"] <= u["end"] for w in words):
                out.append(f"{where}.words have times outside the utterance")
    if utterances and call.get("duration", 0) < previous_end:
        out.append(f"{name}: duration {call.get('duration')} ends before the last utterance ({previous_end})")
    return out


def load() -> tuple[dict[str, list[tuple[Path, dict[str, Any]]]], list[str]]:
    """All labelled transcripts per language, and every format problem found in them."""
    calls: dict[str, list[tuple[Path, dict[str, Any]]]] = {lang: [] for lang in LANGUAGES}
    problems: list[str] = []
    for lang in LANGUAGES:
        for path in sorted((HERE / lang).glob("*.json")):
            call = json.loads(path.read_text(encoding="utf-8"))
            calls[lang].append((path, call))
            problems += problems_in(path, call)
        if len(calls[lang]) < MIN_PER_LANGUAGE:
            problems.append(f"{lang}: only {len(calls[lang])} transcripts; the set needs ≥ {MIN_PER_LANGUAGE}")
    return calls, problems


def count_table(calls: dict[str, list[tuple[Path, dict[str, Any]]]]) -> tuple[str, list[str]]:
    """The per-item verdict counts as a Markdown table, and items short of pass/fail examples."""
    lines = ["| item | " + " | ".join(f"{lang} {v}" for lang in LANGUAGES for v in VERDICTS) + " |",
             "|---|" + "---:|" * (len(LANGUAGES) * len(VERDICTS))]
    short: list[str] = []
    for item in ITEMS:
        cells = []
        for lang in LANGUAGES:
            counts = Counter(call["labels"][item] for _, call in calls[lang])
            cells += [str(counts[v]) for v in VERDICTS]
            short += [f"{lang} {item}: {counts[v]} {v}" for v in ("pass", "fail") if counts[v] < MIN_PER_VERDICT]
        lines.append(f"| `{item}` | " + " | ".join(cells) + " |")
    return "\n".join(lines), short


def index_table(calls: dict[str, list[tuple[Path, dict[str, Any]]]], titles: dict[str, str]) -> str:
    """One row per transcript: id, scenario, length, utterances, and the items not labelled pass."""
    lines = ["| file | scenario | length | utt. | not pass |", "|---|---|---:|---:|---|"]
    for lang in LANGUAGES:
        for path, call in calls[lang]:
            others = ", ".join(f"{k}={v}" for k, v in call["labels"].items() if v != "pass")
            minutes, seconds = divmod(round(call["duration"]), 60)
            lines.append(f"| `{lang}/{path.name}` | {titles.get(call['call_id'], '')} | {minutes}:{seconds:02d} "
                         f"| {len(call['utterances'])} | {others} |")
    return "\n".join(lines)


def titles_from_sources() -> dict[str, str]:
    """Scenario titles from the ``### <id> | <title>`` headers of the dialogue sources."""
    titles: dict[str, str] = {}
    for src in sorted((HERE / "source").glob("*.dlg")):
        for line in src.read_text(encoding="utf-8").splitlines():
            if line.startswith("###"):
                call_id, _, title = line[3:].partition("|")
                titles[call_id.strip()] = title.strip().replace("|", "/")
    return titles


def main(argv: list[str] | None = None) -> int:
    """Validate the set and write (or with ``--check`` compare) the summary in LABELLING.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if LABELLING.md is stale")
    args = parser.parse_args(argv)
    calls, problems = load()
    counts, short = count_table(calls)
    problems += [f"fewer than {MIN_PER_VERDICT}: {s}" for s in short]
    totals = ", ".join(f"{len(calls[lang])} {lang}" for lang in LANGUAGES)
    block = (f"{BEGIN}\n\nTranscripts: {totals}.\n\n### Verdicts per item\n\n{counts}\n\n"
             f"### Index\n\n{index_table(calls, titles_from_sources())}\n\n{END}")
    guide = GUIDE.read_text(encoding="utf-8")
    if BEGIN not in guide or END not in guide:
        problems.append(f"{GUIDE.name}: add the markers {BEGIN} and {END} where the summary goes")
        new_guide = guide
    else:
        head, _, rest = guide.partition(BEGIN)
        new_guide = head + block + rest.partition(END)[2]
    for p in problems:
        print(p, file=sys.stderr)
    if args.check and new_guide != guide:
        print(f"{GUIDE.name} is stale: run {Path(__file__).name} without --check", file=sys.stderr)
        return 1
    if not args.check and new_guide != guide:
        GUIDE.write_text(new_guide, encoding="utf-8")
    print(f"{totals}; {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
