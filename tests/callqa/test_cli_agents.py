"""`callqa agents enroll`: a voiceprint stored per agent and embedding model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from callqa.cli import app
from models.speaker import SpeakerEmbedder
from scorecards.store.database import Store

CLIPS = Path(__file__).resolve().parents[2] / "data" / "clips"


def test_enroll_stores_a_unit_voiceprint(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    res = CliRunner().invoke(app, ["agents", "enroll", "A7", str(CLIPS / "jfk.flac"), "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "enrolled A7: 1 file(s), 11.0 s" in res.output
    vp = Store(db).voiceprint("A7", SpeakerEmbedder().info.sha256)
    assert vp is not None and len(vp) == 256
    assert abs(float(np.linalg.norm(vp)) - 1.0) < 1e-4


def test_enroll_refuses_too_little_audio_and_bad_files(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    res = CliRunner().invoke(app, ["agents", "enroll", "A7", str(CLIPS / "aishell_BAC009S0724W0121.wav"),
                                   "--db", str(db)])
    assert res.exit_code == 1 and "enrol at least 10 s" in res.output
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    res = CliRunner().invoke(app, ["agents", "enroll", "A7", str(bad), "--db", str(db)])
    assert res.exit_code == 1 and "bad.wav" in res.output
    assert not db.exists()
