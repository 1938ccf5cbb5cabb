"""The nightly inspection flow: recordings in, stored role-labelled transcripts and a run report out.

Thin wiring only: every task is a one-line call of a plain function in ``pipeline/`` or the store.
Calls are processed by a thread pool (ctranslate2 and onnxruntime release the GIL), each call's
stages run in order inside ``inspect_call`` and its result is written in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from core.config import Settings, load_settings
from core.errors import AudioError, CallQAError, MetadataError, StoreError
from core.types import CallFailure, RunSummary
from core.version import code_version
from flows import scoring
from pipeline import audio, call, ingest, roles, transcribe
from scorecards.store.database import ChecklistRecord, MetricsRecord, Store
from scorecards.store.stored import checklist_record

log = logging.getLogger("callqa.flow")


def _io_error(_task: Any, _run: Any, state: Any) -> bool:
    """Retry only when the failure was I/O (a busy or flaky disk, a locked database), never on bad input."""
    try:
        state.result()
    except (AudioError, MetadataError):
        return False
    except (OSError, StoreError):
        return True
    except Exception:
        return False
    return False




@dataclass
class Progress:
    """Counters the CLI reads to draw its progress bar; updated by worker threads."""

    durations: dict[Path, float] = field(default_factory=dict)  # from the file headers, for the ETA
    files_done: int = 0
    seconds_done: float = 0.0
    listener: Callable[[Progress], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def total_files(self) -> int:
        return len(self.durations)

    @property
    def total_seconds(self) -> float:
        return sum(self.durations.values())

    def start(self, files: Sequence[Path]) -> None:
        self.durations = {f: audio.probe_duration(f) for f in files}
        self.files_done, self.seconds_done = 0, 0.0
        self.notify()

    def advance(self, path: Path) -> None:
        """One file finished (done, skipped or failed): its whole duration counts as processed."""
        with self.lock:
            self.files_done += 1
            self.seconds_done += self.durations.get(path, 0.0)
        self.notify()

    def notify(self) -> None:
        if self.listener:
            self.listener(self)


# The CLI sets this before starting the flow; a flow parameter would have to be serialisable.
PROGRESS = Progress()


@dataclass(frozen=True)
class Engines:
    """Models loaded once per run and shared by the worker threads."""

    recognizer: Any
    embedder: Any


@dataclass(frozen=True)
class CallOutcome:
    status: str  # done | skipped | failed
    call_id: str | None = None
    seconds: float = 0.0
    failure: CallFailure | None = None
    roles_uncertain: bool = False


@task(cache_policy=NO_CACHE)
def discover(sources: Sequence[str], settings: Settings) -> list[Path]:
    return list(ingest.discover(sources, settings.ingest.extensions))


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, retry_condition_fn=_io_error)
def prepare(path: Path, settings: Settings, manifest: ingest.Manifest | None) -> call.IdentifiedCall:
    return call.prepare(path, settings, manifest)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, retry_condition_fn=_io_error)
def decode(path: Path, settings: Settings) -> audio.DecodedAudio:
    return audio.decode(path, max_duration_s=settings.ingest.max_duration_s,
                        min_duration_s=settings.ingest.min_duration_s)


@task(cache_policy=NO_CACHE)
def transcribe_call(
    decoded: audio.DecodedAudio, engines: Engines, settings: Settings, language: str
) -> tuple[transcribe.ChannelTranscript, ...]:
    return transcribe.transcribe_audio(engines.recognizer, decoded, language=language,
                                       settings=settings.transcription)


@task(cache_policy=NO_CACHE)
def label_roles(
    channels: tuple[transcribe.ChannelTranscript, ...],
    decoded: audio.DecodedAudio,
    engines: Engines,
    settings: Settings,
    voiceprint: np.ndarray | None,
) -> tuple[Any, Any]:
    names = settings.transcription.company_names
    if len(channels) >= 2:
        return roles.label_stereo(channels, settings.roles, names)
    return roles.label_mono(channels[0], decoded.channels[0], engines.embedder, settings.roles, names, voiceprint)


@task(cache_policy=NO_CACHE)
def score_call(transcript: Any, prepared: call.IdentifiedCall, decoded: audio.DecodedAudio,
               ctx: RunContext) -> scoring.CallScores:
    return scoring.score_transcript(transcript, prepared.metadata, prepared.source.sha256, ctx.checklists,
                                    ctx.emotion, decoded.channels)


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2, retry_condition_fn=_io_error)
def store_call(ctx: RunContext, prepared: call.IdentifiedCall, decoded: audio.DecodedAudio, transcript: Any,
               scores: scoring.CallScores) -> str:
    return ctx.store.save_call(
        ctx.run_id, prepared.source, prepared.metadata, decoded.info, transcript, prepared.options_hash,
        scorecards=[(card, ctx.checklist_records[checklist.content_hash]) for card, checklist in scores.scorecards],
        metrics=MetricsRecord(scores.metrics, f"metrics+emotion@{ctx.code_version}"), emotion=scores.emotion,
    )


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2, retry_condition_fn=_io_error)
def store_failure(store: Store, run_id: str, failure: CallFailure, prepared: call.IdentifiedCall | None) -> None:
    store.save_failure(run_id, failure, prepared.source if prepared else None,
                       prepared.metadata if prepared else None)


class _Claims:
    """Call ids being processed in this run, so the same recording found twice is processed once."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def claim(self, call_id: str) -> bool:
        with self._lock:
            if call_id in self._seen:
                return False
            self._seen.add(call_id)
            return True


