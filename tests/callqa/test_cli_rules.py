"""`callqa rules check`, `callqa rules test` and `callqa score --transcript` through the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from callqa.cli_rules import app
from rules.loader import CHECKLIST_DIR

HERE = Path(__file__).parents[1] / "rules"
runner = CliRunner()


def test_check_accepts_the_shipped_checklists() -> None:
    result = runner.invoke(app, ["rules", "check", str(CHECKLIST_DIR)])
    assert result.exit_code == 0 and result.output.strip() == "ok: 2 checklist(s), 28 items"


def test_check_reports_every_broken_file_and_fails() -> None:
    result = runner.invoke(app, ["rules", "check", str(HERE / "broken")])
    assert result.exit_code == 1
    assert "unknown_key.yaml:21:13: error: unknown key 'treshold' — did you mean 'threshold'?" in result.output
    assert "   21 |             treshold: 80\n" in result.output
    assert "section_weights.yaml:9:1: error: section weights add up to 90" in result.output
    assert "nothing was applied" in result.output


def test_test_command_prints_per_item_counts() -> None:
    result = runner.invoke(app, ["rules", "test", str(CHECKLIST_DIR / "service_zh.yaml")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["checklist", "item", "TP", "FP", "FN", "TN", "other", "todo"]
    assert "service_zh     no_deflection                4   0   0   4    0/0     0" in lines
    assert lines[-1].endswith(" passed, 0 failed")


def test_test_command_fails_on_an_unexpected_result(tmp_path: Path) -> None:
    text = (HERE / "duplicate_ids" / "first.yaml").read_text(encoding="utf-8")
    # a must-fail example the item passes: a false negative
    path = tmp_path / "wrong.yaml"
    path.write_text(text.replace('- ["AGENT: What?"]', '- ["AGENT: Hello, what?"]'), encoding="utf-8")
    result = runner.invoke(app, ["rules", "test", str(path)])
    assert result.exit_code == 1
    assert f"{path}:28: greeting: expected fail, got pass" in result.output
    assert "same_id        greeting                     1   0   1   2    0/0     0" in result.output
    assert result.output.splitlines()[-1] == "3 passed, 1 failed"


def test_score_json_output() -> None:
    result = runner.invoke(app, ["score", "--transcript", str(HERE / "real_call_en.json"), "--json"])
    assert result.exit_code == 0, result.output
    card = json.loads(result.output)
    assert (card["total"], card["band"], card["veto"], card["needs_review"]) == (83.0, "良好", False, False)
    assert card["checklist"]["id"] == "service_en" and len(card["checklist"]["hash"]) == 64
    items = {i["id"]: i for i in card["items"]}
    assert items["greeting"]["verdict"] == "pass" and items["greeting"]["points"] == 10
    deflection = items["no_deflection"]
    assert deflection["verdict"] == "fail" and deflection["message"].startswith("You sent the customer")
    assert [(e["text"], e["start"]) for e in deflection["evidence"]][:2] == [("we don't handle", 153.94),
                                                                            ("giving them a call", 210.91)]  # fmt: skip


def test_score_text_output_for_a_plain_text_mandarin_transcript(tmp_path: Path) -> None:
    path = tmp_path / "call.txt"
    path.write_text("坐席：喂，说吧。\n客户：我的宽带断了，你们太过分了！\n坐席：这个不归我们管，你自己去问物业。\n客户：好吧。\n",
                    encoding="utf-8")  # fmt: skip
    result = runner.invoke(app, ["score", "--transcript", str(path)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "checklist service_zh v1" in out
    assert "Note: the transcript had no times: a time shown is the line number × 3 s." in out
    assert '✗ 不推诿 (no_deflection, 10 points)\n    heard: [0:06] agent "不归我们管"\n' in out
    assert '    heard: [0:06] agent "你自己去问"\n' in out
    assert '✗ 15 秒内问候客户 (greeting, 10 points)\n    looked in: [0:00–0:09] agent, who said "喂，说吧。"' in out
    assert "请主动承接" in out  # what to say instead


def test_score_reports_a_bad_transcript_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("AGENT: hello\nSPEAKER: hi\n", encoding="utf-8")
    result = runner.invoke(app, ["score", "--transcript", str(path)])
    assert result.exit_code == 1
    assert f"{path}:2: expected 'AGENT: …' or 'CUSTOMER: …'" in result.output


def test_every_command_has_help() -> None:
    for args in (["rules", "check", "--help"], ["rules", "test", "--help"], ["score", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage" in result.output
