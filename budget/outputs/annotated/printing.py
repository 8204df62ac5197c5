"""Print setup shared by every sheet: A4 landscape, one page wide, header rows repeated, page X of Y and file name."""

from __future__ import annotations

from typing import Any

#: Paper size code of A4 (xlsxwriter / Excel).
A4 = 9
#: Footer: the file name on the left, 「第 X 頁，共 Y 頁」 on the right.
FOOTER = "&L&8&F&R&8第 &P 頁，共 &N 頁"


def print_setup(ws: Any, name: str, header_rows: tuple[int, int] | None) -> None:
    """Make sheet ``ws`` (named ``name``) print well; ``header_rows`` (first, last) repeat on every page."""
    ws.set_landscape()
    ws.set_paper(A4)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_header("&C&10" + name.replace("&", "&&"))
    ws.set_footer(FOOTER)
    if header_rows is not None:
        ws.repeat_rows(*header_rows)
