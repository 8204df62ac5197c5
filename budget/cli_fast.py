"""The command line's quick path: `check "…"` answered without typer, and the printing it shares with budget/cli.py.

``python -m budget check "…" --account … --amount …`` is run again and again; importing typer and
building its app take about as long as the check itself. :func:`main` parses the plain shapes of
that command here — one description and the options in :data:`CHECK_FLAGS`, each given once as
``--option value`` — decides the line with the same functions as the typer command and prints it
with the same printer (:func:`print_check`). Everything else (help, other commands, other options,
``--option=value``, a value that starts with ``-``, a problem while deciding) goes to the typer app
in budget/cli.py, which parses, decides and words it as always: the quick path prints nothing
unless it succeeds, so what the command prints and its exit code are those of the typer command.

This module and budget/cli.py are the command line: the only modules that import rich (here only
when printing) or typer (only there).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

from .lazyre import LazyPattern

#: The options of ``check`` the quick path reads: parameter → its flags. budget/cli.py declares the
#: typer options with these flags (tests/test_cli_fast.py checks that the two agree).
CHECK_FLAGS: dict[str, tuple[str, ...]] = {
    "account": ("--account", "-a"),
    "amount": ("--amount",),
    "unit": ("--unit", "-u"),
    "plan": ("--plan",),
    "branch": ("--branch",),
    "year": ("--year",),
    "rules": ("--rules", "-r"),
    "as_json": ("--json",),
}
#: Options without a value.
_SWITCHES = {"as_json"}
#: ASCII digits that typer's own coercion reads as the same int (budget/cli.py uses it too).
DIGITS = LazyPattern(r"0|[1-9][0-9]{0,17}")
#: Characters that click expands in arguments on Windows (``~``, environment variables, wildcards).
_EXPANDED_ON_WINDOWS = set("~$%*?[")


def parse_check(args: Sequence[str]) -> Optional[dict[str, Any]]:
    """The keyword arguments of ``check`` for ``args`` of a plain shape, or None when typer must parse them.

    Plain: ``check`` then one description (not starting with ``-``) and options of :data:`CHECK_FLAGS`
    in any order, each at most once, each value a separate argument that does not start with ``-``.
    """
    if len(args) < 2 or args[0] != "check":
        return None
    if os.name == "nt" and any(_EXPANDED_ON_WINDOWS.intersection(arg) for arg in args):
        return None
    if any(key.startswith("_") and key.endswith("_COMPLETE") for key in os.environ):
        return None  # a shell-completion request: typer answers it
    by_flag = {flag: name for name, flags in CHECK_FLAGS.items() for flag in flags}
    given: dict[str, Any] = {}
    text: Optional[str] = None
    rest = iter(args[1:])
    for arg in rest:
        if not arg.startswith("-"):
            if text is not None:
                return None
            text = arg
            continue
        name = by_flag.get(arg)
        if name is None or name in given:
            return None
        if name in _SWITCHES:
            given[name] = True
            continue
        value = next(rest, None)
        if value is None or value.startswith("-"):
            return None
        given[name] = value
    if text is None:
        return None
    if "year" in given:
        if not DIGITS.fullmatch(given["year"]):
            return None
        given["year"] = int(given["year"])
    if "rules" in given:
        if not given["rules"] or not os.access(given["rules"], os.R_OK):
            return None  # typer's path checks word it
        given["rules"] = Path(given["rules"])
    return {"text": text, "account": "", "amount": None, "unit": None, "plan": "", "branch": "", "year": None,
            "rules": None, "as_json": False, **given}


def decide(text: str, *, account: str, amount: Optional[str], unit: Optional[str], plan: str, branch: str,
           year: Optional[int], rules: Optional[Path]) -> tuple[list[Any], Any]:
    """``(results, ruleset)`` of ``check "…"``: the rules loaded, the described line decided.

    Raises :class:`~budget.problems.BudgetError` for unusable rules or values, as the typer command does.
    """
    from .check import check_lines, lines_from_args
    from .rules import load_rules

    ruleset = load_rules(rules)
    line = lines_from_args(text, account=account, amount=amount, unit=unit, plan=plan, branch=branch, year=year,
                           rules=ruleset)
    return check_lines([line], ruleset), ruleset


def show_check(results: list[Any], ruleset: Any, *, as_json: bool, single: bool) -> int:
    """Print the results of ``check`` (JSON: one object when ``single``, else a list); exit code 1 when any needs review."""
    if as_json:
        payload = [r.to_dict() for r in results]
        dump(payload[0] if single else payload)
    else:
        print_check(results, ruleset)
    return 1 if any(r.decision.status == "review" for r in results) else 0


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Console-script entry point: the quick path when it applies, else the typer app (budget/cli.py)."""
    args = sys.argv[1:] if argv is None else list(argv)
    parsed = parse_check(args)
    if parsed is not None:
        as_json = parsed.pop("as_json")
        try:
            try:
                results, ruleset = decide(**parsed)
            except Exception:  # noqa: BLE001 - the typer command runs it again and words the problem
                results = None
            if results is not None:
                sys.exit(show_check(results, ruleset, as_json=as_json, single=True))
        except KeyboardInterrupt:
            sys.exit(130)  # as typer does
        except BrokenPipeError:  # the reader went away (`| head`): as typer does, exit 1 without a word
            _quiet_closed_output()
            sys.exit(1)
    from . import cli

    if argv is None:
        cli.main()  # as ever: typer reads sys.argv itself (and on Windows expands it)
    else:
        cli.app(args)


