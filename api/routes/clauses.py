from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from knowledge.search import search_clauses

from ..deps import DB
from ..schemas import ErrorBody

router = APIRouter(prefix="/v1/clauses", tags=["clauses"])


@router.get("/search", summary="Full-text clause search (jieba tokens, bm25)", responses={422: {"model": ErrorBody}})
def search(db: DB, q: Annotated[str, Query(min_length=1, max_length=100, description="e.g. 海关")],
           limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[dict]:
    return search_clauses(db, q, limit=limit)
