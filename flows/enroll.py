"""Enrol an agent's voiceprint from recordings of that agent alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.config import load_settings
from core.errors import AudioError
from models.speaker import SpeakerEmbedder
from pipeline import audio, roles
from scorecards.store.database import Store


def enroll_agent(agent_id: str, files: list[Path], db: Path, config: Path | None = None) -> float:
    """Embed every file, store the agent's mean voiceprint; returns the seconds of audio used.

    Raises:
        AudioError: a file cannot be decoded (named in the message), or there is too little speech.
    """
    settings = load_settings(config)
    embedder = SpeakerEmbedder()
    clips: list[np.ndarray] = []
    for f in files:
        decoded = audio.decode(f, max_duration_s=settings.ingest.max_duration_s,
                               min_duration_s=settings.ingest.min_duration_s)
        clips.extend(decoded.channels[:1])
    seconds = float(sum(c.shape[0] for c in clips)) / audio.SAMPLE_RATE
    if seconds < 5.0:
        raise AudioError(f"only {seconds:.1f} s of audio for {agent_id}; enrol at least 10 s of the agent speaking")
    vector = roles.enroll(clips, embedder)
    Store(db).save_voiceprint(agent_id, [float(x) for x in vector], embedder.info.sha256, len(files), seconds)
    return seconds
