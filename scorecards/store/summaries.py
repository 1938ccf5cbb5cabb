"""Per-agent-per-day summaries of the current scorecards, kept exact on every write.

The agent home's team figures and the team heat-map are sums over weeks of a team's calls. Read from the base
tables, each request scanned every verdict and section score (1.4 M rows on 100k calls). These tables hold the
same counts per (agent, team, day): a request sums a few thousand rows instead. ``agent_cards`` holds one narrow
row per current scorecard (its call, day, totals, how many verdicts count as fail, whether it was acknowledged),
so the agent home finds an agent's latest calls without scanning the calls, scorecards and verdicts tables.

They are derived data. Every write that changes what they count (a call saved or its metadata changed, a
rescoring, a review, an acknowledgement) calls :func:`refresh` for the affected calls inside its own
transaction, with the (agent, day) keys the calls had *before* the write as well (an agent or day change
empties the old key). A refresh deletes those keys' rows and recomputes them from the base tables with one
INSERT … SELECT per table, so the summaries equal a full :func:`rebuild` by construction. :func:`problems`
compares them with the base tables (``callqa check-db``).

A call without a day (no start time, no known run) counts in no window, so it has no summary row. Calls with
no agent id have rows with a NULL agent (the heat-map's trends count them).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

# The day of a call and the emotion figures come from scorecards.store.definitions, which the CLI report and the
# web page read too; not from views_sql: the write side must not depend on the read side.
from scorecards.store.definitions import CALLS_FROM as _CALLS
from scorecards.store.definitions import DAY as _DAY
from scorecards.store.definitions import EMOTION_FLAGS, SUMMARISED, emotion_join

_FINAL = "coalesce(r.reviewed_verdict, v.verdict)"

Key = tuple[str | None, dt.date]

# name → (columns DDL, the SELECT computing the rows; ``{cards}`` is a condition on ``s.scorecard_id``, the
# scorecards whose rows to compute: TRUE for all of them). The migrations of BY_MIGRATION create these tables
# as they are here: a change of columns needs a new migration (drop, create), not an edit; the form the earlier
# migration created then goes to _AS_FIRST_CREATED.
TABLES: dict[str, tuple[str, str]] = {
    # Verdicts per item: pass and fail as they count now (a current review overrides the engine).
    "agent_day_items": (
        "agent_id TEXT, team TEXT, day DATE NOT NULL, checklist_id TEXT NOT NULL, item_id TEXT NOT NULL, "
        "title TEXT NOT NULL, min_idx INTEGER NOT NULL, verdicts BIGINT NOT NULL, passed BIGINT NOT NULL, "
        "failed BIGINT NOT NULL",
        f"SELECT c.agent_id, c.team, {_DAY}, s.checklist_id, v.item_id, any_value(v.title), min(v.idx), count(*), "
        f"count(*) FILTER (WHERE {_FINAL} = 'pass'), count(*) FILTER (WHERE {_FINAL} = 'fail') "
        f"FROM verdicts v JOIN scorecards s ON s.scorecard_id = v.scorecard_id JOIN {_CALLS} ON c.call_id = s.call_id "
        "LEFT JOIN verdict_reviews r ON r.scorecard_id = v.scorecard_id AND r.item_idx = v.idx AND r.is_current "
        f"WHERE s.is_current AND {_DAY} IS NOT NULL AND {{cards}} GROUP BY ALL",
    ),
    # Automatic section scores (the radar), their sum and how many there are.
    "agent_day_sections": (
        "agent_id TEXT, team TEXT, day DATE NOT NULL, section_id TEXT NOT NULL, title TEXT NOT NULL, "
        "score_sum DOUBLE NOT NULL, scored BIGINT NOT NULL",
        f"SELECT c.agent_id, c.team, {_DAY}, x.section_id, any_value(x.title), sum(x.score), count(*) "
        f"FROM section_scores x JOIN scorecards s ON s.scorecard_id = x.scorecard_id JOIN {_CALLS} "
        f"ON c.call_id = s.call_id WHERE s.is_current AND x.score IS NOT NULL AND {_DAY} IS NOT NULL AND {{cards}} "
        "GROUP BY ALL",
    ),
    # Scored calls, current scorecards and their totals as they count now (the reviewed total where there is one).
    "agent_day_cards": (
        "agent_id TEXT, team TEXT, day DATE NOT NULL, calls BIGINT NOT NULL, cards BIGINT NOT NULL, "
        "total_sum DOUBLE, totals BIGINT NOT NULL",
        f"SELECT c.agent_id, c.team, {_DAY}, count(DISTINCT s.call_id), count(*), sum(coalesce(rs.total, s.total)), "
        f"count(coalesce(rs.total, s.total)) FROM scorecards s JOIN {_CALLS} ON c.call_id = s.call_id "
        "LEFT JOIN reviewed_scores rs ON rs.scorecard_id = s.scorecard_id "
        f"WHERE s.is_current AND {_DAY} IS NOT NULL AND {{cards}} GROUP BY ALL",
    ),
    # The emotion counts of scorecards.store.definitions (EMOTION_FLAGS, same names and order), each scored call once
    # however many checklists scored it, from the emotion summary of its current transcript.
    "agent_day_emotion": (
        "agent_id TEXT, team TEXT, day DATE NOT NULL, "
        + ", ".join(f"{name} BIGINT NOT NULL" for name, _ in EMOTION_FLAGS),
        f"SELECT c.agent_id, c.team, {_DAY}, "
        + ", ".join(f"count(*) FILTER (WHERE {flag})" for _, flag in EMOTION_FLAGS)
        + " FROM (SELECT DISTINCT s.call_id FROM scorecards s WHERE s.is_current AND {cards}) s "
        f"JOIN {_CALLS} ON c.call_id = s.call_id JOIN transcripts t ON t.call_id = s.call_id AND t.is_current "
        + emotion_join("t.transcript_id", "SELECT t.transcript_id FROM scorecards s JOIN transcripts t ON t.call_id "
                       "= s.call_id AND t.is_current WHERE s.is_current AND {cards}")
        + f" WHERE {_DAY} IS NOT NULL AND {SUMMARISED} GROUP BY ALL",
    ),
    # One row per current scorecard: what the agent home lists (the window's calls, newest first, and which of
    # them missed something) without scanning the calls, scorecards and verdicts tables for one agent.
    "agent_cards": (
        "agent_id TEXT, team TEXT, day DATE NOT NULL, started_at TIMESTAMP, call_id TEXT NOT NULL, "
        "scorecard_id TEXT NOT NULL, checklist_id TEXT NOT NULL, file_name TEXT NOT NULL, total DOUBLE, "
        "reviewed_total DOUBLE, band TEXT NOT NULL, failed BIGINT NOT NULL, acknowledged BOOLEAN NOT NULL",
        f"SELECT c.agent_id, c.team, {_DAY}, c.started_at, s.call_id, s.scorecard_id, s.checklist_id, c.file_name, "
        f"s.total, rs.total, s.band, count(v.idx) FILTER (WHERE {_FINAL} = 'fail'), "
        "s.scorecard_id IN (SELECT scorecard_id FROM acknowledgements) "
        f"FROM scorecards s JOIN {_CALLS} ON c.call_id = s.call_id "
        "LEFT JOIN reviewed_scores rs ON rs.scorecard_id = s.scorecard_id "
        "LEFT JOIN verdicts v ON v.scorecard_id = s.scorecard_id "
        "LEFT JOIN verdict_reviews r ON r.scorecard_id = v.scorecard_id AND r.item_idx = v.idx AND r.is_current "
        f"WHERE s.is_current AND {_DAY} IS NOT NULL AND {{cards}} GROUP BY ALL",
    ),
}

# The tables each migration created: a table added later must not appear in an earlier migration's step.
# 008 replaced 006's agent_day_emotion (its columns followed other definitions than the CLI report's).
BY_MIGRATION = {
    "006_summaries": ("agent_day_items", "agent_day_sections", "agent_day_cards", "agent_day_emotion"),
    "007_agent_cards": ("agent_cards",),
    "008_emotion_definitions": ("agent_day_emotion",),
}

# A table as an earlier migration created it, where a later one replaced it: migration 006 still creates what
# it created when it was released (a database at 006 or 007 has this table), and 008 drops and replaces it.
_AS_FIRST_CREATED: dict[tuple[str, str], tuple[str, str]] = {
    ("006_summaries", "agent_day_emotion"): (
        "agent_id TEXT, team TEXT, day DATE NOT NULL, calls BIGINT NOT NULL, angry BIGINT NOT NULL, "
        "calmer BIGINT NOT NULL",
        "SELECT c.agent_id, c.team, CAST(coalesce(c.started_at, fr.started_at) AS DATE), count(*), "
        "count(*) FILTER (WHERE a.value >= 0.5), count(*) FILTER (WHERE a.value >= 0.5 AND coalesce(m.value, 0.0) "
        ">= 0.5) FROM (SELECT DISTINCT s.call_id, s.transcript_id FROM scorecards s WHERE s.is_current) s "
        "JOIN calls c LEFT JOIN runs fr ON fr.run_id = c.first_run_id ON c.call_id = s.call_id "
        "JOIN call_metrics a ON a.transcript_id = s.transcript_id AND a.name = 'angry_customer' "
        "LEFT JOIN call_metrics m ON m.transcript_id = s.transcript_id AND m.name = 'customer_calmer_by_end' "
        "WHERE CAST(coalesce(c.started_at, fr.started_at) AS DATE) IS NOT NULL GROUP BY ALL",
    ),
}

# The affected keys, passed as two parallel lists.
_KEYS = "(SELECT unnest($agents) AS agent_id, unnest($days) AS day)"
_IN_KEYS = f"EXISTS (SELECT 1 FROM {_KEYS} k WHERE k.agent_id IS NOT DISTINCT FROM {{a}}.agent_id AND k.day = {{d}})"
# The current scorecards of the calls on those keys. A join, not EXISTS: DuckDB then hashes the few keys and
# scans the calls once (docs/operations.md, "Web pages on a big database").
_CARDS_OF_KEYS = (f"SELECT s.scorecard_id FROM {_CALLS} JOIN {_KEYS} k ON k.agent_id IS NOT DISTINCT FROM "
                  f"c.agent_id AND k.day = {_DAY} JOIN scorecards s ON s.call_id = c.call_id WHERE s.is_current")


def create(con: Any, migration: str) -> None:
    """Create the tables that ``migration`` (a key of :data:`BY_MIGRATION`) adds, filled from the base tables.

    A table the migration replaces must have been dropped first.
    """
    for name in BY_MIGRATION[migration]:
        columns, select = _AS_FIRST_CREATED.get((migration, name), TABLES[name])
        con.execute(f"CREATE TABLE {name} ({columns})")
        con.execute(f"CREATE INDEX {name}_day ON {name} (day)")
        con.execute(f"INSERT INTO {name} {select.format(cards='TRUE')}")


def rebuild(con: Any, names: Iterable[str] = TABLES) -> None:
    """Recompute every summary row (of the tables named) from the base tables, in the caller's transaction."""
    for name in names:
        con.execute(f"DELETE FROM {name}")
        con.execute(f"INSERT INTO {name} {TABLES[name][1].format(cards='TRUE')}")


