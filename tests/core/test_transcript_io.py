"""Transcript files: the JSON that `callqa transcript --json` prints, and plain 'AGENT: …' text."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.transcript_io import (
    TranscriptFormatError,
    dumps,
    parse_json,
    parse_lines,
    read_transcript,
    transcript_hash,  # fmt: skip
)
from core.types import Role

REAL = Path(__file__).parents[1] / "rules" / "real_call_en.json"


def test_json_round_trips() -> None:
    loaded = read_transcript(REAL)
    again = parse_json(dumps(loaded.transcript, loaded.metadata, loaded.call_id))
    assert again.transcript == loaded.transcript and again.metadata.agent_id == "ChrisL"
    assert transcript_hash(again.transcript) == transcript_hash(loaded.transcript)
    assert loaded.timed and loaded.transcript.duration == pytest.approx(277.66)


def test_json_defaults() -> None:
    loaded = parse_json('{"utterances": [{"role": "agent", "start": 0.4, "end": 3.1, "text": "您好"}]}')
    u = loaded.transcript.utterances[0]
    assert (u.role, u.confidence, u.role_confidence) == (Role.AGENT, 1.0, 1.0)
    assert loaded.transcript.duration == 3.1 and loaded.transcript.language == "zh"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"utterances": [{"role": "agnet", "start": 0, "end": 1, "text": "x"}]}', "utterances[0].role: 'agnet'"),
        ('{"utterances": [{"role": "agent", "start": "0", "end": 1, "text": "x"}]}', "utterances[0].start: expected"),
        ('{"utterances": [{"role": "agent", "start": 2, "end": 1, "text": "x"}]}', "end 1.0 is before start 2.0"),
        ('{"utterances": [{"role": "agent", "start": 0, "end": 1}]}', "utterances[0]: missing 'text'"),
        ('{"utterances": [], "metadata": {"hangup": "agent"}}', "unknown field 'metadata.hangup' — did you mean"),
        ('{"utterances": [{"role": "agent", "start": 0, "end": 1, "text": "x", "confidence": 7}]}',
         "utterances[0].confidence: 7.0 is not between 0 and 1"),
        ('{"utterances": [', "t.json:1:"),
    ],
)
def test_json_errors_name_the_file_and_field(text: str, message: str) -> None:
    with pytest.raises(TranscriptFormatError, match=None) as raised:
        parse_json(text, "t.json")
    assert message in str(raised.value) and str(raised.value).startswith("t.json")


def test_plain_text_gets_pseudo_times() -> None:
    loaded = parse_lines(["# a comment", "AGENT: Hello", "", "customer: Hi", "坐席：您好", "客户：你好"], "t.txt")
    assert not loaded.timed
    assert [(u.role, u.start, u.end, u.text) for u in loaded.transcript.utterances] == [
        (Role.AGENT, 0.0, 3.0, "Hello"), (Role.CUSTOMER, 3.0, 6.0, "Hi"), (Role.AGENT, 6.0, 9.0, "您好"),
        (Role.CUSTOMER, 9.0, 12.0, "你好")]  # fmt: skip


def test_plain_text_error_names_the_line() -> None:
    with pytest.raises(TranscriptFormatError, match=r"t.txt:2: expected 'AGENT: …'"):
        parse_lines(["AGENT: hi", "SPEAKER 2: hello"], "t.txt")
