"""The annual report: figures on a golden multi-year sample, its workbook, configurable columns, the CLI."""

from __future__ import annotations

import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from budget.cli import app
from budget.models import EXCLUDED, MATCHED, REVIEW, TOTAL, UNMATCHED, Decision
from budget.problems import BudgetError
from budget.pipeline import load_inputs, make_report
from budget.outputs.report_workbook import COMPARE_SHEET, EVIDENCE_SHEET, STATS_SHEET, TABLE_SHEET, write_report_workbook
from budget.rules import parse_rules
from test_review import RULES_TOML, line, write_annotated

P1, P2 = "3251011000 資訊管理", "3251012000 資訊推廣"
D = Decimal


def counted(category: str, amount: str, share: int = 100) -> Decision:
    return Decision(MATCHED, category, D(share), D(amount), category)


def year_116():
    """116: five gender lines, one line reviewed to 25 %, one malformed review, one reviewed `none`,
    two ordinary lines and a subtotal row. Amounts in 元; the report is in 千元."""
    return [
        (line("性別平等專案小組會議外聘委員出席費", "22500", plan=P1, account="按日按件計資酬金", code="2036", row=3),
         counted("expert-attendance-fee", "22500"), "", ""),
        (line("辦理性別意識培力課程講座鐘點費", "13400", plan=P1, row=4), counted("gender-training", "13400"), "", ""),
        (line("性別主流化課程講師費", "10500", plan=P1, branch="02 資訊推廣", row=5), counted("gender-training", "10500"), "", ""),
        (line("育嬰留職停薪職務代理人薪資", "480600", plan=P1, account="約聘僱人員待遇", code="1020", row=6),
         counted("parental-leave-substitute", "480600"), "", ""),
        (line("新移民數位課程委辦", "200000", plan=P2, branch="01 數位推廣", account="委辦費", code="2039", row=7),
         counted("new-immigrant-course", "120000", 60), "", ""),
        (line("影印紙及文具", "1000000", plan=P1, account="一般事務費", code="2054", row=8), Decision(UNMATCHED), "", ""),
        (line("電腦設備汰換", "3000000", plan=P2, branch="01 數位推廣", account="資訊軟硬體設備費", code="3030", row=9),
         Decision(UNMATCHED), "", ""),
        (line("專題演講鐘點費", "40000", plan=P1, row=10), Decision(REVIEW, "gender-training", D(100), D(40000), "gender-training"),
         "gender-training 25%", "四場中一場為性別主題"),
        (line("講座鐘點費", "30000", plan=P1, row=11), Decision(REVIEW, None, None, D(0), "ambiguous"), "gender-training 140%", ""),
        (line("性別平等宣導品", "60000", plan=P1, row=12), Decision(REVIEW, "gender-training", D(100), D(60000), "gender-training"),
         "none", "宣導品非培力"),
        (line("合計", "4857000", plan=P1, row=13, kind=TOTAL), Decision(EXCLUDED, rule="subtotal-row"), "", ""),
    ]


def year_115():
    return [
        (line("性別平等專案小組會議外聘委員出席費", "18000", plan=P1, account="按日按件計資酬金", code="2036", row=3, year=115),
         counted("expert-attendance-fee", "18000"), "", ""),
        (line("辦理性別意識培力課程講座鐘點費", "12000", plan=P1, row=4, year=115), counted("gender-training", "12000"), "", ""),
        (line("育嬰留職停薪職務代理人薪資", "450000", plan=P1, account="約聘僱人員待遇", code="1020", row=6, year=115),
         counted("parental-leave-substitute", "450000"), "", ""),
        (line("性別統計分析委辦", "50000", plan=P2, branch="01 數位推廣", account="委辦費", code="2039", row=7, year=115),
         counted("gender-statistics", "50000"), "", ""),
        (line("影印紙及文具", "3470000", plan=P1, account="一般事務費", code="2054", row=8, year=115), Decision(UNMATCHED), "", ""),
    ]


def year_114():
    return [
        (line("性別平等專案小組會議外聘委員出席費", "15000", plan=P1, account="按日按件計資酬金", code="2036", row=3, year=114),
         counted("expert-attendance-fee", "15000"), "", ""),
        (line("影印紙及文具", "2985000", plan=P1, account="一般事務費", code="2054", row=4, year=114), Decision(UNMATCHED), "", ""),
    ]


