"""Cell safety for the workbooks the tool writes: text made fit for a cell, and a problem for every change.

A cell holds at most 32,767 UTF-16 units; control characters cannot be stored in the file; text that
starts like a formula gets a quote prefix (the writers never write input text as a formula). Whatever
is changed is returned, so the writer records it as a :class:`~budget.problems.Problem` with its place.
"""

from __future__ import annotations

from ..problems import ERROR, WARNING, Problem

#: Longest text a cell holds (in UTF-16 code units, as Excel counts).
MAX_CELL_TEXT = 32767
#: First characters that make a spreadsheet treat typed text as a formula; such cells get a quote prefix.
FORMULA_STARTS = frozenset("=+-@\t\r#{")

_CONTROL = {c: chr(0x2400 + c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]}
_CONTROL[0x7F] = "\u2421"


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (how a spreadsheet counts)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def utf16_prefix(text: str, limit: int) -> str:
    """The longest prefix of ``text`` within ``limit`` UTF-16 units (never splitting a character)."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return text[:i]
    return text


def safe_text(text: str) -> tuple[str, list[str]]:
    """``text`` made fit for a cell, and what was changed: ``control``, ``surrogate``, ``too-long``.

    Control characters become visible symbols (␇), lone surrogates �, tab/newline/CR stay; text over
    :data:`MAX_CELL_TEXT` is cut to it.
    """
    changed: list[str] = []
    if not text.isprintable():
        out = []
        for ch in text:
            code = ord(ch)
            if code in _CONTROL:
                out.append(_CONTROL[code])
                if "control" not in changed:
                    changed.append("control")
            elif 0xD800 <= code <= 0xDFFF:
                out.append("\ufffd")
                if "surrogate" not in changed:
                    changed.append("surrogate")
            else:
                out.append(ch)
        text = "".join(out)
    if len(text) > MAX_CELL_TEXT // 2 and utf16_len(text) > MAX_CELL_TEXT:
        text = utf16_prefix(text, MAX_CELL_TEXT)
        changed.append("too-long")
    return text, changed


def needs_quote(text: str) -> bool:
    """Would a spreadsheet take ``text``, typed into a cell, for a formula?"""
    return bool(text) and text[0] in FORMULA_STARTS


def cell_problems(changed: list[str], full_length: int, **where: object) -> list[Problem]:
    """The problems recording what :func:`safe_text` changed in a cell at ``where`` (file, sheet, row, column)."""
    problems = []
    if "control" in changed or "surrogate" in changed:
        problems.append(Problem("control-character-replaced", "文字含控制字元，已以可見符號（如 ␇）取代",
                                "control characters were replaced by visible symbols", WARNING, **where))
    if "too-long" in changed:
        problems.append(Problem(
            "text-too-long", f"文字長度 {full_length:,} 字超過儲存格上限 32,767 字，活頁簿中只保留前 32,767 字",
            "text longer than a cell holds (32,767); only its beginning is in the workbook", ERROR,
            hint="完整內容請見原始檔或 report --json", **where))
    return problems
