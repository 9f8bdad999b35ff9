"""open_db(path, readonly=False) → sqlite_utils.Database, with registered migrations.

Each migration is a function applied once, in order, inside a transaction; `_migrations` records them.
Serving opens the file read-only (SQLite URI mode=ro), so a web process can never change the KB.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # sqlite_utils (and the numpy it pulls in) is imported when a database is opened for writing
    import sqlite_utils

Migration = Callable[["sqlite_utils.Database"], None]


def migration_registry() -> tuple[list[tuple[str, Migration]], Callable[[str], Callable[[Migration], Migration]]]:
    """(the ordered list of migrations, the decorator that registers one under a name): one per database."""
    steps: list[tuple[str, Migration]] = []

    def migration(name: str):
        def register(fn: Migration) -> Migration:
            steps.append((name, fn))
            return fn
        return register
    return steps, migration


MIGRATIONS, migration = migration_registry()


@migration("0001_initial")
def initial(db: sqlite_utils.Database) -> None:
    db["documents"].create({
        "id": str, "source_file": str, "title": str, "doc_number": str, "issuer": str, "jurisdiction": str,
        "issued_on": str, "effective_from": str, "version": int, "content_hash": str, "format": str,
        "text": str, "warnings": str, "ingested_at": str}, pk="id")
    db["document_versions"].create({
        "document_id": str, "version": int, "content_hash": str, "text": str, "ingested_at": str},
        pk=("document_id", "version"))
    db["clauses"].create({
        "id": str, "document_id": str, "parent_id": str, "ord": int, "path": str, "label": str, "style": str,
        "heading": str, "text": str, "lineno": int}, pk="id")
    db["measures"].create({
        "id": str, "document_id": str, "clause_id": str, "ord": int, "kind": str, "text": str,
        "departments": str, "department_ids": str}, pk="id")
    db["measure_departments"].create({"measure_id": str, "document_id": str, "name": str, "canonical": str})
    db["conditions"].create({
        "id": str, "document_id": str, "clause_id": str, "ord": int, "role": str, "text": str,
        "predicate": str, "grp": str}, pk="id")
    db["rules"].create({
        "id": str, "document_id": str, "ord": int, "kind": str, "combinator": str, "condition_ids": str,
        "measure_ids": str, "clause_id": str}, pk="id")
    db["entities"].create({"document_id": str, "clause_id": str, "label": str, "text": str, "start": int,
                           "end": int})
    db["clause_search"].create({"clause_id": str, "document_id": str, "tokens": str}, pk="clause_id")
    db["clause_search"].enable_fts(["tokens"], tokenize="unicode61", create_triggers=True)
    for table, cols in (("clauses", ["document_id"]), ("measures", ["document_id"]), ("conditions", ["document_id"]),
                        ("rules", ["document_id"]), ("measure_departments", ["canonical"]),
                        ("entities", ["clause_id"])):
        db[table].create_index(cols)


@migration("0002_sessions")
def sessions(db: sqlite_utils.Database) -> None:
    # where chat kept sessions before knowledge/sessions.py gave them a file of their own; left as it is
    db["sessions"].create({"id": str, "facts": str, "created_at": str, "updated_at": str}, pk="id")
    db["turns"].create({"session_id": str, "n": int, "message": str, "reply": str, "at": str},
                       pk=("session_id", "n"))


@migration("0003_extractor_version")
def extractor_version(db: sqlite_utils.Database) -> None:
    db["documents"].add_column("extractor", str)


VERSIONED = ("clauses", "measures", "conditions", "rules")
VERSION_META = {"source_file": str, "title": str, "doc_number": str, "issuer": str, "jurisdiction": str,
                "issued_on": str, "effective_from": str, "expires": str, "trial": int, "superseded_on": str,
                "format": str, "warnings": str, "extractor": str, "matched_by": str, "replaces": str,
                "revision": int, "validity_warnings": str}


@migration("0004_versions")
def versions(db: sqlite_utils.Database) -> None:
    """Every version's extraction is kept: version_<table> holds the rows of each (document, version), the
    plain tables the current version of each document in answers. Validity is stored on the version; a
    document taken out of answers keeps its history (retired_at)."""
    for col, kind in VERSION_META.items():
        db["document_versions"].add_column(col, kind)
    for col, kind in (("expires", str), ("trial", int), ("superseded_on", str), ("retired_at", str),
                      ("matched_by", str)):
        db["documents"].add_column(col, kind)
    for table in VERSIONED:
        cols = {k: v for k, v in db[table].columns_dict.items()}
        db[f"version_{table}"].create({"version": int, **cols}, pk=("document_id", "version", "id"))
        names = ", ".join(f"[{c}]" for c in cols)
        db.execute(f"INSERT INTO [version_{table}] (version, {names}) SELECT d.version, {', '.join('t.' + f'[{c}]' for c in cols)} "
                   f"FROM [{table}] t JOIN documents d ON d.id = t.document_id")
    for d in db["documents"].rows:
        db.execute("UPDATE document_versions SET source_file = ?, title = ?, doc_number = ?, issuer = ?, "
                   "jurisdiction = ?, issued_on = ?, effective_from = ?, format = ?, warnings = ?, extractor = ? "
                   "WHERE document_id = ? AND version = ?",
                   [d["source_file"], d["title"], d["doc_number"], d["issuer"], d["jurisdiction"], d["issued_on"],
                    d["effective_from"], d["format"], d["warnings"], d.get("extractor"), d["id"], d["version"]])
    db.execute("UPDATE document_versions SET source_file = (SELECT source_file FROM documents "
               "WHERE documents.id = document_versions.document_id) WHERE source_file IS NULL")
    db["document_versions"].create_index(["content_hash"])
    db["document_versions"].create_index(["source_file"])


@migration("0005_corrections")
def corrections(db: sqlite_utils.Database) -> None:
    """Staff corrections (knowledge/corrections.py), kept apart from extraction and keyed by the clause's content;
    a measure or condition a correction changed or added says so in `corrected` (who, when, why)."""
    db["corrections"].create({
        "id": int, "identity": str, "document_id": str, "action": str, "clause_key": str, "clause_path": str,
        "clause_text": str, "target": str, "value": str, "by": str, "at": str, "why": str, "source": str,
        "status": str, "status_note": str, "status_version": int, "status_path": str, "retracted_at": str,
        "retracted_by": str}, pk="id")
    db["corrections"].create_index(["document_id"])
    db["corrections"].create_index(["identity"])
    for table in ("measures", "conditions", "version_measures", "version_conditions"):
        db[table].add_column("corrected", str)


@migration("0006_document_indexes")
def document_indexes(db: sqlite_utils.Database) -> None:
    """Every table a document's rows are deleted from by document_id has an index on it (a re-ingest of one
    document no longer scans the whole FTS table), and a version keeps what its extraction counted, so an
    unchanged text is answered from its hash without being read again."""
    for table in ("clause_search", "measure_departments", "entities"):
        db[table].create_index(["document_id"], if_not_exists=True)
    db["document_versions"].add_column("counts", str)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def migrate(db: sqlite_utils.Database) -> list[str]:
    if "_migrations" not in db.table_names():
        db["_migrations"].create({"name": str, "applied_at": str}, pk="name")
    done = {r["name"] for r in db["_migrations"].rows}
    applied = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        with db.atomic():
            fn(db)
            db["_migrations"].insert({"name": name, "applied_at": now()})
        applied.append(name)
    return applied


class KBError(Exception):
    pass


def is_busy(exc: BaseException) -> bool:
    """Is this SQLite's "database is locked" / "database is busy" (another connection holds the lock)?"""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or any(
        w in str(exc) for w in ("database is locked", "database is busy", "database table is locked"))