@dataclass
class RunContext:
    """Everything a worker needs; built once per run."""

    run_id: str
    store: Store
    settings: Settings
    manifest: ingest.Manifest | None
    engines: Engines
    already_done: set[tuple[str, str]]  # (call id, options hash) transcribed by this model before
    claims: _Claims
    progress: Progress
    code_version: str
    checklists: scoring.ActiveChecklists
    emotion: scoring.EmotionSetup
    # What the store keeps of each checklist, read once when the run starts, so a file edited during the
    # run can never be stored under the content hash of the version that scored the calls.
    checklist_records: dict[str, ChecklistRecord] = field(default_factory=dict)
    _voiceprints: dict[str, np.ndarray | None] = field(default_factory=dict)

    def voiceprint(self, agent_id: str | None) -> np.ndarray | None:
        if not agent_id or self.engines.embedder is None:
            return None
        if agent_id not in self._voiceprints:
            vp = self.store.voiceprint(agent_id, self.engines.embedder.info.sha256)
            self._voiceprints[agent_id] = np.asarray(vp, dtype=np.float32) if vp else None
        return self._voiceprints[agent_id]


@task(cache_policy=NO_CACHE)
def inspect_call(path: Path, ctx: RunContext) -> CallOutcome:
    """One recording through every stage; any bad-input error becomes a stored failure, never a crash."""
    prepared: call.IdentifiedCall | None = None
    stage = "read"
    try:
        prepared = prepare(path, ctx.settings, ctx.manifest)
        key = (prepared.source.sha256, prepared.options_hash)
        if not ctx.claims.claim(prepared.source.sha256) or key in ctx.already_done:
            ctx.store.touch_call(ctx.run_id, prepared.source.sha256)
            ctx.progress.advance(path)
            return CallOutcome("skipped", prepared.source.sha256)
        stage = "decode"
        decoded = decode(path, ctx.settings)
        stage = "transcribe"
        channels = transcribe_call(decoded, ctx.engines, ctx.settings, prepared.language)
        stage = "roles"
        voiceprint = ctx.voiceprint(prepared.metadata.agent_id)
        utterances, decision = label_roles(channels, decoded, ctx.engines, ctx.settings, voiceprint)
        transcript = call.assemble(utterances, decision, decoded.info, prepared.language,
                                   ctx.engines.recognizer.info, prepared.options, ctx.code_version)
        stage = "score"
        scores = score_call(transcript, prepared, decoded, ctx)
        stage = "store"
        store_call(ctx, prepared, decoded, transcript, scores)
    except (CallQAError, OSError, ValueError, RuntimeError) as exc:
        # One line a person can act on; the text of a call never goes to the log.
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        failure = CallFailure(str(path), stage, reason, prepared.source.sha256 if prepared else None)
        store_failure(ctx.store, ctx.run_id, failure, prepared)
        ctx.progress.advance(path)
        return CallOutcome("failed", failure.sha256, failure=failure)
    ctx.progress.advance(path)
    return CallOutcome("done", prepared.source.sha256, decoded.info.duration,
                       roles_uncertain=bool(decision.uncertain))


