"""The emotion stage: per-utterance anger/frustration from the words and the voice, and a per-call summary.

For every utterance three kinds of evidence are fused into probabilities of **angry / frustrated / neutral /
satisfied** (log-linear, so each adds log-odds):

1. **words** — the text emotion model (:mod:`models.emotion`; nearest prototypes by default). An utterance
   of fewer than ``min_units`` speech units ("okay", "嗯", "no") says little on its own, so its text
   probabilities are pulled towards :data:`SHORT_PRIOR` (mostly neutral) in proportion to how short it is,
   unless it holds a lexicon phrase;
2. **lexicon cues** — phrases such as 投诉, 12315, "speak to your manager", "thanks for nothing"
   (:mod:`pipeline.emotion_lexicon`), their weights times ``lexicon_scale``;
3. **voice** — acoustic arousal against the speaker's own baseline in the call (:mod:`pipeline.acoustics`);
   only a *raised* voice counts, only towards angry and frustrated, and only in proportion to the negative
   evidence of the words (P(angry) + P(frustrated) before the voice): arousal is not an emotion by itself
   (joy, a caller's first turn while the line settles, speaking up on a noisy line all raise it; cold anger
   does not), so it amplifies negative words and never creates anger from neutral ones.

``anger`` = P(angry) + ½·P(frustrated): 1 for clear anger, about ½ for frustration, 0 for calm speech;
``angry_threshold`` (0.7) on ``anger`` flags an angry customer. The **label** agrees with that scale: ``angry``
exactly when ``anger`` reaches the threshold, otherwise the most probable of the other three classes — and
neutral when that class's probability is under ``min_confidence`` (a guess between classes is shown as
neutral; the probabilities and ``anger`` are kept as they are).

The text scale, class biases, ``lexicon_scale`` and ``angry_bias`` were fitted on the tune half of
``data/emotion/eval.csv`` (``tools/emotion/tune.py``); the voice weights could not be (the set has no audio)
and are set by hand, small enough that a raised voice alone cannot reach the angry threshold on neutral words.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.errors import CallQAError
from core.types import ModelInfo, Role, Transcript
from models.emotion import LABELS, NO_EVIDENCE_PRIOR, TextEmotionModel, load_text_model
from pipeline.acoustics import AcousticOptions, Arousal, call_arousal
from pipeline.emotion_lexicon import Lexicon, LexiconEntry, packaged_lexicon, read_lexicon
from pipeline.metrics import speech_units

# What a word or two says on its own: mostly nothing (neutral), as a text near no prototype.
SHORT_PRIOR = NO_EVIDENCE_PRIOR
TRAJECTORIES = ("improved", "unchanged", "worsened")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")  # the Han characters speech_units counts


class EmotionInputError(CallQAError, ValueError):
    """Options or inputs the emotion stage cannot work with; the message names the field."""


@dataclass(frozen=True, slots=True)
class EmotionOptions:
    """Settings of the emotion stage (the ``[emotion]`` settings of a deployment).

    Attributes:
        text_model: a local transformers text-classification model directory; empty for the packaged
            nearest-prototype model.
        label_map: (model label, class) pairs for a transformers model whose labels the defaults miss (a
            mapping is accepted too).
        prototypes: extra prototype CSV files (``text,label``) added to the packaged ones.
        lexicon: a lexicon YAML file replacing the packaged one; empty for the packaged one.
        lexicon_scale: log-odds per unit of lexicon weight (fitted on tune).
        angry_bias: log-odds added to angry, the operating point of anger recall vs precision (fitted on tune:
            the smallest bias at which the angry label and the anger flag both reach recall 0.85 on tune).
        agent_angry_bias: what agent utterances get instead of ``angry_bias``. That bias is the operating point
            for catching angry *customers* (the set's angry rows are customers'); an agent's explanation of a
            refund or a policy shares its topic with the angry prototypes, and with the customer's bias 8–17 %
            of the polite agent lines of tests/data/labelled read as angry. Agent negative tone is a pointer
            for review, so agents get no push towards angry (0).
        arousal_angry, arousal_frustrated: log-odds per unit of positive arousal (set by hand, see above).
        max_arousal: arousal above this counts as this much: on a real calm call the caller's first, louder
            turns reached 3–4 against a baseline of short "yes"/"okay" answers, so the voice is capped.
        min_units: utterances with fewer speech units have their text evidence shrunk towards neutral
            (English words; see ``min_units_zh``).
        min_units_zh: the same for mostly-Han utterances, counted in characters: a Mandarin word is one to
            three characters, so four characters ("出的语音") say about as little as two English words.
        angry_threshold: ``anger`` at or above this makes ``angry_customer`` 1 and the label angry.
        min_confidence: a label other than angry whose probability is under this is shown as neutral.
        edge_utterances: how many customer utterances at each end make the start and end anger.
        trajectory_margin: the end anger must differ from the start by this much to be improved or worsened.
        use_audio: measure acoustic arousal when audio is given.
        acoustics: the acoustic measurement's own options.
    """

    text_model: str = ""
    label_map: tuple[tuple[str, str], ...] = ()
    prototypes: tuple[str, ...] = ()
    lexicon: str = ""
    lexicon_scale: float = 1.236
    angry_bias: float = 0.50
    agent_angry_bias: float = 0.0
    arousal_angry: float = 0.25
    arousal_frustrated: float = 0.15
    max_arousal: float = 2.0
    min_units: int = 4
    min_units_zh: int = 8
    angry_threshold: float = 0.7
    min_confidence: float = 0.45
    edge_utterances: int = 3
    trajectory_margin: float = 0.15
    use_audio: bool = True
    acoustics: AcousticOptions = field(default_factory=AcousticOptions)

    def __post_init__(self) -> None:
        if isinstance(self.label_map, Mapping):  # a TOML table reads as a dict: keep it hashable
            object.__setattr__(self, "label_map", tuple((str(k), str(v)) for k, v in self.label_map.items()))
        for name in ("lexicon_scale", "arousal_angry", "arousal_frustrated", "max_arousal", "trajectory_margin"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise EmotionInputError(f"emotion.{name}: must be a number >= 0, got {value!r}")
        for name in ("angry_bias", "agent_angry_bias"):
            if not (isinstance(getattr(self, name), int | float) and math.isfinite(getattr(self, name))):
                raise EmotionInputError(f"emotion.{name}: must be a finite number, got {getattr(self, name)!r}")
        if not 0 < self.angry_threshold <= 1:
            raise EmotionInputError(f"emotion.angry_threshold: must be in (0, 1], got {self.angry_threshold!r}")
        if not 0 <= self.min_confidence < 1:
            raise EmotionInputError(f"emotion.min_confidence: must be in [0, 1), got {self.min_confidence!r}")
        for name in ("min_units", "min_units_zh", "edge_utterances"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise EmotionInputError(f"emotion.{name}: must be a whole number >= 1, got {getattr(self, name)!r}")
        for pair in self.label_map:
            if len(pair) != 2 or pair[1].lower() not in LABELS:
                raise EmotionInputError(f"emotion.label_map: {pair!r} must be (model label, one of "
                                        f"{', '.join(LABELS)})")


@dataclass(frozen=True, slots=True)
class ClassScores:
    """A number per class (probabilities unless said otherwise)."""

    angry: float
    frustrated: float
    neutral: float
    satisfied: float

    @classmethod
    def of(cls, values: Sequence[float]) -> ClassScores:
        """From four values in :data:`models.emotion.LABELS` order."""
        a, f, n, s = (round(float(v), 4) for v in values)
        return cls(a, f, n, s)

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.angry, self.frustrated, self.neutral, self.satisfied)


@dataclass(frozen=True, slots=True)
class TextEmotion:
    """The fused emotion of one text (with its voice arousal, if any).

    Attributes:
        label: angry when ``anger`` reaches the threshold, else the most probable other class, neutral when
            that is under ``min_confidence`` (:func:`decide_labels`).
        confidence: the label's probability.
        anger: P(angry) + ½·P(frustrated), 0–1.
        scores: the fused probabilities.
        text_scores: what the text model alone said (before the lexicon and the voice).
        arousal: the voice's arousal (z-score units) or None without audio or a speaker baseline.
        cues: the evidence: lexicon phrases as ``<class>:<phrase>``, voice cues as ``voice:<cue>``.
    """

    label: str
    confidence: float
    anger: float
    scores: ClassScores
    text_scores: ClassScores
    arousal: float | None
    cues: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UtteranceEmotion:
    """The emotion of one utterance of a call (``index`` into ``Transcript.utterances``)."""

    index: int
    role: Role
    start: float
    end: float
    label: str
    confidence: float
    anger: float
    text_scores: ClassScores
    arousal: float | None
    cues: tuple[str, ...]
    scores: ClassScores

    @property
    def text_label(self) -> str:
        """The class the text model alone chose (before the lexicon and the voice)."""
        values = self.text_scores.as_tuple()
        return LABELS[values.index(max(values))]


@dataclass(frozen=True, slots=True)
class CallEmotion:
    """The emotion of a call: every utterance, and the customer's course through it.

    Attributes:
        customer_trajectory: ``improved`` / ``unchanged`` / ``worsened``: the end anger against the start
            anger (means of the first and last ``edge_utterances`` customer utterances, weighted by length).
        peak_anger, peak_time: the customer's highest anger and the start of that utterance (None without
            customer speech).
        agent_negative_tone: the agent's highest anger (same scale as the customer's).
        acoustic: whether voice arousal was measured.
    """

    utterances: tuple[UtteranceEmotion, ...]
    customer_trajectory: str
    customer_start_anger: float
    customer_end_anger: float
    peak_anger: float
    peak_time: float | None
    agent_negative_tone: float
    angry_threshold: float
    acoustic: bool
    model: ModelInfo
    options: str = "{}"

    def as_metrics(self) -> dict[str, float]:
        """Flat named numbers for checklist predicates such as ``customer_anger_max >= 0.7``."""
        return {
            "customer_anger_max": self.peak_anger,
            "customer_anger_start": self.customer_start_anger,
            "customer_anger_end": self.customer_end_anger,
            "customer_calmer_by_end": 1.0 if self.customer_trajectory == "improved" else 0.0,
            "customer_worsened": 1.0 if self.customer_trajectory == "worsened" else 0.0,
            "agent_negative_tone_max": self.agent_negative_tone,
            "angry_customer": 1.0 if self.peak_anger >= self.angry_threshold else 0.0,
        }

    def producer(self, code_version: str) -> str:
        """What made these scores, as stored beside them: the text model (name and weights hash), a hash of
        the options and the code version, e.g. ``e5-prototypes@1a2b3c4d5e6f options:0f1e2d3c4b5a code:0.1.0+abc``."""
        options = hashlib.sha256(self.options.encode()).hexdigest()[:12]
        return f"{self.model.name}@{self.model.sha256[:12]} options:{options} code:{code_version}"


@functools.lru_cache(maxsize=8)
def _lexicon_at(path: str, mtime: float) -> Lexicon:
    return read_lexicon(path)


def load_lexicon(path: str = "") -> Lexicon:
    """The lexicon at ``path`` (re-read when the file changes), or the packaged one when empty."""
    if not path:
        return _packaged()
    p = Path(path)
    return _lexicon_at(str(p), p.stat().st_mtime if p.is_file() else 0.0)


@functools.cache
def _packaged() -> Lexicon:
    return packaged_lexicon()


def default_text_model(text_model: str = "", label_map: tuple[tuple[str, str], ...] = (),
                       prototypes: tuple[str, ...] = ()) -> TextEmotionModel:
    """A process-wide text model for these settings (loaded once, its embedding cache shared)."""
    return _text_model(text_model, tuple(label_map), tuple(prototypes))


@functools.lru_cache(maxsize=4)
def _text_model(text_model: str, label_map: tuple[tuple[str, str], ...],
                prototypes: tuple[str, ...]) -> TextEmotionModel:
    # One cache key per setting, however the caller spelt the defaults.
    return load_text_model(text_model, dict(label_map), prototypes)


def classify_texts(texts: Sequence[str], model: TextEmotionModel, lexicon: Lexicon,
                   options: EmotionOptions | None = None,
                   arousal: Sequence[Arousal | None] | None = None,
                   roles: Sequence[Role] | None = None) -> tuple[TextEmotion, ...]:
    """Fuse the text model, the lexicon and (optionally) voice arousal for each text.

    Args:
        texts: the utterances' texts; the model sees all of them in one batch.
        model: the text emotion model.
        lexicon: the cue phrases.
        options: weights (see :class:`EmotionOptions`).
        arousal: per text, its voice arousal or None; None for text only.
        roles: per text, who said it (agents get ``agent_angry_bias``); None treats every text as a customer's.

    Returns:
        One :class:`TextEmotion` per text, in order.
    """
    opts = options or EmotionOptions()
    if arousal is not None and len(arousal) != len(texts):
        raise EmotionInputError(f"arousal: {len(arousal)} values for {len(texts)} texts")
    if roles is not None and len(roles) != len(texts):
        raise EmotionInputError(f"roles: {len(roles)} values for {len(texts)} texts")
    voices = list(arousal) if arousal is not None else [None] * len(texts)
    found = [lexicon.match(t) for t in texts]
    text_p = np.exp(model.log_probs(list(texts))) if texts else np.zeros((0, len(LABELS)))
    probs = fused_probabilities(
        text_p,
        np.array([_lexicon_row(f) for f in found]).reshape(len(texts), len(LABELS)),
        np.array([speech_units(t) for t in texts]),
        np.array([v.score if v is not None else 0.0 for v in voices]),
        opts,
        np.array([mostly_han(t) for t in texts], dtype=bool),
        np.array([r is Role.AGENT for r in roles], dtype=bool) if roles is not None else None,
    )
    labels = decide_labels(probs, opts)
    out = []
    for p, best, tp, cues, voice in zip(probs, labels, text_p, found, voices, strict=True):
        named = [f"{e.label}:{e.phrase}" for e in cues] + list(voice.cues(opts.acoustics.cue_z) if voice else ())
        out.append(TextEmotion(
            label=LABELS[best],
            confidence=round(float(p[best]), 4),
            anger=round(float(p[0] + 0.5 * p[1]), 4),
            scores=ClassScores.of(p),
            text_scores=ClassScores.of(tp),
            arousal=round(voice.score, 3) if voice is not None else None,
            cues=tuple(named),
        ))
    return tuple(out)


def mostly_han(text: str) -> bool:
    """Whether a text's speech units are mostly Han characters (its length is then counted in characters)."""
    units = speech_units(text)
    return units > 0 and 2 * len(_HAN.findall(text)) > units


