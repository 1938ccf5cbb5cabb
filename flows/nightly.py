"""The nightly inspection flow: recordings in, stored role-labelled transcripts and a run report out.

Thin wiring only: every task is a one-line call of a plain function in ``pipeline/`` or the store.
The flow process identifies each file and is the only one that opens the database; the per-call work
(decode, transcribe, roles, scoring) runs on the run's task runner: an in-process thread pool by default
(ctranslate2 and onnxruntime release the GIL) or Dask workers (``flows.cluster``). Each result comes back
as a plain value and is written in its own transaction as it arrives.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
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

from core.config import Settings, load_settings
from core.errors import AudioError, CallQAError, MetadataError, StoreError
from core.scorecard import CallScorecard
from core.types import AudioInfo, CallFailure, CallMetadata, Redaction, RunSummary, Transcript, WorkerShare
from core.version import code_version
from flows import cluster, scoring
from pipeline import audio, call, ingest, redact, roles, transcribe
from pipeline.emotion import CallEmotion
from scorecards.store.database import ChecklistRecord, MetricsRecord, Store
from scorecards.store.privacy import PrivacyRecord
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
    """Models loaded once per process and shared by its worker threads."""

    recognizer: Any
    embedder: Any


@dataclass(frozen=True)
class WorkerKit:
    """What a worker process loads once and keeps between calls: models, checklists, emotion set-up."""

    engines: Engines
    checklists: scoring.ActiveChecklists
    emotion: scoring.EmotionSetup

    @property
    def checklist_hashes(self) -> frozenset[str]:
        return frozenset(c.content_hash for c in self.checklists.all())


@dataclass(frozen=True)
class CallJob:
    """One call sent to a worker: everything it needs besides the file, which it reads from shared storage.

    Attributes:
        model_sha256: the recogniser the run was started with; a worker with another one refuses the call.
        checklist_hashes: the checklist versions of the run; a worker that reads others refuses the call.
        voiceprint: the agent's enrolled voiceprint (mono calls), looked up by the flow, the only reader.
    """

    path: Path
    prepared: call.IdentifiedCall
    settings: Settings
    model_sha256: str
    checklist_hashes: frozenset[str]
    code_version: str
    voiceprint: tuple[float, ...] | None


@dataclass(frozen=True)
class AnalysedCall:
    """A worker's finished call, to be stored by the flow: plain values that pickle small (no audio)."""

    info: AudioInfo
    transcript: Transcript  # redacted unless the run's redaction mode is off
    metadata: CallMetadata  # as stored: the customer's number masked under redaction
    scores: tuple[CallScorecard, ...]
    metrics: dict[str, float]
    emotion: CallEmotion | None
    worker: str
    redactions: tuple[Redaction, ...] = ()
    clear: Transcript | None = None  # the transcript before redaction, only under mode "both"


@dataclass(frozen=True)
class AnalysisFailure:
    """A call a worker could not finish: the stage it stopped in and a one-line reason."""

    stage: str
    reason: str
    worker: str


@dataclass(frozen=True)
class CallOutcome:
    status: str  # done | skipped | failed
    call_id: str | None = None
    seconds: float = 0.0
    failure: CallFailure | None = None
    roles_uncertain: bool = False
    worker: str = ""


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
def redact_call(transcript: Transcript, metadata: CallMetadata) -> redact.RedactedTranscript:
    return redact.redact_transcript(transcript, metadata)


