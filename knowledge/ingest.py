"""Ingest files and folders: read, parse, store.

Documents are written in batches, one transaction per batch (at most BATCH_DOCUMENTS documents or
BATCH_SECONDS of work), each document inside its own savepoint: a kill mid-ingest leaves every document wholly
before or after, a file that cannot be read or parsed is reported by name and leaves the KB as it was, and the
others go on. A text already stored (the same content hash, read by this extractor) is answered before it is
parsed. One FTS segmenter and one index of stored versions serve the whole run.
"""
from __future__ import annotations

import hashlib
import os
import sys
import time
from collections import deque
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
                 limits=None, workers: int = 0) -> dict:
    """`replaces`: the id of the document the (single) file is a new version of, settling a doubtful match.
    `limits`: what reading one file may cost (nlp.budget.Limits; default from the XINYI_* variables).
    `workers`: processes that parse (and segment) the next documents while this one writes (0: none; used from
    MIN_PARALLEL files on, where fork is available) — the KB is written by this process alone, in file order."""
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
    reader = Reader(workers if len(files) >= MIN_PARALLEL else 0, db, limits)
    try:
        for raw, error, parsed in reader.run(files):
            try:
                if error:
                    raise XinyiError(error)
                with batch.document():
                    r = unchanged(db, raw.source_file, content_hash(raw.text), replaces)
                    if r is None:
                        doc, doc_seg = parsed if parsed else (parse_document(raw), seg)
                        r = store_document(db, doc, replaces=replaces, seg=doc_seg, candidates=candidates)
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
        reader.close()
        batch.close()  # what was written is committed, also when an unforeseen error ends the run
        if bar:
            bar.stop()
    return {"db": str(db_path), "documents": results, "errors": errors}


MIN_PARALLEL = 8  # fewer files are read in this process: starting workers would cost more than it saves


def default_workers() -> int:
    """Parse workers for `xinyi ingest`: XINYI_INGEST_WORKERS, else one per core up to two (0 where there is no
    fork, or no way to have a worker die with this process)."""
    env = os.environ.get("XINYI_INGEST_WORKERS")
    if env is not None:
        return max(0, int(env)) if env.strip().isdigit() else 0
    if not sys.platform.startswith("linux"):
        return 0
    return min(2, os.cpu_count() or 1) if (os.cpu_count() or 1) > 1 else 0


class Reader:
    """(raw text, error, parsed) for each file, in order. With workers (forked, dying with this process), the
    next files are read, and those not already stored (as far as the committed KB says) parsed and segmented, in
    the workers while the caller writes the ones before; parsed = (document, its FTS segmenter). Otherwise
    parsed is None and the caller parses."""

    def __init__(self, workers: int, db, limits=None):
        self.pool, self.limits = None, limits
        if workers > 0:
            import multiprocessing
            from nlp.pipeline import shared_jieba
            shared_jieba()  # loaded once here, shared by the forked workers
            _worker["stored"] = stored_hashes(db)  # inherited by the forked workers
            _worker["limits"] = limits
            self.pool = multiprocessing.get_context("fork").Pool(workers, initializer=_worker_start)
            self.depth = 2 * workers + 1

    def run(self, files: list[Path]):
        if self.pool is None:
            for f in files:
                try:
                    yield read_document(f, self.limits), None, None
                except XinyiError as exc:
                    yield None, str(exc), None
            return
        ahead: deque = deque()
        for f in files:
            ahead.append(self.pool.apply_async(_read_job, (str(f),)))
            while len(ahead) > self.depth:
                yield self.finish(ahead.popleft().get())
        while ahead:
            yield self.finish(ahead.popleft().get())

    @staticmethod
    def finish(outcome):
        if outcome[0] == "error":
            return None, outcome[1], None
        if outcome[0] == "raw":
            return outcome[1], None, None
        _, raw, doc, tokens = outcome
        return raw, None, (doc, Tokens(tokens))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None


class Tokens:
    """An FTS segmenter answering from the tokens a worker computed for a document's clauses."""

    def __init__(self, tokens: dict[str, str]):
        self.tokens, self.fallback = tokens, None

    def __call__(self, text: str) -> str:
        hit = self.tokens.get(text)
        if hit is None:
            self.fallback = self.fallback or Segmenter()
            return self.fallback(text)
        return hit


_worker: dict = {}


def stored_hashes(db) -> frozenset[str]:
    """Content hashes of the versions a re-ingest answers unchanged (read by this extractor, counts kept): a
    worker does not parse those texts (the writer checks each again)."""
    from nlp.document import extractor_version
    ev = extractor_version()
    return frozenset(r[0] for r in db.execute(
        "SELECT v.content_hash FROM document_versions v JOIN documents d ON d.id = v.document_id "
        "WHERE v.extractor = ? AND v.counts IS NOT NULL AND (d.version != v.version OR d.extractor = ?)",
        [ev, ev]).fetchall())


def _worker_start() -> None:
    """A parse worker dies with the process that started it (Linux prctl PR_SET_PDEATHSIG), so a killed ingest
    leaves nothing behind."""
    import ctypes
    import signal
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:  # the parent died before prctl
        os._exit(0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _worker["segmenter"] = Segmenter()


def _read_job(path: str):
    try:
        raw = read_document(Path(path), _worker.get("limits"))
        if content_hash(raw.text) in _worker["stored"]:
            return ("raw", raw)
        doc = parse_document(raw)
    except XinyiError as exc:
        return ("error", str(exc))
    seg = _worker["segmenter"]
    return ("parsed", raw, doc, {c.text: seg(c.text) for c in doc.clauses})


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
