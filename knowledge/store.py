"""The only writer of the KB: each document version is written wholly or not at all (its own transaction, or
a savepoint inside the batch transaction of knowledge/ingest.py).

Re-ingesting a text already stored changes nothing (unless the extractor changed: then that version is read
again). A changed text under the same file name, or a revision recognised under another file name
(knowledge/versions.py) or named with --replaces, becomes a version of the same document; versions are kept
in date order (an older text arriving later is put before the newer one), each with its whole extraction in
version_<table>. The plain tables hold the current (latest) version of every document still in answers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable, Optional

import sqlite_utils

from nlp.document import document_id, extractor_version
from nlp.metadata import read_validity
from nlp.pipeline import segment
from nlp.predicates import attestation_only
from nlp.types import ParsedDocument, XinyiError

from .corrections import apply_corrections
from .db import VERSIONED, now
from .queries import version_meta_rows
from .versions import find_matches, insert_position, rekey, superseded_dates

Segment = Callable[[str], str]

LIVE = ("clauses", "measures", "measure_departments", "conditions", "rules", "entities", "clause_search")


@dataclass
class StoreResult:
    document_id: str
    source_file: str
    status: str            # added | updated | unchanged | reextracted
    version: int
    counts: dict
    warnings: list
    matched_by: Optional[str] = None          # same_file | replaces | doc_number | … | explicit
    ambiguous: list = field(default_factory=list)   # documents it might revise, when more than one matched
    current: bool = True                      # the version stored is the document's current one
    retired: bool = False


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def version_meta(doc: ParsedDocument) -> dict:
    """What a version states about itself: metadata and validity (nlp.metadata.read_validity)."""
    v = read_validity(doc.text, doc.title, doc.issued_on, doc.effective_from)
    doc.warnings = [*doc.warnings, *(w for w in v.warnings if w not in doc.warnings)]  # said on ingest, kept
    return {"source_file": doc.source_file, "title": doc.title, "doc_number": doc.doc_number, "issuer": doc.issuer,
            "jurisdiction": doc.jurisdiction, "issued_on": doc.issued_on, "effective_from": v.effective_from,
            "expires": v.expires, "trial": int(v.trial), "replaces": v.replaces, "revision": int(v.revision),
            "validity_warnings": v.warnings}


def stored_versions(db: sqlite_utils.Database, doc_id: Optional[str] = None) -> dict[str, list[dict]]:
    """document id → its versions, oldest first (metadata only, JSON fields decoded)."""
    return version_meta_rows(db.conn, doc_id)


def file_document(db: sqlite_utils.Database, source_file: str) -> Optional[str]:
    """The document a file name already brought a version of."""
    row = db.execute("SELECT document_id FROM document_versions WHERE source_file = ? ORDER BY version DESC LIMIT 1",
                     [source_file]).fetchone()
    if row:
        return row[0]
    own = document_id(source_file)
    return own if db["documents"].count_where("id = ?", [own]) else None


def known_text(db: sqlite_utils.Database, doc_id: Optional[str], content_hash: str) -> Optional[tuple[str, int]]:
    """(document, version) already holding this exact text: the file's own document first, then any."""
    if doc_id:
        row = db.execute("SELECT document_id, version FROM document_versions WHERE document_id = ? AND "
                         "content_hash = ?", [doc_id, content_hash]).fetchone()
        if row:
            return row[0], row[1]
    row = db.execute("SELECT document_id, version FROM document_versions WHERE content_hash = ? "
                     "ORDER BY document_id, version LIMIT 1", [content_hash]).fetchone()
    return (row[0], row[1]) if row else None


def extraction_rows(doc_id: str, doc: ParsedDocument) -> dict[str, list[dict]]:
    return {
        "clauses": [{"id": c.id, "document_id": doc_id, "parent_id": c.parent_id, "ord": i, "path": dumps(c.path),
                     "label": c.label, "style": c.style, "heading": c.heading, "text": c.text, "lineno": c.lineno}
                    for i, c in enumerate(doc.clauses)],
        "measures": [{"id": m.id, "document_id": doc_id, "clause_id": m.clause_id, "ord": i, "kind": m.kind,
                      "text": m.text, "departments": dumps(m.departments), "department_ids": dumps(m.department_ids)}
                     for i, m in enumerate(doc.measures)],
        "conditions": [{"id": c.id, "document_id": doc_id, "clause_id": c.clause_id, "ord": i, "role": c.role,
                        "text": c.text, "predicate": dumps(c.predicate) if c.predicate is not None else None,
                        "grp": c.group} for i, c in enumerate(doc.conditions)],
        "rules": [{"id": r.id, "document_id": doc_id, "ord": i, "kind": r.kind, "combinator": r.combinator,
                   "condition_ids": dumps(r.condition_ids), "measure_ids": dumps(r.measure_ids),
                   "clause_id": r.clause_id} for i, r in enumerate(doc.rules)],
    }


