"""The registry's enterprises: one with its profile and events, and recording an event (token required), which
answers with the notifications it caused (营口 动态管理)."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path

from knowledge.queries import cached_kb
from knowledge.registry import RegistryInputError, enterprise_profile
from knowledge.registry_import import normalize_code

from ..deps import APIError, RegistryFile, WriteToken, get_settings
from ..schemas import Enterprise, ErrorBody, EventRecorded, EventRequest

router = APIRouter(prefix="/v1/enterprises", tags=["registry"])

CreditCode = Annotated[str, Path(min_length=1, max_length=40, description="统一社会信用代码")]


def not_found(code: str) -> APIError:
    return APIError(404, f"no enterprise with 统一社会信用代码 {code} in the registry", "code")


@router.get("/{code}", summary="An enterprise of the registry: its profile (facts and every recorded event)",
            responses={404: {"model": ErrorBody}, 503: {"model": ErrorBody}})
def enterprise(code: CreditCode, reg: RegistryFile) -> Enterprise:
    code = normalize_code(code)
    row = reg.enterprise_row(code)
    if row is None:
        raise not_found(code)
    return Enterprise(credit_code=code, name=row.get("name"), profile=enterprise_profile(reg, code),
                      events=reg.events_of(code), created_at=row["created_at"], updated_at=row["updated_at"],
                      source=row.get("source"))


@router.post("/{code}/events", status_code=201, dependencies=[WriteToken],
             summary="Append an event; answers with the measures it stops or starts, per department",
             responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody},
                        422: {"model": ErrorBody}, 503: {"model": ErrorBody}})
def record_event(code: CreditCode, body: EventRequest, reg: RegistryFile,
                 settings: Annotated[object, Depends(get_settings)]) -> EventRecorded:
    code = normalize_code(code)
    if reg.enterprise_row(code) is None:
        raise not_found(code)
    as_of = body.as_of or date.today()
    event = body.model_dump(exclude={"by", "note", "as_of"}, exclude_none=True)
    try:
        return reg.record_event(code, event, cached_kb(settings.db_path, as_of), as_of, by=body.by, note=body.note)
    except RegistryInputError as exc:
        raise APIError(422, f"{exc.field}: {exc}" if exc.field else str(exc), exc.field)
    except LookupError:
        raise not_found(code)
