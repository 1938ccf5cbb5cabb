"""What an agent's figures mean, written once for the CLI report and the web page (and the summaries feeding it).

``callqa agent`` (:mod:`scorecards.people.reports`) reads the base tables; the agent's web page
(:mod:`scorecards.people.views_agent`) reads the per-agent-per-day summaries that every write keeps exact
(:mod:`scorecards.store.summaries`). A supervisor who reads both must see the same numbers, so the three share what
is defined here: the day of a call, the agent's team, and the emotion figures (thresholds and denominators).
This module imports neither side: the write side must not depend on the read side.

* **A call's day**: its ``started_at`` (the call centre's metadata), else the day the run that first saw the
  call started (:data:`DAY` over :data:`CALLS_FROM`). Not the day it was scored: a rescoring would move it.
* **The agent's team**: the team named on most of the agent's calls in the window, each call once, calls
  without a team not voting; a tie goes to the first name in sort order (:func:`team_of`). No team named:
  the agent is compared with every call.
* **Emotion figures**, from each call's stored emotion summary (``call_metrics`` of its current transcript),
  each call once however many checklists scored it, calls without a summary left out (:data:`EMOTION_FLAGS`):

  - *angry customer share*: of the calls with customer speech (``utterances_customer`` > 0), those whose
    customer reached the emotion stage's anger threshold in some utterance (``angry_customer`` = 1);
  - *ended calmer*: of the calls with customer speech whose customer was upset at the start
    (``customer_anger_start`` ≥ :data:`UPSET_AT_START`), those whose trajectory improved
    (``customer_calmer_by_end`` = 1);
  - *agent negative tone share*: of the calls with an emotion summary, those where an agent utterance reached
    :data:`NEGATIVE_TONE` (``agent_negative_tone_max``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, fields

# A call's day: the metadata's start, else the start of the run that first saw the call (``fr``).
CALLS_FROM = "calls c LEFT JOIN runs fr ON fr.run_id = c.first_run_id"
DAY = "CAST(coalesce(c.started_at, fr.started_at) AS DATE)"

UPSET_AT_START = 0.4
"""Customer anger at the start from which the customer counts as upset: what a mostly frustrated utterance
scores (P(frustrated) 0.8 → 0.4); neutral speech stays near 0."""
NEGATIVE_TONE = 0.7
"""Agent anger (same scale as the customer's) from which a call counts as one with the agent's negative tone."""

# The emotion summary's figures a call's flags read, as ``e.<key>`` once :func:`emotion_join` joined them.
_METRICS = {"summary": "angry_customer", "customer": "utterances_customer", "start": "customer_anger_start",
            "calmer": "customer_calmer_by_end", "tone": "agent_negative_tone_max"}  # fmt: skip
SUMMARISED = "e.summary IS NOT NULL"  # the emotion stage always writes angry_customer
_CUSTOMER = f"({SUMMARISED} AND coalesce(e.customer, 0) > 0)"
_UPSET = f"({_CUSTOMER} AND coalesce(e.start, 0) >= CAST({UPSET_AT_START!r} AS DOUBLE))"
EMOTION_FLAGS: tuple[tuple[str, str], ...] = (
    ("calls", SUMMARISED),
    ("customer_calls", _CUSTOMER),
    ("angry", f"({_CUSTOMER} AND e.summary = 1)"),
    ("upset_at_start", _UPSET),
    ("calmer", f"({_UPSET} AND e.calmer = 1)"),
    ("negative_tone", f"({SUMMARISED} AND coalesce(e.tone, 0) >= CAST({NEGATIVE_TONE!r} AS DOUBLE))"),
)
"""(name, SQL condition on one call) for each count :class:`EmotionCounts` holds, in its field order."""


def emotion_join(transcript_id: str, among: str = "") -> str:
    """A LEFT JOIN bringing in, as ``e``, the emotion summary of the transcript ``transcript_id`` (an SQL
    expression) for the conditions of :data:`EMOTION_FLAGS`: a call without a summary keeps its row, with every
    flag false.

    Args:
        transcript_id: the transcript whose summary to join, e.g. ``t.transcript_id``.
        among: a query of the transcript ids that can match, when only a few can: ``call_metrics`` holds a row
            per figure and transcript, and one pass over the rows of a few transcripts is what keeps a
            summary refresh short (empty: every transcript).
    """
    columns = ", ".join(f"max(value) FILTER (WHERE name = '{name}') AS {key}" for key, name in _METRICS.items())
    names = ", ".join(f"'{name}'" for name in _METRICS.values())
    only = f" AND transcript_id IN ({among})" if among else ""
    return (f"LEFT JOIN (SELECT transcript_id, {columns} FROM call_metrics WHERE name IN ({names}){only} "
            f"GROUP BY transcript_id) e ON e.transcript_id = {transcript_id}")


@dataclass(frozen=True, slots=True)
class EmotionCounts:
    """How many calls of a set meet each condition of :data:`EMOTION_FLAGS` (same names, same order)."""

    calls: int = 0
    customer_calls: int = 0
    angry: int = 0
    upset_at_start: int = 0
    calmer: int = 0
    negative_tone: int = 0

    def __add__(self, other: EmotionCounts) -> EmotionCounts:
        return EmotionCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


assert tuple(f.name for f in fields(EmotionCounts)) == tuple(name for name, _ in EMOTION_FLAGS)


@dataclass(frozen=True, slots=True)
class EmotionFigures:
    """How a set of calls went emotionally (see the module docstring for the exact definitions).

    Attributes:
        calls: calls with an emotion summary (the denominator of ``negative_tone_share``).
        customer_calls: of those, calls with customer speech (the denominator of ``angry_customer_share``).
        angry_customer_share: share of ``customer_calls`` with an angry customer; None without any.
        upset_at_start: of ``customer_calls``, those whose customer was upset at the start.
        calmer_share: share of ``upset_at_start`` calls whose customer ended calmer; None without any.
        negative_tone_share: share of ``calls`` where the agent's anger reached :data:`NEGATIVE_TONE`.
    """

    calls: int
    customer_calls: int
    angry_customer_share: float | None
    upset_at_start: int
    calmer_share: float | None
    negative_tone_share: float | None

    @classmethod
    def of(cls, n: EmotionCounts) -> EmotionFigures:
        """The shares of a set of calls from its counts."""
        return cls(calls=n.calls, customer_calls=n.customer_calls,
                   angry_customer_share=share(n.angry, n.customer_calls), upset_at_start=n.upset_at_start,
                   calmer_share=share(n.calmer, n.upset_at_start),
                   negative_tone_share=share(n.negative_tone, n.calls))  # fmt: skip


def share(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to 3 places (a tenth of a percent), None when ``whole`` is 0."""
    return round(part / whole, 3) if whole else None


def most_named(counts: Counter[str]) -> str | None:
    """The name counted most (a tie: the first by name), None when there is none."""
    return min(counts, key=lambda name: (-counts[name], name)) if counts else None


def team_of(calls: Iterable[tuple[str, str | None]]) -> str | None:
    """The agent's team from (call id, team) pairs of the agent's calls in the window (repeats allowed: one
    per scorecard): the team named on most calls, each call once, a tie to the first by name; None when no
    call names a team."""
    return most_named(Counter(team for _, team in set(calls) if team is not None))
