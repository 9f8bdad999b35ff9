from __future__ import annotations

from typing import Annotated, Optional

from fastapi import APIRouter, Query

from knowledge.search import list_conditions

from ..deps import DB

router = APIRouter(prefix="/v1/conditions", tags=["conditions"])


@router.get("", summary="行为清单: conditions, optionally by role")
def conditions(db: DB, role: Annotated[Optional[str], Query(
        max_length=50, description="incentive_eligibility, penalty_trigger, scope, other")] = None) -> list[dict]:
    return list_conditions(db, role=role or None)
