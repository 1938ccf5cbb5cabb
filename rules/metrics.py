"""Numeric metrics that ``metric:`` predicates test.

There is one implementation of the conversation metrics: :mod:`pipeline.metrics` (talk time and ratio,
silence, holds, overtalk, latency …). Every name its ``CallMetrics.as_dict()`` gives is known here and,
when the caller did not pass it, computed from the transcript once per call (about a millisecond).
Metrics only the audio analysis can give (``customer_anger_max``) are registered without a computation.

A value passed in by the caller (``rules.engine.score_call(..., metrics={...})``, from the store) always wins;
a metric with neither is "not measured", which makes a test on it false in ``applies_when`` and unknown in
a condition. Adding a metric is one registration: a name, a description and, when the transcript alone
can give it, a function of the prepared call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.metrics import MetricsInputError, compute_metrics

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


def _conversation(call: PreparedCall) -> dict[str, float] | None:
    """pipeline.metrics' figures for the call, computed once; None when the transcript cannot give them."""
    if "conversation" not in call.figures:
        try:
            call.figures["conversation"] = (compute_metrics(call.transcript).as_dict() if call.transcript.utterances
                                            else None)  # fmt: skip
        except MetricsInputError:
            call.figures["conversation"] = None  # e.g. times going backwards: "not measured", never a guess
    return call.figures["conversation"]


def _from_pipeline(name: str) -> Callable[[PreparedCall], float | None]:
    def compute(call: PreparedCall) -> float | None:
        figures = _conversation(call)
        return None if figures is None else figures.get(name)

    return compute


# Names and meanings as in pipeline/metrics.py (CallMetrics.as_dict); see its module docstring.
_PIPELINE_METRICS = {
    "duration_s": "length of the call (seconds)",
    "speech_time_s": "time anyone speaks (seconds)",
    "speech_coverage": "share of the call with someone speaking (0–1)",
    "turn_count": "number of speaker turns",
    "silence_total_s": "time nobody speaks, lead-in and tail included (seconds)",
    "silence_ratio": "share of the call with nobody speaking (0–1)",
    "longest_silence_s": "longest gap between speech (seconds)",
    "dead_air_count": "pauses of 10 s or more outside an announced hold",
    "dead_air_total_s": "seconds of dead air",
    "hold_count": "number of holds: an agent's hold phrase followed by a silence",
    "hold_total_s": "seconds on hold",
    "longest_hold_s": "longest hold (seconds)",
    "overtalk_count": "times both parties spoke at once",
    "overtalk_total_s": "seconds both parties spoke at once",
    "overtalk_estimated": "1 when overtalk is estimated (mono call), else 0",
    "response_count": "agent responses to the customer",
    "response_latency_mean_s": "mean time from the customer's turn to the agent's answer (seconds)",
    "response_latency_max_s": "longest time from the customer's turn to the agent's answer (seconds)",
    "interruptions_by_agent": "times the agent talked over the customer",
    "interruptions_by_customer": "times the customer talked over the agent",
}
for _role in ("agent", "customer", "unknown"):
    _PIPELINE_METRICS |= {
        f"talk_time_{_role}_s": f"{_role}'s talk time (seconds)",
        f"talk_ratio_{_role}": f"{_role}'s share of all talk time (0–1; the three ratios add up to 1)",
        f"utterances_{_role}": f"number of {_role} utterances",
        f"speech_rate_{_role}": f"{_role}'s characters (Mandarin) or words (English) per minute of talk",
    }
# Holds are found by the checklists themselves (a hold phrase followed by silence, ``gap_after``); the
# metrics stage's hold figures count when the caller passes them (stored with the call), but are not
# recomputed here: that would cost a full metrics pass per call (a third of the scoring time) only to
# repeat the checklist's own detection.
_STORED_ONLY = {"hold_count", "hold_total_s", "longest_hold_s"}
for _name, _description in _PIPELINE_METRICS.items():
    register(_name, _description, None if _name in _STORED_ONLY else _from_pipeline(_name))
register("customer_anger_max", "highest anger score of the customer's speech (0–1), from the audio analysis")
