"""The only writer of the KB: one transaction per document; re-ingesting the same text changes nothing,
a changed text becomes the next version of the same document (its old text kept in document_versions)."""
from __future__ import annotations

import json
from dataclasses import dataclass

import sqlite_utils

from nlp.document import document_id, extractor_version
from nlp.pipeline import entities, segment
from nlp.predicates import attestation_only
from nlp.types import ParsedDocument

from .db import now


@dataclass
class StoreResult:
    document_id: str
    source_file: str
    status: str            # added | updated | unchanged
    version: int
    counts: dict
    warnings: list


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def store_document(db: sqlite_utils.Database, doc: ParsedDocument) -> StoreResult:
    doc_id = document_id(doc.source_file)
    counts = {"clauses": len(doc.clauses), "measures": len(doc.measures), "conditions": len(doc.conditions),
              "rules": len(doc.rules),
              "attestation_only": sum(attestation_only(c.predicate) for c in doc.conditions)}
    existing = db["documents"].get(doc_id) if db["documents"].count_where("id = ?", [doc_id]) else None
    same_text = existing is not None and existing["content_hash"] == doc.content_hash
    if same_text and existing.get("extractor") == extractor_version():
        return StoreResult(doc_id, doc.source_file, "unchanged", existing["version"], counts, doc.warnings)
    # the same text read by a newer extractor keeps its version; a changed text is the next version
    version = existing["version"] if same_text else (existing["version"] + 1 if existing else 1)
    clause_rows = [{"id": c.id, "document_id": doc_id, "parent_id": c.parent_id, "ord": i, "path": dumps(c.path),
                    "label": c.label, "style": c.style, "heading": c.heading, "text": c.text, "lineno": c.lineno}
                   for i, c in enumerate(doc.clauses)]
    search_rows = [{"clause_id": c.id, "document_id": doc_id, "tokens": segment(c.text)} for c in doc.clauses]
    entity_rows = [{"document_id": doc_id, "clause_id": c.id, "label": label, "text": text, "start": s, "end": e}
                   for c in doc.clauses for label, text, s, e in entities(c.text)]
    with db.atomic():
        for table in ("clauses", "measures", "measure_departments", "conditions", "rules", "entities",
                      "clause_search"):
            db.execute(f"DELETE FROM [{table}] WHERE document_id = ?", [doc_id])
        db["documents"].upsert({
            "id": doc_id, "source_file": doc.source_file, "title": doc.title, "doc_number": doc.doc_number,
            "issuer": doc.issuer, "jurisdiction": doc.jurisdiction, "issued_on": doc.issued_on,
            "effective_from": doc.effective_from, "version": version, "content_hash": doc.content_hash,
            "format": doc.format, "text": doc.text, "warnings": dumps(doc.warnings), "ingested_at": now(),
            "extractor": extractor_version()}, pk="id")
        if not same_text:
            db["document_versions"].insert({"document_id": doc_id, "version": version,
                                            "content_hash": doc.content_hash, "text": doc.text, "ingested_at": now()})
        db["clauses"].insert_all(clause_rows)
        db["clause_search"].insert_all(search_rows)
        if entity_rows:
            db["entities"].insert_all(entity_rows)
        db["measures"].insert_all([
            {"id": m.id, "document_id": doc_id, "clause_id": m.clause_id, "ord": i, "kind": m.kind, "text": m.text,
             "departments": dumps(m.departments), "department_ids": dumps(m.department_ids)}
            for i, m in enumerate(doc.measures)])
        dept_rows = [{"measure_id": m.id, "document_id": doc_id, "name": name, "canonical": canonical}
                     for m in doc.measures for name, canonical in zip(m.departments, canonicals(m.departments))]
        if dept_rows:
            db["measure_departments"].insert_all(dept_rows)
        db["conditions"].insert_all([
            {"id": c.id, "document_id": doc_id, "clause_id": c.clause_id, "ord": i, "role": c.role, "text": c.text,
             "predicate": dumps(c.predicate) if c.predicate is not None else None, "grp": c.group}
            for i, c in enumerate(doc.conditions)])
        db["rules"].insert_all([
            {"id": r.id, "document_id": doc_id, "ord": i, "kind": r.kind, "combinator": r.combinator,
             "condition_ids": dumps(r.condition_ids), "measure_ids": dumps(r.measure_ids), "clause_id": r.clause_id}
            for i, r in enumerate(doc.rules)])
    status = "reextracted" if same_text else ("updated" if existing else "added")
    return StoreResult(doc_id, doc.source_file, status, version, counts, doc.warnings)


def canonicals(names: list[str]) -> list[str | None]:
    from nlp.departments import canonical_department
    return [canonical_department(n) for n in names]
