"""Serve the nightly flow on a cron schedule.

Prefect cannot schedule against its ephemeral in-process API, so unless a server is configured
(``PREFECT_API_URL``) a local one is started on 127.0.0.1 for as long as the schedule is served.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any

from core.errors import CallQAError


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CallQAError(f"the local Prefect server exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise CallQAError(f"the local Prefect server did not answer at {url} within {timeout:.0f} s")


def start_local_server() -> tuple[subprocess.Popen[bytes], str]:
    """Start ``prefect server start`` on a free loopback port; returns the process and its API URL."""
    port = _free_port()
    env = dict(os.environ, PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false")
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        _wait_healthy(url, proc)
    except BaseException:
        proc.terminate()
        raise
    return proc, url


def serve_nightly(
    *,
    cron: str,
    sources: list[str],
    db: str,
    manifest: str | None,
    config: str | None,
    api_url: str | None,
    console: Any,
    cluster: str | None = None,
) -> None:
    """Serve ``nightly_inspection`` with ``cron`` until interrupted."""
    server: subprocess.Popen[bytes] | None = None
    if not api_url:
        console.print("starting a local Prefect server on 127.0.0.1 …")
        server, api_url = start_local_server()
    os.environ["PREFECT_API_URL"] = api_url
    try:
        # Prefect reads its settings when first imported: only now that PREFECT_API_URL is set.
        from prefect.schedules import Cron

        from flows.nightly import nightly_inspection

        console.print(f"serving nightly_inspection on '{cron}' for {', '.join(sources)} → {db} ({api_url})")
        nightly_inspection.serve(
            name="callqa-nightly",
            schedules=[Cron(cron)],
            parameters={"sources": sources, "db": db, "manifest": manifest, "config": config, "cluster": cluster},
        )
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
