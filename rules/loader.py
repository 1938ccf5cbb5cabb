"""Load checklists: parse YAML with positions, validate against the schema, lint, compile.

Validation collects every problem in every file before failing once (:class:`ChecklistError`), so an
author fixes a whole batch per run and a checklist with any error is never half-applied.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from core.errors import CallQAError
from core.pii import PiiKind
from core.scorecard import DEFAULT_BANDS, Band
from core.transcript_io import parse_role_line
from core.types import CallMetadata, Role, Transcript, Utterance
from rules import metrics as metric_registry
from rules.diagnostics import ChecklistError, Diagnostic, Locator, schema_diagnostics, suggest
from rules.echo import EchoMatcher
from rules.match_base import Matcher, PhraseBook
from rules.matching import make_matcher
from rules.model import (
    ROLE_ANCHORS,
    AllOf,
    AnyOf,
    Checklist,
    Condition,
    Example,
    Item,
    MetadataTest,
    MetricTest,
    Not,
    ReviewPolicy,  # fmt: skip
    Says,
    Section,
    Window,
    Within,
)
from rules.normalize import changed_characters, is_cjk, normalize

CHECKLIST_DIR = Path(__file__).with_name("checklists")
MIN_EXAMPLES = 2  # must-pass and must-fail examples every item needs
_FUZZY_MIN = {"cjk": 3, "latin": 6}  # shorter phrases match noise when fuzzy
_NUMERIC_FIELDS = {"duration"}
_EXPECT = {"pass": "pass", "fail": "fail", "na": "n/a", "uncertain": "uncertain", "todo": "fail"}

Path_ = Sequence[str | int]


def shipped_checklist(language: str) -> Path:
    """The shipped service checklist for a language (``zh`` or ``en``)."""
    path = CHECKLIST_DIR / f"service_{language}.yaml"
    if not path.is_file():
        raise CallQAError(f"no shipped checklist for language {language!r}; pass --checklist FILE")
    return path


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and the ``*.yaml``/``*.yml`` files under directories named."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted([*p.rglob("*.yaml"), *p.rglob("*.yml")]))
        else:
            out.append(p)
    return out


def check(paths: Iterable[str | Path]) -> tuple[list[Checklist], list[Diagnostic]]:
    """Validate every file; returns the checklists that compiled and every problem found in all files."""
    checklists: list[Checklist] = []
    diagnostics: list[Diagnostic] = []
    seen: dict[str, tuple[str, int]] = {}
    for path in expand(paths):
        checklist, problems, id_line = _load_one(path)
        diagnostics.extend(problems)
        if checklist is None:
            continue
        if checklist.id in seen:
            other, other_line = seen[checklist.id]
            line_text = _line_of(path, id_line)
            diagnostics.append(Diagnostic(str(path), id_line, line_text.find(checklist.id) + 1,
                                          f"duplicate checklist id '{checklist.id}' (also in {other}:{other_line}): "
                                          "rename one", line_text))  # fmt: skip
            continue
        seen[checklist.id] = (str(path), id_line)
        checklists.append(checklist)
    return checklists, sorted(diagnostics, key=lambda d: (d.file, d.line, d.column))


def load_checklists(paths: Iterable[str | Path]) -> list[Checklist]:
    """Load and validate checklists; raises :class:`ChecklistError` listing every problem in every file."""
    checklists, diagnostics = check(paths)
    if diagnostics:
        raise ChecklistError(diagnostics)
    return checklists


def load_checklist(path: str | Path) -> Checklist:
    """Load one checklist file (raises :class:`ChecklistError`)."""
    return load_checklists([path])[0]


def _line_of(path: Path, line: int) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""


def checklist_from_text(text: str, source: str) -> Checklist:
    """A checklist from its YAML text (a stored copy; ``source`` names it in errors; raises ChecklistError)."""
    checklist, problems, _ = _load_text(Path(source), text)
    if checklist is None:
        raise ChecklistError(problems)
    return checklist


def _load_one(path: Path) -> tuple[Checklist | None, list[Diagnostic], int]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Diagnostic(str(path), 1, 1, f"cannot read the file: {exc}")], 0
    return _load_text(path, text)


def _load_text(path: Path, text: str) -> tuple[Checklist | None, list[Diagnostic], int]:
    try:
        data = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line, mark.column) if mark is not None else (0, 0)
        source = text.splitlines()[line] if line < len(text.splitlines()) else ""
        problem = f"{exc.problem or ''} {exc.context or ''}".strip()
        return None, [Diagnostic(str(path), line + 1, column + 1, f"not valid YAML: {problem}", source)], 0
    locator = Locator(str(path), text, data)
    if not isinstance(data, dict):
        return None, [locator.at([], "a checklist is a mapping with id, version, title, language, sections")], 0
    problems = schema_diagnostics(locator, data)
    if problems:
        return None, problems, 0
    compiler = _Compiler(path, locator, data)
    checklist = compiler.compile()
    return (checklist if not compiler.problems else None), compiler.problems, locator.position(["id"])[0] + 1


def content_hash(data: Mapping[str, Any]) -> str:
    """sha256 of the checklist's canonical JSON without examples: what decides scores, not its layout."""

    def strip(node: Any) -> Any:
        if isinstance(node, Mapping):
            return {str(k): strip(v) for k, v in node.items() if k != "examples"}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    canonical = json.dumps(strip(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _translated(raw: Mapping[str, Any], key: str) -> dict[str, str]:
    """``key`` of a node's ``translations`` by language (the schema allows zh and en)."""
    return {str(language): str(texts[key]).strip() for language, texts in (raw.get("translations") or {}).items()
            if key in texts}


class _Compiler:
    """Builds the model from schema-valid data, recording semantic problems (lints) as it goes."""

    def __init__(self, path: Path, locator: Locator, data: Mapping[str, Any]) -> None:
        self.path, self.locator, self.data = path, locator, data
        self.problems: list[Diagnostic] = []
        self.defines: dict[str, Says] = {}
        self.book = PhraseBook()  # every exact phrase of the checklist: one pass per call finds them all
        # normalised phrase -> (polarity, roles, path) of each use, for the required-and-banned lint
        self.uses: dict[str, list[tuple[str, str, list[str | int]]]] = {}

    def error(self, path: Path_, message: str, *, key: bool = False, offset: int = 0) -> None:
        self.problems.append(self.locator.at(path, message, key=key, offset=offset))

    def compile(self) -> Checklist:
        data = self.data
        for name, raw in (data.get("define") or {}).items():
            if name in ROLE_ANCHORS:
                self.error(["define", name], f"'{name}' names a party (within: {{after: {name}}} means after they "
                           "spoke): choose another name", key=True)  # fmt: skip
            self.defines[name] = self._says(raw, ["define", name], name=name)
        for name, raw in (data.get("define") or {}).items():
            self._check_within(raw, ["define", name])
        sections = tuple(self._section(raw, ["sections", i]) for i, raw in enumerate(data["sections"]))
        self._lint_ids(sections)
        self._lint_weights(sections)
        self._lint_required_and_banned()
        review = ReviewPolicy(**dict(data.get("review") or {}))
        bands = tuple(Band(str(b["name"]), float(b["min"])) for b in data.get("bands") or []) or DEFAULT_BANDS
        language = data["language"]
        return Checklist(
            id=str(data["id"]),
            version=str(data["version"]),
            title=str(data["title"]),
            languages=tuple(language) if isinstance(language, list) else (str(language),),
            sections=sections,
            bands=bands,
            review=review,
            path=str(self.path),
            content_hash=content_hash(data),
            defines=self.defines,
            hints=tuple(str(h) for h in data.get("hints") or ()),
            titles=_translated(data, "title"),
            band_names={str(b["name"]): {str(k): str(v) for k, v in (b.get("translations") or {}).items()}
                        for b in data.get("bands") or []},
        )

    def _section(self, raw: Mapping[str, Any], path: list[str | int]) -> Section:
        items = tuple(self._item(item, [*path, "items", i], str(raw["id"])) for i, item in enumerate(raw["items"]))
        return Section(str(raw["id"]), str(raw["title"]), float(raw["weight"]), items, _translated(raw, "title"))

    def _item(self, raw: Mapping[str, Any], path: list[str | int], section: str) -> Item:
        if not str(raw["message"]).strip():
            self.error([*path, "message"], "empty message: say what was missed, why it matters and what to say "
                       "instead (an agent reads it)")  # fmt: skip
        condition = self._condition(raw["condition"], [*path, "condition"], "+")
        applies = raw.get("applies_when")
        applies_when = self._condition(applies, [*path, "applies_when"], "") if applies is not None else None
        unsure = raw.get("uncertain_when")
        uncertain_when = self._condition(unsure, [*path, "uncertain_when"], "") if unsure is not None else None
        examples = self._examples(raw["examples"], [*path, "examples"])
        return Item(str(raw["id"]), str(raw["title"]), section, float(raw["points"]), bool(raw.get("veto", False)),
                    str(raw["message"]).strip(), condition, applies_when, examples, uncertain_when,
                    _translated(raw, "title"), _translated(raw, "message"))  # fmt: skip

    def _condition(self, raw: Mapping[str, Any], path: list[str | int], polarity: str) -> Condition:
        (kind, value), = raw.items()
        here = [*path, kind]
        if kind in ("all", "any"):
            parts = tuple(self._condition(p, [*here, i], polarity) for i, p in enumerate(value))
            return AllOf(parts) if kind == "all" else AnyOf(parts)
        if kind == "not":
            flipped = {"+": "-", "-": "+"}.get(polarity, "")
            return Not(self._condition(value, here, flipped))
        if kind == "ref":
            if value not in self.defines:
                self.error(here, f"no predicate named '{value}' under 'define'{suggest(value, self.defines)}")
                return AllOf(())
            self._record_uses(self.defines[value], polarity, here)
            return self.defines[value]
        if kind == "says":
            says = self._says(value, here)
            self._check_within(value, here)
            self._record_uses(says, polarity, here)
            return says
        if kind == "repeats":
            windows = self._windows(value.get("window"), [*here, "window"])
            return Says(role=str(value.get("role", "agent")), match="echo", phrases=(),
                        matcher=EchoMatcher(int(value.get("min_words", 2))), at_least=int(value.get("at_least", 1)),
                        windows=windows)  # fmt: skip
        if kind == "metadata":
            return self._metadata(value, here)
        return self._metric(value, here)

    def _says(self, raw: Mapping[str, Any], path: list[str | int], name: str = "") -> Says:
        match = str(raw.get("match", "exact"))
        if "entity" in raw:
            # Personal data said: the placeholders the redaction stage leaves ("[PHONE]"), matched exactly.
            if match != "exact":
                self.error([*path, "match"], f"'entity' is matched exactly (the stored placeholder); drop "
                           f"'match: {match}'")  # fmt: skip
            raw = {**raw, "phrases": [PiiKind(str(e).upper()).placeholder for e in raw["entity"]]}
        phrases = [str(p) for p in raw["phrases"]]
        threshold = raw.get("threshold")
        self._lint_phrases(match, phrases, threshold, [*path, "phrases"], [*path, "threshold"])
        at_least = int(raw.get("at_least", 0 if "at_most" in raw else 1))
        at_most = raw.get("at_most")
        if at_most is not None and at_least > int(at_most):
            self.error([*path, "at_least"], f"at_least {at_least} > at_most {at_most}: this can never match")
        if at_least == 0 and at_most is None:
            self.error([*path, "at_least"], "at_least 0 with no at_most is always true: use at_least ≥ 1 or "
                       "set at_most")  # fmt: skip
        windows = self._windows(raw.get("window"), [*path, "window"])
        unless_raw = [str(u) for u in raw.get("unless") or []]
        unless = make_matcher("exact", unless_raw, None, self.book) if unless_raw else None
        for i, phrase in enumerate(unless_raw):
            if not normalize(phrase):
                self.error([*path, "unless", i], f"'{phrase}' is empty after normalisation (only punctuation)")
        if match == "exact":
            overlap = {normalize(p) for p in phrases} & {normalize(u) for u in unless_raw}
            for phrase in sorted(overlap):
                self.error([*path, "unless"], f"'{phrase}' is both a phrase and an 'unless' exclusion: it can never "
                           "match; remove it from one list")  # fmt: skip
        within = None
        if raw.get("within") is not None:
            w = raw["within"]
            direction = "after" if "after" in w else "before"
            within = Within(
                str(w.get(direction, "")), direction, w.get("turns"), w.get("seconds"), bool(w.get("each", False))
            )
        matcher = self._matcher(match, phrases, threshold, [*path, "phrases"])
        return Says(role=str(raw.get("role", "any")), match=match, phrases=tuple(phrases), matcher=matcher,
                    unless=unless, unless_seconds=float(raw.get("unless_seconds", 0.0)), at_least=at_least,
                    at_most=None if at_most is None else int(at_most), windows=windows, within=within,
                    gap_after=None if raw.get("gap_after") is None else float(raw["gap_after"]),
                    name=name)  # fmt: skip

    def _matcher(self, match: str, phrases: list[str], threshold: Any, path: list[str | int]) -> Matcher:
        if match == "regex":
            valid = []
            for i, pattern in enumerate(phrases):
                try:
                    compiled = re.compile(pattern)
                except re.error as exc:
                    offset = self._quote_offset([*path, i]) + (exc.pos or 0)
                    self.error([*path, i], f"regex does not compile: {exc.msg} at position {exc.pos}: fix the "
                               f"pattern {pattern!r}", offset=offset)  # fmt: skip
                    continue
                if _matches_nothing_at_all(compiled):
                    self.error([*path, i], f"regex {pattern!r} can match empty text, so it would count as said in "
                               "every utterance: make at least one part of it required (e.g. 'okay' instead of "
                               "'(okay)?')", offset=self._quote_offset([*path, i]))  # fmt: skip
                    continue
                valid.append(pattern)
            phrases = valid
        return make_matcher(match, phrases, None if threshold is None else float(threshold), self.book)

    def _quote_offset(self, path: list[str | int]) -> int:
        line, column = self.locator.position(path)
        source = self.locator.lines[line] if line < len(self.locator.lines) else ""
        return 1 if column < len(source) and source[column] in "'\"" else 0

    def _lint_phrases(self, match: str, phrases: list[str], threshold: Any, path: Path_, tpath: Path_) -> None:
        if match == "similar" and threshold is not None and float(threshold) > 1:
            self.error(tpath, f"similar thresholds are cosines between 0 and 1, got {threshold} (try 0.9)")
        if match == "fuzzy" and threshold is not None and float(threshold) <= 1:
            self.error(tpath, f"fuzzy thresholds are 0–100, got {threshold} (try 85)")
        seen: dict[str, int] = {}
        for i, phrase in enumerate(phrases):
            if match == "regex":
                for offset, ch, norm in changed_characters(phrase):
                    self.error([*path, i], f"regex has '{ch}', which normalisation turns into '{norm}': regexes run "
                               f"on normalised text, write '{norm}'",
                               offset=self._quote_offset([*path, i]) + offset)  # fmt: skip
                continue
            norm = normalize(phrase)
            if not norm:
                self.error([*path, i], f"'{phrase}' is empty after normalisation (only punctuation): remove it")
                continue
            if norm in seen and match != "similar":
                self.error([*path, i], f"'{phrase}' repeats phrase #{seen[norm] + 1} (same after normalisation)")
            seen.setdefault(norm, i)
            if match == "fuzzy":
                kind = "cjk" if is_cjk(norm[0]) else "latin"
                if len(norm.replace(" ", "")) < _FUZZY_MIN[kind]:
                    self.error([*path, i], f"'{phrase}' is too short to match fuzzily (it would match noise): "
                               "use match: exact for it")  # fmt: skip

    def _windows(self, raw: Mapping[str, Any] | None, path: list[str | int]) -> tuple[Window, ...]:
        out = []
        for kind, size in (raw or {}).items():
            size = float(size)
            if size <= 0:
                self.error([*path, kind], f"{kind}: {size:g} can never match: use a positive size")
            elif kind.endswith("percent") and size > 100:
                self.error([*path, kind], f"{kind}: {size:g} is more than the whole call: use 1–100")
            out.append(Window(str(kind), size))
        return tuple(out)

    def _check_within(self, raw: Mapping[str, Any], path: list[str | int]) -> None:
        w = raw.get("within")
        if w is None:
            return
        here = [*path, "within"]
        if ("after" in w) == ("before" in w):
            self.error(here, "within needs exactly one of 'after' or 'before' (a name under 'define')")
            return
        if "turns" not in w and "seconds" not in w:
            self.error(here, "within needs 'turns' and/or 'seconds': how close the phrase must be")
        anchor = str(w.get("after", w.get("before")))
        key = "after" if "after" in w else "before"
        if anchor in ROLE_ANCHORS:
            return
        if anchor not in self.defines:
            self.error([*here, key], f"no predicate named '{anchor}' under 'define'{suggest(anchor, self.defines)}")
        elif self.defines[anchor].within is not None:
            self.error([*here, key], f"'{anchor}' has a 'within' of its own: anchor on a plain predicate")

    def _metadata(self, raw: Mapping[str, Any], path: list[str | int]) -> MetadataTest:
        field = str(raw["field"])
        op = next(k for k in raw if k != "field")
        if op in ("at_least", "at_most") and field not in _NUMERIC_FIELDS:
            self.error([*path, op], f"'{field}' is text: compare it with equals or in")
        value = tuple(raw[op]) if op == "in" else raw[op]
        return MetadataTest(field, op, value)

    def _metric(self, raw: Mapping[str, Any], path: list[str | int]) -> MetricTest:
        name = str(raw["name"])
        if name not in metric_registry.REGISTRY:
            self.error([*path, "name"], f"unknown metric '{name}'{suggest(name, metric_registry.REGISTRY)}")
        low, high = raw.get("at_least"), raw.get("at_most")
        if low is not None and high is not None and float(low) > float(high):
            self.error([*path, "at_least"], f"at_least {low} > at_most {high}: this can never match")
        return MetricTest(name, None if low is None else float(low), None if high is None else float(high))

    def _record_uses(self, says: Says, polarity: str, path: list[str | int]) -> None:
        if says.match != "exact" or not polarity:
            return
        banned = polarity == "-" or says.at_most == 0
        if not banned and polarity == "-":
            return
        for phrase in says.phrases:
            self.uses.setdefault(normalize(phrase), []).append(("-" if banned else "+", says.role, path))

    def _lint_required_and_banned(self) -> None:
        for phrase, uses in self.uses.items():
            required = [u for u in uses if u[0] == "+"]
            for _, role, path in (u for u in uses if u[0] == "-"):
                clash = next((r for r in required if "any" in (role, r[1]) or role == r[1]), None)
                if clash is not None:
                    line = self.locator.position(clash[2])[0] + 1
                    self.error(path, f"'{phrase}' is required (line {line}) and banned here for the same speaker: "
                               "remove it from one of them")  # fmt: skip

    def _lint_ids(self, sections: Sequence[Section]) -> None:
        seen: dict[str, str] = {}
        for s_index, section in enumerate(sections):
            entries: list[tuple[str, str, list[str | int]]] = [(f"section #{s_index + 1}", section.id,
                                                                ["sections", s_index, "id"])]  # fmt: skip
            for i, item in enumerate(section.items):
                where: list[str | int] = ["sections", s_index, "items", i, "id"]
                entries.append((f"item #{i + 1} of section '{section.id}'", item.id, where))
            for kind, ident, path in entries:
                if ident in seen:
                    self.error(path, f"duplicate id '{ident}' (already the id of {seen[ident]}): ids must be unique "
                               "in a checklist")  # fmt: skip
                seen[ident] = kind

    def _lint_weights(self, sections: Sequence[Section]) -> None:
        total = sum(s.weight for s in sections)
        if abs(total - 100.0) > 1e-6:
            weights = " + ".join(f"{s.weight:g}" for s in sections)
            self.error(["sections"], f"section weights add up to {total:g} ({weights}), not 100: adjust them",
                       key=True)  # fmt: skip

    def _examples(self, raw: Mapping[str, Any], path: list[str | int]) -> tuple[Example, ...]:
        out = []
        for group, entries in raw.items():
            for i, entry in enumerate(entries):
                example = self._example(entry, [*path, group, i], group)
                if example is not None:
                    out.append(example)
        for group in ("pass", "fail"):
            count = len(raw.get(group) or [])
            if count < MIN_EXAMPLES:
                self.error(path, f"{count} must-{group} example(s): every item needs at least {MIN_EXAMPLES} under "
                           f"'{group}:'", key=True)  # fmt: skip
        return tuple(out)

    def _example(self, raw: Any, path: list[str | int], group: str) -> Example | None:
        lines = raw if isinstance(raw, list) else raw["transcript"]
        lines_path = path if isinstance(raw, list) else [*path, "transcript"]
        extra: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        utterances: list[Utterance] = []
        for k, line in enumerate(lines):
            try:
                utterances.append(_example_utterance(line, utterances[-1].end if utterances else 0.0))
            except CallQAError as exc:
                self.error([*lines_path, k], str(exc).split(": ", 1)[-1])
                return None
        if not utterances:
            self.error(path, "an example needs at least one line")
            return None
        metadata_raw = dict(extra.get("metadata") or {})
        known = {"agent_id", "team", "queue", "direction", "hangup_by", "language", "customer_number", "external_id"}
        for key in metadata_raw:
            if key not in known:
                self.error([*path, "metadata", key], f"unknown metadata field '{key}'{suggest(key, known)}", key=True)
                return None
        duration = float(extra.get("duration", utterances[-1].end))
        transcript = Transcript(tuple(utterances), duration, "zh" if any(is_cjk(c) for u in utterances
                                                                          for c in u.text) else "en")  # fmt: skip
        values: dict[str, Any] = {k: str(v) for k, v in metadata_raw.items()}
        metadata = CallMetadata(**values, source="example")
        expect = str(extra.get("expect", _EXPECT[group]))
        line = self.locator.position(path)[0] + 1
        metrics = {str(k): float(v) for k, v in (extra.get("metrics") or {}).items()}
        return Example(expect, group == "todo", transcript, metadata, metrics, line)


def transcript_from_lines(lines: Sequence[Any], duration: float | None = None) -> Transcript:
    """A transcript from example lines ('AGENT: …' strings, 3 s each, or {role, text, start…} mappings)."""
    utterances: list[Utterance] = []
    for line in lines:
        utterances.append(_example_utterance(line, utterances[-1].end if utterances else 0.0))
    end = duration if duration is not None else (utterances[-1].end if utterances else 0.0)
    language = "zh" if any(is_cjk(c) for u in utterances for c in u.text) else "en"
    return Transcript(tuple(utterances), end, language)


def _example_utterance(line: Any, previous_end: float) -> Utterance:
    """An example line: 'AGENT: text' (3 s after the previous line) or {role, text, start, end, confidence…}."""
    if isinstance(line, str):
        role, text = parse_role_line(line, "example")
        return Utterance(previous_end, previous_end + 3.0, text, role, role_confidence=1.0)
    start = float(line.get("start", previous_end))
    end = float(line.get("end", start + 3.0))
    if end < start:
        raise CallQAError(f"example: end {end:g} is before start {start:g}")
    return Utterance(start, end, str(line["text"]), Role(str(line["role"])),
                     role_confidence=float(line.get("role_confidence", 1.0)),
                     confidence=float(line.get("confidence", 1.0)))  # fmt: skip


# Texts on which a regex that can match the empty string shows it (an empty match at the start, at a word
# boundary or between characters of either script).
_EMPTY_PROBES = ("", " ", "a", "a b", "你", "你 好", "0")


def _matches_nothing_at_all(compiled: re.Pattern[str]) -> bool:
    """Whether the regex matches an empty stretch of some ordinary text (``(okay)?``, ``x*``, ``^``)."""
    for text in _EMPTY_PROBES:
        for found in compiled.finditer(text):
            if found.start() == found.end():
                return True
    return False
