"""Web read-side latency on a big store: the agent home and the team heat-map, p50/p95 over 200 requests each.

``python bench/web.py [--calls 100000] [--agents 200] [--db PATH] [--requests 200]`` builds a DuckDB (unless
``--db`` names one built by an earlier run) with synthetic scorecards generated in SQL (``range()`` and
INSERT…SELECT, seconds, not Python loops):

* ``--agents`` agents in teams of 10, ``--calls`` calls spread over 180 days (busy agents take ~10× the calls
  of quiet ones), one run per day;
* one checklist of 14 items in 4 sections (item 0 a veto item); each verdict drawn from the item's
  difficulty and the agent's skill: fails between ~2 % and ~40 %, 3 % uncertain, 5 % n/a — 1.4 M verdicts;
* section scores and totals computed from the verdicts as the engine does (veto → total 0), 3 % of the calls
  rescored once (a superseded scorecard beside the current one), emotion metrics per call;
* 20 utterances per call with their emotion (2 M rows each), for the call page;
* 1 % of the verdicts reviewed (a fifth of them overturned) with reviewed scores, 500 disputes (a third
  open; a tenth of the answers not yet seen by the agent, so a first visit marks them in a write),
  acknowledgements of a third of the scorecards; an admin account (the agents' and supervisors' accounts
  are added before the web requests);
* the per-agent-per-day summaries (``scorecards/store/summaries.py``) rebuilt once from all of it.

Then it times, each ``--requests`` times, cycling over agents and teams:

1. the view functions directly (``scorecards.people.views.agent_home`` as the agent, ``team_heatmap`` as the
   team's supervisor; for reference ``call_page``, the admin's all-teams heat-map and first queue page), and
2. the real web app (``callqa.web.app.create_app`` with Starlette's TestClient): ``GET /me`` signed in as
   each agent in turn (an account per agent) and ``GET /team`` as each team's supervisor in turn, every
   request with its own read connection (one for the session lookup and the page together), as the server
   keeps the database file open between requests (``WebSettings.read_linger_s``).

It prints p50/p95/max wall milliseconds (target p95 ≤ 100 ms), the CPU milliseconds a request costs (this
process, all DuckDB threads: what the request needs whatever else runs on the machine) and the build time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scorecards.people import views
from scorecards.people.access import UserRole, Viewer
from scorecards.store import summaries
from scorecards.store.database import Store

ITEMS = 14
UTTERANCES = 20
SECTIONS = 4
DAYS = 180
TEAM_SIZE = 10
PASSWORD = "bench-password-123"
# The calls' last day: the heat-map's window ends today unless asked otherwise, so the bench asks for this one.
LAST_DAY = dt.date(2025, 1, 1) + dt.timedelta(days=DAYS - 1)


# -- building the store ------------------------------------------------------------------------------------


def build(path: Path, calls: int, agents: int) -> None:
    """Fill a new store with synthetic calls, scorecards, reviews and accounts (see the module docstring)."""
    store = Store(path)
    store.migrate()
    u = _uniform
    with store.writing() as con:
        con.execute(f"""
            INSERT INTO runs SELECT 'run-' || d, TIMESTAMP '2025-01-01 01:00:00' + d * INTERVAL 1 DAY,
                TIMESTAMP '2025-01-01 03:00:00' + d * INTERVAL 1 DAY, 'finished', 1, '[]', '{{}}', 'bench',
                {calls} // {DAYS}, 0, 0, 3600.0 * 40, 3600.0 * 2, '[]' FROM range({DAYS}) t(d)""")
        con.execute("INSERT INTO checklists VALUES (repeat('b', 64), 'bench_cs', '1', 'Bench checklist', "
                    "'bench.yaml', 'id: bench_cs', TIMESTAMP '2025-01-01')")
        # The agent of a call: a skewed draw (u^1.5 favours low numbers): the busiest agent takes ~10× the calls of
        # the quietest.
        con.execute(f"""
            INSERT INTO calls SELECT sha256('call' || i), '/bench/calls/' || i || '.wav', 'call_' || i || '.wav',
                480000, NULL, 'run-' || day, 'run-' || day, 'ext-' || i, 'AG' || lpad(agent::TEXT, 3, '0'),
                'T' || lpad((agent // {TEAM_SIZE})::TEXT, 2, '0'), NULL, started, 'inbound', 'support', NULL, 'csv',
                'en', 300.0, 1, 8000, 'pcm', 'transcribed', NULL, NULL, started
            FROM (SELECT i, floor(pow({u('i', 1)}, 1.5) * {agents})::INT AS agent,
                         (i * {DAYS} // {calls})::INT AS day,
                         TIMESTAMP '2025-01-01 08:00:00' + (i * {DAYS} // {calls}) * INTERVAL 1 DAY
                           + floor({u('i', 3)} * 36000)::INT * INTERVAL 1 SECOND AS started
                  FROM range({calls}) t(i))""")
        con.execute("""
            INSERT INTO transcripts SELECT left(sha256('t' || call_id), 32), call_id, first_run_id, updated_at,
                'whisper-bench', repeat('m', 64), '{}', 'o', 'bench', 'en', 300.0, 1, 'voiceprint', 'S0', 0.9,
                false, '[]', true FROM calls""")
        _utterances(con)
        _scorecards(con, calls)
        _extras(con)
        # The rows went in by SQL, not through Store.save_call: the summaries are computed once for all of them,
        # as migration 006 does for an existing database.
        started = time.perf_counter()
        summaries.rebuild(con)
        print(f"summaries rebuilt in {time.perf_counter() - started:.1f} s", flush=True)
    from scorecards.people.accounts import add_user

    add_user(store, "bench-admin", UserRole.ADMIN, password=PASSWORD)  # agents and supervisors: ensure_accounts


