from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from knowledge.dialogue import public_facts

from ..deps import Sessions, unknown_session
from ..schemas import SESSION_ID, ErrorBody, Session

router = APIRouter(prefix="/v1/sessions", tags=["chat"])

SessionId = Annotated[str, Path(max_length=64, pattern=SESSION_ID, description="the session_id of a chat answer")]


def not_found(session_id: str):
    return unknown_session(session_id)


@router.get("/{session_id}", summary="A chat session: the facts gathered so far and its turns",
            responses={404: {"model": ErrorBody}, 503: {"model": ErrorBody}})
def session(session_id: SessionId, store: Sessions) -> Session:
    found = store.get(session_id)
    if found is None:
        raise not_found(session_id)
    return Session(session_id=found["id"], facts=public_facts(found["facts"]), created_at=found["created_at"],
                   updated_at=found["updated_at"],
                   turns=[{"n": t["n"], "message": t["message"], "reply": t["reply"].get("reply", ""),
                           "questions": t["reply"].get("questions", []), "at": t["at"]} for t in found["turns"]])


@router.delete("/{session_id}", status_code=204, response_class=Response,
               summary="Forget a chat session and its turns; a later turn with this id is 404 (unknown session)",
               responses={404: {"model": ErrorBody}, 503: {"model": ErrorBody}})
def delete_session(session_id: SessionId, store: Sessions) -> Response:
    if not store.delete(session_id):
        raise not_found(session_id)
    return Response(status_code=204)
