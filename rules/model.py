"""A compiled checklist: frozen dataclasses built once by the loader, then used to score many calls."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.scorecard import Band
from core.types import CallMetadata, Transcript
from rules.regex_words import example

if TYPE_CHECKING:
    from rules.match_base import Matcher

ROLE_ANCHORS = ("agent", "customer")  # within: {after: customer} = after the customer spoke


@dataclass(frozen=True, slots=True)
class Window:
    """Where in the call a phrase counts: ``kind`` is first/last_seconds, _utterances or _percent; ``size`` is
    its seconds, count or percentage."""

    kind: str
    size: float

    def describe(self) -> str:
        unit = {"seconds": " s", "utterances": " utterances", "percent": " % of the call"}
        edge, what = self.kind.split("_")
        return f"in the {edge} {self.size:g}{unit[what]}"


@dataclass(frozen=True, slots=True)
class Within:
    """A phrase counts only close to another predicate's hits: ``turns`` speaker turns or ``seconds``.

    With both limits, a hit within either counts (a hold can be minutes long but one turn).
    """

    anchor: str  # name of a says-predicate under ``define``, or a party: "agent" / "customer"
    direction: str  # "after" or "before"
    turns: int | None
    seconds: float | None
    each: bool = False  # every anchor needs its own hit ("thank the customer after *every* hold")

    def describe(self) -> str:
        limits = [f"{self.turns} turns" if self.turns is not None else "", f"{self.seconds:g} s" if self.seconds
                  is not None else ""]  # fmt: skip
        every = "every " if self.each else ""
        return f"within {' or '.join(x for x in limits if x)} {self.direction} {every}'{self.anchor}'"


@dataclass(frozen=True, slots=True, eq=False)
class Says:
    """Someone says one of the phrases, a counted number of times, in a part of the call."""

    role: str
    match: str
    phrases: tuple[str, ...]
    matcher: Matcher
    unless: Matcher | None = None
    unless_seconds: float = 0.0
    at_least: int = 1
    at_most: int | None = None
    windows: tuple[Window, ...] = ()  # any of them (none: the whole call)
    within: Within | None = None
    gap_after: float | None = None  # a hit counts only when this much silence follows it (a hold)
    name: str = ""  # the define name, when it came from one

    def describe(self) -> str:
        if self.match == "echo":
            return f"the {self.role} repeats back what the other party just said"
        who = "anyone" if self.role == "any" else f"the {self.role}"
        if self.match == "regex":  # said in words: an example of each pattern, never the pattern itself
            examples = list(dict.fromkeys(example(p) for p in self.phrases))
            shown = "words like " + ", ".join(f'"{shorten(e)}"' for e in examples[:3])
            shown += ", …" if len(examples) > 3 else ""
        else:
            shown = ", ".join(f"'{shorten(p)}'" for p in self.phrases[:3]) + (", …" if len(self.phrases) > 3 else "")
        count = ""
        if self.at_most is not None:
            count = f" at most {self.at_most} times" if self.at_least == 0 else f" {self.at_least}–{self.at_most} times"
        elif self.at_least > 1:
            count = f" at least {self.at_least} times"
        where = " or ".join(w.describe() for w in self.windows)
        if self.within is not None:
            where = f"{where} {self.within.describe()}".strip()
        if self.gap_after is not None:
            where = f"{where} followed by ≥ {self.gap_after:g} s of silence".strip()
        return f"{who} says {shown}{count}{' ' + where if where else ''}"


def shorten(text: str, limit: int = 32) -> str:
    """``text``, cut to ``limit`` characters with an ellipsis: a phrase as a reason quotes it."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class MetadataTest:
    """A test on a field of the call's metadata (or its duration)."""

    field: str
    op: str  # equals, in, at_least, at_most
    value: Any

    def describe(self) -> str:
        return f"{self.field} {self.op.replace('_', ' ')} {self.value}"


@dataclass(frozen=True, slots=True)
class MetricTest:
    """A test on a numeric metric of the call (registered in rules.metrics)."""

    name: str
    at_least: float | None
    at_most: float | None

    def describe(self) -> str:
        parts = [f"≥ {self.at_least:g}" if self.at_least is not None else "",
                 f"≤ {self.at_most:g}" if self.at_most is not None else ""]  # fmt: skip
        return f"{self.name} {' and '.join(p for p in parts if p)}"