def insert_rows(db: sqlite_utils.Database, table: str, rows: list[dict], **extra) -> None:
    """INSERT rows of plain values (text, numbers, None: JSON already encoded) sharing their keys, in one
    executemany — what insert_all does for them, without its per-value checks."""
    if not rows:
        return
    cols = [*extra, *rows[0]]
    sql = f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in cols)}) VALUES ({', '.join('?' * len(cols))})"
    head = tuple(extra.values())
    db.conn.executemany(sql, [head + tuple(r.values()) for r in rows])


def write_history(db: sqlite_utils.Database, doc_id: str, version: int, rows: dict[str, list[dict]]) -> None:
    for table in VERSIONED:
        db.execute(f"DELETE FROM [version_{table}] WHERE document_id = ? AND version = ?", [doc_id, version])
        insert_rows(db, f"version_{table}", rows[table], version=version)


def write_live(db: sqlite_utils.Database, doc_id: str, doc: ParsedDocument, rows: dict[str, list[dict]],
               seg: Segment = segment) -> None:
    """The current version's rows in the plain tables (and the FTS index: each clause segmented once, by `seg`),
    replacing the document's old ones. (Spacy entities are no longer written: nothing read them.)"""
    clear_live(db, doc_id)
    for table in VERSIONED:
        insert_rows(db, table, rows[table])
    insert_rows(db, "clause_search", [{"clause_id": c.id, "document_id": doc_id, "tokens": seg(c.text)}
                                      for c in doc.clauses])
    dept_rows = [{"measure_id": m.id, "document_id": doc_id, "name": name, "canonical": canonical}
                 for m in doc.measures for name, canonical in zip(m.departments, canonicals(m.departments))]
    insert_rows(db, "measure_departments", dept_rows)


def clear_live(db: sqlite_utils.Database, doc_id: str) -> None:
    for table in LIVE:
        db.execute(f"DELETE FROM [{table}] WHERE document_id = ?", [doc_id])


def shift_versions(db: sqlite_utils.Database, doc_id: str, from_version: int) -> None:
    """Make room for a version at `from_version`: that one and every later one move up by one."""
    for table in ("document_versions", *(f"version_{t}" for t in VERSIONED)):
        db.execute(f"UPDATE [{table}] SET version = -(version + 1) WHERE document_id = ? AND version >= ?",
                   [doc_id, from_version])
        db.execute(f"UPDATE [{table}] SET version = -version WHERE document_id = ? AND version < 0", [doc_id])
    if "corrections" in db.table_names():  # the version a correction's status was read on moved up too
        db.execute("UPDATE corrections SET status_version = status_version + 1 WHERE document_id = ? AND "
                   "status_version >= ?", [doc_id, from_version])


def document_record(doc_id: str, doc: ParsedDocument, meta: dict, version: int, matched_by: Optional[str]) -> dict:
    return {"id": doc_id, "source_file": doc.source_file, "title": doc.title, "doc_number": doc.doc_number,
            "issuer": doc.issuer, "jurisdiction": doc.jurisdiction, "issued_on": doc.issued_on,
            "effective_from": meta["effective_from"], "expires": meta["expires"], "trial": meta["trial"],
            "version": version, "content_hash": doc.content_hash, "format": doc.format, "text": doc.text,
            "warnings": dumps(doc.warnings), "ingested_at": now(), "extractor": extractor_version(),
            "matched_by": matched_by}


def version_record(doc_id: str, version: int, doc: ParsedDocument, meta: dict, matched_by: Optional[str],
                   counts: Optional[dict] = None) -> dict:
    """`counts`: what the extractor found in the text (as ingest reports it), so that re-ingesting the same text
    is answered without reading it again."""
    return {"document_id": doc_id, "version": version, "content_hash": doc.content_hash, "text": doc.text,
            "ingested_at": now(), **meta, "replaces": dumps(meta["replaces"]),
            "validity_warnings": dumps(meta["validity_warnings"]), "format": doc.format,
            "warnings": dumps(doc.warnings), "extractor": extractor_version(), "matched_by": matched_by,
            "counts": dumps(counts) if counts is not None else None}