@pytest.fixture(scope="module")
def rules():
    return parse_rules(RULES_TOML.encode(), "test.toml")


@pytest.fixture()
def books(tmp_path):
    return [write_annotated(tmp_path / f"{y}.性別預算.xlsx", rows())
            for y, rows in ((116, year_116), (115, year_115), (114, year_114))]


@pytest.fixture()
def golden(books, rules):
    return make_report(books, rules).to_dict()


# --- figures -----------------------------------------------------------------------------------

def test_years_totals_and_shares(golden):
    assert golden["unit"] == "千元" and golden["report_year"] == "116"
    assert list(golden["years"]) == ["114", "115", "116"]
    y116 = golden["years"]["116"]
    # budget: every line but the subtotal row = 4,857,000 元; gender: 22,500 + 13,400 + 10,000 (25 % of
    # 40,000) + 10,500 + 480,600 + 120,000 (60 % of 200,000) = 657,000 元.
    assert (y116["budget_total"], y116["gender_total"], y116["gender_share_percent"]) == ("4857", "657", "13.53")
    # 22.5 千元 rounds half up to 23 (half-even would give 22); 33.9 → 34; 480.6 → 481.
    assert y116["by_category"] == {"gender-training": "34", "expert-attendance-fee": "23",
                                   "parental-leave-substitute": "481", "new-immigrant-course": "120"}
    assert y116["by_class"] == {"2": "120", "3": "56", "4": "481"}
    assert y116["by_account"]["2036 按日按件計資酬金"] == "23"
    assert y116["pending_review"]["lines"] == 1  # the malformed review leaves its line waiting
    y115 = golden["years"]["115"]
    assert (y115["budget_total"], y115["gender_total"], y115["gender_share_percent"]) == ("4000", "530", "13.25")
    assert y115["by_class"] == {"3": "80", "4": "450"}
    assert golden["years"]["114"]["gender_total"] == "15"


def test_items_are_grouped_by_class_with_plan_shares(golden):
    items = [(i["class"], i["category"], i["branch"], i["amount"], i["amount_exact"], i["plan_share_percent"])
             for i in golden["items"]]
    assert items == [
        (2, "new-immigrant-course", "01 數位推廣", "120", "120", "3.75"),  # 120,000 / 3,200,000
        (3, "gender-training", "01 一般行政", "23", "23.4", "1.41"),       # (13,400 + 10,000) / 1,657,000
        (3, "gender-training", "02 資訊推廣", "11", "10.5", "0.63"),       # 10.5 → 11
        (3, "expert-attendance-fee", "01 一般行政", "23", "22.5", "1.36"),
        (4, "parental-leave-substitute", "01 一般行政", "481", "480.6", "29"),
    ]
    training = golden["items"][1]
    assert training["lines"] == 2 and training["descriptions"] == ["辦理性別意識培力課程講座鐘點費", "專題演講鐘點費"]
    assert training["review_notes"] == ["四場中一場為性別主題"]
    assert "覆核：計入 25%" in training["estimate"]
    assert training["item"] == f"{P1}／01 一般行政／性別意識培力課程"
    assert training["details"] == ["辦理性別意識培力課程講座鐘點費", "專題演講鐘點費（覆核：計入 25%；四場中一場為性別主題）"]
    assert golden["items"][0]["estimate"] == "依比例 60%"
    assert golden["items"][0]["goal"] == "縮短新移民數位落差"
    assert all(i["year"] == "116" for i in golden["items"])


def test_one_rounding_note_per_year_with_where_for_machines(golden):
    rounding = [n for n in golden["notes"] if n["scope"] == "四捨五入"]
    assert [n["year"] for n in rounding] == ["116"]  # 115 and 114 are whole 千元 amounts
    assert rounding[0]["message"] == "因四捨五入，各項加總與合計或有差異"
    where = {d["scope"]: (d["rows_sum"], d["total"], d["difference"]) for d in rounding[0]["differences"]}
    # Class 3 rows show 23 + 11 + 23 = 57 千元 but the class total 56,400 元 rounds to 56.
    assert where["編列情形表 第3類 工具類"] == ("57", "56", "-1")
    assert where["編列情形表 總計"] == ("658", "657", "-1")
    assert "編列情形表 第4類 性平法令類" not in where  # one row: nothing to explain


