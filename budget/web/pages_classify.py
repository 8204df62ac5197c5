"""分類: workspaces, the upload form, starting a run in the background and its progress."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from ..money import canonical_unit
from ..problems import BudgetError, Problem
from ..rules import default_rules_path, parse_rules
from .render import (budget_problems, files_of, guarded_form, problems_response, render, run_or_404, save_uploads,
                     store, workspace_or_404)


async def home(request: Request) -> Response:
    """The list of workspaces and a form for a new one (one is made on first use)."""
    spaces = store(request).workspaces()
    if not spaces:
        store(request).create_workspace("預設工作區")
        spaces = store(request).workspaces()
    return render(request, "home.html", workspaces=spaces, tab="home")


async def create_workspace(request: Request) -> Response:
    """Make a workspace and go to it."""
    form = await guarded_form(request)
    wid = store(request).create_workspace(str(form.get("name") or ""))
    return RedirectResponse(f"/w/{wid}", 303)


async def workspace(request: Request) -> Response:
    """分類: the upload form (exports, rules) and the workspace's runs."""
    ws = workspace_or_404(request)
    return render(request, "workspace.html", ws=ws, runs=store(request).runs(ws["id"]),
                  rules=request.app.state.rules, tab="classify")


def _server_rules_bytes(request: Request) -> tuple[str, bytes]:
    settings = request.app.state.settings
    path = settings.rules or default_rules_path()
    label = f"{request.app.state.rules.name}（{'內建規則' if settings.rules is None else path.name}）.toml"
    return label, path.read_bytes()


async def start_run(request: Request) -> Response:
    """Store the uploaded exports (and rules file), queue the run, go to its page."""
    ws = workspace_or_404(request)
    form = await guarded_form(request)
    back = f"/w/{ws['id']}"
    exports = files_of(form, "files")
    if not exports:
        return problems_response(request, [Problem("web-no-file", "請選擇至少一個預算明細匯出檔（.xlsx、.xls、.ods、.csv）",
                                                   "choose at least one export")], back=back)
    options: dict[str, object] = {}
    unit = str(form.get("unit") or "").strip()
    if unit:
        canonical = canonical_unit(unit)
        if canonical is None:
            return problems_response(request, [Problem("unit-unknown", f"不認得的金額單位「{unit}」（可用：元、千元、萬元）",
                                                       "unknown unit")], back=back)
        options["unit"] = canonical
    for key in ("sheet", "encoding"):
        value = str(form.get(key) or "").strip()
        if value:
            options[key] = value[:100]
    try:
        rules_files = files_of(form, "rules_file") if form.get("rules") == "upload" else []
        if form.get("rules") == "upload" and not rules_files:
            raise BudgetError.one("web-no-file", "選了「上傳規則檔」，但沒有選擇檔案", "no rules file chosen")
        if rules_files:
            (rules_upload,) = await save_uploads(request, rules_files[:1], ws["id"], "rules")
            parse_rules(store(request).path_of(rules_upload).read_bytes(), rules_upload.name)  # refuse a bad one now
        else:
            label, data = _server_rules_bytes(request)
            rules_upload = store(request).save_bytes(ws["id"], "rules", label, data)
        uploads = await save_uploads(request, exports, ws["id"], "export")
    except BudgetError as exc:
        return problems_response(request, budget_problems(exc), title="無法開始分類", back=back)
    rid = store(request).create_run(ws["id"], [u.id for u in uploads], rules_upload.id, options)
    request.app.state.runner.start(rid)
    return RedirectResponse(f"/w/{ws['id']}/runs/{rid}", 303)


async def progress(request: Request) -> Response:
    """The run's state for the progress bar: status, stage, done, total."""
    run = run_or_404(request)
    return JSONResponse(request.app.state.runner.state(run["id"]))


async def retry(request: Request) -> Response:
    """Run an interrupted or failed run again with the same uploads."""
    run = run_or_404(request)
    await guarded_form(request)
    if run["status"] in ("interrupted", "failed"):
        store(request).set_state(run["id"], "queued", "queued")
        request.app.state.runner.start(run["id"])
    return RedirectResponse(f"/w/{run['workspace']}/runs/{run['id']}", 303)
