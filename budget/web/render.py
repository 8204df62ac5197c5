"""What every page handler shares: rendering a template, showing problems, reading a guarded form, lookups."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from ..problems import BudgetError, Problem
from .security import csrf_ok
from .store import Store, Upload, UploadTooLarge

#: Most files one upload form takes.
MAX_FILES = 20


def store(request: Request) -> Store:
    """The application's store."""
    return request.app.state.store


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from ``template`` (autoescaped), with the CSRF token and settings every page needs."""
    context.setdefault("csrf", request.scope.get("state", {}).get("csrf", ""))
    context.setdefault("settings", request.app.state.settings)
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status)


def wants_json(request: Request) -> bool:
    """True for the page script's requests (it asks for JSON)."""
    return "application/json" in request.headers.get("accept", "")


def problems_response(request: Request, problems: list[Problem], *, title: str = "無法處理", status: int = 400,
                      back: str | None = None) -> Response:
    """Problems as a page (or JSON for the script), each with file › sheet › row › column and hint."""
    if wants_json(request):
        return JSONResponse({"ok": False, "problems": [p.to_dict() | {"location": p.location} for p in problems]},
                            status_code=status)
    return render(request, "problems.html", status=status, title=title, problems=problems, back=back)


async def guarded_form(request: Request) -> Any:
    """The request's form after the CSRF check (403 page when the token is missing or wrong)."""
    form = await request.form(max_files=MAX_FILES, max_fields=200)
    if not csrf_ok(request, form):
        raise HTTPException(403, "表單驗證碼不符（可能是跨站請求，或頁面開啟過久）。請重新整理頁面後再送出。")
    return form


def files_of(form: Any, field: str) -> list[Any]:
    """The non-empty uploaded files of a form field."""
    return [f for f in form.getlist(field) if hasattr(f, "filename") and f.filename]


async def save_uploads(request: Request, files: list[Any], workspace: str | None, kind: str) -> list[Upload]:
    """Store uploaded files under generated names; raises BudgetError for a refused type, 413 past the limit."""
    limit = request.app.state.settings.max_upload_bytes
    saved = []
    for f in files:
        try:
            saved.append(await run_in_threadpool(store(request).save_upload, workspace, kind, f.filename, f.file, limit))
        except UploadTooLarge:
            raise HTTPException(413, "上傳的檔案超過大小上限，未儲存。") from None
    return saved


def workspace_or_404(request: Request) -> Any:
    """The workspace named in the path."""
    ws = store(request).workspace(request.path_params["ws"])
    if ws is None:
        raise HTTPException(404, "找不到這個工作區")
    return ws


def run_or_404(request: Request) -> Any:
    """The run named in the path (of the workspace named in the path)."""
    run = store(request).run(request.path_params["run"], request.path_params["ws"])
    if run is None:
        raise HTTPException(404, "找不到這次分類")
    return run


def done_run_or_404(request: Request) -> Any:
    """The run named in the path, which must have finished."""
    run = run_or_404(request)
    if run["status"] != "done":
        raise HTTPException(409, "這次分類尚未完成或未成功")
    return run


def safe_back(value: Any, default: str) -> str:
    """A same-site path to return to after a form (never an address elsewhere)."""
    text = str(value or "")
    return text if text.startswith("/") and not text.startswith("//") and "\\" not in text else default


def budget_problems(exc: BudgetError) -> list[Problem]:
    """The problems of a BudgetError (never empty)."""
    return exc.problems or [Problem("internal-error", "未知的錯誤", "unknown error")]
