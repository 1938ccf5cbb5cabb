"""The engine on hand-made calls: matching, windows, counts, exclusions, roles and honest uncertainty."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from core.scorecard import CallScorecard, Verdict
from core.types import CallMetadata, Role, Transcript, Utterance, Word
from rules.engine import score_call
from rules.loader import load_checklist
from rules.model import Checklist

HEADER = """id: t
version: 1
title: test
language: en
define:
  hold: {role: agent, phrases: [please hold]}
sections:
  - id: s
    title: S
    weight: 100
    items:
      - id: item
        title: Item
        points: 10
        message: What was missed, why it matters, what to say instead.
        examples:
          pass: [["AGENT: x"], ["AGENT: y"]]
          fail: [["AGENT: x"], ["AGENT: y"]]
"""


def checklist(tmp_path: Path, condition: str, applies_when: str = "", uncertain_when: str = "") -> Checklist:
    """A one-item checklist whose item has the given condition (YAML flow text)."""
    text = HEADER + f"        condition: {condition}\n"
    if applies_when:
        text += f"        applies_when: {applies_when}\n"
    if uncertain_when:
        text += f"        uncertain_when: {uncertain_when}\n"
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    return load_checklist(path)


def utt(role: str, start: float, end: float, text: str, **kw: object) -> Utterance:
    return Utterance(start, end, text, Role(role), role_confidence=kw.pop("role_confidence", 1.0),  # type: ignore[arg-type]
                     confidence=kw.pop("confidence", 1.0), words=kw.pop("words", ()))  # type: ignore[arg-type]  # fmt: skip


def words(start: float, text: str, probability: float = 0.9, step: float = 0.5) -> tuple[Word, ...]:
    return tuple(Word(start + i * step, start + (i + 1) * step - 0.1, w, probability)
                 for i, w in enumerate(text.split()))  # fmt: skip


def call(*utterances: Utterance, duration: float | None = None) -> Transcript:
    end = duration if duration is not None else max((u.end for u in utterances), default=0.0)
    return Transcript(tuple(utterances), end, "en")


def item_of(card: CallScorecard) -> tuple[Verdict, tuple]:  # type: ignore[type-arg]
    v = card.item("item")
    return v.verdict, v.evidence


def test_fuzzy_match_is_aligned_to_word_times(tmp_path: Path) -> None:
    c = checklist(tmp_path, "{says: {role: agent, match: fuzzy, threshold: 85, phrases: [thank you for calling]}}")
    text = "Hi, thank you for colling Acme today"
    card = score_call(c, call(utt("agent", 10.0, 14.0, text, words=words(10.0, text))))
    verdict, evidence = item_of(card)
    assert verdict is Verdict.PASS
    hit = evidence[0]
    assert (hit.start, hit.end, hit.text) == (10.5, 12.4, "thank you for colling")
    assert 0.85 <= hit.similarity < 1.0 and hit.match == "fuzzy" and hit.pattern == "thank you for calling"
    assert hit.confidence == pytest.approx(0.9)


def test_exact_match_needs_whole_words_in_english_and_characters_in_mandarin(tmp_path: Path) -> None:
    c = checklist(tmp_path, "{says: {role: agent, phrases: [hold, 稍等]}}")
    assert item_of(score_call(c, call(utt("agent", 0, 3, "The household will withhold it"))))[0] is Verdict.FAIL
    assert item_of(score_call(c, call(utt("agent", 0, 3, "Can you HOLD?"))))[0] is Verdict.PASS
    assert item_of(score_call(c, call(utt("agent", 0, 3, "请您稍等一下"))))[0] is Verdict.PASS


def test_first_seconds_window_uses_the_words_time_not_the_utterance(tmp_path: Path) -> None:
    c = checklist(tmp_path, "{says: {role: agent, window: {first_seconds: 15}, phrases: [welcome]}}")
    early = "so yes welcome"  # "welcome" starts at 14.0 s inside an utterance starting at 13.0 s
    late = "so yes well welcome"  # "welcome" starts at 15.5 s
    assert item_of(score_call(c, call(utt("agent", 13.0, 16.0, early, words=words(13.0, early)))))[0] is Verdict.PASS
    assert item_of(score_call(c, call(utt("agent", 14.0, 17.0, late, words=words(14.0, late)))))[0] is Verdict.FAIL


def test_last_percent_and_utterance_windows(tmp_path: Path) -> None:
    c = checklist(tmp_path, "{says: {role: agent, window: {last_percent: 20}, phrases: [goodbye]}}")
    lines = [utt("agent", 0, 10, "goodbye"), utt("customer", 10, 90, "long story"), utt("agent", 90, 100, "okay")]
    assert item_of(score_call(c, call(*lines)))[0] is Verdict.FAIL
    lines[-1] = utt("agent", 90, 100, "goodbye then")
    assert item_of(score_call(c, call(*lines)))[0] is Verdict.PASS
    c2 = checklist(tmp_path, "{says: {role: agent, window: {first_utterances: 1}, phrases: [hello]}}")
    assert item_of(score_call(c2, call(utt("customer", 0, 1, "hi"), utt("agent", 1, 2, "hello"))))[0] is Verdict.FAIL
    assert item_of(score_call(c2, call(utt("agent", 0, 1, "hello"), utt("agent", 1, 2, "x"))))[0] is Verdict.PASS


def test_counts_at_most_and_at_least(tmp_path: Path) -> None:
    c = checklist(tmp_path, "{says: {role: agent, phrases: [sorry], at_most: 2}}")
    two = call(utt("agent", 0, 2, "sorry, sorry"), utt("customer", 2, 3, "sorry"))
    assert item_of(score_call(c, two))[0] is Verdict.PASS  # the customer's "sorry" does not count
    verdict, evidence = item_of(score_call(c, call(utt("agent", 0, 2, "sorry sorry"), utt("agent", 2, 3, "so sorry"))))
    assert verdict is Verdict.FAIL and len(evidence) == 3
    c2 = checklist(tmp_path, "{says: {role: agent, phrases: [okay], at_least: 2}}")
    assert item_of(score_call(c2, call(utt("agent", 0, 2, "okay"))))[0] is Verdict.FAIL


def test_unless_excludes_a_hit_nearby(tmp_path: Path) -> None:
    c = checklist(tmp_path, "{not: {says: {role: agent, phrases: [call another department], "
                            "unless: [not asking you to], unless_seconds: 5}}}")  # fmt: skip
    said = call(utt("agent", 0, 3, "I'm not asking you to call another department"))
    verdict, evidence = item_of(score_call(c, said))
    assert verdict is Verdict.PASS and evidence[0].kind == "excluded"
    split = call(utt("agent", 0, 3, "I'm not asking you to"), utt("agent", 4, 6, "call another department"))
    assert item_of(score_call(c, split))[0] is Verdict.PASS
    far = call(utt("agent", 0, 3, "I'm not asking you to"), utt("agent", 30, 33, "call another department"))
    assert item_of(score_call(c, far))[0] is Verdict.FAIL


def test_within_turns_after_an_anchor(tmp_path: Path) -> None:
    c = checklist(tmp_path, "{says: {role: agent, phrases: [thanks for holding], within: {after: hold, turns: 2}}}")
    ok = call(utt("agent", 0, 2, "please hold"), utt("customer", 2, 3, "sure"),
              utt("agent", 120, 122, "thanks for holding"))  # fmt: skip
    assert item_of(score_call(c, ok))[0] is Verdict.PASS  # two minutes of hold, but only two turns
    before = call(utt("agent", 0, 2, "thanks for holding"), utt("agent", 3, 4, "please hold"))
    assert item_of(score_call(c, before))[0] is Verdict.FAIL
    late = call(utt("agent", 0, 2, "please hold"), utt("customer", 2, 3, "a"), utt("agent", 3, 4, "b"),
                utt("customer", 4, 5, "c"), utt("agent", 5, 6, "thanks for holding"))  # fmt: skip
    assert item_of(score_call(c, late))[0] is Verdict.FAIL


def test_every_anchor_counts_however_many_there_are(tmp_path: Path) -> None:
    """A predicate others are measured from finds all its hits: the fifth hold needs its thanks too, and
    thanks after the fifth hold counts (the search of an ordinary predicate stops once it is satisfied)."""
    each = checklist(tmp_path, "{says: {role: agent, phrases: [thanks for holding], "
                               "within: {after: hold, turns: 1, each: true}}}")  # fmt: skip
    holds = [u for k in range(5) for u in (utt("agent", 20 * k, 20 * k + 2, "please hold"),
                                           utt("agent", 20 * k + 10, 20 * k + 12, "thanks for holding"))]  # fmt: skip
    assert item_of(score_call(each, call(*holds)))[0] is Verdict.PASS
    assert item_of(score_call(each, call(*holds[:-1])))[0] is Verdict.FAIL  # the fifth hold is not thanked
    after = checklist(tmp_path, "{says: {role: agent, phrases: [thanks for holding], within: {after: hold, turns: 1}}}")
    unthanked = [utt("agent", 20 * k, 20 * k + 2, "please hold") for k in range(5)]
    verdict, evidence = item_of(score_call(after, call(*unthanked, utt("agent", 90, 92, "thanks for holding"))))
    assert verdict is Verdict.PASS and [e.start for e in evidence] == [90]


def test_a_pass_quotes_the_first_hit_and_a_banned_phrase_up_to_three(tmp_path: Path) -> None:
    lines = [utt("agent", 10 * k, 10 * k + 2, "call another department") for k in range(5)]
    said = checklist(tmp_path, "{says: {role: agent, phrases: [another department]}}")
    verdict, evidence = item_of(score_call(said, call(*lines)))
    assert verdict is Verdict.PASS and [e.start for e in evidence] == [0]
    banned = checklist(tmp_path, "{not: {says: {role: agent, phrases: [another department]}}}")
    verdict, evidence = item_of(score_call(banned, call(*lines)))
    assert verdict is Verdict.FAIL and [e.start for e in evidence] == [0, 10, 20]
    twice = checklist(tmp_path, "{says: {role: agent, phrases: [another department], at_least: 2}}")
    assert [e.start for e in item_of(score_call(twice, call(*lines)))[1]] == [0, 10]


def test_low_confidence_words_make_a_verdict_uncertain_both_ways(tmp_path: Path) -> None:
    required = checklist(tmp_path, "{says: {role: agent, phrases: [thank you for calling]}}")
    weak = utt("agent", 0, 3, "thank you for calling", words=words(0, "thank you for calling", probability=0.3))
    card = score_call(required, call(weak))
    assert item_of(card)[0] is Verdict.UNCERTAIN and card.needs_review
    assert card.total is None  # nothing counted: no points moved
    banned = checklist(tmp_path, "{not: {says: {role: agent, phrases: [calm down]}}}")
    weak = utt("agent", 0, 3, "calm down", confidence=0.3)
    assert item_of(score_call(banned, call(weak)))[0] is Verdict.UNCERTAIN  # never a deduction on misheard words


def test_uncertain_role_makes_a_hit_unreliable(tmp_path: Path) -> None:
    c = checklist(tmp_path, "{not: {says: {role: agent, phrases: [calm down]}}}")
    unsure = utt("customer", 0, 3, "calm down", role_confidence=0.4)
    verdict, evidence = item_of(score_call(c, call(unsure)))
    assert verdict is Verdict.UNCERTAIN and "role confidence 0.40" in evidence[0].note
    sure = utt("customer", 0, 3, "calm down", role_confidence=0.95)
    assert item_of(score_call(c, call(sure)))[0] is Verdict.PASS


def test_absence_over_unreliable_transcript_is_uncertain_not_fail(tmp_path: Path) -> None:
    c = checklist(tmp_path, "{says: {role: agent, window: {first_seconds: 15}, phrases: [hello]}}")
    mumble = call(utt("agent", 0, 5, "hollow there", confidence=0.35), utt("agent", 20, 25, "ok", confidence=0.95))
    verdict, evidence = item_of(score_call(c, mumble))
    assert verdict is Verdict.UNCERTAIN
    assert evidence[-1].kind == "absent" and not evidence[-1].reliable
    clear = call(utt("agent", 0, 5, "what do you want", confidence=0.95))
    assert item_of(score_call(c, clear))[0] is Verdict.FAIL


def test_an_empty_transcript_never_fails_a_required_phrase(tmp_path: Path) -> None:
    c = checklist(tmp_path, "{says: {role: agent, phrases: [hello]}}")
    assert item_of(score_call(c, call(duration=60.0)))[0] is Verdict.UNCERTAIN


def test_metadata_missing_is_na_in_applies_when_and_uncertain_in_a_condition(tmp_path: Path) -> None:
    c = checklist(tmp_path, "{metadata: {field: hangup_by, equals: customer}}",
                  "{metadata: {field: hangup_by, in: [customer, agent]}}")  # fmt: skip
    transcript = call(utt("agent", 0, 1, "bye"))
    assert item_of(score_call(c, transcript))[0] is Verdict.NA
    assert item_of(score_call(c, transcript, CallMetadata(hangup_by="Customer")))[0] is Verdict.PASS
    assert item_of(score_call(c, transcript, CallMetadata(hangup_by="agent")))[0] is Verdict.FAIL
    no_guard = checklist(tmp_path, "{metadata: {field: hangup_by, equals: customer}}")
    assert item_of(score_call(no_guard, transcript))[0] is Verdict.UNCERTAIN


def test_duration_and_metrics(tmp_path: Path) -> None:
    c = checklist(tmp_path, "{metadata: {field: duration, at_most: 600}}")
    assert item_of(score_call(c, call(utt("agent", 0, 1, "x"), duration=601.0)))[0] is Verdict.FAIL
    silence = checklist(tmp_path, "{metric: {name: longest_silence_s, at_most: 30}}")
    gap = call(utt("agent", 0, 1, "x"), utt("agent", 41, 42, "y"))
    verdict, evidence = item_of(score_call(silence, gap))
    assert verdict is Verdict.FAIL and evidence[0].text == "longest_silence_s = 40"  # computed from the transcript
    assert item_of(score_call(silence, gap, metrics={"longest_silence_s": 12.0}))[0] is Verdict.PASS  # given wins
    anger = checklist(tmp_path, "{metric: {name: customer_anger_max, at_most: 0.5}}")
    assert item_of(score_call(anger, gap))[0] is Verdict.UNCERTAIN  # not measured: never a deduction


def test_repeats_detects_details_read_back(tmp_path: Path) -> None:
    c = checklist(tmp_path, "{repeats: {role: agent, min_words: 2}}")
    echoed = call(utt("customer", 0, 3, "My phone number is 555 0199"), utt("agent", 3, 6, "5550199, okay"))
    verdict, evidence = item_of(score_call(c, echoed))
    assert verdict is Verdict.PASS and evidence[0].pattern == "repeats: 5550199"
    other = call(utt("customer", 0, 3, "My phone number is 555 0199"), utt("agent", 3, 6, "Okay, one moment"))
    assert item_of(score_call(c, other))[0] is Verdict.FAIL


class FakeEmbedder:
    """Vectors from a fixed table: enough to test the similar-matching code without the model."""

    TABLE: ClassVar[dict[str, list[float]]] = {
        "I get why that annoys you": [1.0, 0.0],
        "that must be frustrating": [0.96, 0.28],
        "your order ships today": [0.0, 1.0],
    }

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return np.array([self.TABLE[t] for t in texts], dtype=np.float32)


def test_similar_matches_by_meaning_with_an_injected_embedder(tmp_path: Path) -> None:
    from rules.engine import score_call

    c = checklist(tmp_path, "{says: {role: agent, match: similar, threshold: 0.9, "
                            "phrases: [that must be frustrating]}}")  # fmt: skip
    assert c.uses_similar
    fake = FakeEmbedder()
    card = score_call(c, call(utt("agent", 0, 2, "I get why that annoys you")), embedder=lambda: fake)
    verdict, evidence = item_of(card)
    assert verdict is Verdict.PASS and evidence[0].similarity == pytest.approx(0.96, abs=1e-3)
    card = score_call(c, call(utt("agent", 0, 2, "your order ships today")), embedder=lambda: fake)
    assert item_of(card)[0] is Verdict.FAIL


def test_checklists_without_similar_never_load_the_embedding_model(tmp_path: Path) -> None:
    from rules.engine import score_call

    c = checklist(tmp_path, "{says: {role: agent, phrases: [hello]}}")
    assert not c.uses_similar

    def refuse() -> FakeEmbedder:
        raise AssertionError("the embedder was loaded")

    assert item_of(score_call(c, call(utt("agent", 0, 1, "hello")), embedder=refuse))[0] is Verdict.PASS


def test_rules_import_neither_prefect_nor_duckdb() -> None:
    code = ("import sys, rules.engine, rules.loader, rules.examples, core.scorecard, callqa.cli_rules; "
            "print(sorted(m for m in ('prefect', 'duckdb') if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_similar_with_the_packaged_embedding_model() -> None:
    """The real multilingual model: paraphrases of empathy pass, service routine does not (both languages)."""
    from rules.examples import run_item

    checklist = load_checklist(Path(__file__).parents[1] / "rules" / "similar" / "empathy_similar.yaml")
    assert checklist.uses_similar
    results = run_item(checklist, checklist.item("empathy"))
    assert [(r.example.expect, str(r.verdict.verdict)) for r in results] == [
        ("pass", "pass"), ("pass", "pass"), ("fail", "fail"), ("fail", "fail")]  # fmt: skip
    hit = results[0].verdict.evidence[0]
    assert hit.match == "similar" and 0.9 <= hit.similarity < 1.0
    assert hit.text == "Oh no, I'm so sorry that happened to you"  # the whole utterance, as heard


def test_overlapping_phrases_of_different_predicates_are_all_found(tmp_path: Path) -> None:
    """One pass over the call finds every exact phrase, even those starting inside another one's match."""
    phrases = ["thank you for calling", "you for", "calling", "为您服务", "服务"]
    condition = ", ".join(f"{{says: {{role: agent, phrases: [{p}]}}}}" for p in phrases)
    c = checklist(tmp_path, f"{{all: [{condition}]}}")
    assert item_of(score_call(c, call(utt("agent", 0, 3, "Thank you for calling, 很高兴为您服务"))))[0] is Verdict.PASS
    assert item_of(score_call(c, call(utt("agent", 0, 3, "Thank you for calling, 很高兴为您"))))[0] is Verdict.FAIL


