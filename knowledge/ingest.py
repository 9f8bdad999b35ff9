"""Ingest files and folders: read, parse, store.

Documents are written in batches, one transaction per batch (at most BATCH_DOCUMENTS documents or
BATCH_SECONDS of work), each document inside its own savepoint: a kill mid-ingest leaves every document wholly
before or after, a file that cannot be read or parsed is reported by name and leaves the KB as it was, and the
others go on. A text already stored (the same content hash, read by this extractor) is answered before it is
parsed. One FTS segmenter and one index of stored versions serve the whole run.
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

from nlp.document import parse_document
from nlp.pipeline import Segmenter
from nlp.readers import iter_input_files, read_document
from nlp.types import XinyiError

from .db import open_db
from .store import stored_versions, store_document, unchanged
from .versions import VersionIndex

BATCH_DOCUMENTS = 64
BATCH_SECONDS = 0.5


def distinct_names(files: list[Path], refused: list[str]) -> list[Path]:
    """A document is known by its file's base name: a second file of the same name from another folder in one
    batch would silently become a version of the first, so it is refused, saying which."""
    first: dict[str, Path] = {}
    kept = []
    for f in files:
        if f.name in first:
            refused.append(f"{f}: refused — {first[f.name]} in this batch has the same file name, and documents are "
                           f"known by it; rename one, or ingest it on its own (with --replaces if it revises that one)")
            continue
        first[f.name] = f
        kept.append(f)
    return kept


def ingest_paths(paths: list[Path], db_path: Path, progress: bool = False, replaces: str | None = None,
                 limits=None) -> dict:
    """`replaces`: the id of the document the (single) file is a new version of, settling a doubtful match.
    `limits`: what reading one file may cost (nlp.budget.Limits; default from the XINYI_* variables)."""
    refused: list[str] = []  # paths that cannot be used are told, one line each; the others go on
    files = distinct_names(iter_input_files(paths, refused), refused)
    if replaces and len(files) != 1:
        raise XinyiError(f"--replaces: expected one file, got {len(files)}")
    db = open_db(db_path)
    results, errors = [], refused
    bar = None
    if progress and len(files) > 1:
        from rich.progress import Progress
        bar = Progress(transient=True)
        bar.start()
        task = bar.add_task("ingesting", total=len(files))
    seg = Segmenter()
    index: list[VersionIndex] = []  # built on the first new text that needs it

    def candidates(meta: dict) -> dict:
        if not index:
            index.append(VersionIndex(stored_versions(db)))
        return index[0].candidates(meta)

    batch = Batch(db)
    try:
        for f in files:
            try:
                raw = read_document(f, limits)
                with batch.document():
                    r = unchanged(db, raw.source_file, content_hash(raw.text), replaces)
                    if r is None:
                        r = store_document(db, parse_document(raw), replaces=replaces, seg=seg,
                                           candidates=candidates)
                        if index and r.status != "unchanged":
                            index[0].set(r.document_id, stored_versions(db, r.document_id).get(r.document_id, []))
                results.append({"document_id": r.document_id, "source_file": r.source_file, "status": r.status,
                                "version": r.version, **r.counts, "warnings": r.warnings,
                                "matched_by": r.matched_by, "ambiguous": r.ambiguous, "current": r.current,
                                "retired": r.retired})
            except XinyiError as exc:
                errors.append(str(exc))
            if bar:
                bar.advance(task)
    finally:
        batch.close()  # what was written is committed, also when an unforeseen error ends the run
        if bar:
            bar.stop()
    return {"db": str(db_path), "documents": results, "errors": errors}


def content_hash(text: str) -> str:
    """The hash a parsed document carries (ParsedDocument.content_hash), from the text as read."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Batch:
    """One transaction for several documents, each in a savepoint of its own (store.py's db.atomic() blocks
    nest inside it): committed every BATCH_DOCUMENTS documents or BATCH_SECONDS, and at the end."""

    def __init__(self, db):
        self.db, self.began, self.count = db, 0.0, 0

    def document(self):
        if not self.db.conn.in_transaction:
            self.db.conn.execute("BEGIN")
            self.began, self.count = time.monotonic(), 0
        return _Savepoint(self)

    def done(self) -> None:
        self.count += 1
        if self.count >= BATCH_DOCUMENTS or time.monotonic() - self.began >= BATCH_SECONDS:
            self.commit()

    def commit(self) -> None:
        if self.db.conn.in_transaction:
            self.db.conn.execute("COMMIT")

    def close(self) -> None:
        self.commit()


class _Savepoint:
    """A document's writes, kept or undone as a whole inside the batch."""

    def __init__(self, batch: Batch):
        self.batch = batch

    def __enter__(self):
        self.batch.db.conn.execute("SAVEPOINT xinyi_document")
        return self

    def __exit__(self, exc_type, exc, tb):
        conn = self.batch.db.conn
        if exc_type is None:
            conn.execute("RELEASE SAVEPOINT xinyi_document")
            self.batch.done()
            return False
        if conn.in_transaction:
            conn.execute("ROLLBACK TO SAVEPOINT xinyi_document")
            conn.execute("RELEASE SAVEPOINT xinyi_document")
        return False
