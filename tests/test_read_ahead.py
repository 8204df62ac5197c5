"""Reading annotated workbooks back while this process is busy: the reader child reads ahead, finds the
review formulas without a value itself, keeps its own time limit; a report reads every workbook's 資料
before the 明細 of the one before; `classify --reviewed` starts its reading with the run."""

from __future__ import annotations

import io
import marshal
import os
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from budget.exports import sheet_worker
from budget.outputs import readback
from budget.outputs.layout import DATA_SHEET
from budget.pipeline import ReviewCarrier, make_report
from budget.problems import BudgetError
from budget.rules import parse_rules
from test_review import RULES_TOML, _rows_for_review, write_annotated


def _frames(data: bytes) -> list:
    out, view = [], memoryview(data)
    while view:
        (size,) = sheet_worker._LEN.unpack(view[:8])
        out.append(marshal.loads(view[8:8 + size]))
        view = view[8 + size:]
    return out


def test_the_sender_holds_frames_while_nobody_reads_and_then_delivers_them_in_order() -> None:
    read_end, write_end = os.pipe()  # a pipe holds ~64 KB: a plain write of 1 MB would wait for the reader
    out = os.fdopen(write_end, "wb")
    send = sheet_worker._Sender(out, ahead=8 << 20)
    frames = [("rows", [[f"第{i}列", "x" * 1000]] * 100, False) for i in range(10)]  # ~1 MB
    started = time.perf_counter()
    for frame in frames:
        send(frame)
    assert time.perf_counter() - started < 5  # returned with nobody reading
    received = io.BytesIO()
    reader = threading.Thread(target=lambda: received.write(os.fdopen(read_end, "rb").read()))
    reader.start()
    send.close()
    out.close()
    reader.join(10)
    assert _frames(received.getvalue()) == frames


def test_the_sender_waits_once_it_holds_more_than_it_may() -> None:
    read_end, write_end = os.pipe()
    out = os.fdopen(write_end, "wb")
    send = sheet_worker._Sender(out, ahead=1000)
    frames = [("rows", [[f"{i}" + "x" * 10_000]], False) for i in range(50)]
    done = threading.Event()
    producer = threading.Thread(target=lambda: ([send(f) for f in frames], done.set()))
    producer.start()
    assert not done.wait(1)  # 500 KB to send, 1 KB allowed beyond the pipe: it waits for the reader
    received = io.BytesIO()
    reader = threading.Thread(target=lambda: received.write(os.fdopen(read_end, "rb").read()))
    reader.start()
    assert done.wait(10)
    send.close()
    out.close()
    reader.join(10)
    assert _frames(received.getvalue()) == frames


def test_the_formula_scan_reads_the_sheet_in_pieces_and_finds_what_a_whole_read_finds(tmp_path, monkeypatch):
    path = tmp_path / "f.xlsx"
    cells = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>說明{r}</t></is></c>'
                    f'<c r="B{r}"><f>1+{r}</f>{"" if r % 7 else "<v>3</v>"}</c>'
                    f'<c r="C{r}" t="str"><f>"a"&amp;"{r}"</f><v></v></c></row>' for r in range(1, 3000))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", f"<worksheet><sheetData>{cells}</sheetData></worksheet>")
    whole = sheet_worker.formulas_without_value(path, "xl/worksheets/sheet1.xml", [2, 3])
    assert whole == {(r, 2) for r in range(1, 3000) if r % 7} | {(r, 3) for r in range(1, 3000)}
    monkeypatch.setattr(sheet_worker, "FORMULA_PIECE", 997)  # pieces that cut through cells
    assert sheet_worker.formulas_without_value(path, "xl/worksheets/sheet1.xml", [2, 3]) == whole
    assert sheet_worker.formulas_without_value(path, "xl/worksheets/sheet1.xml", [1]) == set()
    assert sheet_worker.formulas_without_value(path, "xl/worksheets/missing.xml", [2]) == set()


@pytest.mark.skipif(not hasattr(__import__("signal"), "setitimer"), reason="the child's own alarm is POSIX")
def test_the_child_keeps_its_own_time_so_no_thread_is_left_here(tmp_path):
    path = write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review())
    before = threading.active_count()
    reading = readback.start_reading(path)  # a thread here would keep classify from forking meanwhile
    assert threading.active_count() == before
    assert len(reading.finish().rows) == len(_rows_for_review())