@task(cache_policy=NO_CACHE)
def score_call(transcript: Transcript, metadata: CallMetadata, prepared: call.IdentifiedCall,
               decoded: audio.DecodedAudio, kit: WorkerKit) -> scoring.CallScores:
    return scoring.score_transcript(transcript, metadata, prepared.source.sha256, kit.checklists,
                                    kit.emotion, decoded.channels)


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2, retry_condition_fn=_io_error)
def store_call(ctx: RunContext, prepared: call.IdentifiedCall, done: AnalysedCall) -> str:
    mode = ctx.settings.redaction.mode
    privacy = PrivacyRecord(mode, redact.REDACTOR_VERSION if mode != "off" else "", done.redactions, done.clear,
                            f"run:{ctx.run_id}")
    return ctx.store.save_call(
        ctx.run_id, prepared.source, done.metadata, done.info, done.transcript, prepared.options_hash,
        scorecards=[(card, ctx.checklist_records[card.checklist_hash]) for card in done.scores],
        metrics=MetricsRecord(done.metrics, f"metrics+emotion@{ctx.code_version}"), emotion=done.emotion,
        privacy=privacy,
    )


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=2, retry_condition_fn=_io_error)
def store_failure(ctx: RunContext, failure: CallFailure, prepared: call.IdentifiedCall | None) -> None:
    ctx.store.save_failure(ctx.run_id, failure, prepared.source if prepared else None,
                           call.stored_metadata(prepared.metadata, ctx.settings) if prepared else None)


# The kit of this process, keyed by the settings and checklist versions it was loaded for; one at a time, so a
# long-lived worker that serves runs with other settings holds one set of models, not one per run.
_KIT: dict[tuple[str, frozenset[str]], WorkerKit] = {}
_KIT_LOCK = threading.Lock()


def worker_kit(settings: Settings, checklist_hashes: frozenset[str]) -> WorkerKit:
    """The models and checklists of this process for ``settings``, loaded on first use.

    Raises:
        CallQAError: a checklist is invalid or the model cannot be found here.
    """
    key = (call.canonical_json(asdict(settings)), checklist_hashes)
    with _KIT_LOCK:
        kit = _KIT.get(key)
        if kit is None:
            checklists = scoring.load_active(settings.scoring)
            engines = load_engines(settings, cluster.worker_threads(settings.transcription.workers))
            kit = WorkerKit(engines, checklists, scoring.load_emotion(settings.emotion))
            _KIT.clear()
            _KIT[key] = kit
        return kit


def keep_kit(settings: Settings, kit: WorkerKit) -> None:
    """Make ``kit`` this process's kit for ``settings`` (the flow's own, for the in-process runner)."""
    with _KIT_LOCK:
        _KIT.clear()
        _KIT[(call.canonical_json(asdict(settings)), kit.checklist_hashes)] = kit


def probe_worker(settings: Settings) -> tuple[str, str]:
    """This worker's name and the sha256 of the recogniser it would load (or ``error: …``), before any call."""
    from models.whisper import model_sha256, resolve_model_dir

    try:
        return cluster.worker_name(), model_sha256(resolve_model_dir(settings.transcription))
    except (CallQAError, OSError) as exc:
        return cluster.worker_name(), f"error: {_one_line(exc)}"


@task(cache_policy=NO_CACHE)
def analyse_call(job: CallJob) -> AnalysedCall | AnalysisFailure:
    """One identified recording through decode, transcription, roles and scoring, on whichever worker runs it.

    Reads the file and no database; bad input becomes a failure value, never a crash of the batch.
    """
    worker = cluster.worker_name()
    stage = "load"
    try:
        kit = worker_kit(job.settings, job.checklist_hashes)
        if kit.engines.recognizer.info.sha256 != job.model_sha256:
            raise CallQAError(f"this worker's Whisper model is sha256 {kit.engines.recognizer.info.sha256[:12]}…, "
                              f"the run's is {job.model_sha256[:12]}…; install the same model on every worker")
        if kit.checklist_hashes != job.checklist_hashes:
            raise CallQAError("this worker reads other checklist versions than the run started with (edited "
                              "during the run, or another copy on this machine); rerun to score with one version")
        prepared = job.prepared
        stage = "decode"
        decoded = decode(job.path, job.settings)
        stage = "transcribe"
        channels = transcribe_call(decoded, kit.engines, job.settings, prepared.language)
        stage = "roles"
        voiceprint = np.asarray(job.voiceprint, dtype=np.float32) if job.voiceprint else None
        utterances, decision = label_roles(channels, decoded, kit.engines, job.settings, voiceprint)
        transcript = call.assemble(utterances, decision, decoded.info, prepared.language,
                                   kit.engines.recognizer.info, prepared.options, job.code_version)
        stage = "redact"
        metadata = call.stored_metadata(prepared.metadata, job.settings)
        clear: Transcript | None = None
        redactions: tuple[Redaction, ...] = ()
        if job.settings.redaction.enabled:
            redacted = redact_call(transcript, prepared.metadata)
            clear = transcript if job.settings.redaction.mode == "both" else None
            transcript, redactions = redacted.transcript, redacted.redactions
        stage = "score"
        scores = score_call(transcript, metadata, prepared, decoded, kit)
    except (CallQAError, OSError, ValueError, RuntimeError) as exc:
        return AnalysisFailure(stage, _one_line(exc), worker)
    return AnalysedCall(decoded.info, transcript, metadata, tuple(card for card, _ in scores.scorecards),
                        scores.metrics, scores.emotion, worker, redactions, clear)


