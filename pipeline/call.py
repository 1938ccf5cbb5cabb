"""Per-call glue between the stages: what the flow needs to know about a file before and after.

Plain Python: the flow in ``flows/`` wires these with the store; tests call them directly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from core.config import Settings
from core.types import (
    AudioInfo,
    CallMetadata,
    ModelInfo,
    RoleDecision,
    SourceFile,
    Transcript,
    Utterance,
)
from pipeline.ingest import Manifest, fingerprint, resolve_metadata
from pipeline.redact import REDACTOR_VERSION
from pipeline.transcribe import transcription_options


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal settings give equal text and equal hashes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True, slots=True)
class IdentifiedCall:
    """A recording identified and described, before any audio is decoded."""

    source: SourceFile
    metadata: CallMetadata
    language: str
    options: str  # canonical JSON of everything that shapes the transcript
    options_hash: str


def result_options(settings: Settings, language: str) -> dict[str, Any]:
    """The settings that change a transcript (not where files live nor how many workers run)."""
    redaction = {"mode": settings.redaction.mode, "version": REDACTOR_VERSION if settings.redaction.enabled else ""}
    return {**transcription_options(settings.transcription, language), "roles": asdict(settings.roles),
            "redaction": redaction}


def stored_metadata(metadata: CallMetadata, settings: Settings) -> CallMetadata:
    """The metadata as stored and scored: under redaction the customer's number is a placeholder and their name
    (known only to find it in the transcript) is dropped."""
    if not settings.redaction.enabled:
        return replace(metadata, customer_name=None)
    number = "[PHONE]" if metadata.customer_number else None
    return replace(metadata, customer_number=number, customer_name=None)


def prepare(path: Path, settings: Settings, manifest: Manifest | None) -> IdentifiedCall:
    """Fingerprint a file and resolve its metadata and language.

    Raises:
        OSError: the file cannot be read.
        core.errors.MetadataError: its sidecar or manifest row is malformed.
    """
    source = fingerprint(path)
    metadata = resolve_metadata(path, manifest, settings.ingest.filename_pattern)
    language = settings.language_for(metadata.queue, metadata.language)
    options = canonical_json(result_options(settings, language))
    return IdentifiedCall(source, metadata, language, options, hashlib.sha256(options.encode()).hexdigest()[:16])


def assemble(
    utterances: tuple[Utterance, ...],
    decision: RoleDecision,
    info: AudioInfo,
    language: str,
    model: ModelInfo,
    options: str,
    code_version: str,
) -> Transcript:
    """The stored transcript: utterances in time order with what produced them.

    When the language was ``auto`` the transcript's language is the one most of the speech was in.
    """
    ordered = tuple(sorted(utterances, key=lambda u: (u.start, u.end, u.channel)))
    if language == "auto":
        weights: dict[str, float] = {}
        for u in ordered:
            if u.language:
                weights[u.language] = weights.get(u.language, 0.0) + (u.end - u.start)
        language = max(weights, key=lambda k: weights[k]) if weights else "unknown"
    return Transcript(
        utterances=ordered,
        duration=info.duration,
        language=language,
        channels=info.channels,
        roles=decision,
        model=model,
        options=options,
        code_version=code_version,
    )
