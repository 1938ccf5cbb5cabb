"""Lexicon cues of emotion: phrases that are strong evidence on their own (insults, threats to complain or
cancel, 投诉, 12315, praise …), each with a class and a weight in log-odds units.

The file format is ``data/emotion/lexicon.yaml``'s: ``<class>: <category>: <en|zh>: {phrase: weight}``.
Matching follows that file's header: text is lower-cased, Traditional characters become Simplified,
punctuation becomes a space and spaces between Han characters are dropped (recognisers insert them);
English phrases match whole words, Mandarin phrases anywhere; where two matches overlap only the longest
counts ("thanks for nothing" is angry, not the "thanks" inside it; 不满意 is not 满意), and each phrase counts
once per utterance.

The packaged default (``models/assets/emotion_lexicon.yaml``) is the *fair* part of the authored lexicon:
see docs/emotion.md and ``tools/emotion/tune.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from core.errors import ConfigError
from models.emotion import LABELS
from pipeline.textnorm import to_simplified

PACKAGED_LEXICON = "emotion_lexicon.yaml"
LANGUAGES = ("en", "zh")
MAX_WEIGHT = 5.0

_NON_WORD = re.compile(r"[^\w']+")
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_GAP = re.compile(rf"(?<=[{_HAN}]) (?=[{_HAN}])")


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    """One phrase of the lexicon (``phrase`` in matching form, see :func:`normalise`)."""

    phrase: str
    label: str
    weight: float
    category: str
    language: str


def normalise(text: str) -> str:
    """The matching form of ``text``: lower case, Simplified, words separated by single spaces, padded."""
    text = to_simplified(text.lower().replace("’", "'").replace("‘", "'"))
    text = _NON_WORD.sub(" ", text).strip()
    return " " + _HAN_GAP.sub("", text) + " "


class Lexicon:
    """A set of phrases with classes and weights, and the matcher of the module docstring.

    Args:
        entries: the phrases; the same matching form twice keeps the larger weight.
        source: where they came from, recorded with results.
    """

    def __init__(self, entries: Sequence[LexiconEntry], source: str = "") -> None:
        by_phrase: dict[tuple[str, str], LexiconEntry] = {}
        for e in entries:
            key = (e.language, e.phrase)
            if key not in by_phrase or e.weight > by_phrase[key].weight:
                by_phrase[key] = e
        self.entries = tuple(by_phrase.values())
        self.source = source
        self._patterns = [(e, re.compile(re.escape(e.phrase) if e.language == "zh"
                                         else r"(?<= )" + re.escape(e.phrase) + r"(?= )"))
                          for e in self.entries]

    def match(self, text: str) -> tuple[LexiconEntry, ...]:
        """The entries found in ``text``, longest first, overlapping shorter matches dropped."""
        return self.match_normalised(normalise(text))

    def match_normalised(self, norm: str) -> tuple[LexiconEntry, ...]:
        """:meth:`match` on text already in matching form (:func:`normalise`)."""
        hits = [(m.end() - m.start(), m.start(), m.end(), e)
                for e, pattern in self._patterns for m in pattern.finditer(norm)]
        taken: list[tuple[int, int]] = []
        found: dict[tuple[str, str], LexiconEntry] = {}
        for _, start, end, e in sorted(hits, key=lambda h: (-h[0], h[1], h[3].phrase)):
            if all(end <= s or start >= t for s, t in taken):
                taken.append((start, end))
                found.setdefault((e.language, e.phrase), e)
        return tuple(found.values())

    def scores(self, text: str) -> np.ndarray:
        """Summed weights per class (:data:`LABELS` order) of the phrases found in ``text``."""
        out = np.zeros(len(LABELS))
        for e in self.match(text):
            out[LABELS.index(e.label)] += e.weight
        return out


def read_lexicon(path: str | Path) -> Lexicon:
    """Read a lexicon YAML file.

    Raises:
        ConfigError: the file is missing or malformed; the message names the file, line and what to fix.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the emotion lexicon: {exc.strerror or exc}") from exc
    return parse_lexicon(text, str(path))


def packaged_lexicon() -> Lexicon:
    """The default lexicon that ships inside the package."""
    name = f"models/assets/{PACKAGED_LEXICON}"
    return parse_lexicon((resources.files("models") / "assets" / PACKAGED_LEXICON).read_text(encoding="utf-8"), name)


def parse_lexicon(text: str, where: str) -> Lexicon:
    """Parse lexicon YAML (see the module docstring for the format); errors name ``where`` and the line."""
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of classes ({', '.join(LABELS)}) to categories")
    entries: list[LexiconEntry] = []
    for label, categories in data.items():
        if label == "version":
            continue
        if label not in LABELS:
            raise ConfigError(f"{where}:{_line(data, label)}: unknown class {label!r}; use one of "
                              f"{', '.join(LABELS)} (or version)")
        for category, langs in _mapping(categories, where, data, label).items():
            for lang, phrases in _mapping(langs, where, categories, category).items():
                if lang not in LANGUAGES:
                    raise ConfigError(f"{where}:{_line(langs, lang)}: unknown language {lang!r} under "
                                      f"{label}.{category}; use en or zh")
                for phrase, weight in _mapping(phrases, where, langs, lang).items():
                    entries.append(_entry(phrase, weight, label, str(category), lang, where, phrases))
    return Lexicon(entries, where)


def _entry(phrase: Any, weight: Any, label: str, category: str, lang: str, where: str,
           parent: Any) -> LexiconEntry:
    at = f"{where}:{_line(parent, phrase)}"
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= MAX_WEIGHT:
        raise ConfigError(f"{at}: weight of {phrase!r} must be a number in (0, {MAX_WEIGHT:g}], got {weight!r}")
    norm = normalise(str(phrase)).strip()
    if not norm:
        raise ConfigError(f"{at}: phrase {phrase!r} has no letters or characters to match")
    return LexiconEntry(norm, label, float(weight), category, lang)


def _mapping(value: Any, where: str, parent: Any, key: Any) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}:{_line(parent, key)}: {key!r} must hold a mapping, got {value!r}")
    return value


def _line(mapping: Any, key: Any) -> int:
    """1-based line of ``key`` in a ruamel round-trip mapping (0 when unknown)."""
    try:
        return int(mapping.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return 0