def test_year_over_year_changes(golden):
    changes = {(c["level"], c["key"], c["from_year"]): c for c in golden["changes"]}
    total = changes[("total", "gender_total", "115")]
    assert (total["from"], total["to"], total["change"], total["change_percent"]) == ("530", "657", "127", "23.96")
    tools = changes[("class", "3", "115")]
    assert (tools["from"], tools["to"], tools["change"], tools["change_percent"], tools["status"]) == (
        "80", "56", "-24", "-29.5", "decreased")
    assert changes[("class", "2", "115")]["status"] == "new" and changes[("class", "2", "115")]["change_percent"] is None
    assert changes[("category", "gender-statistics", "115")]["status"] == "disappeared"
    assert changes[("total", "gender_total", "114")]["change"] == "515"  # 15 → 530
    items = sorted((c["status"], c["name"]) for c in golden["changes"] if c["level"] == "item" and c["from_year"] == "115")
    assert items == [("disappeared", f"性別統計／{P2}／01 數位推廣"),
                     ("new", f"性別意識培力課程／{P1}／02 資訊推廣"),
                     ("new", f"新移民數位課程／{P2}／01 數位推廣")]


def test_malformed_review_is_a_problem_and_a_note(golden):
    assert [(p["code"], p["row"], p["column"]) for p in golden["problems"]] == [("review-share-out-of-range", 10, "覆核比例")]
    assert any("覆核未採用" in n["message"] and "140%" in n["message"] for n in golden["notes"])


def test_unit_yuan_and_10k(books, rules):
    in_yuan = make_report(books[:1], rules, unit="元").to_dict()
    assert in_yuan["years"]["116"]["gender_total"] == "657000"
    assert in_yuan["items"][3]["amount"] == "22500"
    assert not any(n["scope"] == "四捨五入" for n in in_yuan["notes"])  # exact in 元: no rounding
    in_10k = make_report(books[:1], rules, unit="萬元").to_dict()
    assert in_10k["years"]["116"]["gender_total"] == "66"  # 65.7 → 66
    with pytest.raises(BudgetError):
        make_report(books[:1], rules, unit="美元")


# --- years -------------------------------------------------------------------------------------

def test_two_inputs_of_the_same_year_are_an_error(books, rules, tmp_path):
    again = write_annotated(tmp_path / "again.xlsx", year_116())
    with pytest.raises(BudgetError) as err:
        load_inputs([books[0], again], rules)
    assert err.value.problems[0].code == "report-duplicate-year"


def test_year_from_the_option_when_the_data_has_none(rules, tmp_path):
    rows = [(line("性別意識培力課程", "1000", year=None), counted("gender-training", "1000"), "", "")]
    book = write_annotated(tmp_path / "noyear.xlsx", rows)
    with pytest.raises(BudgetError) as err:
        load_inputs([book], rules)
    assert err.value.problems[0].code == "report-no-year"
    assert load_inputs([book], rules, years=[113])[0].year == 113
    mixed = write_annotated(tmp_path / "mixed.xlsx", [
        (line("a", "1", year=115), Decision(UNMATCHED), "", ""), (line("b", "1", year=116), Decision(UNMATCHED), "", "")])
    with pytest.raises(BudgetError) as err:
        load_inputs([mixed], rules)
    assert err.value.problems[0].code == "report-several-years"


# --- the workbook ------------------------------------------------------------------------------

def _values(path: Path, sheet: str) -> list[tuple]:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    return [r for r in wb[sheet].iter_rows(values_only=True) if any(v not in (None, "") for v in r)]


