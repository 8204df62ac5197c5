"""Time and peak memory of writing N lines of 明細-shaped rows: xlsxwriter, the tool's .ods writer, odfpy.

    python3 -m benchmarks.ods_writer 100000            # xlsx and ods
    python3 -m benchmarks.ods_writer 20000 --odfpy     # odfpy too (builds a whole DOM: slow)

Each writer runs in its own child process so that peak memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COLUMNS = 18  # 13 text columns, 4 numbers, 1 formula per row, as the annotated 明細 has


def _row(i: int) -> list:
    return [f"{3251011000 + i % 7} 資訊管理", f"0{i % 3} 一般行政", "2036", "按日按件計資酬金",
            f"辦理性別意識培力課程講座鐘點費第{i}場，含場地費及印刷費", i * 37 % 100000, "元", "性別意識培力課程",
            "gender-training", "第3類 工具類", "符合", 100, i * 37 % 100000, "說明含「培力」", "gender-training",
            "116.xlsx › 歲出 › 第%d列" % (i + 2), "", ""]


def _write_backend(path: str, n: int) -> None:
    from budget.outputs.backends import open_book

    wb = open_book(path, constant_memory=n > 50_000)
    ws = wb.add_worksheet("明細")
    amount = wb.add_format({"num_format": "#,##0"})
    for i in range(n):
        for c, v in enumerate(_row(i)):
            if isinstance(v, int):
                ws.write_number(i + 1, c, v, amount)
            elif v:
                ws.write_string(i + 1, c, v)
        ws.write_formula(i + 1, COLUMNS, f"=IF(K{i + 2}=\"符合\",M{i + 2},0)", amount, i * 37 % 100000)
    wb.add_worksheet("摘要").write_formula(0, 0, f"=SUM('明細'!S2:S{n + 1})", amount, 0)
    wb.close()


def _write_odfpy(path: str, n: int) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="明細")
    for i in range(n):
        tr = TableRow()
        for v in _row(i):
            if isinstance(v, int):
                tr.addElement(TableCell(valuetype="float", value=v))
            else:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=v))
                tr.addElement(cell)
        tr.addElement(TableCell(formula=f"of:=IF([.K{i + 2}]=\"符合\";[.M{i + 2}];0)", valuetype="float", value=0))
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(path)


def _child(kind: str, n: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / f"bench.{'xlsx' if kind == 'xlsx' else 'ods'}")
        start = time.perf_counter()
        (_write_odfpy if kind == "odfpy" else _write_backend)(path, n)
        seconds = time.perf_counter() - start
        size = Path(path).stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"writer": kind, "lines": n, "seconds": round(seconds, 2), "peak_mb": round(peak), "bytes": size}))


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--child":
        _child(argv[1], int(argv[2]))
        return
    n = int(argv[0]) if argv else 100_000
    kinds = ["xlsx", "ods"] + (["odfpy"] if "--odfpy" in argv else [])
    for kind in kinds:
        done = subprocess.run([sys.executable, "-m", "benchmarks.ods_writer", "--child", kind, str(n)],
                              capture_output=True, text=True, check=True)
        print(done.stdout.strip())


if __name__ == "__main__":
    main(sys.argv[1:])
