"""Conversation metrics: exact values on constructed calls, invariants on random and real ones."""

from __future__ import annotations

import csv
import json
import math
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from core.types import Role, Transcript, Utterance, Word
from pipeline.metrics import (
    CallMetrics,
    MetricsInputError,
    MetricsOptions,
    compute_metrics,
    speech_units,
)

A, C, U = Role.AGENT, Role.CUSTOMER, Role.UNKNOWN
DATA = Path(__file__).parents[1] / "data"


def utt(role: Role, start: float, end: float, text: str = "", words: tuple[Word, ...] = ()) -> Utterance:
    return Utterance(start=start, end=end, text=text, role=role, words=words)


def call(*utts: Utterance, duration: float, channels: int = 2) -> Transcript:
    return Transcript(utterances=utts, duration=duration, language="en", channels=channels)


def spread(text: str, start: float, end: float) -> tuple[Word, ...]:
    """Word timings spread evenly over [start, end]."""
    tokens = text.split()
    step = (end - start) / len(tokens)
    return tuple(Word(start + i * step, start + (i + 1) * step, t, 0.9) for i, t in enumerate(tokens))


# A stereo English call: 12 s of dead air, the customer talking over the agent, an agent "okay" inside the
# customer's turn, and 15 s of silence after the last word (not a pause in the conversation).
STEREO = call(
    utt(A, 1.0, 5.0, "Thank you for calling, how can I help you today?"),  # 10 words
    utt(C, 6.0, 10.0, "I was charged twice for my order"),  # 7
    utt(A, 10.5, 14.0, "I am sorry about that, what is the order number?"),  # 10
    utt(C, 15.0, 18.0, "It is 4471"),  # 3
    utt(A, 30.0, 34.0, "Thanks for waiting, I can see the two charges"),  # 9
    utt(C, 33.0, 38.0, "So when do I get my money back"),  # 8
    utt(A, 36.0, 36.5, "okay"),  # 1
    utt(A, 40.0, 45.0, "The refund will reach your card within five days"),  # 9
    duration=60.0,
)


def test_stereo_talk_silence_and_dead_air() -> None:
    m = compute_metrics(STEREO).as_dict()
    # Speech: [1,5] [6,10] [10.5,14] [15,18] [30,38] [40,45] = 27.5 s.
    assert m["duration_s"] == 60.0
    assert m["speech_time_s"] == pytest.approx(27.5)
    assert m["silence_total_s"] == pytest.approx(32.5)
    assert m["silence_ratio"] == pytest.approx(32.5 / 60)
    assert m["speech_coverage"] == pytest.approx(27.5 / 60)
    assert m["longest_silence_s"] == pytest.approx(12.0)  # 18 → 30; the 15 s tail does not count
    assert m["dead_air_count"] == 1.0
    assert m["dead_air_total_s"] == pytest.approx(12.0)
    assert m["talk_time_agent_s"] == pytest.approx(4 + 3.5 + 4 + 0.5 + 5)
    assert m["talk_time_customer_s"] == pytest.approx(4 + 3 + 5)
    assert m["talk_ratio_agent"] == pytest.approx(17 / 29)
    assert m["talk_ratio_customer"] == pytest.approx(12 / 29)
    assert m["talk_ratio_unknown"] == 0.0
    assert m["utterances_agent"] == 5.0 and m["utterances_customer"] == 3.0
    assert m["turn_count"] == 6.0  # A C A C A C A A


def test_stereo_overtalk_is_exact_and_backchannels_are_not_interruptions() -> None:
    m = compute_metrics(STEREO)
    assert not m.estimated
    assert [(o.start, o.end, o.by, o.interruption, o.estimated) for o in m.overtalks] == [
        (33.0, 34.0, C, True, False),  # the customer starts 1 s before the agent stops
        (36.0, 36.5, A, False, False),  # "okay" inside the customer's turn
    ]
    d = m.as_dict()
    assert d["overtalk_count"] == 2.0
    assert d["overtalk_total_s"] == pytest.approx(1.5)
    assert d["overtalk_estimated"] == 0.0
    assert d["interruptions_by_customer"] == 1.0
    assert d["interruptions_by_agent"] == 0.0


