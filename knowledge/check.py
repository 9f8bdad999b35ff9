"""check_profile(): validate a profile, load the KB read-only (kept in-process while the file is unchanged),
evaluate. A document whose jurisdiction or scope excludes the enterprise is summarised (knowledge/evaluate.py
excluded_results): one does_not_apply result per kind with the excluding condition cited, not rule by rule."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from .evaluate import evaluate
from .profile import ProfileError, validate_profile  # noqa: F401 (ProfileError is part of this module's API)
from .queries import cached_kb


def check_profile(db_path: str | Path, profile: dict, as_of: date) -> dict:
    profile = validate_profile(profile)
    kb = cached_kb(db_path, as_of, clauses=False)  # each document as the version in force on as_of
    return {"as_of": as_of.isoformat(), "profile": profile, "results": evaluate(kb, profile, as_of, summarise=True)}