def _quiet_closed_output() -> None:
    """Point stdout at the null device, so that Python's final flush of a closed pipe stays silent."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


# --- printing: rich, imported only here --------------------------------------------------------

def console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def cell(value: Any) -> Any:
    """Input text as a rich Text: printed literally (never markup), control characters made visible."""
    from rich.text import Text

    from .terminal import terminal_text

    return Text(terminal_text("" if value is None else str(value)))


def add_row(table: Any, *values: Any) -> None:
    """A row of input text: every cell literal, never markup."""
    table.add_row(*(cell(v) for v in values))


def dump(data: Any) -> None:
    import json

    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def print_check(results: list[Any], ruleset: Any) -> None:
    """Each decided line as a two-column table: what was read, the decision, and why."""
    from rich.table import Table

    from .models import STATUS_LABELS

    out = console()
    for r in results:
        d, line = r.decision, r.line
        cat = ruleset.category(d.category) if d.category else None
        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        if line.row is not None and line.file:
            add_row(table, "來源", line.source)
        add_row(table, "說明", line.description)
        if line.account or line.account_code:
            add_row(table, "用途別科目", f"{line.account_code} {line.account}".strip())
        add_row(table, "判定", f"{STATUS_LABELS[d.status]} ({d.status})")
        add_row(table, "類別", f"{cat.name}（{cat.id}，第{cat.official_class}類）" if cat else "—")
        if d.share_percent is not None:
            add_row(table, "計入比例", f"{r.fmt(d.share_percent)}%")
        if line.amount is not None:
            add_row(table, "金額", f"{r.fmt_money(line.amount)} {line.unit}")
            add_row(table, "性別預算數", f"{r.fmt_money(d.gender_amount)} {line.unit}")
        add_row(table, "依據", d.explain() or "無任何類別的條件符合 (no category matched)")
        add_row(table, "規則", f"{d.rule}（{ruleset.name}）" if d.rule else "—")
        if d.also_matched:
            add_row(table, "亦符合", "、".join(d.also_matched))
        for sub in d.subitems:
            add_row(table, f"子項 {sub.marker}", f"{sub.text}  → {'、'.join(sub.categories) or '—'}")
        out.print(table)
        out.print()
