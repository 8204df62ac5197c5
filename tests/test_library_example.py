"""The README's library example runs as written, and the library face exports what it promises."""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import budget

README = Path(__file__).resolve().parent.parent / "README.md"
CSV = ("工作計畫,用途別科目,說明,金額\n"
       "一般行政,2036 按日按件計資酬金,性別平等專案小組外聘委員出席費,60000\n"
       "一般行政,2054 一般事務費,辦公用品及文具,1234\n")


def library_example() -> str:
    """The first python code block of the README's library section."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## 當作程式庫 Library"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    (tmp_path / "116年度預算明細.csv").write_text(CSV, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(library_example(), str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert "性別平等專案小組外聘委員出席費 matched expert-attendance-fee 60000" in out
    assert "file-not-found 不存在.xlsx" in out
    assert namespace["result"].totals.gender_total == Decimal(60000)
    assert (tmp_path / "116年度預算明細.性別預算.xlsx").is_file()


def test_the_face_exports_every_promised_name() -> None:
    for name in ("load_rules", "read_exports", "classify", "run_classify", "make_report", "Problem", "BudgetError"):
        assert callable(getattr(budget, name)), name
        assert name in budget.__all__ and name in dir(budget)
    with pytest.raises(AttributeError):
        budget.no_such_thing  # noqa: B018


def test_importing_the_package_stays_light() -> None:
    code = "import sys, budget; print(sorted(m for m in sys.modules if m.startswith('budget')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=README.parent).stdout
    assert out.strip() == "['budget']"


def _module_imports(package: Path) -> dict[str, set[str]]:
    """Module → the budget modules it imports at load time (imports inside functions are deliberate and lazy)."""
    import ast

    names = {".".join(("budget", *p.relative_to(package).with_suffix("").parts)).removesuffix(".__init__"): p
             for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in names.items():
        is_package = path.name == "__init__.py"
        base = name.split(".") if is_package else name.split(".")[:-1]
        found: set[str] = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.ImportFrom):
                parts = base[:len(base) - node.level + 1] if node.level else []
                target = ".".join([*parts, *(node.module.split(".") if node.module else [])]) if node.level \
                    else (node.module or "")
                for alias in node.names:
                    for candidate in (f"{target}.{alias.name}", target):
                        if candidate in names:
                            found.add(candidate)
                            break
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name in names)
        graph[name] = found - {name}
    return graph


def test_no_import_cycles() -> None:
    graph = _module_imports(README.parent / "budget")
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " → ".join(trail[trail.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_decisions_frame(tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    from budget.frames import COLUMNS, decisions_frame

    path = tmp_path / "lines.csv"
    path.write_text(CSV, encoding="utf-8")
    result = budget.run_classify([path], budget.load_rules(), write=False)
    frame = decisions_frame(result)
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.columns) == list(COLUMNS) and len(frame) == 2
    first = frame.iloc[0]
    assert (first["row"], first["status"], first["category"]) == (2, "matched", "expert-attendance-fee")
    assert first["gender_amount"] == Decimal(60000) and isinstance(first["amount"], Decimal)
    assert frame["status"].tolist() == ["matched", "unmatched"]
