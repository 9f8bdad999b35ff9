"""Read functions for browsing the KB: full-text clause search, the 措施清单 and the 行为清单.

Pure functions over an open sqlite_utils.Database returning plain dicts (no web framework here).
"""
from __future__ import annotations

import csv
import io
import re
import sqlite3
from typing import Optional

import sqlite_utils

from nlp.departments import canonical_department
from nlp.pipeline import segment

from .queries import clause_paths, loads

_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)
_LEVEL = re.compile(r"^(?:[省市县区]级?)+")


def _fts_query(q: str) -> str:
    tokens, seen = [], set()
    for t in segment(q).split():
        if _PUNCT.match(t) or t in seen:
            continue
        seen.add(t)
        tokens.append('"' + t.replace('"', '""') + '"')
    return " AND ".join(tokens)


def _titles(db: sqlite_utils.Database) -> dict[str, dict]:
    return {r["id"]: r for r in db["documents"].rows_where(select="id, source_file, title")}


def _snippet(text: str, q: str, width: int = 40) -> str:
    i = text.find(q) if q else -1
    if i < 0:
        return text[:2 * width] + ("…" if len(text) > 2 * width else "")
    start, end = max(0, i - width), min(len(text), i + len(q) + width)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def search_clauses(db: sqlite_utils.Database, q: str, limit: int = 20) -> list[dict]:
    """Clauses matching q, best first (bm25 over jieba tokens; substring LIKE fallback)."""
    q = (q or "").strip()
    if not q:
        return []
    docs = _titles(db)
    rows: list[dict] = []
    match = _fts_query(q)
    if match:
        try:
            rows = [dict(zip(("clause_id", "document_id", "path", "text"), r)) for r in db.execute(
                "SELECT c.id, c.document_id, c.path, c.text FROM clause_search_fts "
                "JOIN clause_search s ON s.rowid = clause_search_fts.rowid "
                "JOIN clauses c ON c.id = s.clause_id "
                "WHERE clause_search_fts MATCH ? ORDER BY bm25(clause_search_fts) LIMIT ?", [match, limit]).fetchall()]
        except sqlite3.OperationalError:
            rows = []
    if not rows:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = [dict(zip(("clause_id", "document_id", "path", "text"), r)) for r in db.execute(
            "SELECT id, document_id, path, text FROM clauses WHERE text LIKE ? ESCAPE '\\' "
            "ORDER BY document_id, ord LIMIT ?", [like, limit]).fetchall()]
    out = []
    for r in rows:
        d = docs.get(r["document_id"], {})
        out.append({"clause_id": r["clause_id"], "document_id": r["document_id"],
                    "source_file": d.get("source_file"), "title": d.get("title"),
                    "path": loads(r["path"], []), "text": r["text"], "snippet": _snippet(r["text"], q)})
    return out


def _strip(name: str) -> str:
    core = re.sub(r"\s+", "", name)
    stripped = _LEVEL.sub("", core)
    return stripped if len(stripped) >= 2 else core


def department_matches(query: str, name: str) -> bool:
    q, n = _strip(query), _strip(name)
    if not q or not n:
        return False
    if q in n or n in q or query in name:
        return True
    cq = canonical_department(query)
    return cq is not None and cq == canonical_department(name)


def list_measures(db: sqlite_utils.Database, department: Optional[str] = None,
                  kind: Optional[str] = None) -> list[dict]:
    """The 措施清单: every measure with its document, clause path, kind, text and departments."""
    docs = _titles(db)
    paths = clause_paths(db)
    where, args = ("kind = ?", [kind]) if kind else (None, None)
    dept = (department or "").strip()
    out = []
    for r in db["measures"].rows_where(where, args, order_by="document_id, ord"):
        names = loads(r["departments"], [])
        if dept and not any(department_matches(dept, n) for n in names):
            continue
        d = docs.get(r["document_id"], {})
        out.append({"id": r["id"], "document_id": r["document_id"], "source_file": d.get("source_file"),
                    "title": d.get("title"), "clause_id": r["clause_id"], "path": paths.get(r["clause_id"], []),
                    "kind": r["kind"], "text": r["text"], "departments": names,
                    "department_ids": loads(r["department_ids"], [])})
        if r.get("corrected"):  # a staff correction added or changed it (校正)
            out[-1]["corrected"] = loads(r["corrected"])
    return out


def list_conditions(db: sqlite_utils.Database, role: Optional[str] = None) -> list[dict]:
    """The 行为清单: every condition (eligibility, trigger, scope …) with its document and clause path."""
    docs = _titles(db)
    paths = clause_paths(db)
    where, args = ("role = ?", [role]) if role else (None, None)
    out = []
    for r in db["conditions"].rows_where(where, args, order_by="document_id, ord"):
        d = docs.get(r["document_id"], {})
        out.append({"id": r["id"], "document_id": r["document_id"], "source_file": d.get("source_file"),
                    "title": d.get("title"), "clause_id": r["clause_id"], "path": paths.get(r["clause_id"], []),
                    "role": r["role"], "text": r["text"], "predicate": loads(r["predicate"])})
    return out


def citation(title: Optional[str], path: list) -> str:
    return f"《{title or ''}》" + "".join(str(p) for p in path)


def measures_csv(rows: list[dict]) -> str:
    """CSV with columns 事项,实施部门,措施,依据条款."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["事项", "实施部门", "措施", "依据条款"])
    for r in rows:
        w.writerow([r.get("title") or "", "、".join(r.get("departments") or []), r.get("text") or "",
                    citation(r.get("title"), r.get("path") or [])])
    return buf.getvalue()