def test_a_report_reads_each_workbooks_data_before_the_details_of_the_one_before(tmp_path, monkeypatch):
    rules = parse_rules(RULES_TOML.encode(), "test.toml")
    books = [write_annotated(tmp_path / f"{year}.性別預算.xlsx", _rows_for_review()) for year in (116, 115, 114)]
    order = []
    read_data, finish = readback.AnnotatedReading.read_data, readback.AnnotatedReading.finish

    def spy_data(self):
        if self._data is None:
            order.append(("資料", self.path.name))
        return read_data(self)

    def spy_finish(self):
        order.append(("明細", self.path.name))
        return finish(self)

    monkeypatch.setattr(readback.AnnotatedReading, "read_data", spy_data)
    monkeypatch.setattr(readback.AnnotatedReading, "finish", spy_finish)
    report = make_report(books, rules, years=[116, 115, 114])
    assert sorted(y.year for y in report.years) == [114, 115, 116]
    names = [b.name for b in books]
    assert order == [("資料", names[0]), ("資料", names[1]), ("明細", names[0]), ("資料", names[2]),
                     ("明細", names[1]), ("明細", names[2])]


def test_the_reviewed_workbook_is_read_while_the_run_goes_on_and_stopped_if_unused(tmp_path):
    rules = parse_rules(RULES_TOML.encode(), "test.toml")
    path = write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review())
    carrier = ReviewCarrier(str(path), rules)
    if carrier.forked is not None:  # read back whole by a forked process meanwhile
        carrier.cancel()
        with pytest.raises(ChildProcessError):
            os.waitpid(carrier.forked.pid, os.WNOHANG)  # stopped and reaped
    else:  # read by its reader child meanwhile
        child = carrier.reading.handle.proc
        carrier.cancel()
        assert child.poll() is not None
    carrier.cancel()  # twice is harmless


def test_a_damaged_reviewed_workbook_still_stops_the_run_before_anything_is_written(tmp_path):
    import openpyxl

    rules = parse_rules(RULES_TOML.encode(), "test.toml")
    path = write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review())
    wb = openpyxl.load_workbook(path)
    ws = wb[DATA_SHEET]
    ws["B3"].value = ws["B3"].value.replace('"amount":"40000"', '"amount":"999999999"')
    wb.save(path)
    carrier = ReviewCarrier(str(path), rules)  # a workbook of the right kind: the run starts
    with pytest.raises(BudgetError) as caught:
        carrier([], [])
    assert ("annotated-data-edited", DATA_SHEET, 3) in [(p.code, p.sheet, p.row) for p in caught.value.problems]


def test_records_are_checked_one_by_one_only_when_the_digest_differs(tmp_path, monkeypatch):
    from budget.outputs.annotated import detail

    path = write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review())
    calls = []
    check = detail.record_check
    monkeypatch.setattr(detail, "record_check", lambda text: calls.append(text) or check(text))
    assert len(readback.read_annotated(path).rows) == len(_rows_for_review())
    assert calls == []  # the digest in 紀錄 matches: every record is as written


def test_a_reviewed_workbook_read_in_a_forked_process_carries_what_one_read_here_carries(tmp_path, monkeypatch):
    from decimal import Decimal

    from budget.engine.classifier import Classifier
    from budget.outputs.forked import WORKERS_ENV
    from test_review import line

    rules = parse_rules(RULES_TOML.encode(), "test.toml")
    rows = _rows_for_review()
    rows[4] = (rows[4][0], rows[4][1], "", "只有說明")  # a note alone: no decision, nothing to carry
    path = write_annotated(tmp_path / "115.性別預算.xlsx", rows)
    new = [line("專題演講鐘點費", "48000", row=2), line("講座鐘點費", "30000", row=3),
           line("性別統計分析委辦", "50000", row=4)]

    def carried(workers: str):
        monkeypatch.setenv(WORKERS_ENV, workers)
        carrier = ReviewCarrier(str(path), rules)
        assert (carrier.forked is not None) == (workers != "1" and sys.platform.startswith("linux"))
        decisions, problems = carrier(new, [Classifier(rules).classify(x) for x in new])
        return decisions, [(p.code, p.row, p.message) for p in problems], len(carrier.book.rows)

    here, forked = carried("1"), carried("")
    assert forked[:2] == here[:2]
    assert here[0][0].counted == Decimal(12000)
    assert [(code, row) for code, row, _ in here[1]] == [
        ("review-carried", None), ("review-carried-amount-changed", 2), ("review-share-out-of-range", 3)]
    if sys.platform.startswith("linux"):
        assert forked[2] == 3 < here[2]  # only the rows a reviewer decided came back from the forked process


