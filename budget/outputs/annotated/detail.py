"""明細 (every input row, the tool's decision, the review columns, the final decision as formulas), 資料 and 待覆核, in one pass."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .. import layout
from ..cells import FORMULA_STARTS, MAX_CELL_TEXT, display_width, integral, not_written
from ..layout import DATA_COLUMNS, DATA_HEADER, NAME_IDS, NAME_NAMES, NAME_SHARES
from ...models import EXCLUDED, LINE, MATCHED, REVIEW, STATUS_LABELS, Decision, LineItem
from ...money import UNITS, convert, format_amount
from ...review import NONE_WORDS, ReviewEntry

if TYPE_CHECKING:  # pragma: no cover
    from .book import Book

#: Characters of a 資料 record per cell (well within 32,767 UTF-16 units); longer records continue.
DATA_CHUNK = 16_000
#: Rows whose contents decide the columns' widths (the rest cost nothing extra).
WIDTH_SAMPLE = 500
REVIEW_HEADERS = ("明細列", "工作計畫", "用途別科目", "說明", "計算金額", "建議類別", "建議數", "待覆核原因與依據", "亦符合類別")


def record_check(record: str) -> str:
    """The check ``k`` of one 資料 record (its JSON without ``k``): finds a record edited by hand."""
    return hashlib.blake2b(record.encode("utf-8"), digest_size=8).hexdigest()


def write_lines(book: "Book", detail: Any, data: Any, review: Any) -> None:
    """Write 明細, 資料 and 待覆核 row by row (in constant-memory mode rows go out as written)."""
    run, cells = book.run, book.cells
    n = len(run.lines)
    widths = _start_detail(book, detail)
    _start_data(book, data)
    review_widths = _start_review(book, review)
    formulas = RowFormulas(book)
    data_rows = DataRows(book, data)
    digest = hashlib.sha256()
    review_row = 0
    write_string, write_number = detail.write_string, detail.write_number
    col_formats = book.col_formats
    wrap_width = book.wrap_width
    amount_cols = book.amount_cols
    evidence_col = book.added["evidence"]
    # The original cells' number formats (whole numbers).
    number_formats = {c: cells.fmt("amount" if c in amount_cols else None) for c in range(len(book.original))}
    added_cells = AddedCells(book, detail)
    for i, (line, d) in enumerate(zip(run.lines, run.decisions, strict=True)):
        r = i + 1
        sampling = i < WIDTH_SAMPLE
        values, positions = book.positions_of(line)
        longest = 0.0  # the most lines a wrapped cell of this row needs (CJK counted wide: an estimate from above)
        for j, value in enumerate(values):
            if value is None:
                continue
            c = positions[j]
            if type(value) is str:
                if c in wrap_width:
                    longest = max(longest, len(value) * 2 / wrap_width[c])
                if len(value) <= MAX_CELL_TEXT // 2 and value.isprintable():
                    if value and write_string(r, c, value, col_formats[c][value[0] in FORMULA_STARTS]):
                        not_written(-1, detail, r, c)
                else:
                    cells.value(detail, r, c, value, c in amount_cols, (line, book.original[c]))
            elif (whole := integral(value)) is not None:  # what cells.value writes for it, without introspection
                if write_number(r, c, whole, number_formats[c]):
                    not_written(-1, detail, r, c)
            else:
                cells.value(detail, r, c, value, c in amount_cols, (line, book.original[c]))
            if sampling:
                widths[c] = max(widths[c], display_width(_sample(value)))
        added = _added_values(book, i, line, d)
        added_cells.write(r, line, added, widths if sampling else None)
        longest = max(longest, len(added["evidence"][1]) * 2 / wrap_width[evidence_col])
        if longest > 1:
            _row_height(detail, r, longest)
        if line.kind == LINE:
            formulas.write(detail, r, line, d, book.finals[i])
        digest.update(data_rows.write(r, line, d).encode("utf-8") + b"\n")
        if d.status == REVIEW:
            review_row += 1
            _review_row(book, review, review_row, r, line, d, added, review_widths)
        if book.progress is not None and (r % 2000 == 0 or r == n):
            book.progress("write", r, n)
    book.data_digest = digest.hexdigest()
    _finish_detail(book, detail, widths, n)
    book.finish_table(data, len(DATA_HEADER), n, [30, 80])
    widths_review = [min(max(w + 2, 8), 24) for w in review_widths]
    widths_review[3], widths_review[7] = 40, 60  # wrapped: the row heights above assume these widths
    book.finish_table(review, len(REVIEW_HEADERS), review_row, widths_review)


class AddedCells:
    """Writes the constant added cells of a 明細 row (common cells directly, with cached formats)."""

    def __init__(self, book: "Book", ws: Any) -> None:
        self.book, self.ws = book, ws
        self.kind_formats: dict[str | None, tuple[Any, Any]] = {}  # style → its format without and with quote prefix
        self.amount_col = book.added["amount"]

    def write(self, r: int, line: LineItem, added: dict[str, tuple[str | None, Any]], widths: list[int] | None) -> None:
        """Write row ``r``'s added cells; widen ``widths`` (if given) to their contents."""
        book, ws, cells, kind_formats, amount_col = self.book, self.ws, self.book.cells, self.kind_formats, self.amount_col
        added_cols, write_string, write_number = book.added, ws.write_string, ws.write_number
        for key, (kind, value) in added.items():
            if value is None or value == "":
                continue
            c = added_cols[key]
            formats = kind_formats.get(kind)
            if formats is None:
                formats = kind_formats[kind] = (cells.fmt(kind), cells.fmt(kind, True))
            if type(value) is str:
                if len(value) <= MAX_CELL_TEXT // 2 and value.isprintable():  # what cells.text writes, cheaply
                    if write_string(r, c, value, formats[value[0] in FORMULA_STARTS]):
                        not_written(-1, ws, r, c)
                else:
                    cells.text(ws, r, c, value, kind)
            elif key == "review_percent":
                cells.percent(ws, r, c, value, "input_percent")
            elif isinstance(value, Decimal):
                whole = integral(value)
                if whole is not None:  # what cells.number writes, without Decimal introspection
                    if write_number(r, c, whole, formats[0]):
                        not_written(-1, ws, r, c)
                    numeric = True
                else:
                    numeric = cells.number(ws, r, c, value, kind, (line, book.headers[c]) if c == amount_col else None)
                if c == amount_col and numeric:
                    book.workbook_total += value
            else:
                cells.text(ws, r, c, value, kind)
            if widths is not None:
                widths[c] = max(widths[c], display_width(_sample(value)))


