"""The cache of validated rules (budget/rulecache.py): same rules and decisions, never trusted blindly."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from budget import rulecache, rules as rules_module
from budget.check import check_lines, example_line, rules_summary
from budget.engine import classify
from budget.problems import BudgetError
from budget.rules import default_rules_path, load_rules, parse_rules
from budget.rules_schema import RUNTIME

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    """A fresh cache folder of this test; returns the folder the rules are kept in."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(rulecache.CACHE_ENV, raising=False)
    return tmp_path / "xdg" / "gender-budget"


@pytest.fixture()
def parses(monkeypatch):
    """Counts the validations :func:`load_rules` does (a cache hit does none)."""
    calls = []

    def counting(data, label="<rules>"):
        calls.append(label)
        return parse_rules(data, label)

    monkeypatch.setattr(rules_module, "parse_rules", counting)
    return calls


def cached_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("rules-*.pickle")) if folder.exists() else []


def decisions(rules) -> list:
    lines = [example_line(e, rules) for c in rules.categories for e in c.example]
    return [(d.to_dict(line), d.explain()) for line, d in zip(lines, classify(lines, rules))]


def test_dataclasses_have_the_fields_and_defaults_of_the_schema():
    for model, runtime in RUNTIME.items():
        fields = {f.name: f for f in dataclasses.fields(runtime)}
        assert list(fields) == list(model.model_fields), runtime.__name__
        for name, info in model.model_fields.items():
            field = fields[name]
            ours = field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default
            if info.is_required():
                assert ours is dataclasses.MISSING, f"{runtime.__name__}.{name}"
            else:
                assert ours == info.get_default(call_default_factory=True), f"{runtime.__name__}.{name}"


def test_examples_are_dumped_as_pydantic_dumps_them():
    from budget.rules_schema import Example

    rules = load_rules(cache=False)
    raws = [{"text": "a", "expect": "none"},
            {"text": "b", "expect": "x", "amount": "1E+3", "gender_amount": 22500.50, "year": 116, "unit": "千元",
             "status": "review", "note": "n", "account": "2036", "plan": "p", "branch": "q"}]
    from budget.rules_schema import to_runtime

    for raw in raws:
        model = Example.model_validate(raw)
        assert to_runtime(model).to_dict() == model.model_dump(mode="json")
    assert any(e.amount is not None for c in rules.categories for e in c.example)


def test_a_hit_gives_the_same_rules_and_decisions(cache, parses):
    first = load_rules()
    assert parses == [str(default_rules_path())] and len(cached_files(cache)) == 1
    second = load_rules()
    assert len(parses) == 1  # taken from the cache: not validated again
    assert second == first == load_rules(cache=False)
    assert decisions(second) == decisions(first)
    assert rules_summary(second) == rules_summary(first)
    line = example_line(first.categories[0].example[0], first)
    assert [r.to_dict() for r in check_lines([line], second)] == [r.to_dict() for r in check_lines([line], first)]


def test_the_same_bytes_elsewhere_keep_their_own_path(cache, parses, tmp_path):
    copy = tmp_path / "我的規則.toml"
    copy.write_bytes(default_rules_path().read_bytes())
    load_rules()
    rules = load_rules(copy)
    assert len(parses) == 1
    assert rules.path == str(copy)
    assert rules.sha256 == load_rules().sha256


