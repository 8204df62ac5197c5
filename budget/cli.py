"""The command line: a thin typer shell over the library. The only module that imports typer; with
budget/cli_fast.py (``check "…"`` without typer, and the printing helpers), the only ones that import rich.

Exit codes: 0 done; 1 done with findings (lines to review, failing examples); 2 bad usage or
unreadable input/rules (nothing written). Input text reaches the terminal literally: never as rich
markup, control characters shown as visible symbols; tables wrap long text instead of cutting it.
"""

from __future__ import annotations

import sys
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional

import typer

from . import __version__
from .cli_fast import CHECK_FLAGS, DIGITS as _DIGITS, add_row as _add_row, cell as _cell, console as _console
from .cli_fast import dump as _dump, show_check
from .limits import SHEET_ROWS
from .problems import BudgetError, Problem
from .terminal import parser_error, parser_word, terminal_text

if TYPE_CHECKING:  # importing the reader costs start-up time that `check` does not need
    from .exports.options import ReadOptions


def _speak_zh_tw() -> None:
    """Make the parser's own words zh-TW (with English): usage errors, help headings, the usage prefix;
    and show an argument's metavar (檔案…) without the Python type typer adds after it.

    typer carries its own copy of click whose messages are English text; its usage error's ``show``,
    the help formatter's usage prefix, the help option's text and typer's headings are pointed at
    ``budget.terminal``'s tables here. Should a later typer move them, the words stay English.
    """
    try:
        import typer.core as typer_core
        from typer._click import core as click_core, exceptions, formatting
    except ImportError:  # pragma: no cover - another typer layout: English words, nothing breaks
        return

    if hasattr(typer_core, "_"):
        typer_core._ = parser_word

    def show_error(self: Any, file: Any = None) -> None:
        lines = []
        ctx = getattr(self, "ctx", None)
        if ctx is not None:
            lines.append(ctx.get_usage())
            if ctx.command.get_help_option(ctx) is not None:
                command, option = ctx.command_path, ctx.help_option_names[0]
                lines.append(f"說明請見 '{command} {option}'。 Try '{command} {option}' for help.\n")
        lines.append(f"錯誤 Error: {parser_error(self.format_message())}")
        typer.echo("\n".join(lines), err=file is None, file=file)

    def write_usage(self: Any, prog: str, args: str = "", prefix: Optional[str] = None) -> None:
        original_write_usage(self, prog, args, parser_word("Usage: ") if prefix is None else prefix)

    def get_help_option(self: Any, ctx: Any) -> Any:
        option = original_help_option(self, ctx)
        if option is not None:
            option.help = parser_word(option.help or "")
        return option

    def display_type(self: Any, ctx: Any) -> Optional[str]:  # an argument with a metavar: no "<list[Path]>" after it
        return None if self.metavar else original_display_type(self, ctx)

    def usage_name(self: Any) -> str:  # the metavar as written (檔案…), not "{檔案…}..."
        return self.metavar or original_usage_name(self)

    try:
        original_display_type = typer_core.TyperArgument.display_type_rich
        original_usage_name = typer_core.TyperArgument._usage_display_name
        typer_core.TyperArgument.display_type_rich = display_type
        typer_core.TyperArgument._usage_display_name = usage_name
        original_write_usage = formatting.HelpFormatter.write_usage
        original_help_option = click_core.Command.get_help_option
        exceptions.UsageError.show = show_error
        formatting.HelpFormatter.write_usage = write_usage
        click_core.Command.get_help_option = get_help_option
    except AttributeError:  # pragma: no cover
        return


_speak_zh_tw()


_NOT_PLAIN = object()


def _plain_annotation(annotation: Any, info: Any) -> bool:
    """A parameter whose values are plain str, bool, int or Path (or lists of them), with no parser of its own."""
    if getattr(info, "parser", None) is not None or getattr(info, "click_type", None) is not None:
        return False
    if getattr(annotation, "__origin__", None) is list:
        args = getattr(annotation, "__args__", ())
        return len(args) == 1 and _plain_annotation(args[0], info)
    if annotation is str or annotation is bool:
        return True
    if annotation is int:
        return not getattr(info, "clamp", False)
    return annotation is Path and getattr(info, "path_type", None) is None


