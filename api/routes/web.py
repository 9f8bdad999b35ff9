"""The web page (GET / and /static/*, plain files in api/static) and the two reads it needs beside the others:
the profile declaration (labels, choices, questions) and the staff review list."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from knowledge.review import review
from nlp.profile_schema import event_fields, event_types, facts as declared_facts

from ..deps import DB

STATIC = Path(__file__).resolve().parent.parent / "static"
# the page loads nothing from outside this server, and says so to the browser
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter()


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


class FactDecl(BaseModel):
    type: str = Field(description="string, string_list, count, boolean, choice, date, attestations, events")
    label: str
    question: Optional[str] = None
    choices: Optional[list[Any]] = None
    choice_labels: Optional[dict[str, str]] = None
    unit: Optional[str] = None
    said: Optional[Any] = Field(None, description="how chat words the fact: a template, or [if true, if false]")


class EventDecl(BaseModel):
    label: str
    status: bool = Field(False, description="a status the enterprise has (名单), not a dated event")


class ProfileDeclaration(BaseModel):
    """What a profile (and chat's facts) may hold, with the Chinese labels: nlp/data/profile_schema.json."""
    facts: dict[str, FactDecl]
    events: dict[str, EventDecl]
    event_fields: dict[str, FactDecl]


def decl(d: dict) -> dict:
    return {k: d.get(k) for k in FactDecl.model_fields}


@router.get("/v1/profile/schema", response_model=ProfileDeclaration, tags=["check"],
            summary="The enterprise profile's facts, event types and event details, with Chinese labels")
def profile_schema() -> dict:
    return {"facts": {k: decl(d) for k, d in declared_facts().items()},
            "events": {k: {"label": d["label"], "status": bool(d.get("status"))} for k, d in event_types().items()},
            "event_fields": {k: decl(d) for k, d in event_fields().items()}}


class ReviewItem(BaseModel):
    severity: int = Field(description="higher needs a person's eye sooner")
    kind: str = Field(description="no_findings, no_measures, no_rules, stale_correction, few_measures, "
                                  "measure_without_rule, measure_without_departments, attestation_only")
    document_id: str
    source_file: str
    title: Optional[str] = None
    path: list[str]
    where: str
    item_id: Optional[str] = None
    reason: str


@router.get("/v1/review", response_model=list[ReviewItem], tags=["documents"],
            summary="What most needs staff review, worst first (read-only; `xinyi correct` answers it)")
def review_list(db: DB, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict]:
    return review(db)[:limit]
