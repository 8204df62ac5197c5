"""Helpers for the web page's tests: an application on a temporary data folder, its CSRF token, a finished run."""

from __future__ import annotations

import re
import time
import warnings
from pathlib import Path
from typing import Any

with warnings.catch_warnings():  # starlette asks for httpx2; httpx works the same for these tests
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from budget.web import WebSettings, create_app

BASE = "http://127.0.0.1:8765"
#: A tiny export made up for the tests (千元): two gender lines, one to review, one not gender budget.
HEADER = ["工作計畫", "用途別科目", "說明", "本年度預算數"]
ROWS = [
    ["3203100100 一般行政", "2036 按日按件計資酬金", "性別平等專案小組外聘委員出席費", "60"],
    ["3203100100 一般行政", "2003 教育訓練費", "性別意識培力課程講座鐘點費", "40"],
    ["3203100100 一般行政", "2054 一般事務費", "辦理性別影響分析、網站改版及公務車輛保養等經費", "300"],
    ["3203100100 一般行政", "2054 一般事務費", "辦公用品及文具", "1234"],
]


def csv_bytes(rows: list[list[str]] | None = None, title: str = "116年度歲出預算明細表 單位：新臺幣千元") -> bytes:
    """An export as CSV bytes (UTF-8 with BOM), with a title row."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title])
    writer.writerow(HEADER)
    writer.writerows(rows if rows is not None else ROWS)
    return out.getvalue().encode("utf-8-sig")


def make_client(data: Path, **settings: Any) -> TestClient:
    """A TestClient for an application whose data live in ``data``."""
    return TestClient(create_app(WebSettings(data=data, **settings)), base_url=BASE)


def token(client: TestClient) -> str:
    """This browser's CSRF token (the cookie the server set on the first page)."""
    if not client.cookies.get("gb_csrf"):
        client.get("/")
    return client.cookies.get("gb_csrf")


def workspace(client: TestClient) -> str:
    """The id of the first workspace (made on first visit)."""
    page = client.get("/")
    return re.search(r'href="/w/([^"]+)"', page.text).group(1)


def wait(client: TestClient, run_url: str, limit: int = 600) -> dict[str, Any]:
    """Poll a run's progress until it has finished; its last state."""
    for _ in range(limit):
        state = client.get(run_url + "/progress").json()
        if state["status"] not in ("queued", "running"):
            return state
        time.sleep(0.1)
    raise AssertionError(f"the run did not finish: {state}")


def classify(client: TestClient, ws: str, files: list[tuple[str, bytes]], **fields: str) -> str:
    """Upload ``files`` (name, bytes) to the 分類 form, wait for the run, return its page's path."""
    response = client.post(f"/w/{ws}/runs", data={"csrf": token(client), "rules": "server", **fields},
                           files=[("files", f) for f in files], follow_redirects=False)
    assert response.status_code == 303, response.text
    url = response.headers["location"]
    wait(client, url)
    return url


def review(client: TestClient, run_url: str, idx: int, *, category: str = "", amount: str = "", percent: str = "",
           note: str = "", version: int = 0) -> Any:
    """Save a review the way the page's script does (JSON answer)."""
    return client.post(f"{run_url}/lines/{idx}/review",
                       data={"csrf": token(client), "category": category, "amount": amount, "percent": percent,
                             "note": note, "version": str(version)},
                       headers={"accept": "application/json"})
