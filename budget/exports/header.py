"""Find a sheet's header row below its title rows and map its columns to line fields (aliases, --map, two-row headers)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .columns import FIELD_ALIASES, REQUIRED_FIELDS, field_for_header
from ..money import AmountError, parse_amount
from ..normalize import fold

#: How many rows from the top are searched for the header.
HEADER_SCAN_ROWS = 30

_EXACT = {f: {fold(a) for a in aliases} for f, aliases in FIELD_ALIASES.items()}
_THIS_YEAR = ("本年",)
_OTHER_YEARS = ("上年", "前年", "決算", "比較", "差額", "增減", "去年", "以前年度")


@dataclass
class Header:
    """The header found: where it is, each column's title, and which column holds each field."""

    first_row: int  # 1-based first header row (the upper row of a two-row header)
    row: int  # 1-based last header row; data starts below it
    titles: tuple[str, ...]  # one title per column ("" when the column has none); two rows joined "上/下"
    fields: dict[str, int]  # field -> 0-based column index
    ambiguous: dict[str, list[int]] = field(default_factory=dict)  # field -> tied columns (first one chosen)
    upper: tuple[str, ...] = ()  # the rows' own texts, to recognise a repeated header in the data
    lower: tuple[str, ...] = ()


@dataclass
class HeaderMiss:
    """No usable header: the most header-like row seen, for the error message."""

    row: int | None
    titles: list[str]
    fields: dict[str, int]
    ambiguous: dict[str, list[int]] = field(default_factory=dict)


def cell_text(value: Any) -> str:
    """A cell as header text: strings stripped, numbers as written, blank as ""."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return str(value)


def _match(title: str, overrides: dict[str, str]) -> tuple[str, int] | None:
    """(field, quality) for one title: 4 an override, 3 an exact alias, 2 an alias with a note in brackets."""
    key = fold(title)
    if not key:
        return None
    for fld, wanted in overrides.items():
        if fold(wanted) == key:
            return fld, 4
    for fld, exact in _EXACT.items():
        if key in exact:
            return fld, 3
    fld = field_for_header(title)
    return (fld, 2) if fld else None


def _match_joined(upper: str, lower: str, overrides: dict[str, str]) -> tuple[str, int] | None:
    """Map a two-row title: the joined text first, then the lower part, then the upper part."""
    if upper and lower:
        whole = _match(f"{upper}/{lower}", overrides)
        if whole:
            return whole[0], whole[1] * 10
        low = _match(lower, overrides)
        if low:
            return low[0], low[1] * 10 - 5
        up = _match(upper, overrides)
        if up:
            return up[0], up[1] * 10 - 8
        return None
    single = _match(upper or lower, overrides)
    return (single[0], single[1] * 10) if single else None


def _year_preference(title: str) -> int:
    key = fold(title)
    if any(w in key for w in _OTHER_YEARS):
        return -1
    return 1 if any(w in key for w in _THIS_YEAR) else 0


def map_columns(uppers: list[str], lowers: list[str] | None, overrides: dict[str, str]
                ) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Map header columns to fields. Returns (field → column, field → tied columns when ambiguous).

    Several columns may claim a field (``預算數/本年度`` and ``預算數/上年度``): the best match wins
    (an override, then an exact alias, then an alias with a note), then a title saying 本年度 over
    one saying 上年度/決算/比較; a remaining tie is reported and the leftmost column is used.
    """
    claims: dict[str, list[tuple[tuple[int, int], int]]] = {}
    width = max(len(uppers), len(lowers or []))
    for col in range(width):
        up = uppers[col] if col < len(uppers) else ""
        low = (lowers[col] if lowers and col < len(lowers) else "")
        hit = _match_joined(up, low, overrides) if lowers is not None else (
            (lambda m: (m[0], m[1] * 10) if m else None)(_match(up, overrides)))
        if hit:
            title = f"{up}/{low}" if up and low else (up or low)
            claims.setdefault(hit[0], []).append(((hit[1], _year_preference(title)), col))
    fields: dict[str, int] = {}
    ambiguous: dict[str, list[int]] = {}
    for fld, options in claims.items():
        best = max(score for score, _ in options)
        tied = [col for score, col in options if score == best]
        fields[fld] = tied[0]
        if len(tied) > 1:
            ambiguous[fld] = tied
    return fields, ambiguous


def _is_data_like(values: list[Any]) -> bool:
    """True when a row holds numbers or amount-like text, i.e. it cannot be a second header row."""
    for v in values:
        if v is None:
            continue
        if not isinstance(v, str):
            return True
        text = v.strip()
        if not text:
            continue
        try:
            amount, _ = parse_amount(text)
        except AmountError:
            continue
        if amount is not None:
            return True
    return False


