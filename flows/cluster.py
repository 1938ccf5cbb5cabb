"""Where a run's per-call work is done: the in-process thread pool, or a Dask cluster through Prefect.

``local:N`` starts a ``distributed.LocalCluster`` of N single-threaded worker processes for the run;
``tcp://HOST:PORT`` connects to the scheduler of a cluster the user runs (``dask scheduler`` /
``dask worker``). Either way only the flow process opens the database: workers return results.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from core.errors import ConfigError

_LOCAL = re.compile(r"local:(\d+)")
_REMOTE = re.compile(r"(tcp|tls|ucx|inproc)://[^\s/]+")


@dataclass(frozen=True)
class Placement:
    """A parsed ``--cluster`` value: in process (``kind == "threads"``), a local Dask cluster or a remote one."""

    kind: str  # threads | local | remote
    address: str = ""
    workers: int = 0

    @property
    def distributed(self) -> bool:
        return self.kind != "threads"


def parse_cluster(value: str | None, where: str = "--cluster") -> Placement:
    """``""``/None → threads, ``local:N`` → N local worker processes, ``tcp://HOST:PORT`` → an existing cluster.

    Raises:
        ConfigError: anything else, naming the option and the accepted forms.
    """
    text = (value or "").strip()
    if not text:
        return Placement("threads")
    if m := _LOCAL.fullmatch(text):
        n = int(m.group(1))
        if n < 1:
            raise ConfigError(f"{where} '{text}': a local cluster needs at least one worker (local:2)")
        return Placement("local", workers=n)
    if _REMOTE.fullmatch(text):
        return Placement("remote", address=text)
    raise ConfigError(f"{where} '{text}': use local:N (N worker processes on this machine) or the scheduler "
                      "address of a running Dask cluster, e.g. tcp://scheduler-host:8786")


def make_runner(placement: Placement, threads: int) -> TaskRunner[Any]:
    """The Prefect task runner for ``placement``; ``threads`` sizes the in-process pool."""
    if not placement.distributed:
        return ThreadPoolTaskRunner(max_workers=max(1, threads))
    from prefect_dask import DaskTaskRunner

    if placement.kind == "local":
        plain_worker_environment()
        # One thread per worker process: each process runs one call at a time on its own core, with its own
        # copy of the models, which is what a worker on another machine does too.
        return DaskTaskRunner(cluster_kwargs={"n_workers": placement.workers, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None,
                                              "env": _flow_api_env()})
    return DaskTaskRunner(address=placement.address)


def plain_worker_environment() -> None:
    """Spawn the workers of this process's nannies without Dask's environment and without its profiler.

    Dask sets OMP/MKL/OPENBLAS_NUM_THREADS=1 and MALLOC_TRIM_THRESHOLD_=65536 in the processes it spawns. The
    malloc setting cost 25 % more CPU per call here (bench/scale.py, docs/operations.md), and the BLAS thread
    count moves the last digits of Whisper's features, hence of some word confidences and timings; without
    them a worker stores bit for bit what the in-process thread pool stores. Each worker's statistical
    profiler samples the running task's stack every 10 ms; on the deep stacks of a call that cost ≈ 10 %.
    """
    import dask

    dask.config.set({"distributed.nanny.pre-spawn-environ": {}, "distributed.worker.profile.enabled": False})


def _flow_api_env() -> dict[str, str]:
    """The flow's Prefect API for local workers, so they report to it instead of each starting a server.

    Without it every worker process starts its own ephemeral API server, which outlives a killed worker.
    """
    from prefect.context import FlowRunContext
    from prefect.settings import PREFECT_API_URL

    ctx = FlowRunContext.get()
    url = str(ctx.client.api_url) if ctx and ctx.client else (PREFECT_API_URL.value() or "")
    return {"PREFECT_API_URL": url} if url.startswith("http") else {}


def on_every_worker(runner: TaskRunner[Any], fn: Callable[..., Any], *args: Any) -> dict[str, Any]:
    """``fn(*args)`` run once in every worker process of a Dask runner, by worker address.

    Raises:
        ConfigError: the cluster has no worker to run on.
    """
    client = runner.client  # type: ignore[attr-defined]
    try:
        client.wait_for_workers(1, timeout=120)
    except TimeoutError as exc:
        raise ConfigError(f"the Dask cluster at {client.scheduler.address} has no worker after 120 s: start "
                          "workers with `dask worker SCHEDULER-ADDRESS`") from exc
    return dict(client.run(fn, *args))


def worker_name() -> str:
    """The host and, inside a Dask worker, its address: named in failures and in the per-worker report."""
    host = socket.gethostname()
    try:
        from distributed import get_worker

        return f"{host} {get_worker().address}"
    except (ImportError, ValueError):
        return f"{host} (in process, pid {os.getpid()})"


def worker_threads(default: int) -> int:
    """How many calls this process may run at once: a Dask worker's thread count, else ``default``."""
    try:
        from distributed import get_worker

        return max(1, int(get_worker().state.nthreads))
    except (ImportError, ValueError):
        return max(1, default)