def test_uncertain_when_turns_a_fail_into_uncertain_and_leaves_passes_alone(tmp_path: Path) -> None:
    ck = checklist(tmp_path, "{says: {role: agent, phrases: [goodbye]}}",
                   uncertain_when="{says: {role: agent, window: {last_utterances: 1}, phrases: [send us a message]}}")
    cut = call(utt("customer", 0, 2, "my parcel is late"), utt("agent", 3, 5, "please send us a message"))
    verdict, evidence = item_of(score_call(ck, cut))
    assert verdict is Verdict.UNCERTAIN and [e.text for e in evidence if e.kind == "hit"] == ["send us a message"]
    assert score_call(ck, cut).item("item").reason.startswith("not found, but the agent says 'send us a message'")
    ended = call(utt("customer", 0, 2, "my parcel is late"), utt("agent", 3, 5, "it comes tomorrow"))
    assert item_of(score_call(ck, ended))[0] is Verdict.FAIL
    closed = call(utt("agent", 0, 2, "send us a message"), utt("agent", 3, 5, "goodbye"))
    assert item_of(score_call(ck, closed))[0] is Verdict.PASS
    # the doubt heard unreliably is unknown, which is doubt enough (the customer's words, searched in vain,
    # were heard well: no second look would save the fail)
    ck = checklist(tmp_path, "{says: {role: customer, phrases: [thanks]}}",
                   uncertain_when="{says: {role: agent, phrases: [send us a message]}}")
    murky = call(utt("customer", 0, 2, "my parcel is late", words=words(0, "my parcel is late")),
                 utt("agent", 3, 5, "please send us a message", confidence=0.2,
                     words=words(3, "please send us a message", probability=0.2)))
    card = score_call(ck, murky)
    assert item_of(card)[0] is Verdict.UNCERTAIN and card.item("item").reason.startswith("not found, but")
    clear = call(utt("customer", 0, 2, "my parcel is late", words=words(0, "my parcel is late")),
                 utt("agent", 3, 5, "it comes tomorrow", words=words(3, "it comes tomorrow")))
    assert item_of(score_call(ck, clear))[0] is Verdict.FAIL