def test_short_overlap_that_takes_the_floor_is_an_interruption() -> None:
    m = compute_metrics(call(utt(A, 0.0, 5.0, "your refund was sent on"), utt(C, 4.6, 5.4, "no wait"), duration=6.0))
    # Short like a backchannel, but it outlasts the agent: the customer took the floor.
    assert [(o.start, o.end, o.by, o.interruption) for o in m.overtalks] == [(4.6, 5.0, C, True)]


def test_response_latency_skips_backchannels() -> None:
    m = compute_metrics(STEREO)
    # 10 → 10.5; 18 → 30; the turn 33–38 is answered at 40 (the "okay" at 36 is not an answer).
    assert m.response_latencies == pytest.approx((0.5, 12.0, 2.0))
    d = m.as_dict()
    assert d["response_count"] == 3.0
    assert d["response_latency_mean_s"] == pytest.approx(14.5 / 3)
    assert d["response_latency_max_s"] == pytest.approx(12.0)


def test_english_speech_rate_is_words_per_minute() -> None:
    d = compute_metrics(STEREO).as_dict()
    assert d["speech_rate_agent"] == pytest.approx((10 + 10 + 9 + 1 + 9) * 60 / 17)
    assert d["speech_rate_customer"] == pytest.approx((7 + 3 + 8) * 60 / 12)


def test_mandarin_speech_rate_is_characters_per_minute() -> None:
    m = compute_metrics(
        call(
            utt(A, 0.0, 3.0, "您好，请问有什么可以帮您？"),  # 11 characters
            utt(C, 3.5, 5.0, "我的iPhone坏了。"),  # 4 characters + 1 word
            utt(A, 5.5, 8.5, "好的，您别着急，我看一下订单。"),  # 12 characters
            duration=9.0,
        )
    )
    assert m.agent.speech_units == 23 and m.customer.speech_units == 5
    assert m.as_dict()["speech_rate_agent"] == pytest.approx(23 * 60 / 6.0)
    assert m.as_dict()["speech_rate_customer"] == pytest.approx(5 * 60 / 1.5)


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("it's a 2017 Ford Fusion", 5),
        ("我的iPhone坏了", 5),
        ("$25 and $35", 3),
        ("请拨打12315投诉", 6),  # a run of digits is one unit, as in English
        ("  ，。!?  ", 0),
        ("", 0),
    ],
)
def test_speech_units(text: str, units: int) -> None:
    assert speech_units(text) == units


def test_announced_hold_runs_to_agent_resumption_and_is_not_dead_air() -> None:
    m = compute_metrics(
        call(
            utt(C, 0.0, 4.0, "我想查一下我的快递到哪里了"),
            utt(A, 4.5, 10.0, "好的，请您稍等，我帮您查一下"),
            utt(C, 10.5, 11.0, "好的"),  # the customer speaking does not end the hold
            utt(A, 40.0, 44.0, "感谢您的耐心等待，快递明天送到"),
            duration=45.0,
        )
    )
    assert [(h.start, h.end) for h in m.holds] == [(10.0, 40.0)]
    assert m.holds[0].announcement == "好的，请您稍等，我帮您查一下"
    d = m.as_dict()
    assert d["hold_count"] == 1.0 and d["hold_total_s"] == 30.0 and d["longest_hold_s"] == 30.0
    assert d["longest_silence_s"] == pytest.approx(29.0)  # 11 → 40: silence, but announced
    assert d["dead_air_count"] == 0.0
    assert m.response_latencies == pytest.approx((0.5,))  # resuming after the hold is not a response


def test_hold_may_start_a_few_words_after_the_announcement() -> None:
    m = compute_metrics(
        call(
            utt(A, 0.0, 2.0, "Let me check that for you."),
            utt(A, 2.5, 3.0, "Okay, so"),
            utt(A, 20.0, 22.0, "Thanks for holding."),
            duration=22.0,
        )
    )
    assert [(h.start, h.end) for h in m.holds] == [(3.0, 20.0)]


