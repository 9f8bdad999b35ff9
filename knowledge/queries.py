"""Read functions over the KB, returning plain dicts (the contract shapes).

load_kb / cached_kb read through plain SQL on the connection (a sqlite_utils Database or a sqlite3 connection),
so `xinyi check` needs neither sqlite_utils nor anything that writes.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional, Union

from .db import change_counter, connect_readonly

if TYPE_CHECKING:
    import sqlite_utils

Conn = Union["sqlite_utils.Database", sqlite3.Connection]


def loads(value: Optional[str], default: Any = None) -> Any:
    return json.loads(value) if value else default


DOC_FIELDS = ("id", "source_file", "title", "doc_number", "issuer", "jurisdiction", "issued_on", "version")
VALIDITY_FIELDS = ("expires", "trial", "superseded_on")
VERSIONED = ("clauses", "measures", "conditions", "rules")


def document_row(row: dict) -> dict:
    out = {k: row[k] for k in DOC_FIELDS}
    out["effective_from"] = row.get("effective_from")
    out["format"] = row.get("format")
    out["warnings"] = loads(row.get("warnings"), [])
    for k in VALIDITY_FIELDS:
        out[k] = bool(row.get(k)) if k == "trial" else row.get(k)
    if row.get("retired_at"):
        out["retired_at"] = row["retired_at"]
    return out


def version_entry(row: dict, entry_id: str) -> dict:
    """An earlier version as a document of its own in export: id DOC@vN, `version_of` the document."""
    out = document_row({**row, "id": entry_id})
    out["version_of"] = row["document_id"]
    out["matched_by"] = row.get("matched_by")
    return out


def version_id(document_id: str, version: int) -> str:
    return f"{document_id}@v{version}"


def clause_row(row: dict) -> dict:
    return {"id": row["id"], "document_id": row["document_id"], "path": loads(row["path"], []),
            "text": row["text"], "parent_id": row["parent_id"], "heading": row["heading"], "label": row["label"]}


def corrected(out: dict, row: dict) -> dict:
    """A row a staff correction changed or added carries `corrected`: {"id", "by", "at", "why"}."""
    if row.get("corrected"):
        out["corrected"] = loads(row["corrected"])
    return out


def path_of(row: dict, paths: Optional[dict[str, list]]) -> list:
    """The clause path of a measure or condition: from `paths`, or (None) from the row's own clause_path column."""
    return paths.get(row["clause_id"], []) if paths is not None else loads(row.get("clause_path"), [])


def measure_row(row: dict, paths: Optional[dict[str, list]]) -> dict:
    return corrected({"id": row["id"], "document_id": row["document_id"], "clause_id": row["clause_id"],
                      "kind": row["kind"], "text": row["text"], "departments": loads(row["departments"], []),
                      "department_ids": loads(row["department_ids"], []), "path": path_of(row, paths)},
                     row)


def condition_row(row: dict, paths: Optional[dict[str, list]]) -> dict:
    return corrected({"id": row["id"], "document_id": row["document_id"], "clause_id": row["clause_id"],
                      "role": row["role"], "text": row["text"], "predicate": loads(row["predicate"]),
                      "path": path_of(row, paths)}, row)


def rule_row(row: dict) -> dict:
    return {"id": row["id"], "document_id": row["document_id"], "kind": row["kind"],
            "combinator": row["combinator"], "condition_ids": loads(row["condition_ids"], []),
            "measure_ids": loads(row["measure_ids"], [])}


def connection(db: Conn) -> sqlite3.Connection:
    return getattr(db, "conn", db)


def select(db: Conn, sql: str, args: tuple | list = ()) -> Iterator[dict]:
    """Rows of a query as dicts."""
    cur = connection(db).execute(sql, args)
    cols = [d[0] for d in cur.description]
    for row in cur:
        yield dict(zip(cols, row))