def _plain_value(annotation: Any, info: Any, value: Any, param: Any, ctx: Any) -> Any:
    """``value`` as typer's own coercion gives it, or ``_NOT_PLAIN`` when that is not certain."""
    if getattr(annotation, "__origin__", None) is list:
        if not isinstance(value, (list, tuple)):
            return _NOT_PLAIN
        items = [_plain_value(annotation.__args__[0], info, item, param, ctx) for item in value]
        return _NOT_PLAIN if any(item is _NOT_PLAIN for item in items) else items
    if annotation is str:
        return value if type(value) is str else _NOT_PLAIN
    if annotation is bool:
        return value if type(value) is bool else _NOT_PLAIN
    if annotation is int:
        if type(value) is str and _DIGITS.fullmatch(value):
            value = int(value)
        if type(value) is not int:
            return _NOT_PLAIN
        low, high = getattr(info, "min", None), getattr(info, "max", None)
        if (low is not None and value < low) or (high is not None and value > high):
            return _NOT_PLAIN  # typer's own coercion words the error
        return value
    if annotation is Path and type(value) is str and value:
        from typer._param_types import coerce_cli_path

        try:
            return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
        except Exception:  # typer's own coercion words the error
            return _NOT_PLAIN
    return _NOT_PLAIN


def _coerce_without_pydantic() -> None:
    """Coerce plain parameters (str, bool, int, Path and lists of them) without pydantic.

    typer ≥ 0.2x coerces every parameter value through a pydantic TypeAdapter, and importing
    pydantic and building them takes longer (~0.2 s) than the whole of ``check "…"``. For the plain
    types this command line uses, the value is the same without it: a str or bool as given, ASCII digits as
    an int within the option's min/max, a path as ``Path`` checked by typer's own path rules. Any
    other value or type, and every error, goes through typer's own coercion, so its words are kept.
    Should a later typer move these internals, nothing breaks: typer's coercion is used throughout.
    """
    try:
        from dataclasses import dataclass

        import typer.core as typer_core
        from typer._coercion import RuntimeParam, build_runtime_param
    except ImportError:  # pragma: no cover - another typer layout
        return
    if not hasattr(typer_core, "_TyperParameter") or not hasattr(typer_core._TyperParameter, "get_runtime_param"):
        return  # pragma: no cover

    @dataclass(frozen=True)
    class PlainRuntimeParam(RuntimeParam):  # type: ignore[misc]
        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            result = _plain_value(self.annotation, self.parameter_info, value, param, ctx)
            if result is _NOT_PLAIN:
                return build_runtime_param(param.type_descriptor)._coerce_value(value, param=param, ctx=ctx)
            return result

    original = typer_core._TyperParameter.get_runtime_param

    def get_runtime_param(self: Any) -> Any:
        try:
            if getattr(self, "_runtime_param", None) is None:
                descriptor = getattr(self, "type_descriptor", None)
                if (descriptor is not None and descriptor.file_annotation is None
                        and _plain_annotation(descriptor.annotation, descriptor.parameter_info)):
                    self._runtime_param = PlainRuntimeParam(parameter_info=descriptor.parameter_info,
                                                            annotation=descriptor.annotation)
        except Exception:  # noqa: BLE001 - internals of another typer: its own coercion, always correct
            pass
        return original(self)

    typer_core._TyperParameter.get_runtime_param = get_runtime_param


_coerce_without_pydantic()

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="性別預算工具：依規則檔分類預算明細、產出附註工作簿與年度報告。\n\n"
         "gender-budget: classify budget lines into the gender budget, explain every decision, report it.",
)
rules_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                        help="規則檔：列出類別、執行內建範例。 Rules file: show categories, run its examples.")
app.add_typer(rules_app, name="rules")

RulesOption = typer.Option(None, *CHECK_FLAGS["rules"], metavar="規則檔",
                           help="規則檔 (TOML)；預設為內建 rules/default.toml。 Rules file.")
RulesFileArgument = typer.Argument(None, metavar="[規則檔]", help="規則檔；預設為內建規則。 Rules file.")
JsonOption = typer.Option(False, *CHECK_FLAGS["as_json"], help="以 JSON 輸出到標準輸出。 Print JSON on stdout.")
VerboseOption = typer.Option(False, "--verbose", "-v", help="顯示詳細資訊與錯誤追蹤。 Verbose, with tracebacks.")

# --- the read options: every command that reads an export offers these ------------------------

SheetOption = typer.Option(None, "--sheet", metavar="工作表",
                           help="要讀的工作表（活頁簿有多個時）。 Sheet to read.")