def keys_of(con: Any, call_ids: Iterable[str]) -> set[Key]:
    """The (agent id, day) of these calls as the base tables say now (calls without a day have none)."""
    ids = sorted(set(call_ids))
    if not ids:
        return set()
    rows = con.execute(f"SELECT DISTINCT c.agent_id, {_DAY} FROM {_CALLS} WHERE c.call_id IN (SELECT unnest($ids)) "
                       f"AND {_DAY} IS NOT NULL", {"ids": ids}).fetchall()
    return {(agent, day) for agent, day in rows}


def refresh(con: Any, call_ids: Iterable[str], before: Iterable[Key] = ()) -> None:
    """Recompute the summary rows of the calls' (agent, day) keys, now and ``before`` the write.

    Call it inside the write's transaction, after the base tables changed; ``before`` holds the keys
    :func:`keys_of` gave for the same calls before the change (needed when an agent or a day changes).
    """
    keys = keys_of(con, call_ids) | set(before)
    if not keys:
        return
    ordered = sorted(keys, key=lambda k: (k[0] is None, k[0] or "", k[1]))
    params = {"agents": [k[0] for k in ordered], "days": [k[1] for k in ordered]}
    # The rows are recomputed from those keys' scorecards by id: a condition on the calls' keys made DuckDB
    # join the whole verdicts table (≈ 1 s per saved call on 1.4 M verdicts; by id ≈ 0.1 s).
    cards = sorted(r[0] for r in con.execute(_CARDS_OF_KEYS, params).fetchall())
    for name, (_, select) in TABLES.items():
        con.execute(f"DELETE FROM {name} WHERE {_IN_KEYS.format(a=name, d=name + '.day')}", params)
        if cards:
            con.execute(f"INSERT INTO {name} {select.format(cards='s.scorecard_id IN (SELECT unnest($ids))')}",
                        {"ids": cards})


