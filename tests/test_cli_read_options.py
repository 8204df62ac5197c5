"""One set of read options (--sheet, --map, --encoding, --unit, --max-rows) for every command that reads an export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from budget.cli import app, read_options
from budget.problems import BudgetError

runner = CliRunner()
ROWS = [("性別平等專案小組外聘委員出席費", 60), ("性別意識培力課程講座鐘點費", 40), ("辦公用品及文具", 1234)]


def run(*args, **kwargs):
    return runner.invoke(app, [str(a) for a in args], **kwargs)


def workbook(path: Path, header=("摘要", "預算數"), sheets=("封面", "明細")) -> Path:
    """A tiny .xlsx whose data sit on the last sheet under a header the aliases may not know."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    for name in sheets[:-1]:
        book.add_worksheet(name).write_string(0, 0, "封面")
    sheet = book.add_worksheet(sheets[-1])
    sheet.write_row(0, 0, ["116年度"])
    sheet.write_row(1, 0, list(header))
    for i, (text, amount) in enumerate(ROWS, start=2):
        sheet.write_string(i, 0, text)
        sheet.write_number(i, 1, amount)
    book.close()
    return path


def test_read_options_turns_the_command_line_into_read_options() -> None:
    options = read_options("明細", ["description=摘要", "amount=預算數"], "cp950", "仟元", 10)
    assert (options.sheet, options.encoding, options.unit, options.max_rows) == ("明細", "cp950", "千元", 10)
    assert options.mapping == {"description": "摘要", "amount": "預算數"}
    with pytest.raises(BudgetError) as caught:
        read_options(None, ["nonsense"], None, None, 10)
    assert caught.value.problems[0].code == "usage"
    with pytest.raises(BudgetError) as caught:
        read_options(None, [], None, "公斤", 10)
    assert caught.value.problems[0].code == "unit-unknown"


def test_check_file_reads_big5_without_being_told(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_bytes(("說明,金額\n" + "".join(f"{t},{a}\n" for t, a in ROWS)).encode("cp950"))
    result = run("check", "--file", path, "--json")
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.stdout)
    assert [d["description"] for d in data] == [t for t, _ in ROWS]
    assert [d["row"] for d in data] == [2, 3, 4]
    assert data[0]["category"] == "expert-attendance-fee"


def test_check_file_reads_any_export_with_sheet_and_map(tmp_path: Path) -> None:
    path = workbook(tmp_path / "lines.xlsx", header=("品名摘要", "預算數"))
    bare = run("check", "--file", path)
    assert bare.exit_code == 2  # the header is unknown without --map
    result = run("check", "--file", path, "--sheet", "明細", "--map", "description=品名摘要", "--map", "amount=預算數",
                 "--unit", "千元", "--json")
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.stdout)
    assert [(d["sheet"], d["row"], d["unit"]) for d in data] == [("明細", 3, "千元"), ("明細", 4, "千元"), ("明細", 5, "千元")]
    stdin = runner.invoke(app, ["check", "--file", "-", "--map", "description=品名摘要", "--json"],
                          input=path.read_bytes())
    assert stdin.exit_code in (0, 1), stdin.output
    assert [d["description"] for d in json.loads(stdin.stdout)] == [t for t, _ in ROWS]


def test_check_file_row_limit(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text("說明,金額\n" + "".join(f"{t},{a}\n" for t, a in ROWS), encoding="utf-8")
    result = run("check", "--file", path, "--max-rows", "2")
    assert result.exit_code == 2 and "--max-rows" in result.output


def test_classify_and_report_take_the_same_options(tmp_path: Path) -> None:
    path = workbook(tmp_path / "116年度預算.xlsx", header=("品名摘要", "預算數"))
    out = tmp_path / "out.xlsx"
    result = run("classify", path, "--sheet", "明細", "--map", "description=品名摘要", "-o", out, "--json")
    assert result.exit_code in (0, 1), result.output
    assert len(json.loads(result.stdout)["lines"]) == 3
    report = run("report", path, "--sheet", "明細", "--map", "description=品名摘要", "--input-unit", "千元",
                 "--year", "116", "-o", tmp_path / "report.xlsx", "--json")
    assert report.exit_code in (0, 1), report.output
    data = json.loads(report.stdout)
    assert data["report_year"] == "116"
    unmapped = run("report", path, "--year", "116", "-o", tmp_path / "r2.xlsx")
    assert unmapped.exit_code == 2 and not (tmp_path / "r2.xlsx").exists()


def test_check_against_reads_the_new_export_with_the_options(tmp_path: Path) -> None:
    last_csv = tmp_path / "115.csv"
    last_csv.write_text("說明,金額\n" + "".join(f"{t},{a}\n" for t, a in ROWS[:2]), encoding="utf-8")
    last = tmp_path / "115.性別預算.xlsx"
    assert run("classify", last_csv, "-o", last).exit_code in (0, 1)
    new = workbook(tmp_path / "116.xlsx", header=("品名摘要", "預算數"))
    assert run("check", "--against", last, new).exit_code == 2
    result = run("check", "--against", last, new, "--map", "description=品名摘要", "--sheet", "明細", "--json")
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.stdout)
    assert any(e["description"] == "辦公用品及文具" for e in data["new"])