@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[Condition, ...]

    def describe(self) -> str:
        return " and ".join(p.describe() for p in self.parts)


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[Condition, ...]

    def describe(self) -> str:
        return " or ".join(p.describe() for p in self.parts)


@dataclass(frozen=True, slots=True)
class Not:
    part: Condition

    def describe(self) -> str:
        return f"not ({self.part.describe()})"


Condition = Says | MetadataTest | MetricTest | AllOf | AnyOf | Not


@dataclass(frozen=True, slots=True)
class Example:
    """An inline example: a short call and the verdict the item must give on it."""

    expect: str  # pass, fail, n/a, uncertain
    todo: bool  # a known gap: reported, not an error
    transcript: Transcript
    metadata: CallMetadata
    metrics: Mapping[str, float]
    line: int  # where it is in the checklist file


@dataclass(frozen=True, slots=True)
class Item:
    """One checklist item."""

    id: str
    title: str
    section_id: str
    points: float
    veto: bool
    message: str
    condition: Condition
    applies_when: Condition | None = None
    examples: tuple[Example, ...] = ()
    uncertain_when: Condition | None = None
    # The title and message in other languages (``translations: {en: {title, message}}``), for pages in them.
    titles: Mapping[str, str] = field(default_factory=dict)
    messages: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    title: str
    weight: float
    items: tuple[Item, ...]
    titles: Mapping[str, str] = field(default_factory=dict)  # the title in other languages


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    """When evidence is too weak to move points.

    Attributes:
        min_word_confidence: a hit whose words' mean probability is lower is unreliable.
        min_role_confidence: an utterance whose role confidence is lower may belong to either party.
        min_window_confidence: a stretch searched in vain whose mean confidence is lower may have hidden the
            phrase: a failure there is uncertain.
    """

    min_word_confidence: float = 0.5
    min_role_confidence: float = 0.6
    min_window_confidence: float = 0.6


@dataclass(frozen=True, slots=True)
class Checklist:
    """A validated checklist, ready to score calls."""

    id: str
    version: str
    title: str
    languages: tuple[str, ...]
    sections: tuple[Section, ...]
    bands: tuple[Band, ...]
    review: ReviewPolicy
    path: str
    content_hash: str
    defines: Mapping[str, Says] = field(default_factory=dict)
    hints: tuple[str, ...] = ()
    titles: Mapping[str, str] = field(default_factory=dict)  # the title in other languages
    band_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # band name → language → name

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for section in self.sections for item in section.items)

    @property
    def uses_similar(self) -> bool:
        """True when some predicate matches by meaning (the embedding model is then loaded on first use)."""
        return any(m.kind == "similar" for m in _matchers(self))

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(f"{self.path}: checklist {self.id} has no item {item_id!r}")


def recogniser_hints(checklists: Iterable[Checklist]) -> dict[str, tuple[str, ...]]:
    """Each language's ``hints`` over the checklists that apply to it, in checklist order, each phrase once."""
    out: dict[str, dict[str, None]] = {}
    for checklist in checklists:
        for language in checklist.languages:
            out.setdefault(language, {}).update(dict.fromkeys(checklist.hints))
    return {language: tuple(phrases) for language, phrases in out.items() if phrases}


def walk(condition: Condition) -> list[Condition]:
    """Every condition in a tree, parents before children."""
    out: list[Condition] = [condition]
    if isinstance(condition, AllOf | AnyOf):
        for part in condition.parts:
            out.extend(walk(part))
    elif isinstance(condition, Not):
        out.extend(walk(condition.part))
    return out


def predicates(checklist: Checklist) -> list[Says]:
    """Every ``says`` predicate of a checklist: its defines, then those of each item's condition and trigger
    (a define referred to by an item appears more than once)."""
    says: list[Says] = list(checklist.defines.values())
    for item in checklist.items:
        for root in (item.condition, item.applies_when, item.uncertain_when):
            if root is not None:
                says.extend(c for c in walk(root) if isinstance(c, Says))
    return says


def _matchers(checklist: Checklist) -> list[Matcher]:
    return [m for s in predicates(checklist) for m in (s.matcher, s.unless) if m is not None]
