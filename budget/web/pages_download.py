"""下載: the annotated workbook with the browser reviews, the annual report (optionally compared with an
earlier year's annotated workbook), and importing the reviews of a workbook reviewed further in Excel.

Downloads are plain GET links, so a clerk can bookmark one and IT can fetch one with curl.
"""

from __future__ import annotations

import secrets
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from ..money import canonical_unit, format_amount
from ..problems import BudgetError, Problem
from ..carry import pair_lines
from .render import (budget_problems, done_run_or_404, files_of, guarded_form, problems_response, render, save_uploads,
                     store)
from .reviewing import ReviewEntry, ReviewError, canonical, write_workbook, workbook_reviews
from .runs import Labels

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS = "application/vnd.oasis.opendocument.spreadsheet"


def review_entries(request: Request, rid: str) -> dict[int, ReviewEntry]:
    """The run's saved reviews as entries, by line index."""
    return {idx: ReviewEntry(category=r["category"], note=r["note"] or "",
                             amount=None if r["amount"] is None else Decimal(r["amount"]),
                             percent=None if r["percent"] is None else Decimal(r["percent"]))
            for idx, r in store(request).reviews(rid).items()}


def _scratch(request: Request) -> Path:
    folder = store(request).scratch / secrets.token_hex(8)
    folder.mkdir()
    return folder


def _stem(run: Any, request: Request) -> str:
    import json

    first = store(request).upload(json.loads(run["inputs"])[0])
    return Path(first.name).stem if first else "性別預算"