def test_hold_to_the_end_of_the_call_and_part_of_a_gap_as_dead_air() -> None:
    m = compute_metrics(
        call(
            utt(C, 0.0, 2.0, "Can you hold the line for me"),  # a customer cannot put the call on hold
            utt(A, 15.0, 17.0, "Sure, please hold."),
            duration=40.0,
        )
    )
    assert [(h.start, h.end) for h in m.holds] == [(17.0, 40.0)]
    assert [(g.start, g.end, g.dead_air) for g in m.silences] == [(2.0, 15.0, True)]


def test_unassigned_speech_ends_a_hold_but_a_short_unknown_ok_does_not() -> None:
    m = compute_metrics(call(
        utt(A, 0.0, 2.0, "Let me check that for you."),
        utt(U, 9.0, 9.6, "okay"),  # a backchannel-length scrap of unknown role: still on hold
        utt(C, 12.0, 13.0, "hello?"),
        utt(U, 20.0, 22.0, "so their number is"),  # unassigned, longer than a backchannel: the agent is back
        utt(A, 30.0, 33.0, "anything else?"),
        duration=35.0, channels=1,
    ))
    assert [(h.start, h.end) for h in m.holds] == [(2.0, 20.0)]
    assert m.as_dict()["dead_air_count"] == 0.0  # 22 → 30 is 8 s


@pytest.mark.parametrize(
    "text",
    [
        "Could you please hold for a moment",
        "please hole while I pull that up",  # misheard
        "bare with me",  # misheard
        "I'm going to put you on a brief hold",
        "give me a sec",
        "one moment please",
        "hang on, I don't see it",
        "don't hang up",
        "请稍等",
        "请您稍候",
        "请稍后，我这边查询一下",  # 稍候 misheard as 稍后
        "麻烦您等一下",
        "请不要挂机",
        "我给您核实一下",
    ],
)
def test_hold_announcements(text: str) -> None:
    m = compute_metrics(call(utt(A, 0.0, 2.0, text), utt(A, 12.0, 14.0, "ok"), duration=14.0))
    assert [(h.start, h.end) for h in m.holds] == [(2.0, 12.0)]


@pytest.mark.parametrize(
    "text",
    [
        "I'll call you back later today",
        "稍后给您回电",  # "later": a call-back, not a wait
        "the old card was cancelled",
        "your order is on hold at the warehouse",  # "on hold" alone is about the order, not the call
        "好的，没问题",
    ],
)
def test_not_hold_announcements(text: str) -> None:
    m = compute_metrics(call(utt(A, 0.0, 2.0, text), utt(A, 12.0, 14.0, "ok"), duration=14.0))
    assert m.holds == ()
    assert m.as_dict()["dead_air_count"] == 1.0


def test_customer_talking_while_the_agent_listens_is_not_a_hold() -> None:
    m = compute_metrics(
        call(
            utt(A, 0.0, 2.0, "Let me get your account number."),
            utt(C, 2.5, 9.5, "Sure, it's 4 4 7 1, then 9 0 2, and the sort code is 20 40 60"),
            utt(A, 10.0, 12.0, "Thank you."),
            duration=12.0,
        )
    )
    assert m.holds == ()  # 8 s without the agent, but only 1 s of silence


def test_short_wait_after_announcement_is_not_a_hold() -> None:
    m = compute_metrics(call(utt(A, 0.0, 2.0, "one moment"), utt(A, 4.0, 6.0, "there it is"), duration=6.0))
    assert m.holds == ()


def test_mono_overtalk_is_estimated_from_words_and_latched_changes() -> None:
    m = compute_metrics(
        call(
            # Utterance bounds overlap by VAD padding but the words leave a 0.5 s gap: no overtalk.
            utt(A, 0.0, 5.2, "how can I help", spread("how can I help", 0.2, 4.8)),
            utt(C, 5.0, 8.0, "my card was stolen", spread("my card was stolen", 5.3, 8.0)),
            # The customer starts on the agent's last word: 0.5 s of overlapping words.
            utt(A, 8.6, 12.0, "I am sorry to hear that", spread("I am sorry to hear that", 8.6, 12.0)),
            utt(C, 11.5, 15.0, "I need a new one today", spread("I need a new one today", 11.5, 15.0)),
            # A change of speaker with no gap at all (latched): estimated overtalk of unknown length.
            utt(A, 15.0, 15.4, "okay", spread("okay", 15.0, 15.4)),
            utt(C, 16.0, 18.0, "thank you", spread("thank you", 16.0, 18.0)),
            duration=18.0,
            channels=1,
        )
    )
    assert m.estimated
    assert [(o.start, o.end, o.by, o.interruption, o.estimated) for o in m.overtalks] == [
        (11.5, 12.0, C, True, True),
        (15.0, 15.0, A, False, True),  # 0.4 s "okay": a backchannel
    ]
    d = m.as_dict()
    assert d["overtalk_estimated"] == 1.0
    assert d["interruptions_by_customer"] == 1.0 and d["interruptions_by_agent"] == 0.0
    assert d["overtalk_total_s"] == pytest.approx(0.5)


