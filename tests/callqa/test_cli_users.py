"""`callqa users …`, `callqa rules test --db` with regression examples, `callqa rules regressions …`, demo accounts."""

from __future__ import annotations

from pathlib import Path

import typer
from ruamel.yaml import YAML
from typer.testing import CliRunner

from callqa import cli_rules, cli_users
from scorecards.people.access import UserRole, Viewer
from scorecards.people.accounts import authenticate, get_user
from scorecards.people.regressions import regression_examples
from scorecards.people.review import review_verdict
from scorecards.store.database import Store
from tests._scores import build_store, write_v2

runner = CliRunner()
app = typer.Typer()
cli_rules.register(app)
cli_users.register(app)
QA = Viewer("qa", UserRole.QA)


def _db(tmp_path: Path) -> str:
    return str(tmp_path / "callqa.duckdb")


def test_users_add_list_passwd_disable(tmp_path: Path) -> None:
    db = _db(tmp_path)
    result = runner.invoke(app, ["users", "add", "Sup1", "--role", "supervisor", "--team", "T1", "--team", "T2",
                                 "--db", db], input="Long-enough-pw\nLong-enough-pw\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"added {'sup1':<16} {'supervisor':<10} {'teams T1, T2':<32} browser"
    store = Store(db)
    assert authenticate(store, "sup1", "Long-enough-pw") is not None
    result = runner.invoke(app, ["users", "add", "ana", "--role", "agent", "--agent-id", "A2", "--language", "zh",
                                 "--generate", "--db", db])  # fmt: skip
    assert result.exit_code == 0, result.output
    password = result.output.splitlines()[-1].split()[1]
    assert authenticate(store, "ana", password) is not None
    result = runner.invoke(app, ["users", "list", "--db", db])
    assert result.output.splitlines() == [f"{'ana':<16} {'agent':<10} {'agent A2':<32} zh",
                                          f"{'sup1':<16} {'supervisor':<10} {'teams T1, T2':<32} browser"]
    result = runner.invoke(app, ["users", "passwd", "ana", "--generate", "--db", db])
    assert result.exit_code == 0, result.output
    new = result.output.splitlines()[-1].split()[1]
    assert authenticate(store, "ana", password) is None and authenticate(store, "ana", new) is not None
    assert runner.invoke(app, ["users", "disable", "ana", "--db", db]).output == "disabled ana\n"
    user = get_user(store, "ana")
    assert user is not None and (user.disabled, user.session_epoch) == (True, 2)
    assert runner.invoke(app, ["users", "list", "--db", db]).output.splitlines()[0].endswith("zh        (disabled)")


def test_users_errors(tmp_path: Path) -> None:
    db = _db(tmp_path)
    result = runner.invoke(app, ["users", "add", "sam", "--role", "agent", "--generate", "--db", db])
    assert (result.exit_code, result.output.strip()) == (
        1, "error: agent_id: an agent account needs the agent id whose calls it sees (--agent-id)")
    result = runner.invoke(app, ["users", "add", "sam", "--role", "qa", "--db", db], input="short\nshort\n")
    assert result.exit_code == 1 and result.output.splitlines()[-1] == "error: password: at least 10 characters, please"
    typed = "Long-enough-pw\nother-pw-123\nLong-enough-pw\nLong-enough-pw\n"  # a mismatch is asked again
    result = runner.invoke(app, ["users", "add", "sam", "--role", "qa", "--db", db], input=typed)
    assert result.exit_code == 0 and "do not match" in result.output
    assert runner.invoke(app, ["users", "passwd", "ghost", "--generate", "--db", db]).output == (
        "error: no account 'ghost' (`callqa users list`)\n")


def test_rules_test_runs_the_stored_regression_examples(tmp_path: Path) -> None:
    store, _ = build_store(tmp_path)
    checklist = str(tmp_path / "v1.yaml")
    result = runner.invoke(app, ["rules", "test", checklist, "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-2:] == [
        f"no database at {tmp_path / 'none.duckdb'}: inline examples only (--db names one)", "8 passed, 0 failed"]
    with store.reading() as con:
        (card,) = con.execute("SELECT s.scorecard_id FROM scorecards s JOIN calls c ON c.call_id = s.call_id "
                              "WHERE c.file_name = 'c2.wav'").fetchone()  # type: ignore[misc]
    review_verdict(store, QA, card, 1, decision="overturn", verdict="pass", comment="goodbye cut off")
    [ex] = regression_examples(store)
    result = runner.invoke(app, ["rules", "test", checklist, "--db", str(store.path)])
    assert result.exit_code == 1
    assert result.output.splitlines()[-3:] == [
        f"regression:{ex.example_id} (mini_en/closing, call {ex.call_id[:12]}): expected pass, got fail "
        "(missed: the agent says 'anything else', 'goodbye' in the last 3 utterances); reviewer: goodbye cut off",
        f"mini_en: 1 regression example(s) from {store.path}",
        "8 passed, 1 failed"]


def test_regressions_export_and_list(tmp_path: Path) -> None:
    store, _ = build_store(tmp_path)
    db = str(store.path)
    assert runner.invoke(app, ["rules", "regressions", "export", "--db", db]).output.splitlines()[-1] == "{}"
    with store.reading() as con:
        (card,) = con.execute("SELECT s.scorecard_id FROM scorecards s JOIN calls c ON c.call_id = s.call_id "
                              "WHERE c.file_name = 'c3.wav'").fetchone()  # type: ignore[misc]
    out = review_verdict(store, QA, card, 0, decision="overturn", verdict="pass", comment="greeted")
    result = runner.invoke(app, ["rules", "regressions", "export", "--checklist", "mini_en", "--db", db])
    assert result.exit_code == 0, result.output
    doc = YAML(typ="safe").load(result.output)
    [example] = doc["mini_en"]["greeting"]["pass"]
    assert example["transcript"][0] == {"role": "agent", "start": 1.0, "end": 4.0, "text": "Yes? Account number?",
                                        "confidence": 0.95, "role_confidence": 0.95}
    assert example["note"].startswith(f"regression:{out.example_id} from review:{out.review_id}, call ")
    assert runner.invoke(app, ["rules", "regressions", "export", "--checklist", "zh", "--db", db]).output.endswith(
        "{}\n")
    listed = runner.invoke(app, ["rules", "regressions", "list", "--db", db]).output.splitlines()
    assert listed == [f"regression:{out.example_id}  mini_en/greeting  fail → pass  3 utterance(s), "
                      f"review:{out.review_id}, by qa", "1 regression example(s)"]


def test_demo_users(tmp_path: Path) -> None:
    store, _ = build_store(tmp_path)
    lines = cli_users.create_demo_users(store)
    assert lines == ["  user        password                 sees",
                     "  admin       callqa-demo-admin        every call",
                     "  qa          callqa-demo-qa           every call",
                     "  supervisor  callqa-demo-supervisor   teams T1, T2",
                     "  agent       callqa-demo-agent        agent ChrisL"]
    assert cli_users.create_demo_users(store) == lines  # made once
    for role in ("admin", "qa", "supervisor", "agent"):
        user = authenticate(store, role, f"callqa-demo-{role}")
        assert user is not None and user.role == UserRole(role)


def test_regressions_run_against_the_current_checklist_file(tmp_path: Path) -> None:
    store, _ = build_store(tmp_path)
    with store.reading() as con:
        (card,) = con.execute("SELECT s.scorecard_id FROM scorecards s JOIN calls c ON c.call_id = s.call_id "
                              "WHERE c.file_name = 'c1.wav'").fetchone()  # type: ignore[misc]
    # c1 greets with "Hello": v1 passes it, the reviewer says a bare hello is no greeting
    review_verdict(store, QA, card, 0, decision="overturn", verdict="fail", comment="hello alone")
    [ex] = regression_examples(store)
    db = str(store.path)
    result = runner.invoke(app, ["rules", "test", str(tmp_path / "v1.yaml"), "--db", db])
    assert result.exit_code == 1 and f"{ex.name} (mini_en/greeting, call {ex.call_id[:12]}): expected fail, got pass" \
        in result.output
    # v2 no longer takes "hello": the example made on v1 now passes against the new file
    result = runner.invoke(app, ["rules", "test", str(write_v2(tmp_path)), "--db", db])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-3:] == [f"{ex.name} (mini_en/greeting, call {ex.call_id[:12]}): ok, fail",
                                               f"mini_en: 1 regression example(s) from {db}", "9 passed, 0 failed"]
    # an item renamed since: its examples are skipped, said so, not failed
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text((tmp_path / "v1.yaml").read_text(encoding="utf-8").replace("id: greeting", "id: welcome"),
                       encoding="utf-8")  # fmt: skip
    result = runner.invoke(app, ["rules", "test", str(renamed), "--db", db])
    assert result.exit_code == 0, result.output
    assert f"{ex.name}: skipped: checklist mini_en has no item 'greeting'" in result.output.splitlines()
