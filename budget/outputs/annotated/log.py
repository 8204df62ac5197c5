"""紀錄: what the run read, counted and found; the check of the hidden 資料 sheet."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...money import format_amount
from ...problems import ERROR

if TYPE_CHECKING:  # pragma: no cover
    from .book import Book

#: Label of the 紀錄 row holding the SHA-256 of all 資料 records (read back to find edited records).
DATA_CHECK_LABEL = "資料檢查碼 SHA-256"
#: Label of the 紀錄 row holding the SHA-256 of 明細's 計算金額, 判定 and 來源 cells (see annotated.detail.detail_fingerprint).
DETAIL_CHECK_LABEL = "明細檢查碼 SHA-256"


def write_log(book: "Book", ws: Any) -> None:
    """The run: tool, inputs, sheets, counts and totals, timings, every problem, the 資料 check."""
    run, totals, cells = book.run, book.run.totals, book.cells
    r = 0

    def pair(label: str, value: Any, kind: str | None = None) -> None:
        nonlocal r
        cells.text(ws, r, 0, label, "bold")
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            cells.number(ws, r, 1, value, kind)
        elif value not in (None, ""):
            cells.text(ws, r, 1, str(value))
        r += 1

    def table(title: str, head: list[str], rows: list[list[Any]]) -> None:
        nonlocal r
        r += 1
        cells.text(ws, r, 0, title, "title2")
        r += 1
        for c, h in enumerate(head):
            cells.text(ws, r, c, h, "header")
        for values in rows:
            r += 1
            for c, value in enumerate(values):
                if value is None or value == "":
                    continue
                if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                    cells.number(ws, r, c, value)
                else:
                    cells.text(ws, r, c, str(value))
        r += 1

    cells.text(ws, r, 0, "執行紀錄 Run log", "title")
    r += 1
    pair("工具版本", f"gender-budget {run.tool_version}")
    pair("執行時間", run.started.isoformat(timespec="seconds"))
    pair("輸出檔", Path(run.output).name if run.output else "")
    pair("規則檔", f"{run.rules.name}（{run.rules.path}）")
    pair("規則檔 SHA-256", run.rules.sha256)
    pair("金額單位", f"{book.unit}：{totals.unit_note}")

    table("輸入檔 Inputs", ["檔名", "路徑", "SHA-256", "格式", "大小（位元組）", "編碼", "略過的工作表"], [
        [_get(s, "name"), _get(s, "path"), _get(s, "sha256"), _get(s, "format"), _get(s, "size"),
         _get(s, "encoding"), "、".join(_get(s, "skipped_sheets") or [])] for s in run.sources])
    table("工作表 Sheets", ["檔名", "工作表", "表頭列", "欄位對應", "單位", "年度", "讀取列數", "明細行數", "小計列數",
                           "略過空白列", "隱藏"], [
        [_get(s, "name"), _get(sh, "name"), _get(sh, "header_row"), _mapping_text(_get(sh, "mapping")),
         _get(sh, "unit"), _get(sh, "year"), _get(sh, "rows_read"), _get(sh, "lines"), _get(sh, "totals"),
         _get(sh, "skipped_blank"), "是" if _get(sh, "hidden") else ""]
        for s in run.sources for sh in (_get(s, "sheets") or [])])

    r += 1
    cells.text(ws, r, 0, "列數與總額 Counts and totals", "title2")
    r += 1
    pair("讀取列數", totals.rows_read)
    pair("明細行數（不含小計）", totals.lines)
    pair("計入預算總額的行數", totals.counted)
    pair("排除（小計不計）", totals.excluded)
    pair("略過（空白列）", totals.skipped)
    pair("金額空白或無法讀取的行數", totals.unreadable)
    pair(f"輸入總額（{book.unit}）", totals.input_total, "amount")
    pair(f"活頁簿明細總額（{book.unit}）", book.workbook_total, "amount")
    pair("兩者一致", "是" if book.workbook_total == totals.input_total else "否 — 請檢查紀錄中的問題")
    pair(f"性別預算數（{book.unit}）", totals.gender_total, "amount")
    pair("性別預算數（精確值）", format_amount(totals.gender_total))
    pair("預算總額（精確值）", format_amount(totals.budget_total))
    pair(DATA_CHECK_LABEL, book.data_digest)
    pair(DETAIL_CHECK_LABEL, book.detail_digest)
    pair("資料工作表說明", "每筆紀錄含檢查碼 k；讀回時核對資料與明細，被修改的列會被指出並拒絕")

    table("各階段耗時 Timings（秒）", ["階段", "秒"], [[k, f"{v:.3f}"] for k, v in run.timings.items()]
          + [["write", "（寫出本活頁簿的時間不在此列；見 classify --timings）"]])

    problems = list(run.problems) + book.problems
    table(f"問題 Problems（{len(problems)}）", ["嚴重度", "代碼", "訊息", "Message", "檔案", "工作表", "列", "欄",
                                                 "提示"], [
        ["錯誤" if p.severity == ERROR else "警告", p.code, p.message, p.message_en, p.file, p.sheet, p.row,
         p.column or p.key, p.hint] for p in problems])
    if not problems:
        cells.text(ws, r, 0, "（無）")
    ws.set_column(0, 0, 26, cells.fmt("wrap"))
    ws.set_column(1, 1, 40, cells.fmt("wrap"))
    ws.set_column(2, 2, 50, cells.fmt("wrap"))
    ws.set_column(3, 10, 16, cells.fmt("wrap"))


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _mapping_text(mapping: Any) -> str:
    if not mapping:
        return ""
    return "；".join(f"{k}={v}" for k, v in dict(mapping).items())
