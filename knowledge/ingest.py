"""Ingest files and folders: read, parse, store — each document in its own transaction.

A file that cannot be read or parsed is reported by name and leaves the KB as it was; the others go on.
"""
from __future__ import annotations

from pathlib import Path

from nlp.document import parse_document
from nlp.readers import iter_input_files, read_document
from nlp.types import XinyiError

from .db import open_db
from .store import store_document


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
    try:
        for f in files:
            try:
                doc = parse_document(read_document(f, limits))
                r = store_document(db, doc, replaces=replaces)
                results.append({"document_id": r.document_id, "source_file": r.source_file, "status": r.status,
                                "version": r.version, **r.counts, "warnings": r.warnings,
                                "matched_by": r.matched_by, "ambiguous": r.ambiguous, "current": r.current,
                                "retired": r.retired})
            except XinyiError as exc:
                errors.append(str(exc))
            if bar:
                bar.advance(task)
    finally:
        if bar:
            bar.stop()
    return {"db": str(db_path), "documents": results, "errors": errors}
