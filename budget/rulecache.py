"""Validated rules kept in the user's cache folder, so that ``check`` starts without pydantic.

Validating a rules file needs tomllib and pydantic (~0.2 s to import and build the models); the
result is pure data (budget/rules.py's dataclasses). :func:`cached_rules` keeps it, pickled, in
``$XDG_CACHE_HOME/gender-budget`` (else ``~/.cache/gender-budget``, ``~/Library/Caches/gender-budget``
or ``%LOCALAPPDATA%\\gender-budget\\Cache``), under a key made of the file's bytes, this tool's
version and source of the rules modules, and the Python version. A copy is used only when its
header, key and checksum all match, it unpickles to a RuleSet of the same bytes, and it names no
class but those of the rules (a restricted unpickler: nothing else is ever imported or called);
anything else is ignored and written again. A cache folder that is missing and cannot be made,
or cannot be written, means no cache — never an error. ``GENDER_BUDGET_CACHE=0`` turns it off.
"""

from __future__ import annotations

import io
import os
import pickle
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable

from . import __version__
from .rules import RuleSet

try:  # the interpreter's own SHA-256 (the same digests): importing hashlib loads OpenSSL first, ~4 ms
    from _sha256 import sha256  # Python 3.11
except ImportError:  # pragma: no cover - Python ≥ 3.12, or a build without it
    try:
        from _sha2 import sha256
    except ImportError:
        from hashlib import sha256

#: Environment variable: ``0`` (or off, no, false) turns the cache off.
CACHE_ENV = "GENDER_BUDGET_CACHE"
APP_FOLDER = "gender-budget"
#: First bytes of a cache file; change it when the file's layout changes.
MAGIC = b"gender-budget rules cache 1\n"
#: Cached rules files kept; older ones are removed when a new one is written.
KEEP = 16
_OFF = {"0", "off", "no", "false"}
#: The only classes a cache file may name (anything else: the file is not used).
_ALLOWED = {
    ("budget.rules", "RuleSet"), ("budget.rules", "Category"), ("budget.rules", "Conditions"),
    ("budget.rules", "Example"), ("budget.rules", "ReportSettings"), ("budget.rules", "ReportColumn"),
    ("decimal", "Decimal"),
}


def cache_dir() -> Path | None:
    """Where validated rules are kept, or None when the cache is turned off (or there is no home folder)."""
    if os.environ.get(CACHE_ENV, "").strip().lower() in _OFF:
        return None
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg and os.path.isabs(xdg):  # the XDG spec: a relative path is ignored
        return Path(xdg) / APP_FOLDER
    try:
        home = Path.home()
    except (RuntimeError, KeyError):  # no home folder: no cache
        return None
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / APP_FOLDER / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / APP_FOLDER
    return home / ".cache" / APP_FOLDER


def _sources() -> bytes | None:
    """The source of the modules that make a RuleSet (a development change must not reuse old copies)."""
    here = Path(__file__).parent
    try:
        return b"".join((here / name).read_bytes() for name in ("rules.py", "rules_schema.py"))
    except OSError:
        return None


def cache_key(data: bytes) -> bytes | None:
    """The key of ``data`` (a rules file's bytes) for this tool and Python; None when it cannot be made."""
    sources = _sources()
    if sources is None:
        return None
    digest = sha256()
    for part in (MAGIC, __version__.encode(), sys.version.encode(), sources, data):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.digest()


class _RulesUnpickler(pickle.Unpickler):
    """Unpickles the rules' dataclasses and Decimal, and refuses every other class or function."""

    def find_class(self, module: str, name: str) -> type:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of cached rules")
        return super().find_class(module, name)


def _read(path: Path, key: bytes, digest: str) -> RuleSet | None:
    """The RuleSet in ``path`` if it checks out, else None."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    head = len(MAGIC) + 64
    if len(blob) <= head or not blob.startswith(MAGIC) or blob[len(MAGIC):len(MAGIC) + 32] != key:
        return None
    payload = blob[head:]
    if sha256(payload).digest() != blob[len(MAGIC) + 32:head]:
        return None
    try:
        rules = _RulesUnpickler(io.BytesIO(payload)).load()
    except Exception:  # a damaged or foreign file: not used, written again
        return None
    if not isinstance(rules, RuleSet) or rules.sha256 != digest:
        return None
    return rules


def _write(folder: Path, path: Path, key: bytes, rules: RuleSet) -> None:
    """Keep ``rules`` in ``path`` (written whole, then renamed into place); errors are the caller's to ignore."""
    import tempfile

    payload = pickle.dumps(rules, protocol=pickle.HIGHEST_PROTOCOL)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".rules-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as fh:
            fh.write(MAGIC + key + sha256(payload).digest() + payload)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _prune(folder, keep=path)


def _prune(folder: Path, keep: Path) -> None:
    """Remove the oldest cached rules beyond :data:`KEEP`."""
    found = []
    for entry in folder.glob("rules-*.pickle"):
        try:
            found.append((entry.stat().st_mtime, entry))
        except OSError:
            continue
    found.sort(reverse=True)
    for _, entry in found[KEEP:]:
        if entry != keep:
            try:
                entry.unlink()
            except OSError:
                pass


def cached_rules(data: bytes, label: str, parse: Callable[[bytes, str], RuleSet]) -> RuleSet:
    """``parse(data, label)``, or the cached result of it for the same bytes.

    Problems in a rules file are raised by ``parse`` every time (only valid rules are kept).
    """
    folder = cache_dir()
    key = cache_key(data) if folder is not None else None
    if folder is None or key is None:
        return parse(data, label)
    path = folder / f"rules-{key.hex()[:48]}.pickle"
    digest = sha256(data).hexdigest()
    rules = _read(path, key, digest)
    if rules is not None:
        return rules if rules.path == label else replace(rules, path=label)
    rules = parse(data, label)
    try:
        _write(folder, path, key, rules)
    except Exception:  # a read-only, full or missing folder: no cache, same rules
        pass
    return rules