MapOption = typer.Option(None, "--map", metavar="欄位=表頭",
                         help="欄位對應 欄位=表頭，可重複，例如 --map description=摘要；優先於規則檔 [columns]。 "
                              "field=header (repeatable).")
EncodingOption = typer.Option(None, "--encoding", metavar="編碼",
                              help="CSV 編碼（例如 cp950）；預設自動判斷 UTF-8 或 Big5。 CSV encoding (default: detected).")
UnitOption = typer.Option(None, *CHECK_FLAGS["unit"], metavar="單位",
                          help="金額單位：元、千元、萬元（預設依表頭或標題，再依規則檔）。 Unit of the amounts.")
InputUnitOption = typer.Option(None, "--input-unit", metavar="單位",
                               help="預算匯出檔的金額單位：元、千元、萬元（預設依表頭或標題，再依規則檔）。 "
                                    "Unit of the amounts in raw exports.")
MaxRowsOption = typer.Option(SHEET_ROWS, "--max-rows", min=1, metavar="列數",
                             help="每個工作表最多讀取的列數。 Row limit per sheet.")


def read_options(sheet: Optional[str], mapping: Optional[list[str]], encoding: Optional[str],
                 unit: Optional[str], max_rows: int) -> ReadOptions:
    """The read options given on the command line; raises :class:`BudgetError` for a bad --map or --unit."""
    from .exports.columns import parse_mapping
    from .exports.options import ReadOptions
    from .money import canonical_unit

    try:
        pairs = parse_mapping(mapping or [])
    except ValueError as exc:
        raise BudgetError.one("usage", str(exc), "bad --map option", hint="例如 --map description=摘要") from None
    forced_unit = None
    if unit is not None:
        forced_unit = canonical_unit(unit)
        if forced_unit is None:
            raise BudgetError.one("unit-unknown", f"不認得的金額單位「{unit}」", f"unknown unit {unit!r}",
                                  hint="可用：元、千元、萬元")
    return ReadOptions(sheet=sheet, mapping=pairs, encoding=encoding, unit=forced_unit, max_rows=max_rows)


# --- printing ----------------------------------------------------------------------------------

def _echo(text: str, err: bool = False) -> None:
    """One line of plain output, control characters made visible (never wrapped: paths stay whole)."""
    typer.echo(terminal_text(text), err=err)


def _table(*columns: str, title: Optional[str] = None, **options: Any):
    """A rich table whose long cells wrap (fold) instead of being cut; the title is printed literally."""
    from rich.table import Table

    table = Table(title=_cell(title) if title is not None else None, **options)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _safe_problem(p: Problem) -> Problem:
    """The problem with every text field made safe for a terminal."""
    return replace(p, **{f.name: terminal_text(getattr(p, f.name)) for f in fields(p)
                         if isinstance(getattr(p, f.name), str)})


def _print_problems(problems: list[Problem]) -> None:
    """One problem per line on stderr, never wrapped (a location must stay searchable)."""
    for p in problems:
        tag = "錯誤 error" if p.severity == "error" else "警告 warning"
        typer.echo(f"{tag}: {_safe_problem(p)}", err=True)


def fail(problems: list[Problem], code: int = 2) -> None:
    """Print problems on stderr and exit (2 by default: nothing was written)."""
    _print_problems(problems)
    raise typer.Exit(code)


def guarded(verbose: bool):
    """Context manager: a BudgetError becomes messages and exit 2; tracebacks only with -v."""
    from contextlib import contextmanager

    @contextmanager
    def _guard():
        try:
            yield
        except BudgetError as exc:
            if verbose:
                import traceback

                traceback.print_exc()
            fail(exc.problems)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # an unexpected failure: say so plainly, never half-written output
            if verbose:
                raise
            fail([Problem("internal-error", f"內部錯誤：{exc.__class__.__name__}: {exc}；未寫出任何檔案。請加 -v 重試並回報。",
                          "internal error; nothing was written")])

    return _guard()


def _load_rules(path: Optional[Path]):
    from .rules import load_rules

    return load_rules(path)


@app.callback(invoke_without_command=True)
def _main(version: bool = typer.Option(False, "--version", help="顯示版本。 Show the version.")) -> None:
    if version:
        typer.echo(f"gender-budget {__version__}")
        raise typer.Exit(0)


# --- check -------------------------------------------------------------------------------------