_header_fds: dict[str, tuple[tuple[int, int], int]] = {}  # KB path → ((device, inode), descriptor kept open)
_header_lock = threading.Lock()


def change_counter(path: str | Path) -> bytes:
    """Bytes 24–27 of a SQLite file's header (the file change counter, bumped by every commit in rollback-
    journal mode), read through a descriptor this process keeps open for the file. Never open and close the KB
    file outside SQLite in a process that reads it: closing any descriptor of a file drops every POSIX lock the
    process holds on it — the SHARED locks of SQLite readers in other threads included — and an ingest in
    another process may then commit under a reader mid-query ("database disk image is malformed")."""
    key = str(Path(path).absolute())
    st = os.stat(key)
    ident = (st.st_dev, st.st_ino)
    with _header_lock:
        held = _header_fds.get(key)
        if held is None or held[0] != ident:  # first use, or the file was replaced (another inode)
            fd = os.open(key, os.O_RDONLY)
            fst = os.fstat(fd)
            if held is not None:
                os.close(held[1])  # the replaced file's: its locks no longer guard this path
            held = _header_fds[key] = ((fst.st_dev, fst.st_ino), fd)
        return os.pread(held[1], 4, 24)


READ_TIMEOUT_S = 5.0    # a reader waits this long for a writer's lock (an ingest committing) before it is busy
WRITE_TIMEOUT_S = 30.0  # the KB's writer waits this long for readers (a serving process) to let it commit


