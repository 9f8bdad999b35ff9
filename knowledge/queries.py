"""Read functions over the KB, returning plain dicts (the contract shapes)."""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Optional

import sqlite_utils

from .db import open_db


def loads(value: Optional[str], default: Any = None) -> Any:
    return json.loads(value) if value else default


DOC_FIELDS = ("id", "source_file", "title", "doc_number", "issuer", "jurisdiction", "issued_on", "version")


def document_row(row: dict) -> dict:
    out = {k: row[k] for k in DOC_FIELDS}
    out["effective_from"] = row.get("effective_from")
    out["format"] = row.get("format")
    out["warnings"] = loads(row.get("warnings"), [])
    return out


def clause_row(row: dict) -> dict:
    return {"id": row["id"], "document_id": row["document_id"], "path": loads(row["path"], []),
            "text": row["text"], "parent_id": row["parent_id"], "heading": row["heading"], "label": row["label"]}


def measure_row(row: dict, paths: dict[str, list]) -> dict:
    return {"id": row["id"], "document_id": row["document_id"], "clause_id": row["clause_id"], "kind": row["kind"],
            "text": row["text"], "departments": loads(row["departments"], []),
            "department_ids": loads(row["department_ids"], []), "path": paths.get(row["clause_id"], [])}


def condition_row(row: dict, paths: dict[str, list]) -> dict:
    return {"id": row["id"], "document_id": row["document_id"], "clause_id": row["clause_id"], "role": row["role"],
            "text": row["text"], "predicate": loads(row["predicate"]), "path": paths.get(row["clause_id"], [])}


def rule_row(row: dict) -> dict:
    return {"id": row["id"], "document_id": row["document_id"], "kind": row["kind"],
            "combinator": row["combinator"], "condition_ids": loads(row["condition_ids"], []),
            "measure_ids": loads(row["measure_ids"], [])}


def clause_paths(db: sqlite_utils.Database, document_id: Optional[str] = None) -> dict[str, list]:
    where, args = ("document_id = ?", [document_id]) if document_id else (None, None)
    return {r["id"]: loads(r["path"], []) for r in db["clauses"].rows_where(where, args, select="id, path")}


def export_kb(db: sqlite_utils.Database) -> dict:
    paths = clause_paths(db)
    return {
        "documents": [document_row(r) for r in db["documents"].rows_where(order_by="source_file")],
        "clauses": [clause_row(r) for r in db["clauses"].rows_where(order_by="document_id, ord")],
        "measures": [measure_row(r, paths) for r in db["measures"].rows_where(order_by="document_id, ord")],
        "conditions": [condition_row(r, paths) for r in db["conditions"].rows_where(order_by="document_id, ord")],
        "rules": [rule_row(r) for r in db["rules"].rows_where(order_by="document_id, ord")],
    }


def list_documents(db: sqlite_utils.Database) -> list[dict]:
    return [document_row(r) for r in db["documents"].rows_where(order_by="source_file")]


def clause_tree(clauses: list[dict]) -> list[dict]:
    nodes = {c["id"]: {**c, "children": []} for c in clauses}
    roots = []
    for c in clauses:
        parent = nodes.get(c["parent_id"]) if c["parent_id"] else None
        (parent["children"] if parent else roots).append(nodes[c["id"]])
    return roots


def get_document(db: sqlite_utils.Database, document_id: str) -> Optional[dict]:
    rows = list(db["documents"].rows_where("id = ?", [document_id]))
    if not rows:
        return None
    doc = document_row(rows[0])
    clauses = [clause_row(r) for r in db["clauses"].rows_where("document_id = ?", [document_id], order_by="ord")]
    paths = {c["id"]: c["path"] for c in clauses}
    doc["clauses"] = clause_tree(clauses)
    doc["measures"] = [measure_row(r, paths) for r in db["measures"].rows_where("document_id = ?", [document_id],
                                                                                  order_by="ord")]
    doc["conditions"] = [condition_row(r, paths) for r in db["conditions"].rows_where("document_id = ?", [document_id],
                                                                                        order_by="ord")]
    doc["rules"] = [rule_row(r) for r in db["rules"].rows_where("document_id = ?", [document_id], order_by="ord")]
    return doc


def load_kb(db: sqlite_utils.Database) -> dict:
    """Everything evaluation needs, keyed for lookup: documents, measures, conditions, rules, clause paths."""
    kb = export_kb(db)
    return {
        "documents": {d["id"]: d for d in kb["documents"]},
        "clauses": {c["id"]: c for c in kb["clauses"]},
        "measures": {m["id"]: m for m in kb["measures"]},
        "conditions": {c["id"]: c for c in kb["conditions"]},
        "rules": kb["rules"],
    }


KB_CACHE_SIZE = 4
_kb_cache: dict[Path, tuple[tuple, dict]] = {}
_kb_cache_lock = threading.Lock()


def kb_stamp(path: Path) -> tuple:
    """What changes when the file is written: mtime, size and the SQLite header's file change counter
    (bytes 24–27, bumped by every commit in rollback-journal mode), plus the same for a `-wal` file."""
    st = path.stat()
    with path.open("rb") as f:
        counter = f.read(28)[24:28]
    wal = path.with_name(path.name + "-wal")
    wst = wal.stat() if wal.exists() else None
    return (st.st_mtime_ns, st.st_size, counter, wst and (wst.st_mtime_ns, wst.st_size))


def cached_kb(path: str | Path) -> dict:
    """load_kb for a KB file, reused while the file is unchanged (a re-ingest is seen on the next call).
    Opens the file read-only; raises KBError when there is no usable KB. The dict is shared between turns and
    threads: callers must not change it."""
    key = Path(path).resolve()
    try:
        stamp = kb_stamp(key)
    except OSError:
        stamp = None
    with _kb_cache_lock:
        hit = _kb_cache.get(key)
    if stamp is not None and hit and hit[0] == stamp:
        return hit[1]
    db = open_db(path, readonly=True)  # KBError for a missing or foreign file
    try:
        kb = load_kb(db)
    finally:
        db.conn.close()
    if stamp is None:
        return kb
    with _kb_cache_lock:
        _kb_cache.pop(key, None)
        _kb_cache[key] = (stamp, kb)
        while len(_kb_cache) > KB_CACHE_SIZE:
            _kb_cache.pop(next(iter(_kb_cache)))
    return kb
