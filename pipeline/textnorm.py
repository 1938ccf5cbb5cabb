"""Text normalisation: Simplified Chinese for every transcript, and the normal forms used to score one.

Whisper writes Traditional or Simplified characters unpredictably for the same Mandarin audio, so every
recognised text goes through OpenCC ``t2s`` (:func:`to_simplified`). Word and character error rates are
computed on normalised text (:func:`normalize_english`, :func:`normalize_chinese`) with rapidfuzz's
Levenshtein distance over word or character sequences.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence

from opencc import OpenCC
from rapidfuzz.distance import Levenshtein

from core.types import Word

_converter: OpenCC | None = None
_converter_lock = threading.Lock()


def to_simplified(text: str) -> str:
    """``text`` with Traditional Chinese characters converted to Simplified (OpenCC ``t2s``); others unchanged."""
    global _converter
    if _converter is None:
        with _converter_lock:
            if _converter is None:
                _converter = OpenCC("t2s")
    return str(_converter.convert(text)) if text else text


def is_simplified(text: str) -> bool:
    """True when ``t2s`` would change no character of ``text``."""
    return to_simplified(text) == text


def simplify_words(words: Sequence[Word]) -> tuple[Word, ...]:
    """Words with Simplified text, converted together so that phrases spanning tokens convert as phrases.

    OpenCC converts some characters differently inside a phrase than alone (乾 alone → 干, but 乾隆 stays
    乾隆), and Whisper splits phrases across word tokens; converting the joined text and slicing it back
    keeps words consistent with their utterance's text. ``t2s`` maps characters one to one, which the
    length check confirms before slicing.
    """
    joined = "".join(w.text for w in words)
    converted = to_simplified(joined)
    if converted == joined:
        return tuple(words)
    if len(converted) != len(joined):
        return tuple(Word(w.start, w.end, to_simplified(w.text), w.probability) for w in words)
    out, pos = [], 0
    for w in words:
        out.append(Word(w.start, w.end, converted[pos: pos + len(w.text)], w.probability))
        pos += len(w.text)
    return tuple(out)


# --- scoring -------------------------------------------------------------------------------------------

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
            "nine": "ninth", "twelve": "twelfth"}
_SPELLING = {"ok": "okay", "mr": "mister", "mrs": "missus", "dr": "doctor"}


def number_words(n: int) -> str:
    """An integer in English words: 2017 → "two thousand seventeen" (no "and", as in ASR references)."""
    if n < 0:
        return "minus " + number_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        return _ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + number_words(n % 100))
    for scale, name in _SCALES:
        if n >= scale:
            rest = n % scale
            return number_words(n // scale) + " " + name + ("" if rest == 0 else " " + number_words(rest))
    raise AssertionError("unreachable")


def _ordinal_words(n: int) -> str:
    words = number_words(n).split()
    last = words[-1]
    words[-1] = _ORDINAL.get(last) or (last[:-1] + "ieth" if last.endswith("y") else last + "th")
    return " ".join(words)


def _numbers(text: str) -> str:
    def decimal(m: re.Match[str]) -> str:
        whole, _, frac = m.group(0).replace(",", "").partition(".")
        spoken = number_words(int(whole)) if whole else "zero"
        return spoken + (" point " + " ".join(_ONES[int(d)] for d in frac) if frac else "")

    text = re.sub(r"\$(\d[\d,]*(?:\.\d+)?)", r"\1 dollars", text)
    text = re.sub(r"(\d)\s*%", r"\1 percent", text)
    text = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", lambda m: _ordinal_words(int(m.group(1))), text)
    return re.sub(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+", decimal, text)


def normalize_english(text: str) -> list[str]:
    """English words for WER: lower case, numbers spelled out, punctuation and hyphens removed.

    "It's 2017, the 10th — $25!" → ``["it's", "two", "thousand", "seventeen", "the", "tenth", "twenty",
    "five", "dollars"]``.
    """
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'").replace("‘", "'")
    text = _numbers(text)
    text = re.sub(r"[^\w\s']|_", " ", text)  # punctuation, hyphens and symbols split words
    words = [w.strip("'") for w in text.split()]
    return [_SPELLING.get(w, w) for w in words if w]


def normalize_chinese(text: str) -> str:
    """Characters for CER: Simplified, without punctuation, symbols or spaces, Latin letters in lower case."""
    text = unicodedata.normalize("NFKC", to_simplified(text)).lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of ``hypothesis`` against ``reference`` after :func:`normalize_english`."""
    ref, hyp = normalize_english(reference), normalize_english(hypothesis)
    if not ref:
        raise ValueError("the reference has no words: a WER needs at least one reference word")
    return Levenshtein.distance(ref, hyp) / len(ref)


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate of ``hypothesis`` against ``reference`` after :func:`normalize_chinese`."""
    ref, hyp = normalize_chinese(reference), normalize_chinese(hypothesis)
    if not ref:
        raise ValueError("the reference has no characters: a CER needs at least one reference character")
    return Levenshtein.distance(ref, hyp) / len(ref)


def error_rate(reference: str, hypothesis: str, language: str) -> float:
    """CER for Chinese (``zh``), WER otherwise: the usual measure for each language."""
    return cer(reference, hypothesis) if language == "zh" else wer(reference, hypothesis)
