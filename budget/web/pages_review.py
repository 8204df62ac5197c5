"""結果 and 覆核: the run's page (progress, problems or figures and the 待覆核 queue), 明細, saving a review."""

from __future__ import annotations

import json
from math import ceil
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from ..models import STATUS_LABELS
from ..money import format_amount, format_thousands
from ..problems import Problem
from .figures import current_figures, figures_json
from .render import done_run_or_404, guarded_form, problems_response, render, run_or_404, safe_back, store, wants_json
from .reviewing import ReviewError, canonical, category_choices, entry_from_form, entry_text, is_cleared, review_decision
from .runs import stored_line

PER_PAGE = 50
STATUS_FILTERS = [("", "全部"), ("review", "待覆核"), ("matched", "符合"), ("unmatched", "不符合"),
                  ("excluded", "小計不計"), ("reviewed", "已覆核")]


def _problems(run: Any) -> list[Problem]:
    return [Problem(**p) for p in json.loads(run["problems"] or "[]")]


def figures_of(request: Request, run: Any) -> dict[str, Any]:
    """The run's 摘要 figures with every saved review applied."""
    rules = request.app.state.runner.rules_of(run)
    reviews = store(request).reviews(run["id"])
    lines = store(request).lines_at(run["id"], reviews)
    class_of = {c.id: c.official_class for c in rules.categories}
    return current_figures(json.loads(run["totals"]), lines, reviews, class_of)


def _page_args(request: Request) -> tuple[str, str, int]:
    q = request.query_params.get("q", "")[:200]
    status = request.query_params.get("status", "")
    if status not in dict(STATUS_FILTERS):
        status = ""
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    return q, status, page


def _table(request: Request, run: Any, q: str, status: str, page: int) -> dict[str, Any]:
    rules = request.app.state.runner.rules_of(run)
    rows, total = store(request).lines_page(run["id"], query=q, status=status, page=page, per_page=PER_PAGE)
    return {"rows": rows, "total": total, "page": page, "pages": max(1, ceil(total / PER_PAGE)), "q": q,
            "status": status, "choices": category_choices(rules),
            "names": {c.id: c.name for c in rules.categories}}


async def run_page(request: Request) -> Response:
    """While running: progress. Failed: the problems. Done: 結果 (摘要 figures, chart, 待覆核 queue)."""
    run = run_or_404(request)
    ws = store(request).workspace(run["workspace"])
    if run["status"] in ("queued", "running"):
        return render(request, "progress.html", ws=ws, run=run, state=request.app.state.runner.state(run["id"]))
    if run["status"] != "done":
        return render(request, "failed.html", ws=ws, run=run, problems=_problems(run), tab="results")
    _, _, page = _page_args(request)
    figures = await run_in_threadpool(figures_of, request, run)
    table = await run_in_threadpool(_table, request, run, "", "review", page)
    return render(request, "results.html", ws=ws, run=run, fig=figures, table=table, problems=_problems(run),
                  totals=json.loads(run["totals"]), tab="results", base=request.url.path)


async def lines(request: Request) -> Response:
    """明細: every line, searched and paged in the database, each with its review form."""
    run = done_run_or_404(request)
    ws = store(request).workspace(run["workspace"])
    q, status, page = _page_args(request)
    table = await run_in_threadpool(_table, request, run, q, status, page)
    return render(request, "lines.html", ws=ws, run=run, table=table, filters=STATUS_FILTERS, tab="lines",
                  base=request.url.path)


def _decide(request: Request, run: Any, idx: int, entry: Any) -> dict[str, Any] | None:
    """The reviewed decision's figures for storing; None when the entry is cleared. Raises ReviewError."""
    if is_cleared(entry):
        return None
    runner = request.app.state.runner
    cached = runner.cached(run["id"])
    if cached is not None and idx < len(cached.lines):
        line, decision = cached.lines[idx], cached.decisions[idx]
    else:
        row = store(request).line(run["id"], idx)
        line, decision = stored_line(row)
    reviewed = review_decision(entry, line, decision, runner.rules_of(run))
    return {"status": reviewed.status, "category": reviewed.category,
            "share": format_amount(reviewed.share_percent) if reviewed.share_percent is not None else None,
            "gender": format_amount(reviewed.gender_amount)}


