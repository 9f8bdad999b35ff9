"""The enterprise profile as declared in data/profile_schema.json: each fact once (type, label, question, source).

Predicates name facts and event types from here; knowledge validates, explains and asks from here; the API
documents the same declaration.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
TYPES = {"string", "string_list", "count", "choice", "boolean", "attestations", "events", "date"}


@lru_cache(maxsize=1)
def schema() -> dict:
    raw = json.loads((DATA / "profile_schema.json").read_text(encoding="utf-8"))
    for where in ("facts", "event_fields"):
        for name, decl in raw[where].items():
            if decl.get("type") not in TYPES:
                raise ValueError(f"profile_schema.json: {where}.{name}: unknown type {decl.get('type')!r}")
    return raw


def facts() -> dict[str, dict]:
    return schema()["facts"]


def event_types() -> dict[str, dict]:
    return schema()["events"]


def event_fields() -> dict[str, dict]:
    return schema()["event_fields"]