@app.command()
def check(
    text: Optional[str] = typer.Argument(None, metavar="[說明文字]", help="預算說明文字。 The line's description."),
    account: str = typer.Option("", *CHECK_FLAGS["account"], metavar="科目",
                                help="用途別科目，如「2036 按日按件計資酬金」。 Account code and name."),
    amount: Optional[str] = typer.Option(None, *CHECK_FLAGS["amount"], metavar="金額", help="金額，如 22500 或 1,234。 Amount."),
    unit: Optional[str] = UnitOption,
    plan: str = typer.Option("", *CHECK_FLAGS["plan"], metavar="工作計畫", help="工作計畫。 Work plan."),
    branch: str = typer.Option("", *CHECK_FLAGS["branch"], metavar="分支計畫", help="分支計畫。 Branch plan."),
    year: Optional[int] = typer.Option(None, *CHECK_FLAGS["year"], metavar="年度", help="年度（民國）。 ROC year."),
    file: Optional[Path] = typer.Option(
        None, "--file", "-f", metavar="檔案",
        help="一次檢查多行：預算匯出檔或 CSV（表頭含 說明、金額…），'-' 為標準輸入。 An export or CSV of lines, '-' for stdin."),
    against: Optional[Path] = typer.Option(
        None, "--against", metavar="去年附註工作簿",
        help="與去年的附註工作簿比對：`check --against LAST.性別預算.xlsx NEW.xlsx` 列出新增、判定不同、"
             "消失的項目。 Compare NEW with last year's annotated workbook."),
    sheet: Optional[str] = SheetOption,
    mapping: Optional[list[str]] = MapOption,
    encoding: Optional[str] = EncodingOption,
    max_rows: int = MaxRowsOption,
    rules: Optional[Path] = RulesOption,
    as_json: bool = JsonOption,
    verbose: bool = VerboseOption,
) -> None:
    """檢查新的預算項目是否屬於性別預算，並說明理由。 Does a new line item count, and why?

    結束碼：全部「符合」或「不符合」為 0； 有「待覆核」（或 --file 有讀不懂的列）為 1； 用法或輸入錯誤為 2。

    Exit 0 when every line is matched or unmatched, 1 when any needs review (or a row of --file
    could not be read), 2 on bad usage.
    """
    from .check import check_lines, lines_from_args, lines_from_exports

    problems: list[Problem] = []
    with guarded(verbose):
        if against is not None:
            _check_against(against, text, rules, read_options(sheet, mapping, encoding, unit, max_rows), as_json)
        ruleset = _load_rules(rules)
        if file is not None:
            if text is not None:
                raise BudgetError.one("usage", "請擇一：說明文字或 --file", "give a text or --file, not both")
            options = read_options(sheet, mapping, encoding, unit, max_rows)
            with _spooled(file) as path:
                lines, problems = lines_from_exports([path], ruleset, options)
        elif text is not None:
            lines = [lines_from_args(text, account=account, amount=amount, unit=unit, plan=plan,
                                     branch=branch, year=year, rules=ruleset)]
        else:
            raise BudgetError.one("usage", "請給說明文字，或以 --file 指定預算匯出檔", "give a description or --file")
        results = check_lines(lines, ruleset)
    _print_problems(problems)
    review = show_check(results, ruleset, as_json=as_json, single=file is None)  # as the quick path prints it
    raise typer.Exit(1 if review or any(p.severity == "error" for p in problems) else 0)


def _spooled(file: Path):
    """Context manager yielding ``file``, or for ``-`` the standard input saved to a temporary file first."""
    from contextlib import contextmanager

    @contextmanager
    def _spool() -> Iterator[Path]:
        if str(file) != "-":
            yield file
            return
        import tempfile

        with tempfile.TemporaryDirectory(prefix="gender-budget-") as folder:
            path = Path(folder) / "標準輸入"  # no suffix: the format is told from the bytes
            with open(path, "wb") as fh:
                for chunk in iter(lambda: sys.stdin.buffer.read(1 << 20), b""):
                    fh.write(chunk)
            yield path

    return _spool()


# --- rules -------------------------------------------------------------------------------------

