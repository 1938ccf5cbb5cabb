"""Personal data in a store made before redaction existed, under ``redaction.mode = "off"``, or by an older
redactor: ``callqa redact --db DB`` hides it in place, and ``callqa check-db`` reports what is left.

Each transcript is redacted in its own transaction (its utterances and words, its redactions, its scorecards'
quotes and the regression examples cut from it), so a run killed at any moment leaves every transcript either
done or untouched, and a rerun goes on with the rest. Redacting twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from core.pii import PLACEHOLDER
from core.types import Redaction
from pipeline.redact import REDACTOR_VERSION, RedactedTranscript, masked, redact_with_values
from scorecards.store import privacy
from scorecards.store.database import Store
from scorecards.store.stored import load_calls

BATCH = 50


@dataclass(frozen=True)
class RedactionRun:
    """What ``callqa redact`` did: transcripts redacted (of how many left to do) and spans hidden."""

    transcripts: int
    of: int
    spans: int


def redact_store(store: Store, *, keep_clear: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> RedactionRun:
    """Redact every transcript not redacted by this redactor, oldest first, one transaction each.

    Args:
        keep_clear: keep the clear text apart (mode ``both``, readable only with ``pii:clear``); by default it
            is gone once redacted.
        progress: called with (done, total) after each transcript.
    """
    with store.reading() as con:
        todo = privacy.to_redact(con, REDACTOR_VERSION)
    done = spans = 0
    for i in range(0, len(todo), BATCH):
        for call in load_calls(store, todo[i: i + BATCH], normalized=False):
            redacted, values = redact_with_values(call.transcript)
            with store.writing() as con:
                before = privacy.redactions(con, call.transcript_id)  # an older redactor's, kept
                record = privacy.PrivacyRecord("both" if keep_clear else "redact", REDACTOR_VERSION,
                                               _with_older(before, redacted), call.transcript if keep_clear else None,
                                               "callqa redact")
                changed = sorted({r.utterance for r in redacted.redactions})
                privacy.rewrite(con, call.transcript_id, call.call_id, redacted.transcript, changed, record,
                                values)
            done += 1
            spans += len(redacted.redactions)
            if progress:
                progress(done, len(todo))
    return RedactionRun(done, len(todo), spans)


def _with_older(before: tuple[Redaction, ...], redacted: RedactedTranscript) -> tuple[Redaction, ...]:
    """The new redactions with an older redactor's, whose placeholders have moved where new ones were put in."""
    out = list(redacted.redactions)
    for idx in sorted({r.utterance for r in before}):
        fresh = {r.char_start for r in redacted.redactions if r.utterance == idx}
        slots = [m for m in PLACEHOLDER.finditer(redacted.transcript.utterances[idx].text) if m.start() not in fresh]
        olds = [r for r in before if r.utterance == idx]
        out += [replace(r, char_start=m.start(), char_end=m.end()) for r, m in zip(olds, slots, strict=False)]
    return tuple(sorted(out, key=lambda r: (r.utterance, r.char_start)))


def leftover(store: Store) -> tuple[int, list[str]]:
    """Transcripts still in clear, and where a detector still finds personal data in redacted ones (check-db)."""
    from pipeline.pii import detect

    with store.reading() as con:
        clear = privacy.to_redact(con, REDACTOR_VERSION)
        done = [r[0] for r in con.execute("SELECT transcript_id FROM transcript_privacy WHERE mode <> 'off' "
                                          "AND redactor = ?", [REDACTOR_VERSION]).fetchall()]
    found = []
    for i in range(0, len(done), BATCH):
        for call in load_calls(store, done[i: i + BATCH], normalized=False):
            for f in detect([masked(u) for u in call.transcript.utterances]):
                found.append(f"call {call.call_id[:12]} utterance {f.utterance}: {f.kind} ({f.detector})")
    return len(clear), found
