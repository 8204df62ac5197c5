"""The web application: routes, templates, the request guard, and the store and runner it works on."""

from __future__ import annotations

import contextlib
import hmac
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..models import STATUS_LABELS
from ..money import format_amount, format_thousands
from ..problems import Problem
from ..rules import load_rules
from . import pages_check, pages_classify, pages_download, pages_review
from .render import guarded_form, problems_response, render, safe_back
from .runs import Runner
from .security import AUTH_COOKIE, Guard, auth_token, load_secret
from .settings import WebSettings
from .store import Store

HERE = Path(__file__).resolve().parent


def _money(value: Any) -> str:
    from decimal import Decimal

    if value in (None, ""):
        return ""
    return format_thousands(value if isinstance(value, Decimal) else Decimal(str(value)))


def _plain(value: Any) -> str:
    from decimal import Decimal

    if value in (None, ""):
        return ""
    return format_amount(value if isinstance(value, Decimal) else Decimal(str(value)))


def _templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = _money
    env.filters["plain"] = _plain
    env.globals["STATUS_LABELS"] = STATUS_LABELS
    return Jinja2Templates(env=env)


async def login_page(request: Request) -> Response:
    """The password form (only when the server has a password)."""
    if not request.app.state.settings.password:
        return RedirectResponse("/", 303)
    return render(request, "login.html", next=safe_back(request.query_params.get("next"), "/"), failed=False)


async def login(request: Request) -> Response:
    """Check the password; on success set the login cookie."""
    settings = request.app.state.settings
    form = await guarded_form(request)
    target = safe_back(form.get("next"), "/")
    given = str(form.get("password") or "")
    if not settings.password or not hmac.compare_digest(given.encode(), settings.password.encode()):
        return render(request, "login.html", status=401, next=target, failed=True)
    response = RedirectResponse(target, 303)
    response.set_cookie(AUTH_COOKIE, auth_token(request.app.state.secret, settings.password), httponly=True,
                        samesite="strict", path="/")
    return response


async def http_error(request: Request, exc: Exception) -> Response:
    """HTTP errors as zh-TW pages (or JSON for the page script)."""
    status = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", "") or "發生錯誤"
    titles = {403: "已拒絕", 404: "找不到", 409: "尚未完成", 413: "檔案太大"}
    return problems_response(request, [Problem("web-request-refused", str(detail), "")], title=titles.get(status, "錯誤"),
                             status=status)


ROUTES = [
    Route("/", pages_classify.home),
    Route("/login", login_page),
    Route("/login", login, methods=["POST"]),
    Route("/workspaces", pages_classify.create_workspace, methods=["POST"]),
    Route("/w/{ws}", pages_classify.workspace),
    Route("/w/{ws}/runs", pages_classify.start_run, methods=["POST"]),
    Route("/w/{ws}/runs/{run}", pages_review.run_page),
    Route("/w/{ws}/runs/{run}/progress", pages_classify.progress),
    Route("/w/{ws}/runs/{run}/retry", pages_classify.retry, methods=["POST"]),
    Route("/w/{ws}/runs/{run}/lines", pages_review.lines),
    Route("/w/{ws}/runs/{run}/lines/{idx:int}/review", pages_review.save_review, methods=["POST"]),
    Route("/w/{ws}/runs/{run}/reviews", pages_review.changes),
    Route("/w/{ws}/runs/{run}/downloads", pages_download.downloads),
    Route("/w/{ws}/runs/{run}/annotated.{fmt:str}", pages_download.annotated),
    Route("/w/{ws}/runs/{run}/report.{fmt:str}", pages_download.report),
    Route("/w/{ws}/runs/{run}/earlier", pages_download.upload_earlier, methods=["POST"]),
    Route("/w/{ws}/runs/{run}/import", pages_download.import_reviews, methods=["POST"]),
    Route("/check", pages_check.check_page),
    Route("/check", pages_check.check_one, methods=["POST"]),
    Route("/check/batch", pages_check.check_batch, methods=["POST"]),
    Route("/check/batch/{upload}.xlsx", pages_check.batch_download),
    Route("/rules", pages_check.rules_page),
    Route("/rules/test", pages_check.rules_test, methods=["POST"]),
    Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
]


def create_app(settings: WebSettings) -> Starlette:
    """The application for ``settings``: its data folder opened (made if missing), the rules in use loaded.

    Raises :class:`~budget.problems.BudgetError` when the rules file cannot be used.
    """
    rules = load_rules(settings.rules)
    store = Store(settings.data)
    store.mark_interrupted()
    runner = Runner(store)
    secret = load_secret(settings.data)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        runner.shutdown()

    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(Guard, secret=secret, password=settings.password, max_body=settings.max_upload_bytes)],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.runner = runner
    app.state.rules = rules
    app.state.secret = secret
    app.state.templates = _templates()
    return app