@rules_app.command("show")
def rules_show(
    file: Optional[Path] = RulesFileArgument,
    as_json: bool = JsonOption,
    verbose: bool = VerboseOption,
) -> None:
    """列出規則檔的類別。 Show the categories of a rules file."""
    from .check import rules_summary

    with guarded(verbose):
        ruleset = _load_rules(file)
    summary = rules_summary(ruleset)
    if as_json:
        _dump(summary)
        return
    from rich.table import Table

    table = Table(title=_cell(f"{ruleset.name}  ({ruleset.path})"))
    widest_id = max((len(c["id"]) for c in summary["categories"]), default=8)
    table.add_column("代碼 id", no_wrap=True, min_width=widest_id)  # ids are typed by users: never cut
    for title in ("名稱", "官方分類", "比例%", "條件", "範例"):
        table.add_column(title, overflow="fold")
    for c in summary["categories"]:
        _add_row(table, c["id"], c["name"], c["official_class"], c["share_percent"], c["conditions"],
                 len(c["examples"]))
    _console().print(table)


@rules_app.command("test")
def rules_test(
    file: Optional[Path] = RulesFileArgument,
    as_json: bool = JsonOption,
    verbose: bool = VerboseOption,
) -> None:
    """執行規則檔內每個範例，逐一列出通過或失敗。 Run every example of a rules file (exit 1 on a failure)."""
    from .check import run_examples

    with guarded(verbose):
        ruleset = _load_rules(file)
    outcomes = run_examples(ruleset)
    failed = [o for o in outcomes if not o.passed]
    if as_json:
        _dump({"passed": len(outcomes) - len(failed), "failed": len(failed),
               "examples": [o.to_dict() for o in outcomes]})
    else:
        console = _console()
        for o in outcomes:
            mark = "[green]通過 PASS[/]" if o.passed else "[red]失敗 FAIL[/]"
            console.print(f"{mark} ", end="")
            console.print(terminal_text(f"{o.category} #{o.index + 1}: {o.text}"), markup=False)
            if not o.passed:
                console.print("    " + terminal_text(o.why), markup=False)
        console.print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    raise typer.Exit(1 if failed else 0)


# --- classify --reviewed (issue 5) -------------------------------------------------------------

def _reviewed_step(reviewed: Path, inputs: list[Path], output: Optional[Path], ruleset):
    """The carry-over step for `classify --reviewed`; refuses to write the new run over the reviewed workbook."""
    import os

    from .pipeline import ReviewCarrier, default_output

    target = output or default_output(inputs[0])
    if target.exists() and reviewed.exists() and os.path.samefile(target, reviewed):
        fail([Problem("output-is-reviewed", "輸出檔就是 --reviewed 的附註工作簿，不會覆寫已覆核的檔案",
                      "the output is the reviewed workbook; it is never overwritten", file=str(target),
                      hint="請以 -o 指定另一個輸出檔名")])
    return ReviewCarrier(str(reviewed), ruleset)

# --- check --against (issue 5) -----------------------------------------------------------------

def _check_against(last: Path, new: Optional[str], rules: Optional[Path], options: ReadOptions,
                   as_json: bool) -> None:
    """`check --against LAST NEW`: new lines, changed decisions, vanished gender lines; exit 1 if any."""
    from .pipeline import check_against

    if not new:
        raise BudgetError.one("usage", "請給今年的預算檔：check --against LAST.性別預算.xlsx NEW.xlsx",
                              "give this year's file after --against LAST")
    ruleset = _load_rules(rules)
    comparison = check_against(str(last), new, ruleset, options=options)
    if comparison.problems:
        _print_problems(comparison.problems)
    if as_json:
        _dump(comparison.to_dict())
    else:
        _print_comparison(comparison)
    raise typer.Exit(1 if comparison.needs_attention else 0)


