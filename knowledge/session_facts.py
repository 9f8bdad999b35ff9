"""Replace a chat session's facts with corrected ones and answer again from them.

`set_facts(db_path, session_id, facts, as_of)` takes the facts as chat reports them (`ChatReply.facts`: profile
fields, stated `events`, denied `absent_events`), validates them (knowledge/profile.py), stores them as the
session's facts and answers the enterprise's case again as a chat turn, so the web page's facts panel can correct
or remove one fact and see the answer change at once. The words a fact came from (`_said`) are kept for the facts
left as they were and dropped for the ones changed. None when there is no such session.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Optional

from nlp.profile_schema import event_fields, event_types, facts as declared_facts

from .db import open_db
from .dialogue import TURN_TRIES, answer_turn, public_facts
from .profile import ProfileError, check_value, validate_profile
from .queries import cached_kb
from .sessions import SessionConflict, SessionStore, UnknownSession, resolve_path

# the turn a correction is recorded as: it states nothing and asks about the case (eligibility), so the answer
# comes from the stored facts alone (tests/test_web_facts.py checks how it is routed)
RERUN_MESSAGE = "按页面上改过的情况，结果是否有变化？"
# what a chat session keeps beside the facts and a correction leaves alone (the kind asked, the attestations'
# wording, the documents in scope, a speaker who is a department); a pending bare-answer question or list is dropped
KEPT_PRIVATE = ("_asked_kind", "_attested_text", "_scope", "_speaker")
DENIAL_KEYS = {"type", "within_years", "date_from", "date_to", "fatal"}


def validate_facts(facts: Any) -> dict:
    """The facts as a profile (validate_profile) plus chat's denials (`absent_events`); other keys are refused."""
    if not isinstance(facts, dict):
        raise ProfileError("facts must be a JSON object")
    known = set(declared_facts()) | {"absent_events"}
    for key in facts:
        if key not in known:
            raise ProfileError(f"field '{key}' is not a fact of the enterprise profile")
    validate_profile({k: v for k, v in facts.items() if k != "absent_events"})
    denials = facts.get("absent_events")
    if denials is None:
        return facts
    if not isinstance(denials, list):
        raise ProfileError("field 'absent_events' must be a list")
    for i, d in enumerate(denials):
        if not isinstance(d, dict) or not isinstance(d.get("type"), str) or d["type"] not in event_types():
            raise ProfileError(f"field 'absent_events[{i}].type' must be one of {', '.join(sorted(event_types()))}")
        for key, value in d.items():
            if value is None:
                continue
            if key == "within_years":
                check_value(f"absent_events[{i}].{key}", {"type": "count"}, value)
            elif key in ("date_from", "date_to"):
                check_value(f"absent_events[{i}].{key}", {"type": "date"}, value)
            elif key == "fatal":
                check_value(f"absent_events[{i}].{key}", {"type": "boolean"}, value)
            elif key in event_fields():
                check_value(f"absent_events[{i}].{key}", event_fields()[key], value)
            elif key not in DENIAL_KEYS:
                raise ProfileError(f"field 'absent_events[{i}].{key}' is not a detail of a denied event")
    return facts


def stored_facts(old: dict, new: dict) -> dict:
    """The session's facts after a correction: `new` (public form) with the words of every unchanged fact."""
    before = public_facts(old)
    out: dict = {k: v for k, v in old.items() if k in KEPT_PRIVATE}
    for key, value in new.items():
        if value is None or value == [] or value == {}:
            continue
        out["events_stated" if key == "events" else key] = value
    said_old, said = old.get("_said") or {}, {}
    for key, words in said_old.items():
        if key == "absent":  # by event type: kept while that type's denial is unchanged
            kept = {t: w for t, w in words.items()
                    if [d for d in before.get("absent_events", []) if d["type"] == t]
                    == [d for d in new.get("absent_events") or [] if d.get("type") == t]}
            if kept:
                said["absent"] = kept
        elif key == "events":
            if (new.get("events") or []) == before.get("events", []):
                said["events"] = words
        elif key in new and new[key] == before.get(key):
            said[key] = words
    if said:
        out["_said"] = said
    return out


def set_facts(db_path: str | Path, session_id: str, facts: dict, as_of: Optional[date] = None,
              sessions_path: Optional[Path] = None) -> Optional[dict]:
    """Store the corrected facts and answer the case again (the chat answer shape), or None: no such session."""
    validate_facts(facts)
    as_of = as_of or date.today()
    cached_kb(db_path)  # KBError before the session file is touched
    with SessionStore(resolve_path(db_path, sessions_path), create=False) as store:
        if store.get(session_id) is None:
            return None
        for attempt in range(TURN_TRIES):
            try:
                old = store.load(session_id, known=True)  # a delete between tries is a session no more
            except UnknownSession:
                return None
            kb = cached_kb(db_path, as_of)
            db = open_db(db_path, readonly=True)
            try:
                out = answer_turn(db, kb, store, RERUN_MESSAGE, session_id, stored_facts(old, facts), as_of)
            except SessionConflict:
                if attempt == TURN_TRIES - 1:
                    raise
                continue
            finally:
                db.conn.close()
            if out["intent"] == "unknown" and out["results"]:
                out["intent"] = "eligibility"
            return out
    return None
