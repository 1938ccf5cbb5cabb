"""Pages keep working while the nightly flow writes to the same database from another process.

``callqa run`` (a real run: Whisper on two real clips, Prefect, scoring) writes to a copy of the web test
database in a subprocess; meanwhile a supervisor and an agent request pages from the server (uvicorn in a
thread of this process) in a loop. No response may be a 5xx or an error page; afterwards the new calls and
the run are on the pages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from scorecards.store.database import Store
from tests.e2e._db import DATA, PASSWORD, copy_of_built
from tests.e2e._server import serving

CLIPS = ("aishell_BAC009S0724W0121.wav", "funasr_asr_example.wav")


def _signed_in(base: str, name: str) -> httpx.Client:
    import re

    client = httpx.Client(base_url=base, timeout=120, follow_redirects=False)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token
    response = client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token.group(1)})
    assert response.status_code == 303
    return client


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_pages_answer_while_a_run_writes(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    db, calls = copy_of_built(tmp_path, tmp_path_factory.getbasetemp())
    src = tmp_path / "tonight"
    src.mkdir()
    for name in CLIPS:
        shutil.copy(DATA / "clips" / name, src / name)
    (src / "manifest.csv").write_text("file,agent_id,team\n" + "".join(f"{n},A2,T1\n" for n in CLIPS))
    chris = calls["ChrisL"].call_id
    with serving(db) as base:
        sup, agent = _signed_in(base, "sup"), _signed_in(base, "chris")
        pages = [(sup, "/queue"), (sup, f"/calls/{chris}"), (sup, "/team"), (sup, "/runs"), (sup, "/disputes"),
                 (agent, "/me"), (sup, "/rules/health"), (sup, "/agents/A2")]
        log = (tmp_path / "run.log").open("w")
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        run = subprocess.Popen([sys.executable, "-m", "callqa.cli", "run", str(src), "--db", str(db), "--manifest",
                                str(src / "manifest.csv"), "--no-progress", "--workers", "1"],
                               stdout=log, stderr=log, env=env)
        answered, slowest = 0, 0.0
        try:
            deadline = time.monotonic() + 600
            while run.poll() is None:
                assert time.monotonic() < deadline, "the run took more than 10 minutes"
                for client, path in pages:
                    started = time.perf_counter()
                    response = client.get(path)
                    slowest = max(slowest, time.perf_counter() - started)
                    assert response.status_code == 200, f"{path} during the run: {response.status_code}"
                    assert "data-error-status=" not in response.text, f"{path} showed an error page during the run"
                    answered += 1
        finally:
            if run.poll() is None:
                run.kill()
            run.wait()
        assert run.returncode == 0, (tmp_path / "run.log").read_text()[-3000:]
        assert answered >= len(pages), "the run ended before any page was requested"
        stored = {Path(c.source_path).name for c in Store(db).list_calls()}
        assert set(CLIPS) <= stored
        runs = sup.get("/runs").text
        assert runs.count("data-run=") == 2
    print(f"{answered} pages answered during the run, slowest {slowest:.2f} s")
