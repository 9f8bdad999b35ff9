"""The KB writer: one transaction per document, nothing half-written when a write fails."""
import sqlite_utils

from conftest import CORPUS
from knowledge.db import open_db
from knowledge.store import store_document
from nlp.document import parse_document
from nlp.readers import read_document


def snapshot(db):
    return {t: db[t].count for t in ("documents", "clauses", "measures", "conditions", "rules")}, \
        [dict(r) for r in db["documents"].rows]


def test_failed_write_leaves_the_kb_as_it_was(tmp_path, monkeypatch):
    db = open_db(tmp_path / "kb.sqlite")
    store_document(db, parse_document(read_document(CORPUS / "003_de71b19c54652fc1.txt")))
    before = snapshot(db)
    revised = parse_document(read_document(CORPUS / "003_de71b19c54652fc1.txt"))
    revised.content_hash = "a revised text"
    original = sqlite_utils.db.Table.insert_all

    def failing(self, rows, *args, **kwargs):
        if self.name == "rules":
            raise RuntimeError("disk full")
        return original(self, rows, *args, **kwargs)

    monkeypatch.setattr(sqlite_utils.db.Table, "insert_all", failing)
    import knowledge.store as store
    plain = store.insert_rows

    def failing_rows(db, table, rows, **extra):  # the writer's bulk inserts
        if table == "rules":
            raise RuntimeError("disk full")
        return plain(db, table, rows, **extra)
    monkeypatch.setattr(store, "insert_rows", failing_rows)
    try:
        store_document(db, revised)
    except RuntimeError:
        pass
    assert snapshot(db) == before


def test_newer_extractor_rereads_without_a_new_version(tmp_path, monkeypatch):
    import knowledge.store as store
    db = open_db(tmp_path / "kb.sqlite")
    doc = parse_document(read_document(CORPUS / "003_de71b19c54652fc1.txt"))
    assert store_document(db, doc).status == "added"
    assert store_document(db, doc).status == "unchanged"
    monkeypatch.setattr(store, "extractor_version", lambda: "a newer extractor")
    result = store_document(db, doc)
    assert (result.status, result.version) == ("reextracted", 1)
    assert db["document_versions"].count == 1
