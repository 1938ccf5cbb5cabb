"""Numbers as people say them, found in recognised text: the digit runs a phone, card or ID number is made of.

A recogniser writes one spoken number in many ways: ``13812345678``, ``138 1234 5678``, ``一三八一二三四五六七八``
(幺 for 1, 两 for 2), ``eight eight eight, three three three``, ``double five``, ``one eight hundred``, or a mix.
:func:`digit_runs` reads them all into runs of digits with the character span each came from, so the detectors
in :mod:`pipeline.pii` can check one string (``"13812345678"``) whatever the wording. Place-value numbers
(``两千九百九十九``, ``three hundred and fifty``) are amounts, not digit sequences: their place words break a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_EN_DIGITS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
              "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_EN_TEENS = {"ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15",
             "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19"}
_EN_TENS = {"twenty": "2", "thirty": "3", "forty": "4", "fifty": "5", "sixty": "6", "seventy": "7", "eighty": "8",
            "ninety": "9"}
_ZH_DIGITS = {"零": "0", "〇": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5",
              "六": "6", "七": "7", "八": "8", "九": "9"}

_DIGIT_WORD = "|".join(sorted(_EN_DIGITS, key=len, reverse=True))
_TOKEN = re.compile(
    rf"(?P<mult>\b(?:double|triple)[\s-]+(?:{_DIGIT_WORD}|\d)\b)"
    rf"|(?P<tens>\b(?:{'|'.join(_EN_TENS)})(?:[\s-]+(?:{_DIGIT_WORD}))?\b)"
    rf"|(?P<teen>\b(?:{'|'.join(_EN_TEENS)})\b)"
    rf"|(?P<hundred>(?:\b(?:{_DIGIT_WORD})|\d)[\s-]+hundred\b)"
    rf"|(?P<word>\b(?:{_DIGIT_WORD})\b)"
    r"|(?P<digit>\d)"
    rf"|(?P<zh>[{''.join(_ZH_DIGITS)}])",
    re.IGNORECASE,
)
# What may stand between two digits of one number: spaces, dashes (said "dash", "杠"), dots, commas, brackets
# round an area code, and a hesitation ("嗯", "uh").
_JOINER = re.compile(r"(?:[\s\-–—.,，、·_()（）]|\bdash\b|\bhyphen\b|杠|嗯|呃|额|\buh\b|\bum\b)*", re.IGNORECASE)
# "o" and "oh" are zeros only between other digits ("five oh five"), never a number's first or last digit
# ("oh, I see", "J O H N").
_WEAK = {"o", "oh"}
# A Chinese digit next to another Han character that is not a digit is part of a word (一下, 一样, 三星).
_HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True, slots=True)
class DigitRun:
    """Consecutive spoken or written digits in one text.

    Attributes:
        start, end: the character span in the text (from the first digit's first character to the last's end).
        digits: the digits, ``"0"``–``"9"``, with ``"X"`` for an ID card's check character.
        plus: said with a leading ``+`` or "plus" (an international number).
        grouped: written with thousands separators (``12,500``) or a decimal point: an amount, not an identifier.
        said: the run as the text writes it.
        tail: the written digits that end a run begun in words after a pause ("the same one, 5220 6176 …"):
            the number may be only those.
    """

    start: int
    end: int
    digits: str
    plus: bool = False
    grouped: bool = False
    tail: DigitRun | None = None
    said: str = ""  # the run as written in the text

    def __len__(self) -> int:
        return len(self.digits)


@dataclass(frozen=True, slots=True)
class _Tok:
    start: int
    end: int
    digits: str
    weak: bool
    chinese: bool
    written: bool  # an Arabic digit, not a word


def _value(m: re.Match[str]) -> tuple[str, bool]:
    text = m.group(0).lower()
    if m.group("mult"):
        times = 2 if text.startswith("double") else 3
        last = re.split(r"[\s-]+", text)[-1]
        return (_EN_DIGITS.get(last, last)) * times, False
    if m.group("tens"):
        parts = re.split(r"[\s-]+", text)
        return _EN_TENS[parts[0]] + (_EN_DIGITS[parts[1]] if len(parts) > 1 else "0"), False
    if m.group("teen"):
        return _EN_TEENS[text], False
    if m.group("hundred"):
        first = re.split(r"[\s-]+", text)[0]
        return _EN_DIGITS.get(first, first) + "00", False
    if m.group("word"):
        return _EN_DIGITS[text], text in _WEAK
    if m.group("zh"):
        return _ZH_DIGITS[m.group(0)], False
    return m.group(0), False


def _tokens(text: str) -> list[_Tok]:
    out = []
    for m in _TOKEN.finditer(text):
        digits, weak = _value(m)
        out.append(_Tok(m.start(), m.end(), digits, weak, bool(m.group("zh")), bool(m.group("digit"))))
    return out


def _runs_of_tokens(text: str, toks: list[_Tok]) -> list[list[_Tok]]:
    runs: list[list[_Tok]] = []
    for tok in toks:
        prev = runs[-1][-1] if runs else None
        if prev is not None and _JOINER.fullmatch(text, prev.end, tok.start):
            runs[-1].append(tok)
        else:
            runs.append([tok])
    return runs


def _trim(text: str, run: list[_Tok]) -> list[_Tok]:
    """The run without an "oh" that is an interjection: alone, or set off by a pause ("oh, five five five")."""
    if all(t.weak for t in run):
        return []
    while len(run) > 1 and run[0].weak and re.search(r"[,.，。!?]", text[run[0].end: run[1].start]):
        run = run[1:]
    while len(run) > 1 and run[-1].weak and re.search(r"[,.，。!?]", text[run[-2].end: run[-1].start]):
        run = run[:-1]
    return run


def _word_ends(text: str, run: list[_Tok]) -> list[_Tok]:
    """The run without a Chinese digit at either end that begins or ends a word past a pause ("…5643，一直显示",
    "统一，138…")."""
    while len(run) > 1 and run[-1].chinese and _HAN.match(text[run[-1].end: run[-1].end + 1]) \
            and re.search(r"[\s,.，。、]", text[run[-2].end: run[-1].start]):
        run = run[:-1]
    while len(run) > 1 and run[0].chinese and run[0].start and _HAN.match(text[run[0].start - 1]) \
            and re.search(r"[\s,.，。、]", text[run[0].end: run[1].start]):
        run = run[1:]
    return run


def _isolated_chinese(text: str, run: list[_Tok]) -> bool:
    """A one- or two-character Chinese "run" inside a word (一下, 三四个), not a spoken digit sequence."""
    if not all(t.chinese for t in run) or len(run) > 2:
        return False
    before = text[run[0].start - 1] if run[0].start else ""
    after = text[run[-1].end] if run[-1].end < len(text) else ""
    return bool(_HAN.match(before) or _HAN.match(after))


def _inside_code(text: str, start: int, end: int, short_written: bool) -> bool:
    """Digits written against Latin letters ("z2", "B92N2", a link's "4YBn633EOk"): part of a code or a URL, not a
    number said aloud; long ones are still taken ("ID12345678")."""
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    return short_written and bool(re.match(r"[A-Za-z]", before) or re.match(r"[A-Za-z]", after))


def digit_runs(text: str) -> list[DigitRun]:
    """Every run of digits in ``text``, in order, however each digit was written.

    A run ends at anything but a joiner (space, dash, dot, comma): a place word (百, hundred … and), a letter,
    a Han character that is not a digit. An ``X`` (or 叉) straight after 17 digits is an ID card's check
    character and belongs to the run, and so is a capital ``X`` (or 叉) straight after the last digits of an ID
    read in parts or of its last four ("…441X").
    """
    out: list[DigitRun] = []
    for raw in _runs_of_tokens(text, _tokens(text)):
        run = _word_ends(text, _trim(text, raw))
        if not run or _isolated_chinese(text, run):
            continue
        start, end = run[0].start, run[-1].end
        digits = "".join(t.digits for t in run)
        # the 18th character of an ID may follow a pause ("…三七幺，嗯，X")
        check = re.match(rf"{_JOINER.pattern}(?:[xX]|叉)(?![A-Za-z])" if len(digits) == 17 else r"(?:X|叉)(?![A-Za-z])",
                         text[end:], re.IGNORECASE)
        if check and len(digits) >= 3:
            end += check.end()  # the end of an ID read in parts, or its last four ("…441X", "零二一X")
            digits += "X"
        if _inside_code(text, start, end, run[0].written and run[-1].written and len(digits) < 7):
            continue
        span = text[start:end]
        grouped = bool(re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d{1,2}", span))
        head = re.search(r"(?:\+|\bplus\s*)$", text[max(0, start - 6): start], re.IGNORECASE)
        plus = head is not None
        if head and head.group(0)[0] in "pP" and not grouped:
            start -= len(head.group(0))  # "plus 44 7700 …" is all one number
            span = text[start:end]
        out.append(DigitRun(start, end, digits, plus, grouped, _written_tail(text, run, end, digits), span))
    return out


def _written_tail(text: str, run: list[_Tok], end: int, digits: str) -> DigitRun | None:
    """The written digits after the run's last pause between a digit word and a written digit, if any."""
    for i in range(len(run) - 1, 0, -1):
        a, b = run[i - 1], run[i]
        if not a.written and b.written and re.search(r"[,.，。]", text[a.end: b.start]):
            count = sum(len(t.digits) for t in run[i:])
            return DigitRun(b.start, end, digits[len(digits) - count:], said=text[b.start: end])
    return None


def leading_run(text: str, runs: list[DigitRun]) -> DigitRun | None:
    """The run that opens ``text`` (only punctuation or a filler before it), if any: a number's second half."""
    if not runs:
        return None
    lead = text[: runs[0].start]
    opening = r"uh|um|er|and|then|and\s+then|the\s+rest\s+is|嗯|呃|然后是?|还有|是|后面是?|剩下的?是?|接着是?"
    return runs[0] if re.fullmatch(rf"[\s,.，。、:：\-]*(?:(?:{opening})[\s,，、:：]*)?", lead, re.IGNORECASE) else None


def trailing_run(text: str, runs: list[DigitRun]) -> DigitRun | None:
    """The run that closes ``text`` (only punctuation or a filler after it), if any: a number said in parts."""
    if not runs:
        return None
    tail = text[runs[-1].end:]
    return runs[-1] if re.fullmatch(r"[\s,.，。、…\-]*(?:(?:uh|um|er|嗯|呃)[\s,.，。…]*)?", tail,
                                    re.IGNORECASE) else None
