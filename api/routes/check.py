from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends

from knowledge.check import check_profile

from ..deps import get_settings
from ..schemas import CheckReply, CheckRequest, ErrorBody

router = APIRouter(prefix="/v1", tags=["check"])


@router.post("/check", response_model=CheckReply, summary="Which measures apply to an enterprise, rule by rule, with reasons and citations",
             responses={422: {"model": ErrorBody}, 503: {"model": ErrorBody}})
def check(body: CheckRequest, settings: Annotated[object, Depends(get_settings)]) -> dict:
    return check_profile(settings.db_path, body.profile, body.as_of or date.today(), full=body.full,
                         serving=True)