def extraction_counts(doc: ParsedDocument) -> dict:
    return {"clauses": len(doc.clauses), "measures": len(doc.measures), "conditions": len(doc.conditions),
            "rules": len(doc.rules),
            "attestation_only": sum(attestation_only(c.predicate) for c in doc.conditions)}


def unchanged(db: sqlite_utils.Database, source_file: str, content_hash: str,
              replaces: Optional[str] = None) -> Optional[StoreResult]:
    """The answer store_document would give for a text already stored and read by this extractor — found by its
    content hash before the text is parsed, so re-ingesting unchanged documents costs a look-up each. None when
    the text has to be read (new, changed, read by another extractor, or stored before counts were kept)."""
    own = file_document(db, source_file)
    if replaces and not db["documents"].count_where("id = ?", [replaces]):
        return None  # store_document says so
    known = known_text(db, replaces or own, content_hash)
    if not known:
        return None
    doc_id, version = known
    row = db.execute("SELECT extractor, matched_by, counts, warnings FROM document_versions WHERE document_id = ? "
                     "AND version = ?", [doc_id, version]).fetchone()
    current = db.execute("SELECT version, extractor, retired_at FROM documents WHERE id = ?", [doc_id]).fetchone()
    if row is None or current is None or not row[2]:
        return None
    is_current = current[0] == version
    extractor = current[1] if is_current else row[0]
    if extractor != extractor_version() or row[0] != extractor_version():
        return None
    return StoreResult(doc_id, source_file, "unchanged", version, json.loads(row[2]), json.loads(row[3] or "[]"),
                       row[1], [], is_current, bool(current[2]))


def refresh_validity(db: sqlite_utils.Database, doc_id: str) -> None:
    """superseded_on of each version = the day the next takes effect; the document row mirrors its current one."""
    versions = stored_versions(db, doc_id).get(doc_id, [])
    for v, sup in zip(versions, superseded_dates(versions)):
        db.execute("UPDATE document_versions SET superseded_on = ? WHERE document_id = ? AND version = ?",
                   [sup, doc_id, v["version"]])
    if versions:
        db.execute("UPDATE documents SET version = ?, superseded_on = NULL WHERE id = ?", [versions[-1]["version"], doc_id])


def store_document(db: sqlite_utils.Database, doc: ParsedDocument, replaces: Optional[str] = None,
                   seg: Segment = segment, candidates: Optional[Callable[[dict], dict]] = None) -> StoreResult:
    """`seg`: the FTS segmenter (a shared nlp.pipeline.Segmenter in a batch); `candidates`: the stored versions
    (id → versions) a new text could revise, narrowed by an index (knowledge.versions.VersionIndex), instead of
    every stored version."""
    counts = extraction_counts(doc)
    own = file_document(db, doc.source_file)
    if replaces and not db["documents"].count_where("id = ?", [replaces]):
        raise XinyiError(f"--replaces: no document with id {replaces!r} in the knowledge base")
    known = known_text(db, replaces or own, doc.content_hash)
    if known:
        return reread(db, doc, known[0], known[1], counts, seg)
    meta = version_meta(doc)  # (adds its validity warnings to doc.warnings)
    ambiguous: list[str] = []
    if replaces:
        target, matched_by = replaces, "explicit"
    elif own:
        target, matched_by = own, "same_file"
    else:
        matches = find_matches(meta, candidates(meta) if candidates else stored_versions(db))
        if len(matches) == 1:
            target, matched_by = matches[0].document_id, matches[0].reason
        else:
            ambiguous = [m.document_id for m in matches]
            target, matched_by = None, None
    if target is None:  # a new document
        doc_id = document_id(doc.source_file)
        if db["documents"].count_where("id = ?", [doc_id]):
            doc_id = f"{doc_id}-{doc.content_hash[:6]}"
        rekey(doc, doc_id)
        rows = extraction_rows(doc_id, doc)
        with db.atomic():
            db["documents"].insert(document_record(doc_id, doc, meta, 1, None))
            db["document_versions"].insert(version_record(doc_id, 1, doc, meta, None, counts))
            write_history(db, doc_id, 1, rows)
            write_live(db, doc_id, doc, rows, seg)
            apply_corrections(db, doc_id, 1, live=True, current=True)
        return StoreResult(doc_id, doc.source_file, "added", 1, counts, doc.warnings, None, ambiguous)
    rekey(doc, target)
    rows = extraction_rows(target, doc)
    versions = stored_versions(db, target).get(target, [])
    pos = insert_position(versions, meta)
    version, newest = pos + 1, pos == len(versions)
    existing = db["documents"].get(target)
    retired = bool(existing.get("retired_at"))
    with db.atomic():
        if not newest:
            shift_versions(db, target, version)
        db["document_versions"].insert(version_record(target, version, doc, meta, matched_by, counts))
        write_history(db, target, version, rows)
        if newest:
            record = document_record(target, doc, meta, version, matched_by)
            record["retired_at"] = existing.get("retired_at")
            db["documents"].upsert(record, pk="id")
            if not retired:
                write_live(db, target, doc, rows, seg)
        apply_corrections(db, target, version, live=newest and not retired, current=newest)
        refresh_validity(db, target)
    return StoreResult(target, doc.source_file, "updated", version, counts, doc.warnings, matched_by, [], newest,
                       retired)


