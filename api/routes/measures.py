from __future__ import annotations

from typing import Annotated, Literal, Optional

from fastapi import APIRouter, Query

from knowledge.search import list_measures

from ..deps import DB

router = APIRouter(prefix="/v1/measures", tags=["measures"])


@router.get("", summary="措施清单: measures, optionally by implementing department (fuzzy) and kind")
def measures(db: DB,
             department: Annotated[Optional[str], Query(max_length=100, description="e.g. 财政局")] = None,
             kind: Annotated[Optional[Literal["incentive", "penalty", "other"]],
                            Query(description="incentive, penalty or other")] = None
             ) -> list[dict]:
    return list_measures(db, department=department or None, kind=kind or None)