def test_report_workbook_sheets_and_numbers(books, rules, tmp_path):
    report = make_report(books, rules, agency="臺北市政府資訊局")
    out = write_report_workbook(report, tmp_path / "report.xlsx", books)
    import openpyxl

    assert openpyxl.load_workbook(out).sheetnames == [TABLE_SHEET, COMPARE_SHEET, STATS_SHEET, EVIDENCE_SHEET]
    rows = _values(out, TABLE_SHEET)
    assert rows[0][0] == "臺北市政府資訊局 116年度性別預算編列情形表" and rows[1][0] == "單位：新臺幣千元"
    assert rows[2] == ("類別", "項目", "性別目標", "預算科目", "性別預算數（千元）", "說明")
    body = [(r[0], r[1], r[4]) for r in rows[3:rows.index(next(r for r in rows if r[0] == "總計")) + 1]]
    assert body == [
        ("第1類 計畫類\u3000小計", "本年度無此類項目", 0),
        ("第2類 綱領類\u3000小計", "", 120), ("", f"{P2}／01 數位推廣／新移民數位課程", 120),
        ("第3類 工具類\u3000小計", "", 56), ("", f"{P1}／01 一般行政／性別意識培力課程", 23),
        ("", f"{P1}／02 資訊推廣／性別意識培力課程", 11),
        ("", f"{P1}／01 一般行政／性別平等專案小組專家學者出席費", 23),
        ("第4類 性平法令類\u3000小計", "", 481), ("", f"{P1}／01 一般行政／育嬰留職停薪職務代理人費用", 481),
        ("第5類 其他類\u3000小計", "本年度無此類項目", 0),
        ("總計", "", 657),
    ]
    training = [r for r in rows if "性別意識培力課程" in str(r[1])]
    assert training[0][2] and training[1][2] in ("", None)  # the goal once per category
    assert training[0][5] == "辦理性別意識培力課程講座鐘點費\n專題演講鐘點費（覆核：計入 25%；四場中一場為性別主題）"
    notes = [r[0] for r in rows if str(r[0]).startswith(("註", "附註"))]
    assert notes.count("註：因四捨五入，各項加總與合計或有差異。") == 1
    assert not any("千元" in n and "相差" in n for n in notes)
    assert rows[-1][0] == "承辦人：" and [v for v in rows[-1] if v] == ["承辦人：", "單位主管：", "主計主任：", "機關首長："]
    compare = _values(out, COMPARE_SHEET)
    header = next(r for r in compare if r[0] == "項目")
    assert header[:4] == ("項目", "114 年度", "115 年度", "116 年度")
    tools = next(r for r in compare if r[0] == "第3類 工具類")
    assert tools[1:4] == (15, 80, 56) and tools[6] == -24 and tools[7] == pytest.approx(-0.295)
    assert next(r for r in compare if r[0] == "第1類 計畫類")[1:4] == (0, 0, 0)
    assert any(r[2] == "消失" and "性別統計" in r[0] for r in compare)
    stats = _values(out, STATS_SHEET)
    assert ("機關預算總額", 4857) == stats[2][:2] and ("性別預算合計", 657) == stats[3][:2]
    assert stats[4][1] == pytest.approx(0.1353)
    evidence = _values(out, EVIDENCE_SHEET)
    assert evidence[2] == ("類別", "項目", "性別預算數（千元）", "計算方式", "判定依據", "明細筆數")
    assert [r[1] for r in evidence[3:]] == [i.title for i in report.main.items]
    with zipfile.ZipFile(out) as zf:
        charts = [n for n in zf.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 3  # trend on 年度比較; pie and bar on 統計


def test_no_english_ids_on_the_report_sheets(books, rules, tmp_path):
    import openpyxl

    report = make_report(books, rules)
    out = write_report_workbook(report, tmp_path / "report.xlsx", books)
    ids = [c.id for c in rules.categories]
    wb = openpyxl.load_workbook(out)
    for ws in wb.worksheets:
        texts = [str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        leaked = [t for t in texts if any(i in t for i in ids) and "覆核未採用" not in t]
        assert not leaked, (ws.title, leaked)
    assert {i["category"] for i in report.to_dict()["items"]} <= set(ids)  # --json keeps the ids


def test_signatures_come_from_the_rules_report_table(books, tmp_path):
    custom = parse_rules((RULES_TOML + '\n[report]\nsignatures = ["製表", "覆核", "機關長官"]\n').encode())
    rows = _values(write_report_workbook(make_report(books[:1], custom), tmp_path / "s.xlsx"), TABLE_SHEET)
    assert [v for v in rows[-1] if v] == ["製表：", "覆核：", "機關長官："]
    none = parse_rules((RULES_TOML + "\n[report]\nsignatures = []\n").encode())
    rows = _values(write_report_workbook(make_report(books[:1], none), tmp_path / "n.xlsx"), TABLE_SHEET)
    assert not any("：" in str(v) and str(v).endswith("：") for r in rows for v in r if v)


def test_single_year_report_has_no_comparison_sheet(books, rules, tmp_path):
    import openpyxl

    out = write_report_workbook(make_report(books[:1], rules), tmp_path / "one.xlsx", books[:1])
    assert openpyxl.load_workbook(out).sheetnames == [TABLE_SHEET, STATS_SHEET, EVIDENCE_SHEET]


def test_input_text_is_never_a_formula_or_link(rules, tmp_path):
    evil = ['=HYPERLINK("http://x","點我")', "+1+1", "@SUM(A1)", "http://example.com/x", "#N/A"]
    rows = [(line(text, "1000", row=i + 2, plan=text), counted("gender-training", "1000"), "", "")
            for i, text in enumerate(evil)]
    book = write_annotated(tmp_path / "evil.xlsx", rows)
    columns = '[report]\ncolumns = [{key="plan"}, {key="descriptions"}, {key="amount"}]\n'
    out = write_report_workbook(make_report([book], parse_rules((RULES_TOML + columns).encode())), tmp_path / "r.xlsx")
    with zipfile.ZipFile(out) as zf:
        sheets = {n: zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/sheet")}
    assert not any("<f>" in x or "<hyperlink" in x or 't="e"' in x for x in sheets.values())
    texts = [r[1] for r in _values(out, TABLE_SHEET)[3:] if r[1] and "：" not in r[1] and r[1] != "本年度無此類項目"]
    assert sorted(texts) == sorted(evil)


# --- configurable columns ----------------------------------------------------------------------

def test_columns_and_unit_come_from_the_rules_report_table(books, rules, tmp_path):
    custom = parse_rules((RULES_TOML + """
[report]
unit = "元"
agency = "測試機關"
columns = [
  {key = "category", title = "代碼"},
  {key = "plan"},
  {key = "branch"},
  {key = "amount", title = "性別預算（{unit}）"},
  {key = "estimate"},
  {key = "lines"},
]
""").encode())
    report = make_report(books[:1], custom)
    assert report.unit == "元" and report.agency == "測試機關"
    out = write_report_workbook(report, tmp_path / "custom.xlsx")
    rows = _values(out, TABLE_SHEET)
    assert rows[0][0] == "測試機關 116年度性別預算編列情形表"
    assert rows[2] == ("代碼", "工作計畫", "分支計畫", "性別預算（元）", "計算方式", "明細筆數")
    new_immigrant = next(r for r in rows if r[0] == "new-immigrant-course")
    assert new_immigrant == ("new-immigrant-course", P2, "01 數位推廣", 120000, "依比例 60%", 1)
    # --unit on the command line wins over the rules file.
    assert make_report(books[:1], custom, unit="千元").unit == "千元"


def test_unknown_report_column_is_a_rules_file_problem():
    with pytest.raises(BudgetError) as err:
        parse_rules((RULES_TOML + '\n[report]\ncolumns = [{key = "amount"}, {key = "amount_in_usd"}]\n').encode(), "r.toml")
    problem = err.value.problems[0]
    assert (problem.code, problem.key, problem.file) == ("rules-invalid", "report.columns[1].key", "r.toml")
    assert problem.line == RULES_TOML.count("\n") + 3
    assert "plan_share" in problem.message


# --- CLI ---------------------------------------------------------------------------------------

@pytest.fixture()
def rules_file(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(RULES_TOML, encoding="utf-8")
    return path


def test_cli_json_equals_the_library(books, rules, rules_file, tmp_path):
    out = tmp_path / "報告.xlsx"
    result = CliRunner().invoke(app, ["report", *map(str, books), "-r", str(rules_file), "-o", str(out), "--json"])
    assert result.exit_code == 1, result.output  # one line still waits for review
    payload = json.loads(result.stdout)
    assert payload.pop("output") == str(out)
    assert payload == make_report(books, rules).to_dict()
    assert out.exists()


def test_cli_default_output_and_exit_0_when_complete(rules_file, tmp_path):
    book = write_annotated(tmp_path / "115.性別預算.xlsx", year_115())
    result = CliRunner().invoke(app, ["report", str(book), "-r", str(rules_file), "--agency", "資訊局"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "115年度性別預算報告.xlsx").exists()
    assert "530" in result.stdout


def test_cli_refuses_same_year_and_writes_nothing(books, rules_file, tmp_path):
    out = tmp_path / "x.xlsx"
    result = CliRunner().invoke(app, ["report", str(books[0]), str(books[0]), "-r", str(rules_file), "-o", str(out)])
    assert result.exit_code == 2
    assert not out.exists()


def test_cli_refuses_to_overwrite_an_input(books, rules_file):
    before = books[0].read_bytes()
    result = CliRunner().invoke(app, ["report", str(books[0]), "-r", str(rules_file), "-o", str(books[0])])
    assert result.exit_code == 2
    assert books[0].read_bytes() == before


def test_cli_help_mentions_the_options():
    result = CliRunner().invoke(app, ["report", "--help"])
    assert result.exit_code == 0
    for option in ("--unit", "--agency", "--year", "--json", "--output"):
        assert option in result.stdout


@pytest.mark.skipif(__import__("shutil").which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_the_report(books, rules, tmp_path):
    import csv
    import subprocess

    out = write_report_workbook(make_report(books, rules), tmp_path / "report.xlsx")
    profile = (tmp_path / "lo-profile").as_uri()
    done = subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1",
                           "--outdir", str(tmp_path / "csv"), str(out)], capture_output=True, timeout=180)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader((tmp_path / "csv" / "report.csv").open(encoding="utf-8")))
    assert any(r and r[0] == "總計" and "657" in r for r in rows)


def test_raw_exports_are_classified_on_the_fly(books, rules, tmp_path):
    # 113 as a raw CSV export: the rules decide (22,500 出席費 → expert fee; 新移民 60 % of 10,000).
    export = tmp_path / "113年度歲出預算明細.csv"
    export.write_text("年度,工作計畫,分支計畫,用途別科目,說明,金額\n"
                      f"113,{P1},01 一般行政,2036 按日按件計資酬金,性別平等專案小組會議外聘委員出席費,22500\n"
                      f"113,{P2},01 數位推廣,2039 委辦費,新移民數位課程委辦,10000\n"
                      f"113,{P1},01 一般行政,2054 一般事務費,影印紙,967500\n", encoding="utf-8")
    report = make_report([books[0], export], rules, unit="元").to_dict()
    y113 = report["years"]["113"]
    assert (y113["budget_total"], y113["gender_total"]) == ("1000000", "28500")
    assert y113["by_category"] == {"expert-attendance-fee": "22500", "new-immigrant-course": "6000"}
    assert report["sources"][1]["kind"] == "export"
    # With --year the data's year is overridden, input by input.
    assert list(make_report([export], rules, years=[112]).to_dict()["years"]) == ["112"]


def test_reviewed_decisions_in_words(rules):
    from dataclasses import replace

    from budget.report import line_detail, review_wording

    ln = line("專題演講鐘點費", "40000")
    base = Decision(MATCHED, "gender-training", D(25), D(10000), "reviewed", review="gender-training 25%",
                    review_note="四場中一場")
    assert line_detail(ln, base, rules) == "專題演講鐘點費（覆核：計入 25%；四場中一場）"
    amount = replace(base, review="性別意識培力課程 24000", share_percent=D(60), gender_amount=D(24000), review_note="")
    assert review_wording(ln, amount, rules) == "覆核：計入 24,000 元"
    whole = replace(base, review="性別意識培力課程", share_percent=D(100), gender_amount=D(40000))
    assert review_wording(ln, whole, rules) == "覆核：全額計入"
    assert review_wording(ln, Decision(UNMATCHED, review="不列入"), rules) == "覆核：不列入"

    class WithFields:  # a decision carrying the review columns' own fields (覆核計入數／覆核比例)
        status, review, review_note, rule = MATCHED, "", "", "reviewed"
        share_percent, reviewed_percent, reviewed_amount = D(40), D(40), None

    assert review_wording(ln, WithFields(), rules) == "覆核：計入 40%"
    assert line_detail(ln, Decision(MATCHED, "gender-training", D(100), D(40000), "gender-training"), rules) == "專題演講鐘點費"


def test_a_report_longer_than_the_fast_writers_row_window_is_written(books, rules, tmp_path, monkeypatch):
    """The report sizes its rows after writing them all (row heights follow the final column widths): its
    workbook keeps every row until it is closed, however long the table (100k-line books failed here)."""
    from budget.outputs import xlsx_fast

    monkeypatch.setattr(xlsx_fast, "ROW_WINDOW", 4)  # the report's table has more rows than this
    report = make_report(books, rules, agency="臺北市政府資訊局")
    short = write_report_workbook(report, tmp_path / "report.xlsx", books)
    rows = _values(short, TABLE_SHEET)
    assert len(rows) > 4 * 3 and rows[0][0] == "臺北市政府資訊局 116年度性別預算編列情形表"
    import openpyxl

    ws = openpyxl.load_workbook(short)[TABLE_SHEET]
    assert any((ws.row_dimensions[r].height or 0) > 20 for r in range(4, ws.max_row + 1))  # sized at the end
