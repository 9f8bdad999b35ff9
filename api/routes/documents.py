from __future__ import annotations

from fastapi import APIRouter

from knowledge.queries import get_document, list_documents

from ..deps import DB, APIError
from ..schemas import ErrorBody

router = APIRouter(prefix="/v1/documents", tags=["documents"])


@router.get("", summary="All ingested policy documents")
def documents(db: DB) -> list[dict]:
    return list_documents(db)


@router.get("/{document_id}", summary="One document with its clause tree, measures, conditions and rules",
            responses={404: {"model": ErrorBody}})
def document(document_id: str, db: DB) -> dict:
    doc = get_document(db, document_id)
    if doc is None:
        raise APIError(404, f"no document with id {document_id!r}", "document_id")
    return doc