def _one_line(exc: BaseException) -> str:
    """One line a person can act on; the text of a call never goes to the log."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


@dataclass
class RunContext:
    """What the flow process holds for a run: the store (it is the only writer) and the run's versions."""

    run_id: str
    store: Store
    settings: Settings
    manifest: ingest.Manifest | None
    model_sha256: str
    embedder_sha256: str | None
    already_done: set[tuple[str, str]]  # (call id, options hash) transcribed by this model before
    progress: Progress
    code_version: str
    # What the store keeps of each checklist, read once when the run starts, so a file edited during the
    # run can never be stored under the content hash of the version that scored the calls.
    checklist_records: dict[str, ChecklistRecord]
    distributed: bool
    _claimed: set[str] = field(default_factory=set)
    _voiceprints: dict[str, tuple[float, ...] | None] = field(default_factory=dict)

    def voiceprint(self, agent_id: str | None) -> tuple[float, ...] | None:
        if not agent_id or self.embedder_sha256 is None:
            return None
        if agent_id not in self._voiceprints:
            vp = self.store.voiceprint(agent_id, self.embedder_sha256)
            self._voiceprints[agent_id] = tuple(vp) if vp else None
        return self._voiceprints[agent_id]

    def claim(self, call_id: str) -> bool:
        """False when this run has already taken the call (the same recording found twice)."""
        if call_id in self._claimed:
            return False
        self._claimed.add(call_id)
        return True

    def job(self, path: Path, prepared: call.IdentifiedCall) -> CallJob:
        return CallJob(path, prepared, self.settings, self.model_sha256, frozenset(self.checklist_records),
                       self.code_version, self.voiceprint(prepared.metadata.agent_id))

    def fail(self, path: Path, stage: str, reason: str, prepared: call.IdentifiedCall | None,
             worker: str = "") -> CallOutcome:
        """Store a failure; on a cluster its reason names the worker, whose machine may be the one to fix."""
        if worker and self.distributed:
            reason = f"{reason} (worker {worker})"
        failure = CallFailure(str(path), stage, reason, prepared.source.sha256 if prepared else None)
        store_failure(self, failure, prepared)
        self.progress.advance(path)
        return CallOutcome("failed", failure.sha256, failure=failure, worker=worker)

    def finish(self, path: Path, prepared: call.IdentifiedCall,
               result: AnalysedCall | AnalysisFailure) -> CallOutcome:
        """Store one worker's result in its own transaction, as it arrives."""
        if isinstance(result, AnalysisFailure):
            return self.fail(path, result.stage, result.reason, prepared, result.worker)
        try:
            store_call(self, prepared, result)
        except (CallQAError, OSError, ValueError, RuntimeError) as exc:
            return self.fail(path, "store", _one_line(exc), prepared, result.worker)
        self.progress.advance(path)
        uncertain = bool(result.transcript.roles and result.transcript.roles.uncertain)
        return CallOutcome("done", prepared.source.sha256, result.info.duration, roles_uncertain=uncertain,
                           worker=result.worker)


