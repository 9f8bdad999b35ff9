"""Validate an enterprise profile against its one declaration (nlp/data/profile_schema.json), and describe
it as JSON Schema for the API. A wrong field is refused with its path in the message."""
from __future__ import annotations

from datetime import date
from typing import Any

from nlp.profile_schema import event_fields, event_types, facts


class ProfileError(ValueError):
    """A profile field has the wrong shape: the message names the field."""


# the days a policy question can be about: earlier or later ones are a typo (0003-01-01), not a question
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)


def check_day(name: str, day: date) -> date:
    """The day itself, or ProfileError naming the field when it lies outside FIRST_DAY…LAST_DAY."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ProfileError(f"field '{name}' must be a date between {FIRST_DAY} and {LAST_DAY}, got {day}")
    return day


def is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def check_value(path: str, decl: dict, value: Any) -> None:
    kind = decl["type"]
    if kind == "boolean" and not isinstance(value, bool):
        raise ProfileError(f"field '{path}' must be true or false")
    if kind == "count" and not is_count(value):
        raise ProfileError(f"field '{path}' must be a non-negative integer")
    if kind == "string" and not isinstance(value, str):
        raise ProfileError(f"field '{path}' must be a string")
    if kind == "string_list" and (not isinstance(value, list) or not all(isinstance(x, str) for x in value)):
        raise ProfileError(f"field '{path}' must be a list of strings")
    if kind == "choice" and value not in decl["choices"]:
        raise ProfileError(f"field '{path}' must be one of {', '.join(str(c) for c in decl['choices'])}")
    if kind == "date":
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            raise ProfileError(f"field '{path}' must be a date YYYY-MM-DD") from None
        check_day(path, day)
    if kind == "attestations" and (not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, bool) for k, v in value.items())):
        raise ProfileError(f"field '{path}' must map condition keys to true or false")


def validate_profile(p: object) -> dict:
    if not isinstance(p, dict):
        raise ProfileError("profile must be a JSON object")
    for name, decl in facts().items():
        if p.get(name) is None or decl["type"] == "events":
            continue
        check_value(name, decl, p[name])
    events = p.get("events")
    if events is not None:
        if not isinstance(events, list):
            raise ProfileError("field 'events' must be a list")
        for i, ev in enumerate(events):
            if not isinstance(ev, dict) or not isinstance(ev.get("type"), str) or ev["type"] not in event_types():
                raise ProfileError(f"field 'events[{i}].type' must be one of {', '.join(sorted(event_types()))}")
            for key, decl in event_fields().items():
                if ev.get(key) is not None:
                    check_value(f"events[{i}].{key}", decl, ev[key])
            if ev.get("date_from") and ev.get("date_to") and str(ev["date_from"]) > str(ev["date_to"]):
                raise ProfileError(f"field 'events[{i}].date_from' must not be after date_to")
    return p


JSON_TYPES = {"string": {"type": "string"}, "string_list": {"type": "array", "items": {"type": "string"}},
              "count": {"type": "integer", "minimum": 0}, "boolean": {"type": "boolean"},
              "date": {"type": "string", "format": "date"},
              "attestations": {"type": "object", "additionalProperties": {"type": "boolean"}}}


def json_type(decl: dict) -> dict:
    if decl["type"] == "choice":
        return {"enum": decl["choices"]}
    return dict(JSON_TYPES[decl["type"]])


def profile_json_schema() -> dict:
    """The profile as JSON Schema, each property titled with its Chinese label (for OpenAPI)."""
    event = {"type": "object", "required": ["type"],
             "properties": {"type": {"enum": sorted(event_types()),
                                     "description": "；".join(f"{k}: {v['label']}" for k, v in event_types().items())},
                            **{k: {**json_type(d), "title": d["label"]} for k, d in event_fields().items()}}}
    props = {}
    for name, decl in facts().items():
        shape = {"type": "array", "items": event} if decl["type"] == "events" else json_type(decl)
        props[name] = {**shape, "title": decl["label"],
                       **({"description": decl["question"]} if decl.get("question") else {})}
    return {"type": "object", "properties": props, "additionalProperties": True,
            "description": "Every field is optional; a missing field is unknown, never false or zero."}
