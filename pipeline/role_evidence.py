"""Evidence of who is the agent, from what each speaker says and from an enrolled voiceprint.

Content evidence is a sum of phrase weights (``pipeline.role_phrases``) per speaker; the decision
combines it with who spoke first and, when available, with how close each speaker's voice is to the
agent's enrolled voiceprint. All terms are log-odds, so the confidence is a logistic of their sum.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import opencc
from rapidfuzz import fuzz

from core.types import Role, RoleDecision, Utterance
from pipeline import role_phrases as rp

FIRST_SPEAKER_LOGIT = 0.35  # inbound agents usually greet first, but outbound callees say "hello" first
VOICEPRINT_SCALE = 12.0  # log-odds per unit of cosine-similarity difference to the voiceprint
_FUZZ_EN = 85.0
_FUZZ_ZH = 75.0
_CJK = re.compile(r"[\u3400-\u9fff]")
_t2s = opencc.OpenCC("t2s")


@dataclass(frozen=True, slots=True)
class PhraseHit:
    """One phrase found in a speaker's speech.

    Attributes:
        kind: ``agent``/``customer`` phrase, ``company`` name or ``self_intro``.
        phrase: the listed phrase (never the transcript text, which may hold personal data).
        weight: log-odds contributed; positive means "agent".
        start: when the utterance holding it starts.
    """

    speaker: str
    kind: str
    phrase: str
    weight: float
    start: float


@dataclass(frozen=True, slots=True)
class SpeakerEvidence:
    """What one speaker said that tells their role."""

    speaker: str
    first_start: float
    speech_time: float
    hits: tuple[PhraseHit, ...] = ()

    @property
    def score(self) -> float:
        """Net log-odds that this speaker is the agent, from content alone."""
        return sum(h.weight for h in self.hits)


def normalise(text: str) -> str:
    """Lower-case, Simplified Chinese, no punctuation, apostrophes dropped, single spaces."""
    text = _t2s.convert(unicodedata.normalize("NFKC", text)).lower().replace("'", "").replace("’", "")
    text = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in text)
    text = " ".join(text.split())
    # Mandarin is written without spaces; Whisper sometimes inserts them between characters.
    return re.sub(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])", "", text)


@lru_cache(maxsize=4096)
def _norm_phrase(phrase: str) -> str:
    return normalise(phrase)


def phrase_match(phrase: str, text: str) -> tuple[float, int, int]:
    """How well ``phrase`` occurs in ``text`` (both normalised): score 0–100 and the matched span.

    Short phrases must occur exactly (as whole words in English): fuzzy matching of three letters
    matches everything. Longer ones are matched fuzzily against the best-aligned part of the text,
    but never against a text shorter than the phrase (that would score a fragment as a full hit).
    """
    zh = bool(_CJK.search(phrase))
    if (zh and len(phrase) <= 4) or (not zh and len(phrase) <= 5):
        m = re.search(re.escape(phrase) if zh else rf"\b{re.escape(phrase)}\b", text)
        return (100.0, m.start(), m.end()) if m else (0.0, 0, 0)
    if len(text) < len(phrase):
        return float(fuzz.ratio(phrase, text)), 0, len(text)
    al = fuzz.partial_ratio_alignment(phrase, text)
    if al is None:  # only happens with a score cutoff; checked for the type checker
        return 0.0, 0, 0
    return float(al.score), al.dest_start, al.dest_end


def same_text(a: str, b: str) -> bool:
    """Two normalised transcripts say the same thing (allowing for recognition differences)."""
    return bool(a) and bool(b) and fuzz.ratio(a, b) >= _FUZZ_EN


def phrase_score(phrase: str, text: str) -> float:
    """The score of :func:`phrase_match` alone."""
    return phrase_match(phrase, text)[0]


def _threshold(phrase: str) -> float:
    return _FUZZ_ZH if _CJK.search(phrase) else _FUZZ_EN


def _self_intro(original: str, text: str) -> bool:
    """ "This is <Name>" / "you're speaking with <Name>" / 我是<N>号客服.

    The English name must be capitalised in the recogniser's output (it capitalises names), so "this
    is ridiculous" is not an introduction. "my name is" is left out: callers introduce themselves that
    way just as often.
    """
    for m in re.finditer(r"\b(?:[Tt]his is|speaking with) ([A-Z][\w'-]*)", original):
        if m.group(1).lower() not in rp.NOT_A_NAME:
            return True
    return bool(re.search(r"我是\S{0,6}(?:号|客服|专员|顾问)", text))


def _utterance_hits(u: Utterance, speaker: str, company_names: Sequence[str]) -> list[PhraseHit]:
    text = normalise(u.text)
    if not text:
        return []
    bonus = rp.OPENING_BONUS if u.start < rp.OPENING_SECONDS else 1.0
    found: list[tuple[float, int, int, PhraseHit]] = []
    for table, sign, kind in ((rp.AGENT_PHRASES, 1.0, "agent"), (rp.CUSTOMER_PHRASES, -1.0, "customer")):
        for phrase, weight in table:
            p = _norm_phrase(phrase)
            score, a, b = phrase_match(p, text)
            if score >= _threshold(p):
                found.append((score, a, b, PhraseHit(speaker, kind, phrase, sign * weight * bonus, u.start)))
    # Near-duplicate phrases ("how can i help you" / "how can i help") match the same words: the
    # best-matching one claims them, so one sentence is not counted twice.
    hits: list[PhraseHit] = []
    claimed: list[tuple[int, int]] = []
    for _, a, b, hit in sorted(found, key=lambda f: (-f[0], -(f[2] - f[1]))):
        if all(min(b, cb) - max(a, ca) <= 0.5 * (b - a) for ca, cb in claimed):
            hits.append(hit)
            claimed.append((a, b))
    for name in company_names:
        p = _norm_phrase(name)
        if p and phrase_score(p, text) >= _threshold(p) - 5:
            hits.append(PhraseHit(speaker, "company", name, rp.COMPANY_NAME_WEIGHT * bonus, u.start))
    if u.start < rp.OPENING_SECONDS and _self_intro(u.text, text):
        hits.append(PhraseHit(speaker, "self_intro", "self-introduction", rp.SELF_INTRO_WEIGHT * bonus, u.start))
    return hits


def utterance_score(u: Utterance, company_names: Sequence[str] = ()) -> float:
    """Net agent log-odds of one utterance's content (0 when it says nothing telling)."""
    return sum(h.weight for h in _utterance_hits(u, u.speaker, company_names))


