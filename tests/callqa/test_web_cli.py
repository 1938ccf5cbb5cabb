"""``callqa serve``: refuses a missing database and bad settings, serves the login page, makes the secret file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e._db import copy_of_built
from tests.e2e._server import free_port


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "callqa.cli", "serve", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_serve_refuses_a_missing_database_and_bad_settings(tmp_path: Path) -> None:
    missing = _serve("--db", str(tmp_path / "none.duckdb"))
    assert missing.returncode == 1 and "none.duckdb: no database here" in missing.stderr
    (tmp_path / "x.duckdb").write_bytes(b"")
    bad = _serve("--db", str(tmp_path / "x.duckdb"), "--anger", "2")
    assert bad.returncode == 1 and "--anger" in bad.stderr


def test_serve_answers_and_keeps_its_secret_beside_the_db(tmp_path: Path,
                                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    db, _ = copy_of_built(tmp_path, tmp_path_factory.getbasetemp())
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CALLQA_SECRET"}
    proc = subprocess.Popen([sys.executable, "-m", "callqa.cli", "serve", "--db", str(db), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/login", timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "callqa serve did not start"
                time.sleep(0.2)
        assert response.status_code == 200 and 'name="password"' in response.text
        secret = Path(f"{db}.secret")
        assert secret.exists() and stat.S_IMODE(secret.stat().st_mode) == 0o600
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"serving {db} on http://127.0.0.1:{port}/" in out
    assert "GET /login 200" in out