def load_engines(settings: Settings) -> Engines:
    """Load the recogniser and the speaker embedder once per run."""
    from models.speaker import SpeakerEmbedder
    from models.whisper import Recognizer, resolve_model_dir

    model_dir = resolve_model_dir(settings.transcription)
    recognizer = Recognizer(model_dir, compute_type=settings.transcription.compute_type,
                            num_workers=max(1, settings.transcription.workers))
    return Engines(recognizer=recognizer, embedder=SpeakerEmbedder())


@flow(name="nightly_inspection", log_prints=False, validate_parameters=False)
def nightly_inspection(
    sources: list[str],
    db: str = "callqa.duckdb",
    manifest: str | None = None,
    language: str | None = None,
    config: str | None = None,
    workers: int | None = None,
) -> RunSummary:
    """Transcribe, role-label and store every recording under ``sources``; returns the run report.

    Args:
        sources: files and/or directories (searched recursively).
        db: the DuckDB file.
        manifest: a CSV of per-call metadata.
        language: ``zh``, ``en`` or ``auto``; overrides the configured deployment language.
        config: a settings TOML file.
        workers: parallel calls (default from settings: 2, one per core).
    """
    # The body lives in a plain module function: a served flow is pickled by value and must not drag the
    # module's globals (locks, loaded models) along.
    return run_nightly(sources, db, manifest, language, config, workers)


def run_nightly(sources: list[str], db: str, manifest: str | None, language: str | None, config: str | None,
                workers: int | None) -> RunSummary:
    """The body of :func:`nightly_inspection` (call that, not this: tasks need the flow's context)."""
    settings = load_settings(config)
    settings = _override(settings, language, workers)
    started, t0 = _now(), time.monotonic()
    run_id = f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    store = Store(db)
    files = discover(sources, settings)
    man = ingest.Manifest(Path(manifest)) if manifest else None
    checklists = scoring.load_active(settings.scoring)  # an invalid checklist stops the run before any call
    settings = scoring.with_checklist_hints(settings, checklists)
    emotion = scoring.load_emotion(settings.emotion)
    engines = load_engines(settings)
    done = store.transcribed_pairs(engines.recognizer.info.sha256)
    store.start_run(run_id, sources, call.canonical_json(asdict(settings)), code_version())
    PROGRESS.start(files)
    ctx = RunContext(run_id, store, settings, man, engines, done, _Claims(), PROGRESS,
                     code_version(), checklists, emotion,
                     {c.content_hash: checklist_record(c) for c in checklists.all()})
    runner: ThreadPoolTaskRunner[Any] = ThreadPoolTaskRunner(max_workers=max(1, settings.transcription.workers))
    with runner:
        futures = [runner.submit(inspect_call, {"path": f, "ctx": ctx}) for f in files]
        outcomes: list[CallOutcome] = [fut.result() for fut in futures]
    summary = RunSummary(
        run_id=run_id,
        started_at=started,
        finished_at=_now(),
        done=sum(o.status == "done" for o in outcomes),
        skipped=sum(o.status == "skipped" for o in outcomes),
        failed=tuple(o.failure for o in outcomes if o.failure),
        audio_seconds=sum(o.seconds for o in outcomes),
        wall_seconds=time.monotonic() - t0,
        uncertain_roles=tuple(o.call_id for o in outcomes if o.roles_uncertain and o.call_id),
    )
    store.finish_run(summary)
    return summary


def _override(settings: Settings, language: str | None, workers: int | None) -> Settings:
    t = settings.transcription
    if language:
        t = replace(t, language=language)
    if workers:
        t = replace(t, workers=workers)
    return replace(settings, transcription=t)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
