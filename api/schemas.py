"""The API's pydantic models: request bodies, the error shape and a chat session. Everything else is plain dicts."""
from __future__ import annotations

from datetime import date
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from knowledge.profile import FIRST_DAY, LAST_DAY, profile_json_schema

WUXI_HAZCHEM_EXAMPLE = {
    "profile": {
        "region": "江苏省无锡市",
        "industries": ["危险化学品储存"],
        "major_hazard_source": True,
        "employees": 60,
        "standardization_level": 2,
        "standardization_in_operation": True,
        "events": [],
    },
    "as_of": "2026-11-22",
}


def day_text(value: Any) -> Any:
    """A day must be written as one (YYYY-MM-DD): a number is not read as seconds since 1970."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("must be a date YYYY-MM-DD, not a number")
    return value


class CheckRequest(BaseModel):
    """An enterprise profile (shared/contract/profile.md) and the day to evaluate on (default today)."""
    model_config = ConfigDict(json_schema_extra={"examples": [WUXI_HAZCHEM_EXAMPLE]})

    profile: dict[str, Any] = Field(description="enterprise profile, as declared in nlp/data/profile_schema.json",
                                    json_schema_extra=profile_json_schema())
    as_of: Optional[date] = Field(None, ge=FIRST_DAY, le=LAST_DAY, description="YYYY-MM-DD; default today")
    full: bool = Field(False, description="every rule of every document; by default a document excluded by place "
                                          "or scope, or one nothing stated can decide, is one result per kind")

    _as_of_is_a_date = field_validator("as_of", mode="before")(lambda v: day_text(v))


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer: what went wrong and, for bad input, which field."""
    error: str
    field: Optional[str] = None


SESSION_ID = r"^[A-Za-z0-9_\-]+$"


class SessionTurn(BaseModel):
    n: int = Field(description="1 for the first turn")
    message: str
    reply: str
    questions: list[str] = Field(description="the follow-up questions this turn asked")
    at: str = Field(description="UTC, ISO 8601")


class Session(BaseModel):
    """A chat session: the facts gathered so far (as chat reports them) and every turn in order."""
    session_id: str
    facts: dict[str, Any]
    created_at: str
    updated_at: str
    turns: list[SessionTurn]


class ChatRequest(BaseModel):
    """One chat turn; pass the session_id of an earlier answer to continue that conversation."""
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "我们是无锡的一家危险化学品储存企业，构成重大危险源，安全生产标准化二级并持续运行，三年内没有失信行为、"
                    "没有受过行政处罚、没有发生亡人事故。可以享受什么激励？", "as_of": "2026-11-22"}]})

    session_id: Optional[str] = Field(None, max_length=64, pattern=SESSION_ID)
    message: str = Field(min_length=1, max_length=2000, description="the question or statement, in Chinese")
    as_of: Optional[date] = Field(None, ge=FIRST_DAY, le=LAST_DAY, description="YYYY-MM-DD; default today")

    _as_of_is_a_date = field_validator("as_of", mode="before")(lambda v: day_text(v))


class Citation(BaseModel):
    """The clause a reply relies on: file, clause path (labels) and the quoted text as printed."""
    source_file: str
    document_id: Optional[str] = None
    title: Optional[str] = None
    version: Optional[int] = None
    path: list[str] = Field(description="clause labels from the top, e.g. [\"第十条\", \"（二）\"]")
    quote: str
    corrected: Optional[dict[str, Any]] = Field(None, description="a staff correction (校正): id, by, at, why")


class FollowUp(BaseModel):
    """A question whose answer decides an undetermined rule; `key` identifies it (an attestation's key)."""
    question: str
    field: str = Field(description="the profile fact it asks for (events, attested, region, …)")
    rules: int = Field(description="how many rules its answer decides")
    why: str
    citation: Citation
    key: Optional[str] = None


class ChatReply(BaseModel):
    """One chat turn answered: the reply (verdict first), what was understood (with the user's words), the
    facts as a profile, the follow-up questions, the evaluated rules and every clause relied on."""
    session_id: str
    intent: str = Field(description="eligibility, why_not, what_if, article, where, passages, department, "
                                    "departments, overview, conditions, compare, procedure, validity, more, …")
    reply: str
    understood: str = Field("", description="我理解的情况：… — each fact with the words it came from")
    facts: dict[str, Any]
    questions: list[str]
    question_details: list[FollowUp]
    results: list[dict[str, Any]]
    citations: list[Citation]