def table_names(db: Conn) -> set[str]:
    return {r[0] for r in connection(db).execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def columns(db: Conn, table: str) -> list[str]:
    return [r[1] for r in connection(db).execute(f"PRAGMA table_info([{table}])")]


VERSION_META_COLUMNS = ("document_id", "version", "content_hash", "source_file", "title", "doc_number", "issuer",
                        "jurisdiction", "issued_on", "effective_from", "expires", "trial", "superseded_on", "replaces",
                        "revision", "validity_warnings", "extractor", "matched_by", "format", "warnings")


def version_meta_rows(db: Conn, doc_id: Optional[str] = None) -> dict[str, list[dict]]:
    """document id → its versions, oldest first (metadata only, JSON fields decoded)."""
    where, args = ("WHERE document_id = ?", [doc_id]) if doc_id else ("", [])
    out: dict[str, list[dict]] = {}
    for r in select(db, f"SELECT {', '.join(VERSION_META_COLUMNS)} FROM document_versions {where} "
                        f"ORDER BY document_id, version", args):
        r["replaces"] = json.loads(r["replaces"]) if r.get("replaces") else []
        r["validity_warnings"] = json.loads(r["validity_warnings"]) if r.get("validity_warnings") else []
        out.setdefault(r["document_id"], []).append(r)
    return out


def clause_paths(db: sqlite_utils.Database, document_id: Optional[str] = None) -> dict[str, list]:
    where, args = ("document_id = ?", [document_id]) if document_id else (None, None)
    return {r["id"]: loads(r["path"], []) for r in db["clauses"].rows_where(where, args, select="id, path")}


def has_versions(db: Conn) -> bool:
    return "version_clauses" in table_names(db)


def version_rows(db: Conn, document_id: str, version: int, entry_id: Optional[str] = None) -> dict:
    """One version's clauses, measures, conditions and rules in the contract shapes; with `entry_id`, their ids
    and document_id carry that id instead of the document's (DOC@vN-c0001 …)."""
    raw = {t: list(select(db, f"SELECT * FROM [version_{t}] WHERE document_id = ? AND version = ? ORDER BY ord",
                          [document_id, version])) for t in VERSIONED}
    if entry_id and entry_id != document_id:
        old, new = document_id + "-", entry_id + "-"

        def k(v):
            return new + v[len(old):] if isinstance(v, str) and v.startswith(old) else v
        for t, rows in raw.items():
            for r in rows:
                r["document_id"] = entry_id
                for col in ("id", "parent_id", "clause_id"):
                    if col in r:
                        r[col] = k(r[col])
                for col in ("condition_ids", "measure_ids"):
                    if col in r:
                        r[col] = json.dumps([k(x) for x in loads(r[col], [])], ensure_ascii=False)
    clauses = [clause_row(r) for r in raw["clauses"]]
    paths = {c["id"]: c["path"] for c in clauses}
    return {"clauses": clauses, "measures": [measure_row(r, paths) for r in raw["measures"]],
            "conditions": [condition_row(r, paths) for r in raw["conditions"]],
            "rules": [rule_row(r) for r in raw["rules"]]}


def archived_versions(db: sqlite_utils.Database) -> list[tuple[dict, str]]:
    """(version row, export id) of every stored version not in the plain tables: earlier versions (DOC@vN) and
    the current version of a retired document (its own id)."""
    if not has_versions(db):
        return []
    docs = {r["id"]: r for r in db["documents"].rows_where(select="id, version, retired_at")}
    out = []
    for r in db["document_versions"].rows_where("extractor IS NOT NULL", order_by="document_id, version",
                                                select="document_id, version, source_file, title, doc_number, "
                                                       "issuer, jurisdiction, issued_on, effective_from, expires, "
                                                       "trial, superseded_on, format, warnings, matched_by"):
        d = docs.get(r["document_id"])
        if d is None:
            continue
        if r["version"] == d["version"]:
            if d.get("retired_at"):
                out.append((r, r["document_id"]))
            continue
        out.append((r, version_id(r["document_id"], r["version"])))
    return out


def export_kb(db: sqlite_utils.Database) -> dict:
    """The whole KB: every document (a retired one marked retired_at) with its current version's rows, then every
    earlier version as a document DOC@vN (version_of DOC) with its own rows — nothing a version said is lost."""
    paths = clause_paths(db)
    out = {
        "documents": [document_row(r) for r in db["documents"].rows_where(order_by="source_file")],
        "clauses": [clause_row(r) for r in db["clauses"].rows_where(order_by="document_id, ord")],
        "measures": [measure_row(r, paths) for r in db["measures"].rows_where(order_by="document_id, ord")],
        "conditions": [condition_row(r, paths) for r in db["conditions"].rows_where(order_by="document_id, ord")],
        "rules": [rule_row(r) for r in db["rules"].rows_where(order_by="document_id, ord")],
    }
    for row, entry_id in archived_versions(db):
        if entry_id != row["document_id"]:
            out["documents"].append(version_entry(row, entry_id))
        for key, rows in version_rows(db, row["document_id"], row["version"], entry_id).items():
            out[key].extend(rows)
    from .corrections import list_corrections
    corrections = list_corrections(db)
    if corrections:  # staff corrections, each with its status (applied / stale / obsolete)
        out["corrections"] = corrections
    return out


def list_documents(db: sqlite_utils.Database) -> list[dict]:
    return [document_row(r) for r in db["documents"].rows_where(order_by="source_file")]


def list_versions(db: sqlite_utils.Database, document_id: str) -> list[dict]:
    """A document's versions, oldest first: file, dates, validity and why it was taken for this document."""
    return [{k: v.get(k) for k in ("version", "source_file", "title", "doc_number", "issued_on", "effective_from",
                                   "expires", "superseded_on", "matched_by", "content_hash")}
            | {"trial": bool(v.get("trial")), "validity_warnings": v.get("validity_warnings", [])}
            for v in version_meta_rows(db, document_id).get(document_id, [])]


def clause_tree(clauses: list[dict]) -> list[dict]:
    nodes = {c["id"]: {**c, "children": []} for c in clauses}
    roots = []
    for c in clauses:
        parent = nodes.get(c["parent_id"]) if c["parent_id"] else None
        (parent["children"] if parent else roots).append(nodes[c["id"]])
    return roots


def get_document(db: sqlite_utils.Database, document_id: str, version: Optional[int] = None) -> Optional[dict]:
    rows = list(db["documents"].rows_where("id = ?", [document_id]))
    if not rows:
        return None
    doc = document_row(rows[0])
    if version is not None and version != doc["version"] or (version is None and doc.get("retired_at")):
        version = doc["version"] if version is None else version
        vrow = list(db["document_versions"].rows_where("document_id = ? AND version = ?", [document_id, version]))
        if not vrow:
            return None
        doc = {**document_row({**vrow[0], "id": document_id}), "retired_at": doc.get("retired_at")}
        parts = version_rows(db, document_id, version)
        doc["clauses"] = clause_tree(parts["clauses"])
        doc.update({k: parts[k] for k in ("measures", "conditions", "rules")})
        return doc
    clauses = [clause_row(r) for r in db["clauses"].rows_where("document_id = ?", [document_id], order_by="ord")]
    paths = {c["id"]: c["path"] for c in clauses}
    doc["clauses"] = clause_tree(clauses)
    doc["measures"] = [measure_row(r, paths) for r in db["measures"].rows_where("document_id = ?", [document_id],
                                                                                  order_by="ord")]
    doc["conditions"] = [condition_row(r, paths) for r in db["conditions"].rows_where("document_id = ?", [document_id],
                                                                                        order_by="ord")]
    doc["rules"] = [rule_row(r) for r in db["rules"].rows_where("document_id = ?", [document_id], order_by="ord")]
    return doc


DOCUMENT_COLUMNS = ("id", "source_file", "title", "doc_number", "issuer", "jurisdiction", "issued_on", "version",
                    "effective_from", "format", "warnings", "expires", "trial", "superseded_on", "retired_at")


def load_kb(db: Conn, as_of: Optional[date] = None, clauses: bool = True) -> dict:
    """Everything evaluation needs, keyed for lookup: documents, measures, conditions, rules, clause paths —
    the documents still in answers (not retired). With `as_of`, each document as the version in force that day
    (knowledge/versions.py), with `validity_notes` saying 试行 / not yet in force / expired / superseded.
    `clauses=False` leaves kb["clauses"] empty (evaluation reads only the paths of measures and conditions).
    Also, computed once here for every evaluation of this KB: `rules_by_doc` and `scope_by_doc` (document id →
    its rules / its scope conditions, in order)."""
    kb = {"documents": load_documents(db), "clauses": {}}
    path_of = "(SELECT path FROM clauses c WHERE c.id = t.clause_id) AS clause_path"
    if clauses:
        kb["clauses"] = {c["id"]: c for c in (clause_row(r) for r in select(
            db, "SELECT * FROM clauses ORDER BY document_id, ord"))}
    kb["measures"] = {m["id"]: m for m in (measure_row(r, None) for r in select(
        db, f"SELECT t.*, {path_of} FROM measures t ORDER BY document_id, ord"))}
    kb["conditions"] = {c["id"]: c for c in (condition_row(r, None) for r in select(
        db, f"SELECT t.*, {path_of} FROM conditions t ORDER BY document_id, ord"))}
    kb["rules"] = [rule_row(r) for r in select(db, "SELECT * FROM rules ORDER BY document_id, ord")]
    if as_of is not None and has_versions(db):
        in_force(db, kb, as_of, clauses)
    index_kb(kb)
    return kb


def load_documents(db: Conn) -> dict[str, dict]:
    """The documents still in answers (not retired), by id, in source_file order (without their text)."""
    present = set(columns(db, "documents"))
    cols = ", ".join(c if c in present else f"NULL AS {c}" for c in DOCUMENT_COLUMNS)
    docs = [document_row(r) for r in select(db, f"SELECT {cols} FROM documents ORDER BY source_file")]
    return {d["id"]: d for d in docs if not d.get("retired_at")}


def versions_in_force(db: Conn, documents: dict[str, dict], as_of: date) -> dict[str, int]:
    """Give every document its validity notes on `as_of`; a document whose version in force that day is not its
    current one is replaced (in `documents`) by that version's row. Returns document id → that version."""
    from .versions import pick_version, validity_notes
    every = version_meta_rows(db)
    chosen_versions: dict[str, int] = {}
    for doc_id, doc in list(documents.items()):
        versions = [v for v in every.get(doc_id, []) if v.get("extractor")]  # versions with their extraction
        if not versions:
            continue
        i = pick_version(versions, as_of)
        chosen = versions[i]
        doc["validity_notes"] = validity_notes(versions, i, as_of)
        doc["versions"] = len(versions)
        if chosen["version"] == doc["version"]:
            continue
        chosen_versions[doc_id] = chosen["version"]
        other = document_row({**chosen, "id": doc_id})
        other.update(validity_notes=doc["validity_notes"], versions=len(versions))
        documents[doc_id] = other
    return chosen_versions


def index_kb(kb: dict) -> dict:
    """rules_by_doc and scope_by_doc: each document's rules and scope conditions, in KB order."""
    rules: dict[str, list[dict]] = {}
    for r in kb["rules"]:
        rules.setdefault(r["document_id"], []).append(r)
    scope: dict[str, list[dict]] = {}
    for c in kb["conditions"].values():
        if c["role"] == "scope":
            scope.setdefault(c["document_id"], []).append(c)
    kb["rules_by_doc"], kb["scope_by_doc"] = rules, scope
    return kb


def in_force(db: Conn, kb: dict, as_of: date, clauses: bool = True) -> None:
    """Put in `kb`, for every document, the version in force on `as_of` and its validity notes."""
    # document id → the rows of the version chosen instead of the current one
    replaced = {doc_id: version_rows(db, doc_id, v)
                for doc_id, v in versions_in_force(db, kb["documents"], as_of).items()}
    if not replaced:
        return
    for key in ("clauses", "measures", "conditions"):
        kept = {k: v for k, v in kb[key].items() if v["document_id"] not in replaced}
        for doc_id, parts in replaced.items():
            if key != "clauses" or clauses:
                kept.update({x["id"]: x for x in parts[key]})
        kb[key] = kept
    kb["rules"] = [r for r in kb["rules"] if r["document_id"] not in replaced]
    for parts in replaced.values():
        kb["rules"].extend(parts["rules"])


KB_CACHE_SIZE = 4
_kb_cache: dict[tuple, tuple[tuple, dict]] = {}
_kb_cache_lock = threading.Lock()


def kb_stamp(path: Path) -> tuple:
    """What changes when the file is written: mtime, size and the SQLite header's file change counter
    (bytes 24–27, bumped by every commit in rollback-journal mode), plus the same for a `-wal` file."""
    st = path.stat()
    counter = change_counter(path)  # never path.open(): its close would drop this process's SQLite locks
    wal = path.with_name(path.name + "-wal")
    wst = wal.stat() if wal.exists() else None
    return (st.st_mtime_ns, st.st_size, counter, wst and (wst.st_mtime_ns, wst.st_size))


def cached_kb(path: str | Path, as_of: Optional[date] = None, clauses: bool = True) -> dict:
    """load_kb for a KB file, reused while the file is unchanged (a re-ingest is seen on the next call): one
    entry per (file, as_of), its stamp the file's mtime, size and change counter. Opens the file read-only;
    raises KBError when there is no usable KB. The dict is shared between turns and threads: callers must not
    change it (evaluation keeps what it derives from it in kb["_derived"]). With `as_of`, each document as the
    version in force that day. `clauses=False` (check): a KB loaded with its clauses serves too."""
    key = (Path(path).resolve(), as_of)
    try:
        stamp = kb_stamp(key[0])
    except OSError:
        stamp = None
    with _kb_cache_lock:
        hit = _kb_cache.get(key)
    if stamp is not None and hit and hit[0] == stamp and (hit[1]["clauses"] or not clauses):
        return hit[1]
    conn = connect_readonly(path)  # KBError for a missing or foreign file
    try:
        kb = load_kb(conn, as_of, clauses=clauses)
    finally:
        conn.close()
    if stamp is None:
        return kb
    with _kb_cache_lock:
        _kb_cache.pop(key, None)
        _kb_cache[key] = (stamp, kb)
        while len(_kb_cache) > KB_CACHE_SIZE:
            _kb_cache.pop(next(iter(_kb_cache)))
    return kb