def kb_uri(path: Path, mode: str) -> str:
    """The SQLite URI of a KB file: mode=ro never creates nor writes the file (mode=rw never creates it)."""
    return f"{path.absolute().as_uri()}?mode={mode}"


def roll_back_hot_journal(path: Path, exc: sqlite3.DatabaseError) -> bool:
    """A writer killed mid-transaction (SIGKILL, power loss) leaves a hot rollback journal beside the KB, and
    SQLite refuses a read-only connection until it is rolled back (SQLITE_READONLY_ROLLBACK). Where the folder
    and file are writable, one read-write connection rolls it back (the KB as before that transaction); True
    when it did. A read-only folder is KBError, saying so."""
    journal = path.with_name(path.name + "-journal")
    if getattr(exc, "sqlite_errorname", "") != "SQLITE_READONLY_ROLLBACK" and not (
            journal.exists() and "readonly" in str(exc).replace("read-only", "readonly").replace(" ", "")):
        return False
    if not (os.access(path.parent, os.W_OK) and os.access(path, os.W_OK)):
        raise KBError(f"{path}: an interrupted write left {journal.name}, which cannot be rolled back in a "
                      "read-only folder; open the KB once where it can be written") from None
    conn = sqlite3.connect(kb_uri(path, "rw"), uri=True, timeout=WRITE_TIMEOUT_S)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # the first read rolls the journal back
    finally:
        conn.close()
    return True


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """A plain read-only connection to a KB (no sqlite_utils): what `check` reads through. Never creates a
    file: a KB that is missing (or removed under a running server) is KBError "… not found". A hot journal
    left by a killed writer is rolled back first (roll_back_hot_journal). A lock held past READ_TIMEOUT_S
    stays sqlite3.OperationalError ("database is locked": the server answers 503 busy)."""
    path = Path(path)
    for attempt in range(2):
        if not path.exists():
            raise KBError(f"{path}: not found; run `xinyi ingest corpus/ --db {path}` first")
        try:
            conn = sqlite3.connect(kb_uri(path, "ro"), uri=True, timeout=READ_TIMEOUT_S, check_same_thread=False)
        except sqlite3.OperationalError as exc:  # removed between the check and the open
            if is_busy(exc):
                raise
            if not path.exists():
                raise KBError(f"{path}: not found; run `xinyi ingest corpus/ --db {path}` first") from None
            raise KBError(f"{path}: cannot be opened ({exc})") from None
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            conn.close()
            if is_busy(exc):
                raise
            if attempt == 0 and roll_back_hot_journal(path, exc):
                continue
            raise KBError(f"{path}: not a usable SQLite file ({exc})") from None
        if "documents" not in tables:
            conn.close()
            raise KBError(f"{path}: not a xinyi knowledge base (no documents table)")
        return conn
    raise AssertionError("unreachable")


def open_db(path: str | Path, readonly: bool = False) -> sqlite_utils.Database:
    import sqlite_utils
    path = Path(path)
    if readonly:
        return sqlite_utils.Database(connect_readonly(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite_utils.Database(sqlite3.connect(path, timeout=WRITE_TIMEOUT_S))
        db.execute(f"PRAGMA busy_timeout = {int(WRITE_TIMEOUT_S * 1000)}")
        tables = db.table_names()
        if tables and "_migrations" not in tables:  # never add our tables to someone else's database
            raise KBError(f"{path}: a SQLite file that is not a xinyi knowledge base; choose another --db")
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise KBError(f"{path}: not a usable SQLite file ({exc})") from None
    return db