def _print_comparison(comparison) -> None:
    from .money import format_thousands, to_decimal

    console = _console()

    def money(value: Optional[str]) -> str:
        return "" if not value else format_thousands(to_decimal(value))

    def decision(d: dict) -> str:
        text = {"matched": "計入", "review": "待覆核", "unmatched": "不計入", "excluded": "小計不計"}.get(d["status"], d["status"])
        if d.get("category"):
            text += f" {d['category']}"
        if d.get("review"):
            text += f"（覆核：{d['review']}）"
        return text

    sections = (
        ("今年新增且與性別預算有關的項目 New lines the rules count or send to review",
         [e for e in comparison.new if e["attention"]], lambda e: ("", decision(e["decision"]))),
        ("判定與去年不同 Decided differently from last year", comparison.changed,
         lambda e: (decision(e["last"]["decision"]), decision(e["decision"]))),
        ("去年的性別預算今年找不到 Last year's gender lines with no counterpart", comparison.disappeared,
         lambda e: (decision(e["decision"]), "")),
    )
    for title, entries, verdicts in sections:
        table = _table("來源", "工作計畫／分支計畫", "說明", "金額", "去年", "今年", title=f"{title}（{len(entries)}）",
                       title_justify="left")
        for e in entries:
            where = e.get("workbook") and f"{e['workbook']} 明細第{e['detail_row']}列" or f"{e['file']} 第{e['row']}列"
            before, after = verdicts(e)
            _add_row(table, where, "／".join(p for p in (e["plan"], e["branch"]) if p), e["description"],
                     f"{money(e['amount'])} {e['unit']}", before, after)
        console.print(table)
    others = sum(1 for e in comparison.new if not e["attention"])
    if others:
        console.print(f"另有 {others} 筆新增項目，規則判定不計入（--json 可看全部）。", markup=False)
    if not comparison.needs_attention:
        console.print("沒有需要注意的項目。 Nothing needs attention.")

# --- report (issue 5) --------------------------------------------------------------------------

@app.command()
def report(
    inputs: list[Path] = typer.Argument(..., metavar="檔案…",
                                        help="附註工作簿（或預算匯出檔），第一個為報告年度，其餘為比較年度。 "
                                             "Annotated workbooks (or raw exports); the first is the report's year."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="報告檔",
                                          help="報告檔；預設為第一個輸入旁的「<年度>年度性別預算報告.xlsx」。 Report workbook."),
    unit: Optional[str] = typer.Option(None, "--unit", "-u", metavar="單位",
                                       help="報告金額單位：元、千元、萬元（預設依規則檔 [report]，再預設千元）。 Unit of the report."),
    agency: Optional[str] = typer.Option(None, "--agency", metavar="機關", help="機關名稱（顯示於標題）。 Agency name for the titles."),
    year: Optional[list[int]] = typer.Option(None, "--year", metavar="年度",
                                             help="民國年度，依輸入順序逐一指定（資料中找不到年度時用）。 ROC year of each input, in order."),
    sheet: Optional[str] = SheetOption,
    mapping: Optional[list[str]] = MapOption,
    encoding: Optional[str] = EncodingOption,
    input_unit: Optional[str] = InputUnitOption,
    max_rows: int = MaxRowsOption,
    rules: Optional[Path] = RulesOption,
    as_json: bool = JsonOption,
    verbose: bool = VerboseOption,
) -> None:
    """產出年度性別預算報告：編列情形表、年度比較、統計。 The annual gender budget report.

    附註工作簿中的覆核決定優先於規則； 預算匯出檔則當場分類（讀取選項 --sheet、--map、--encoding、
    --input-unit、--max-rows）。 報表欄位由規則檔指定。

    Reviewed decisions (覆核) win over the rules; raw exports are classified on the fly. The table's
    columns come from the rules file, e.g.
    [report] unit = "千元", agency = "…", columns = [{key = "class"}, {key = "amount", title = "性別預算數（{unit}）"}];
    keys: class, category, category_name, plan, branch, plan_branch, accounts, amount, plan_budget,
    plan_share, estimate, goal, basis, evidence, descriptions, lines, review_note.


    結束碼：完成為 0； 仍有待覆核的列或無法套用的覆核為 1； 輸入錯誤為 2（不寫出任何檔案）。

    Exit 0 when complete, 1 when lines still await review or a 覆核 entry could not be applied,
    2 on bad input (nothing written).
    """
    from .outputs.report_workbook import default_output, write_report_workbook
    from .collector import collector_paused
    from .pipeline import make_report
    from .report import exit_code

    with guarded(verbose), collector_paused():  # (the lines read stay paused through the writing)
        options = read_options(sheet, mapping, encoding, input_unit, max_rows)
        ruleset = _load_rules(rules)
        built = make_report(inputs, ruleset, years=year or (), unit=unit, agency=agency, options=options)
        target = output or default_output(built, inputs[0])
        write_report_workbook(built, target, inputs)
    _print_problems(built.problems)
    if as_json:
        _dump({**built.to_dict(), "output": str(target)})
    else:
        _print_report(built, target)
    raise typer.Exit(exit_code(built))


