"""Normalisation: the same function for phrases and transcripts."""

from __future__ import annotations

import pytest

from rules.normalize import changed_characters, normalize, normalize_many


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thank you for calling Big Jim's Auto. This is Travis.", "thank you for calling big jims auto this is travis"),
        ("I’m sorry, I can't do that; it's not our problem", "i am sorry i can not do that it is not our problem"),
        ("您好，很高興為您服務，我是工號一零二四", "您好很高兴为您服务我是工号1024"),
        ("工号 1 0 2 4，幺三八", "工号1024138"),
        ("二十三块，十分抱歉", "23块10分抱歉"),
        ("请您稍等一下", "请您稍等一下"),  # a lone 一 is a word
        ("my number is five five five, one two three four", "my number is 5551234"),
        ("twenty three and one hundred five", "23 and 105"),
        ("ＡＢＣ１２３ 你好 ， 请 稍等", "abc123你好请稍等"),
        ("OK, alright. Mm-hmm", "okay all right mm hmm"),
        ("call 555-1234 now", "call 5551234 now"),
        ("  ", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_keeps_utterances_apart() -> None:
    assert normalize_many(["I'm ok", "Two  three", "", "last"]) == ["i am okay", "23", "", "last"]
    assert normalize("one\ntwo") == "1\n2"  # numbers never join across utterances


def test_changed_characters_flags_what_a_regex_can_never_match() -> None:
    assert changed_characters(r"^Hold\D+請[一-龥]工號") == [(1, "H", "h"), (8, "請", "请"), (15, "號", "号")]
    assert changed_characters(r"^(?:okay|sure)\b\d+[a-z]") == []