def _start_detail(book: "Book", ws: Any) -> list[int]:
    """Header row and column formats of 明細 (set first: rows may be flushed as they are written)."""
    cells = book.cells
    book.col_formats = {}
    book.column_format = {}
    inputs = {book.added[k] for k in layout.REVIEW_KEYS}
    kinds = {book.added["amount"]: "amount", book.added["suggested"]: "amount", book.added["gender_amount"]: "amount",
             book.added["review_amount"]: "input_amount", book.added["review_percent"]: "input_percent",
             book.added["review_category"]: "input", book.added["review_note"]: "input",
             book.added["evidence"]: "wrap"}
    book.wrap_width = {c: 30 for c in book.wrap_cols}
    book.wrap_width[book.added["evidence"]] = 36
    for c in range(len(book.headers)):
        wrap = c in book.wrap_cols
        book.col_formats[c] = (cells.fmt("text", extra=(("text_wrap", True),) if wrap else ()),
                               cells.fmt("text", True, extra=(("text_wrap", True),) if wrap else ()))
        book.column_format[c] = cells.fmt(kinds.get(c, "wrap" if wrap else "plain"))
        ws.set_column(c, c, 14 if c in inputs else 10, book.column_format[c])
    for c, title in enumerate(book.headers):
        cells.text(ws, 0, c, title, "header")
    book.print_rows[layout.DETAIL_SHEET] = (0, 0)
    return [display_width(h) for h in book.headers]


#: Printed height of one line of 10-point text, in points; a row grows to at most :data:`MAX_ROW_LINES` lines.
LINE_HEIGHT = 13.5
MAX_ROW_LINES = 12


def _row_height(ws: Any, r: int, lines: float) -> None:
    """Make row ``r`` tall enough for ``lines`` lines of wrapped text (readers do not grow rows themselves)."""
    count = min(int(lines) + (lines > int(lines)), MAX_ROW_LINES)
    if ws.set_row(r, LINE_HEIGHT * count + 2):
        not_written(-1, ws, r, 0)


def _start_data(book: "Book", ws: Any) -> None:
    header_fmt = book.cells.fmt("header")
    for c, name in enumerate((*DATA_HEADER, layout.DATA_UNIT_PREFIX + book.unit)):
        if ws.write_string(0, c, name, header_fmt):
            not_written(-1, ws, 0, c)
    book.print_rows[layout.DATA_SHEET] = (0, 0)


