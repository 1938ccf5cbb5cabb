"""The nightly flow end to end through the CLI: bad files in a batch, re-runs, kill -9 and resume.

These run the real thing (Prefect's ephemeral API, Whisper base, DuckDB) on a few short real clips.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from scorecards.store.database import Store
from tests.flows._run import callqa, text_columns_holding

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]

DATA = Path(__file__).resolve().parents[2] / "data"
CLIPS = DATA / "clips"


def _copy_clip(name: str, dest: Path) -> Path:
    shutil.copy(CLIPS / name, dest / name)
    side = (CLIPS / name).with_suffix(".json")
    if side.exists():
        shutil.copy(side, dest / side.name)
    return dest / name


def _bad_files(d: Path) -> dict[str, str]:
    """One file of every bad kind; returns file name → the words its failure reason must contain."""
    import soundfile as sf

    (d / "empty.wav").write_bytes(b"")
    data = (CLIPS / "librispeech_1995-1837-0001.wav").read_bytes()
    (d / "truncated.wav").write_bytes(data[:2000])
    (d / "not_audio.mp3").write_text("this is a text file pretending to be audio\n" * 50)
    os.symlink(d / "gone.wav", d / "unreadable.wav")
    rng = np.random.default_rng(0)
    sf.write(d / "too_long.wav", (rng.standard_normal(16000 * 40) * 0.1).astype(np.float32), 16000)
    # A WAV whose format tag names no codec anyone knows.
    wav = bytearray((CLIPS / "aishell_BAC009S0724W0121.wav").read_bytes())
    wav[20:22] = (0x7A7A).to_bytes(2, "little")
    (d / "odd_codec.wav").write_bytes(bytes(wav))
    return {
        "empty.wav": "empty",
        "truncated.wav": "",
        "not_audio.mp3": "",
        "unreadable.wav": "",
        "too_long.wav": "longer than",
        "odd_codec.wav": "",
    }


def test_bad_files_fail_with_reasons_and_good_files_are_stored(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    good = [_copy_clip(n, src) for n in ("aishell_BAC009S0724W0121.wav", "jfk.flac")]
    bad = _bad_files(src)
    config = tmp_path / "callqa.toml"
    config.write_text("[ingest]\nmax_duration_s = 30\n")
    db = tmp_path / "db.duckdb"
    res = callqa("run", str(src), "--db", str(db), "--config", str(config), "--no-progress")
    assert res.returncode == 2, res.stdout + res.stderr
    for name in bad:
        assert name in res.stderr, f"{name} should be named among the failures: {res.stderr}"
    store = Store(db)
    calls = {Path(c.source_path).name: c for c in store.list_calls()}
    for g in good:
        assert calls[g.name].status == "transcribed"
        assert store.load_transcript(calls[g.name].call_id).transcript.utterances
    run_id = store.runs()[0]["run_id"]
    reasons = {Path(f.path).name: f.reason for f in store.failures(run_id)}
    assert set(reasons) == set(bad)
    for name, words in bad.items():
        assert reasons[name] and "\n" not in reasons[name]
        assert words in reasons[name].lower(), (name, reasons[name])
    assert store.integrity_problems() == []
    check = callqa("check-db", "--db", str(db))
    assert check.returncode == 0, check.stderr


def test_rerun_skips_and_kill_9_resumes_without_duplicates(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    names = ["funasr_asr_example.wav", "librispeech_1995-1837-0001.wav", "wenet_long.wav", "paddle_test.wav"]
    for n in names:
        _copy_clip(n, src)
    shutil.copy(src / names[0], src / "same_bytes_again.wav")  # one call found twice
    db = tmp_path / "db.duckdb"
    log = (tmp_path / "first-run.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "callqa.cli", "run", str(src), "--db", str(db),
                             "--no-progress", "--workers", "1"], stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 300
    store = Store(db, lock_timeout=30)
    while time.monotonic() < deadline:
        if db.exists() and any(c.status == "transcribed" for c in store.list_calls()):
            break
        assert proc.poll() is None, f"the run ended before it was killed: {(tmp_path / 'first-run.log').read_text()}"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    stored_before = len(store.list_calls())
    assert 1 <= stored_before < len(names)

    res = callqa("run", str(src), "--db", str(db), "--no-progress", "--json-report")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["done"] == len(names) - stored_before
    assert report["skipped"] == stored_before + 1  # plus the duplicate file
    calls = store.list_calls()
    assert len(calls) == len(names) and all(c.status == "transcribed" for c in calls)
    with store.reading() as con:
        assert con.execute("SELECT count(*) FROM transcripts").fetchone() == (len(names),)
    assert store.integrity_problems() == []
    assert [r["status"] for r in store.runs()] == ["finished", "interrupted"]

    again = callqa("run", str(src), "--db", str(db), "--no-progress", "--json-report")
    assert again.returncode == 0
    assert (json.loads(again.stdout)["done"], json.loads(again.stdout)["skipped"]) == (0, len(names) + 1)


def test_an_invalid_checklist_stops_the_run_before_any_call(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    _copy_clip("aishell_BAC009S0724W0121.wav", src)
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: broken\nversion: '1'\nlanguages: [zh]\nsections:\n  - id: s\n    treshold: 3\n",
                   encoding="utf-8")
    config = tmp_path / "callqa.toml"
    config.write_text(f"[scoring]\nchecklists = ['{bad}']\n")
    db = tmp_path / "db.duckdb"
    res = callqa("run", str(src), "--db", str(db), "--config", str(config), "--no-progress")
    assert res.returncode == 1
    assert f"{bad}:" in res.stderr
    assert not db.exists() or Store(db).list_calls() == []


def _pages_and_exports(db: Path, tmp_path: Path, call_id: str) -> str:
    """What an admin sees of the demo: the call page, queue, team page, and CSV and Parquet exports."""
    import datetime as dt

    from fastapi.testclient import TestClient

    from callqa.web.app import create_app
    from scorecards.people import exports
    from scorecards.people.access import UserRole, Viewer
    from scorecards.people.accounts import add_user
    from tests.e2e._client import login

    add_user(Store(db), "auditor", UserRole.ADMIN, password="correct-horse-battery")
    client = login(TestClient(create_app(db, secret="demo")), "auditor")
    seen = [client.get(page).text for page in (f"/calls/{call_id}", "/queue?status=all", "/team", "/runs")]
    admin = Viewer("admin", UserRole.ADMIN)
    for kind, fmt in (("verdicts", "csv"), ("scorecards", "csv"), ("verdicts", "parquet")):
        dest = tmp_path / f"{kind}.{fmt}"
        export = exports.export_verdicts if kind == "verdicts" else exports.export_scorecards
        export(Store(db), admin, since=dt.date(2000, 1, 1), until=dt.date(2100, 1, 1), fmt=fmt, dest=dest)
        seen.append(dest.read_bytes().decode("utf-8", "replace"))
    return "\n".join(seen)


def test_demo_stores_roles_and_scores_and_keeps_personal_data_out_of_logs(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    # The default path: no Prefect server configured, the run starts a temporary one of its own.
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PREFECT_LOGGING_LEVEL": "DEBUG"}
    res = callqa("demo", "--db", str(db), "--no-progress", env=env, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "calls done" in res.stdout and "AGENT" in res.stdout
    store = Store(db)
    calls = store.list_calls()
    assert len(calls) == 8 and all(c.status == "transcribed" for c in calls)
    real = store.load_transcript("Auto0")
    first = real.transcript.utterances[0]
    assert first.role.value == "agent" and "thank you for calling" in first.text.lower()
    text = " ".join(u.text for u in real.transcript.utterances)
    # Redacted by default (issue 14): the caller's name, its spelling and the number read out are placeholders,
    # and no table, log line, page or export holds them.
    assert "[NAME]" in text and "[PHONE]" in text
    secrets = ["Violet", "violet", "King", "K-I-N-G", "I-O-L-E-T", "888-333", "888 333", "333 2222", "3332222"]
    assert [s for s in secrets if s in text] == []
    assert [s for s in secrets if s in res.stderr or s in res.stdout] == []
    assert text_columns_holding(db, ["violet", "k-i-n-g", "i-o-l-e-t", "888-333", "888333", "3332222"]) == []
    raw = db.read_bytes()
    assert [s for s in secrets if s.encode() in raw] == []
    shown = _pages_and_exports(db, tmp_path, real.call.call_id)
    assert "[NAME]" in shown and [s for s in secrets if s in shown] == []
    cards = store.current_scorecards(real.call.call_id)
    assert [c.checklist_id for c in cards] == ["service_en"]
    assert cards[0].item("greeting").verdict.value == "pass"
    assert store.integrity_problems() == []


SYNTH = Path(__file__).resolve().parents[1] / "data" / "synth"


def test_rendered_calls_are_redacted_and_both_keeps_the_clear_text_apart(tmp_path: Path) -> None:
    """Two rendered calls through Whisper: the caller's birth date (English) and a mobile number read digit by
    digit (Mandarin) are placeholders; under mode "both" the clear text is kept in its own table."""
    src = tmp_path / "in"
    src.mkdir()
    for name in ("en_bank_stereo.wav", "zh_broadband_stereo.wav"):
        shutil.copy(SYNTH / name, src / name)
    config = tmp_path / "callqa.toml"
    config.write_text('[redaction]\nmode = "both"\n', encoding="utf-8")
    db = tmp_path / "db.duckdb"
    res = callqa("run", str(src), "--db", str(db), "--config", str(config), "--no-progress")
    assert res.returncode == 0, res.stderr[-2000:]
    store = Store(db)
    texts = {}
    for c in store.list_calls():
        stored = store.load_transcript(c.call_id)
        texts[c.file_name] = " ".join(u.text for u in stored.transcript.utterances)
        assert store.privacy_mode(stored.transcript_id) == "both"
        clear = store.clear_texts(stored.transcript_id, "test", c.call_id)
        texts[c.file_name + ":clear"] = " ".join(t for t, _ in clear.values())
    # Whisper base hears the caller's "it's Peter Example, the fourth of May, nineteen eighty" as "…the red number
    # before the May 19th": the answer to "date of birth?" is hidden, the clear table keeps it.
    assert "[DATE]" in texts["en_bank_stereo.wav"] and "May 19th" not in texts["en_bank_stereo.wav"]
    assert "May 19th" in texts["en_bank_stereo.wav:clear"]
    assert "我的手机号是[PHONE]" in texts["zh_broadband_stereo.wav"] and "13800" not in texts["zh_broadband_stereo.wav"]
    assert "13800" in texts["zh_broadband_stereo.wav:clear"]
    with store.reading() as con:
        assert con.execute("SELECT count(*) FROM clear_access WHERE user_id = 'test'").fetchone() == (2,)
    assert "13800" not in res.stderr + res.stdout and "May 19th" not in res.stderr + res.stdout


def test_redaction_off_is_an_explicit_opt_out_warned_at_every_run(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SYNTH / "en_bank_mono.wav", src / "en_bank_mono.wav")
    config = tmp_path / "callqa.toml"
    config.write_text('[redaction]\nmode = "off"\n', encoding="utf-8")
    db = tmp_path / "db.duckdb"
    res = callqa("run", str(src), "--db", str(db), "--config", str(config), "--no-progress")
    assert res.returncode == 0, res.stderr[-2000:]
    assert 'mode = "off"' in res.stderr and "in clear" in res.stderr
    stored = Store(db).load_transcript(Store(db).list_calls()[0].call_id)
    assert "May 19th" in " ".join(u.text for u in stored.transcript.utterances)
    assert Store(db).privacy_mode(stored.transcript_id) == "off" and Store(db).redactions(stored.transcript_id) == ()
    bad = tmp_path / "bad.toml"
    bad.write_text('[redaction]\nmode = "none"\n', encoding="utf-8")
    res = callqa("run", str(src), "--db", str(db), "--config", str(bad), "--no-progress")
    assert res.returncode != 0 and "[redaction] mode: 'none' is not one of redact, both, off" in res.stderr
