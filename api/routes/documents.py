from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Query

from knowledge.diff import DiffError, document_diff
from knowledge.queries import get_document, list_documents, list_versions

from ..deps import DB, APIError
from ..schemas import ErrorBody

router = APIRouter(prefix="/v1/documents", tags=["documents"])


@router.get("", summary="All ingested policy documents")
def documents(db: DB) -> list[dict]:
    return list_documents(db)


@router.get("/{document_id}", summary="One document with its clause tree, measures, conditions and rules",
            responses={404: {"model": ErrorBody}})
def document(document_id: str, db: DB,
             version: Optional[int] = Query(None, description="a stored version (default: the current one)")) -> dict:
    doc = get_document(db, document_id, version)
    if doc is None:
        raise APIError(404, f"no document with id {document_id!r}" + (f" version {version}" if version else ""),
                       "version" if version else "document_id")
    return doc


@router.get("/{document_id}/versions", summary="A document's versions, oldest first, with their validity",
            responses={404: {"model": ErrorBody}})
def versions(document_id: str, db: DB) -> list[dict]:
    rows = list_versions(db, document_id)
    if not rows:
        raise APIError(404, f"no document with id {document_id!r}", "document_id")
    return rows


@router.get("/{document_id}/diff", summary="What changed between two versions (default: previous → current)",
            responses={404: {"model": ErrorBody}})
def diff(document_id: str, db: DB,
         from_version: Optional[int] = Query(None, alias="from", description="older version"),
         to_version: Optional[int] = Query(None, alias="to", description="newer version")) -> dict:
    try:
        return document_diff(db, document_id, from_version, to_version)
    except DiffError as exc:
        raise APIError(404, str(exc), "document_id" if "no document" in str(exc) else "version")
