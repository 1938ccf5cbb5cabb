"""A small demo-like database for the web tests, built in a second from committed data (no Whisper).

- ``ChrisL`` (team T1): the real 4½-minute call in ``data/calls``, with its cached Whisper transcript
  (``tests/data/real_call_whisper.json``) and hand-labelled roles (``real_call_roles.json``);
- ``A2`` (team T1) and ``B1`` (team T2): one real clip each (``jfk.flac``, the LibriSpeech clip) with its
  published reference text as a single agent utterance;
- ``Z1`` (team T1): the real AISHELL Mandarin clip, the same way.

Every call is scored with the shipped checklist of its language, as the nightly flow does. Accounts: ``admin``,
``sup`` (supervisor of T1), ``sup2`` (supervisor of T2), ``chris`` (agent ChrisL), ``a2`` (agent A2), all with
the password :data:`PASSWORD`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from core.transcript_io import transcript_hash
from core.types import (
    AudioInfo,
    CallFailure,
    CallMetadata,
    ModelInfo,
    Role,
    RunSummary,
    SourceFile,
    Transcript,
    Utterance,
    Word,
)
from pipeline.redact import REDACTOR_VERSION, redact_transcript
from rules.engine import score_call
from rules.loader import load_checklist
from scorecards.people.accounts import add_user
from scorecards.store.database import Store
from scorecards.store.privacy import PrivacyRecord
from scorecards.store.stored import checklist_record

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
TESTDATA = ROOT / "tests" / "data"
REAL_CALL = DATA / "calls" / "Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav"
CHECKLIST = ROOT / "rules" / "checklists" / "service_en.yaml"
CHECKLIST_ZH = ROOT / "rules" / "checklists" / "service_zh.yaml"
PASSWORD = "correct-horse-battery"
MODEL = ModelInfo("whisper-base-int8", "b" * 64)


@dataclass(frozen=True)
class DemoCall:
    call_id: str
    agent: str
    team: str
    path: Path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _role_at(spans: list[dict[str, object]], start: float, end: float) -> Role:
    best, overlap = Role.UNKNOWN, 0.0
    for span in spans:
        o = min(end, float(span["end"])) - max(start, float(span["start"]))  # type: ignore[arg-type]
        if o > overlap:
            best, overlap = Role(str(span["role"])), o
    return best


def real_call_transcript() -> Transcript:
    """The real call as Whisper heard it, with the hand-labelled roles."""
    whisper = json.loads((TESTDATA / "real_call_whisper.json").read_text(encoding="utf-8"))
    spans = json.loads((TESTDATA / "real_call_roles.json").read_text(encoding="utf-8"))
    utts = []
    for seg in whisper["segments"]:
        words = tuple(Word(w[0], w[1], w[2].strip(), w[3]) for w in seg["words"])
        conf = sum(w.probability for w in words) / len(words) if words else 0.9
        utts.append(Utterance(seg["start"], seg["end"], seg["text"].strip(), _role_at(spans, seg["start"], seg["end"]),
                              0.9, conf, "ch0", 0, "en", words))
    return Transcript(tuple(utts), whisper["duration"], "en", channels=1, model=MODEL, options="{}",
                      code_version="test")


def _clip_transcript(text: str, duration: float, language: str = "en") -> Transcript:
    tokens = text.split()
    step = (duration - 1.0) / len(tokens)
    words = tuple(Word(round(0.5 + i * step, 3), round(0.5 + (i + 1) * step, 3), t, 0.9) for i, t in enumerate(tokens))
    utt = Utterance(0.5, duration - 0.5, text, Role.AGENT, 0.9, 0.9, "ch0", 0, language, words)
    return Transcript((utt,), duration, language, channels=1, model=MODEL, options="{}", code_version="test")


def _references() -> dict[str, str]:
    import csv

    with open(DATA / "SOURCES.csv", encoding="utf-8", newline="") as f:
        return {Path(r["path"]).name: r["reference_text"] for r in csv.DictReader(f) if r["reference_text"]}


def build(db: Path, *, redacted: bool = True) -> dict[str, DemoCall]:
    """Write the database at ``db`` and return its calls by agent id.

    Args:
        redacted: store each transcript redacted, as the nightly flow does by default (the real call's caller
            gives her name and is read a number); False stores them in clear, as before redaction existed.
    """
    import soundfile

    checklists = {"en": load_checklist(CHECKLIST), "zh": load_checklist(CHECKLIST_ZH)}
    store = Store(db)
    store.start_run("e2e-run-1", [str(DATA)], "{}", "test")
    refs = _references()
    plan = [
        ("ChrisL", "T1", REAL_CALL, real_call_transcript(), dt.datetime(2025, 2, 19, 6, 1, 22)),
    ]
    for agent, team, clip, day in (("A2", "T1", "jfk.flac", 18), ("B1", "T2", "librispeech_1995-1837-0001.wav", 17),
                                   ("Z1", "T1", "aishell_BAC009S0724W0121.wav", 16)):
        path = DATA / "clips" / clip
        language = "zh" if clip.startswith("aishell") else "en"
        plan.append((agent, team, path, _clip_transcript(refs[clip], soundfile.info(str(path)).duration, language),
                     dt.datetime(2025, 2, day, 10, 0)))
    calls = {}
    for agent, team, path, transcript, started in plan:
        call_id = _sha256(path)
        checklist = checklists[transcript.language]
        meta = CallMetadata(agent_id=agent, team=team, started_at=started, language=transcript.language,
                            source="manifest")
        privacy = None
        if redacted:
            done = redact_transcript(transcript, meta)
            transcript = done.transcript
            privacy = PrivacyRecord("redact", REDACTOR_VERSION, done.redactions, None, "run:e2e-run-1")
        card = score_call(checklist, transcript, meta, call_id=call_id, transcript_hash=transcript_hash(transcript))
        store.save_call("e2e-run-1", SourceFile(str(path), call_id, path.stat().st_size, path.stat().st_mtime), meta,
                        AudioInfo("pcm", path.suffix.lstrip("."), 8000, 1, transcript.duration), transcript, "o",
                        scorecards=[(card, checklist_record(checklist))], privacy=privacy)
        calls[agent] = DemoCall(call_id, agent, team, path)
    now = dt.datetime(2025, 2, 20, 2, 0)
    broken = CallFailure("/calls/broken.wav", "decode", "not an audio file")
    store.save_failure("e2e-run-1", broken)
    store.finish_run(RunSummary("e2e-run-1", now, now + dt.timedelta(minutes=3), done=len(plan), skipped=0,
                                failed=(broken,),
                                audio_seconds=sum(t.duration for _, _, _, t, _ in plan), wall_seconds=120.0))
    add_user(store, "admin", "admin", password=PASSWORD)
    add_user(store, "sup", "supervisor", teams=["T1"], password=PASSWORD, display_name="Supervisor T1")
    add_user(store, "sup2", "supervisor", teams=["T2"], password=PASSWORD)
    add_user(store, "chris", "agent", agent_id="ChrisL", password=PASSWORD, display_name="Chris L")
    add_user(store, "a2", "agent", agent_id="A2", password=PASSWORD)
    return calls


_BUILT: dict[Path, dict[str, DemoCall]] = {}


def copy_of_built(tmp: Path, cache_dir: Path) -> tuple[Path, dict[str, DemoCall]]:
    """A fresh copy (in ``tmp``) of the database built once per ``cache_dir``: tests that write get their own."""
    import shutil

    source = cache_dir / "web.duckdb"
    if source not in _BUILT:
        source.unlink(missing_ok=True)
        _BUILT[source] = build(source)
    dest = tmp / "web.duckdb"
    shutil.copyfile(source, dest)
    return dest, _BUILT[source]
