"""Personal data on the web (issue 14): the recording is served with its redacted spans silenced, and only a
``pii:clear`` holder (admin by default) hears the original or reads the clear text, every read audited and listed
on ``/admin/pii-access``.

The database is the web test database (tests/e2e/_db.py) with the real call stored again redacted under mode
``both`` (the names and the date its customer says, as the word timings place them) and the jfk clip under mode
``redact``; the other calls were stored before redaction existed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile
from fastapi.testclient import TestClient
from markupsafe import escape

from callqa.web.app import create_app
from callqa.web.context import WebSettings
from callqa.web.playback import PAD_S, silence, silence_ranges, silenced
from core.errors import ConfigError
from core.transcript_io import transcript_hash
from core.types import AudioInfo, CallMetadata, Redaction, SourceFile, Transcript, Utterance, Word
from rules.engine import score_call
from rules.loader import load_checklist
from scorecards.people.access import UserRole, Viewer
from scorecards.store.database import Store
from scorecards.store.privacy import PrivacyRecord
from scorecards.store.stored import checklist_record
from tests.e2e._client import login
from tests.e2e._db import (
    CHECKLIST,
    CHECKLIST_ZH,
    DATA,
    DemoCall,
    _clip_transcript,
    _references,
    copy_of_built,
    real_call_transcript,
)

# The real call's personal data: utterance → (first word, last word, what was said, kind).
CHRIS_PII = {1: (4, 5, "Violet King", "NAME"), 4: (4, 4, "Violet", "NAME"), 6: (4, 8, "King K-I-N-G", "NAME"),
             12: (0, 1, "August 10th", "DATE")}
JFK_PII = {0: (2, 3, "fellow Americans", "NAME")}  # not a name, but any two words will do for mode "redact"


@dataclass(frozen=True)
class Site:
    client: TestClient
    store: Store
    calls: dict[str, DemoCall]
    spans: dict[str, tuple[tuple[float, float], ...]]  # redacted spans by agent
    clear: dict[int, str]  # the real call's clear utterance texts, by index


def _redact(transcript: Transcript,
            pii: dict[int, tuple[int, int, str, str]]) -> tuple[Transcript, tuple[Redaction, ...]]:
    """The transcript with each ``pii`` stretch replaced by its placeholder, and the redactions that say where."""
    utterances: list[Utterance] = []
    found: list[Redaction] = []
    for idx, u in enumerate(transcript.utterances):
        if idx not in pii:
            utterances.append(u)
            continue
        first, last, said, kind = pii[idx]
        assert said in u.text, (idx, u.text)
        mark = f"[{kind}]"
        text = u.text.replace(said, mark, 1)
        words = (*u.words[:first], Word(u.words[first].start, u.words[last].end, mark, 0.9), *u.words[last + 1:])
        utterances.append(dataclasses.replace(u, text=text, words=words))
        at = text.index(mark)
        found.append(Redaction(idx, u.words[first].start, u.words[last].end, at, at + len(mark), kind, "test", 0.9))
    return dataclasses.replace(transcript, utterances=tuple(utterances)), tuple(found)


def _save(store: Store, call: DemoCall, transcript: Transcript, privacy: PrivacyRecord | None) -> None:
    """Store the call again with ``transcript``, scored on it as the nightly flow scores the redacted text."""
    checklist = load_checklist(CHECKLIST_ZH if transcript.language == "zh" else CHECKLIST)
    meta = CallMetadata(agent_id=call.agent, team=call.team, language=transcript.language, source="manifest")
    card = score_call(checklist, transcript, meta, call_id=call.call_id, transcript_hash=transcript_hash(transcript))
    stat = call.path.stat()
    info = soundfile.info(str(call.path))
    store.save_call("e2e-run-1", SourceFile(str(call.path), call.call_id, stat.st_size, stat.st_mtime), meta,
                    AudioInfo("pcm", call.path.suffix.lstrip("."), info.samplerate, info.channels, transcript.duration),
                    transcript, "o", scorecards=[(card, checklist_record(checklist))], privacy=privacy)


@pytest.fixture()
def site(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Site:
    db, calls = copy_of_built(tmp_path, tmp_path_factory.getbasetemp())
    client = TestClient(create_app(db, secret="privacy"))
    store: Store = client.app.state.web.store  # type: ignore[attr-defined]
    clear = real_call_transcript()
    redacted, chris = _redact(clear, CHRIS_PII)
    _save(store, calls["ChrisL"], redacted, PrivacyRecord("both", "test-1", chris, clear, "test"))
    jfk = calls["A2"]
    jfk_clear = _clip_transcript(_references()[jfk.path.name], soundfile.info(str(jfk.path)).duration)
    jfk_redacted, jfk_spans = _redact(jfk_clear, JFK_PII)
    _save(store, jfk, jfk_redacted, PrivacyRecord("redact", "test-1", jfk_spans, None, "test"))
    spans = {"ChrisL": tuple((r.start, r.end) for r in chris), "A2": tuple((r.start, r.end) for r in jfk_spans)}
    return Site(client, store, calls, spans, {i: clear.utterances[i].text for i in CHRIS_PII})


def _as(site: Site, name: str) -> TestClient:
    return login(TestClient(site.client.app), name)


def _samples(data: bytes | Path) -> tuple[np.ndarray, int]:
    source = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    samples, rate = soundfile.read(source, dtype="float64", always_2d=True)
    return samples, rate


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0


def _padded(span: tuple[float, float], rate: int, frames: int) -> tuple[int, int]:
    """The samples a span silences, worked out here apart from the code under test."""
    return max(0, math.floor((span[0] - PAD_S) * rate + 1e-6)), min(frames, math.ceil((span[1] + PAD_S) * rate - 1e-6))


def _assert_silenced(served: bytes, original: Path, spans: tuple[tuple[float, float], ...]) -> None:
    heard, rate = _samples(served)
    source, source_rate = _samples(original)
    assert rate == source_rate and heard.shape == source.shape  # same times: evidence still seeks right
    outside = np.ones(len(source), dtype=bool)
    for span in spans:
        a, b = _padded(span, rate, len(source))
        assert _rms(source[a:b]) > 0.01, f"{span}: there is speech to hide"
        assert _rms(heard[a:b]) < 1e-4, f"{span}: heard"
        assert np.array_equal(heard[a - 1], source[a - 1]) and np.array_equal(heard[b], source[b])  # pad, no more
        outside[a:b] = False
    assert np.array_equal(heard[outside], source[outside])  # every other sample is the recording's own
    assert _rms(heard[outside]) == pytest.approx(_rms(source[outside]), rel=1e-12)


# -- the silencing function ----------------------------------------------------------------------------------


def test_silence_zeroes_exactly_the_padded_spans_clipped_and_merged() -> None:
    rate = 100
    samples = np.arange(1, 1001, dtype=np.float32)  # 10 s, no sample zero to begin with
    spans = [(2.0, 3.0), (-1.0, 0.05), (9.9, 12.0), (4.0, 5.0), (4.8, 6.0), (20.0, 21.0), (7.5, 7.2)]
    assert silence_ranges(len(samples), rate, spans) == [(0, 20), (185, 315), (385, 615), (705, 765), (975, 1000)]
    quiet = silence(samples, rate, spans)
    zero = np.zeros(len(samples), dtype=bool)
    for a, b in [(0, 20), (185, 315), (385, 615), (705, 765), (975, 1000)]:
        zero[a:b] = True
    assert np.all(quiet[zero] == 0) and np.array_equal(quiet[~zero], samples[~zero])
    assert quiet.dtype == samples.dtype and samples[0] == 1  # a copy: the input is untouched
    assert np.array_equal(silence(samples, rate, []), samples)
    assert silence_ranges(len(samples), rate, [(2.0, 3.0)], pad_s=0.0) == [(200, 300)]
    stereo = np.stack([samples, -samples], axis=1).astype(np.int16)
    both = silence(stereo, rate, [(1.0, 1.5)], pad_s=0.0)
    assert np.all(both[100:150] == 0) and np.array_equal(both[:100], stereo[:100])
    assert np.array_equal(both[150:], stereo[150:]) and both.dtype == np.int16


def test_silenced_file_keeps_format_and_samples_and_is_cached_per_spans(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for clip in ("librispeech_1995-1837-0001.wav", "jfk.flac"):  # 16-bit mono WAV; 24-bit stereo FLAC
        path = DATA / "clips" / clip
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        made = silenced(path, cache, [(1.0, 1.6), (3.2, 3.5)])
        source = soundfile.info(str(path))
        info = soundfile.info(str(made))
        assert info.format == "WAV" and info.subtype == source.subtype and info.channels == source.channels
        assert info.frames == source.frames and info.samplerate == source.samplerate
        _assert_silenced(made.read_bytes(), path, ((1.0, 1.6), (3.2, 3.5)))
        stamp = made.stat().st_mtime_ns
        assert silenced(path, cache, [(3.2, 3.5), (1.0, 1.6)]) == made and made.stat().st_mtime_ns == stamp
        other = silenced(path, cache, [(1.0, 1.6)])
        assert other != made and other.exists()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # the recording itself is only read
    assert not [p for p in cache.iterdir() if p.suffix != ".wav"]  # no temporary file left behind


# -- the recording ---------------------------------------------------------------------------------------------


def test_everyone_hears_the_redacted_spans_silenced(site: Site) -> None:
    sup = _as(site, "sup")
    chris = site.calls["ChrisL"]
    whole = sup.get(f"/calls/{chris.call_id}/audio")
    assert whole.status_code == 200 and whole.headers["content-type"] == "audio/wav"
    _assert_silenced(whole.content, chris.path, site.spans["ChrisL"])
    assert whole.content != chris.path.read_bytes()
    part = sup.get(f"/calls/{chris.call_id}/audio", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == whole.content[1000:2000]  # the player still seeks
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(whole.content)}"
    agent = _as(site, "chris")
    assert agent.get(f"/calls/{chris.call_id}/audio").content == whole.content
    jfk = site.calls["A2"]  # a 24-bit stereo FLAC under mode "redact": a WAV of the same samples, silenced
    _assert_silenced(sup.get(f"/calls/{jfk.call_id}/audio").content, jfk.path, site.spans["A2"])
    assert hashlib.sha256(chris.path.read_bytes()).hexdigest() == chris.call_id  # the file is never touched
    assert site.store.clear_access_log() == []


def test_a_call_redacted_again_gets_a_new_silenced_copy(site: Site) -> None:
    sup = _as(site, "sup")
    chris = site.calls["ChrisL"]
    first = sup.get(f"/calls/{chris.call_id}/audio").content
    clear = real_call_transcript()
    redacted, fewer = _redact(clear, {12: CHRIS_PII[12]})
    _save(site.store, chris, redacted, PrivacyRecord("both", "test-2", fewer, clear, "test"))
    second = sup.get(f"/calls/{chris.call_id}/audio").content
    assert second != first
    _assert_silenced(second, chris.path, ((fewer[0].start, fewer[0].end),))
    cache: Path = site.client.app.state.web.audio_cache  # type: ignore[attr-defined]
    assert len(list(cache.glob("*.wav"))) == 2


def test_calls_stored_in_clear_are_served_as_they_are(site: Site) -> None:
    sup = _as(site, "sup")
    z1 = site.calls["Z1"]  # stored before redaction existed (privacy mode None)
    assert sup.get(f"/calls/{z1.call_id}/audio").content == z1.path.read_bytes()
    transcript = _clip_transcript(_references()[z1.path.name], soundfile.info(str(z1.path)).duration, "zh")
    # Mode "off" hides nothing, whatever redaction rows might say.
    off = PrivacyRecord("off", "", (Redaction(0, 1.0, 2.0, 0, 1, "NAME", "test", 0.9),), None, "test")
    _save(site.store, z1, transcript, off)
    assert sup.get(f"/calls/{z1.call_id}/audio").content == z1.path.read_bytes()
    assert site.store.privacy_mode(_tid(site, z1)) == "off"


def _tid(site: Site, call: DemoCall) -> str:
    with site.store.reading() as con:
        row = con.execute("SELECT transcript_id FROM transcripts WHERE call_id = ? AND is_current",
                          [call.call_id]).fetchone()
    assert row
    return str(row[0])


def test_a_recording_that_cannot_be_silenced_is_not_served(site: Site, tmp_path: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF" + bytes(4000))
    call = DemoCall(hashlib.sha256(junk.read_bytes()).hexdigest(), "A2", "T1", junk)
    transcript = Transcript((Utterance(0.5, 1.5, "[PHONE]"),), 2.0, "en", channels=1,
                            model=real_call_transcript().model, options="{}", code_version="test")
    spans = (Redaction(0, 0.5, 1.5, 0, 7, "PHONE", "test", 0.9),)
    store = site.store
    meta = CallMetadata(agent_id="A2", team="T1", language="en", source="manifest")
    store.save_call("e2e-run-1", SourceFile(str(junk), call.call_id, 4004, junk.stat().st_mtime), meta,
                    AudioInfo("pcm", "wav", 8000, 1, 2.0), transcript, "o",
                    privacy=PrivacyRecord("redact", "test-1", spans, None, "test"))
    response = _as(site, "sup").get(f"/calls/{call.call_id}/audio")
    assert response.status_code == 500 and junk.read_bytes() not in response.content


# -- pii:clear: the original recording ---------------------------------------------------------------------


def test_admin_hears_the_original_audited_once_per_hearing(site: Site) -> None:
    admin = _as(site, "admin")
    chris = site.calls["ChrisL"]
    url = f"/calls/{chris.call_id}/audio?clear=1"
    heard = admin.get(url)
    assert heard.status_code == 200 and heard.content == chris.path.read_bytes()
    assert heard.headers["cache-control"] == "no-store"  # personal data is not kept in the browser's cache
    log = site.store.clear_access_log()
    assert [(a.user_id, a.call_id, a.what) for a in log] == [("admin", chris.call_id, "audio")]
    seek = admin.get(url, headers={"Range": "bytes=50000-59999"})  # the same playback, seeking: not again
    assert seek.status_code == 206 and seek.content == chris.path.read_bytes()[50000:60000]
    assert len(site.store.clear_access_log()) == 1
    admin.get(url, headers={"Range": "bytes=0-"})  # a new playback from the start
    assert len(site.store.clear_access_log()) == 2
    jfk = site.calls["A2"]  # a first request that skips byte 0 is audited all the same
    assert admin.get(f"/calls/{jfk.call_id}/audio?clear=1", headers={"Range": "bytes=1-"}).status_code == 206
    assert [a.call_id for a in site.store.clear_access_log()].count(jfk.call_id) == 1
    page = admin.get("/admin/pii-access")
    assert page.status_code == 200
    rows = re.findall(r'<tr data-call="(\w+)" data-what="(\w+)" data-user="(\w+)">', page.text)
    assert rows == [(jfk.call_id, "audio", "admin"), (chris.call_id, "audio", "admin"),
                    (chris.call_id, "audio", "admin")]
    assert f'href="/calls/{chris.call_id}">{chris.path.name}</a>' in page.text
    assert 'href="/admin/pii-access"' in page.text  # linked in the admin's menu


def test_without_pii_clear_the_original_is_403_and_nothing_is_audited(site: Site) -> None:
    chris = site.calls["ChrisL"]
    for name in ("sup", "chris"):
        client = _as(site, name)
        refused = client.get(f"/calls/{chris.call_id}/audio?clear=1")
        assert refused.status_code == 403 and 'data-error-status="403"' in refused.text, name
        assert chris.path.read_bytes()[:2000] not in refused.content
        ranged = client.get(f"/calls/{chris.call_id}/audio?clear=1", headers={"Range": "bytes=0-99"})
        assert ranged.status_code == 403 and "content-range" not in ranged.headers
    # Another agent's call stays a 404 (nothing to learn), with or without clear.
    assert _as(site, "chris").get(f"/calls/{site.calls['A2'].call_id}/audio?clear=1").status_code == 404
    assert site.store.clear_access_log() == []


def test_pii_clear_roles_is_a_setting(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    db, calls = copy_of_built(tmp_path, tmp_path_factory.getbasetemp())
    app = create_app(db, secret="privacy", settings=WebSettings(pii_clear_roles=("admin", "supervisor")))
    sup = login(TestClient(app), "sup")
    assert sup.get(f"/calls/{calls['ChrisL'].call_id}/audio?clear=1").status_code == 200
    with pytest.raises(ConfigError, match="supervisors"):
        WebSettings(pii_clear_roles=("supervisors",))
    admin = Viewer("a", UserRole.ADMIN)
    assert admin.has_pii_clear() and not Viewer("q", UserRole.QA).has_pii_clear()
    assert Viewer("q", UserRole.QA).has_pii_clear(("qa",))


# -- pii:clear: the transcript -------------------------------------------------------------------------------


def test_admin_reads_the_clear_transcript_audited(site: Site) -> None:
    admin = _as(site, "admin")
    chris = site.calls["ChrisL"]
    page = admin.get(f"/calls/{chris.call_id}").text
    assert f'href="/calls/{chris.call_id}?clear=1"' in page and "Show personal data" in page
    assert "[NAME]" in page and "Violet" not in page and f'src="/calls/{chris.call_id}/audio"' in page
    assert site.store.clear_access_log() == []  # the redacted page reads nothing in clear
    clear = admin.get(f"/calls/{chris.call_id}?clear=1")
    assert clear.status_code == 200
    for text in site.clear.values():
        assert str(escape(text)) in clear.text
    assert "[NAME]" not in re.sub(r'<button type="button" class="evidence.*?</button>', "", clear.text, flags=re.S)
    assert f'src="/calls/{chris.call_id}/audio?clear=1"' in clear.text and 'data-privacy="clear"' in clear.text
    assert 'preload="none"' in clear.text  # the original is fetched, and audited, when played, not on opening
    assert 'data-privacy="not-kept"' not in clear.text
    assert [(a.user_id, a.call_id, a.what) for a in site.store.clear_access_log()] == [
        ("admin", chris.call_id, "transcript")]
    zh = admin.get(f"/calls/{chris.call_id}?clear=1", headers={"Accept-Language": "zh-CN"}).text
    assert "正在显示个人信息明文" in zh and "隐藏个人信息" in zh
    listing = admin.get("/admin/pii-access", headers={"Accept-Language": "zh-CN"}).text
    assert "转写文本" in listing and "个人信息明文访问记录" in listing


def test_under_mode_redact_the_page_says_the_clear_text_is_not_kept(site: Site) -> None:
    admin = _as(site, "admin")
    jfk = site.calls["A2"]
    page = admin.get(f"/calls/{jfk.call_id}?clear=1")
    assert page.status_code == 200 and 'data-privacy="not-kept"' in page.text
    assert "The clear text is not kept under redaction mode “redact”; the original recording can still be heard." \
        in page.text
    assert "[NAME]" in page.text and f'src="/calls/{jfk.call_id}/audio?clear=1"' in page.text
    assert "The original recording is played. Every hearing is recorded." in page.text
    assert site.store.clear_access_log() == []  # nothing was read in clear
    zh = admin.get(f"/calls/{jfk.call_id}?clear=1", headers={"Accept-Language": "zh-CN"}).text
    assert "不保留原文" in zh


def test_others_never_see_the_link_and_get_403_for_the_clear_page(site: Site) -> None:
    chris = site.calls["ChrisL"]
    for name in ("sup", "chris"):
        client = _as(site, name)
        page = client.get(f"/calls/{chris.call_id}").text
        assert "?clear=1" not in page and "Show personal data" not in page, name
        assert "Personal data is hidden in 4 places of this call" in page and "Violet" not in page
        assert 'href="/admin/pii-access"' not in page
        refused = client.get(f"/calls/{chris.call_id}?clear=1")
        assert refused.status_code == 403 and "Violet" not in refused.text, name
    assert _as(site, "sup").get("/admin/pii-access").status_code == 403
    assert _as(site, "chris").get("/admin/pii-access").status_code == 404
    assert site.store.clear_access_log() == []


def test_a_call_stored_in_clear_offers_nothing_to_show(site: Site) -> None:
    admin = _as(site, "admin")
    z1 = site.calls["Z1"]
    page = admin.get(f"/calls/{z1.call_id}").text
    assert "?clear=1" not in page and 'data-privacy="hidden"' not in page
    assert 'data-privacy="nothing-hidden"' in admin.get(f"/calls/{z1.call_id}?clear=1").text
    assert admin.get(f"/calls/{z1.call_id}/audio?clear=1").content == z1.path.read_bytes()
    assert site.store.clear_access_log() == []  # nothing hidden, so nothing read in clear


def test_the_audit_page_is_paginated_newest_first(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    db, calls = copy_of_built(tmp_path, tmp_path_factory.getbasetemp())
    app = create_app(db, secret="privacy", settings=WebSettings(pii_access_page_size=2))
    store: Store = app.state.web.store
    for name in ("ChrisL", "A2", "Z1"):
        store.log_clear_access("admin", calls[name].call_id, "transcript")
    admin = login(TestClient(app), "admin")
    first, second = admin.get("/admin/pii-access").text, admin.get("/admin/pii-access?page=2").text
    called = re.compile(r'<tr data-call="(\w+)"')
    assert called.findall(first) == [calls["Z1"].call_id, calls["A2"].call_id]
    assert called.findall(second) == [calls["ChrisL"].call_id]
    assert 'href="?page=2"' in first and 'href="?page=1"' in second and 'href="?page=3"' not in second
    assert "3 in all" in first
    beyond = admin.get("/admin/pii-access?page=9").text
    assert called.findall(beyond) == [] and "3 in all" in beyond and 'href="?page=8"' in beyond
    (tmp_path / "empty").mkdir()
    fresh, _ = copy_of_built(tmp_path / "empty", tmp_path_factory.getbasetemp())
    empty = login(TestClient(create_app(fresh, secret="privacy")), "admin")
    assert "No one has read personal data in clear yet." in empty.get("/admin/pii-access").text
