"""``callqa rules eval``: labelled calls made from ``callqa transcript --json`` output, figures and the gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callqa.cli import app
from tests._scores import CALLS, build_store

runner = CliRunner()
ID = {c.name: c.call_id for c in CALLS}
# What a person hears in each call of tests/_scores.py (c5's "Hello" is heard badly by the recogniser).
HEARD = {
    "c1": {"greeting": "pass", "closing": "pass"},
    "c2": {"greeting": "pass", "closing": "fail"},
    "c3": {"greeting": "fail", "closing": "pass"},
    "c4": {"greeting": "pass", "closing": "pass"},
    "c5": {"greeting": "pass", "closing": "pass"},
    "c6": {"greeting": "fail", "closing": "fail"},
}


def _folder(tmp_path: Path, labels: dict[str, dict[str, str]]) -> Path:
    """The store's English calls as `callqa transcript --json` prints them, each with its labels file."""
    build_store(tmp_path)
    folder = tmp_path / "labelled"
    folder.mkdir()
    for name, items in labels.items():
        res = runner.invoke(app, ["transcript", ID[name][:10], "--db", str(tmp_path / "callqa.duckdb"), "--json"])
        assert res.exit_code == 0, res.output
        (folder / f"{name}.json").write_text(res.stdout, encoding="utf-8")
        (folder / f"{name}.labels.yaml").write_text("".join(f"{k}: {v}\n" for k, v in items.items()), "utf-8")
    return folder


def _eval(folder: Path, *extra: str) -> tuple[int, str]:
    res = runner.invoke(app, ["rules", "eval", str(folder), "--checklist", str(folder.parent / "v1.yaml"), *extra])
    return res.exit_code, res.output


def test_agreement_uncertain_share_and_no_false_deduction(tmp_path: Path) -> None:
    code, out = _eval(_folder(tmp_path, HEARD), "--json")
    assert code == 0, out
    doc = json.loads(out)
    assert (doc["calls"], doc["pairs"], doc["unlabelled"]) == (6, 12, 0)
    figures = {f["item"]: f for f in doc["items"]}
    greeting, closing = figures["greeting"], figures["closing"]
    # c5's greeting was heard with confidence 0.3: uncertain, sent to review, not a deduction
    assert (greeting["pairs"], greeting["decided"], greeting["agreed"], greeting["uncertain"]) == (6, 5, 5, 1)
    assert (greeting["fails"], greeting["false_deductions"], greeting["fail_precision"]) == (2, 0, 1.0)
    assert greeting["uncertain_share"] == pytest.approx(1 / 6)
    assert (closing["decided"], closing["agreed"], closing["fails"], closing["fail_precision"]) == (6, 6, 2, 1.0)
    assert doc["disagreements"] == []


def test_a_false_deduction_fails_the_gate_and_is_quoted(tmp_path: Path) -> None:
    labels = {**HEARD, "c2": {"greeting": "pass", "closing": "unsure"}}  # the labeller could not decide
    folder = _folder(tmp_path, labels)
    code, out = _eval(folder)
    assert code == 1
    assert "fail precision below 0.95: mini_en/closing" in out
    where = f"{folder / 'c2.labels.yaml'}:2"
    assert f"{where}: c2 closing: labelled unsure, verdict fail (FALSE DEDUCTION)" in out
    assert '    looked in: [0:01–0:12] agent, who said "Thank you for calling, this is Sam."' in out
    # the gate is the author's: 0.5 (one fail of two is right) passes a gate of 0.5
    assert _eval(folder, "--min-fail-precision", "0.5")[0] == 0
    doc = json.loads(_eval(folder, "--json", "--min-fail-precision", "0.5")[1])
    closing = next(f for f in doc["items"] if f["item"] == "closing")
    assert (closing["fail_precision"], closing["below_gate"], closing["decided"]) == (0.5, False, 5)
    assert [(d["call"], d["item"], d["false_deduction"]) for d in doc["disagreements"]] == [("c2", "closing", True)]