def _utterances(con: Any) -> None:
    """20 utterances per call (agent and customer in turn, 15 s each) and their emotion, for the call page."""
    u = _uniform
    con.execute(f"""
        INSERT INTO utterances SELECT t.transcript_id, k, CASE WHEN k % 2 = 0 THEN 'S0' ELSE 'S1' END, 0,
            CASE WHEN k % 2 = 0 THEN 'agent' ELSE 'customer' END, 0.9, 15.0 * k, 15.0 * k + 14.0,
            'utterance ' || k || ' of the bench call, words words words', 0.85, 'en'
        FROM transcripts t, range({UTTERANCES}) r(k)""")
    con.execute(f"""
        INSERT INTO utterance_emotions SELECT transcript_id, idx, role, 'neutral', 0.8,
            {u('transcript_id || idx', 17)} * 0.5, 0.05, 0.1, 0.8, 0.05, 'neutral', NULL, '[]', 'bench'
        FROM utterances""")


def _uniform(column: str, salt: int) -> str:
    """A deterministic uniform draw in [0, 1) per row, from a hash of the row's column and a salt."""
    return f"(hash({column}, {salt}) % 1000003) / 1000003.0"


def _scorecards(con: Any, calls: int) -> None:
    u = _uniform
    con.execute("""
        INSERT INTO scorecards SELECT left(sha256('s' || call_id), 32), call_id, left(sha256('t' || call_id), 32),
            't', 'bench_cs', '1', repeat('b', 64), NULL, NULL, '', false, false, updated_at, first_run_id, 'bench',
            true, NULL, NULL FROM calls""")
    # Item difficulty (fail rate 2–20 %) times agent skill (0.5–2×); 3 % uncertain, 5 % n/a.
    con.execute(f"""
        INSERT INTO verdicts SELECT s.scorecard_id, k, 'item_' || lpad(k::TEXT, 2, '0'), 'sec_' || (k % {SECTIONS}),
            'Item ' || k || ' of the bench checklist', verdict, 10.0, CASE WHEN verdict = 'pass' THEN 10.0 ELSE 0 END,
            k = 0, 'bench reason', 'Say the right thing for item ' || k || '.',
            CASE WHEN verdict = 'fail' THEN '[{{"kind":"absent","role":"agent","start":12.5,"end":40.0,'
                 || '"text":"okay let me check","utterance":3}}]' ELSE '[]' END
        FROM scorecards s JOIN calls c ON c.call_id = s.call_id, range({ITEMS}) t(k),
        LATERAL (SELECT {u('s.scorecard_id || k', 7)} AS x,
                        (0.02 + 0.18 * {u('k', 8)}) * (0.5 + 1.5 * {u('c.agent_id', 9)}) AS p_fail) r,
        LATERAL (SELECT CASE WHEN x < 0.03 THEN 'uncertain' WHEN x < 0.08 THEN 'n/a'
                             WHEN x < 0.08 + p_fail THEN 'fail' ELSE 'pass' END AS verdict) v""")
    con.execute("""
        INSERT INTO section_scores SELECT scorecard_id, section_id, 'Section ' || section_id, 1.0, sum(earned),
            coalesce(sum(points) FILTER (WHERE verdict IN ('pass', 'fail')), 0),
            round(100.0 * sum(earned) / nullif(sum(points) FILTER (WHERE verdict IN ('pass', 'fail')), 0), 2)
        FROM verdicts GROUP BY scorecard_id, section_id""")
    con.execute("""
        UPDATE scorecards s SET raw_total = x.total, veto = x.veto, needs_review = x.unc,
            total = CASE WHEN x.veto THEN 0 ELSE x.total END,
            band = CASE WHEN x.veto OR x.total < 60 THEN '不合格' WHEN x.total < 80 THEN '合格'
                        WHEN x.total < 90 THEN '良好' ELSE '优秀' END
        FROM (SELECT ss.scorecard_id, round(avg(ss.score), 2) AS total,
                     (SELECT bool_or(v.veto AND v.verdict = 'fail') FROM verdicts v
                      WHERE v.scorecard_id = ss.scorecard_id) AS veto,
                     (SELECT bool_or(v.verdict = 'uncertain') FROM verdicts v
                      WHERE v.scorecard_id = ss.scorecard_id) AS unc
              FROM section_scores ss GROUP BY ss.scorecard_id) x WHERE x.scorecard_id = s.scorecard_id""")
    # 3 % of the calls were rescored: the older scorecard stays, superseded (as a checklist update leaves it).
    con.execute(f"""
        INSERT INTO scorecards SELECT left(sha256('old' || scorecard_id), 32), call_id, transcript_id,
            transcript_hash, checklist_id, '0', checklist_hash, total, raw_total, band, veto, needs_review,
            created_at, origin, code_version, false, scorecard_id, created_at
        FROM scorecards WHERE {u('call_id', 11)} < 0.03""")
    con.execute(f"""
        INSERT INTO call_metrics SELECT t.transcript_id, m.name, CASE m.name
                WHEN 'customer_anger_max' THEN {u('t.transcript_id', 12)}
                WHEN 'angry_customer' THEN ({u('t.transcript_id', 12)} >= 0.7)::INT
                WHEN 'customer_anger_start' THEN {u('t.transcript_id', 12)} * {u('t.transcript_id', 14)}
                WHEN 'agent_negative_tone_max' THEN {u('t.transcript_id', 16)} * 0.8
                -- 3 % of the calls have no customer speech (a voicemail, a silent line)
                WHEN 'utterances_customer' THEN CASE WHEN {u('t.transcript_id', 17)} < 0.03 THEN 0
                                                     ELSE 20 + floor(40 * {u('t.transcript_id', 18)}) END
                ELSE ({u('t.transcript_id', 13)} < 0.5)::INT END, 'bench'
        FROM transcripts t, (VALUES ('customer_anger_max'), ('angry_customer'), ('customer_calmer_by_end'),
            ('customer_anger_start'), ('agent_negative_tone_max'), ('utterances_customer')) m(name)""")


