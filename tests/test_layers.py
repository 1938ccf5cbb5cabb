"""The layering the design promises: stage code runs without Prefect and without DuckDB."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE_MODULES = sorted(
    f"{p.parent.name}.{p.stem}" for pkg in ("pipeline", "rules") for p in (ROOT / pkg).glob("*.py")
    if p.stem != "__init__"
)
PROBE = """
import importlib, json, sys
seen = {}
for name in sys.argv[1:]:
    importlib.import_module(name)
    seen[name] = sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'duckdb'})
print(json.dumps(seen))
"""


def test_stage_modules_import_neither_prefect_nor_duckdb() -> None:
    assert len(STAGE_MODULES) > 10
    out = subprocess.run([sys.executable, "-c", PROBE, *STAGE_MODULES], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    seen = json.loads(out.stdout)
    offenders = [name for name, heavy in seen.items() if heavy]
    assert offenders == [], f"first module that pulls in Prefect or DuckDB: {offenders[0]} ({seen[offenders[0]]})"
