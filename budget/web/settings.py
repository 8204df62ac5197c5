"""What `serve` is started with: address, password, data folder, rules, upload limit; and the binding check."""

from __future__ import annotations

import ipaddress
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ..problems import BudgetError

#: Largest request body (one upload form, all its files together) accepted by default: 100 MiB.
DEFAULT_MAX_UPLOAD_MB = 100
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
APP_FOLDER = "gender-budget"


def default_data_dir() -> Path:
    """The per-user folder where workspaces live: %LOCALAPPDATA%, ~/Library/Application Support, or XDG data."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / APP_FOLDER
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP_FOLDER
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / APP_FOLDER


def is_local_host(host: str) -> bool:
    """True when ``host`` only accepts connections from this computer (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_binding(host: str, password: str | None) -> None:
    """Refuse (:class:`BudgetError` ``serve-needs-password``) to listen beyond this computer without a password."""
    if not is_local_host(host) and not password:
        raise BudgetError.one(
            "serve-needs-password",
            f"--host {host} 會讓其他電腦連線，必須同時以 --password 設定密碼（或設定環境變數 GENDER_BUDGET_PASSWORD）",
            "listening on a non-local address needs --password",
            hint="只在本機使用時省略 --host（預設 127.0.0.1）；對外開放時加 --password 並告知同仁")


@dataclass(frozen=True)
class WebSettings:
    """How the web application runs. ``rules`` None = the bundled rules; ``password`` None = no login."""

    data: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    password: str | None = None
    rules: Path | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_MB << 20
    workers: int = 1

    def __post_init__(self) -> None:
        check_binding(self.host, self.password)

    @property
    def address(self) -> str:
        """The address to open in a browser."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"