def problems(con: Any) -> list[str]:
    """Where the summaries disagree with the base tables (cheap: per-table totals), as messages."""
    out = []
    checks = {"agent_day_items": "sum(verdicts), sum(passed), sum(failed)",
              "agent_day_sections": "sum(scored), sum(score_sum)",
              "agent_day_cards": "sum(calls), sum(cards), sum(totals), sum(total_sum)",
              "agent_day_emotion": ", ".join(f"sum({name})" for name, _ in EMOTION_FLAGS),
              "agent_cards": "count(*), count(DISTINCT scorecard_id), sum(failed), count(*) FILTER (WHERE "
                             "acknowledged), sum(coalesce(reviewed_total, total))"}
    for name, (_, select) in TABLES.items():
        sums = checks[name]
        stored = con.execute(f"SELECT {sums} FROM {name}").fetchone()
        base = con.execute(f"SELECT {sums} FROM ({select.format(cards='TRUE')}) "
                           f"AS b({_names(TABLES[name][0])})").fetchone()
        if not _same(stored, base):
            out.append(f"summary {name} disagrees with the base tables ({stored} stored, {base} computed); "
                       "rebuild them with `callqa check-db --rebuild-summaries`")
    return out


def _same(stored: tuple[Any, ...], base: tuple[Any, ...]) -> bool:
    """Counts equal, sums of scores equal but for the order of the additions: a sum of 100,000 doubles in
    another order differs in the 12th digit (seen on the bench store: 33758479.140021 against …139997)."""
    return len(stored) == len(base) and all(
        math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6) if isinstance(a, float) and isinstance(b, float) else a == b
        for a, b in zip(stored, base, strict=True))


def _names(columns: str) -> str:
    return ", ".join(part.split()[0] for part in columns.split(", "))