def decide_labels(probs: np.ndarray, options: EmotionOptions) -> np.ndarray:
    """The label of each row of fused probabilities, as indices into :data:`models.emotion.LABELS`.

    Angry exactly when ``anger`` = P(angry) + ½·P(frustrated) reaches ``angry_threshold``, so that a label and
    the anger flag never contradict each other (the angry class carries ``angry_bias``, the operating point of
    the flag, and a plain argmax let that bias tip utterances with anger 0.5 into "angry"). Otherwise the most
    probable of the other classes, or neutral when its probability is under ``min_confidence``.
    """
    if not len(probs):
        return np.zeros(0, dtype=int)
    anger = probs[:, 0] + 0.5 * probs[:, 1]
    rest = 1 + np.argmax(probs[:, 1:], axis=1)
    sure = probs[np.arange(len(probs)), rest] >= options.min_confidence
    neutral = LABELS.index("neutral")
    out: np.ndarray = np.where(anger >= options.angry_threshold, 0, np.where(sure, rest, neutral))
    return out


def _lexicon_row(found: Sequence[LexiconEntry]) -> np.ndarray:
    row = np.zeros(len(LABELS))
    for e in found:
        row[LABELS.index(e.label)] += e.weight
    return row


def fused_probabilities(text_p: np.ndarray, lexicon: np.ndarray, units: np.ndarray, arousal: np.ndarray,
                        options: EmotionOptions, han: np.ndarray | None = None,
                        agent: np.ndarray | None = None) -> np.ndarray:
    """The fusion of the module docstring, for n texts at once.

    Args:
        text_p: (n, 4) text model probabilities.
        lexicon: (n, 4) summed lexicon weights per class.
        units: (n,) speech units of each text.
        arousal: (n,) voice arousal (0 where unknown).
        options: the weights.
        han: (n,) whether each text is mostly Han characters (``min_units_zh`` applies); default none is.
        agent: (n,) whether each text is an agent's (``agent_angry_bias`` applies); default none is.

    Returns:
        (n, 4) fused probabilities in :data:`models.emotion.LABELS` order.
    """
    has_cue = lexicon.sum(axis=1) > 0
    least = np.where(han, options.min_units_zh, options.min_units) if han is not None else options.min_units
    weight = np.where(has_cue, 1.0, np.minimum(1.0, units / least))[:, None]
    z = np.log(np.maximum(weight * text_p + (1.0 - weight) * SHORT_PRIOR, 1e-9))
    z = z + options.lexicon_scale * lexicon
    z[:, 0] += np.where(agent, options.agent_angry_bias, options.angry_bias) if agent is not None \
        else options.angry_bias
    # The voice amplifies what the words say: its log-odds are scaled by the negative share before it.
    negative = _softmax(z)[:, :2].sum(axis=1)
    raised = np.clip(arousal, 0.0, options.max_arousal) * negative
    z[:, 0] += options.arousal_angry * raised
    z[:, 1] += options.arousal_frustrated * raised
    return _softmax(z)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


