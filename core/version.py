"""The code version stored with every result: the release plus a hash of the code that produced it."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from core import __version__

_ROOT = Path(__file__).resolve().parent.parent
# Every package whose code can change a stored result; the CLI and web app (callqa/) only show results.
RESULT_PACKAGES = ("core", "models", "pipeline", "rules", "scorecards", "flows")


@functools.cache
def code_version(*packages: str) -> str:
    """``0.1.0+<12 hex>``: the hash covers every .py file of the given packages (default: :data:`RESULT_PACKAGES`).

    Unlike a git commit it also works in an installed copy, and it changes only when code that can
    change a result changes.
    """
    names = packages or RESULT_PACKAGES
    h = hashlib.sha256()
    for name in names:
        for f in sorted((_ROOT / name).rglob("*.py")):
            h.update(f.relative_to(_ROOT).as_posix().encode())
            h.update(f.read_bytes())
    return f"{__version__}+{h.hexdigest()[:12]}"