def _carried(book, rules):
    from budget.carry import carry_reviews
    from budget.engine.classifier import Classifier
    from test_review import line

    new = [line("專題演講鐘點費", "48000", row=2), line("講座鐘點費", "30000", row=3),
           line("性別統計分析委辦", "50000", row=4)]
    result = carry_reviews(new, [Classifier(rules).classify(x) for x in new], book.rows, rules, source="115")
    return ([(d.status, d.category, d.counted, d.reasons) for d in result.decisions],
            [p.to_dict() for p in result.problems], len(result.carried))


def test_carrying_reads_back_only_the_reviewed_rows_of_an_unchanged_workbook_and_carries_the_same(tmp_path):
    rules = parse_rules(RULES_TOML.encode(), "test.toml")
    path = write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review())
    whole = readback.read_annotated(path)
    lean = readback.read_annotated(path, carrying=True)
    reviewed = [r for r in whole.rows if r.review or r.review_note]
    assert len(reviewed) < len(whole.rows)
    assert [(r.detail_row, r.review, r.line.description, r.line.amount, r.decision.status) for r in lean.rows] == [
        (r.detail_row, r.review, r.line.description, r.line.amount, r.decision.status) for r in reviewed]
    assert [p.to_dict() for p in lean.problems] == [p.to_dict() for p in whole.problems]
    assert _carried(lean, rules) == _carried(whole, rules) and _carried(whole, rules)[2] == 2
    import openpyxl

    openpyxl.load_workbook(path).save(path)  # saved again by another program, nothing changed: the same
    assert len(readback.read_annotated(path, carrying=True).rows) == len(reviewed)


@pytest.mark.parametrize("edit", ["status", "amount", "sorted"])
def test_carrying_reads_and_checks_every_row_when_a_checked_detail_cell_was_changed(tmp_path, edit):
    import openpyxl

    from budget.outputs.layout import DETAIL_SHEET

    rules = parse_rules(RULES_TOML.encode(), "test.toml")
    path = write_annotated(tmp_path / "115.性別預算.xlsx", _rows_for_review())
    wb = openpyxl.load_workbook(path)
    ws = wb[DETAIL_SHEET]
    titles = [c.value for c in ws[1]]
    if edit == "status":  # decided in place, on a row without a review: reported, not carried
        cell = ws.cell(2, titles.index("判定") + 1)
        cell.value = "不符合" if cell.value == "符合" else "符合"
    elif edit == "amount":
        ws.cell(2, titles.index("計算金額") + 1).value = 1
    else:  # the last two rows swapped
        last = ws.max_row
        for c in range(1, ws.max_column + 1):
            a, b = ws.cell(last - 1, c), ws.cell(last, c)
            a.value, b.value = b.value, a.value
    wb.save(path)
    outcomes = []
    for carrying in (False, True):
        try:
            book = readback.read_annotated(path, carrying=carrying)
        except BudgetError as exc:
            outcomes.append(("refused", [p.to_dict() for p in exc.problems]))
        else:
            outcomes.append((len(book.rows), [p.to_dict() for p in book.problems], _carried(book, rules)))
    assert outcomes[0] == outcomes[1]
    if edit == "status":
        assert outcomes[0][0] == len(_rows_for_review())
        assert ("annotated-decision-edited", 2) in [(p["code"], p["row"]) for p in outcomes[0][1]]
    elif edit == "amount":
        assert outcomes[0][0] == "refused"