def _print_report(built, target: Path) -> None:
    from .money import format_thousands

    title = f"{built.agency + ' ' if built.agency else ''}{built.report_year}年度性別預算報告（{built.unit}）"
    table = _table(title=title)
    for column in ("年度", "預算總額", "性別預算", "占比", "待覆核"):
        table.add_column(column, justify="right", overflow="fold")
    for y in built.years:
        share = "—" if y.share is None else f"{y.share}%"
        _add_row(table, y.year, format_thousands(built.in_unit(y.budget_total)),
                 format_thousands(built.in_unit(y.gender_total)), share, y.pending_lines)
    console = _console()
    console.print(table)
    for note in built.notes:
        console.print(_cell("附註：" + note.message))
    _echo(f"已寫出 {target}")

# --- classify (issue 4) ------------------------------------------------------------------------

@app.command()
def classify(
    inputs: list[Path] = typer.Argument(..., metavar="檔案…",
                                        help="預算明細匯出檔（.xlsx、.xls、.ods、.csv），可多個。 Budget exports."),
    rules: Optional[Path] = RulesOption,
    output: Optional[Path] = typer.Option(
        None, "--output", "-o", metavar="附註工作簿",
        help="附註工作簿；預設為第一個輸入旁的「<檔名>.性別預算.xlsx」。 Output workbook."),
    sheet: Optional[str] = SheetOption,
    mapping: Optional[list[str]] = MapOption,
    encoding: Optional[str] = EncodingOption,
    unit: Optional[str] = UnitOption,
    max_rows: int = MaxRowsOption,
    reviewed: Optional[Path] = typer.Option(
        None, "--reviewed", metavar="已覆核工作簿",
        help="沿用去年（或上次）附註工作簿中已覆核的決定，套用到相同的項目；金額變動者沿用並標示。 "
             "Carry reviewed decisions over from an earlier annotated workbook."),
    as_json: bool = JsonOption,
    timings: bool = typer.Option(False, "--timings", help="顯示各階段耗時（標準錯誤）。 Print time per stage on stderr."),
    verbose: bool = VerboseOption,
) -> None:
    """分類預算明細並產出附註工作簿（摘要、明細、待覆核、規則、紀錄）。 Classify exports into an annotated workbook.

    輸出檔完整寫好才取代舊檔，且絕不覆寫輸入檔。 結束碼：沒有待覆核為 0； 有待覆核或讀不懂的列為 1；
    輸入錯誤為 2（不寫出任何檔案）。

    The output is written atomically and never over an input. Exit 0 when nothing needs review,
    1 when lines need review or a row could not be read, 2 on bad input (nothing written).
    """
    from .pipeline import run_classify

    with guarded(verbose):
        _refuse_folders(inputs)
        options = read_options(sheet, mapping, encoding, unit, max_rows)
        ruleset = _load_rules(rules)
        adjust = _reviewed_step(reviewed, inputs, output, ruleset) if reviewed is not None else None
        try:
            with _progress_bar(enabled=sys.stderr.isatty() and not verbose) as progress:
                result = run_classify(inputs, ruleset, output=output, options=options, progress=progress,
                                      adjust=adjust)
        finally:
            if adjust is not None:
                adjust.cancel()
    _print_some_problems(result.problems, verbose)
    if as_json:
        _dump(result.to_dict())
    else:
        _print_classify(result)
    if timings:
        typer.echo("耗時 timings: " + "，".join(f"{k} {v:.2f}s" for k, v in result.timings.items()), err=True)
        if result.write_processes:
            typer.echo("寫出程序 write processes: " + result.write_processes, err=True)
    raise typer.Exit(result.exit_code)


def _refuse_folders(inputs: list[Path]) -> None:
    """A folder given as an input (`classify .`) is a usage mistake, said before an output name is made from it."""
    folders = [path for path in inputs if path.is_dir()]
    if folders:
        raise BudgetError([Problem("file-is-directory", "這是資料夾，不是檔案；請指定資料夾內的預算匯出檔。",
                                   "this is a directory, not a file", file=str(path)) for path in folders])


def _print_some_problems(problems: list[Problem], verbose: bool, limit: int = 20) -> None:
    """Print the problems on stderr, errors first; only the first ``limit`` unless verbose."""
    ordered = sorted(problems, key=lambda p: p.severity != "error")
    shown = ordered if verbose else ordered[:limit]
    _print_problems(shown)
    if len(ordered) > len(shown):
        typer.echo(f"…另有 {len(ordered) - len(shown)} 項問題，完整清單見工作簿的「紀錄」工作表（或加 -v）。"
                   f" ({len(ordered) - len(shown)} more; see the 紀錄 sheet)", err=True)