@pytest.mark.parametrize("damage", ["garbage", "truncated", "flipped", "other-key", "empty"])
def test_a_damaged_cache_file_is_ignored_and_written_again(cache, parses, damage):
    good = load_rules()
    [path] = cached_files(cache)
    blob = path.read_bytes()
    damaged = {
        "garbage": b"not a cache file at all",
        "truncated": blob[: len(blob) // 2],
        "flipped": blob[:-10] + bytes([blob[-10] ^ 0xFF]) + blob[-9:],
        "other-key": blob[: len(rulecache.MAGIC)] + bytes(32) + blob[len(rulecache.MAGIC) + 32:],
        "empty": b"",
    }[damage]
    path.write_bytes(damaged)
    assert load_rules() == good
    assert len(parses) == 2
    assert path.read_bytes() == blob  # written again
    assert load_rules() == good and len(parses) == 2  # and used


def _forged(path: Path, key: bytes, payload: bytes) -> None:
    import hashlib

    path.write_bytes(rulecache.MAGIC + key + hashlib.sha256(payload).digest() + payload)


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


def test_a_cache_file_naming_other_classes_is_never_unpickled(cache, parses, tmp_path, monkeypatch):
    good = load_rules()
    [path] = cached_files(cache)
    key = rulecache.cache_key(default_rules_path().read_bytes())
    monkeypatch.chdir(tmp_path)
    _forged(path, key, pickle.dumps(_Boom()))
    assert load_rules() == good
    assert not (tmp_path / "pwned.txt").exists()
    assert len(parses) == 2


def test_a_cache_file_with_other_rules_is_not_used(cache, parses):
    good = load_rules()
    [path] = cached_files(cache)
    key = rulecache.cache_key(default_rules_path().read_bytes())
    _forged(path, key, pickle.dumps(dataclasses.replace(good, name="別的規則", sha256="0" * 64)))
    assert load_rules() == good
    assert len(parses) == 2


def test_a_changed_rules_file_misses(cache, parses, tmp_path):
    path = tmp_path / "r.toml"
    text = default_rules_path().read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    before = load_rules(path)
    path.write_text(text.replace('name = "', 'name = "改過的', 1), encoding="utf-8")
    after = load_rules(path)
    assert len(parses) == 2
    assert after.name == "改過的" + before.name
    assert after.sha256 != before.sha256
    assert len(cached_files(cache)) == 2
    assert load_rules(path) == after and len(parses) == 2


def test_invalid_rules_are_never_cached(cache, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('schema = 1\nname = "x"\n[[category]]\nid = "Bad Id"\n', encoding="utf-8")
    for _ in range(2):
        with pytest.raises(BudgetError):
            load_rules(path)
    assert cached_files(cache) == []


def test_a_cache_folder_that_cannot_be_made_or_written_just_means_no_cache(tmp_path, monkeypatch, parses):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # gender-budget/ cannot be made inside a file
    monkeypatch.delenv(rulecache.CACHE_ENV, raising=False)
    first, second = load_rules(), load_rules()
    assert len(parses) == 2  # validated each time
    assert first == second == load_rules(cache=False)

    def refuse(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(rulecache.os, "replace", refuse)  # the folder is there, the file cannot be put
    assert load_rules() == first
    assert list((tmp_path / "xdg" / "gender-budget").glob("*")) == []  # no temporary file left behind


def test_the_cache_can_be_turned_off(cache, parses, monkeypatch):
    monkeypatch.setenv(rulecache.CACHE_ENV, "0")
    assert rulecache.cache_dir() is None
    load_rules(), load_rules()
    assert len(parses) == 2 and cached_files(cache) == []


def test_relative_xdg_cache_home_is_ignored(monkeypatch, tmp_path):
    monkeypatch.delenv(rulecache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert rulecache.cache_dir() != Path("relative/cache") / "gender-budget"
    assert rulecache.cache_dir().is_absolute()


def test_old_files_are_removed_beyond_the_limit(cache, monkeypatch, tmp_path):
    monkeypatch.setattr(rulecache, "KEEP", 2)
    text = default_rules_path().read_text(encoding="utf-8")
    for i in range(4):
        path = tmp_path / f"r{i}.toml"
        path.write_text(text.replace('name = "', f'name = "{i}', 1), encoding="utf-8")
        load_rules(path)
        stamp = 1_000_000 + i  # written in this order, whatever the clock's resolution
        for entry in cached_files(cache):
            if entry.stat().st_mtime > 2_000_000:
                os.utime(entry, (stamp, stamp))
    assert len(cached_files(cache)) == 2


def test_a_cached_check_imports_neither_pydantic_nor_tomllib(cache):
    env = {**os.environ, "XDG_CACHE_HOME": str(cache.parent)}
    args = ["check", "性別平等專案小組會議外聘委員出席費", "--account", "2036 按日按件計資酬金", "--amount", "22500"]
    script = ("import sys; from budget.cli import app\n"
              "try:\n    app(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
              "print(sorted(m for m in ('pydantic', 'tomllib', 'pydantic_core') if m in sys.modules), file=sys.stderr)")
    runs = [subprocess.run([sys.executable, "-c", script, *args], cwd=REPO, env=env, capture_output=True,
                           text=True, encoding="utf-8") for _ in range(2)]
    assert runs[0].stdout == runs[1].stdout and "expert-attendance-fee" in runs[1].stdout
    assert runs[0].stderr.strip().endswith("['pydantic', 'pydantic_core', 'tomllib']")  # validated once …
    assert runs[1].stderr.strip().endswith("[]")  # … then taken from the cache
    json_runs = [subprocess.run([sys.executable, "-m", "budget", *args, "--json"], cwd=REPO, env=env | extra,
                                capture_output=True, text=True, encoding="utf-8")
                 for extra in ({}, {rulecache.CACHE_ENV: "0"})]
    assert json.loads(json_runs[0].stdout) == json.loads(json_runs[1].stdout)


def test_the_builtin_sha256_gives_hashlibs_digests():
    import hashlib

    for data in (b"", b"schema = 1\n", "規則".encode() * 10_000):
        assert rulecache.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