def _two_row_titles(rows: list[list[Any]], i: int, merges: list[tuple[int, int, int, int]],
                    merges_known: bool = True) -> tuple[list[str], list[str]] | None:
    """The (upper, lower) titles when rows i and i+1 (0-based) form a two-row header, else None.

    The upper row's group titles are spread across their span: from merged cells where the
    file records them (workbooks), otherwise (CSV) across blank upper cells whose lower
    neighbours both have titles (``科目`` over ``代碼 | 名稱``). The lower row must hold text only,
    and at least one group must span two or more columns with lower titles under it.
    """
    if i + 1 >= len(rows):
        return None
    lower_raw = rows[i + 1]
    lower = [cell_text(v) for v in lower_raw]
    if sum(1 for t in lower if t) < 1 or _is_data_like(lower_raw):
        return None
    upper = [cell_text(v) for v in rows[i]]
    width = max(len(upper), len(lower))
    upper += [""] * (width - len(upper))
    lower += [""] * (width - len(lower))
    grouped = [False] * width
    for r0, c0, r1, c1 in merges:
        if r0 == i + 1 and c1 > c0:
            for c in range(c0 - 1, min(c1, width)):
                if not upper[c]:
                    upper[c] = upper[c0 - 1]
                grouped[c] = True
    if not merges_known:
        for c in range(1, width):
            if not upper[c] and lower[c] and lower[c - 1] and upper[c - 1]:
                upper[c] = upper[c - 1]
                grouped[c] = grouped[c - 1] = True
    if not any(g and lower[c] for c, g in enumerate(grouped)):
        return None
    return upper, lower


def find_header(rows: list[list[Any]], merges: list[tuple[int, int, int, int]],
                overrides: dict[str, str] | None = None, merges_known: bool = True) -> Header | HeaderMiss:
    """Find the header in the first :data:`HEADER_SCAN_ROWS` rows: the first row (or pair of rows)
    whose titles name every required field (description and amount), after aliases and overrides.
    ``merges`` are 1-based (r0, c0, r1, c1); ``merges_known`` is False when the format cannot record
    merged cells (CSV), and a two-row header is then recognised from its blank upper cells.
    """
    overrides = overrides or {}
    best = HeaderMiss(None, [], {})
    best_score = (-1, -1)
    seen: list[str] = []  # the first texts of the sheet, for the message when no row looks like a header
    for i in range(min(len(rows), HEADER_SCAN_ROWS)):
        texts = [cell_text(v) for v in rows[i]]
        if len(seen) < 5:
            seen += [t for t in texts if t][: 5 - len(seen)]
        if sum(1 for t in texts if t) < 2:
            continue
        pair = _two_row_titles(rows, i, merges, merges_known)
        if pair:
            upper, lower = pair
            fields, ambiguous = map_columns(upper, lower, overrides)
            if all(f in fields for f in REQUIRED_FIELDS):
                titles = tuple(f"{u}/{l}" if u and l else (u or l) for u, l in zip(upper, lower))
                return Header(i + 1, i + 2, titles, fields, ambiguous,
                              tuple(cell_text(v) for v in rows[i]), tuple(lower))
        fields, ambiguous = map_columns(texts, None, overrides)
        if all(f in fields for f in REQUIRED_FIELDS):
            return Header(i + 1, i + 1, tuple(texts), fields, ambiguous, tuple(texts), ())
        score = (sum(1 for f in REQUIRED_FIELDS if f in fields), len(fields))
        if score > best_score:
            best, best_score = HeaderMiss(i + 1, [t for t in texts if t], fields, ambiguous), score
    if best.row is None:
        best.titles = seen
    return best


_YEAR_RE = re.compile(r"(?<!\d)(\d{2,3})\s*年度")
_YEAR_CELL_RE = re.compile(r"^(?:民國)?\s*(\d{2,4})\s*(?:年度|年)?$")


def year_in_text(text: str) -> int | None:
    """The ROC year named in a title such as ``臺北市政府資訊局 116年度 歲出預算明細表`` (None if none)."""
    import unicodedata

    m = _YEAR_RE.search(unicodedata.normalize("NFKC", text))
    return int(m.group(1)) if m else None


def year_of_cell(value: Any) -> int | None:
    """The ROC year in a 年度 cell: ``115``, ``"115"``, ``"115年度"``, ``"民國115年"``; 2026 → 115."""
    import unicodedata

    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        year = value
    elif isinstance(value, float) and value.is_integer():
        year = int(value)
    else:
        m = _YEAR_CELL_RE.match(re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value))))
        if not m:
            return None
        year = int(m.group(1))
    if year > 1911:
        year -= 1911
    return year if 1 <= year <= 300 else None
