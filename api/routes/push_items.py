"""Measures pushed to departments (庄河 发起) and their feedback (响应-反馈): open and overdue items per
department, and recording a department's answer (token required)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Optional

from fastapi import APIRouter, Path, Query

from knowledge.registry import RegistryInputError

from ..deps import APIError, RegistryFile, WriteToken
from ..schemas import ErrorBody, FeedbackRequest, PushItem

router = APIRouter(prefix="/v1/push-items", tags=["registry"])


@router.get("", summary="Push items, optionally of one department (fuzzy), only open ones, or only overdue ones",
            responses={422: {"model": ErrorBody}, 503: {"model": ErrorBody}})
def push_items(reg: RegistryFile,
               department: Annotated[Optional[str], Query(max_length=100, description="e.g. 财政局")] = None,
               open: Annotated[Optional[bool], Query(description="only items without feedback")] = None,
               overdue: Annotated[Optional[bool], Query(description="only open items due before as_of")] = None,
               as_of: Annotated[Optional[str], Query(max_length=10, description="YYYY-MM-DD for overdue; default "
                                                                                "today")] = None
               ) -> list[PushItem]:
    return reg.push_items(department or None, open_only=bool(open), overdue=bool(overdue), as_of=query_day(as_of))


def query_day(value: Optional[str]) -> Optional[date]:
    """A day written as one (YYYY-MM-DD) within the days a policy question can be about; 422 otherwise."""
    from knowledge.profile import FIRST_DAY, LAST_DAY
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise APIError(422, f"as_of: must be a date YYYY-MM-DD, got {value!r}", "as_of") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise APIError(422, f"as_of: must be a date between {FIRST_DAY} and {LAST_DAY}", "as_of")
    return day


@router.post("/{item_id}/feedback", status_code=201, dependencies=[WriteToken],
             summary="A department's answer on a pushed measure: executed, not_applicable or refused",
             responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody},
                        422: {"model": ErrorBody}})
def feedback(item_id: Annotated[int, Path(ge=1)], body: FeedbackRequest, reg: RegistryFile) -> PushItem:
    try:
        found = reg.record_feedback(item_id, body.status, body.date, body.note, body.by) if reg.exists else None
    except RegistryInputError as exc:
        raise APIError(422, f"{exc.field}: {exc}", exc.field)
    if found is None:
        raise APIError(404, f"no push item #{item_id}", "item_id")
    return found