def _progress_bar(enabled: bool):
    """Context manager yielding a ``progress(stage, done, total)`` callback that drives a rich bar on stderr."""
    from contextlib import contextmanager

    @contextmanager
    def _bar():
        if not enabled:
            yield None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        labels = {"read": "讀取 reading", "classify": "分類 classifying", "write": "寫出 writing"}
        # Redrawn at each update, not by a timer thread: a process with no other thread may fork a second writer.
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=_console(stderr=True), transient=True, auto_refresh=False) as bar:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: Optional[int]) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
                bar.update(tasks[stage], completed=done, total=total, refresh=True)

            yield progress

    return _bar()


def _print_classify(result) -> None:
    from .models import EXCLUDED, MATCHED, REVIEW, UNMATCHED
    from .money import format_thousands

    t = result.totals
    counts = t.status_lines
    share = t.share_percent
    lines = [
        f"讀取 {t.rows_read:,} 列：明細 {t.lines:,} 行，符合 {counts.get(MATCHED, 0):,}、待覆核 {counts.get(REVIEW, 0):,}、"
        f"不符合 {counts.get(UNMATCHED, 0):,}、小計不計 {counts.get(EXCLUDED, 0):,}",
        f"預算總額 {format_thousands(t.budget_total)} {t.unit}；性別預算 {format_thousands(t.gender_total)} {t.unit}"
        f"（{'—' if share is None else ('<0.01' if share == 0 and t.gender_total else format_thousands(share)) + '%'}）",
    ]
    if counts.get(REVIEW, 0):
        lines.append(f"待覆核建議數 {format_thousands(t.review_total)} {t.unit}：請在「明細」的覆核欄（覆核類別、覆核計入數或覆核比例）填寫")
    if t.workbook_total is not None and t.workbook_total != t.input_total:
        lines.append(f"警告：活頁簿總額 {format_thousands(t.workbook_total)} 與輸入總額 {format_thousands(t.input_total)} 不符")
    if result.output:
        lines.append(f"已寫出 {result.output}")
    for text in lines:
        _echo(text)  # never wrapped: the output path must stay whole


# --- more commands go here ---------------------------------------------------------------------


def main() -> None:
    """Console-script entry point."""
    app()

# --- serve (issue 12) --------------------------------------------------------------------------

@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", metavar="位址", help="監聽位址；預設只限本機。其他位址必須加 --password。 Address to listen on."),
    port: int = typer.Option(8765, "--port", metavar="埠號", help="連接埠。 Port."),
    data: Optional[Path] = typer.Option(None, "--data", metavar="資料夾", help="工作區資料夾（資料庫與上傳檔）；預設為使用者資料夾。 Data folder."),
    rules: Optional[Path] = RulesOption,
    password: Optional[str] = typer.Option(None, "--password", metavar="密碼", envvar="GENDER_BUDGET_PASSWORD",
                                           help="登入密碼（--host 非本機時必填；亦可用環境變數 GENDER_BUDGET_PASSWORD）。 Password."),
    max_upload_mb: int = typer.Option(100, "--max-upload-mb", min=1, metavar="MB", help="單次上傳大小上限（MB）。 Upload limit in MB."),
    open_browser: bool = typer.Option(True, "--open/--no-open", help="啟動後開啟瀏覽器（有桌面時）。 Open a browser."),
    verbose: bool = VerboseOption,
) -> None:
    """啟動本機網頁：上傳、分類、覆核、下載，不需使用終端機。 Start the local web application."""
    from .web import WebSettings, create_app, default_data_dir

    with guarded(verbose):
        settings = WebSettings(data=data or default_data_dir(), host=host, port=port, password=password or None,
                               rules=rules, max_upload_bytes=max_upload_mb << 20)
        web_app = create_app(settings)
    import os

    import uvicorn

    typer.echo(f"性別預算工具網頁：{settings.address}  （資料夾 {settings.data}；按 Ctrl+C 結束）")
    if password:
        typer.echo(f"已設定密碼：{host} 上的同仁需輸入密碼才能使用。 Password required.")
    if open_browser and (sys.platform in ("win32", "darwin") or os.environ.get("DISPLAY")):
        import threading
        import webbrowser

        threading.Timer(1.0, webbrowser.open, args=(settings.address,)).start()
    uvicorn.run(web_app, host=host, port=port, log_level="info" if verbose else "warning")