def test_mono_overtalk_threshold_is_configurable() -> None:
    t = call(
        utt(A, 0.0, 3.0, "a b c", spread("a b c", 0.0, 3.0)),
        utt(C, 3.3, 6.0, "d e f", spread("d e f", 3.3, 6.0)),
        duration=6.0,
        channels=1,
    )
    assert compute_metrics(t).overtalks == ()
    latched = compute_metrics(t, MetricsOptions(mono_latch_gap_s=0.5)).overtalks
    assert [(o.start, o.by, o.interruption) for o in latched] == [(3.3, C, True)]


def test_unknown_speech_counts_in_talk_but_not_in_turns() -> None:
    d = compute_metrics(
        call(utt(A, 0.0, 2.0, "hello"), utt(U, 2.5, 4.5, "hm"), utt(A, 5.0, 6.0, "hello?"), duration=6.0)
    ).as_dict()
    assert d["talk_ratio_agent"] == pytest.approx(0.6)
    assert d["talk_ratio_unknown"] == pytest.approx(0.4)
    assert d["turn_count"] == 0.0


def test_metric_names_for_checklists() -> None:
    per_role = [
        f"{m}_{r}" for r in ("agent", "customer", "unknown") for m in ("talk_ratio", "utterances", "speech_rate")
    ]
    assert set(compute_metrics(STEREO).as_dict()) == {
        "duration_s", "speech_time_s", "speech_coverage", "turn_count", "silence_total_s", "silence_ratio",
        "longest_silence_s", "dead_air_count", "dead_air_total_s", "hold_count", "hold_total_s", "longest_hold_s",
        "overtalk_count", "overtalk_total_s", "overtalk_estimated", "interruptions_by_agent",
        "interruptions_by_customer", "response_count", "response_latency_mean_s", "response_latency_max_s",
        "talk_time_agent_s", "talk_time_customer_s", "talk_time_unknown_s", *per_role,
    }  # fmt: skip


def test_empty_call() -> None:
    d = compute_metrics(call(duration=30.0)).as_dict()
    assert d["duration_s"] == 30.0 and d["silence_total_s"] == 30.0 and d["silence_ratio"] == 1.0
    nonzero = ("duration_s", "silence_total_s", "silence_ratio")
    assert all(v == 0.0 for k, v in d.items() if k not in nonzero)


