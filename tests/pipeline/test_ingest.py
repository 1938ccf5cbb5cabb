"""Finding recordings and resolving their metadata."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from core.config import DEFAULT_FILENAME_PATTERN, Settings
from core.errors import MetadataError
from pipeline.call import prepare
from pipeline.ingest import Manifest, discover, fingerprint, resolve_metadata

DATA = Path(__file__).resolve().parents[2] / "data"
REAL_CALL = DATA / "calls" / "Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav"
EXTS = Settings().ingest.extensions


def test_discover_is_recursive_sorted_and_unique(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/b/z.WAV", "a/x.mp3", "y.flac", "notes.txt", "a/.hidden.wav"):
        (tmp_path / name).write_bytes(b"x")
    found = list(discover([tmp_path, tmp_path / "y.flac"], EXTS))
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a/b/z.WAV", "a/x.mp3", "y.flac"]


def test_discover_names_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        list(discover([tmp_path / "nope"], EXTS))


def test_identity_is_the_content_hash(tmp_path: Path) -> None:
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    shutil.copy(REAL_CALL, a)
    shutil.copy(REAL_CALL, b)
    assert fingerprint(a).sha256 == fingerprint(b).sha256
    with b.open("ab") as fh:
        fh.write(b"\0")
    assert fingerprint(a).sha256 != fingerprint(b).sha256


def test_filename_pattern_reads_the_real_call_convention() -> None:
    meta = resolve_metadata(REAL_CALL, None, DEFAULT_FILENAME_PATTERN)
    assert meta.agent_id == "ChrisL"
    assert meta.external_id == "Auto0"
    assert meta.started_at == dt.datetime(2025, 2, 19, 6, 1, 22)
    # the sidecar beside it adds the language and queue, the file name still gives the agent
    assert meta.language == "en" and meta.queue == "service"
    assert meta.source == "sidecar"


def test_missing_agent_is_unknown_not_a_crash(tmp_path: Path) -> None:
    f = tmp_path / "random name.wav"
    f.write_bytes(b"x")
    meta = resolve_metadata(f, None, DEFAULT_FILENAME_PATTERN)
    assert meta.agent_id is None and meta.agent == "unknown" and meta.source == "none"


def test_precedence_sidecar_then_manifest_then_filename(tmp_path: Path) -> None:
    audio = tmp_path / "x_AGENT_fromname_DT_2025-01-02T03-04-05.wav"
    audio.write_bytes(b"x")
    (tmp_path / "m.csv").write_text(
        "file,agent_id,team,queue,hangup_by\n"
        f"{audio.name},frommanifest,T9,billing,Customer\n", encoding="utf-8"
    )
    manifest = Manifest(tmp_path / "m.csv")
    meta = resolve_metadata(audio, manifest, DEFAULT_FILENAME_PATTERN)
    assert (meta.agent_id, meta.team, meta.queue, meta.hangup_by) == ("frommanifest", "T9", "billing", "customer")
    assert meta.started_at == dt.datetime(2025, 1, 2, 3, 4, 5)
    audio.with_suffix(".json").write_text(json.dumps({"agent": "fromsidecar", "queue": "complaint"}))
    meta = resolve_metadata(audio, manifest, DEFAULT_FILENAME_PATTERN)
    assert (meta.agent_id, meta.team, meta.queue) == ("fromsidecar", "T9", "complaint")


def test_custom_pattern(tmp_path: Path) -> None:
    audio = tmp_path / "20250301-queue_sales-agent_7788-out.wav"
    audio.write_bytes(b"x")
    pattern = r"queue_(?P<queue>\w+?)-agent_(?P<agent_id>\d+)-(?P<direction>in|out)"
    meta = resolve_metadata(audio, None, pattern)
    assert (meta.queue, meta.agent_id, meta.direction) == ("sales", "7788", "out")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"agent_id": "A1",\n "queue": }', r"x\.json:2:11: not valid JSON"),
        ('["not", "an", "object"]', "expected a JSON object"),
        ('{"hangup_by": "robot"}', "hangup_by 'robot' must be one of"),
        ('{"started_at": "yesterday"}', "started_at 'yesterday' is not a date-time"),
        ('{"language": "fr"}', "language 'fr' must be zh, en or auto"),
    ],
)
def test_bad_sidecar_names_the_file_and_field(tmp_path: Path, content: str, message: str) -> None:
    audio = tmp_path / "x.wav"
    audio.write_bytes(b"x")
    (tmp_path / "x.json").write_text(content, encoding="utf-8")
    with pytest.raises(MetadataError, match=message):
        resolve_metadata(audio, None, DEFAULT_FILENAME_PATTERN)


def test_bad_manifest_names_line(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("file,agent_id,started_at\na.wav,A1,2025-01-01T00:00:00\nb.wav,A2,soon\n")
    with pytest.raises(MetadataError, match=r"m\.csv:3: started_at 'soon'"):
        Manifest(tmp_path / "m.csv")
    (tmp_path / "n.csv").write_text("agent_id\nA1\n")
    with pytest.raises(MetadataError, match=r"n\.csv:1: the manifest needs a 'file' column"):
        Manifest(tmp_path / "n.csv")


def test_options_hash_follows_the_language(tmp_path: Path) -> None:
    audio = tmp_path / "q.wav"
    shutil.copy(REAL_CALL, audio)
    s = Settings()
    en = prepare(audio, s, None)
    audio.with_suffix(".json").write_text('{"language": "zh"}')
    zh = prepare(audio, s, None)
    assert en.source.sha256 == zh.source.sha256
    assert (en.language, zh.language) == ("auto", "zh")
    assert en.options_hash != zh.options_hash
