"""Excel formula syntax, as the tool's writers use it, translated into OpenFormula for .ods files.

``=SUMIFS('明細'!$F$2:$F$9,'明細'!$A$2:$A$9,"x")`` becomes
``of:=SUMIFS([$'明細'.$F$2:.$F$9];[$'明細'.$A$2:.$A$9];"x")``: references in brackets with a dot
before each cell, sheet names quoted, ``,`` between arguments becomes ``;``, ``TRUE``/``FALSE``
become functions. Text in double quotes is never touched. Only the tool's own formulas come here:
input text is never written as a formula.
"""

from __future__ import annotations

import re

MAX_ROW = 1_048_576

_CELL = r"\$?[A-Za-z]{1,3}\$?\d+"
_SHEET = r"'(?:[^']|'')+'|[^\W\d][\w.]*"
_TOKEN = re.compile(
    rf"""(?P<string>"(?:[^"]|"")*")
       |(?P<sheetref>(?P<sheet>{_SHEET})!(?P<sref>{_CELL}(?::{_CELL})?|\$?[A-Za-z]{{1,3}}:\$?[A-Za-z]{{1,3}}))
       |(?<![\w.$'])(?P<ref>{_CELL}(?::{_CELL})?)(?![\w(!])
       |(?<![\w.$'])(?P<cols>\$?[A-Z]{{1,3}}:\$?[A-Z]{{1,3}})(?![\w(!])
       |(?P<bool>(?<![\w.])(?:TRUE|FALSE)(?![\w(]))
       |(?P<xlfn>_xlfn\.)
       |(?P<comma>,)""",
    re.VERBOSE,
)
_COLUMNS = re.compile(r"^(\$?)([A-Za-z]{1,3}):(\$?)([A-Za-z]{1,3})$")


def quote_sheet(name: str) -> str:
    """A sheet name as OpenFormula writes it: ``'明細'`` (quotes doubled inside)."""
    return "'" + name.replace("'", "''") + "'"


def _sheet_name(token: str) -> str:
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    return token


def odf_range(ref: str, sheet: str | None = None) -> str:
    """``$A$2:$A$9`` (on ``sheet``) as an ODF address without brackets: ``$'明細'.$A$2:.$A$9``."""
    whole = _COLUMNS.match(ref)
    if whole:
        ref = f"{whole[1]}{whole[2]}$1:{whole[3]}{whole[4]}${MAX_ROW}"
    first, _, last = ref.partition(":")
    head = f"${quote_sheet(sheet)}" if sheet is not None else ""
    out = f"{head}.{first.upper()}"
    if last:
        out += f":.{last.upper()}"
    return out


def split_sheet_ref(ref: str) -> tuple[str | None, str]:
    """``'明細'!$A$2:$A$9`` → (``明細``, ``$A$2:$A$9``); a reference without a sheet gives (None, ref)."""
    ref = ref.lstrip("=").strip()
    if "!" in ref:
        sheet, _, cells = ref.rpartition("!")
        return _sheet_name(sheet), cells
    return None, ref


def to_openformula(formula: str, *, prefix: bool = True) -> str:
    """An Excel-syntax formula (``=SUM(A1:A9)``) in OpenFormula (``of:=SUM([.A1:.A9])``)."""
    body = formula[1:] if formula.startswith("=") else formula

    def convert(m: re.Match[str]) -> str:
        kind = m.lastgroup
        if kind == "string":
            return m.group()
        if kind == "sheetref":
            return "[" + odf_range(m["sref"], _sheet_name(m["sheet"])) + "]"
        if kind in ("ref", "cols"):
            return "[" + odf_range(m.group()) + "]"
        if kind == "bool":
            return m.group() + "()"
        if kind == "xlfn":
            return ""
        return ";"

    translated = _TOKEN.sub(convert, body)
    return ("of:=" + translated) if prefix else translated
