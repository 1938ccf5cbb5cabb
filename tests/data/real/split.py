"""Split the real-dialogue corpus into dev/ and test/ once (run by hand; the split is committed).

Each language's dialogues (``<lang>/all/NAME.txt`` with ``NAME.labels.yaml``) are grouped by source (the
part of NAME before the first ``_``), each group is shuffled with a fixed seed and its first half (rounded
up) goes to ``dev/``, the rest to ``test/``, so that every source is in both. Checklists are tuned on dev
only; the figures reported for the shipped checklists are those on test.

Usage: python split.py zh en
"""

from __future__ import annotations

import random
import shutil
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261206


def split(language: str) -> dict[str, int]:
    source = HERE / language / "all"
    groups: dict[str, list[str]] = defaultdict(list)
    for path in sorted(source.glob("*.txt")):
        groups[path.stem.split("_", 1)[0]].append(path.stem)
    counts = {"dev": 0, "test": 0}
    rng = random.Random(SEED)
    for _, names in sorted(groups.items()):
        rng.shuffle(names)
        cut = (len(names) + 1) // 2
        for i, name in enumerate(names):
            part = "dev" if i < cut else "test"
            target = HERE / language / part
            target.mkdir(exist_ok=True)
            for suffix in (".txt", ".labels.yaml"):
                shutil.move(source / f"{name}{suffix}", target / f"{name}{suffix}")
            counts[part] += 1
    return counts


if __name__ == "__main__":
    for lang in sys.argv[1:]:
        print(lang, split(lang))
