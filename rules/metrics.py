"""Numeric metrics that ``metric:`` predicates test.

Adding a metric is one registration: a name, a description and, when the transcript alone can give it,
a function computing it. A value passed in by the caller (``Checklist.score(..., metrics={...})``, e.g.
from the store or the audio analysis) always wins; a metric with neither is "not measured", which makes
a test on it false in ``applies_when`` and unknown in a condition.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from callqa.types import Role

if TYPE_CHECKING:
    from rules.call import PreparedCall


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    description: str
    compute: Callable[[PreparedCall], float | None] | None = None


REGISTRY: dict[str, Metric] = {}


def register(name: str, description: str, compute: Callable[[PreparedCall], float | None] | None = None) -> None:
    """Make a metric known to checklists (``metric: {name: ...}`` is checked against this registry)."""
    REGISTRY[name] = Metric(name, description, compute)


def value(name: str, call: PreparedCall) -> float | None:
    """The metric's value for a call: the caller's, else computed from the transcript, else None."""
    if name in call.metrics:
        return float(call.metrics[name])
    metric = REGISTRY.get(name)
    return metric.compute(call) if metric is not None and metric.compute is not None else None


def _longest_silence(call: PreparedCall) -> float | None:
    utterances = call.transcript.utterances
    if not utterances:
        return None
    gaps = [b.start - a.end for a, b in itertools.pairwise(utterances)]
    return round(max([0.0, *gaps]), 2)


def _talk_ratio_agent(call: PreparedCall) -> float | None:
    talk = {Role.AGENT: 0.0, Role.CUSTOMER: 0.0}
    for u in call.transcript.utterances:
        if u.role in talk:
            talk[u.role] += max(0.0, u.end - u.start)
    total = sum(talk.values())
    return round(talk[Role.AGENT] / total, 3) if total else None


register("longest_silence_s", "longest gap between two utterances (seconds)", _longest_silence)
register("talk_ratio_agent", "agent's share of the talk time (0–1)", _talk_ratio_agent)
register("customer_anger_max", "highest anger score of the customer's speech (0–1), from the audio analysis")
register("silence_ratio", "share of the call with nobody speaking (0–1), from the audio analysis")
register("overtalk_s", "seconds both parties spoke at once, from the audio analysis")