async def save_review(request: Request) -> Response:
    """Save one line's review at once (the later save wins; a save over someone else's says so)."""
    run = done_run_or_404(request)
    form = await guarded_form(request)
    idx = request.path_params["idx"]
    row = store(request).line(run["id"], idx)
    if row is None:
        raise HTTPException(404, "找不到這一列")
    back = safe_back(form.get("back"), f"/w/{run['workspace']}/runs/{run['id']}")
    try:
        entry = canonical(entry_from_form(str(form.get("category") or ""), str(form.get("amount") or ""),
                                          str(form.get("percent") or ""), str(form.get("note") or "")),
                          request.app.state.runner.rules_of(run))
        final = await run_in_threadpool(_decide, request, run, idx, entry)
    except ReviewError as exc:
        where = {"file": row["file"] or None, "sheet": row["sheet"] or None, "row": row["row"]}
        return problems_response(request, [Problem("review-invalid", exc.message, "", hint=exc.hint, **where)],
                                 title="覆核未儲存", status=400, back=back)
    try:
        seen = int(form.get("version") or 0)
    except ValueError:
        seen = 0
    stored = {"category": entry.category, "note": entry.note,
              "amount": format_amount(entry.amount) if entry.amount is not None else None,
              "percent": format_amount(entry.percent) if entry.percent is not None else None}
    version, conflict = store(request).save_review(run["id"], idx, stored, final, seen)
    if not wants_json(request):
        return RedirectResponse(back, 303)
    fresh = store(request).run(run["id"])
    figures = await run_in_threadpool(figures_of, request, fresh)
    names = {c.id: c.name for c in request.app.state.runner.rules_of(run).categories}
    notice = ""
    if conflict is not None:
        notice = (f"此列已由另一位同仁於 {conflict['saved'][11:19]} 修改為「{_review_text(conflict, names) or '（清除）'}」，"
                  "已改為你剛才的儲存。")
    return JSONResponse({
        "ok": True, "version": version, "conflict": conflict is not None, "notice": notice,
        "line": _line_after(row, final, names), "figures": figures_json(figures),
    })


def _review_text(review: Any, names: dict[str, str]) -> str:
    from .reviewing import ReviewEntry

    entry = ReviewEntry(category=names.get(review["category"], review["category"] or ""),
                        amount=None if review["amount"] is None else _dec(review["amount"]),
                        percent=None if review["percent"] is None else _dec(review["percent"]), note=review["note"] or "")
    return entry_text(entry)


def _dec(text: str) -> Any:
    from decimal import Decimal

    return Decimal(text)


def _line_after(row: Any, final: dict[str, Any] | None, names: dict[str, str]) -> dict[str, Any]:
    """What the row shows after a save: status, category and counted amount."""
    if final is None:
        status, category, gender = row["status"], row["category"], row["gender"]
    else:
        status, category, gender = final["status"], final["category"], final["gender"]
    counted = gender if status == "matched" else None
    return {"status": status, "status_label": STATUS_LABELS.get(status, status),
            "category": names.get(category or "", category or ""),
            "gender": format_thousands(_dec(counted)) if counted else "", "reviewed": final is not None}


async def changes(request: Request) -> Response:
    """Reviews saved after version ``since`` (so a page sees another clerk's saves), and the figures."""
    run = done_run_or_404(request)
    try:
        since = int(request.query_params.get("since", "0"))
    except ValueError:
        since = 0
    names = {c.id: c.name for c in request.app.state.runner.rules_of(run).categories}
    saved = store(request).reviews_since(run["id"], since)
    lines = store(request).lines_at(run["id"], [r["idx"] for r in saved])
    out = [{"idx": r["idx"], "version": r["version"], "category": r["category"], "amount": r["amount"] or "",
            "percent": r["percent"] or "", "note": r["note"], "saved": r["saved"][11:19],
            "text": _review_text(r, names),
            "line": _line_after(lines[r["idx"]], None if not r["status"] else
                                {"status": r["status"], "category": r["final_category"], "gender": r["final_gender"]},
                                names)} for r in saved if r["idx"] in lines]
    figures = await run_in_threadpool(figures_of, request, store(request).run(run["id"]))
    return JSONResponse({"seq": store(request).run(run["id"])["review_seq"], "changes": out,
                         "figures": figures_json(figures)})
