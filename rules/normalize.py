"""Text normalisation shared by checklist phrases and transcripts.

Phrases and transcripts go through the same function, so a rule author writes "I'm", "我是工号一零二四" or
"請稍等" and it matches "i am", "我是工号1024" and "请稍等" as heard. The steps, in order:

1. Unicode NFKC (full-width letters, digits and punctuation become half-width) and lower case.
2. Traditional → Simplified characters, one character at a time (OpenCC's table; phrase-level conversion
   is not needed for matching because Traditional→Simplified is nearly always many-to-one).
3. English contractions are expanded ("i'm" → "i am", "can't" → "can not", "it's" → "it is"); other
   apostrophes are dropped ("jim's" → "jims").
4. Punctuation becomes a space.
5. Numbers become digits: 一二三 → 123, 二十三 → 23, 幺 → 1, "twenty three" → 23, and the spaces between
   digits go ("5 5 5" → 555), so phone and staff numbers match however they were written. A lone 一 stays
   (一下, 一直 are words).
6. Spaces between two Chinese characters go (Mandarin is matched by characters); other runs of spaces
   become one space.

The whole call is normalised as one string (utterances joined by newlines, which no step touches), so the
cost is a handful of C-level passes per call rather than per utterance.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from core.pii import PLACEHOLDER

SEPARATOR = "\n"

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_LATIN_OR_DIGIT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")

# Contractions whose expansion is not just "drop the apostrophe". "'d" and "'s" are ambiguous (had/would,
# is/has); "would" and "is" are the readings that matter for service phrases ("I'd like", "that's").
_CONTRACTIONS = {
    "won't": "will not",
    "can't": "can not",
    "cannot": "can not",
    "shan't": "shall not",
    "ain't": "is not",
    "let's": "let us",
    "y'all": "you all",
    "gonna": "going to",
    "wanna": "want to",
    "gotta": "got to",
    "ok": "okay",
    "alright": "all right",
}
_S_IS = frozenset(
    ["it", "that", "what", "there", "here", "he", "she", "who", "how", "where", "when", "why", "everything",
     "nothing", "something", "someone", "everyone", "this"]
)
_SUFFIXES = {"n't": " not", "'re": " are", "'m": " am", "'ll": " will", "'ve": " have", "'d": " would"}

_EN_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_EN_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
_EN_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORDS = frozenset([*_EN_UNITS, *_EN_TENS, *_EN_SCALES])
_SPECIAL_WORDS = _NUMBER_WORDS | frozenset(_CONTRACTIONS)

_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}  # fmt: skip
_ZH_SCALES = {"十": 10, "百": 100, "千": 1000, "万": 10000}
# A run of numerals; a lone 一 (一下, 一直: a word, left as it is) is not a run, which saves a call per 一.
_ZH_NUMERALS = "零〇一幺二两三四五六七八九十百千万"
_ZH_NUMBER_RUN = re.compile(f"[{_ZH_NUMERALS.replace('一', '')}][{_ZH_NUMERALS}]*|一[{_ZH_NUMERALS}]+")

_SPACE_RUN = re.compile(r"[ \t\r\f\v]+")
# Spaces between Chinese characters or digits carry no meaning ("工号 1024", "5 5 5").
_CJK_GAP = re.compile(f"(?<=[{_CJK}0-9]) (?=[{_CJK}0-9])")  # a deletion: sub() needs no template
_DIGIT_GAP = re.compile(r"(\d) (?=\d)")
_DIGIT_SPACE = re.compile(r"\d \d")
_HAS_LATIN = re.compile("[a-z]")


@functools.cache
def _tables() -> tuple[dict[int, str], dict[int, str]]:
    """Translate tables, built once per process.

    Returns:
        (ascii_table, table): the first maps ASCII punctuation to spaces (str.translate has a fast path for
        ASCII-only text); the second also maps full-width to half-width characters, Traditional to
        Simplified (OpenCC's character table) and curly apostrophes to straight ones. The apostrophe is
        kept for the contraction step; the newline separates utterances.
    """
    import opencc  # the reimplementation ships OpenCC's dictionaries as text files

    table: dict[int, str] = {}
    chars = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    for line in chars.read_text(encoding="utf-8").splitlines():
        trad, _, simp = line.partition("\t")
        if len(trad) == 1 and simp:
            table[ord(trad)] = simp.split(" ")[0]
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII
        table[code] = chr(code - 0xFEE0)
    table[0x2019] = table[0x2018] = table[0xFF07] = "'"
    for code in range(0x10000):
        ch = table.get(code, chr(code))
        if ch in (SEPARATOR, "'") or len(ch) != 1:
            continue
        category = unicodedata.category(ch)
        if category[0] in "PSZ" or category == "Cc":
            table[code] = " "
    ascii_table = {code: value for code, value in table.items() if code < 128}
    return ascii_table, table


def _expand_contraction(word: str) -> str:
    if word in _CONTRACTIONS:
        return _CONTRACTIONS[word]
    if "'" not in word:
        return word
    for suffix, expansion in _SUFFIXES.items():
        if word.endswith(suffix) and len(word) > len(suffix):
            return word[: -len(suffix)] + expansion
    if word.endswith("'s"):
        stem = word[:-2]
        return f"{stem} is" if stem in _S_IS else stem + "s"
    return word.replace("'", "")


def _english_number(run: str) -> str:
    """'twenty three' → 23, 'one hundred five' → 105, 'five five five' → 555 (digits said one by one)."""
    numbers: list[int] = []
    last = ""  # kind of the previous word: unit, teen, tens, scale
    for word in run.split(" "):
        if word in _EN_SCALES:
            numbers[-1:] = [max(numbers[-1] if numbers else 1, 1) * _EN_SCALES[word]]
            last = "scale"
            continue
        value = _EN_UNITS.get(word, _EN_TENS.get(word, 0))
        kind = "tens" if word in _EN_TENS else ("unit" if value < 10 else "teen")
        joins = numbers and (last == "scale" or (last == "tens" and kind == "unit"))
        if joins:
            numbers[-1] += value
        else:
            numbers.append(value)
        last = kind
    return "".join(str(n) for n in numbers)


def _chinese_number(match: re.Match[str]) -> str:
    run = match.group(0)
    if run == "一":  # 一下, 一直, 一样: a word, not a number (and regexes stay readable)
        return run
    if not any(ch in _ZH_SCALES for ch in run):
        return "".join(str(_ZH_DIGITS[ch]) for ch in run)  # 一零二四 read digit by digit
    total, section, digit = 0, 0, 0
    for ch in run:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
        elif ch == "万":
            total += max(section + digit, 1) * 10000
            section, digit = 0, 0
        else:
            section += max(digit, 1) * _ZH_SCALES[ch]  # 十 alone is 10
            digit = 0
    return str(total + section + digit)


def _english_words(text: str) -> str:
    """Contractions and number words. Most words need neither: find the few that do (one comprehension),
    then copy the stretches between them as they are."""
    # Translation left no whitespace but spaces and the separators, so split() finds the words; the separator
    # becomes a NUL word (translation maps NULs to spaces) so that it stays a word that breaks number runs.
    words = text.replace(SEPARATOR, " \0 ").split()
    special = [i for i, w in enumerate(words) if w in _SPECIAL_WORDS or "'" in w]
    if special:
        out: list[str] = []
        copied = k = 0  # words[copied:] are still to be copied; special[k] is the next word to change
        while k < len(special):
            i = special[k]
            out.extend(words[copied:i])
            if words[i] in _NUMBER_WORDS:  # a run of consecutive number words is one number
                last = i
                while k + 1 < len(special) and special[k + 1] == last + 1 and words[last + 1] in _NUMBER_WORDS:
                    k, last = k + 1, last + 1
                out.append(_english_number(" ".join(words[i : last + 1])))
                copied = last + 1
            else:
                out.append(_expand_contraction(words[i]))
                copied = i + 1
            k += 1
        out.extend(words[copied:])
        words = out
    joined = " ".join(words).replace("\0", SEPARATOR)
    return joined.replace(" \n ", SEPARATOR).replace("\n ", SEPARATOR).replace(" \n", SEPARATOR)


def normalize(text: str) -> str:
    """Normalise one text (a phrase, a word or an utterance) for matching.

    Args:
        text: any text; newlines are kept as utterance separators.

    Returns:
        The normalised text: lower case, Simplified, half-width, no punctuation, digits for numbers,
        contractions expanded, single spaces between English words and none between Chinese characters.
    """
    ascii_table, table = _tables()
    if "[" in text:  # a redaction placeholder ("[PHONE]") becomes a word no speech can produce ("piiphone")
        text = PLACEHOLDER.sub(_entity_word, text)
    chinese = not text.isascii()
    text = text.translate(table).lower() if chinese else text.lower().translate(ascii_table)
    text = _english_words(text) if _HAS_LATIN.search(text) else _SPACE_RUN.sub(" ", text)
    if chinese:  # skipped for English calls: every step costs a pass over the call
        text = _ZH_NUMBER_RUN.sub(_chinese_number, text)
        text = _CJK_GAP.sub("", text)
    elif _DIGIT_SPACE.search(text):
        text = _DIGIT_GAP.sub(r"\1", text)
    return text.replace(" \n", SEPARATOR).replace("\n ", SEPARATOR).strip(" ")


def _entity_word(m: re.Match[str]) -> str:
    return f" pii{m.group(0)[1:-1].lower()} "


def normalize_many(texts: Sequence[str]) -> list[str]:
    """Normalise several texts in one pass (the texts must not contain newlines; they are replaced)."""
    if not texts:
        return []
    joined = SEPARATOR.join(t.replace(SEPARATOR, " ") for t in texts)
    return normalize(joined).split(SEPARATOR)


def is_cjk(ch: str) -> bool:
    """True for a Chinese character (of a string: its first character)."""
    c = ch[:1]  # comparisons, not a regex: this runs for every word quoted in evidence
    return "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" or "\uf900" <= c <= "\ufaff"


def at_word_boundary(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` does not cut an English word or a number in two."""
    left_ok = start == 0 or text[start - 1] not in _LATIN_OR_DIGIT or text[start] not in _LATIN_OR_DIGIT
    right_ok = end >= len(text) or text[end] not in _LATIN_OR_DIGIT or text[end - 1] not in _LATIN_OR_DIGIT
    return left_ok and right_ok


def changed_characters(pattern: str) -> list[tuple[int, str, str]]:
    """Characters of a regular expression that normalisation would change, with what they become.

    Regexes run on normalised text, so an upper-case letter, a Traditional or full-width character or a
    Chinese numeral in a pattern can never match. Escapes (``\\D``, ``\\S``…) are skipped.

    Returns:
        (offset, character, replacement) for each offending character.
    """
    out: list[tuple[int, str, str]] = []
    escaped, in_class = False, False
    for i, ch in enumerate(pattern):
        if escaped:
            escaped = False
            continue
        if ch == "\\":
            escaped = True
            continue
        if ch in "[]":
            in_class = ch == "["
            continue
        if ch.isascii() and not ch.isalpha():
            continue  # regex syntax and digits
        range_end = in_class and ("-" in (pattern[i - 1 : i], pattern[i + 1 : i + 2]))
        if range_end:
            continue  # [一-龥]: a range bound, not a character to match
        norm = normalize(ch)
        if norm != ch:
            out.append((i, ch, norm))
    return out


# Homophones. Telephone audio and the recogniser swap characters that sound alike (少等 for 稍等, 公号 for
# 工号, 在见 for 再见, 来店 for 来电), usually with confident word probabilities. Mandarin phrases are
# therefore matched "by sound": every Chinese character is replaced by one representative of its toneless
# pinyin syllable (its most common reading, from pypinyin's dictionary), on both the phrase and the
# transcript. The fold keeps the length, so positions found in folded text are positions in the text.
# Tones are dropped because they are what a narrow-band line loses first and what the recogniser's
# language model overrides; different syllables never match.


@functools.cache
def _sound_table() -> dict[int, str]:
    from pypinyin.pinyin_dict import pinyin_dict  # a plain dict of code point → "shǎo,shào"

    def plain(reading: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))

    # Representatives from the common block first, so a folded character stays inside [一-鿿] and regex
    # ranges over Chinese characters keep working.
    codes = sorted(c for c in pinyin_dict if 0x3400 <= c <= 0x9FFF)
    codes.sort(key=lambda c: c < 0x4E00)
    first: dict[str, str] = {}
    table: dict[int, str] = {}
    for code in codes:
        representative = first.setdefault(plain(pinyin_dict[code].split(",")[0]), chr(code))
        if representative != chr(code):
            table[code] = representative
    return table