def gather(utterances: Sequence[Utterance], company_names: Sequence[str] = ()) -> dict[str, SpeakerEvidence]:
    """Content evidence per speaker (keyed by ``Utterance.speaker``).

    Each phrase counts once per speaker, with its strongest weight, so a customer who says one agent
    phrase many times does not outweigh a real greeting.
    """
    best: dict[tuple[str, str, str], PhraseHit] = {}
    first: dict[str, float] = {}
    talk: dict[str, float] = {}
    for u in sorted(utterances, key=lambda u: u.start):
        first.setdefault(u.speaker, u.start)
        talk[u.speaker] = talk.get(u.speaker, 0.0) + (u.end - u.start)
        for h in _utterance_hits(u, u.speaker, company_names):
            key = (h.speaker, h.kind, h.phrase)
            if key not in best or abs(h.weight) > abs(best[key].weight):
                best[key] = h
    return {
        s: SpeakerEvidence(s, first[s], talk[s], tuple(h for k, h in best.items() if k[0] == s)) for s in first
    }


def sigmoid(x: float) -> float:
    """The logistic function, safe for any input."""
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))


def _describe(ev: SpeakerEvidence) -> str:
    if not ev.hits:
        return f"{ev.speaker}: no telling phrases"
    parts = sorted(ev.hits, key=lambda h: -abs(h.weight))[:4]
    listed = ", ".join(f"{h.kind} '{h.phrase}' at {h.start:.1f}s ({h.weight:+.1f})" for h in parts)
    return f"{ev.speaker}: content {ev.score:+.1f} from {listed}"