def _file(path: Path, folder: Path, media: str) -> FileResponse:
    return FileResponse(path, media_type=media, filename=path.name,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


async def downloads(request: Request) -> Response:
    """The download links and the forms for an earlier year's workbook and a reviewed workbook."""
    run = done_run_or_404(request)
    ws = store(request).workspace(run["workspace"])
    earlier = store(request).uploads_of(ws["id"], "annotated")
    chosen = request.query_params.get("compare", "")
    rules = request.app.state.runner.rules_of(run)
    return render(request, "downloads.html", ws=ws, run=run, earlier=earlier, chosen=chosen, tab="downloads",
                  reviews=len(store(request).reviews(run["id"])), unit=rules.report.unit,
                  imported=request.query_params.get("imported"))


def _workbook_format(request: Request) -> str:
    """The download's format from its path (``xlsx`` or ``ods``); any other is not found."""
    fmt = request.path_params["fmt"]
    if fmt not in ("xlsx", "ods"):
        raise HTTPException(404, "只提供 .xlsx 與 .ods")
    return fmt


def _write_annotated(request: Request, run: Any, folder: Path, suffix: str) -> Path:
    result = request.app.state.runner.result(run["id"])
    target = folder / f"{_stem(run, request)}.性別預算{suffix}"
    write_workbook(target, result, review_entries(request, run["id"]))
    return target


async def annotated(request: Request) -> Response:
    """The annotated workbook (.xlsx or .ods) with every browser review in its review columns."""
    run = done_run_or_404(request)
    fmt = _workbook_format(request)
    folder = _scratch(request)
    try:
        path = await run_in_threadpool(_write_annotated, request, run, folder, "." + fmt)
    except BudgetError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return problems_response(request, budget_problems(exc), title="無法產出附註工作簿", status=500)
    return _file(path, folder, XLSX if fmt == "xlsx" else ODS)


def _write_report(request: Request, run: Any, folder: Path, unit: str | None, compare: list[Any],
                  suffix: str = ".xlsx") -> Path:
    from ..pipeline import make_report
    from ..outputs.report_workbook import write_report_workbook

    rules = request.app.state.runner.rules_of(run)
    current = _write_annotated(request, run, folder, ".xlsx")
    paths = [store(request).path_of(u) for u in compare]
    labels = Labels(zip(paths, (u.name for u in compare)))
    try:
        built = make_report([current, *paths], rules, unit=unit)
    except BudgetError as exc:
        raise BudgetError(labels.problems(exc.problems)) from None
    target = folder / f"{built.report_year}年度性別預算報告{suffix}"
    write_report_workbook(built, target, [current, *paths])
    return target


async def report(request: Request) -> Response:
    """The annual report (.xlsx or .ods); ``?unit=千元`` and ``?compare=<upload>`` (repeatable) for earlier years."""
    run = done_run_or_404(request)
    fmt = _workbook_format(request)
    unit = request.query_params.get("unit") or None
    if unit is not None and canonical_unit(unit) is None:
        return problems_response(request, [Problem("unit-unknown", f"不認得的金額單位「{unit}」（可用：元、千元、萬元）",
                                                   "unknown unit")])
    compare = []
    for uid in request.query_params.getlist("compare"):
        upload = store(request).upload(uid, run["workspace"])
        if upload is None or upload.kind != "annotated":
            raise HTTPException(404, "找不到要比較的附註工作簿")
        compare.append(upload)
    folder = _scratch(request)
    try:
        path = await run_in_threadpool(_write_report, request, run, folder, unit, compare, "." + fmt)
    except BudgetError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return problems_response(request, budget_problems(exc), title="無法產出年度報告")
    return _file(path, folder, XLSX if fmt == "xlsx" else ODS)


async def upload_earlier(request: Request) -> Response:
    """Store an earlier year's annotated workbook; the downloads page then offers the compared report."""
    from ..outputs.readback import is_annotated

    run = done_run_or_404(request)
    form = await guarded_form(request)
    back = f"/w/{run['workspace']}/runs/{run['id']}/downloads"
    try:
        uploads = await save_uploads(request, files_of(form, "file")[:1], run["workspace"], "annotated")
    except BudgetError as exc:
        return problems_response(request, budget_problems(exc), back=back)
    if not uploads:
        return problems_response(request, [Problem("web-no-file", "請選擇去年的附註工作簿", "choose a file")], back=back)
    if not await run_in_threadpool(is_annotated, store(request).path_of(uploads[0])):
        return problems_response(request, [Problem(
            "report-not-annotated", "這不是本工具產出的附註工作簿（需含「明細」與「資料」工作表）",
            "not an annotated workbook", file=uploads[0].name)], back=back)
    return _redirect(f"{back}?compare={uploads[0].id}")


def _redirect(url: str) -> Response:
    from starlette.responses import RedirectResponse

    return RedirectResponse(url, 303)


def _import(request: Request, run: Any, upload: Any) -> tuple[int, list[Problem]]:
    """Save the reviews of an uploaded annotated workbook onto the same lines of this run."""
    from .pages_review import _decide

    rules = request.app.state.runner.rules_of(run)
    result = request.app.state.runner.result(run["id"])
    labels = Labels([(store(request).path_of(upload), upload.name)])
    try:
        book, entries, problems = workbook_reviews(store(request).path_of(upload), rules)
    except BudgetError as exc:
        raise BudgetError(labels.problems(exc.problems)) from None
    problems = labels.problems(problems)
    rows = list(entries)
    pairs = pair_lines([book.rows[i].line for i in rows], result.lines)
    current = store(request).reviews(run["id"])
    saved = 0
    for k, idx in pairs:
        entry = canonical(entries[rows[k]], rules)
        try:
            final = _decide(request, run, idx, entry)
        except ReviewError as exc:
            line = result.lines[idx]
            problems.append(Problem("review-invalid", exc.message, "", file=upload.name, row=book.rows[rows[k]].detail_row,
                                    sheet="明細", hint=f"對應 {line.source}"))
            continue
        seen = current[idx]["version"] if idx in current else 0
        stored = {"category": entry.category, "note": entry.note,
                  "amount": format_amount(entry.amount) if entry.amount is not None else None,
                  "percent": format_amount(entry.percent) if entry.percent is not None else None}
        store(request).save_review(run["id"], idx, stored, final, seen)
        saved += 1
    unplaced = len(rows) - len(pairs)
    if unplaced:
        problems.append(Problem("review-not-placed", f"{unplaced} 筆覆核找不到本次分類中相同的項目，未匯入",
                                "reviews with no matching line", file=upload.name))
    return saved, problems


async def import_reviews(request: Request) -> Response:
    """Import the 覆核 entries of an annotated workbook reviewed further in Excel or LibreOffice."""
    run = done_run_or_404(request)
    form = await guarded_form(request)
    back = f"/w/{run['workspace']}/runs/{run['id']}/downloads"
    try:
        uploads = await save_uploads(request, files_of(form, "file")[:1], run["workspace"], "annotated")
        if not uploads:
            raise BudgetError.one("web-no-file", "請選擇已覆核的附註工作簿", "choose a file")
        saved, problems = await run_in_threadpool(_import, request, run, uploads[0])
    except BudgetError as exc:
        return problems_response(request, budget_problems(exc), title="無法匯入覆核", back=back)
    ws = store(request).workspace(run["workspace"])
    return render(request, "imported.html", ws=ws, run=run, saved=saved, problems=problems, tab="downloads")
