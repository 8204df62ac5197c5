"""Workspaces on disk: an embedded SQLite database (workspaces, uploads, runs, lines, reviews) and upload files.

Uploads are stored under generated names (``uploads/<random>.<suffix>``); the name the browser sent is
kept only as a label. Lines are stored one row each so the pages can search and page in SQL, which
keeps a 100k-line run responsive. Each review carries a version: the run's review counter when it was
saved, so two clerks on one workspace see each other's saves and the later save on a line wins.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PureWindowsPath
from typing import Any, BinaryIO, Iterable, Iterator

from ..normalize import fold
from ..problems import BudgetError

SCHEMA = """
CREATE TABLE IF NOT EXISTS workspace (id TEXT PRIMARY KEY, name TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS upload (
  id TEXT PRIMARY KEY, workspace TEXT, kind TEXT NOT NULL, name TEXT NOT NULL, stored TEXT NOT NULL,
  size INTEGER NOT NULL, sha256 TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run (
  id TEXT PRIMARY KEY, workspace TEXT NOT NULL, created TEXT NOT NULL, status TEXT NOT NULL,
  stage TEXT DEFAULT '', done INTEGER DEFAULT 0, total INTEGER, inputs TEXT NOT NULL, rules TEXT NOT NULL,
  options TEXT NOT NULL, totals TEXT, problems TEXT, finished TEXT, review_seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS line (
  run TEXT NOT NULL, idx INTEGER NOT NULL, file TEXT, sheet TEXT, row INTEGER, kind TEXT, plan TEXT,
  branch TEXT, account_code TEXT, account TEXT, description TEXT, context TEXT, amount TEXT, unit TEXT,
  status TEXT, category TEXT, share TEXT, gender TEXT, rule TEXT, evidence TEXT, also TEXT, search TEXT,
  PRIMARY KEY (run, idx)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS line_status ON line (run, status, idx);
CREATE TABLE IF NOT EXISTS review (
  run TEXT NOT NULL, idx INTEGER NOT NULL, category TEXT NOT NULL DEFAULT '', amount TEXT, percent TEXT,
  note TEXT NOT NULL DEFAULT '', version INTEGER NOT NULL, saved TEXT NOT NULL,
  status TEXT, final_category TEXT, final_share TEXT, final_gender TEXT,
  PRIMARY KEY (run, idx)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS review_version ON review (run, version);
"""

#: Line fields stored per row, in the table's order after (run, idx).
LINE_FIELDS = ("file", "sheet", "row", "kind", "plan", "branch", "account_code", "account", "description",
               "context", "amount", "unit", "status", "category", "share", "gender", "rule", "evidence", "also",
               "search")
#: Suffixes accepted per kind of upload.
SUFFIXES = {
    "export": (".xlsx", ".xlsm", ".xls", ".ods", ".csv"),
    "rules": (".toml",),
    "annotated": (".xlsx", ".ods"),
    "batch": (".csv", ".xlsx", ".xlsm", ".xls", ".ods"),
}
KIND_LABELS = {"export": "預算明細匯出檔", "rules": "規則檔", "annotated": "附註工作簿", "batch": "新項目檔"}


def now() -> str:
    """The current local time, to the second, ISO format."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def display_name(client_name: str | None) -> str:
    """A label for an uploaded file: the last part of what the browser sent, control characters removed."""
    name = PureWindowsPath(str(client_name or "")).name  # splits on both / and \
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[-120:] or "未命名檔案"


@dataclass(frozen=True)
class Upload:
    """One stored upload: ``name`` is the clerk's label, ``stored`` the generated file name under uploads/."""

    id: str
    workspace: str | None
    kind: str
    name: str
    stored: str
    size: int
    sha256: str
    created: str


class UploadTooLarge(Exception):
    """An upload went past the size limit while it was being stored."""


class Store:
    """The database and the upload folder under one data folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.uploads = self.folder / "uploads"
        self.scratch = self.folder / "scratch"
        for path in (self.folder, self.uploads, self.scratch):
            path.mkdir(parents=True, exist_ok=True)
        for leftover in self.scratch.iterdir():  # downloads of a server that was stopped while writing them
            shutil.rmtree(leftover, ignore_errors=True)
        self.path = self.folder / "gender-budget.sqlite3"
        with self.db() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)

    @contextmanager
    def db(self) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction (committed on success, rolled back on error), then closed."""
        con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        try:
            with con:
                yield con
        finally:
            con.close()

    # --- workspaces -------------------------------------------------------------------------

    def create_workspace(self, name: str) -> str:
        """A new workspace; returns its id."""
        wid = secrets.token_urlsafe(6)
        with self.db() as con:
            con.execute("INSERT INTO workspace VALUES (?, ?, ?)", (wid, name.strip()[:80] or "工作區", now()))
        return wid

    def workspaces(self) -> list[sqlite3.Row]:
        """Every workspace, newest first, with its number of runs."""
        with self.db() as con:
            return con.execute("SELECT w.*, (SELECT COUNT(*) FROM run r WHERE r.workspace = w.id) AS runs "
                               "FROM workspace w ORDER BY created DESC").fetchall()

    def workspace(self, wid: str) -> sqlite3.Row | None:
        """One workspace or None."""
        with self.db() as con:
            return con.execute("SELECT * FROM workspace WHERE id = ?", (wid,)).fetchone()

    # --- uploads ----------------------------------------------------------------------------

    def save_upload(self, workspace: str | None, kind: str, client_name: str | None, source: BinaryIO,
                    limit: int) -> Upload:
        """Copy ``source`` to a generated file name; raise :class:`BudgetError` for a type not accepted here
        and :class:`UploadTooLarge` past ``limit`` bytes."""
        name = display_name(client_name)
        suffix = Path(name).suffix.lower()
        if suffix not in SUFFIXES[kind]:
            raise BudgetError.one(
                "upload-bad-type", f"不接受此類檔案（{KIND_LABELS[kind]}應為 {'、'.join(SUFFIXES[kind])}）",
                "this kind of file is not accepted here", file=name)
        uid = secrets.token_hex(12)
        stored = uid + suffix
        target = self.uploads / stored
        digest, size = hashlib.sha256(), 0
        try:
            with open(target, "xb") as out:
                for chunk in iter(lambda: source.read(1 << 20), b""):
                    size += len(chunk)
                    if size > limit:
                        raise UploadTooLarge(name)
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        upload = Upload(uid, workspace, kind, name, stored, size, digest.hexdigest(), now())
        with self.db() as con:
            con.execute("INSERT INTO upload VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (upload.id, workspace, kind, name, stored, size, upload.sha256, upload.created))
        return upload

    def save_bytes(self, workspace: str | None, kind: str, name: str, data: bytes) -> Upload:
        """Store bytes the server itself provides (the bundled rules used by a run) as an upload."""
        import io

        return self.save_upload(workspace, kind, name, io.BytesIO(data), len(data) + 1)

    def upload(self, uid: str, workspace: str | None = None) -> Upload | None:
        """One upload (of ``workspace`` when given) or None."""
        with self.db() as con:
            row = con.execute("SELECT * FROM upload WHERE id = ?", (uid,)).fetchone()
        if row is None or (workspace is not None and row["workspace"] != workspace):
            return None
        return Upload(**dict(row))

    def uploads_of(self, workspace: str, kind: str) -> list[Upload]:
        """The uploads of one kind in a workspace, newest first."""
        with self.db() as con:
            rows = con.execute("SELECT * FROM upload WHERE workspace = ? AND kind = ? ORDER BY created DESC",
                               (workspace, kind)).fetchall()
        return [Upload(**dict(r)) for r in rows]

    def path_of(self, upload: Upload) -> Path:
        """Where an upload's bytes are."""
        return self.uploads / upload.stored

    # --- runs -------------------------------------------------------------------------------

    def create_run(self, workspace: str, inputs: list[str], rules: str, options: dict[str, Any]) -> str:
        """A queued run of the uploads ``inputs`` with the rules upload ``rules``; returns its id."""
        rid = secrets.token_hex(6)
        with self.db() as con:
            con.execute("INSERT INTO run (id, workspace, created, status, inputs, rules, options) "
                        "VALUES (?, ?, ?, 'queued', ?, ?, ?)",
                        (rid, workspace, now(), json.dumps(inputs), rules, json.dumps(options, ensure_ascii=False)))
        return rid

    def runs(self, workspace: str) -> list[sqlite3.Row]:
        """The runs of a workspace, newest first."""
        with self.db() as con:
            return con.execute("SELECT * FROM run WHERE workspace = ? ORDER BY created DESC", (workspace,)).fetchall()

    def run(self, rid: str, workspace: str | None = None) -> sqlite3.Row | None:
        """One run (of ``workspace`` when given) or None."""
        with self.db() as con:
            row = con.execute("SELECT * FROM run WHERE id = ?", (rid,)).fetchone()
        if row is None or (workspace is not None and row["workspace"] != workspace):
            return None
        return row

    def set_state(self, rid: str, status: str, stage: str = "", done: int = 0, total: int | None = None) -> None:
        """Record a run's state and progress."""
        with self.db() as con:
            con.execute("UPDATE run SET status = ?, stage = ?, done = ?, total = ? WHERE id = ?",
                        (status, stage, done, total, rid))

    def finish(self, rid: str, status: str, problems: list[dict[str, Any]], totals: dict[str, Any] | None = None,
               lines: Iterable[tuple] = ()) -> None:
        """Store a run's outcome: its lines (rows of :data:`LINE_FIELDS`), totals and problems."""
        with self.db() as con:
            con.execute("DELETE FROM line WHERE run = ?", (rid,))
            con.executemany(f"INSERT INTO line VALUES (?, ?, {', '.join('?' * len(LINE_FIELDS))})",
                            ((rid, i, *values) for i, values in enumerate(lines)))
            con.execute("UPDATE run SET status = ?, totals = ?, problems = ?, finished = ? WHERE id = ?",
                        (status, json.dumps(totals, ensure_ascii=False) if totals is not None else None,
                         json.dumps(problems, ensure_ascii=False), now(), rid))

    def mark_interrupted(self) -> int:
        """Runs left queued or running by a stopped server become ``interrupted``; returns how many."""
        with self.db() as con:
            return con.execute("UPDATE run SET status = 'interrupted' WHERE status IN ('queued', 'running')").rowcount

    # --- lines ------------------------------------------------------------------------------

    def lines_page(self, rid: str, *, query: str = "", status: str = "", page: int = 1,
                   per_page: int = 50) -> tuple[list[sqlite3.Row], int]:
        """One page of a run's lines (searched in SQL, with their reviews) and how many match in all."""
        where, args = ["l.run = ?"], [rid]
        if status == "reviewed":
            where.append("r.idx IS NOT NULL AND r.category != ''")
        elif status:
            where.append("l.status = ?")
            args.append(status)
        folded = fold(query)
        if folded:
            where.append("l.search LIKE ? ESCAPE '\\'")
            args.append("%" + folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        joined = ("FROM line l LEFT JOIN review r ON r.run = l.run AND r.idx = l.idx WHERE " + " AND ".join(where))
        with self.db() as con:
            total = con.execute("SELECT COUNT(*) " + joined, args).fetchone()[0]
            rows = con.execute(
                "SELECT l.*, r.category AS r_category, r.amount AS r_amount, r.percent AS r_percent, "
                "r.note AS r_note, r.version AS r_version, r.saved AS r_saved, r.status AS r_status, "
                "r.final_category AS r_final_category, r.final_share AS r_final_share, "
                "r.final_gender AS r_final_gender " + joined + " ORDER BY l.idx LIMIT ? OFFSET ?",
                [*args, per_page, max(page - 1, 0) * per_page]).fetchall()
        return rows, total

    def line(self, rid: str, idx: int) -> sqlite3.Row | None:
        """One stored line or None."""
        with self.db() as con:
            return con.execute("SELECT * FROM line WHERE run = ? AND idx = ?", (rid, idx)).fetchone()

    def lines_at(self, rid: str, indexes: Iterable[int]) -> dict[int, sqlite3.Row]:
        """Stored lines by index."""
        wanted = sorted(set(indexes))
        out: dict[int, sqlite3.Row] = {}
        with self.db() as con:
            for k in range(0, len(wanted), 500):
                part = wanted[k:k + 500]
                for row in con.execute(f"SELECT * FROM line WHERE run = ? AND idx IN ({','.join('?' * len(part))})",
                                       [rid, *part]):
                    out[row["idx"]] = row
        return out

    # --- reviews ----------------------------------------------------------------------------

    def save_review(self, rid: str, idx: int, entry: dict[str, Any], final: dict[str, Any] | None,
                    seen: int) -> tuple[int, sqlite3.Row | None]:
        """Save one line's review (the later save wins); returns its new version and, when someone else
        saved the line after version ``seen``, that save (which this one replaced)."""
        with self.db() as con:
            con.execute("BEGIN IMMEDIATE")
            before = con.execute("SELECT * FROM review WHERE run = ? AND idx = ?", (rid, idx)).fetchone()
            version = con.execute("SELECT review_seq + 1 FROM run WHERE id = ?", (rid,)).fetchone()[0]
            con.execute("UPDATE run SET review_seq = ? WHERE id = ?", (version, rid))
            final = final or {}
            con.execute(
                "INSERT OR REPLACE INTO review VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (rid, idx, entry.get("category", ""), entry.get("amount"), entry.get("percent"), entry.get("note", ""),
                 version, now(), final.get("status"), final.get("category"), final.get("share"), final.get("gender")))
        conflict = before if before is not None and before["version"] != seen else None
        return version, conflict

    def reviews(self, rid: str) -> dict[int, sqlite3.Row]:
        """Every review of a run that is not cleared, by line index."""
        with self.db() as con:
            rows = con.execute("SELECT * FROM review WHERE run = ? AND category != '' ORDER BY idx", (rid,)).fetchall()
        return {row["idx"]: row for row in rows}

    def reviews_since(self, rid: str, version: int) -> list[sqlite3.Row]:
        """Reviews saved (or cleared) after ``version``."""
        with self.db() as con:
            return con.execute("SELECT * FROM review WHERE run = ? AND version > ? ORDER BY version",
                               (rid, version)).fetchall()
