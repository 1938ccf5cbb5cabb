"""Conversation metrics of one call: talk time, silence, holds, overtalk, speech rate, response latency.

Everything is computed from the role-labelled :class:`~core.types.Transcript` alone (no audio), in plain
Python (about a millisecond for a five-minute call), so it can be recomputed whenever a threshold changes.

Definitions (seconds from the start of the call):

* **talk time** of a role: the union of its utterances (a role's own overlapping utterances count once).
  **talk ratio**: a role's talk time over the talk time of all roles, so the ratios of agent, customer and
  unknown sum to 1 (0 for a call without speech). **speech coverage**: time anyone speaks over the duration.
* **silence**: time nobody speaks. ``silence_total_s`` includes the lead-in before the first word and the
  tail after the last; ``longest_silence_s`` and dead air count only gaps *between* speech, since a
  recording that starts before pick-up or ends after hang-up is not a pause in the conversation.
* **dead air**: a gap between speech of at least ``dead_air_s`` that is not inside an announced hold.
* **hold**: an agent utterance that announces a wait ("please hold", "let me check", 请稍等, 稍候 …) followed,
  within ``hold_announce_window_s``, by a stretch without agent speech that holds at least ``min_hold_s`` of
  silence; the hold runs to the next agent utterance (a customer's "ok" does not end it) or to the end of the
  call. Speech of unknown role longer than a backchannel, once the wait has lasted ``min_hold_s``, ends it too:
  the role labeller leaves unclear stretches unassigned, and on the sample call the agent's return from the
  hold ("their number is …") is one of them; without this the hold ran on for 16 s through the agent reading
  out the number.
* **overtalk**: both parties speaking at once for at least ``min_overtalk_s``. On stereo calls it is measured
  from the time spans of the two channels. On mono calls both parties share one channel, the recogniser
  rarely produces overlapping utterances and overlaps hide in segment boundaries, so it is *estimated*: word
  spans of the two roles that overlap, plus changes of speaker with no measurable gap (at most
  ``mono_latch_gap_s``); such events and the call's metrics are marked ``estimated``.
* **interruption**: an overtalk counted against the party who started speaking second, unless that
  utterance is a backchannel ("mm-hm", "好的": at most ``backchannel_max_s`` long, and on stereo inside the
  other party's utterance).
* **speech rate**: speech units per minute of the role's talk time, where a unit is one Han character or one
  run of letters/digits — characters per minute for Mandarin, words per minute for English, and a sensible
  count for code-switched speech ("我的iPhone坏了" = 5 units).
* **response latency**: from the end of a customer's turn to the start of the agent's next utterance (0 when
  the agent starts before the customer finishes); an agent utterance said entirely inside the customer's
  turn ("mm-hm") and an agent resuming after a hold are not responses.

Time spans come from word timings when an utterance has them (segment bounds carry VAD padding), else from
the utterance's start and end.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from core.errors import CallQAError
from core.types import Role, Transcript, Utterance

Span = tuple[float, float]

# Said by the agent before a wait. Lower-case, matched against text with punctuation replaced by spaces.
# The English list carries common mishearings on telephone audio ("please hole", "bare with me").
EN_HOLD_PATTERNS: tuple[str, ...] = (
    r"\bplease (hold|hole|old)\b",
    r"\b(put|place|placing|putting) you on (a )?(brief |short |quick )?hold\b",
    r"\b(hold|hang) on\b",
    r"\b(hold|stay on) the line\b",
    r"\b(bear|bare) with me\b",
    r"\b(one|a|just a|just one) (moment|sec|second|minute)\b",
    r"\bgive me (a|one|just a) (moment|sec|second|minute|few)\b",
    r"\bwait (a|one) (moment|sec|second|minute)\b",
    r"\blet me (just )?(check|look|see|find|pull|verify|confirm|ask|get)\b",
    r"\bdon t hang up\b",
)
ZH_HOLD_PATTERNS: tuple[str, ...] = (
    r"稍等",
    r"稍候",
    r"请稍后",  # ASR writes 稍后 for 稍候; a bare 稍后 ("later", as in 稍后回电) is not a hold
    r"请少等",
    r"(等|等待)(一下|一会|片刻)",
    r"请(您)?(耐心)?等(待|候)",
    r"(不要|别|请勿)挂(机|断|电话)",
    r"请(您)?不要走开",
    r"(帮|给|为)(您|你)(查|查询|核实|确认|看|问)(一下)?",
    r"我(这边|这里)?(查|查询|核实|确认|看)一下",
)

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTERS = r"[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"
_WORD = re.compile(_LETTERS + r"(?:['’]" + _LETTERS + ")*")
_NON_WORD = re.compile(r"[^\w\u3400-\u9fff]+")


class MetricsInputError(CallQAError, ValueError):
    """A transcript or option that metrics cannot be computed from; the message names the field."""


@dataclass(frozen=True, slots=True)
class MetricsOptions:
    """Thresholds of the conversation metrics (seconds).

    Attributes:
        dead_air_s: a pause between speech this long is dead air. 10 s: Whisper's VAD settings merge pauses
            under 1 s and pad speech by 0.4 s, so gaps are measured ±1 s; pauses of 3–8 s are normal while
            an agent types or a customer looks for a number (the sample call has four of 3.6–7.4 s),
            whereas 10 s without a word or an announcement is the "are you still there?" silence QA flags.
        min_hold_s: an announced wait shorter than this is a pause in speech, not a hold.
        hold_announce_window_s: how soon after the announcing utterance the hold must begin (the agent
            often says a few more words — "okay, so…" — before going silent).
        min_overtalk_s: overlaps shorter than this are timestamp jitter, not overtalk.
        mono_latch_gap_s: on mono calls, a change of speaker with a gap no longer than this is counted as
            estimated overtalk (Whisper's timestamps have 20 ms steps; touching segments mean no silence).
        backchannel_max_s: a short acknowledgement at most this long is not an interruption.
        hold_patterns: regular expressions (lower-case) that announce a hold.
    """

    dead_air_s: float = 10.0
    min_hold_s: float = 5.0
    hold_announce_window_s: float = 10.0
    min_overtalk_s: float = 0.2
    mono_latch_gap_s: float = 0.05
    backchannel_max_s: float = 1.0
    hold_patterns: tuple[str, ...] = EN_HOLD_PATTERNS + ZH_HOLD_PATTERNS

    def __post_init__(self) -> None:
        for name in ("dead_air_s", "min_hold_s", "hold_announce_window_s", "min_overtalk_s", "backchannel_max_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise MetricsInputError(f"MetricsOptions.{name}: must be a number >= 0, got {value!r}")
        if not math.isfinite(self.mono_latch_gap_s):
            raise MetricsInputError(f"MetricsOptions.mono_latch_gap_s: must be finite, got {self.mono_latch_gap_s!r}")
        for pattern in self.hold_patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise MetricsInputError(
                    f"MetricsOptions.hold_patterns: bad regular expression {pattern!r}: {exc}"
                ) from exc


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch in which nobody speaks."""

    start: float
    end: float
    dead_air: bool = False

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Hold:
    """An announced hold: from the end of the agent's speech to the agent's next utterance."""

    start: float
    end: float
    announcement: str  # the agent utterance that announced it, as evidence

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Overtalk:
    """Both parties speaking at once; ``by`` is the party that started second."""

    start: float
    end: float
    by: Role
    interruption: bool
    estimated: bool

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class RoleMetrics:
    """Per-role figures of one call."""

    talk_time_s: float = 0.0
    talk_ratio: float = 0.0
    utterances: int = 0
    speech_units: int = 0
    speech_rate: float = 0.0  # units (Han characters or words) per minute of talk time
    interruptions: int = 0


@dataclass(frozen=True, slots=True)
class CallMetrics:
    """Conversation metrics of one call, with the events behind them as evidence."""

    duration_s: float
    agent: RoleMetrics
    customer: RoleMetrics
    unknown: RoleMetrics
    speech_time_s: float
    turn_count: int
    silences: tuple[Gap, ...]
    silence_total_s: float
    holds: tuple[Hold, ...]
    overtalks: tuple[Overtalk, ...]
    response_latencies: tuple[float, ...]
    estimated: bool  # overtalk and interruptions are estimates (mono call)
    options: MetricsOptions = field(default_factory=MetricsOptions)

    def as_dict(self) -> dict[str, float]:
        """Flat named numbers for checklist predicates such as ``longest_silence_s > 20``."""
        gaps = [g.duration for g in self.silences]
        dead = [g.duration for g in self.silences if g.dead_air]
        holds = [h.duration for h in self.holds]
        lat = self.response_latencies
        out: dict[str, float] = {
            "duration_s": self.duration_s,
            "speech_time_s": self.speech_time_s,
            "speech_coverage": self.speech_time_s / self.duration_s if self.duration_s > 0 else 0.0,
            "turn_count": float(self.turn_count),
            "silence_total_s": self.silence_total_s,
            "silence_ratio": self.silence_total_s / self.duration_s if self.duration_s > 0 else 0.0,
            "longest_silence_s": max(gaps, default=0.0),
            "dead_air_count": float(len(dead)),
            "dead_air_total_s": sum(dead),
            "hold_count": float(len(holds)),
            "hold_total_s": sum(holds),
            "longest_hold_s": max(holds, default=0.0),
            "overtalk_count": float(len(self.overtalks)),
            "overtalk_total_s": sum(o.duration for o in self.overtalks),
            "overtalk_estimated": 1.0 if self.estimated else 0.0,
            "response_count": float(len(lat)),
            "response_latency_mean_s": sum(lat) / len(lat) if lat else 0.0,
            "response_latency_max_s": max(lat, default=0.0),
        }
        for name, rm in (("agent", self.agent), ("customer", self.customer), ("unknown", self.unknown)):
            out[f"talk_time_{name}_s"] = rm.talk_time_s
            out[f"talk_ratio_{name}"] = rm.talk_ratio
            out[f"utterances_{name}"] = float(rm.utterances)
            out[f"speech_rate_{name}"] = rm.speech_rate
        out["interruptions_by_agent"] = float(self.agent.interruptions)
        out["interruptions_by_customer"] = float(self.customer.interruptions)
        return out


def compute_metrics(transcript: Transcript, options: MetricsOptions | None = None) -> CallMetrics:
    """Compute the conversation metrics of one role-labelled call.

    Args:
        transcript: the call; ``channels`` of 2 or more means one party per channel (exact overtalk).
        options: thresholds; the defaults are documented on :class:`MetricsOptions`.

    Returns:
        The metrics, with the silences, holds and overtalk events they were computed from.

    Raises:
        MetricsInputError: an utterance or the duration has impossible times (the message names which).
    """
    opts = options or MetricsOptions()
    _validate(transcript)
    segs = sorted((_seg(u) for u in transcript.utterances), key=lambda s: (s.start, s.end))
    duration = max([transcript.duration, *(s.end for s in segs)])
    speech = _union((s.start, s.end) for s in segs)
    speech_time = _length(speech)
    holds = _holds(segs, speech, duration, opts)
    estimated = transcript.channels < 2
    overtalks = _overtalks(segs, opts, estimated)
    roles = _role_metrics(segs, overtalks)
    return CallMetrics(
        duration_s=duration,
        agent=roles[Role.AGENT],
        customer=roles[Role.CUSTOMER],
        unknown=roles[Role.UNKNOWN],
        speech_time_s=speech_time,
        turn_count=_turn_count(segs),
        silences=_silences(speech, holds, opts.dead_air_s),
        silence_total_s=duration - speech_time,
        holds=holds,
        overtalks=overtalks,
        response_latencies=_response_latencies(segs, holds),
        estimated=estimated,
        options=opts,
    )


def speech_units(text: str) -> int:
    """Count speech units: one per Han character plus one per run of letters or digits ("it's" is one)."""
    return len(_HAN.findall(text)) + len(_WORD.findall(text))


class _Seg(NamedTuple):
    """An utterance reduced to what the metrics need, with its word span worked out once."""

    role: Role
    start: float  # utterance bounds: talk time and silence
    end: float
    s0: float  # word span: overtalk, holds and latency, where VAD padding would distort
    s1: float
    text: str


def _seg(u: Utterance) -> _Seg:
    if u.words:
        s0, s1 = min(w.start for w in u.words), max(w.end for w in u.words)
    else:
        s0, s1 = u.start, u.end
    return _Seg(u.role, u.start, u.end, s0, s1, u.text)


def _validate(transcript: Transcript) -> None:
    if not (math.isfinite(transcript.duration) and transcript.duration >= 0):
        raise MetricsInputError(f"Transcript.duration: must be a finite number >= 0, got {transcript.duration!r}")
    if transcript.channels < 1:
        raise MetricsInputError(f"Transcript.channels: must be 1 (mono) or 2 (stereo), got {transcript.channels}")
    for i, u in enumerate(transcript.utterances):
        where = f"Transcript.utterances[{i}] ({u.start!r}–{u.end!r} s)"
        if not (math.isfinite(u.start) and math.isfinite(u.end)):
            raise MetricsInputError(f"{where}: start and end must be finite numbers")
        if u.start < 0 or u.end < u.start:
            raise MetricsInputError(f"{where}: needs 0 <= start <= end; fix the segment times upstream")
        for k, w in enumerate(u.words):
            if not (math.isfinite(w.start) and math.isfinite(w.end) and 0 <= w.start <= w.end):
                raise MetricsInputError(
                    f"Transcript.utterances[{i}].words[{k}] ({w.text!r}, {w.start!r}–{w.end!r} s): "
                    "needs finite times with 0 <= start <= end; fix the word timings upstream"
                )


def _union(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _length(spans: Iterable[Span]) -> float:
    return sum(end - start for start, end in spans)


def _subtract(span: Span, cuts: Sequence[Span]) -> list[Span]:
    """The parts of ``span`` outside every interval of ``cuts``."""
    pieces = [span]
    for cut_start, cut_end in cuts:
        nxt: list[Span] = []
        for start, end in pieces:
            if cut_end <= start or cut_start >= end:
                nxt.append((start, end))
                continue
            if cut_start > start:
                nxt.append((start, cut_start))
            if cut_end < end:
                nxt.append((cut_end, end))
        pieces = nxt
    return pieces


def _silences(speech: list[Span], holds: Sequence[Hold], dead_air_s: float) -> tuple[Gap, ...]:
    """Gaps between speech; a gap is dead air when a part of it outside any hold lasts ``dead_air_s``."""
    hold_spans = [(h.start, h.end) for h in holds]
    gaps = []
    for (_, prev_end), (next_start, _) in itertools.pairwise(speech):
        outside = _subtract((prev_end, next_start), hold_spans)
        dead = any(end - start >= dead_air_s for start, end in outside)
        gaps.append(Gap(prev_end, next_start, dead_air=dead))
    return tuple(gaps)


@functools.lru_cache(maxsize=16)
def _hold_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def _announces_hold(text: str, regex: re.Pattern[str]) -> bool:
    # Spaces around and between words so that "\b" and multi-word patterns see "don t", not "don't".
    return regex.search(" " + _NON_WORD.sub(" ", text.lower()).strip() + " ") is not None


def _holds(segs: Sequence[_Seg], speech: list[Span], duration: float, opts: MetricsOptions) -> tuple[Hold, ...]:
    """Announced holds: an announcing agent utterance, then a stretch without agent speech that holds at least
    ``min_hold_s`` of silence (so "let me get your account number" followed by the customer reading it out is
    not a hold)."""
    regex = _hold_regex(opts.hold_patterns)
    agent = _union((s.s0, s.s1) for s in segs if s.role is Role.AGENT)
    # Unassigned speech longer than a backchannel: once a wait has lasted min_hold_s it is taken as the agent
    # coming back (at the very start of a wait it is as likely the agent's tail or the customer's "ok").
    unassigned = sorted(s.s0 for s in segs if s.role is Role.UNKNOWN and s.s1 - s.s0 > opts.backchannel_max_s)
    holds: list[Hold] = []
    for seg in segs:
        if seg.role is not Role.AGENT or (holds and seg.s0 < holds[-1].end):
            continue
        if not _announces_hold(seg.text, regex):
            continue
        # Silences in agent speech after the announcement, the last one running to the end of the call.
        ends = [end for _, end in agent if end >= seg.s1]
        starts = [start for start, _ in agent if start > seg.s1] + [duration]
        for quiet_start, agent_back in zip(ends, starts, strict=False):
            if quiet_start - seg.s1 > opts.hold_announce_window_s:
                break
            quiet_end = min([agent_back, *(t for t in unassigned if quiet_start + opts.min_hold_s <= t < agent_back)])
            talk = _length(
                (max(a, quiet_start), min(b, quiet_end)) for a, b in speech if a < quiet_end and b > quiet_start
            )
            if quiet_end - quiet_start - talk >= opts.min_hold_s:
                holds.append(Hold(quiet_start, quiet_end, announcement=seg.text.strip()))
                break
    return tuple(holds)


def _overtalks(segs: Sequence[_Seg], opts: MetricsOptions, estimated: bool) -> tuple[Overtalk, ...]:
    """Overlaps between agent and customer speech, plus (mono only) latched changes of speaker."""
    parties = sorted((s for s in segs if s.role in (Role.AGENT, Role.CUSTOMER)), key=lambda s: (s.s0, s.s1))
    agent = [i for i, s in enumerate(parties) if s.role is Role.AGENT]
    customer = [i for i, s in enumerate(parties) if s.role is Role.CUSTOMER]
    events: dict[tuple[int, int], Overtalk] = {}  # keyed by (earlier, later) index in ``parties``
    first = 0  # the first customer utterance that may still overlap the current agent utterance
    for ai in agent:
        a = parties[ai]
        while first < len(customer) and parties[customer[first]].s1 <= a.s0:
            first += 1
        for ci in customer[first:]:
            c = parties[ci]
            if c.s0 >= a.s1:
                break
            start, end = max(a.s0, c.s0), min(a.s1, c.s1)
            if end - start >= opts.min_overtalk_s:
                events[(min(ai, ci), max(ai, ci))] = _overtalk(
                    parties, min(ai, ci), max(ai, ci), start, end, opts, estimated
                )
    if estimated:
        for i in range(len(parties) - 1):
            prev, nxt = parties[i], parties[i + 1]
            if prev.role is nxt.role or (i, i + 1) in events or nxt.s0 - prev.s1 > opts.mono_latch_gap_s:
                continue
            end = max(nxt.s0, min(prev.s1, nxt.s1))
            events[(i, i + 1)] = _overtalk(parties, i, i + 1, nxt.s0, end, opts, estimated)
    return tuple(sorted(events.values(), key=lambda o: (o.start, o.end)))


def _overtalk(
    parties: Sequence[_Seg], i: int, j: int, start: float, end: float, opts: MetricsOptions, est: bool
) -> Overtalk:
    """The overtalk between ``parties[i]`` and the one that started after it, ``parties[j]``."""
    first, second = parties[i], parties[j]
    short = second.s1 - second.s0 <= opts.backchannel_max_s
    # On stereo a backchannel sits inside the other's turn; on mono the spans are too coarse to tell.
    backchannel = short and (est or second.s1 <= first.s1)
    return Overtalk(start, end, by=second.role, interruption=not backchannel, estimated=est)


def _role_metrics(segs: Sequence[_Seg], overtalks: Sequence[Overtalk]) -> dict[Role, RoleMetrics]:
    talk = {role: _length(_union((s.start, s.end) for s in segs if s.role is role)) for role in Role}
    total = sum(talk.values())
    out: dict[Role, RoleMetrics] = {}
    for role in Role:
        mine = [s for s in segs if s.role is role]
        units = sum(speech_units(s.text) for s in mine)
        out[role] = RoleMetrics(
            talk_time_s=talk[role],
            talk_ratio=talk[role] / total if total > 0 else 0.0,
            utterances=len(mine),
            speech_units=units,
            speech_rate=units * 60.0 / talk[role] if talk[role] > 0 else 0.0,
            interruptions=sum(1 for o in overtalks if o.by is role and o.interruption),
        )
    return out


def _turn_count(segs: Sequence[_Seg]) -> int:
    """Changes between agent and customer in time order; unknown speech neither starts nor ends a turn."""
    roles = [s.role for s in segs if s.role is not Role.UNKNOWN]
    return sum(1 for a, b in itertools.pairwise(roles) if a is not b)


def _response_latencies(segs: Sequence[_Seg], holds: Sequence[Hold]) -> tuple[float, ...]:
    """Seconds from the end of each customer turn to the agent's next utterance (hold resumptions excluded)."""
    resumptions = {h.end for h in holds}
    latencies: list[float] = []
    customer_end: float | None = None  # end of the customer's current turn, None when the agent has the floor
    for seg in segs:
        if seg.role is Role.CUSTOMER:
            customer_end = seg.s1 if customer_end is None else max(customer_end, seg.s1)
        elif seg.role is Role.AGENT:
            if customer_end is not None and seg.s1 < customer_end:
                continue  # said inside the customer's turn ("mm-hm"): not a response, the turn goes on
            if customer_end is not None and seg.s0 not in resumptions:
                latencies.append(max(0.0, seg.s0 - customer_end))
            customer_end = None
    return tuple(latencies)
