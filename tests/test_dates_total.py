"""Every date computation is total and days are checked at the edges (issue 11): an as_of whose year is smaller
than a rule's look-back window once looped forever; now the engine answers and the edges refuse the day."""
from __future__ import annotations

import subprocess
import sys
from datetime import date

import httpx
import pytest

from conftest import ROOT
from knowledge.check import check_profile
from knowledge.evaluate import years_before
from knowledge.profile import ProfileError, validate_profile
from test_api import serving


@pytest.mark.parametrize("day, years, months, expected", [
    (date(2026, 11, 22), 3, 0, date(2023, 11, 22)),
    (date(2024, 2, 29), 1, 0, date(2023, 2, 28)),
    (date(2026, 3, 31), 0, 1, date(2026, 2, 28)),
    (date(3, 1, 1), 5, 0, date.min),          # before year 1: the window covers every day
    (date(1, 1, 1), 0, 1, date.min),
])
def test_years_before_is_total(day, years, months, expected):
    assert years_before(day, years, months) == expected


def test_the_engine_answers_for_a_day_in_year_3(kb_path):
    results = check_profile(kb_path, {"region": "江苏省无锡市"}, date(3, 1, 1))["results"]
    assert results  # answered, not looping


def test_profile_dates_out_of_range_are_refused():
    with pytest.raises(ProfileError, match="events\\[0\\].date"):
        validate_profile({"events": [{"type": "accident", "date": "0003-01-01"}]})


def test_http_refuses_days_out_of_range_and_numbers_as_days(kb_path):
    with serving(kb_path) as base:
        for as_of in ("0003-01-01", "9999-12-31", 0):
            r = httpx.post(f"{base}/v1/check", json={"profile": {}, "as_of": as_of}, timeout=10)
            assert r.status_code == 422, (as_of, r.text)
            assert r.json()["field"] and "as_of" in r.json()["field"]
        ok = httpx.post(f"{base}/v1/check", json={"profile": {}, "as_of": "2026-11-22"}, timeout=30)
        assert ok.status_code == 200


def test_cli_refuses_a_day_out_of_range_in_one_line(kb_path):
    p = subprocess.run([sys.executable, "-m", "api.cli", "ask", "--db", str(kb_path), "--as-of", "0003-01-01", "你好"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stderr.strip().count("\n") == 0 and "between 1900-01-01" in p.stderr