def analyse_emotion(transcript: Transcript, channels_samples: tuple[np.ndarray, ...] | None,
                    classifier: TextEmotionModel | None = None, options: EmotionOptions | None = None,
                    *, sample_rate: int = 16_000) -> CallEmotion:
    """The emotion of every utterance of a call and the customer's trajectory.

    Args:
        transcript: the role-labelled call.
        channels_samples: its decoded channels (``sample_rate``), or None for a text-only transcript.
        classifier: the text emotion model; None loads the one ``options`` names (once per process).
        options: the stage's settings.
        sample_rate: of ``channels_samples``.

    Raises:
        EmotionInputError: an utterance names a channel the audio lacks.
        core.errors.ConfigError, core.errors.ModelError: the configured model or lexicon cannot be loaded.
    """
    opts = options or EmotionOptions()
    model = classifier or default_text_model(opts.text_model, opts.label_map, opts.prototypes)
    arousal: list[Arousal | None] | None = None
    if channels_samples is not None and opts.use_audio and transcript.utterances:
        try:
            arousal = call_arousal(transcript, channels_samples, sample_rate, opts.acoustics)
        except ValueError as exc:
            raise EmotionInputError(str(exc)) from exc
    fused = classify_texts([u.text for u in transcript.utterances], model, load_lexicon(opts.lexicon), opts,
                           arousal, [u.role for u in transcript.utterances])
    utts = tuple(
        UtteranceEmotion(i, u.role, u.start, u.end, f.label, f.confidence, f.anger, f.text_scores, f.arousal,
                         f.cues, f.scores)
        for i, (u, f) in enumerate(zip(transcript.utterances, fused, strict=True))
    )
    return summarise(utts, [speech_units(u.text) for u in transcript.utterances], opts, model.info,
                     acoustic=arousal is not None)


