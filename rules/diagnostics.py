"""Validation errors that point at the checklist file: ``file:line:column``, the line, a caret, a fix."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from core.errors import CallQAError

SCHEMA_PATH = Path(__file__).with_name("schema.json")


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in one checklist file (line and column are 1-based)."""

    file: str
    line: int
    column: int
    message: str
    source_line: str = ""

    def render(self) -> str:
        head = f"{self.file}:{self.line}:{self.column}: error: {self.message}"
        if not self.source_line:
            return head
        gutter = f"{self.line:>5} | "
        caret = " " * (len(gutter) - 2) + "| " + " " * (self.column - 1) + "^"
        return f"{head}\n{gutter}{self.source_line}\n{caret}"


class ChecklistError(CallQAError):
    """One or more checklists are invalid; nothing of them is applied. ``diagnostics`` lists every problem."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        files = len({d.file for d in diagnostics})
        summary = f"{len(diagnostics)} error(s) in {files} checklist file(s); nothing was applied"
        super().__init__("\n".join([*(d.render() for d in diagnostics), summary]))


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` — did you mean 'x'?`` for the closest choice, or the list of choices."""
    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f" — did you mean '{close[0]}'?"
    return f"; expected one of: {', '.join(options)}" if options else ""


class Locator:
    """Turns a path of keys and indices in a ruamel.yaml document into a line and column."""

    def __init__(self, file: str, text: str, root: Any) -> None:
        self.file = file
        self.lines = text.splitlines()
        self.root = root

    def at(self, path: Sequence[str | int], message: str, *, key: bool = False, offset: int = 0) -> Diagnostic:
        """A diagnostic at the node ``path`` leads to (at its key when ``key``), ``offset`` columns in."""
        line, column = self.position(path, key=key)
        source = self.lines[line] if 0 <= line < len(self.lines) else ""
        return Diagnostic(self.file, line + 1, column + 1 + offset, message, source)

    def position(self, path: Sequence[str | int], *, key: bool = False) -> tuple[int, int]:
        node, line, column = self.root, 0, 0
        for depth, step in enumerate(path):
            last = depth == len(path) - 1
            lc = getattr(node, "lc", None)
            if lc is None:
                break
            try:
                if isinstance(step, int):
                    line, column = lc.item(step)
                else:
                    line, column = lc.key(step) if (last and key) else lc.value(step)
            except (KeyError, IndexError, TypeError):
                line, column = lc.line, lc.col
                break
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                break
        else:
            if not path:
                lc = getattr(node, "lc", None)
                if lc is not None:
                    line, column = lc.line, lc.col
        return line, column


@cache
def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return data


_DEF_HINTS = {
    "example": "an example is a list of 'AGENT: …' / 'CUSTOMER: …' lines (or {role, text, start…} objects), "
    "or {transcript: [...], metadata: {...}, metrics: {...}}",
    "condition": "a condition has exactly one of: all, any, not, says, repeats, ref, metadata, metric",
    "window": "a window has one or more of: first_seconds, last_seconds, first_utterances, last_utterances, "
    "first_percent, last_percent",
    "metadata": "a metadata test is {field: …, equals | in | at_least | at_most: …}",
    "metric": "a metric test is {name: …, at_least and/or at_most: …}",
    "within": "within needs 'after' or 'before' (a name under 'define') and 'turns' and/or 'seconds'",
}


def _def_name(subschema: Any) -> str:
    for name, definition in schema()["$defs"].items():
        if definition is subschema:
            return name
    return ""


def schema_diagnostics(locator: Locator, data: Any) -> list[Diagnostic]:
    """Every JSON-Schema violation in a checklist, as diagnostics with a suggested fix."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    out = []
    for error in validator.iter_errors(data):
        out.extend(_translate(locator, error))
    return out


def _translate(locator: Locator, error: Any) -> list[Diagnostic]:
    path = list(error.absolute_path)
    kind, value, subschema = error.validator, error.instance, error.schema
    definition = _def_name(subschema)
    if kind == "additionalProperties":
        known = list(subschema.get("properties", {}))
        what = "condition" if definition == "condition" else "key"
        return [locator.at([*path, k], f"unknown {what} '{k}'{suggest(str(k), known)}", key=True)
                for k in value if k not in known]  # fmt: skip
    if kind == "required":
        missing = error.message.split("'")[1]
        where = f" in {path[-2]} #{path[-1] + 1}" if len(path) >= 2 and isinstance(path[-1], int) else ""
        return [locator.at(path, f"missing '{missing}'{where}: add '{missing}:' here")]
    if kind in ("minProperties", "maxProperties") and definition in _DEF_HINTS:
        found = ", ".join(str(k) for k in value) or "nothing"
        return [locator.at(path, f"{_DEF_HINTS[definition]}; found: {found}")]
    if kind == "enum":
        choices = [str(c) for c in error.validator_value]
        return [locator.at(path, f"'{value}' is not allowed here{suggest(str(value), choices)}")]
    if kind == "type":
        wanted = error.validator_value if isinstance(error.validator_value, str) else " or ".join(error.validator_value)
        return [locator.at(path, f"expected {wanted}, got {json.dumps(value, ensure_ascii=False)[:40]}")]
    if kind == "pattern":
        fixed = "".join(c if c.isalnum() else "_" for c in str(value).lower()).strip("_") or "name"
        return [locator.at(path, f"'{value}' is not a valid id: use lower case letters, digits and _ (e.g. '{fixed}')")]
    if kind in ("minimum", "maximum", "exclusiveMinimum"):
        sign = {"minimum": "≥", "maximum": "≤", "exclusiveMinimum": ">"}[kind]
        return [locator.at(path, f"{value} is out of range: must be {sign} {error.validator_value}")]
    if kind in ("minItems", "minLength"):
        return [locator.at(path, "must not be empty")]
    if kind == "oneOf" and definition in _DEF_HINTS:
        return [locator.at(path, _DEF_HINTS[definition])]
    if kind in ("oneOf", "anyOf") and error.context:
        best = min(error.context, key=lambda e: len(list(e.relative_schema_path)))
        return _translate(locator, best)
    return [locator.at(path, error.message)]
