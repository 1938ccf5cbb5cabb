"""A store for the team heat-map tests, written in SQL (as bench/web.py does) so that every rate is known.

Two checklists: ``svc_en`` (8 items; two versions in the checklists table, the calls scored with the newer
one, titled "Service call") and ``svc_zh`` (2 items, "客服通话质检").

* ``svc_en``: four calls a week in each ISO week 2026-W45..W48 (the 28 days up to :data:`UNTIL`): call ``j``
  of a week is A1 (T1), A2 (T1), B1 (T2) or a call without an agent id (T1), on the week's day ``j``. Call
  ``j`` passes item ``k`` when ``j < PASSES[k][week]``, so item k's weekly pass rate is ``PASSES[k][week] / 4``.
* ``svc_zh``: six calls of B1 in W47 (greeting passed, closing failed), one of A1 in W48 (both passed).
* T3 (agent C1): two ``svc_en`` calls before the window: one with no start time, first seen by a run of
  2026-10-05 (its day), one recorded on 2026-09-20 but first seen by a run of 2026-12-01 (its day: 09-20).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from scorecards.people.accounts import add_user
from scorecards.store import summaries
from scorecards.store.database import Store

UNTIL = dt.date(2026, 11, 29)  # a Sunday: the window of 28 days starts on Monday 2026-11-02
PASSWORD = "heatmap-password-1"
EN_ITEMS = (
    ("greet_first", "Greets the customer within 15 seconds"),
    ("verify_identity", "Checks who is calling before talking about the account"),
    ("find_need", "Asks what the customer needs"),
    ("hold_etiquette", "Asks before putting the customer on hold"),
    ("accurate_info", "Gives correct information"),
    ("empathy", "Acknowledges how the customer feels"),
    ("next_steps", "Explains what happens next"),
    ("closing", "Closes the call politely"),
)
ZH_ITEMS = (("zh_greeting", "开场问候"), ("zh_closing", "礼貌结束通话"))
PASSES = (  # passed calls (of 4) per week W45..W48, per item of EN_ITEMS
    (4, 4, 4, 4),  # greet_first: flat
    (4, 3, 2, 0),  # verify_identity: −100 points, moved most
    (0, 1, 2, 3),  # find_need: +75
    (2, 2, 2, 3),  # hold_etiquette: +25
    (4, 0, 4, 4),  # accurate_info: a dip, but it ends where it began: not a mover
    (3, 3, 3, 1),  # empathy: −50
    (1, 1, 1, 2),  # next_steps: +25 (a tie with hold_etiquette, which comes first in the checklist)
    (2, 2, 2, 1),  # closing: −25, the sixth mover: left out
)
EN_HASH, EN_OLD_HASH, ZH_HASH = "e" * 64, "d" * 64, "f" * 64


def build(path: Path) -> Store:
    """The store described in the module docstring, with accounts (admin, qa, sup1/T1, sup2/T2, sup3/T3)."""
    store = Store(path)
    store.migrate()
    with store.writing() as con:
        for run_id, started in (("r-week", dt.datetime(2026, 11, 30, 1)), ("r-oct", dt.datetime(2026, 10, 5, 1)),
                                ("r-dec", dt.datetime(2026, 12, 1, 1))):
            con.execute("INSERT INTO runs (run_id, started_at, finished_at, status, sources, settings, code_version) "
                        "VALUES (?, ?, ?, 'finished', '[]', '{}', 'test')", [run_id, started, started])
        for digest, checklist_id, version, title, used in (
                (EN_OLD_HASH, "svc_en", "1", "Service call (draft)", dt.datetime(2026, 1, 5)),
                (EN_HASH, "svc_en", "2", "Service call", dt.datetime(2026, 6, 1)),
                (ZH_HASH, "svc_zh", "1", "客服通话质检", dt.datetime(2026, 3, 1))):
            con.execute("INSERT INTO checklists VALUES (?, ?, ?, ?, 'x.yaml', 'id: x', ?)",
                        [digest, checklist_id, version, title, used])
        monday = UNTIL - dt.timedelta(days=27)
        for week in range(4):
            for j, (agent, team) in enumerate((("A1", "T1"), ("A2", "T1"), ("B1", "T2"), (None, "T1"))):
                day = dt.datetime.combine(monday + dt.timedelta(days=7 * week + j), dt.time(10))
                verdicts = [p[week] > j for p in PASSES]
                _call(con, f"en-{week}-{j}", agent, team, day, "r-week", "svc_en", EN_HASH, EN_ITEMS, verdicts)
        for n in range(6):
            day = dt.datetime.combine(monday + dt.timedelta(days=14 + n), dt.time(11))
            _call(con, f"zh-b1-{n}", "B1", "T2", day, "r-week", "svc_zh", ZH_HASH, ZH_ITEMS, [True, False])
        _call(con, "zh-a1", "A1", "T1", dt.datetime(2026, 11, 24, 9), "r-week", "svc_zh", ZH_HASH, ZH_ITEMS,
              [True, True])
        _call(con, "t3-no-start", "C1", "T3", None, "r-oct", "svc_en", EN_HASH, EN_ITEMS, [True] * 8)
        _call(con, "t3-late-run", "C1", "T3", dt.datetime(2026, 9, 20, 15), "r-dec", "svc_en", EN_HASH, EN_ITEMS,
              [False] * 8)
        summaries.rebuild(con)  # the rows went in by SQL, not through Store.save_call
    for name, role, teams in (("admin", "admin", ()), ("qa", "qa", ()), ("sup1", "supervisor", ("T1",)),
                              ("sup2", "supervisor", ("T2",)), ("sup3", "supervisor", ("T3",))):
        add_user(store, name, role, teams=list(teams), password=PASSWORD)
    add_user(store, "alice", "agent", agent_id="A1", password=PASSWORD)
    return store


def _call(con: object, name: str, agent: str | None, team: str, started: dt.datetime | None, run: str,
          checklist_id: str, digest: str, items: tuple[tuple[str, str], ...], passed: list[bool]) -> None:
    call_id = hashlib.sha256(name.encode()).hexdigest()
    card = call_id[:32]
    updated = started or dt.datetime(2026, 12, 1)
    con.execute(  # type: ignore[attr-defined]
        "INSERT INTO calls (call_id, source_path, file_name, size_bytes, first_run_id, last_run_id, agent_id, team, "
        "started_at, metadata_source, language, status, updated_at) "
        "VALUES (?, ?, ?, 100, ?, ?, ?, ?, ?, 'csv', 'en', 'transcribed', ?)",
        [call_id, f"/calls/{name}.wav", f"{name}.wav", run, run, agent, team, started, updated])
    version = "1" if digest == ZH_HASH else "2"
    con.execute(  # type: ignore[attr-defined]
        "INSERT INTO scorecards VALUES (?, ?, ?, 't', ?, ?, ?, NULL, NULL, '合格', false, false, ?, ?, 'test', true, "
        "NULL, NULL)", [card, call_id, "tr" + card[2:], checklist_id, version, digest, updated, run])
    for idx, ((item_id, title), ok) in enumerate(zip(items, passed, strict=True)):
        con.execute(  # type: ignore[attr-defined]
            "INSERT INTO verdicts VALUES (?, ?, ?, 'main', ?, ?, 10, ?, false, 'test', 'Say it.', '[]')",
            [card, idx, item_id, title, "pass" if ok else "fail", 10.0 if ok else 0.0])