def test_a_missed_fail_is_a_disagreement_but_not_a_deduction(tmp_path: Path) -> None:
    labels = {**HEARD, "c1": {"greeting": "fail", "closing": "pass"}}  # the engine passed what the label fails
    code, out = _eval(_folder(tmp_path, labels), "--json")
    doc = json.loads(out)
    greeting = next(f for f in doc["items"] if f["item"] == "greeting")
    assert code == 0 and (greeting["agreed"], greeting["decided"], greeting["false_deductions"]) == (4, 5, 0)
    assert [(d["call"], d["label"], d["verdict"]) for d in doc["disagreements"]] == [("c1", "fail", "pass")]


def test_text_transcripts_take_the_shipped_checklist_of_their_language(tmp_path: Path) -> None:
    folder = tmp_path / "text"
    folder.mkdir()
    zh = ["AGENT: 您好，很高兴为您服务，请问有什么可以帮您？", "CUSTOMER: 我想查一下话费。",
          "AGENT: 好的，已经帮您查到了。", "AGENT: 请问还有其他可以帮您的吗？", "CUSTOMER: 没有了，谢谢。",
          "AGENT: 感谢您的来电，再见。"]  # fmt: skip
    (folder / "zh1.txt").write_text("\n".join(zh) + "\n", "utf-8")
    (folder / "zh1.labels.yaml").write_text("greeting: pass\nclosing: pass\n", "utf-8")
    en = ["AGENT: Yeah?", "CUSTOMER: My card is blocked.", "AGENT: Call the bank then."]
    (folder / "en1.txt").write_text("\n".join(en) + "\n", "utf-8")
    (folder / "en1.labels.yaml").write_text("greeting: fail\nno_deflection: fail\n", "utf-8")
    res = runner.invoke(app, ["rules", "eval", str(folder), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    got = {(f["checklist"], f["item"]): (f["agreed"], f["decided"]) for f in doc["items"]}
    assert got == {("service_en", "greeting"): (1, 1), ("service_en", "no_deflection"): (1, 1),
                   ("service_zh", "greeting"): (1, 1), ("service_zh", "closing"): (1, 1)}  # fmt: skip
    assert doc["unlabelled"] > 0
    table = runner.invoke(app, ["rules", "eval", str(folder)]).output
    assert "service_zh (zh): 1 labelled call(s)" in table and "service_en (en): 1 labelled call(s)" in table


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a.txt": "AGENT: hi\n"}, "a.txt: no labels file a.labels.yaml beside it"),
        ({"a.txt": "AGENT: hi\n", "a.labels.yaml": "greeting: pass\n", "b.labels.yaml": "greeting: pass\n"},
         "b.labels.yaml: labels without a transcript b.json or b.txt"),
        ({"a.txt": "AGENT: hi\n", "a.labels.yaml": "greeting: pass\nclosing: uncertain\n"},
         "a.labels.yaml:2: closing: label 'uncertain' is not one of pass, fail, n/a, unsure ('unsure' is the label"),
        ({"a.txt": "AGENT: hi\n", "a.labels.yaml": "greeting: pass\n\ngreting: fail\n"},
         "a.labels.yaml:3: greting: no such item in checklist service_en (its items: greeting,"),
        ({"a.txt": "AGENT: hi\n", "a.labels.yaml": "- greeting\n"}, "a.labels.yaml:1: expected a mapping"),
        ({"a.txt": "AGENT: hi\n", "a.labels.yaml": ""}, "a.labels.yaml: empty"),
        ({"a.txt": "AGENT: hi\n", "a.labels.yaml": "greeting: [pass\n"}, "a.labels.yaml:2: not readable YAML"),
        ({"a.txt": "NARRATOR: hi\n", "a.labels.yaml": "greeting: pass\n"}, "a.txt:1"),
        ({}, "no transcripts (*.json or *.txt) to evaluate"),
    ],
)  # fmt: skip
def test_bad_folders_are_refused_naming_the_file_and_line(tmp_path: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["rules", "eval", str(tmp_path)])
    assert res.exit_code == 1
    assert message in res.output.replace("\n", " ") or message in res.output, res.output


def test_a_path_that_is_not_a_folder_is_refused(tmp_path: Path) -> None:
    res = runner.invoke(app, ["rules", "eval", str(tmp_path / "missing")])
    assert res.exit_code == 1 and "not a folder" in res.output