def load_engines(settings: Settings, threads: int | None = None) -> Engines:
    """Load the recogniser and the speaker embedder once per process, for ``threads`` concurrent calls."""
    from models.speaker import SpeakerEmbedder
    from models.whisper import Recognizer, resolve_model_dir

    model_dir = resolve_model_dir(settings.transcription)
    recognizer = Recognizer(model_dir, compute_type=settings.transcription.compute_type,
                            num_workers=threads or max(1, settings.transcription.workers))
    return Engines(recognizer=recognizer, embedder=SpeakerEmbedder())


@flow(name="nightly_inspection", log_prints=False, validate_parameters=False)
def nightly_inspection(
    sources: list[str],
    db: str = "callqa.duckdb",
    manifest: str | None = None,
    language: str | None = None,
    config: str | None = None,
    workers: int | None = None,
    cluster: str | None = None,
) -> RunSummary:
    """Transcribe, role-label and store every recording under ``sources``; returns the run report.

    Args:
        sources: files and/or directories (searched recursively).
        db: the DuckDB file.
        manifest: a CSV of per-call metadata.
        language: ``zh``, ``en`` or ``auto``; overrides the configured deployment language.
        config: a settings TOML file.
        workers: parallel calls in process (default from settings: 2, one per core).
        cluster: ``local:N`` or a Dask scheduler address (overrides ``[cluster] address``; "" forces the
            in-process runner).
    """
    # The body lives in a plain module function: a served flow is pickled by value and must not drag the
    # module's globals (locks, loaded models) along.
    return run_nightly(sources, db, manifest, language, config, workers, cluster)


def run_nightly(sources: list[str], db: str, manifest: str | None, language: str | None, config: str | None,
                workers: int | None, cluster_address: str | None = None) -> RunSummary:
    """The body of :func:`nightly_inspection` (call that, not this: tasks need the flow's context)."""
    settings = _override(load_settings(config), language, workers, cluster_address)
    placement = cluster.parse_cluster(settings.cluster.address,
                                      "--cluster" if cluster_address else "[cluster] address")
    started, t0 = _now(), time.monotonic()
    run_id = f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    store = Store(db)
    if not settings.redaction.enabled:
        log.warning("[redaction] mode = \"off\": this run stores and shows personal data (phone, ID and card numbers, "
                    "names, addresses) in clear. Set mode = \"redact\" unless that is intended")
    files = discover(sources, settings)
    man = ingest.Manifest(Path(manifest)) if manifest else None
    checklists = scoring.load_active(settings.scoring)  # an invalid checklist stops the run before any call
    settings = scoring.with_checklist_hints(settings, checklists)
    emotion = scoring.load_emotion(settings.emotion)
    model_sha, embedder_sha = _run_models(settings, checklists, emotion, placement)
    done = store.transcribed_pairs(model_sha)
    records = {c.content_hash: checklist_record(c) for c in checklists.all()}
    with cluster.make_runner(placement, settings.transcription.workers) as runner:
        if placement.distributed:
            _refuse_mixed_models(runner, settings, model_sha)
        store.start_run(run_id, sources, call.canonical_json(asdict(settings)), code_version())
        PROGRESS.start(files)
        ctx = RunContext(run_id, store, settings, man, model_sha, embedder_sha, done, PROGRESS, code_version(),
                         records, placement.distributed)
        outcomes = _dispatch(runner, ctx, files)
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
        workers=_shares(outcomes),
    )
    store.finish_run(summary)
    return summary


