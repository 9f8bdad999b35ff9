"""check_profile(): validate a profile, load the KB read-only, evaluate."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from .db import open_db
from .evaluate import evaluate
from .queries import load_kb

EVENT_TYPES = {"accident", "administrative_penalty", "dishonest_act", "occupational_disease_case", "criminal_referral",
               "overdue_hidden_danger", "refused_order", "missing_safety_review", "operated_while_suspended",
               "license_conditions_lost", "blacklisted", "credit_repaired", "other_violation", "major_social_impact",
               "concealed_accident", "obstructed_inspection", "unlicensed_operation", "bad_credit_record",
               "license_revoked"}
BOOL_FIELDS = ("standardization_in_operation", "assessment_top_ranked", "major_hazard_source", "key_hazardous_process",
               "public_commitment", "credit_model_enterprise")


EVENT_FIELDS = {"fatalities": int, "responsible": bool, "major": bool, "severity": str, "authority": str,
                "subject": str}
CHOICES = {"severity": ("一般", "较大", "重大", "特别重大"), "subject": ("unit", "principal", "safety_lead")}
EXPECTED = {int: "a non-negative integer", bool: "true or false", str: "a string"}


class ProfileError(ValueError):
    """A profile field has the wrong shape: the message names the field."""


def validate_profile(p: object) -> dict:
    if not isinstance(p, dict):
        raise ProfileError("profile must be a JSON object")
    for f in BOOL_FIELDS:
        if f in p and p[f] is not None and not isinstance(p[f], bool):
            raise ProfileError(f"field '{f}' must be true or false")
    for f in ("employees", "standardization_level"):
        if f in p and p[f] is not None and (not isinstance(p[f], int) or isinstance(p[f], bool) or p[f] < 0):
            raise ProfileError(f"field '{f}' must be a non-negative integer")
    if "standardization_level" in p and p["standardization_level"] not in (None, 1, 2, 3):
        raise ProfileError("field 'standardization_level' must be 1, 2 or 3")
    if "region" in p and p["region"] is not None and not isinstance(p["region"], str):
        raise ProfileError("field 'region' must be a string")
    if "industries" in p and p["industries"] is not None and (
            not isinstance(p["industries"], list) or not all(isinstance(x, str) for x in p["industries"])):
        raise ProfileError("field 'industries' must be a list of strings")
    attested = p.get("attested")
    if attested is not None and (not isinstance(attested, dict)
                                 or not all(isinstance(k, str) and isinstance(v, bool) for k, v in attested.items())):
        raise ProfileError("field 'attested' must map condition keys to true or false")
    events = p.get("events")
    if events is not None:
        if not isinstance(events, list):
            raise ProfileError("field 'events' must be a list")
        for i, ev in enumerate(events):
            if not isinstance(ev, dict) or ev.get("type") not in EVENT_TYPES:
                raise ProfileError(f"field 'events[{i}].type' must be one of {', '.join(sorted(EVENT_TYPES))}")
            for key in ("date", "date_from", "date_to"):
                if ev.get(key) is not None:
                    try:
                        date.fromisoformat(str(ev[key]))
                    except ValueError:
                        raise ProfileError(f"field 'events[{i}].{key}' must be a date YYYY-MM-DD") from None
            if ev.get("date_from") and ev.get("date_to") and str(ev["date_from"]) > str(ev["date_to"]):
                raise ProfileError(f"field 'events[{i}].date_from' must not be after date_to")
            for key, kind in EVENT_FIELDS.items():
                value = ev.get(key)
                if value is None:
                    continue
                ok = (isinstance(value, bool) if kind is bool else
                      isinstance(value, int) and not isinstance(value, bool) and value >= 0 if kind is int else
                      isinstance(value, str))
                if not ok or (key in CHOICES and value not in CHOICES[key]):
                    allowed = f" ({', '.join(CHOICES[key])})" if key in CHOICES else ""
                    raise ProfileError(f"field 'events[{i}].{key}' must be {EXPECTED[kind]}{allowed}")
    return p


def check_profile(db_path: str | Path, profile: dict, as_of: date) -> dict:
    profile = validate_profile(profile)
    kb = load_kb(open_db(db_path, readonly=True))
    return {"as_of": as_of.isoformat(), "profile": profile, "results": evaluate(kb, profile, as_of)}
