"""What each department must act on after recorded events: measures to stop or start, with their clauses."""
from __future__ import annotations

from typing import Annotated, Optional

from fastapi import APIRouter, Body, Path, Query

from ..deps import APIError, RegistryFile, WriteToken
from ..schemas import AcknowledgeRequest, ErrorBody, Notification

router = APIRouter(prefix="/v1/notifications", tags=["registry"])


@router.get("", summary="Notifications, optionally of one department (fuzzy, e.g. 财政局) and only open ones",
            responses={503: {"model": ErrorBody}})
def notifications(reg: RegistryFile,
                  department: Annotated[Optional[str], Query(max_length=100, description="e.g. 财政局")] = None,
                  open: Annotated[Optional[bool], Query(description="only those not yet acknowledged")] = None,
                  credit_code: Annotated[Optional[str], Query(max_length=40, description="one enterprise")] = None
                  ) -> list[Notification]:
    from knowledge.registry_import import normalize_code
    return reg.notifications(department or None, bool(open), normalize_code(credit_code) if credit_code else None)


@router.post("/{notification_id}/acknowledge", dependencies=[WriteToken],
             summary="Mark a notification as acted on by its department",
             responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody}})
def acknowledge(notification_id: Annotated[int, Path(ge=1)], reg: RegistryFile,
                body: Annotated[Optional[AcknowledgeRequest], Body()] = None) -> Notification:
    found = reg.acknowledge(notification_id, body.by if body else None) if reg.exists else None
    if found is None:
        raise APIError(404, f"no notification #{notification_id}", "notification_id")
    return found