@pytest.mark.parametrize(
    ("transcript", "fragment"),
    [
        (call(utt(A, 0.0, 1.0), utt(C, 3.0, 2.0), duration=5.0), "utterances[1]"),
        (call(utt(A, -1.0, 1.0), duration=5.0), "utterances[0]"),
        (call(utt(A, 0.0, math.nan), duration=5.0), "finite"),
        (call(utt(A, 0.0, 1.0, "x", (Word(2.0, 1.0, "x", 1.0),)), duration=5.0), "utterances[0].words[0]"),
        (call(duration=-1.0), "Transcript.duration"),
        (call(duration=5.0, channels=0), "Transcript.channels"),
    ],
)
def test_bad_transcripts_are_named(transcript: Transcript, fragment: str) -> None:
    with pytest.raises(MetricsInputError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        compute_metrics(transcript)


def test_bad_options_are_named() -> None:
    with pytest.raises(MetricsInputError, match="dead_air_s"):
        MetricsOptions(dead_air_s=-1)
    with pytest.raises(MetricsInputError, match="hold_patterns"):
        MetricsOptions(hold_patterns=("(unclosed",))


def check_invariants(m: CallMetrics) -> None:
    d = m.as_dict()
    assert all(math.isfinite(v) and v >= 0 for v in d.values()), d
    talk = d["talk_time_agent_s"] + d["talk_time_customer_s"] + d["talk_time_unknown_s"]
    assert d["talk_ratio_agent"] + d["talk_ratio_customer"] <= 1 + 1e-9
    if talk > 0:
        assert d["talk_ratio_agent"] + d["talk_ratio_customer"] + d["talk_ratio_unknown"] == pytest.approx(1)
    assert d["silence_total_s"] + d["speech_time_s"] == pytest.approx(d["duration_s"])
    assert d["speech_time_s"] <= talk + 1e-9  # talk counts overlapping speech once per role
    assert d["silence_total_s"] + talk <= d["duration_s"] + (talk - d["speech_time_s"]) + 1e-9
    assert d["longest_silence_s"] <= d["silence_total_s"] + 1e-9
    assert d["silence_ratio"] + d["speech_coverage"] == pytest.approx(1.0 if d["duration_s"] > 0 else 0.0)
    assert d["dead_air_total_s"] <= d["silence_total_s"] + 1e-9
    assert d["interruptions_by_agent"] + d["interruptions_by_customer"] <= d["overtalk_count"]
    assert d["turn_count"] <= max(0, d["utterances_agent"] + d["utterances_customer"] - 1)
    assert d["response_count"] <= d["utterances_agent"]
    for h in m.holds:
        assert 0 <= h.start < h.end <= m.duration_s
    for o in m.overtalks:
        assert 0 <= o.start <= o.end <= m.duration_s
    assert m.estimated == (d["overtalk_estimated"] == 1.0)


def random_call(rng: random.Random, channels: int) -> Transcript:
    utts, t = [], rng.uniform(0, 3)
    for _ in range(rng.randint(0, 40)):
        start = max(0.0, t + rng.uniform(-1.5, 12))
        end = start + rng.uniform(0, 8)
        role = rng.choice([A, A, C, C, U])
        text = rng.choice(["please hold", "请稍等", "ok", "我的订单还没到", "where is my refund", ""])
        utts.append(utt(role, round(start, 2), round(end, 2), text))
        t = end
    return call(*utts, duration=round(t + rng.uniform(0, 5), 2), channels=channels)


@pytest.mark.parametrize("channels", [1, 2])
def test_invariants_on_random_calls(channels: int) -> None:
    rng = random.Random(channels)
    for _ in range(300):
        check_invariants(compute_metrics(random_call(rng, channels)))


def test_stereo_overtalk_equals_overlap_of_the_two_parties() -> None:
    # With no threshold and no overlap within a party, overtalk is exactly talk counted twice.
    rng = random.Random(7)
    opts = MetricsOptions(min_overtalk_s=0.0)
    for _ in range(200):
        t = random_call(rng, 2)
        parties = [u for u in t.utterances if u.role is not U]
        own_overlap = any(
            u.role is v.role and u.start < v.end and v.start < u.end
            for i, u in enumerate(parties)
            for v in parties[i + 1 :]
        )
        if own_overlap:
            continue
        d = compute_metrics(call(*parties, duration=t.duration), opts).as_dict()
        assert d["overtalk_total_s"] == pytest.approx(
            d["talk_time_agent_s"] + d["talk_time_customer_s"] - d["speech_time_s"]
        )


def real_call() -> Transcript:
    """The real 8 kHz mono call: Whisper's words grouped by the hand-labelled speaker turns."""
    whisper = json.loads((DATA / "real_call_whisper.json").read_text())
    labels = json.loads((DATA / "real_call_roles.json").read_text())
    words = [Word(s, e, t, p) for seg in whisper["segments"] for s, e, t, p in seg["words"]]
    utts = []
    for lab in labels:
        mine = tuple(w for w in words if lab["start"] - 0.01 <= (w.start + w.end) / 2 <= lab["end"] + 0.01)
        text = "".join(w.text for w in mine).strip()
        utts.append(utt(Role(lab["role"]), lab["start"], lab["end"], text, mine))
    return Transcript(tuple(utts), duration=whisper["duration"], language="en", channels=1)


def test_real_call() -> None:
    m = compute_metrics(real_call())
    check_invariants(m)
    # The agent says "Give me a second. Let me just…" (219–221 s), looks through the desk and goes quiet
    # at 230.87 s until "Yeah, they should be able to handle the oil change" at 258.72 s.
    assert [(h.start, h.end) for h in m.holds] == [(230.87, 258.72)]
    assert m.holds[0].announcement.startswith("Give me a second")
    # The only unannounced pause of 10 s or more: 138.91 → 149.9 s, while the agent reads up on the warranty.
    assert [(g.start, g.end) for g in m.silences if g.dead_air] == [(138.91, 149.9)]
    assert m.estimated and m.duration_s == 277.66


def real_call_all_words() -> Transcript:
    """The real call with every word Whisper heard: hand-labelled spans keep their role and bounds, the words
    the labels leave out become utterances of unknown role (split at pauses over 1 s), as a stored transcript
    of a mono call has them."""
    whisper = json.loads((DATA / "real_call_whisper.json").read_text())
    labels = json.loads((DATA / "real_call_roles.json").read_text())
    words = [Word(s, e, t, p) for seg in whisper["segments"] for s, e, t, p in seg["words"]]

    def span_of(w: Word) -> int | None:
        mid = (w.start + w.end) / 2
        return next((i for i, lab in enumerate(labels) if lab["start"] - 0.01 <= mid <= lab["end"] + 0.01), None)

    groups: list[tuple[int | None, list[Word]]] = []
    for w in words:
        key = span_of(w)
        if groups and groups[-1][0] == key and (key is not None or w.start - groups[-1][1][-1].end <= 1.0):
            groups[-1][1].append(w)
        else:
            groups.append((key, [w]))
    utts = []
    for key, ws in groups:
        text = "".join(w.text for w in ws).strip()
        if key is None:
            utts.append(utt(U, ws[0].start, ws[-1].end, text, tuple(ws)))
        else:
            lab = labels[key]
            utts.append(utt(Role(lab["role"]), lab["start"], lab["end"], text, tuple(ws)))
    return Transcript(tuple(utts), duration=whisper["duration"], language="en", channels=1)


def test_real_call_metrics_match_the_audio() -> None:
    """Every figure inside the bounds established from the audio (tests/data/real_call_metrics.json)."""
    spec = json.loads((DATA / "real_call_metrics.json").read_text())["expected"]
    t = real_call_all_words()
    assert sum(len(u.words) for u in t.utterances) == sum(
        len(s["words"]) for s in json.loads((DATA / "real_call_whisper.json").read_text())["segments"])
    m = compute_metrics(t)
    check_invariants(m)
    d = m.as_dict()
    (hold,) = m.holds
    measured = {**d, "hold_start_s": hold.start, "hold_end_s": hold.end,
                "speech_rate_ratio_agent_customer": d["speech_rate_agent"] / d["speech_rate_customer"]}
    outside = {name: (round(measured[name], 3), b["min"], b["max"]) for name, b in spec.items()
               if not b["min"] <= measured[name] <= b["max"]}
    assert outside == {}, outside
    assert len(spec) == 12 and hold.announcement.startswith("Give me a second")


def test_synthetic_stereo_bank_call() -> None:
    """The rendered two-channel bank call: its script gives every turn's exact start and end."""
    import soundfile as sf

    script = json.loads((DATA / "synth" / "en_bank.script.json").read_text())
    turns = script["turns"]
    duration = sf.info(str(DATA / "synth" / "en_bank_stereo.wav")).duration
    m = compute_metrics(
        call(*(utt(Role(t["role"]), t["start"], t["end"], t["text"]) for t in turns), duration=duration)
    )
    check_invariants(m)
    hold_from = next(t for t in turns if "please hold" in t["text"].lower())["end"]
    hold_to = next(t for t in turns if "thank you for holding" in t["text"].lower())["start"]
    assert [(h.start, h.end) for h in m.holds] == [(hold_from, hold_to)]
    assert m.as_dict()["dead_air_count"] == 0.0  # the 20 s wait was announced
    assert m.overtalks == ()
    # The script leaves 0.7 s between turns; the resumption after the hold is not a response.
    assert m.response_latencies == pytest.approx((0.7, 0.7, 0.7))
    assert m.turn_count == 6


def test_fast_enough() -> None:
    import time

    t = real_call()
    began = time.perf_counter()
    for _ in range(50):
        compute_metrics(t)
    per_call = (time.perf_counter() - began) / 50
    assert per_call < 0.02, f"{per_call * 1000:.1f} ms per call"  # Whisper needs ~30 s for this call


# --- The emotion evaluation set (data/emotion/, docs/emotion.md) --------------------------------------------
# Conversation metrics and the emotion set are the two halves of the same issue; these checks keep the set
# usable as an evaluation set: size, balance, a fixed stratified split, and prototypes that are not test rows.

EMOTION = Path(__file__).resolve().parents[2] / "data" / "emotion"
EMOTIONS = {"angry", "frustrated", "neutral", "satisfied"}
HAN = re.compile(r"[\u4e00-\u9fff]")


def read_rows(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (EMOTION / name).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def test_emotion_eval_set_is_balanced_and_split_by_cell() -> None:
    header, rows = read_rows("eval.csv")
    assert header == ["text", "language", "label", "split", "speaker_role"]
    assert len(rows) >= 400
    assert {r["language"] for r in rows} == {"zh", "en"}
    assert {r["label"] for r in rows} == EMOTIONS
    assert {r["split"] for r in rows} == {"tune", "test"}
    assert {r["speaker_role"] for r in rows} == {"customer", "agent"}
    cells = Counter((r["language"], r["label"]) for r in rows)
    assert len(cells) == 8 and min(cells.values()) >= 45, cells
    for lang, label in cells:
        splits = Counter(r["split"] for r in rows if (r["language"], r["label"]) == (lang, label))
        assert abs(splits["tune"] - splits["test"]) <= 1, (lang, label, splits)
    texts = [r["text"].strip().lower() for r in rows]
    assert len(set(texts)) == len(texts), [t for t, n in Counter(texts).items() if n > 1]


def test_emotion_texts_match_their_language() -> None:
    from opencc import OpenCC

    t2s = OpenCC("t2s")
    _, rows = read_rows("eval.csv")
    for r in rows:
        assert r["text"].strip(), r
        if r["language"] == "zh":
            assert HAN.search(r["text"]) and t2s.convert(r["text"]) == r["text"], r["text"]
        else:
            assert not HAN.search(r["text"]), r["text"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_emotion_prototypes_are_not_eval_rows(lang: str) -> None:
    from rapidfuzz import fuzz, process

    header, protos = read_rows(f"prototypes_{lang}.csv")
    assert header == ["text", "label"]
    per_class = Counter(p["label"] for p in protos)
    assert set(per_class) == EMOTIONS and all(25 <= n <= 40 for n in per_class.values()), per_class
    assert all(bool(HAN.search(p["text"])) == (lang == "zh") for p in protos)
    evals = [r["text"] for r in read_rows("eval.csv")[1]]
    for p in protos:
        match = process.extractOne(p["text"], evals, scorer=fuzz.ratio)
        assert match is not None and match[1] < 85, f"prototype {p['text']!r} copies eval row {match[0]!r}"


def test_emotion_lexicon_is_well_formed() -> None:
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load((EMOTION / "lexicon.yaml").read_text(encoding="utf-8"))
    assert data.pop("version") == 1
    assert set(data) <= EMOTIONS and {"angry", "frustrated", "satisfied"} <= set(data)
    owner: dict[tuple[str, str], str] = {}
    for label, categories in data.items():
        for category, langs in categories.items():
            assert set(langs) <= {"en", "zh"}, (label, category)
            for lang, phrases in langs.items():
                for phrase, weight in phrases.items():
                    key = (lang, str(phrase))
                    assert key not in owner, f"{phrase!r} is under both {owner[key]} and {label}"
                    owner[key] = label
                    assert isinstance(weight, float) and 0 < weight <= 3, (phrase, weight)
                    assert str(phrase) == str(phrase).lower().strip(), phrase
    for needed in [("zh", "投诉"), ("zh", "12315"), ("zh", "太过分了"), ("en", "speak to your manager")]:
        assert owner.get(needed) == "angry", needed
