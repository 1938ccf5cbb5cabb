"""The nightly flow on Dask workers: same stored results as in process, one writer, a killed worker survived.

The slow tests run ``callqa run --cluster local:2`` (a ``distributed.LocalCluster`` of two worker processes) on
short real clips, the way an operator would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from core.errors import ConfigError
from flows.cluster import Placement, parse_cluster
from scorecards.store.database import Store
from tests.flows._run import callqa

CLIPS = Path(__file__).resolve().parents[2] / "data" / "clips"
SHORT = ("jfk.flac", "aishell_BAC009S0724W0121.wav", "funasr_asr_example.wav", "librispeech_1995-1837-0001.wav")


def test_cluster_values_parse_to_placements() -> None:
    assert parse_cluster(None) == Placement("threads")
    assert parse_cluster("  ") == Placement("threads")
    assert parse_cluster("local:2") == Placement("local", workers=2)
    assert parse_cluster("tcp://qa-sched.internal:8786") == Placement("remote", address="tcp://qa-sched.internal:8786")
    assert parse_cluster("tls://10.0.0.5:8786").distributed
    assert not parse_cluster("").distributed


@pytest.mark.parametrize("value", ["local", "localhost:8786", "http://host:8786", "tcp://", "2"])
def test_a_bad_cluster_value_names_the_option_and_the_accepted_forms(value: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_cluster(value, "[cluster] address")
    assert str(err.value).startswith(f"[cluster] address '{value}'")
    assert "local:" in str(err.value) and "tcp://" in str(err.value)


def test_a_local_cluster_needs_a_worker() -> None:
    with pytest.raises(ConfigError, match=r"^--cluster 'local:0': a local cluster needs at least one worker"):
        parse_cluster("local:0")


def test_workers_are_spawned_without_dasks_environment_and_profiler() -> None:
    import dask
    import distributed  # noqa: F401  (loads Dask's distributed settings)

    from flows.cluster import plain_worker_environment

    keys = ("distributed.nanny.pre-spawn-environ", "distributed.worker.profile.enabled")
    with dask.config.set({key: dask.config.get(key) for key in keys}):  # restored on exit
        plain_worker_environment()
        assert dask.config.get("distributed.nanny.pre-spawn-environ") == {}
        assert dask.config.get("distributed.worker.profile.enabled") is False


def test_a_bad_cluster_in_the_config_stops_the_run_before_anything_is_stored(tmp_path: Path) -> None:
    config = tmp_path / "callqa.toml"
    config.write_text('[cluster]\naddress = "dask-sched:8786"\n')
    db = tmp_path / "db.duckdb"
    res = callqa("run", str(CLIPS / "jfk.flac"), "--db", str(db), "--config", str(config), "--no-progress")
    assert res.returncode == 1
    assert "[cluster] address 'dask-sched:8786'" in res.stderr and "tcp://" in res.stderr
    assert not db.exists()


def test_a_bad_cluster_option_stops_schedule_before_a_server_starts(tmp_path: Path) -> None:
    res = callqa("schedule", "--cron", "0 2 * * *", "--source", str(tmp_path), "--db", str(tmp_path / "db.duckdb"),
                  "--cluster", "sched:8786", timeout=60)
    assert res.returncode == 1
    assert "--cluster 'sched:8786'" in res.stderr and "local:N" in res.stderr


def _batch(dest: Path, names: tuple[str, ...] = SHORT) -> Path:
    dest.mkdir()
    for name in names:
        (dest / name).symlink_to(CLIPS / name)
    return dest


def _stored(db: Path) -> dict[str, object]:
    """Every stored transcript (utterances, words, roles, model, options) and scorecard, by file name."""
    store = Store(db)
    out: dict[str, object] = {}
    for c in store.list_calls():
        cards = sorted(store.current_scorecards(c.call_id), key=lambda card: card.checklist_id)
        out[Path(c.source_path).name] = (store.load_transcript(c.call_id).transcript, cards)
    return out


def _once_each(db: Path, n: int) -> None:
    """n calls, each with exactly one transcript and one scorecard per checklist, and a clean store."""
    store = Store(db)
    with store.reading() as con:
        assert con.execute("SELECT count(*), count(DISTINCT call_id) FROM transcripts").fetchone() == (n, n)
        assert con.execute("SELECT count(*) FROM calls").fetchone() == (n,)
        dup = con.execute("SELECT call_id, checklist_id, count(*) FROM scorecards WHERE is_current "
                          "GROUP BY ALL HAVING count(*) > 1").fetchall()
        assert dup == []
    assert store.integrity_problems() == []
    check = callqa("check-db", "--db", str(db))
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory, prefect_api: str) -> dict[str, object]:
    """The short clips run by today's in-process thread pool: what the cluster runs must equal."""
    base = tmp_path_factory.mktemp("in_process")
    db = base / "db.duckdb"
    res = callqa("run", str(_batch(base / "in")), "--db", str(db), "--no-progress")
    assert res.returncode == 0, res.stderr
    return _stored(db)