def _run_models(settings: Settings, checklists: scoring.ActiveChecklists, emotion: scoring.EmotionSetup,
                placement: cluster.Placement) -> tuple[str, str | None]:
    """The recogniser and voiceprint model hashes of the run.

    In process the flow loads the models it runs with and hands them to its threads; for a cluster it only
    resolves the recogniser and hashes the embedder's file (to look voiceprints up): the workers load both.
    """
    if not placement.distributed:
        engines = load_engines(settings)
        keep_kit(settings, WorkerKit(engines, checklists, emotion))
        return engines.recognizer.info.sha256, (engines.embedder.info.sha256 if engines.embedder else None)
    from models.speaker import speaker_model_sha256
    from models.whisper import model_sha256, resolve_model_dir

    return model_sha256(resolve_model_dir(settings.transcription)), speaker_model_sha256()


def _refuse_mixed_models(runner: Any, settings: Settings, model_sha: str) -> None:
    """Stop before any call is stored when a worker would transcribe with another model than the run's.

    A worker that cannot find a model at all is let through: each of its calls fails naming it, the rest go on.

    Raises:
        CallQAError: naming every worker whose model differs.
    """
    found = cluster.on_every_worker(runner, probe_worker, settings)
    other = [f"{name} has {sha[:12]}…" for name, sha in found.values()
             if not sha.startswith("error:") and sha != model_sha]
    if other:
        raise CallQAError(f"workers run another Whisper model than this run's ({model_sha[:12]}…): "
                          f"{'; '.join(other)}. A run must be produced by one model: install the same "
                          "transcription.model_dir on every worker, then rerun")
    for name, sha in found.values():
        if sha.startswith("error:"):
            log.warning("worker %s cannot load the model (%s): its calls will fail", name, sha[7:])


def _dispatch(runner: Any, ctx: RunContext, files: Sequence[Path]) -> list[CallOutcome]:
    """Identify each file here, send the new ones to the runner and store each result as it arrives.

    Finished futures are let go at once: Dask keeps a result on its worker while the flow holds the future,
    and would compute it again if that worker died.
    """
    outcomes: list[CallOutcome] = []
    arrived: queue.Queue[Any] = queue.Queue()
    pending: dict[Any, tuple[Path, call.IdentifiedCall]] = {}
    for path in files:
        try:
            prepared = prepare(path, ctx.settings, ctx.manifest)
        except (CallQAError, OSError, ValueError, RuntimeError) as exc:
            outcomes.append(ctx.fail(path, "read", _one_line(exc), None))
            continue
        key = (prepared.source.sha256, prepared.options_hash)
        if not ctx.claim(prepared.source.sha256) or key in ctx.already_done:
            ctx.store.touch_call(ctx.run_id, prepared.source.sha256)
            ctx.progress.advance(path)
            outcomes.append(CallOutcome("skipped", prepared.source.sha256))
            continue
        future = runner.submit(analyse_call, {"job": ctx.job(path, prepared)})
        pending[future] = (path, prepared)
        future.add_done_callback(arrived.put)
    while pending:
        future = arrived.get()
        path, prepared = pending.pop(future)
        try:
            result = future.result()
        except Exception as exc:  # the worker died (Dask gave up after its retries) or the task crashed
            result = AnalysisFailure("worker", f"the worker processing it was lost: {_one_line(exc)}", "")
        del future
        outcomes.append(ctx.finish(path, prepared, result))
    return outcomes


def _shares(outcomes: Sequence[CallOutcome]) -> tuple[WorkerShare, ...]:
    """Calls done and their audio per worker, busiest first (skipped calls never left the flow)."""
    done: dict[str, list[float]] = {}
    for o in outcomes:
        if o.status == "done" and o.worker:
            done.setdefault(o.worker, []).append(o.seconds)
    return tuple(sorted((WorkerShare(w, len(s), sum(s)) for w, s in done.items()),
                        key=lambda share: (-share.calls, share.worker)))


def _override(settings: Settings, language: str | None, workers: int | None, address: str | None) -> Settings:
    t = settings.transcription
    if language:
        t = replace(t, language=language)
    if workers:
        t = replace(t, workers=workers)
    settings = replace(settings, transcription=t)
    if address is not None:
        settings = replace(settings, cluster=replace(settings.cluster, address=address))
    return settings


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