def _extras(con: Any) -> None:
    """Reviews (1 % of verdicts, a fifth overturned), reviewed scores, disputes and acknowledgements."""
    u = _uniform
    con.execute(f"""
        INSERT INTO verdict_reviews SELECT 'rv-' || v.scorecard_id || '-' || v.idx, v.scorecard_id, v.idx, v.item_id,
            v.verdict, CASE WHEN v.verdict = 'uncertain' OR {u('v.scorecard_id || v.idx', 15)} < 0.2
                            THEN 'overturn' ELSE 'confirm' END,
            CASE WHEN v.verdict = 'uncertain' OR {u('v.scorecard_id || v.idx', 15)} < 0.2
                 THEN (CASE WHEN v.verdict = 'pass' THEN 'fail' ELSE 'pass' END) ELSE v.verdict END,
            'bench review', 'bench-sup', NULL, s.created_at + INTERVAL 1 DAY, true
        FROM verdicts v JOIN scorecards s ON s.scorecard_id = v.scorecard_id
        WHERE s.is_current AND {u('v.scorecard_id || v.idx', 14)} < 0.01""")
    con.execute("""
        INSERT INTO reviewed_scores SELECT s.scorecard_id, s.total, s.raw_total, s.band, s.veto, count(*),
            max(r.created_at), 'bench-sup'
        FROM verdict_reviews r JOIN scorecards s ON s.scorecard_id = r.scorecard_id GROUP BY ALL""")
    con.execute("""
        INSERT INTO disputes SELECT 'dp-' || v.scorecard_id || '-' || v.idx, v.scorecard_id, v.idx, v.item_id,
            c.call_id, c.agent_id, 'I said it', 'agent', s.created_at + INTERVAL 1 DAY,
            CASE WHEN n % 3 = 0 THEN 'open' WHEN n % 3 = 1 THEN 'upheld' ELSE 'rejected' END,
            CASE WHEN n % 3 = 0 THEN NULL ELSE 'answered' END, CASE WHEN n % 3 = 0 THEN NULL ELSE 'bench-sup' END,
            CASE WHEN n % 3 = 0 THEN NULL ELSE s.created_at + INTERVAL 2 DAY END,
            -- most answers were seen by the agent already; a tenth are new (the agent's next visit marks them)
            CASE WHEN n % 3 = 0 OR n % 30 IN (1, 2) THEN NULL ELSE s.created_at + INTERVAL 3 DAY END
        FROM (SELECT *, row_number() OVER (ORDER BY scorecard_id, idx) AS n FROM verdicts WHERE verdict = 'fail') v
        JOIN scorecards s ON s.scorecard_id = v.scorecard_id AND s.is_current JOIN calls c ON c.call_id = s.call_id
        WHERE v.n % 400 = 0""")
    con.execute(f"""
        INSERT INTO acknowledgements SELECT s.scorecard_id, 'agent', s.created_at + INTERVAL 1 DAY FROM scorecards s
        WHERE s.is_current AND {u('s.scorecard_id', 16)} < 0.33""")


