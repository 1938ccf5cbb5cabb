"""Stored verdicts in the reader's language: titles, messages and reasons from the checklist they were scored with.

A scorecard names its checklist by content hash and the store keeps that checklist's YAML (``checklists``),
so a page renders every verdict from the very item that produced it: its title and message in the
reader's language when the checklist carries a translation, and the reason in words (rules.wording).
A checklist is compiled once per process per hash (its content never changes under a hash).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from core.errors import CallQAError
from rules.loader import checklist_from_text
from rules.model import Checklist, Item, Section
from rules.wording import explain, fact, localized, reason_kind
from scorecards.people.regressions import checklist_content
from scorecards.store.database import Store

log = logging.getLogger(__name__)

_KEPT = 32  # compiled checklists kept: every version a page may show, bounded
_cache: OrderedDict[str, Checklist | None] = OrderedDict()
_lock = threading.Lock()

# The default band names (core.scorecard.DEFAULT_BANDS, Chinese) in English, for checklists that keep them.
DEFAULT_BAND_NAMES = {"优秀": "Excellent", "良好": "Good", "合格": "Pass", "不合格": "Fail"}


def default_band_name(language: str, band: str | None) -> str:
    """A band name with no checklist to ask: the default bands in English on English pages, others as written."""
    if band is None:
        return ""
    return DEFAULT_BAND_NAMES.get(band, band) if language == "en" else band


def stored_checklist(store: Store, checklist_hash: str) -> Checklist | None:
    """The checklist a scorecard was scored with, compiled; None when the store lacks it or it no longer compiles
    (then pages fall back to the stored title, message and reason line)."""
    with _lock:
        if checklist_hash in _cache:
            _cache.move_to_end(checklist_hash)
            return _cache[checklist_hash]
    with store.reading() as con:
        content = checklist_content(con, checklist_hash)
    checklist: Checklist | None = None
    if content:
        try:
            checklist = checklist_from_text(content, f"<stored checklist {checklist_hash[:12]}>")
        except CallQAError as exc:  # e.g. a checklist written for an older schema: shown as stored
            log.warning("stored checklist %s does not compile any more: %s", checklist_hash[:12], exc)
    with _lock:
        _cache[checklist_hash] = checklist
        while len(_cache) > _KEPT:
            _cache.popitem(last=False)
    return checklist


class Wording:
    """What a page in ``language`` says of stored verdicts (one per request: it reads the store lazily)."""

    def __init__(self, store: Store, language: str) -> None:
        self.store = store
        self.language = language
        self._titles: dict[str, str] | None = None

    def _checklist(self, checklist_hash: str) -> Checklist | None:
        return stored_checklist(self.store, checklist_hash) if checklist_hash else None

    def _item(self, checklist_hash: str, item_id: str) -> tuple[Checklist, Item] | None:
        checklist = self._checklist(checklist_hash)
        if checklist is None:
            return None
        try:
            return checklist, checklist.item(item_id)
        except KeyError:
            return None

    def title(self, checklist_hash: str, item_id: str, default: str) -> str:
        found = self._item(checklist_hash, item_id)
        return localized(found[1].titles, self.language, default) if found else default

    def message(self, checklist_hash: str, item_id: str, default: str) -> str:
        found = self._item(checklist_hash, item_id)
        return localized(found[1].messages, self.language, default) if found else default

    def why(self, checklist_hash: str, item_id: str, verdict: str, reason: str) -> str:
        """The verdict's reason in words; the stored line only when the checklist is gone."""
        found = self._item(checklist_hash, item_id)
        if found is None:
            return reason
        checklist, item = found
        return explain(item, reason_kind(verdict, reason), self.language, checklist.defines)

    def section(self, checklist_hash: str, section_id: str, default: str) -> str:
        checklist = self._checklist(checklist_hash)
        for section in checklist.sections if checklist else ():
            if section.id == section_id:
                return localized(section.titles, self.language, default)
        return default

    def checklist_title(self, checklist_hash: str, default: str) -> str:
        checklist = self._checklist(checklist_hash)
        return localized(checklist.titles, self.language, checklist.title) if checklist else default

    def band(self, checklist_hash: str, band: str | None) -> str:
        """A band name: the checklist's translation, else the default bands' English names on English pages."""
        checklist = self._checklist(checklist_hash)
        named = checklist.band_names.get(band, {}) if checklist and band is not None else {}
        return named.get(self.language) or default_band_name(self.language, band)

    def band_labels(self) -> dict[str, str]:
        """Every stored checklist's band names in this language (the default bands' too): what an export's
        ``band_label`` columns say."""
        labels = {band: default_band_name(self.language, band) for band in DEFAULT_BAND_NAMES}
        for checklist in self._stored():
            for band, names in checklist.band_names.items():
                labels.setdefault(band, names.get(self.language, band))  # untranslated: as the checklist names it
        return labels

    def _stored(self) -> list[Checklist]:
        """The store's checklists, newest first."""
        with self.store.reading() as con:
            hashes = [r[0] for r in con.execute("SELECT checklist_hash FROM checklists ORDER BY first_used_at DESC")
                      .fetchall()]  # fmt: skip
        return [c for c in (stored_checklist(self.store, h) for h in hashes) if c is not None]

    def titled(self, title: str) -> str:
        """A section or item title known only by its text (summary tables keep no checklist hash): its
        translation in any stored checklist that has one, else the title as written."""
        if self._titles is None:
            self._titles = {}
            for checklist in self._stored():
                nodes: list[Checklist | Section | Item] = [checklist, *checklist.sections, *checklist.items]
                for node in nodes:
                    if self.language in node.titles:
                        self._titles.setdefault(node.title, node.titles[self.language])
        return self._titles.get(title, title)

    def fact(self, text: str, kind: str) -> str:
        """A metadata or metric value a verdict rests on (evidence text ``name = value``), in words."""
        name, sep, value = text.partition(" = ")
        return fact(name, value, kind, self.language) if sep else text
