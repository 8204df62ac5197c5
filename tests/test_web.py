"""The web page over HTTP: classify, results, reviews in the browser, downloads, check, rules, workspaces."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from markupsafe import escape

from budget.engine.totals import compute_totals
from budget.pipeline import run_classify
from budget.rules import load_rules
from budget.web.reviewing import ReviewEntry, review_decision

from webclient import ROWS, classify, csv_bytes, make_client, review, token, wait, workspace


@pytest.fixture
def client(tmp_path):
    with make_client(tmp_path / "data") as c:
        yield c


@pytest.fixture
def run_url(client):
    return classify(client, workspace(client), [("116年度預算.csv", csv_bytes())])


def _line_index(client, run_url, text):
    page = client.get(run_url + "/lines", params={"q": text})
    return int(re.search(r'data-idx="(\d+)"', page.text).group(1))


def test_home_makes_a_workspace_and_the_classify_page_has_the_upload_form(client):
    home = client.get("/")
    assert home.status_code == 200 and "預設工作區" in home.text
    ws = workspace(client)
    page = client.get(f"/w/{ws}")
    assert 'type="file"' in page.text and "multiple" in page.text and "開始分類" in page.text
    created = client.post("/workspaces", data={"csrf": token(client), "name": "117年度"}, follow_redirects=False)
    assert created.status_code == 303
    assert "117年度" in client.get("/").text


def test_classify_runs_in_the_background_and_shows_figures_and_the_review_queue(client, run_url):
    state = client.get(run_url + "/progress").json()
    assert state["status"] == "done"
    page = client.get(run_url)
    assert page.status_code == 200
    assert "1,634" in page.text  # 預算總額 60+40+300+1234 千元
    assert 'data-fig="gender_total">100<' in page.text  # 60 + 40 counted; 300 waits for review
    assert "待覆核（1）" in page.text and "網站改版" in page.text
    assert "說明未載明性別部分金額" in page.text  # the reason is shown


def test_review_by_chinese_name_with_amount_updates_the_figures_like_the_library(client, run_url):
    idx = _line_index(client, run_url, "網站改版")
    answer = review(client, run_url, idx, category="性別影響評估", amount="120", note="依簽呈")
    if answer.status_code == 400:  # the category's Chinese name differs in this rules file: use the id's name
        rules = load_rules()
        name = rules.category("gender-impact-assessment").name
        answer = review(client, run_url, idx, category=name, amount="120", note="依簽呈")
    body = answer.json()
    assert body["ok"] and body["version"] == 1 and not body["conflict"]
    assert body["line"]["status"] == "matched" and body["line"]["gender"] == "120"
    assert body["figures"]["gender_total"] == "220" and body["figures"]["review_lines"] == 0
    # the same as the library's totals with the same review applied
    rules = load_rules()
    path = client.app.state.store.uploads
    result = client.app.state.runner.result(run_url.rsplit("/", 1)[1])
    decisions = list(result.decisions)
    decisions[idx] = review_decision(ReviewEntry(category=rules.category("gender-impact-assessment").name,
                                                 amount=Decimal(120)), result.lines[idx], decisions[idx], rules)
    totals = compute_totals(result.lines, decisions, rules)
    assert totals.gender_total == Decimal(220) and path.is_dir()
    assert 'data-fig="gender_total">220<' in client.get(run_url).text


def test_review_not_counted_percent_and_clearing(client, run_url):
    idx = _line_index(client, run_url, "外聘委員出席費")
    body = review(client, run_url, idx, category="不列入", note="非性別專案").json()
    assert body["line"]["status"] == "unmatched" and body["figures"]["gender_total"] == "40"
    body = review(client, run_url, idx, category="expert-attendance-fee", percent="50", version=1).json()
    assert body["line"]["gender"] == "30" and body["figures"]["gender_total"] == "70"
    body = review(client, run_url, idx, version=2).json()  # cleared: back to the rules' decision
    assert body["figures"]["gender_total"] == "100" and body["figures"]["reviewed"] == 0


@pytest.mark.parametrize("fields, words", [
    ({"category": "expert-attendance-fee", "amount": "99999"}, "大於本行金額"),
    ({"category": "expert-attendance-fee", "amount": "10", "percent": "10"}, "只能填一個"),
    ({"category": "expert-attendance-fee", "percent": "150"}, "0 到 100"),
    ({"category": "no-such-category"}, "不在規則檔中"),
    ({"category": "expert-attendance-fee", "amount": "abc"}, "看不懂"),
    ({"category": "不列入", "amount": "5"}, "卻又填了計入數或比例"),
])
def test_invalid_reviews_are_refused_with_a_message_and_not_saved(client, run_url, fields, words):
    idx = _line_index(client, run_url, "外聘委員出席費")
    answer = review(client, run_url, idx, **fields)
    assert answer.status_code == 400
    problem = answer.json()["problems"][0]
    assert words in problem["message"] and "第 3 列" in problem["location"]
    assert client.app.state.store.reviews(run_url.rsplit("/", 1)[1]) == {}
    page = client.post(f"{run_url}/lines/{idx}/review", data={"csrf": token(client), **fields})  # without script
    assert page.status_code == 400 and "覆核未儲存" in page.text


def test_a_review_posted_without_script_redirects_back(client, run_url):
    idx = _line_index(client, run_url, "網站改版")
    back = run_url + "/lines?q=x"
    answer = client.post(f"{run_url}/lines/{idx}/review", follow_redirects=False,
                         data={"csrf": token(client), "category": "不列入", "back": back})
    assert answer.status_code == 303 and answer.headers["location"] == back
    evil = client.post(f"{run_url}/lines/{idx}/review", follow_redirects=False,
                       data={"csrf": token(client), "category": "不列入", "back": "//evil.example/"})
    assert evil.headers["location"] == run_url


def test_two_clerks_different_lines_both_kept_same_line_later_wins_and_is_told(tmp_path):
    with make_client(tmp_path / "d") as one, make_client(tmp_path / "d") as two:
        url = classify(one, workspace(one), [("116.csv", csv_bytes())])
        run = url.rsplit("/", 1)[1]
        a, b = _line_index(one, url, "外聘委員"), _line_index(one, url, "培力課程")
        assert review(one, url, a, category="不列入").json()["version"] == 1
        two.app.state.runner.cache.clear()  # the second server knows the run only from the database
        assert review(two, url, b, category="不列入").json()["version"] == 2
        assert set(one.app.state.store.reviews(run)) == {a, b}
        # both opened line `a` at version 1; one saves, then two saves what it saw at version 1
        assert review(one, url, a, category="expert-attendance-fee", percent="50", version=1).json()["conflict"] is False
        late = review(two, url, a, category="不列入", note="第二位", version=1).json()
        assert late["conflict"] is True and "另一位同仁" in late["notice"] and "已改為你剛才的儲存" in late["notice"]
        # the first page polls and learns that its line changed
        changes = one.get(url + "/reviews", params={"since": 3}).json()
        assert [c["idx"] for c in changes["changes"]] == [a] and changes["changes"][0]["note"] == "第二位"
        assert changes["seq"] == 4
        assert one.app.state.store.reviews(run)[a]["category"] == "不列入"


def test_lines_are_searched_and_paged_in_the_database(client):
    rows = [["3203100100 一般行政", "2054 一般事務費", f"辦公用品第{i}批", str(i + 1)] for i in range(130)]
    rows[77][2] = "性別意識培力課程講座鐘點費（特別）"
    url = classify(client, workspace(client), [("多列.csv", csv_bytes(rows))])
    first = client.get(url + "/lines")
    assert "第 1 / 3 頁（共 130 列）" in first.text and first.text.count('class="review"') == 50
    third = client.get(url + "/lines", params={"page": 3})
    assert third.text.count('class="review"') == 30 and "辦公用品第129批" in third.text
    found = client.get(url + "/lines", params={"q": "培力 課程"})
    assert "共 1 列" in found.text and "（特別）" in found.text
    matched = client.get(url + "/lines", params={"status": "matched"})
    assert "共 1 列" in matched.text
    none = client.get(url + "/lines", params={"q": "%_\\"})
    assert "共 0 列" in none.text


def test_input_text_is_always_escaped(client):
    rows = [["<b>計畫</b>", "2054 一般事務費", "<script>alert('x')</script>性別平等宣導", "10"]]
    url = classify(client, workspace(client), [("<img src=x onerror=alert(1)>.csv", csv_bytes(rows))])
    page = client.get(url + "/lines")
    assert "<script>alert" not in page.text and str(escape("<script>alert('x')</script>")) in page.text
    assert "<b>計畫</b>" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_uploads_are_stored_under_generated_names_never_the_client_path(client):
    ws = workspace(client)
    url = classify(client, ws, [("..\\..\\windows\\evil.csv", csv_bytes()), ("../../etc/passwd.csv", csv_bytes())])
    stored = sorted(p.name for p in client.app.state.store.uploads.iterdir())
    assert stored and all(re.fullmatch(r"[0-9a-f]{24}\.(csv|toml)", name) for name in stored)
    names = {u.name for u in client.app.state.store.uploads_of(ws, "export")}
    assert names == {"evil.csv", "passwd.csv"}
    assert "evil.csv" in client.get(url + "/lines").text


def test_a_refused_file_type_gets_a_clear_message(client):
    ws = workspace(client)
    answer = client.post(f"/w/{ws}/runs", data={"csrf": token(client), "rules": "server"},
                         files=[("files", ("budget.exe", b"MZ\x90\x00"))])
    assert answer.status_code == 400 and "不接受此類檔案" in answer.text and "budget.exe" in answer.text
    empty = client.post(f"/w/{ws}/runs", data={"csrf": token(client), "rules": "server"})
    assert empty.status_code == 400 and "請選擇至少一個" in empty.text


def test_hostile_and_broken_uploads_get_the_same_message_as_the_command_line(client, tmp_path):
    import exportfixtures as fx

    good = fx.simple_xlsx(tmp_path)
    cases = [fx.truncated(good, tmp_path), fx.encrypted_xlsx(good, tmp_path), fx.billion_laughs(fx.simple_xlsxwriter(tmp_path), tmp_path),
             fx.text_file(tmp_path, "notes.xlsx", "這不是試算表")]
    ws = workspace(client)
    rules = load_rules()
    for path in cases:
        with pytest.raises(Exception) as cli:
            run_classify([path], rules, write=False)
        expected = cli.value.problems
        url = classify(client, ws, [(path.name, path.read_bytes())])
        page = client.get(url)
        assert "無法完成分類" in page.text, path.name
        for problem in expected:
            assert str(escape(problem.message.replace(str(path), path.name))) in page.text, problem
            assert str(escape(path.name)) in page.text
            if problem.sheet:
                assert f"工作表「{escape(problem.sheet)}」" in page.text
        assert not re.search(r"[0-9a-f]{24}\.xlsx", page.text)  # never the generated storage name


def test_an_oversized_upload_is_refused_and_nothing_is_stored(tmp_path):
    with make_client(tmp_path / "data", max_upload_bytes=20_000) as client:
        ws = workspace(client)
        big = csv_bytes([["計畫", "2054 一般事務費", "文具" * 20, "1"]] * 400)
        assert len(big) > 20_000
        answer = client.post(f"/w/{ws}/runs", data={"csrf": token(client), "rules": "server"},
                             files=[("files", ("big.csv", big))])
        assert answer.status_code == 413 and "檔案太大" in answer.text and "上限" in answer.text
        assert list(client.app.state.store.uploads.iterdir()) == []
        assert client.app.state.store.runs(ws) == []


def test_an_oversized_streamed_body_without_length_is_refused(tmp_path):
    with make_client(tmp_path / "data", max_upload_bytes=1000) as client:
        ws = workspace(client)

        def chunks():
            for _ in range(10):
                yield b"x" * 500

        answer = client.post(f"/w/{ws}/runs", content=chunks(),
                             headers={"content-type": "multipart/form-data; boundary=zz"})
        assert answer.status_code == 413


def test_cross_site_form_posts_are_refused(client, run_url):
    ws = workspace(client)
    other = client.post("/workspaces", data={"csrf": token(client), "name": "x"},
                        headers={"origin": "http://evil.example"})
    assert other.status_code == 403 and "跨站" in other.text
    no_token = client.post("/workspaces", data={"name": "x"})
    assert no_token.status_code == 403 and "驗證碼" in no_token.text
    wrong = client.post("/workspaces", data={"name": "x", "csrf": "0" * 32})
    assert wrong.status_code == 403
    referer = client.post(f"{run_url}/lines/0/review", data={"csrf": token(client), "category": "不列入"},
                          headers={"referer": "http://127.0.0.1.evil.example/page"})
    assert referer.status_code == 403
    same = client.post("/workspaces", data={"csrf": token(client), "name": "同站"},
                       headers={"origin": "http://127.0.0.1:8765"}, follow_redirects=False)
    assert same.status_code == 303
    assert [w["name"] for w in client.app.state.store.workspaces()].count("x") == 0 and ws


def test_without_a_password_only_local_addresses_are_served(client):
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200
    assert client.get("/", headers={"host": "[::1]:8765"}).status_code == 200


def test_a_non_local_host_needs_a_password(tmp_path):
    from typer.testing import CliRunner

    from budget.cli import app
    from budget.problems import BudgetError
    from budget.web import WebSettings

    with pytest.raises(BudgetError) as refused:
        WebSettings(data=tmp_path, host="0.0.0.0")
    assert refused.value.problems[0].code == "serve-needs-password"
    WebSettings(data=tmp_path, host="localhost")  # local: no password needed
    WebSettings(data=tmp_path, host="::1")
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--data", str(tmp_path), "--no-open"],
                                env={"GENDER_BUDGET_PASSWORD": ""})
    assert result.exit_code == 2 and "--password" in result.output


def test_with_a_password_every_page_needs_a_login(tmp_path):
    import base64

    with make_client(tmp_path / "data", host="0.0.0.0", password="s3cret") as client:
        first = client.get("/", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"].startswith("/login")
        assert client.get("/static/style.css").status_code == 200
        assert client.post("/workspaces", data={"name": "x"}).status_code == 401
        login = client.get("/login")
        tok = client.cookies.get("gb_csrf")
        assert "請輸入密碼" in login.text
        bad = client.post("/login", data={"csrf": tok, "password": "nope", "next": "/"})
        assert bad.status_code == 401 and "密碼不正確" in bad.text
        good = client.post("/login", data={"csrf": tok, "password": "s3cret", "next": "/rules"}, follow_redirects=False)
        assert good.status_code == 303 and good.headers["location"] == "/rules"
        assert client.get("/").status_code == 200
    with make_client(tmp_path / "data", host="0.0.0.0", password="s3cret") as curl:
        assert curl.get("/", headers={"authorization": "Bearer s3cret"}).status_code == 200
        basic = base64.b64encode(b"clerk:s3cret").decode()
        assert curl.get("/", headers={"authorization": f"Basic {basic}"}).status_code == 200
        assert curl.get("/", headers={"authorization": "Bearer wrong"}, follow_redirects=False).status_code == 303


def _sheet_rows(data: bytes, name: str) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    return list(book[name].iter_rows(values_only=True))


def test_the_downloaded_workbook_has_the_browser_reviews_and_the_report_counts_them(client, run_url):
    idx = _line_index(client, run_url, "網站改版")
    review(client, run_url, idx, category="gender-impact-assessment", amount="120", note="依簽呈")
    workbook = client.get(run_url + "/annotated.xlsx")
    assert workbook.status_code == 200 and "attachment" in workbook.headers["content-disposition"]
    rows = _sheet_rows(workbook.content, "明細")
    header = rows[0]
    line = rows[idx + 1]
    assert "網站改版" in line[header.index("說明")]
    assert line[header.index("覆核類別")] == "性別影響評估" and line[header.index("覆核計入數")] == 120
    assert line[header.index("覆核說明")] == "依簽呈" and line[header.index("性別預算數")] == 120
    report = client.get(run_url + "/report.xlsx", params={"unit": "千元"})
    assert report.status_code == 200
    cells = [c for row in _sheet_rows(report.content, "性別預算編列情形表") for c in row if c is not None]
    assert 220 in cells  # 60 + 40 + the reviewed 120 千元
    assert client.get(run_url + "/report.xlsx", params={"unit": "斤"}).status_code == 400
    ods = client.get(run_url + "/report.ods")
    assert ods.status_code == 200 and ods.content[:2] == b"PK" and b"opendocument.spreadsheet" in ods.content[:200]
    assert client.get(run_url + "/annotated.pdf").status_code == 404


def test_the_report_compares_with_an_earlier_years_workbook(client, run_url, tmp_path):
    earlier = tmp_path / "115.csv"
    earlier.write_bytes(csv_bytes(ROWS[:2], title="115年度歲出預算明細表 單位：新臺幣千元"))
    out = tmp_path / "115.性別預算.xlsx"
    run_classify([earlier], load_rules(), output=out)
    page = client.post(run_url + "/earlier", data={"csrf": token(client)},
                       files=[("file", ("115年度.性別預算.xlsx", out.read_bytes()))], follow_redirects=False)
    assert page.status_code == 303
    compare = page.headers["location"].split("compare=")[1]
    downloads = client.get(page.headers["location"])
    assert "與「115年度.性別預算.xlsx」比較" in downloads.text
    report = client.get(run_url + "/report.xlsx", params={"compare": compare})
    assert report.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(report.content), read_only=True)
    text = " ".join(str(c) for row in book["年度比較"].iter_rows(values_only=True) for c in row if c is not None)
    assert "115" in text and "116" in text
    not_annotated = client.post(run_url + "/earlier", data={"csrf": token(client)},
                                files=[("file", ("x.xlsx", earlier.read_bytes()))])
    assert not_annotated.status_code == 400
    assert client.get(run_url + "/report.xlsx", params={"compare": "nope"}).status_code == 404


def test_a_workbook_reviewed_further_in_excel_keeps_both_reviews(client, run_url, tmp_path):
    web_line = _line_index(client, run_url, "網站改版")
    excel_line = _line_index(client, run_url, "外聘委員")
    review(client, run_url, web_line, category="gender-impact-assessment", amount="120")
    downloaded = tmp_path / "reviewed.xlsx"
    downloaded.write_bytes(client.get(run_url + "/annotated.xlsx").content)
    book = openpyxl.load_workbook(downloaded)
    sheet = book["明細"]
    header = [c.value for c in sheet[1]]
    sheet.cell(excel_line + 2, header.index("覆核類別") + 1, "不列入")
    sheet.cell(excel_line + 2, header.index("覆核說明") + 1, "在 Excel 覆核")
    book.save(downloaded)
    answer = client.post(run_url + "/import", data={"csrf": token(client)},
                         files=[("file", ("reviewed.xlsx", downloaded.read_bytes()))])
    assert answer.status_code == 200 and "已匯入 2 筆覆核" in answer.text
    reviews = client.app.state.store.reviews(run_url.rsplit("/", 1)[1])
    assert reviews[web_line]["amount"] == "120" and reviews[excel_line]["category"] == "不列入"
    assert reviews[excel_line]["note"] == "在 Excel 覆核"
    broken = client.post(run_url + "/import", data={"csrf": token(client)}, files=[("file", ("x.xlsx", b"PK\x03\x04"))])
    assert broken.status_code == 400 and "x.xlsx" in broken.text


def test_a_restart_loses_nothing(tmp_path):
    with make_client(tmp_path / "data") as first:
        url = classify(first, workspace(first), [("116.csv", csv_bytes())])
        idx = _line_index(first, url, "網站改版")
        review(first, url, idx, category="gender-impact-assessment", percent="40")
    with make_client(tmp_path / "data") as again:
        assert again.app.state.runner.cached(url.rsplit("/", 1)[1]) is None
        page = again.get(url)
        assert 'data-fig="gender_total">220<' in page.text  # 100 + 40 % of 300
        rows = _sheet_rows(again.get(url + "/annotated.xlsx").content, "明細")
        assert rows[idx + 1][rows[0].index("覆核比例")] == 0.4


def test_an_interrupted_run_can_be_run_again(tmp_path):
    from budget.web.store import Store

    store = Store(tmp_path / "data")
    ws = store.create_workspace("w")
    upload = store.save_bytes(ws, "export", "116.csv", csv_bytes())
    rules = store.save_bytes(ws, "rules", "default.toml", Path(load_rules().path).read_bytes())
    rid = store.create_run(ws, [upload.id], rules.id, {})
    store.set_state(rid, "running", "read")
    with make_client(tmp_path / "data") as client:
        url = f"/w/{ws}/runs/{rid}"
        page = client.get(url)
        assert "分類已中斷" in page.text
        client.post(url + "/retry", data={"csrf": token(client)})
        assert wait(client, url)["status"] == "done"
        assert "待覆核（1）" in client.get(url).text


def test_unknown_workspaces_runs_and_lines_are_not_found(client, run_url):
    assert client.get("/w/nope").status_code == 404
    assert client.get("/w/nope/runs/abc").status_code == 404
    assert review(client, run_url, 999, category="不列入").status_code == 404
    other = client.post("/workspaces", data={"csrf": token(client), "name": "別的"}, follow_redirects=False)
    ws2 = other.headers["location"].rsplit("/", 1)[1]
    run = run_url.rsplit("/", 1)[1]
    assert client.get(f"/w/{ws2}/runs/{run}").status_code == 404  # a run is only reached through its workspace


def test_check_a_batch_from_a_workbook(client, tmp_path):
    import exportfixtures as fx

    book = fx.simple_xlsx(tmp_path, "新增項目.xlsx")
    answer = client.post("/check/batch", data={"csrf": token(client)},
                         files=[("file", ("新增項目.xlsx", book.read_bytes()))])
    assert answer.status_code == 200 and "新增項目.xlsx（3 列）" in answer.text and "出席費" in answer.text


def test_check_one_item_and_a_batch_with_download(client):
    one = client.post("/check", data={"csrf": token(client), "text": "性別平等專案小組會議外聘委員出席費",
                                      "account": "2036 按日按件計資酬金", "amount": "22500", "unit": "元"})
    assert one.status_code == 200 and "符合" in one.text and "出席費" in one.text and "22,500" in one.text
    bad = client.post("/check", data={"csrf": token(client), "text": "x", "amount": "十二元"})
    assert bad.status_code == 400 and "金額" in bad.text
    csv = "說明,用途別科目,金額,單位\n性別意識培力課程講座鐘點費,2003 教育訓練費,40,千元\n辦公用品,2054 一般事務費,3,千元\n"
    batch = client.post("/check/batch", data={"csrf": token(client)},
                        files=[("file", ("新項目.csv", csv.encode("cp950")))])
    assert batch.status_code == 200 and "新項目.csv（2 列）" in batch.text
    link = re.search(r'href="(/check/batch/[0-9a-f]+\.xlsx)"', batch.text).group(1)
    rows = _sheet_rows(client.get(link).content, "檢查結果")
    assert rows[0][0] == "列" and [r[5] for r in rows[1:]] == ["符合", "不符合"]
    no_header = client.post("/check/batch", data={"csrf": token(client)},
                            files=[("file", ("x.csv", "甲,乙\n1,2\n".encode()))])
    assert no_header.status_code == 400 and "表頭" in no_header.text and "x.csv" in no_header.text
    assert not re.search(r"[0-9a-f]{24}\.csv", no_header.text)  # the clerk's file name, never the stored one


def test_rules_page_and_testing_an_uploaded_rules_file(client):
    page = client.get("/rules")
    assert page.status_code == 200 and "gender-training" in page.text
    broken = 'name = "x"\n\n[[category]]\nid = "Bad Id"\nname = "甲"\nofficial_class = 9\n'
    answer = client.post("/rules/test", data={"csrf": token(client)},
                         files=[("file", ("我的規則.toml", broken.encode()))])
    assert answer.status_code == 400 and "我的規則.toml" in answer.text
    assert "我的規則.toml:4" in answer.text and "我的規則.toml:6" in answer.text  # every error with its line
    good = Path(load_rules().path).read_bytes()
    tested = client.post("/rules/test", data={"csrf": token(client)}, files=[("file", ("default.toml", good))])
    assert tested.status_code == 200 and "通過" in tested.text and "0 失敗" in tested.text


def test_classify_with_an_uploaded_rules_file_and_a_broken_one(client, tmp_path):
    ws = workspace(client)
    bad = client.post(f"/w/{ws}/runs", data={"csrf": token(client), "rules": "upload"},
                      files=[("files", ("a.csv", csv_bytes())), ("rules_file", ("壞.toml", b"name = [\n"))])
    assert bad.status_code == 400 and "壞.toml" in bad.text and "TOML" in bad.text
    rules = ('schema = 1\nname = "只認出席費"\n[[category]]\nid = "fee"\nname = "出席費"\nofficial_class = 3\n'
             'any = ["出席費"]\n').encode()
    answer = client.post(f"/w/{ws}/runs", data={"csrf": token(client), "rules": "upload"},
                         files=[("files", ("a.csv", csv_bytes())), ("rules_file", ("mine.toml", rules))],
                         follow_redirects=False)
    url = answer.headers["location"]
    wait(client, url)
    page = client.get(url)
    assert 'data-fig="gender_total">60<' in page.text and "待覆核（0）" in page.text


@pytest.mark.skipif(not __import__("shutil").which("soffice"), reason="LibreOffice is not installed")
def test_the_workbook_downloads_as_ods_with_the_reviews(client, run_url):
    import zipfile

    review(client, run_url, _line_index(client, run_url, "網站改版"), category="不列入", note="依簽呈不列入")
    answer = client.get(run_url + "/annotated.ods")
    assert answer.status_code == 200 and answer.content[:2] == b"PK"
    book = zipfile.ZipFile(io.BytesIO(answer.content))
    assert book.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
    assert "依簽呈不列入" in book.read("content.xml").decode()