def test_an_entity_predicate_finds_the_placeholder_redaction_left_never_the_word(tmp_path: Path) -> None:
    """A checklist tests that a phone number or an ID was given without ever needing its value (issue 14)."""
    from pipeline.redact import redact_transcript

    c = checklist(tmp_path, "{says: {role: customer, entity: [phone, id]}}")
    said = redact_transcript(call(utt("agent", 0.0, 2.0, "can I have your phone number please"),
                                  utt("customer", 2.5, 5.0, "sure it's 138 1234 5678")))
    assert [u.text for u in said.transcript.utterances] == ["can I have your phone number please", "sure it's [PHONE]"]
    verdict, evidence = item_of(score_call(c, said.transcript))
    assert verdict is Verdict.PASS
    assert (evidence[0].text, evidence[0].pattern, evidence[0].role) == ("[PHONE]", "[PHONE]", "customer")
    # the word "phone" (or "ID") said aloud is not a placeholder
    verdict, _ = item_of(score_call(c, call(utt("customer", 0.0, 2.0, "my phone id is broken"))))
    assert verdict is Verdict.FAIL


def test_an_entity_predicate_is_matched_exactly_and_named_in_the_error(tmp_path: Path) -> None:
    from rules.diagnostics import ChecklistError

    with pytest.raises(ChecklistError, match="'entity' is matched exactly"):
        checklist(tmp_path, "{says: {role: customer, match: fuzzy, entity: [phone]}}")
    with pytest.raises(ChecklistError, match="entity"):
        checklist(tmp_path, "{says: {role: customer, entity: [passport]}}")