def summarise(utterances: Sequence[UtteranceEmotion], units: Sequence[int], options: EmotionOptions,
              model: ModelInfo, acoustic: bool = False) -> CallEmotion:
    """The per-call summary of scored utterances (``units``: speech units of each, to weight the edges)."""
    customer = [(u, n) for u, n in zip(utterances, units, strict=True) if u.role is Role.CUSTOMER]
    edge = max(1, min(options.edge_utterances, len(customer) // 2))
    start, end = _edge_anger(customer[:edge]), _edge_anger(customer[-edge:])
    if len(customer) < 2 or abs(end - start) < options.trajectory_margin:
        trajectory = "unchanged"
    else:
        trajectory = "improved" if end < start else "worsened"
    peak = max((u for u, _ in customer), key=lambda u: u.anger, default=None)
    agent = [u.anger for u in utterances if u.role is Role.AGENT]
    return CallEmotion(
        utterances=tuple(utterances),
        customer_trajectory=trajectory,
        customer_start_anger=round(start, 4),
        customer_end_anger=round(end, 4),
        peak_anger=peak.anger if peak else 0.0,
        peak_time=peak.start if peak else None,
        agent_negative_tone=round(max(agent, default=0.0), 4),
        angry_threshold=options.angry_threshold,
        acoustic=acoustic,
        model=model,
        options=json.dumps(asdict(options), sort_keys=True, separators=(",", ":"), ensure_ascii=False),
    )


def _edge_anger(items: Sequence[tuple[UtteranceEmotion, int]]) -> float:
    """Mean anger of utterances weighted by their length in speech units (1–20): "ok" counts little."""
    if not items:
        return 0.0
    weights = [min(max(n, 1), 20) for _, n in items]
    return sum(u.anger * w for (u, _), w in zip(items, weights, strict=True)) / sum(weights)
