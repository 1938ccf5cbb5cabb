"""`callqa score CALL_ID`, `callqa agent AGENT_ID` and `callqa rescore` through the command line."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from callqa import cli_rules, cli_scores
from core.types import CallFailure, SourceFile
from tests._scores import CALLS, build_store, write_v2
from tests.scorecards.test_reports import with_emotion

ID = {c.name: c.call_id for c in CALLS}
runner = CliRunner()
app = typer.Typer()
cli_rules.register(app)
cli_scores.register(app)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_score_by_call_id_prefix_shows_what_was_missed(tmp_path: Path) -> None:
    build_store(tmp_path)
    db = str(tmp_path / "callqa.duckdb")
    result = runner.invoke(app, ["score", ID["c3"][:8], "--db", db])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "c3.wav — agent A1 (T1), 2025-02-25 11:00"
    assert lines[2].startswith(f"Call {ID['c3']} — checklist mini_en v1 (")
    assert lines[3] == "Score 50/100, band 不合格"
    missed = lines[lines.index("Missed:") + 1 : lines.index("Done well:")]
    assert missed[0] == "✗ Greets the customer within 15 seconds (greeting, 10 points)"
    assert missed[1].startswith('    looked in: [0:01–0:12] agent, who said "Yes? Account number?"')
    assert missed[3] == '    Greet the customer first. Say "Thank you for calling, how can I help?"'
    assert '    heard: [0:11] agent "goodbye."' in lines


def test_score_json_carries_id_verdict_evidence(tmp_path: Path) -> None:
    build_store(tmp_path)
    result = runner.invoke(app, ["score", ID["c5"], "--json"], env={"CALLQA_DB": str(tmp_path / "callqa.duckdb")})
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert (doc["agent_id"], doc["team"], doc["started_at"]) == ("A2", "T1", "2025-02-18T15:00:00")
    (card,) = doc["scorecards"]
    assert (card["total"], card["band"], card["veto"], card["needs_review"]) == (100.0, "优秀", False, True)
    assert [(i["id"], i["verdict"]) for i in card["items"]] == [("greeting", "uncertain"), ("closing", "pass")]
    closing = card["items"][1]["evidence"][0]
    assert (closing["role"], closing["text"], closing["start"]) == ("agent", "Anything else?", 10.0)


def test_score_errors_are_one_line(tmp_path: Path) -> None:
    store, _ = build_store(tmp_path)
    broken = SourceFile("/calls/broken.wav", "f" * 64, 10, 0.0)
    store.save_failure("r1", CallFailure(path=broken.path, stage="decode", reason="not audio", sha256=broken.sha256),
                       broken)
    db = str(tmp_path / "callqa.duckdb")
    cases = {
        ("score", "ffffffff", "--db", db): "failed and has no scorecard: not audio",
        ("score", "--db", db): "give either a CALL_ID",
        ("score", "zzzzzzzz", "--db", db): "no call matches 'zzzzzzzz'",
        ("score", ID["z1"][:10], "--db", db): "has no scorecard yet",
        ("score", "c1", "--db", str(tmp_path / "none.duckdb")): "no database here yet",
    }
    for args, message in cases.items():
        result = runner.invoke(app, list(args))
        assert result.exit_code == 1 and message in result.output, (args, result.output)


def test_agent_text_and_json(tmp_path: Path) -> None:
    build_store(tmp_path)
    db = str(tmp_path / "callqa.duckdb")
    result = runner.invoke(app, ["agent", "A1", "--db", db])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:3] == ["Agent A1 — 2025-01-29 to 2025-02-25, compared with team T1",
                         "3 calls, mean 66.67 (team 80 over 5 calls); needs review 0%",
                         "Trend: 50 in 2025-W09 vs 75 in 2025-W08 (-25)"]
    assert "  2025-W08       2     75  83.33     0%     —     —      —     —     —     —" in lines
    assert "Customer emotion: no call has an emotion summary" in lines
    items = lines[lines.index("Items, worst first (pass rate = pass / (pass + fail)):") + 2 :]
    assert [line.split()[0] for line in items] == ["closing", "greeting"]
    doc = json.loads(runner.invoke(app, ["agent", "A2", "--days", "14", "--json", "--db", db]).output)
    assert (doc["calls"], doc["needs_review_share"], doc["team"]) == (2, 0.5, "T1")
    assert runner.invoke(app, ["agent", "nobody", "--db", db]).exit_code == 1


def test_agent_shows_emotion_beside_the_team(tmp_path: Path) -> None:
    with_emotion(tmp_path)
    db = str(tmp_path / "callqa.duckdb")
    result = runner.invoke(app, ["agent", "A1", "--db", db])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[3:6] == [
        "Angry customer: 50% of 2 calls with customer speech (team 67% of 3)",
        "Ended calmer: 50% of 2 calls whose customer was upset at the start, anger ≥ 0.4 (team 33% of 3)",
        "Agent negative tone: 50% of 2 calls (team 50% of 4)"]
    assert "  2025-W09       1     50     75     0%     —  100%      —    0%     —    0%" in lines
    assert "  2025-02-18     1     50     75     0%    0%    0%     0%    0%  100%  100%" in lines
    doc = json.loads(runner.invoke(app, ["agent", "A1", "--json", "--db", db]).output)
    assert (doc["emotion"]["calmer_share"], doc["team_emotion"]["calmer_share"]) == (0.5, 0.333)
    assert doc["weeks"][1]["team_emotion"]["negative_tone_share"] == 0.667


def test_dry_run_writes_nothing_and_reports_the_flip(tmp_path: Path) -> None:
    build_store(tmp_path)
    db = tmp_path / "callqa.duckdb"
    before = _digest(db)
    result = runner.invoke(app, ["rescore", "--checklist", str(write_v2(tmp_path)), "--dry-run", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert _digest(db) == before
    lines = result.output.splitlines()
    assert lines[1:3] == ["Verdicts: pass 6, fail 5, n/a 0, uncertain 1", "1 call(s) would change"]
    assert f"  {ID['c1'][:12]}  A1           mini_en         100 → 50     1 flip(s)" in lines
    assert "  A1           1/3 calls change, mean 66.67 → 50 (-16.67)" in lines
    assert "  greeting: pass → fail  1" in lines
    assert f'  {ID["c1"][:12]} greeting: pass → fail at 0:01 "Hello, this is Sam from support."' in lines
    doc = json.loads(runner.invoke(app, ["rescore", "--checklist", str(write_v2(tmp_path)), "--dry-run", "--json",
                                         "--db", str(db)]).output)  # fmt: skip
    assert (doc["written"], doc["scored"], doc["unscored"]) == (None, 6, 1)
    assert doc["flips"] == [{"id": "greeting", "before": "pass", "after": "fail", "calls": 1}]
    assert _digest(db) == before


def test_rescore_writes_and_keeps_the_old_scorecards(tmp_path: Path) -> None:
    store, _ = build_store(tmp_path)
    db = str(tmp_path / "callqa.duckdb")
    result = runner.invoke(app, ["rescore", "--checklist", str(write_v2(tmp_path)), "--db", db])
    assert result.exit_code == 0, result.output
    assert "1 call(s) changed; 6 scorecard(s) written (old ones kept, superseded)" in result.output
    assert [(h["checklist_version"], h["is_current"]) for h in store.scorecard_history(ID["c1"])] == [
        ("2", True), ("1", False)]
    shown = runner.invoke(app, ["score", ID["c1"][:8], "--db", db]).output
    assert "Score 50/100" in shown and "mini_en v2" in shown


def test_an_invalid_checklist_is_refused_whole(tmp_path: Path) -> None:
    build_store(tmp_path)
    db = tmp_path / "callqa.duckdb"
    before = _digest(db)
    bad = tmp_path / "bad.yaml"
    bad.write_text(write_v2(tmp_path).read_text(encoding="utf-8").replace("phrases: [anything", "phrasez: [anything"),
                   encoding="utf-8")
    result = runner.invoke(app, ["rescore", "--checklist", str(bad), "--db", str(db)])
    assert result.exit_code == 1
    assert f"{bad}:38:13: error: unknown key 'phrasez'" in result.output, result.output
    assert _digest(db) == before


def test_every_command_has_help() -> None:
    for command in ("score", "agent", "rescore"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "--db" in result.output, command
