"""The ``regex`` matcher: one compiled regex per checklist predicate, skipped on calls without its literals.

Its fast path, and the contract it keeps, is :mod:`rules.literals`: a call none of whose utterances holds a
regex's required literals cannot match it.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator, Sequence

from rules.literals import first_characters, required_literals, starts_at_boundary
from rules.match_base import CallView, Hit, Matcher, PhraseBook, Scope, _drop_overlaps
from rules.normalize import sound_fold_regex

_GROUP_SYNTAX = re.compile(r"\(\?P|\(\?[aiLmsux]|\\[1-9]|\(\?<[a-zA-Z]")


class _Branches:
    """Regexes run as one alternation of named branches (or one regex alone), with the literals each
    branch needs: a call that has none of a branch's literals is searched without that branch."""

    def __init__(self, sources: list[str], bodies: list[tuple[str, bool]], named: bool) -> None:
        self.sources = sources
        self.bodies = [body for body, _ in bodies]
        self.bounded = [bounded for _, bounded in bodies]
        self.named = named
        self.needs = [required_literals(body, re.MULTILINE) for body in self.bodies]
        # a match of the branch counts only at the start of a word (checked after the match, or by \b)
        self.at_word = [
            bounded or starts_at_boundary(body, re.MULTILINE)
            for body, bounded in zip(self.bodies, self.bounded, strict=True)
        ]
        self._compiled: dict[tuple[int, ...], re.Pattern[str]] = {}
        # Which branches can match depends only on which of the group's literals a call has: the regex is
        # kept per such set (a C-level intersection per call instead of a test per branch).
        self._literals = frozenset().union(*(need for need in self.needs if need is not None))
        self._by_found: dict[frozenset[str], re.Pattern[str] | None] = {}

    def regex(self, present: set[str] | None) -> re.Pattern[str] | None:
        """The regex of the branches that can match a call whose literals are ``present`` (None: all)."""
        if present is None:
            return self._regex_of(None)
        found = self._literals.intersection(present)
        if found in self._by_found:
            return self._by_found[found]
        if len(self._by_found) > 256:  # combinations seen are few; bound them all the same
            self._by_found.clear()
        regex = self._by_found[found] = self._regex_of(found)
        return regex

    def _regex_of(self, present: frozenset[str] | None) -> re.Pattern[str] | None:
        active = tuple(
            k for k, need in enumerate(self.needs) if need is None or present is None or not need.isdisjoint(present)
        )
        if not active:
            return None
        regex = self._compiled.get(active)
        if regex is None:
            if len(self._compiled) > 256:  # combinations seen are few; bound them all the same
                self._compiled.clear()
            body = "|".join(f"(?P<p{k}>{self.bodies[k]})" for k in active) if self.named else self.bodies[0]
            gated = body
            first = first_characters(body, re.MULTILINE)  # skip ahead to where a match can start
            if first is not None:
                # Where every branch's match must start a word, a position inside a word is skipped too (a
                # match found there would be dropped: the scan resumes at the next character either way).
                word = "\\b" if all(self.at_word[k] for k in active) else ""
                gated = f"(?={first}){word}(?:{body})"
            regex = self._compiled[active] = re.compile(gated, re.MULTILINE)
        return regex


class RegexMatcher(Matcher):
    """Regular expressions run on normalised utterances (``^``/``$`` are an utterance's start and end)."""

    kind = "regex"

    def __init__(self, patterns: Sequence[str], book: PhraseBook | None = None) -> None:
        self.sources = list(patterns)
        # One pass over the call for all patterns: each becomes a named branch of one regex, unless it has
        # groups of its own that renumbering would break (back-references, named groups, inline flags).
        alone = [p for p in patterns if _GROUP_SYNTAX.search(p)]
        joined = [p for p in patterns if p not in alone]
        # Patterns run on text folded by sound, like exact phrases (公号 matches 工号). A leading boundary is
        # checked after the match instead: with it, Python's engine tries the pattern at every position;
        # without it, it skips ahead to the characters a match can start with (2–3 times faster).
        self.groups = [_Branches([p], [_leading_boundary(sound_fold_regex(p))], named=False) for p in alone]
        if joined:
            bodies = [_leading_boundary(sound_fold_regex(p)) for p in joined]
            self.groups.append(_Branches(joined, bodies, named=True))
        self.book = book if book is not None else PhraseBook()
        self.book.add_literals(lit for g in self.groups for need in g.needs if need is not None for lit in need)
        self.prefiltered = any(need is not None for g in self.groups for need in g.needs)

    def may_match(self, call: CallView) -> bool:
        present = self.book.present(call) if self.prefiltered else None
        return any(group.regex(present) is not None for group in self.groups)

    def find(self, scope: Scope, call: CallView) -> Iterator[Hit]:  # type: ignore[override]
        """Hits one utterance at a time, in call order: the engine stops asking once it has enough (an
        "okay" regex hits most of a call's utterances, and the engine needs three)."""
        present = self.book.present(call) if self.prefiltered else None
        scans: list[Iterator[Hit]] = []
        text = ""
        for group in self.groups:
            regex = group.regex(present)
            if regex is None:
                continue  # none of its literals occurs in the call
            if not scans:
                text = call.folded(scope)
            scans.append(_scan(group, regex, text, scope))
        if not scans:
            return
        # Each scan runs in text order, so utterance by utterance; merged by utterance (ties: in the order
        # of the groups, as one list of all hits would have them), overlaps are dropped per utterance.
        stream = scans[0] if len(scans) == 1 else heapq.merge(*scans, key=_utterance_of)
        batch: list[Hit] = []
        for hit in stream:
            if batch and hit.utt != batch[0].utt:
                yield from _drop_overlaps(batch) if len(batch) > 1 else batch
                batch = []
            batch.append(hit)
        if batch:
            yield from _drop_overlaps(batch) if len(batch) > 1 else batch


def _utterance_of(hit: Hit) -> int:
    return hit.utt


def _scan(group: _Branches, regex: re.Pattern[str], text: str, scope: Scope) -> Iterator[Hit]:
    """The hits of one compiled regex in a scope's (folded) text, in text order."""
    sources, bounded, named, pos = group.sources, group.bounded, group.named, 0
    while (m := regex.search(text, pos)) is not None:
        start, end = m.span()
        k = int(m.lastgroup[1:]) if named and m.lastgroup else 0
        if end == start or (bounded[k] and not _word_start(text, start)):
            if start >= len(text):
                return  # an empty match at the very end: searching on from past it would find it again
            pos = start + 1  # not a hit here; a real one may start inside it
            continue
        pos = end
        u, offset = scope.locate(start)
        yield Hit(scope.indices[u], offset, offset + end - start, sources[k])


def _leading_boundary(pattern: str) -> tuple[str, bool]:
    """``pattern`` without a leading word boundary and whether it had one (only when it has no top-level
    ``|``, whose other branches the boundary does not govern)."""
    if not pattern.startswith("\\b") or _top_level_alternation(pattern):
        return pattern, False
    return pattern[2:], True


def _top_level_alternation(pattern: str) -> bool:
    depth, escaped, in_class = 0, False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
    return False


def _word_start(text: str, pos: int) -> bool:
    """What a regex word boundary tests at ``pos``: a word character on exactly one side."""
    before = pos > 0 and (text[pos - 1].isalnum() or text[pos - 1] == "_")
    after = pos < len(text) and (text[pos].isalnum() or text[pos] == "_")
    return before != after