@functools.cache
def _sound_array() -> npt.NDArray[np.uint32]:
    """:func:`_sound_table` as an array indexed by code point (every character below the table's end)."""
    table = _sound_table()
    array = np.arange(max(table, default=0) + 1, dtype=np.uint32)
    for code, representative in table.items():
        array[code] = ord(representative)
    return array


FOLD_BY_ARRAY = 256  # from this length a call's text is folded through the array (str.translate: ~40 ns a char)


def sound_fold(text: str) -> str:
    """Replace each Chinese character by its homophone representative (same length; ASCII untouched)."""
    if text.isascii():
        return text
    if len(text) < FOLD_BY_ARRAY:
        return text.translate(_sound_table())
    # A whole call: its code points as an array, looked up in one step (the same mapping; docs/checklists.md).
    table = _sound_array()
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    inside = codes < len(table)
    folded = np.where(inside, table[np.where(inside, codes, 0)], codes)
    return folded.tobytes().decode("utf-32-le", "surrogatepass")


def sound_fold_regex(pattern: str) -> str:
    """Fold the Chinese characters a regular expression matches, so it runs on :func:`sound_fold` text.

    Bounds of a character range (``[一-鿿]``) stay as written; every other Chinese character in the pattern
    is a literal (or a member of a class) and is folded like the text.
    """
    if pattern.isascii():
        return pattern
    table = _sound_table()
    out, escaped, in_class = [], False, False
    for i, ch in enumerate(pattern):
        if escaped or ch == "\\":
            escaped = not escaped and ch == "\\"
            out.append(ch)
            continue
        if ch in "[]":
            in_class = ch == "["
        range_bound = in_class and "-" in (pattern[i - 1 : i], pattern[i + 1 : i + 2])
        out.append(ch if range_bound else ch.translate(table))
    return "".join(out)
