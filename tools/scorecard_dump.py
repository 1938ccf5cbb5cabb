"""Dump every scorecard the checked-out code produces over a fixed corpus, one sorted JSON line each.

``python tools/scorecard_dump.py OUT.jsonl`` scores the shipped checklists over both labelled sets, the
real call, every inline example of every loadable checklist (its item verdict and its scorecard) and 2,000
synthetic stored calls rescored from a temporary store (``bench/rescore.py``'s, seed 7). Code-version
strings are left out, so two checkouts that score alike give byte-identical files: run it before and after
a change that must not change behaviour, and ``cmp`` the two.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from ruamel.yaml import YAML  # noqa: E402

from core.errors import CallQAError  # noqa: E402
from core.scorecard import CallScorecard, scorecard_to_dict  # noqa: E402
from core.transcript_io import parse_json, read_transcript, transcript_hash  # noqa: E402
from core.types import CallMetadata  # noqa: E402
from flows.rescore import score_calls, shipped_chooser  # noqa: E402
from rules.engine import judge_item, score_call  # noqa: E402
from rules.loader import CHECKLIST_DIR, load_checklist, transcript_from_lines  # noqa: E402
from scorecards.store.database import Store  # noqa: E402
from scorecards.store.stored import current_transcripts, iter_calls  # noqa: E402

TESTS = ROOT / "tests"
STORED_CALLS = 2000


def _without_versions(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_versions(v) for k, v in value.items() if k != "code_version"}
    if isinstance(value, list | tuple):
        return [_without_versions(v) for v in value]
    return value


def _line(value: Any) -> str:
    return json.dumps(_without_versions(value), sort_keys=True, ensure_ascii=False, default=str)


def dump() -> dict[str, str]:
    """Every scorecard (and example verdict) by a key naming where it came from."""
    out: dict[str, str] = {}

    def card(key: str, c: CallScorecard) -> None:
        assert key not in out, key
        out[key] = _line(scorecard_to_dict(c))

    for lang in ("en", "zh"):
        checklist = load_checklist(CHECKLIST_DIR / f"service_{lang}.yaml")
        for call in YAML(typ="safe").load((TESTS / "rules" / "labelled" / f"{lang}.yaml").read_text("utf-8")):
            transcript = transcript_from_lines(call["lines"], call.get("duration"))
            meta = CallMetadata(**{k: str(v) for k, v in (call.get("metadata") or {}).items()})
            card(f"labelled-rules/{lang}/{call['id']}", score_call(checklist, transcript, meta))
        for path in sorted((TESTS / "data" / "labelled" / lang).glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            data.pop("labels")
            data.pop("notes", None)
            loaded = parse_json(json.dumps(data), path.name)
            card(f"labelled-data/{lang}/{path.name}",
                 score_call(checklist, loaded.transcript, loaded.metadata, call_id=loaded.call_id))
    loaded = read_transcript(TESTS / "rules" / "real_call_en.json")
    card("real-call", score_call(load_checklist(CHECKLIST_DIR / "service_en.yaml"), loaded.transcript,
                                 loaded.metadata, call_id=loaded.call_id,
                                 transcript_hash=transcript_hash(loaded.transcript)))  # fmt: skip
    paths = sorted(CHECKLIST_DIR.glob("*.yaml")) + sorted(
        p for p in (TESTS / "rules").rglob("*.yaml") if not {"broken", "duplicate_ids", "labelled"} & set(p.parts))
    for path in paths:
        try:
            checklist = load_checklist(path)
        except CallQAError:
            continue  # a checklist written to be refused
        where = path.relative_to(ROOT)
        for item in checklist.items:
            for i, ex in enumerate(item.examples):
                verdict = judge_item(checklist, item, ex.transcript, ex.metadata, ex.metrics)
                out[f"example/{where}/{item.id}/{i}"] = _line(asdict(verdict))
                card(f"example-card/{where}/{item.id}/{i}", score_call(checklist, ex.transcript, ex.metadata,
                                                                        ex.metrics))  # fmt: skip
    spec = importlib.util.spec_from_file_location("bench_rescore", ROOT / "bench" / "rescore.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_rescore"] = bench
    spec.loader.exec_module(bench)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "dump.duckdb")
        bench.build(store, STORED_CALLS, seed=7)
        for calls in iter_calls(store, current_transcripts(store)):
            for r in score_calls(calls, shipped_chooser()):
                card(f"stored/{r.call_id}/{r.checklist.id}", r.card)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    out = dump()
    with args.out.open("w", encoding="utf-8") as f:
        f.writelines(f"{key}\t{out[key]}\n" for key in sorted(out))
    print(dict(Counter(key.split("/")[0] for key in out)), "→", args.out)


if __name__ == "__main__":
    main()
