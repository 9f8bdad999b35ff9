"""POST /v1/chat: one turn of a conversation. A new conversation (no session_id) gets an id issued by the server;
an id the session file does not hold is 404. Turns of one session wait for each other in this process; a turn
that still raced one saved by another process is re-run on its facts (knowledge.dialogue.ask), and only after
several tries is 409. Rate-limited per client address (429 with Retry-After)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from knowledge.dialogue import ask

from ..deps import APIError, ChatRateLimit, get_settings
from ..schemas import ChatReply, ChatRequest, ErrorBody

router = APIRouter(prefix="/v1", tags=["chat"])

TURN_ERRORS = {404: {"model": ErrorBody, "description": "unknown session (ids are issued by the server)"},
               409: {"model": ErrorBody, "description": "too many turns of this session at once; send it again"},
               413: {"model": ErrorBody, "description": "request body too large"},
               422: {"model": ErrorBody},
               429: {"model": ErrorBody, "description": "too many chat turns from this address; wait Retry-After s",
                     "headers": {"Retry-After": {"description": "seconds until the next turn may go",
                                                 "schema": {"type": "integer"}}}}}


@contextmanager
def one_turn_at_a_time(request: Request, session_id):
    """This process's lock of the session while its turn runs (SessionConflict after TurnLocks.wait_s → 409),
    then a slot among the turns computed at once (TurnSlots; NoSlot after its wait → 503 busy)."""
    with request.app.state.turn_locks.hold(session_id), request.app.state.turn_slots.hold():
        yield


@router.post("/chat", response_model=ChatReply, dependencies=[ChatRateLimit], responses=TURN_ERRORS,
             summary="Chat in Chinese: facts accumulate per session; cited answers and deciding questions")
def chat(body: ChatRequest, request: Request, settings: Annotated[object, Depends(get_settings)]) -> dict:
    if not body.message.strip():
        raise APIError(422, "message: must not be blank", "message")
    with one_turn_at_a_time(request, body.session_id):
        return ask(settings.db_path, body.message, body.session_id, body.as_of or date.today(),
                   sessions_path=settings.sessions_path)
