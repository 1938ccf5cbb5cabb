"""Deployment settings.

Settings come from a TOML file (``--config FILE``, ``$CALLQA_CONFIG`` or ``./callqa.toml`` when present)
layered over the defaults below. Every section is a frozen dataclass; unknown keys are an error that
names the file and key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from core.errors import ConfigError

# The convention of the real call in data/: <id>_GUID_<guid>_AGENT_<agent>_DT_<datetime>_<Mono|Stereo>.wav
DEFAULT_FILENAME_PATTERN = (
    r"(?:(?P<external_id>[^_]+)_GUID_(?P<guid>[^_]+)_)?"
    r"AGENT_(?P<agent_id>[A-Za-z0-9.\-]+)_DT_(?P<started_at>\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2})"
)


@dataclass(frozen=True)
class VadSettings:
    """Silero VAD options passed to faster-whisper.

    The library defaults (threshold 0.5, 2 s silences) drop much of a quiet party's telephone speech; these
    keep more of it (docs/transcription.md has the measurements). The transcription stage adds back whatever
    energetic speech the VAD still skips, so these decide how much it has to add and how much silence Whisper
    is given.
    """

    threshold: float = 0.2
    neg_threshold: float = 0.1
    min_speech_duration_ms: int = 0
    min_silence_duration_ms: int = 1000
    speech_pad_ms: int = 400


@dataclass(frozen=True)
class TranscriptionSettings:
    """Which Whisper model runs and how.

    Attributes:
        model_dir: a CTranslate2 Whisper directory; empty means the packaged multilingual base,
            built into ``cache_dir`` on first use.
        language: ``zh``, ``en`` or ``auto``; ``queue_languages`` overrides it per queue.
        company_names: passed as hotwords so the recogniser gets brand names right, and used to find
            the agent's greeting.
        checklist_hints: also pass the active checklists' ``hints`` (the greeting and closing phrases
            their authors list) as hotwords, per language. Off by default: measured, the hints make the
            recogniser write them where they were not said (docs/checklists.md, "Recogniser hints").
        hints: phrases per language (``{zh = [...], en = [...]}``) passed as hotwords besides the company
            names; a run adds the checklists' hints here when ``checklist_hints`` is on.
    """

    model_dir: str = ""
    cache_dir: str = ""
    compute_type: str = "int8"
    beam_size: int = 5
    language: str = "auto"
    queue_languages: dict[str, str] = field(default_factory=dict)
    company_names: tuple[str, ...] = ()
    checklist_hints: bool = False
    hints: dict[str, tuple[str, ...]] = field(default_factory=dict)
    workers: int = 2
    vad: VadSettings = field(default_factory=VadSettings)


@dataclass(frozen=True)
class RoleSettings:
    """How the agent is told from the customer.

    Attributes:
        agent_channel: for stereo calls, the channel (0 or 1) that carries the agent; None decides it from
            the content of each call.
        uncertain_below: a role decision with lower confidence is flagged as uncertain.
    """

    agent_channel: int | None = None
    uncertain_below: float = 0.6
    voiceprint_threshold: float = 0.75


@dataclass(frozen=True)
class IngestSettings:
    """How recordings are found and described."""

    extensions: tuple[str, ...] = (".wav", ".flac", ".mp3", ".ogg", ".m4a", ".opus", ".aac", ".wma")
    filename_pattern: str = DEFAULT_FILENAME_PATTERN
    max_duration_s: float = 3 * 3600.0
    min_duration_s: float = 0.2


@dataclass(frozen=True)
class ScoringSettings:
    """Which checklists score a call.

    Attributes:
        checklists: checklist files; each applies to calls in one of its ``languages``. Empty means the
            shipped service checklist of the call's language.
        queue_checklists: per queue, the checklist files that apply instead (e.g. a complaints checklist).
    """

    checklists: tuple[str, ...] = ()
    queue_checklists: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ClusterSettings:
    """Where the per-call work of a run is done.

    Attributes:
        address: empty for the in-process thread pool (the default, nothing to start); ``local:N`` for a Dask
            cluster of N single-threaded worker processes on this machine; ``tcp://HOST:8786`` (or ``tls://``)
            for the scheduler of an existing Dask cluster whose workers see the recordings at the same paths.
    """

    address: str = ""


REDACTION_MODES = ("redact", "both", "off")


@dataclass(frozen=True)
class RedactionSettings:
    """What happens to personal data (phone, ID and card numbers, emails, addresses, names, birth dates).

    Attributes:
        mode: ``redact`` (the default): stored transcripts, evidence, reports, exports and pages show placeholders
            (``[PHONE]`` …) and the player silences those spans; ``both``: the same, and the clear text is kept in a
            separate table that only a ``pii:clear`` role reads, every read audited; ``off``: nothing is hidden
            (an explicit opt-out, logged as a warning at the start of every run).
    """

    mode: str = "redact"

    def __post_init__(self) -> None:
        if self.mode not in REDACTION_MODES:
            raise ConfigError(f"[redaction] mode: '{self.mode}' is not one of {', '.join(REDACTION_MODES)}")

    @property
    def enabled(self) -> bool:
        return self.mode != "off"


@dataclass(frozen=True)
class Settings:
    """All deployment settings."""

    db: str = "callqa.duckdb"
    transcription: TranscriptionSettings = field(default_factory=TranscriptionSettings)
    roles: RoleSettings = field(default_factory=RoleSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    scoring: ScoringSettings = field(default_factory=ScoringSettings)
    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    redaction: RedactionSettings = field(default_factory=RedactionSettings)
    # Fields of pipeline.emotion.EmotionOptions (checked when a run starts; kept as a table here so that
    # reading settings does not import the audio libraries the emotion stage needs).
    emotion: dict[str, Any] = field(default_factory=dict)

    def language_for(self, queue: str | None, metadata_language: str | None = None) -> str:
        """The language to transcribe a call in: its own metadata, then its queue, then the deployment."""
        if metadata_language:
            return metadata_language
        if queue and queue in self.transcription.queue_languages:
            return self.transcription.queue_languages[queue]
        return self.transcription.language


def default_cache_dir() -> Path:
    """Where built models are kept: ``$CALLQA_CACHE``, else ``$XDG_CACHE_HOME/callqa``, else ``~/.cache``."""
    if env := os.environ.get("CALLQA_CACHE"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "callqa"


def _coerce(cls: type, data: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            hint = difflib.get_close_matches(key, known, n=1)
            suggestion = f" — did you mean '{hint[0]}'?" if hint else f"; known keys: {', '.join(known)}"
            raise ConfigError(f"{where}: unknown key '{key}'{suggestion}")
        default = getattr(cls(), key)
        if is_dataclass(default) and isinstance(value, dict):
            kwargs[key] = _coerce(type(default), value, f"{where}.{key}")
        elif isinstance(default, tuple) and isinstance(value, list):
            kwargs[key] = tuple(value)
        else:
            kwargs[key] = value
    return replace(cls(), **kwargs)


def load_settings(path: str | Path | None = None) -> Settings:
    """Load settings from ``path``, ``$CALLQA_CONFIG`` or ``./callqa.toml``; defaults if none exists."""
    chosen = path or os.environ.get("CALLQA_CONFIG")
    if not chosen and Path("callqa.toml").is_file():
        chosen = "callqa.toml"
    if not chosen:
        return Settings()
    p = Path(chosen)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{p}: config file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
    settings: Settings = _coerce(Settings, data, str(p))
    return settings