def _start_review(book: "Book", ws: Any) -> list[int]:
    for c, title in enumerate(REVIEW_HEADERS):
        book.cells.text(ws, 0, c, title + (f"（{book.unit}）" if c in (4, 6) else ""), "header")
    ws.set_column(3, 3, 40, book.cells.fmt("wrap"))
    ws.set_column(7, 7, 60, book.cells.fmt("wrap"))
    book.print_rows[layout.REVIEW_SHEET] = (0, 0)
    return [display_width(h) + 4 for h in REVIEW_HEADERS]


def _added_values(book: "Book", i: int, line: LineItem, d: Decision) -> dict[str, tuple[str | None, Any]]:
    """The constant added columns of one 明細 row: key → (style, value); formulas come separately."""
    rules, unit = book.run.rules, book.unit
    suggested = d.category is not None and d.status in (MATCHED, REVIEW)
    cat = rules.category(d.category) if suggested else None
    entry = book.entries.get(i) or _BLANK
    is_line = line.kind == LINE
    return {
        "amount": ("amount", convert(line.amount, line.unit, unit) if is_line and line.amount is not None else None),
        "status": ("status_" + d.status, STATUS_LABELS.get(d.status, d.status)),
        "suggested_name": (None, cat.name if cat else ""),
        "suggested": ("amount", convert(d.gender_amount, line.unit, unit) if suggested else None),
        "unit": (None, line.unit if is_line else ""),
        "review_category": ("input", entry.category),
        "review_amount": ("input_amount", entry.amount),
        "review_percent": ("input_percent", entry.percent),
        "review_note": ("input", entry.note),
        "evidence": ("wrap", d.explain()),
        "rule": (None, d.rule),
        "source": (None, line.source),
    }


_BLANK = ReviewEntry()


class RowFormulas:
    """The two formula cells of a line: its final category (by name) and 性別預算數 (in the workbook's unit)."""

    def __init__(self, book: "Book") -> None:
        self.book = book
        L = {k: book.letter(k) for k in ("amount", "status", "suggested", "review_category", "review_amount",
                                          "review_percent", "category_name")}
        self.L = L
        self.cols = [book.added[k] for k in ("category_name", "gender_amount")]
        self.none_test = ",".join(f'{{K}}="{w}"' for w in sorted(NONE_WORDS))
        self.matched = STATUS_LABELS[MATCHED]
        self.amount_format = book.cells.fmt("amount")
        self._parts: dict[tuple[str, str, str], tuple[list[str], list[str]]] = {}

    def write(self, ws: Any, r: int, line: LineItem, d: Decision, final: Decision) -> None:
        """Write row ``r``'s formulas with their values from ``final``."""
        book = self.book
        rules = book.run.rules
        suggested_cat = rules.category(d.category) if d.category and d.status in (MATCHED, REVIEW) else None
        suggested = _quoted(suggested_cat.name) if suggested_cat else ""
        matched = suggested if d.status == MATCHED else ""
        key = (matched, suggested, line.unit)
        parts = self._parts.get(key)
        if parts is None:
            if _ROW in suggested:  # never in a real name; written without the cache
                x, g = self.formulas(str(r + 1), matched, suggested, line.unit)
            else:
                x, g = self.formulas(_ROW, matched, suggested, line.unit)
                parts = self._parts[key] = (x.split(_ROW), g.split(_ROW))
        if parts is not None:
            n = str(r + 1)
            x, g = n.join(parts[0]), n.join(parts[1])
        counted = final.status == MATCHED and final.category
        cat = rules.category(final.category) if counted else None
        gender = convert(final.gender_amount, line.unit, book.unit) if counted else Decimal(0)
        book.cells.formula(ws, r, self.cols[0], x, cat.name if cat else "")
        whole = integral(gender)
        if whole is None:
            book.cells.formula(ws, r, self.cols[1], g, gender, "amount")
        elif ws.write_formula(r, self.cols[1], g, self.amount_format, whole):  # what cells.formula writes
            not_written(-1, ws, r, self.cols[1])

    def formulas(self, n: str, matched: str, suggested: str, unit: str) -> tuple[str, str]:
        """The final category's and 性別預算數's formulas of row ``n`` (1-based, as text)."""
        L = self.L
        K, M, P, G, A, X = (f"${L[k]}{n}" for k in ("review_category", "review_amount", "review_percent",
                                                      "suggested", "amount", "category_name"))
        blank = f'AND({K}="",{M}="",{P}="")'
        none = "OR(" + self.none_test.format(K=K) + ")"
        # The final category by its name. IFNA (stored _xlfn.IFNA, as Excel writes it; LibreOffice reads it)
        # catches MATCH's #N/A: the typed text is neither a name nor an id.
        x = (f'=IF({blank},"{matched}",IF({K}="","{suggested}",IF({none},"",'
             f'_xlfn.IFNA(INDEX({NAME_NAMES},MATCH({K},{NAME_NAMES},0)),_xlfn.IFNA(INDEX({NAME_NAMES},MATCH({K},{NAME_IDS},0)),"？")))))')
        f = format_amount(Decimal(UNITS[unit]) / UNITS[self.book.unit])
        places = len(str(UNITS[unit])) - 1
        times, over = (f"*{f}", f"/{f}") if f != "1" else ("", "")
        share = f"_xlfn.IFNA(INDEX({NAME_SHARES},MATCH({X},{NAME_NAMES},0)),0)"
        g = (f'=IF(OR({X}="",{X}="？"),0,IF({blank},{G},IF({M}<>"",IF({A}<0,-1,1)*{M}{times},'
             f'IF({P}<>"",ROUND({A}*{P}{over},{places}){times},IF({G}<>"",{G},ROUND({A}*{share}{over},{places}){times})))))')
        return x, g