def decide(
    evidence: Mapping[str, SpeakerEvidence],
    uncertain_below: float,
    *,
    voiceprint_similarity: Mapping[str, float] | None = None,
    voiceprint_threshold: float = 0.75,
) -> RoleDecision:
    """Pick the agent among the speakers.

    Args:
        evidence: content evidence per speaker (from :func:`gather`).
        uncertain_below: decisions with lower confidence are flagged uncertain.
        voiceprint_similarity: cosine similarity of each speaker's voice to the agent's voiceprint.
        voiceprint_threshold: similarity at which a voice counts as the enrolled agent's.

    Returns:
        The decision; ``agent_speaker`` is None when no speaker spoke, or when the only speaker does not
        look like an agent.
    """
    if not evidence:
        return RoleDecision("none", None, 0.0, True, ("no speech",))
    speakers = sorted(evidence, key=lambda s: evidence[s].first_start)
    vps = voiceprint_similarity or {}
    logits: dict[str, float] = {}
    for s in speakers:
        first = FIRST_SPEAKER_LOGIT if s == speakers[0] and len(speakers) > 1 else 0.0
        logits[s] = evidence[s].score + first + _voiceprint_logit(s, vps, voiceprint_threshold, len(speakers))
    reasons = [_describe(evidence[s]) for s in speakers]
    reasons += [f"{s}: voiceprint similarity {vps[s]:.2f} (threshold {voiceprint_threshold:.2f})" for s in vps]
    methods = []
    if any(evidence[s].hits for s in speakers):
        methods.append("content")
    if vps and max(vps.values()) >= voiceprint_threshold - _VP_GATE:
        methods.append("voiceprint")
    if len(speakers) == 1:
        agent = speakers[0] if logits[speakers[0]] > 0 else None
        reasons.append("only one speaker found: roles by content, flagged uncertain")
        # Whether the one voice is the agent's says nothing about the other party's lines: at most 0.5.
        conf = 0.5 * sigmoid(abs(logits[speakers[0]])) if methods else 0.0
        return RoleDecision("+".join(methods) or "none", agent, round(conf, 3), True, tuple(reasons))
    ranked = sorted(speakers, key=lambda s: -logits[s])
    margin = logits[ranked[0]] - logits[ranked[1]]
    if ranked[0] == speakers[0]:
        methods.append("first_speaker")
    conf = round(min(_MAX_CONFIDENCE, sigmoid(margin)), 3)
    return RoleDecision("+".join(methods), ranked[0], conf, conf < uncertain_below, tuple(reasons))


_VP_GATE = 0.2  # similarities this far below the threshold still count, with less weight
_MAX_CONFIDENCE = 0.99  # only a configured channel is certain: content and voices can mislead


def _voiceprint_logit(speaker: str, sims: Mapping[str, float], threshold: float, n_speakers: int) -> float:
    """Log-odds from the voiceprint: how much closer this voice is than the others, gated by the best match.

    The gate keeps a voiceprint that matches nobody (another agent's, a bad line) from deciding.
    """
    if speaker not in sims:
        return 0.0
    best = max(sims.values())
    gate = min(1.0, max(0.0, (best - (threshold - _VP_GATE)) / _VP_GATE))
    others = [v for s, v in sims.items() if s != speaker]
    if n_speakers == 1 or not others:
        return gate * VOICEPRINT_SCALE * (sims[speaker] - (threshold - _VP_GATE / 2))
    return gate * VOICEPRINT_SCALE * (sims[speaker] - max(others)) / 2


def role_for(u: Utterance, decision: RoleDecision) -> Role:
    """The role of an utterance's speaker under a decision (customer for anyone who is not the agent)."""
    return Role.AGENT if u.speaker == decision.agent_speaker else Role.CUSTOMER
