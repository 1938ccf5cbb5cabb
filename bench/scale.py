"""Benchmark: the nightly flow in process against Dask workers on the same real audio, in one run.

    .venv/bin/python bench/scale.py [--calls 4|8] [--json FILE] [--no-threads2]

The batch (≈ 18.5 minutes): the real 8 kHz call in data/calls and three re-encodings of it (16 kHz PCM,
8 kHz μ-law, MP3; each counts as a further call, as in bench/transcribe.py): four calls of equal length, so
two workers get two each. ``--calls 8`` adds four more encodings (≈ 37 minutes): a night's batch is hours
long, and the longer batch shows how much of the shortfall is start-up that does not shrink with workers.
Each configuration runs ``callqa run`` on it into a fresh database, the way an operator would, and the report's
wall time (models, cluster start-up and storing included) is compared:

* in process, ``--workers 1``: the baseline for one worker's overhead;
* ``--cluster local:1`` and ``--cluster local:2``: a LocalCluster of one or two single-threaded worker
  processes;
* in process, ``--workers 2`` (today's default; skipped with ``--no-threads2``).

Printed: wall time, audio-hours per hour, the peak memory of the run's biggest process, the speed-up of two
Dask workers over one (target ≥ 1.8× on two cores) and the overhead of ``local:1`` against the in-process
runner with one worker (target ≤ 10 %).
Timings are noisy when other work shares the CPU: compare ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from transcribe import CALL, VERSIONS  # noqa: E402  (bench/transcribe.py: the real call and its re-encodings)

CONFIGS = [
    ("in process, 1 worker", ["--workers", "1"]),
    ("dask local:1", ["--cluster", "local:1"]),
    ("dask local:2", ["--cluster", "local:2"]),
    ("in process, 2 workers", ["--workers", "2"]),
]


# Further encodings for --calls 8, each a distinct file (a copy would be the same recording, stored once).
MORE = [
    ("call_16k.flac", ["-ar", "16000", "-c:a", "flac"]),
    ("call_8k_alaw.wav", ["-ar", "8000", "-c:a", "pcm_alaw"]),
    ("call_22k_pcm.wav", ["-ar", "22050", "-c:a", "pcm_s16le"]),
    ("call_16k.ogg", ["-ar", "16000", "-c:a", "libvorbis", "-q:a", "3"]),
]


def batch(tmp: Path, calls: int) -> Path:
    """The real call and its re-encodings in one folder."""
    if shutil.which("ffmpeg") is None:
        sys.exit("bench/scale.py needs the ffmpeg command for the re-encodings: apt-get install ffmpeg")
    folder = tmp / "calls"
    folder.mkdir()
    (folder / CALL.name).symlink_to(CALL)
    for name, options in [*VERSIONS, *MORE][: calls - 1]:
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(CALL), *options, str(folder / name)],
                       check=True)
    return folder


def run(folder: Path, db: Path, options: list[str], calls: int) -> tuple[dict[str, object], float]:
    """One ``callqa run`` of the batch into a fresh database: its JSON report and the peak memory (MiB) of
    the largest process of the run (the flow in process, else the busiest worker)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "callqa.cli", "run", str(folder), "--db", str(db),
                                 "--no-progress", "--json-report", "--language", "en", *options],
                                stdout=out, stderr=err, text=True, cwd=ROOT)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, _largest_rss(proc.pid))
            time.sleep(0.5)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.exit(f"callqa run {' '.join(options)} failed ({proc.returncode}):\n{err.read()[-2000:]}")
        report: dict[str, object] = json.loads(out.read())
    if report["failed"] or report["done"] != calls:
        sys.exit(f"callqa run {' '.join(options)}: not every call was done: {report}")
    return report, peak


def _largest_rss(pid: int) -> float:
    """The resident memory (MiB) of the biggest process in the tree of ``pid`` (Prefect's API server aside)."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    sizes = []
    for p in tree:
        try:
            if "prefect.server.api.server" not in " ".join(p.cmdline()):
                sizes.append(p.memory_info().rss / 2**20)
        except psutil.NoSuchProcess:
            continue
    return max(sizes, default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--calls", type=int, choices=(4, 8), default=4, help="calls in the batch (default 4)")
    parser.add_argument("--no-threads2", action="store_true", help="skip the in-process run with two workers")
    args = parser.parse_args()
    configs = CONFIGS[:3] if args.no_threads2 else CONFIGS
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="callqa-scale-") as tmp:
        folder = batch(Path(tmp), args.calls)
        for i, (name, options) in enumerate(configs):
            report, peak = run(folder, Path(tmp) / f"run{i}.duckdb", options, args.calls)
            wall, hours = float(report["wall_seconds"]), float(report["audio_hours"])  # type: ignore[arg-type]
            rows[name] = {"wall_s": wall, "audio_h": hours, "audio_h_per_h": hours / (wall / 3600),
                          "peak_process_mib": peak}
            print(f"{name:24s} wall {wall:7.1f} s   {hours * 60:5.1f} audio min   "
                  f"{rows[name]['audio_h_per_h']:5.2f} audio-h/h   biggest process {peak:5.0f} MiB   calls per worker: "
                  f"{', '.join(str(w['calls']) for w in report['workers']) or '—'}", flush=True)  # type: ignore[attr-defined]
    base, one, two = (rows[n]["wall_s"] for n, _ in CONFIGS[:3])
    speedup, overhead = one / two, one / base - 1
    print(f"\nspeed-up of 2 Dask workers over 1: {speedup:.2f}×  (target ≥ 1.8×)")
    print(f"overhead of local:1 over in process with 1 worker: {overhead * 100:+.1f} %  (target ≤ 10 %)")
    if args.json:
        args.json.write_text(json.dumps({"runs": rows, "speedup_2_over_1": speedup, "overhead_local1": overhead},
                                        indent=2) + "\n")


if __name__ == "__main__":
    main()
