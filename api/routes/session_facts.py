"""PUT /v1/sessions/{id}/facts: correct or remove what chat understood, and get the answer again at once."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Optional

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from knowledge.profile import FIRST_DAY, LAST_DAY
from knowledge.session_facts import set_facts

from ..deps import ChatRateLimit, get_settings
from ..schemas import ChatReply, day_text
from .chat import TURN_ERRORS, one_turn_at_a_time
from .sessions import SessionId, not_found

router = APIRouter(prefix="/v1/sessions", tags=["chat"])


class SessionFacts(BaseModel):
    """Every fact of the session, as `ChatReply.facts` carries them, with the ones to change changed and the
    ones to forget left out; `as_of` is the day to answer on (default today)."""
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "facts": {"region": "江苏省无锡市", "industries": ["危险化学品储存"], "major_hazard_source": True,
                  "standardization_level": 3, "standardization_in_operation": True,
                  "absent_events": [{"type": "accident", "within_years": 3, "fatal": True}]},
        "as_of": "2026-11-22"}]})

    facts: dict[str, Any] = Field(description="profile fields (nlp/data/profile_schema.json), stated `events` and "
                                              "denied `absent_events`; a fact left out is forgotten")
    as_of: Optional[date] = Field(None, ge=FIRST_DAY, le=LAST_DAY, description="YYYY-MM-DD; default today")

    _as_of_is_a_date = field_validator("as_of", mode="before")(lambda v: day_text(v))


@router.put("/{session_id}/facts", response_model=ChatReply, dependencies=[ChatRateLimit], responses=TURN_ERRORS,
            summary="Replace a chat session's facts (validated as a profile) and answer its case again")
def put_facts(session_id: SessionId, body: SessionFacts, request: Request,
              settings: Annotated[object, Depends(get_settings)]) -> dict:
    with one_turn_at_a_time(request, session_id):
        out = set_facts(settings.db_path, session_id, body.facts, body.as_of or date.today(),
                        sessions_path=settings.sessions_path)
    if out is None:
        raise not_found(session_id)
    return out
