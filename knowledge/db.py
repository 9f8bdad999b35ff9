"""open_db(path, readonly=False) → sqlite_utils.Database, with registered migrations.

Each migration is a function applied once, in order, inside a transaction; `_migrations` records them.
Serving opens the file read-only (SQLite URI mode=ro), so a web process can never change the KB.
"""
from __future__ import annotations

import sqlite3
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


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """A plain read-only connection to a KB (no sqlite_utils): what `check` reads through."""
    path = Path(path)
    if not path.exists():
        raise KBError(f"{path}: no knowledge base here; run `xinyi ingest corpus/ --db {path}` first")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise KBError(f"{path}: not a usable SQLite file ({exc})") from None
    if "documents" not in tables:
        conn.close()
        raise KBError(f"{path}: not a xinyi knowledge base (no documents table)")
    return conn


def open_db(path: str | Path, readonly: bool = False) -> sqlite_utils.Database:
    import sqlite_utils
    path = Path(path)
    if readonly:
        return sqlite_utils.Database(connect_readonly(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite_utils.Database(path)
        tables = db.table_names()
        if tables and "_migrations" not in tables:  # never add our tables to someone else's database
            raise KBError(f"{path}: a SQLite file that is not a xinyi knowledge base; choose another --db")
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise KBError(f"{path}: not a usable SQLite file ({exc})") from None
    return db