#: Stands for the row number in a cached formula (split on it, joined with the number).
_ROW = "\x00"


def _quoted(text: str) -> str:
    """``text`` inside a formula's string literal."""
    return text.replace('"', '""')


class DataRows:
    """Writes the lines on 資料: each its 工作計畫, then all its fields as one JSON object with its check ``k``."""

    def __init__(self, book: "Book", ws: Any) -> None:
        self.book, self.ws = book, ws
        self.keys = [json.dumps(k) + ":" for k in DATA_COLUMNS]
        self.plan_formats = (book.cells.fmt(None), book.cells.fmt(None, True))

    def write(self, r: int, line: LineItem, d: Decision) -> str:
        """Write line ``r``'s record (the JSON ``json.dumps`` makes, built directly); the record."""
        values = (
            line.file, line.sheet, line.row, line.kind, line.year, line.agency, line.plan, line.branch,
            line.account_code, line.account, line.description,
            format_amount(line.amount) if line.amount is not None else "", line.unit, d.status, d.category or "",
            format_amount(d.share_percent) if d.share_percent is not None else "", format_amount(d.gender_amount),
            d.rule, line.context,
        )
        ws = self.ws
        plan = line.plan
        if plan:
            if len(plan) <= MAX_CELL_TEXT // 2 and plan.isprintable():  # what cells.text writes, cheaply
                if ws.write_string(r, 0, plan, self.plan_formats[plan[0] in FORMULA_STARTS]):
                    not_written(-1, ws, r, 0)
            else:
                self.book.cells.text(ws, r, 0, plan)
        fields = []
        for key, v in zip(self.keys, values):
            kind = type(v)
            if kind is str:
                if v:
                    fields.append(key + _json_text(v))
            elif kind is int:
                fields.append(key + int.__repr__(v))
            elif v is not None and v != "":
                fields.append(key + json.dumps(v, ensure_ascii=False, separators=(",", ":")))
        body = "{" + ",".join(fields) + "}"
        record = f'{body[:-1]},"k":"{record_check(body)}"}}'
        # A record longer than a cell holds continues in the next cells (a description near 32,767).
        if len(record) <= DATA_CHUNK:
            if ws.write_string(r, 1, record):
                not_written(-1, ws, r, 1)
            return record
        for k in range(0, len(record), DATA_CHUNK):
            if ws.write_string(r, 1 + k // DATA_CHUNK, record[k:k + DATA_CHUNK]):
                not_written(-1, ws, r, 1 + k // DATA_CHUNK)
        return record


#: A string as JSON text without escaping non-ASCII (what ``json.dumps(..., ensure_ascii=False)`` writes).
_json_text = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _review_row(book: "Book", ws: Any, row: int, r: int, line: LineItem, d: Decision,
                added: dict[str, tuple[str | None, Any]], widths: list[int]) -> None:
    """One 待覆核 row: a link to its 明細 row, what the line is and why it needs a person."""
    cells = book.cells
    cells.link(ws, row, 0, layout.DETAIL_SHEET, f"A{r + 1}", str(r + 1))
    longest = max(len(line.description) * 2 / 40, len(added["evidence"][1]) * 2 / 60)
    if longest > 1:
        _row_height(ws, row, longest)
    account = f"{line.account_code} {line.account}".strip()
    values = [None, line.plan, account, line.description, added["amount"][1], added["suggested_name"][1],
              added["suggested"][1], d.explain(), "、".join(_name(book, c) for c in d.also_matched)]
    for c, value in enumerate(values):
        if value is None or value == "":
            continue
        if isinstance(value, Decimal):
            cells.number(ws, row, c, value, "amount")
        else:
            cells.text(ws, row, c, value, "wrap" if c in (3, 7) else None)
        if row < WIDTH_SAMPLE:
            widths[c] = max(widths[c], display_width(_sample(value)))


def _name(book: "Book", category_id: str) -> str:
    cat = book.run.rules.category(category_id)
    return cat.name if cat else category_id


def _finish_detail(book: "Book", ws: Any, widths: list[int], n: int) -> None:
    last_col = len(book.headers) - 1
    inputs = {book.added[k] for k in layout.REVIEW_KEYS}
    for c, w in enumerate(widths):
        width = book.wrap_width.get(c) or max(min(max(w + 2, 6), 20), 12 if c in inputs else 0)
        ws.set_column(c, c, width, book.column_format[c])
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(n, 1), last_col)
    if n == 0:
        return
    status = f"${book.letter('status')}2"
    rows = (1, 0, n, last_col)
    for label, props in ((STATUS_LABELS[MATCHED], {"bg_color": "#E2EFDA"}), (STATUS_LABELS[REVIEW], {"bg_color": "#FFF2CC"}),
                         (STATUS_LABELS[EXCLUDED], {"font_color": "#808080", "italic": True})):
        if ws.conditional_format(*rows, {"type": "formula", "criteria": f'={status}="{label}"',
                                         "format": book.wb.add_format(props)}):
            not_written(-1, ws, 1, 0)
    _validations(book, ws, n)


def _validations(book: "Book", ws: Any, n: int) -> None:
    """Drop-down on 覆核類別; amount within the line and percentage within 0–100 %, never both."""
    K, M, P = (book.added[k] for k in ("review_category", "review_amount", "review_percent"))
    m, p, a, u = (f"{book.letter(k)}2" for k in ("review_amount", "review_percent", "amount", "unit"))
    checks = []
    checks.append(ws.data_validation(1, K, n, K, {
        "validate": "list", "source": book.choices_range, "ignore_blank": True, "show_input": True,
        "show_error": False, "input_title": "覆核類別",
        "input_message": "選擇類別（或輸入類別代碼）；「不列入」表示不計入性別預算。只選類別時計入建議數（無建議數時依類別比例計入全行）。"}))
    factor = f'IF({u}="千元",1000,IF({u}="萬元",10000,1))'
    checks.append(ws.data_validation(1, M, n, M, {
        "validate": "custom", "value": f'=AND(ISNUMBER({m}),{m}>=0,{m}*{factor}<=ABS({a})*{UNITS[book.unit]},{p}="")',
        "ignore_blank": True, "show_input": True, "input_title": "覆核計入數",
        "input_message": "計入性別預算的金額（本行單位，見「單位」欄），不可大於本行金額；與覆核比例擇一填寫。",
        "error_title": "覆核計入數不正確", "error_message": "金額須介於 0 與本行金額之間，且不可與覆核比例同時填寫。"}))
    checks.append(ws.data_validation(1, P, n, P, {
        "validate": "custom", "value": f'=AND(ISNUMBER({p}),{p}>=0,{p}<=1,{m}="")',
        "ignore_blank": True, "show_input": True, "input_title": "覆核比例",
        "input_message": "計入性別預算的比例，例如輸入 40% ；與覆核計入數擇一填寫。",
        "error_title": "覆核比例不正確", "error_message": "比例須介於 0% 與 100% 之間，且不可與覆核計入數同時填寫。"}))
    for rc, col in zip(checks, (K, M, P)):
        if rc:
            not_written(rc, ws, 1, col)


def _sample(value: Any) -> str:
    """The start of a value as text, for column widths."""
    if isinstance(value, str):
        return value[:80]
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, (int, Decimal)):
        return f"{value:,}"
    return str(value)[:80]


