"""Guards around every request: login when a password is set, cross-site form posts refused (Origin check and
a per-browser token), request bodies size-limited, and headers that keep pages from running foreign code."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from base64 import b64decode
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import quote, urlsplit

CSRF_COOKIE = "gb_csrf"
AUTH_COOKIE = "gb_auth"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: Paths reachable without logging in.
OPEN_PATHS = ("/login", "/static/")
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


def load_secret(folder: Path) -> bytes:
    """The server's signing key, made once and kept in the data folder (so a restart keeps logins)."""
    path = Path(folder) / "secret.key"
    if not path.is_file():
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


def auth_token(secret: bytes, password: str) -> str:
    """The login cookie's value for ``password`` (changes when the password does)."""
    return hmac.new(secret, b"login:" + password.encode(), hashlib.sha256).hexdigest()


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 - a malformed cookie header counts as none
        return {}
    return {k: m.value for k, m in jar.items()}


def _local_host_header(host: str) -> bool:
    """True when a Host header names this computer (127.0.0.1, localhost, [::1], with any port)."""
    from .settings import is_local_host

    name = host.strip()
    if name.startswith("["):
        name = name[1:].partition("]")[0]
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    return bool(name) and is_local_host(name)


def _same_origin(value: str, scope: Scope, headers: dict[str, str]) -> bool:
    """True when ``value`` (an Origin or Referer) is this server as the browser addressed it."""
    parts = urlsplit(value)
    scheme = scope.get("scheme", "http")
    return parts.scheme == scheme and parts.netloc.lower() == headers.get("host", "").lower()


async def _page(send: Any, status: int, title: str, message: str, extra: list[tuple[bytes, bytes]] = ()) -> None:
    """A minimal zh-TW HTML page for answers given before the application runs."""
    from html import escape

    body = (f"<!doctype html><html lang=\"zh-Hant-TW\"><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<link rel=\"stylesheet\" href=\"/static/style.css\"><main class=\"page\"><h1>{escape(title)}</h1>"
            f"<p class=\"problem\">{escape(message)}</p><p><a href=\"/\">回首頁</a></p></main></html>").encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            (b"content-security-policy", CSP.encode()), *extra]})
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    """The request body went past the limit."""


class Guard:
    """ASGI middleware: size limit, login, Origin check for unsafe methods, CSRF cookie, security headers.

    The CSRF token is a random per-browser value in a SameSite=Strict cookie; forms carry it in the
    ``csrf`` field and scripts in the ``X-CSRF-Token`` header (see :func:`csrf_ok`). It is put in
    ``scope["state"]["csrf"]`` for templates.
    """

    def __init__(self, app: ASGIApp, *, secret: bytes, password: str | None, max_body: int) -> None:
        self.app = app
        self.secret = secret
        self.password = password
        self.max_body = max_body
        self.login_token = auth_token(secret, password) if password else ""

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if not self.password and not _local_host_header(headers.get("host", "")):
            # without a password only this computer may use the pages: a page elsewhere whose name
            # resolves to 127.0.0.1 (DNS rebinding) must not read or change the workspaces
            await _page(send, 400, "不接受的網址", "請以 http://127.0.0.1 或 http://localhost 開啟本工具。")
            return
        cookies = _cookies(headers)
        method = scope["method"]
        path = scope.get("path", "/")
        if method in UNSAFE:
            origin = headers.get("origin") or headers.get("referer")
            if origin and origin != "null" and not _same_origin(origin, scope, headers):
                await _page(send, 403, "已拒絕跨站請求", "這個表單不是從本工具的網頁送出的，為保護資料已拒絕。請從本工具的頁面重新操作。")
                return
            if headers.get("origin") == "null":
                await _page(send, 403, "已拒絕跨站請求", "來源不明的表單已拒絕。請從本工具的頁面重新操作。")
                return
        if self.password and not path.startswith(OPEN_PATHS) and not self._logged_in(headers, cookies):
            if method == "GET":
                target = quote(path + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else ""))
                await send({"type": "http.response.start", "status": 303,
                            "headers": [(b"location", f"/login?next={target}".encode()), (b"content-length", b"0")]})
                await send({"type": "http.response.body", "body": b""})
            else:
                await _page(send, 401, "請先登入", "此伺服器需要密碼，請先登入。", [(b"www-authenticate", b'Basic realm="gender-budget"')])
            return
        length = headers.get("content-length")
        if length and length.isdigit() and int(length) > self.max_body:
            await self._too_large(send)
            return
        token = cookies.get(CSRF_COOKIE, "")
        new_token = "" if len(token) >= 32 and token.isalnum() else secrets.token_hex(16)
        state = scope.setdefault("state", {})
        state["csrf"] = new_token or token
        started = False

        async def counted_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                counted_receive.size += len(message.get("body", b""))  # type: ignore[attr-defined]
                if counted_receive.size > self.max_body:  # type: ignore[attr-defined]
                    raise BodyTooLarge()
            return message

        counted_receive.size = 0  # type: ignore[attr-defined]

        async def guarded_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                extra = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY")]
                if new_token:
                    extra.append((b"set-cookie", f"{CSRF_COOKIE}={new_token}; Path=/; HttpOnly; SameSite=Strict".encode()))
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except BodyTooLarge:
            if not started:
                await self._too_large(send)

    async def _too_large(self, send: Any) -> None:
        mb = self.max_body / (1 << 20)
        await _page(send, 413, "檔案太大", f"上傳的檔案合計超過 {mb:g} MB 上限，未儲存。請分批上傳，或請管理者以 "
                                          f"--max-upload-mb 調高上限。")

    def _logged_in(self, headers: dict[str, str], cookies: dict[str, str]) -> bool:
        if hmac.compare_digest(cookies.get(AUTH_COOKIE, ""), self.login_token):
            return True
        auth = headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        given = ""
        if scheme.lower() == "bearer":
            given = value.strip()
        elif scheme.lower() == "basic":
            try:
                given = b64decode(value.strip()).decode("utf-8").partition(":")[2]
            except Exception:  # noqa: BLE001 - a malformed header is not a login
                given = ""
        return bool(given) and hmac.compare_digest(given.encode(), (self.password or "").encode())


def csrf_ok(request: Any, form: Any = None) -> bool:
    """True when an unsafe request carries this browser's CSRF token (form field or header)."""
    expected = request.cookies.get(CSRF_COOKIE, "")
    given = request.headers.get(CSRF_HEADER) or (form.get(CSRF_FIELD) if form is not None else None) or ""
    return bool(expected) and hmac.compare_digest(str(given), expected)
