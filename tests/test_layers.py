"""The layering the design promises (docs/architecture.md) beyond what lint-imports checks.

Stage code runs without Prefect and without DuckDB when imported, and core/ uses nothing but the standard
library and numpy.
"""

from __future__ import annotations

import ast
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


def test_core_imports_only_the_standard_library_and_numpy() -> None:
    allowed = set(sys.stdlib_module_names) | {"numpy", "core", "__future__"}
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found.setdefault(path.name, set()).update(n.split(".")[0] for n in names)
    assert len(found) >= 5  # every module of core that imports anything
    outside = {name: sorted(mods - allowed) for name, mods in found.items() if mods - allowed}
    assert outside == {}
