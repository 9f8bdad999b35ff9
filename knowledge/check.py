"""check_profile(): validate a profile, load the KB read-only, evaluate."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from .db import open_db
from .evaluate import evaluate
from .profile import ProfileError, validate_profile  # noqa: F401 (ProfileError is part of this module's API)
from .queries import load_kb


def check_profile(db_path: str | Path, profile: dict, as_of: date) -> dict:
    profile = validate_profile(profile)
    kb = load_kb(open_db(db_path, readonly=True), as_of)  # each document as the version in force on as_of
    return {"as_of": as_of.isoformat(), "profile": profile, "results": evaluate(kb, profile, as_of)}
