"""`gender-budget check` and `rules show/test`: text and JSON output, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from budget.check import check_lines, lines_from_args
from budget.cli import app
from budget.rules import parse_rules

runner = CliRunner()

RULES = """\
schema = 1
name = "檢查測試"
unit = "元"

[[category]]
id = "expert-attendance-fee"
name = "性別平等專案小組專家學者出席費"
official_class = 3
goal = "專家學者參與性平小組"
basis = "105年第2次性別平等專案小組會議"
all = [["性別平等專案小組"], ["出席費"]]
shared_with = ["採購評選"]

[[category.example]]
text = "性別平等專案小組外聘委員出席費"
account = "2036 按日按件計資酬金"
amount = 22500
expect = "expert-attendance-fee"
status = "matched"
gender_amount = 22500

[[category.example]]
text = "採購評選委員會出席費"
expect = "none"
"""


@pytest.fixture()
def rules_file(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text(RULES, encoding="utf-8")
    return path


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_check_prints_a_readable_table(rules_file):
    result = run("check", "性別平等專案小組會議外聘委員出席費", "--account", "2036 按日按件計資酬金",
                 "--amount", "22500", "--unit", "元", "-r", rules_file)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "符合" in out and "expert-attendance-fee" in out
    assert "22,500 元" in out
    assert "說明含「性別平等專案小組」" in out
    assert "2036 按日按件計資酬金" in out


def test_check_json_equals_the_library_result(rules_file):
    result = run("check", "性別平等專案小組會議外聘委員出席費", "--account", "2036 按日按件計資酬金",
                 "--amount", "22,500", "--unit", "元", "--json", "-r", rules_file)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["status"] == "matched"
    assert data["category"] == "expert-attendance-fee"
    assert data["amount"] == "22500" and data["gender_amount"] == "22500" and data["unit"] == "元"
    assert data["share_percent"] == "100"
    assert {e["term"] for e in data["evidence"]} == {"性別平等專案小組", "出席費"}
    assert data["also_matched"] == []
    rules = parse_rules(RULES.encode(), str(rules_file))
    line = lines_from_args("性別平等專案小組會議外聘委員出席費", account="2036 按日按件計資酬金",
                           amount="22,500", unit="元", rules=rules)
    assert data == json.loads(json.dumps(check_lines([line], rules)[0].to_dict(), ensure_ascii=False))


def test_review_exits_1_and_unmatched_exits_0(rules_file):
    review = run("check", "性別平等專案小組、採購評選委員出席費", "--amount", "60", "--unit", "千元",
                 "--json", "-r", rules_file)
    assert review.exit_code == 1
    data = json.loads(review.stdout)
    assert data["status"] == "review" and data["gender_amount"] == "60" and data["unit"] == "千元"
    unmatched = run("check", "辦公室文具", "--amount", "100", "-r", rules_file)
    assert unmatched.exit_code == 0
    assert "不符合" in unmatched.output


def test_bad_usage_exits_2(rules_file, tmp_path):
    assert run("check", "文具", "--amount", "1e3", "-r", rules_file).exit_code == 2
    assert run("check", "文具", "--unit", "公斤", "-r", rules_file).exit_code == 2
    assert run("check", "-r", rules_file).exit_code == 2
    bad = tmp_path / "bad.toml"
    bad.write_text(RULES.replace("official_class = 3", "official_class = 7"), encoding="utf-8")
    result = run("check", "文具", "-r", bad)
    assert result.exit_code == 2
    assert "official_class" in result.output and "bad.toml:8" in result.output


def test_check_many_lines_from_csv_file_and_stdin(rules_file, tmp_path):
    csv_text = ("說明,用途別科目,金額\n"
                "性別平等專案小組外聘委員出席費,2036 按日按件計資酬金,\"22,500\"\n"
                "辦公室文具,2054 一般事務費,300\n"
                "性別平等專案小組、採購評選委員出席費,2036 按日按件計資酬金,6000\n")
    path = tmp_path / "lines.csv"
    path.write_bytes(csv_text.encode("cp950"))
    result = run("check", "--file", path, "--encoding", "cp950", "--json", "-r", rules_file)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [d["status"] for d in data] == ["matched", "unmatched", "review"]
    assert [d["row"] for d in data] == [2, 3, 4]
    stdin = runner.invoke(app, ["check", "--file", "-", "--json", "-r", str(rules_file)], input=csv_text)
    assert [d["status"] for d in json.loads(stdin.stdout)] == ["matched", "unmatched", "review"]


def test_check_csv_with_bad_amount_names_the_row(rules_file, tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text("說明,金額\n文具,100\n紙張,NaN\n", encoding="utf-8")
    result = run("check", "--file", path, "-r", rules_file)
    assert result.exit_code == 1  # read as classify reads: the row is named, the others are still decided
    assert "第 3 列" in result.output and "NaN" in result.output and "紙張" in result.output


def test_rules_test_and_show(rules_file, tmp_path):
    result = run("rules", "test", rules_file)
    assert result.exit_code == 0
    assert "2 passed, 0 failed" in result.output
    failing = tmp_path / "f.toml"
    failing.write_text(RULES.replace('expect = "none"', 'expect = "expert-attendance-fee"'), encoding="utf-8")
    result = run("rules", "test", failing)
    assert result.exit_code == 1
    assert "失敗 FAIL" in result.output and "1 passed, 1 failed" in result.output
    shown = run("rules", "show", rules_file, "--json")
    data = json.loads(shown.stdout)
    assert data["name"] == "檢查測試"
    assert data["categories"][0]["id"] == "expert-attendance-fee"
    assert data["categories"][0]["official_class"] == 3
    assert run("rules", "show", rules_file).exit_code == 0


def test_installed_script_and_module_run():
    out = subprocess.run([sys.executable, "-m", "budget", "check", "辦公室文具", "--json"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == "unmatched"
