"""A small store for the scorecard tests: two agents of team T1 over two weeks, one agent of team T2.

Every call is scored with ``MINI_V1`` (two items: a greeting in the first 15 s, a closing in the last
three utterances) and saved with its scorecard, as the nightly flow does. ``MINI_V2`` drops "hello"
from the greeting phrases: rescoring with it flips the greeting of the one call that only said "hello"
with full confidence (c1), while the call that said it with low confidence (c5) stays uncertain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from core.transcript_io import transcript_hash
from core.types import AudioInfo, CallMetadata, ModelInfo, Role, SourceFile, Transcript, Utterance, Word
from rules.engine import score_call
from rules.loader import load_checklist
from scorecards.store.database import Store
from scorecards.store.stored import checklist_record

MINI_V1 = """\
id: mini_en
version: 1
title: Mini service checklist
language: en
sections:
  - id: opening
    title: Opening
    weight: 50
    items:
      - id: greeting
        title: Greets the customer within 15 seconds
        points: 10
        message: Greet the customer first. Say "Thank you for calling, how can I help?"
        condition:
          says:
            role: agent
            window: {first_seconds: 15}
            phrases: [thank you for calling, GREETING]
        examples:
          pass:
            - ["AGENT: Thank you for calling, how can I help?", "CUSTOMER: My bill is wrong."]
            - ["AGENT: Thank you for calling support.", "CUSTOMER: My bill is wrong."]
          fail:
            - ["AGENT: Account number?", "CUSTOMER: One two three."]
            - ["AGENT: Yes?", "CUSTOMER: My bill is wrong."]
  - id: wrap_up
    title: Wrap-up
    weight: 50
    items:
      - id: closing
        title: Closes the call politely
        points: 10
        message: End the call properly. Say "Is there anything else I can help you with? Goodbye."
        condition:
          says:
            role: agent
            window: {last_utterances: 3}
            phrases: [anything else, goodbye]
        examples:
          pass:
            - ["CUSTOMER: Thanks.", "AGENT: Anything else today?"]
            - ["CUSTOMER: Thanks.", "AGENT: Goodbye then."]
          fail:
            - ["CUSTOMER: Thanks.", "AGENT: Okay."]
            - ["CUSTOMER: Thanks.", "AGENT: Right."]
"""


def checklist_text(version: int) -> str:
    """Version 1 accepts "hello" as a greeting, version 2 does not."""
    text = MINI_V1.replace("version: 1", f"version: {version}")
    return text.replace("GREETING", "hello" if version == 1 else "welcome to")


@dataclass(frozen=True)
class Call:
    name: str
    agent: str
    team: str
    started: dt.datetime
    lines: tuple[tuple[str, str, float], ...]  # (role, text, word probability)
    language: str = "en"

    @property
    def call_id(self) -> str:
        return (self.name.encode().hex() * 64)[:64]


def _day(d: int, h: int) -> dt.datetime:
    return dt.datetime(2025, 2, d, h, 0)


CALLS = (
    Call("c1", "A1", "T1", _day(17, 9), (("agent", "Hello, this is Sam from support.", 0.95),
                                          ("customer", "My bill is wrong this month.", 0.9),
                                          ("agent", "Is there anything else I can do?", 0.9))),
    Call("c2", "A1", "T1", _day(18, 10), (("agent", "Thank you for calling, this is Sam.", 0.95),
                                           ("customer", "My router keeps dropping.", 0.9),
                                           ("agent", "Okay, restart it now.", 0.9))),
    Call("c3", "A1", "T1", _day(25, 11), (("agent", "Yes? Account number?", 0.95),
                                           ("customer", "One two three four.", 0.9),
                                           ("agent", "Fixed it, goodbye.", 0.9))),
    Call("c4", "A2", "T1", _day(25, 12), (("agent", "Thank you for calling, how can I help?", 0.95),
                                           ("customer", "I want a refund.", 0.9),
                                           ("agent", "Done. Anything else?", 0.9))),
    Call("c5", "A2", "T1", _day(18, 15), (("agent", "Hello, support here.", 0.3),
                                           ("customer", "My card was charged twice.", 0.9),
                                           ("agent", "Refunded. Anything else?", 0.9))),
    Call("c6", "B1", "T2", _day(25, 9), (("agent", "Yes?", 0.95), ("customer", "Never mind.", 0.9),
                                          ("agent", "Okay.", 0.9))),
    Call("z1", "A2", "T1", _day(25, 16), (("agent", "您好，很高兴为您服务。", 0.95), ("customer", "我要退款。", 0.9)),
         language="zh"),
)


def transcript_of(call: Call) -> Transcript:
    """Three-second utterances with word times; English split at spaces, Mandarin per character."""
    utterances = []
    for i, (role, text, p) in enumerate(call.lines):
        start = 1.0 + 4.0 * i
        tokens = text.split() if call.language == "en" else list(text)
        step = 3.0 / len(tokens)
        words = tuple(Word(round(start + k * step, 3), round(start + (k + 1) * step, 3), t, p)
                      for k, t in enumerate(tokens))
        utterances.append(Utterance(start, start + 3.0, text, Role(role), 0.95, p, f"ch{i % 2}", i % 2,
                                    call.language, words))
    return Transcript(tuple(utterances), 4.0 * len(call.lines) + 1.0, call.language, channels=2,
                      model=ModelInfo("whisper-test", "m" * 64), options="{}", code_version="test")


def build_store(tmp: Path) -> tuple[Store, Path]:
    """The store with every call of :data:`CALLS`, English ones scored with ``mini_en`` v1."""
    path = tmp / "v1.yaml"
    path.write_text(checklist_text(1), encoding="utf-8")
    checklist = load_checklist(path)
    store = Store(tmp / "callqa.duckdb")
    store.start_run("r1", [], "{}", "test")
    for call in CALLS:
        transcript = transcript_of(call)
        meta = CallMetadata(agent_id=call.agent, team=call.team, started_at=call.started, language=call.language)
        cards = []
        if call.language == "en":
            version = transcript_hash(transcript)
            card = score_call(checklist, transcript, meta, call_id=call.call_id, transcript_hash=version)
            cards.append((card, checklist_record(checklist)))
        store.save_call("r1", SourceFile(f"/calls/{call.name}.wav", call.call_id, 100, 0.0), meta,
                        AudioInfo("pcm", "wav", 8000, 2, transcript.duration), transcript, "o", scorecards=cards)
    return store, tmp


def write_v2(tmp: Path) -> Path:
    path = tmp / "v2.yaml"
    path.write_text(checklist_text(2), encoding="utf-8")
    return path