# -- timing ------------------------------------------------------------------------------------------------


def timed(label: str, n: int, request: Callable[[int], object]) -> list[float]:
    """Run ``request(i)`` for i in 0..n-1 (after one warm-up) and print p50/p95/max wall ms and mean CPU ms.

    CPU is this process's (all DuckDB threads): the work a request costs, whatever else runs on the machine.
    """
    request(0)
    times = []
    cpu = time.process_time()
    for i in range(n):
        start = time.perf_counter()
        request(i)
        times.append(1000 * (time.perf_counter() - start))
    cpu_ms = 1000 * (time.process_time() - cpu) / n
    times.sort()
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    print(f"{label:<44} p50 {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms  max {times[-1]:6.1f} ms  "
          f"cpu {cpu_ms:6.1f} ms", flush=True)
    return times


def bench_views(store: Store, n: int, agents: int) -> None:
    teams = max(1, agents // TEAM_SIZE)
    agent_ids = [f"AG{i:03d}" for i in range(agents)]

    def home(i: int) -> object:
        agent = agent_ids[(i * 37) % len(agent_ids)]
        return views.agent_home(store, Viewer("a", UserRole.AGENT, agent_id=agent), agent)

    def heat(i: int) -> object:
        team = f"T{i % teams:02d}"
        return views.team_heatmap(store, Viewer("s", UserRole.SUPERVISOR, teams=(team,)), sort="worst",
                                  until=LAST_DAY)

    admin = Viewer("root", UserRole.ADMIN)
    with store.reading() as con:
        call_ids = [r[0] for r in con.execute("SELECT call_id FROM calls ORDER BY hash(call_id) LIMIT 500").fetchall()]
    timed("views.call_page (admin)", n, lambda i: views.call_page(store, admin, call_ids[i % len(call_ids)]))
    timed("views.agent_home (as the agent)", n, home)
    timed("views.team_heatmap (a supervisor's team)", n, heat)
    timed("views.team_heatmap (admin, all teams)", max(10, n // 20),
          lambda i: views.team_heatmap(store, admin, until=LAST_DAY))
    timed("views.review_queue (admin, first page)", max(10, n // 20),
          lambda i: views.review_queue(store, admin, limit=50))


def ensure_accounts(store: Store, agents: int) -> tuple[list[str], list[str]]:
    """One agent account per agent and one supervisor per team (created on first use): the web requests
    cycle over all of them, so no request finds its own agent's rows already cached by the one before."""
    from scorecards.people.accounts import add_user, list_users

    have = {u.user_id for u in list_users(store)}
    agent_names = [f"bench-agent-{i:03d}" for i in range(agents)]
    sup_names = [f"bench-sup-{t:02d}" for t in range(max(1, agents // TEAM_SIZE))]
    for i, name in enumerate(agent_names):
        if name not in have:
            add_user(store, name, UserRole.AGENT, agent_id=f"AG{i:03d}", password=PASSWORD)
    for t, name in enumerate(sup_names):
        if name not in have:
            add_user(store, name, UserRole.SUPERVISOR, teams=(f"T{t:02d}",), password=PASSWORD)
    return agent_names, sup_names


def bench_web(path: Path, n: int, agents: int) -> None:
    from starlette.testclient import TestClient

    from callqa.web.app import create_app

    agent_names, sup_names = ensure_accounts(Store(path), agents)
    app = create_app(path, secret="bench-secret-" + "x" * 32)
    with TestClient(app, base_url="https://testserver") as client:

        def sign_in(user: str) -> dict[str, str]:
            client.cookies.clear()
            form = client.get("/login").text
            token = re.search(r'name="csrf" value="([^"]+)"', form)
            assert token is not None, "the sign-in page has no CSRF token"
            login = client.post("/login", data={"name": user, "password": PASSWORD, "next": "/",
                                                "csrf": token.group(1)}, follow_redirects=False)
            assert login.status_code == 303, f"sign-in as {user} failed: {login.status_code}"
            return dict(client.cookies)

        for page, users, query in (("/me", agent_names, ""), ("/team", sup_names, f"?until={LAST_DAY}")):
            jars = [sign_in(user) for user in users]

            def get(i: int, page: str = page + query, jars: list[dict[str, str]] = jars) -> object:
                client.cookies.clear()
                client.cookies.update(jars[(i * 37) % len(jars)])  # the views' cycle: every account in turn
                response = client.get(page)
                assert response.status_code == 200, f"GET {page}: {response.status_code}"
                return response

            timed(f"web GET {page} ({len(users)} {page[1:]} accounts in turn)", n, get)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--db", type=Path, help="reuse (or create) this database instead of a temporary one")
    parser.add_argument("--no-web", action="store_true", help="time the view functions only")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="callqa-bench-web-") as tmp:
        path = args.db or Path(tmp) / "bench.duckdb"
        if not path.exists():
            start = time.perf_counter()
            build(path, args.calls, args.agents)
            print(f"built {path} in {time.perf_counter() - start:.1f} s", flush=True)
        store = Store(path)
        with store.reading() as con:
            counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                      for t in ("calls", "scorecards", "verdicts", "verdict_reviews", "disputes")}
        print(", ".join(f"{v:,} {k}" for k, v in counts.items()), flush=True)
        bench_views(store, args.requests, args.agents)
        if not args.no_web:
            bench_web(path, args.requests, args.agents)


if __name__ == "__main__":
    main()
