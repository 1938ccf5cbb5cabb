"""Find recordings and describe them.

A call's identity is the sha256 of its audio bytes: the same file found twice is one call, and a file
whose bytes changed is a new version. Metadata comes, in order of precedence, from a sidecar
``<name>.json`` next to the audio, a manifest CSV, or the file name (a regex with named groups).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields, replace
from pathlib import Path

from core.errors import MetadataError
from core.types import CallMetadata, SourceFile

_META_FIELDS = {f.name for f in fields(CallMetadata)} - {"source"}
# Friendly aliases accepted in sidecars and manifests (call centres export many spellings).
_ALIASES = {
    "call_id": "external_id",
    "id": "external_id",
    "agent": "agent_id",
    "queue_name": "queue",
    "category": "queue",
    "customer": "customer_number",
    "ani": "customer_number",
    "caller_name": "customer_name",
    "start_time": "started_at",
    "start": "started_at",
    "datetime": "started_at",
    "hangup": "hangup_by",
}
_HANGUP_VALUES = {"agent", "customer", "system", "unknown"}


def discover(paths: Iterable[str | Path], extensions: Iterable[str]) -> Iterator[Path]:
    """Yield audio files under ``paths`` (files as given, directories recursively), sorted, each once.

    Raises:
        FileNotFoundError: a path does not exist (named in the message).
    """
    exts = {e.lower() for e in extensions}
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file or directory")
        if p.is_dir():
            found = sorted(
                Path(root) / name
                for root, _dirs, names in os.walk(p)
                for name in names
                if Path(name).suffix.lower() in exts and not name.startswith(".")
            )
        else:
            found = [p]
        for f in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                yield f


def fingerprint(path: Path, chunk: int = 1 << 20) -> SourceFile:
    """Hash a file's bytes. Raises OSError when it cannot be read."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    st = path.stat()
    return SourceFile(path=str(path), sha256=h.hexdigest(), size=st.st_size, mtime=st.st_mtime)


def _parse_time(value: str, where: str) -> dt.datetime:
    text = value.strip()
    # File names cannot hold ':' on every system, so 2025-02-19T06-01-22 is accepted too.
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[T _](\d{2})[-:](\d{2})[-:](\d{2})(.*)", text)
    if m:
        text = f"{m.group(1)}T{m.group(2)}:{m.group(3)}:{m.group(4)}{m.group(5)}"
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise MetadataError(
            f"{where}: started_at '{value}' is not a date-time; use ISO 8601, e.g. 2025-02-19T06:01:22"
        ) from exc


def metadata_from_mapping(data: Mapping[str, object], where: str, source: str) -> CallMetadata:
    """Build metadata from a sidecar/manifest row; unknown keys are ignored, bad values are errors."""
    values: dict[str, object] = {}
    for key, raw in data.items():
        name = _ALIASES.get(key.strip().lower(), key.strip().lower())
        if name not in _META_FIELDS or raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        if name == "started_at":
            values[name] = _parse_time(str(raw), where)
        elif name == "hangup_by":
            v = str(raw).strip().lower()
            if v not in _HANGUP_VALUES:
                raise MetadataError(
                    f"{where}: hangup_by '{raw}' must be one of {', '.join(sorted(_HANGUP_VALUES))}"
                )
            values[name] = None if v == "unknown" else v
        elif name == "language":
            v = str(raw).strip().lower()
            if v not in {"zh", "en", "auto"}:
                raise MetadataError(f"{where}: language '{raw}' must be zh, en or auto")
            values[name] = v
        else:
            values[name] = str(raw).strip()
    return CallMetadata(source=source, **values)  # type: ignore[arg-type]


def read_sidecar(audio: Path) -> CallMetadata | None:
    """Metadata from ``<name>.json`` beside the audio, or None when there is none."""
    sidecar = audio.with_suffix(".json")
    if not sidecar.is_file():
        return None
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise MetadataError(
            f"{sidecar}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); fix or remove the sidecar"
        ) from exc
    if not isinstance(data, dict):
        raise MetadataError(f"{sidecar}: expected a JSON object with fields such as agent_id, queue")
    return metadata_from_mapping(data, str(sidecar), "sidecar")


class Manifest:
    """A CSV with one row per recording; the ``file`` (or ``path``) column names the audio file.

    Rows match an audio file by its path relative to the manifest, its absolute path, or its file name.
    """

    def __init__(self, path: Path):
        self.path = path
        self._rows: dict[str, CallMetadata] = {}
        try:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                reader = csv.DictReader(fh)
                cols = [c.strip().lower() for c in reader.fieldnames or []]
                key_col = next((c for c in ("file", "path", "filename") if c in cols), None)
                if key_col is None:
                    raise MetadataError(
                        f"{path}:1: the manifest needs a 'file' column naming each recording; found {cols}"
                    )
                for lineno, row in enumerate(reader, start=2):
                    norm = {k.strip().lower(): v for k, v in row.items() if k}
                    name = (norm.pop(key_col) or "").strip()
                    if not name:
                        raise MetadataError(f"{path}:{lineno}: empty '{key_col}' field")
                    meta = metadata_from_mapping(norm, f"{path}:{lineno}", "manifest")
                    self._rows[name] = meta
        except FileNotFoundError as exc:
            raise MetadataError(f"{path}: manifest not found") from exc

    def lookup(self, audio: Path) -> CallMetadata | None:
        candidates = [str(audio), str(audio.resolve()), audio.name]
        with contextlib.suppress(ValueError):  # the audio is not below the manifest's folder
            candidates.insert(0, str(audio.resolve().relative_to(self.path.parent.resolve())))
        for c in candidates:
            if c in self._rows:
                return self._rows[c]
        return None


def metadata_from_filename(audio: Path, pattern: str) -> CallMetadata | None:
    """Metadata from named groups of ``pattern`` searched in the file name (without extension)."""
    if not pattern:
        return None
    m = re.search(pattern, audio.stem)
    if not m:
        return None
    groups = {k: v for k, v in m.groupdict().items() if v}
    return metadata_from_mapping(groups, f"{audio.name} (file-name pattern)", "filename") if groups else None


def resolve_metadata(audio: Path, manifest: Manifest | None, pattern: str) -> CallMetadata:
    """Combine the three sources: sidecar fields win, then the manifest, then the file name.

    A field missing from a stronger source is filled from a weaker one, so a sidecar that only gives a
    queue still gets its agent from the file name. Missing agent stays None (shown as ``unknown``).
    """
    layers = [
        read_sidecar(audio),
        manifest.lookup(audio) if manifest else None,
        metadata_from_filename(audio, pattern),
    ]
    present = [m for m in layers if m is not None]
    if not present:
        return CallMetadata()
    merged = present[-1]
    for stronger in reversed(present[:-1]):
        updates = {
            f: getattr(stronger, f) for f in _META_FIELDS if getattr(stronger, f) is not None
        }
        merged = replace(merged, source=stronger.source, **updates)
    return merged
