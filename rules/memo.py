"""A memo by identity for values worked out once per checklist part (a condition, a predicate, a checklist)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

_K = TypeVar("_K")
_V = TypeVar("_V")


def by_identity(make: Callable[[_K], _V], bound: int = 10_000) -> Callable[[_K], _V]:
    """``make`` memoised by its argument's identity, holding the argument so that its id stays its own. Not by
    value: hashing a frozen condition walks its whole tree (every phrase) on each lookup, which cost more than
    what the memo saves. Checklists live as long as the process; the memo is bounded all the same (a
    long-lived server may load new versions again and again). A closure, not an object with ``__call__``:
    some of these run a few dozen times per call."""
    known_by_id: dict[int, tuple[_K, _V]] = {}

    def memo(key: _K) -> _V:
        known = known_by_id.get(id(key))
        if known is None or known[0] is not key:
            if len(known_by_id) >= bound:
                known_by_id.clear()
            known = known_by_id[id(key)] = (key, make(key))
        return known[1]

    return memo
