"""The API's pydantic models: request bodies, the error shape and a chat session. Everything else is plain dicts."""
from __future__ import annotations

from datetime import date
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

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


def nullable_profile_schema() -> dict:
    """The profile's JSON Schema as the API takes it: a fact (or an event's detail) may also be null, which is
    unknown (as if left out), as knowledge.profile.validate_profile reads it; required keys stay as they are."""
    import copy

    def nullable(node: Any) -> Any:
        if isinstance(node, list):
            return [nullable(n) for n in node]
        if not isinstance(node, dict):
            return node
        node = {k: nullable(v) if k in ("items", "additionalProperties", "anyOf") else v for k, v in node.items()}
        if isinstance(node.get("properties"), dict):
            required = set(node.get("required", []))
            props = {}
            for key, prop in node["properties"].items():
                prop = nullable(prop)
                if key not in required:
                    outer = {k: prop.pop(k) for k in ("title", "description") if k in prop}
                    prop = {**outer, "anyOf": [prop, {"type": "null"}]}
                props[key] = prop
            node["properties"] = props
        return node
    return nullable(copy.deepcopy(profile_json_schema()))


def day_text(value: Any) -> Any:
    """A day must be written as one (YYYY-MM-DD): a number is not read as seconds since 1970."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("must be a date YYYY-MM-DD, not a number")
    return value


class CheckRequest(BaseModel):
    """An enterprise profile (shared/contract/profile.md) and the day to evaluate on (default today)."""
    model_config = ConfigDict(json_schema_extra={"examples": [WUXI_HAZCHEM_EXAMPLE]})

    profile: dict[str, Any] = Field(description="enterprise profile, as declared in nlp/data/profile_schema.json",
                                    json_schema_extra=nullable_profile_schema())
    as_of: Optional[date] = Field(None, ge=FIRST_DAY, le=LAST_DAY, description="YYYY-MM-DD; default today")
    full: StrictBool = Field(False, description="every rule of every document; by default a document excluded by place "
                                          "or scope, or one nothing stated can decide, is one result per kind")

    _as_of_is_a_date = field_validator("as_of", mode="before")(lambda v: day_text(v))


class CheckReply(BaseModel):
    """The profile as read, the day, and every rule of every document in force that day: its status (applies,
    does_not_apply, undetermined), the measures, the conditions that decided it and their citations."""
    as_of: str = Field(description="YYYY-MM-DD the policies were judged on")
    profile: dict[str, Any]
    results: list[dict[str, Any]]


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


# ---- registry: enterprises, events, notifications, push items, feedback ---------------------------------

import datetime as dt  # noqa: E402  (a field named `date` below)
from typing import Literal  # noqa: E402

from pydantic import create_model  # noqa: E402

from nlp.profile_schema import event_fields, event_types  # noqa: E402


def event_field_type(decl: dict) -> Any:
    """The Python type of a declared event field, for the request model."""
    kind = decl["type"]
    if kind == "choice":
        return Literal[tuple(decl["choices"])]
    return {"count": int, "boolean": bool, "date": date}.get(kind, str)


def event_field_constraints(decl: dict) -> dict:
    kind = decl["type"]
    if kind == "count":
        return {"ge": 0}
    if kind == "date":
        return {"ge": FIRST_DAY, "le": LAST_DAY}
    if kind == "string":
        return {"max_length": 200}
    return {}


def event_field_description(decl: dict) -> str:
    labels = decl.get("choice_labels")
    return decl["label"] + (f"（{'、'.join(f'{k}: {v}' for k, v in labels.items())}）" if labels else "")


EVENT_DATES = [k for k, d in event_fields().items() if d["type"] == "date"]
EVENT_TYPES_TEXT = "；".join(f"{k}: {v['label']}" for k, v in event_types().items())

EventRequest = create_model(
    "EventRequest",
    __doc__="An event to append to an enterprise's history (its fields as declared in "
            "nlp/data/profile_schema.json), who records it, and the day the policies are judged on (default today).",
    __config__=ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"type": "accident", "date": "2026-05-01", "fatalities": 1, "responsible": True, "by": "王芳"}]}),
    __validators__={"dates_are_days": field_validator(*EVENT_DATES, "as_of", mode="before")(lambda v: day_text(v))},
    type=(Literal[tuple(event_types())], Field(description=EVENT_TYPES_TEXT)),
    **{k: (Optional[event_field_type(d)], Field(None, description=event_field_description(d),
                                                 **event_field_constraints(d)))
       for k, d in event_fields().items()},
    by=(Optional[str], Field(None, max_length=100, description="who records it")),
    note=(Optional[str], Field(None, max_length=2000, description="a remark kept with the event")),
    as_of=(Optional[date], Field(None, ge=FIRST_DAY, le=LAST_DAY,
                                 description="YYYY-MM-DD the policies are judged on; default today")),
)

RegistryEvent = create_model(
    "RegistryEvent",
    __doc__="An event as recorded: appended, never edited.",
    id=(int, ...), credit_code=(str, ...), type=(str, Field(description=EVENT_TYPES_TEXT)),
    **{k: (Optional[Any], Field(None, description=event_field_description(d))) for k, d in event_fields().items()},
    as_of=(Optional[str], Field(None, description="the day the policies were judged on")),
    recorded_at=(str, Field(description="UTC, ISO 8601")), recorded_by=(Optional[str], None), note=(Optional[str], None),
)


class Notification(BaseModel):
    """What a department must do after an event: stop a measure that applied, or start one that now applies."""
    id: int
    credit_code: str
    enterprise_name: Optional[str] = None
    event_id: int
    event_type: Optional[str] = None
    event_date: Optional[str] = None
    measure_id: str
    measure_text: Optional[str] = None
    kind: Optional[str] = Field(None, description="incentive, penalty or other")
    document_id: Optional[str] = None
    version: Optional[int] = None
    rule_id: Optional[str] = None
    department: Optional[str] = Field(None, description="as printed in the clause; null when it names none")
    action: Literal["stop", "start"]
    status_before: Optional[str] = None
    status_after: Optional[str] = None
    because: Optional[str] = Field(None, description="the conditions that decided it")
    citation: Citation
    as_of: Optional[str] = None
    created_at: str
    acknowledged_at: Optional[str] = None
    acknowledged_by: Optional[str] = None


class EventRecorded(BaseModel):
    """The event as recorded and the notifications it caused, judged on `as_of`."""
    event: RegistryEvent
    notifications: list[Notification]
    as_of: str


class Enterprise(BaseModel):
    """An enterprise of the registry: its profile (facts and every recorded event: a complete history) and its
    events as recorded."""
    credit_code: str
    name: Optional[str] = None
    profile: dict[str, Any]
    events: list[RegistryEvent]
    created_at: str
    updated_at: str
    source: Optional[str] = Field(None, description="the file it was last imported from")


class AcknowledgeRequest(BaseModel):
    by: Optional[str] = Field(None, max_length=100, description="who acted on it")


class FeedbackRequest(BaseModel):
    """A department's answer on a pushed measure (庄河 响应-反馈)."""
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"status": "executed", "date": "2026-12-10", "note": "已下调费率", "by": "财政局张三"}]})

    status: Literal["executed", "not_applicable", "refused"]
    date: dt.date = Field(ge=FIRST_DAY, le=LAST_DAY, description="YYYY-MM-DD the department acted")
    note: Optional[str] = Field(None, max_length=2000)
    by: Optional[str] = Field(None, max_length=100)

    _date_is_a_day = field_validator("date", mode="before")(lambda v: day_text(v))


class Feedback(BaseModel):
    id: int
    push_item_id: int
    status: Literal["executed", "not_applicable", "refused"]
    date: str
    note: Optional[str] = None
    by: Optional[str] = None
    recorded_at: str


class PushItem(BaseModel):
    """A measure pushed to a department for an enterprise, with its clause, due day and latest feedback."""
    id: int
    credit_code: str
    enterprise_name: Optional[str] = None
    measure_id: str
    measure_text: Optional[str] = None
    kind: Optional[str] = None
    department: Optional[str] = None
    document_id: str
    version: Optional[int] = None
    rule_id: Optional[str] = None
    citation: Citation
    as_of: Optional[str] = None
    pushed_at: str
    due_on: Optional[str] = None
    pushed_by: Optional[str] = None
    status: Literal["open", "withdrawn", "executed", "not_applicable", "refused"] = Field(
        description="open: no feedback yet; withdrawn: no feedback, and an event has since stopped the measure; "
                    "else the latest feedback")
    overdue: bool = Field(description="open and due before as_of (default today)")
    feedback: Optional[Feedback] = None
