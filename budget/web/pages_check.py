"""檢查新項目 (one line by form, many by CSV upload, with a download) and 規則 (categories, testing a rules file)."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from ..check import CheckResult, check_lines, lines_from_exports, make_line, rules_summary, run_examples
from ..exports.options import ReadOptions
from ..models import STATUS_LABELS
from ..problems import BudgetError, Problem
from ..rules import parse_rules
from .render import budget_problems, files_of, guarded_form, problems_response, render, save_uploads, store
from .runs import Labels

#: Encodings a clerk may choose for a batch CSV (none: detected as `classify` does).
CSV_ENCODINGS = ("utf-8-sig", "cp950")


def _result_rows(results: list[CheckResult], rules: Any) -> list[dict[str, Any]]:
    out = []
    for r in results:
        d, line = r.decision, r.line
        category = rules.category(d.category) if d.category else None
        out.append({"row": line.row, "description": line.description,
                    "account": f"{line.account_code} {line.account}".strip(), "amount": line.amount, "unit": line.unit,
                    "status": d.status, "status_label": STATUS_LABELS.get(d.status, d.status),
                    "category": f"{category.name}（第{category.official_class}類）" if category else "",
                    "share": d.share_percent, "gender": d.gender_amount if d.category else None,
                    "evidence": d.explain() or "無任何類別的條件符合", "rule": d.rule})
    return out


async def check_page(request: Request) -> Response:
    """The form for one new item and the batch upload."""
    return render(request, "check.html", tab="check", rules=request.app.state.rules, results=None, form={})


async def check_one(request: Request) -> Response:
    """The verdict, evidence and rule for one item (說明, 用途別科目, 金額, 單位)."""
    form = await guarded_form(request)
    rules = request.app.state.rules
    values = {k: str(form.get(k) or "").strip()[:2000] for k in ("text", "account", "amount", "unit")}
    if not values["text"]:
        return problems_response(request, [Problem("usage", "請填寫說明", "give a description")], back="/check")
    try:
        line = make_line(values["text"], account=values["account"], amount=values["amount"] or None,
                         unit=values["unit"] or None, rules=rules)
    except BudgetError as exc:
        return problems_response(request, budget_problems(exc), back="/check")
    results = check_lines([line], rules)
    return render(request, "check.html", tab="check", rules=rules, results=_result_rows(results, rules), form=values)


def _batch(request: Request, upload: Any, encoding: str) -> tuple[list[CheckResult], list[Problem]]:
    """Check every line of a stored batch upload, read as `check --file` reads it; (results, problems)."""
    rules = request.app.state.rules
    path = store(request).path_of(upload)
    labels = Labels([(path, upload.name)])
    try:
        lines, problems = lines_from_exports([path], rules, ReadOptions(encoding=encoding or None))
    except BudgetError as exc:
        raise BudgetError(labels.problems(exc.problems)) from None
    for line in lines:
        line.file = upload.name
    return check_lines(lines, rules), labels.problems(problems)


async def check_batch(request: Request) -> Response:
    """Check every line of an uploaded CSV (表頭含 說明、金額…); the table and a download link."""
    form = await guarded_form(request)
    rules = request.app.state.rules
    encoding = str(form.get("encoding") or "").strip()
    if encoding not in CSV_ENCODINGS:
        encoding = ""
    try:
        uploads = await save_uploads(request, files_of(form, "file")[:1], None, "batch")
        if not uploads:
            raise BudgetError.one("web-no-file", "請選擇新項目的檔案（CSV 或預算匯出檔）", "choose a file")
        upload = uploads[0]
        results, problems = await run_in_threadpool(_batch, request, upload, encoding)
    except BudgetError as exc:
        return problems_response(request, budget_problems(exc), title="無法檢查", back="/check")
    return render(request, "check.html", tab="check", rules=rules, results=_result_rows(results, rules), form={},
                  batch=upload, encoding=encoding, problems=problems)


def _write_batch(path: Path, rows: list[dict[str, Any]]) -> None:
    from ..outputs.backends import open_book

    book = open_book(path)
    sheet = book.add_worksheet("檢查結果")
    bold = book.add_format({"bold": True})
    titles = ["列", "說明", "用途別科目", "金額", "單位", "判定", "類別", "計入比例", "性別預算數", "依據", "規則"]
    for c, title in enumerate(titles):
        sheet.write_string(0, c, title, bold)
    for r, row in enumerate(rows, start=1):
        values = [row["row"], row["description"], row["account"], row["amount"], row["unit"], row["status_label"],
                  row["category"], row["share"], row["gender"], row["evidence"], row["rule"]]
        for c, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                sheet.write_string(r, c, value)
            else:
                sheet.write_number(r, c, float(value))
    sheet.set_column(1, 1, 50)
    sheet.set_column(9, 9, 50)
    book.close()


async def batch_download(request: Request) -> Response:
    """The batch results as a workbook (GET, so the link can be kept)."""
    upload = store(request).upload(request.path_params["upload"])
    if upload is None or upload.kind != "batch":
        raise HTTPException(404, "找不到這份新項目檔")
    rules = request.app.state.rules
    encoding = request.query_params.get("encoding", "")
    try:
        results, _ = await run_in_threadpool(_batch, request, upload, encoding if encoding in CSV_ENCODINGS else "")
    except BudgetError as exc:
        return problems_response(request, budget_problems(exc), title="無法檢查", back="/check")
    folder = store(request).scratch / secrets.token_hex(8)
    folder.mkdir()
    target = folder / f"{Path(upload.name).stem}.檢查結果.xlsx"
    await run_in_threadpool(_write_batch, target, _result_rows(results, rules))
    return FileResponse(target, filename=target.name, background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


async def rules_page(request: Request) -> Response:
    """The categories of the rules in use."""
    rules = request.app.state.rules
    return render(request, "rules.html", tab="rules", summary=rules_summary(rules), tested=None, problems=None)


async def rules_test(request: Request) -> Response:
    """Upload a rules file: every error with its line number, or every example's outcome."""
    form = await guarded_form(request)
    current = rules_summary(request.app.state.rules)
    try:
        uploads = await save_uploads(request, files_of(form, "file")[:1], None, "rules")
        if not uploads:
            raise BudgetError.one("web-no-file", "請選擇規則檔（.toml）", "choose a rules file")
        upload = uploads[0]
        data = store(request).path_of(upload).read_bytes()
    except BudgetError as exc:
        return problems_response(request, budget_problems(exc), title="無法測試規則檔", back="/rules")
    labels = Labels([(store(request).path_of(upload), upload.name)])
    try:
        tested = parse_rules(data, upload.name)
    except BudgetError as exc:
        return render(request, "rules.html", status=400, tab="rules", summary=current, tested=None,
                      problems=labels.problems(exc.problems), name=upload.name)
    outcomes = await run_in_threadpool(run_examples, tested)
    return render(request, "rules.html", tab="rules", summary=rules_summary(tested), tested=outcomes, problems=None,
                  name=upload.name)