def reread(db: sqlite_utils.Database, doc: ParsedDocument, doc_id: str, version: int, counts: dict,
           seg: Segment = segment) -> StoreResult:
    """A text already stored: nothing to do, unless the extractor changed since it was read."""
    row = db["document_versions"].get((doc_id, version))
    current = db["documents"].get(doc_id)
    is_current = current["version"] == version
    retired = bool(current.get("retired_at"))
    extractor = current.get("extractor") if is_current else row.get("extractor")
    meta = version_meta(doc)
    if extractor == extractor_version() and row.get("extractor") == extractor_version():
        if not row.get("counts"):  # stored before counts were kept: keep them now, for the next re-ingest
            with db.atomic():
                db.execute("UPDATE document_versions SET counts = ? WHERE document_id = ? AND version = ?",
                           [dumps(counts), doc_id, version])
        return StoreResult(doc_id, doc.source_file, "unchanged", version, counts, doc.warnings, row.get("matched_by"),
                           [], is_current, retired)
    rekey(doc, doc_id)
    meta["source_file"] = row.get("source_file") or doc.source_file
    rows = extraction_rows(doc_id, doc)
    with db.atomic():
        record = version_record(doc_id, version, doc, meta, row.get("matched_by"), counts)
        record["ingested_at"] = row.get("ingested_at") or record["ingested_at"]
        db["document_versions"].upsert(record, pk=("document_id", "version"))
        write_history(db, doc_id, version, rows)
        if is_current:
            rec = document_record(doc_id, doc, meta, version, current.get("matched_by"))
            rec["source_file"], rec["retired_at"] = current["source_file"], current.get("retired_at")
            db["documents"].upsert(rec, pk="id")
            if not retired:
                write_live(db, doc_id, doc, rows, seg)
        apply_corrections(db, doc_id, version, live=is_current and not retired, current=is_current)
        refresh_validity(db, doc_id)
    return StoreResult(doc_id, doc.source_file, "reextracted", version, counts, doc.warnings, row.get("matched_by"),
                       [], is_current, retired)


def retire_document(db: sqlite_utils.Database, doc_id: str) -> dict:
    """Take a document out of answers: its current rows leave the plain tables (and FTS); every version stays in
    document_versions / version_<table> for audit, and the document row keeps retired_at."""
    rows = list(db["documents"].rows_where("id = ?", [doc_id]))
    if not rows:
        raise XinyiError(f"no document with id {doc_id!r} in the knowledge base")
    if rows[0].get("retired_at"):
        return {"document_id": doc_id, "retired_at": rows[0]["retired_at"], "changed": False}
    at = now()
    with db.atomic():
        clear_live(db, doc_id)
        db.execute("UPDATE documents SET retired_at = ? WHERE id = ?", [at, doc_id])
    return {"document_id": doc_id, "retired_at": at, "changed": True, "versions": rows[0]["version"]}


def canonicals(names: list[str]) -> list[str | None]:
    from nlp.departments import canonical_department
    return [canonical_department(n) for n in names]