def _workers_of(proc: psutil.Process) -> list[psutil.Process]:
    """The Dask worker processes a ``callqa run --cluster local:N`` started (spawned by its nannies)."""
    return [p for p in proc.children(recursive=True) if "spawn_main" in " ".join(p.cmdline())]


@pytest.mark.slow
def test_two_dask_workers_store_what_the_in_process_runner_stores_even_when_one_is_killed(
        tmp_path: Path, in_process: dict[str, object]) -> None:
    """A LocalCluster of two worker processes; the busiest is killed with SIGKILL in the middle of a call.

    (One test for both: a run of its own without the kill took 86 s more of the suite and showed nothing more.)
    """
    names = (*SHORT, "paddle_test.wav", "wenet_long.wav")
    src = _batch(tmp_path / "in", names)
    db = tmp_path / "db.duckdb"
    # Files, not pipes: a process left behind holding a pipe would hang the test instead of failing it.
    out_file, log = (tmp_path / "report.json").open("w"), (tmp_path / "run.log").open("w")
    started = time.time()
    run = subprocess.Popen([sys.executable, "-m", "callqa.cli", "run", str(src), "--db", str(db), "--no-progress",
                            "--json-report", "--cluster", "local:2"], stdout=out_file, stderr=log)
    flow = psutil.Process(run.pid)
    store = Store(db, lock_timeout=30)
    deadline = time.monotonic() + 300
    while not (db.exists() and store.list_calls()):  # the first call stored: the others are under way
        assert run.poll() is None and time.monotonic() < deadline, (tmp_path / "run.log").read_text()
        time.sleep(0.2)
    workers = _workers_of(flow)
    assert len(workers) == 2, [p.cmdline() for p in flow.children(recursive=True)]
    before = {w.pid: sum(w.cpu_times()[:2]) for w in workers}
    time.sleep(1.0)
    used = {w.pid: sum(w.cpu_times()[:2]) - before[w.pid] for w in workers}
    busy = max(used, key=lambda pid: used[pid])
    assert used[busy] > 0.3, f"no worker was transcribing when it was to be killed: {used}"
    os.kill(busy, signal.SIGKILL)
    assert run.wait(timeout=600) == 0, (tmp_path / "run.log").read_text()
    report = json.loads((tmp_path / "report.json").read_text())
    assert (report["done"], report["skipped"], report["failed"]) == (len(names), 0, [])
    assert sum(w["calls"] for w in report["workers"]) == len(names)
    assert all(" tcp://127.0.0.1:" in w["worker"] for w in report["workers"])
    _once_each(db, len(names))
    stored = _stored(db)
    assert {k: v for k, v in stored.items() if k in in_process} == in_process
    assert _servers_since(started) == [], "the run left Prefect API servers behind"


def _servers_since(started: float) -> list[str]:
    """Prefect API server processes started since ``started`` and still alive (a run must stop all it starts)."""
    time.sleep(2)  # the flow's own server is stopped at exit; give it a moment
    found = []
    for p in psutil.process_iter(["cmdline", "create_time"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if "prefect.server.api.server" in cmd and p.info["create_time"] >= started:
            found.append(f"{p.pid} {cmd[:80]}")
    return found


@pytest.mark.slow
def test_a_run_on_a_cluster_started_by_the_operator(tmp_path: Path, in_process: dict[str, object]) -> None:
    """`dask scheduler` + `callqa worker`, then `callqa run --cluster tcp://…`: the remote path of a real site."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = (tmp_path / "scheduler.log").open("w"), (tmp_path / "worker.log").open("w")
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--dashboard-address", ":0"], stdout=logs[0], stderr=logs[0])
    worker = subprocess.Popen([sys.executable, "-m", "callqa.cli", "worker", address, "--nworkers", "1"],
                              stdout=logs[1], stderr=logs[1])
    try:
        db = tmp_path / "db.duckdb"
        res = callqa("run", str(_batch(tmp_path / "in", SHORT[:1])), "--db", str(db), "--no-progress",
                      "--json-report", "--cluster", address)
        assert res.returncode == 0, res.stderr + (tmp_path / "worker.log").read_text()
        report = json.loads(res.stdout)
        assert (report["done"], report["failed"]) == (1, [])
        assert [w["calls"] for w in report["workers"]] == [1]
        assert _stored(db) == {k: v for k, v in in_process.items() if k == SHORT[0]}
        spawned = _workers_of(psutil.Process(worker.pid))
        assert len(spawned) == 1
        assert not {"MALLOC_TRIM_THRESHOLD_", "OPENBLAS_NUM_THREADS"} & set(spawned[0].environ())
    finally:
        for p in (worker, scheduler):
            p.terminate()
            p.wait(timeout=60)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
