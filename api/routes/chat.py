from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends

from knowledge.dialogue import ask

from ..deps import APIError, get_settings
from ..schemas import ChatReply, ChatRequest, ErrorBody

router = APIRouter(prefix="/v1", tags=["chat"])


@router.post("/chat", response_model=ChatReply, summary="Chat in Chinese: facts accumulate per session; cited answers and deciding questions",
             responses={409: {"model": ErrorBody}, 422: {"model": ErrorBody}, 503: {"model": ErrorBody}})
def chat(body: ChatRequest, settings: Annotated[object, Depends(get_settings)]) -> dict:
    if not body.message.strip():
        raise APIError(422, "message: must not be blank", "message")
    return ask(settings.db_path, body.message, body.session_id, body.as_of or date.today(),
               sessions_path=settings.sessions_path)
