"""Declarative eligibility cases (tests/cases/*.json, OpenFisca-style): profile, as_of, expected statuses."""
import json
from datetime import date
from pathlib import Path

import pytest

from knowledge.evaluate import evaluate, years_before

CASES = sorted((Path(__file__).parent / "cases").glob("*.json"))


def doc_status(results, source_file, kind):
    st = {r["status"] for r in results if r["source_file"] == source_file and r["kind"] == kind}
    for s in ("applies", "undetermined", "does_not_apply"):
        if s in st:
            return s
    return "missing"


def expectations_hold(results, expect):
    """A case's expectations, judged as the shared scorer does (status per document and kind, measures of
    applying rules by substring)."""
    for e in expect:
        assert doc_status(results, e["source_file"], e["kind"]) == e["status"], e
        applying = [m["text"] for r in results if r["source_file"] == e["source_file"] and r["kind"] == e["kind"]
                    and r["status"] == "applies" for m in r["measures"]]
        for want in e.get("measures_include", []):
            assert any(want in t for t in applying), want
        for bad in e.get("measures_exclude", []):
            assert not any(bad in t for t in applying), bad


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(kb, path):
    case = json.loads(path.read_text(encoding="utf-8"))
    expectations_hold(evaluate(kb, case["profile"], date.fromisoformat(case["as_of"])), case["expect"])


def test_excluded_document_cites_the_deciding_condition(kb):
    results = evaluate(kb, {"region": "辽宁省营口市", "events": []}, date(2026, 11, 22))
    wuxi = [r for r in results if r["source_file"] == "003_de71b19c54652fc1.txt"]
    assert wuxi and all(r["status"] == "does_not_apply" for r in wuxi)
    assert all(any(c["status"] == "not_met" and c["citation"]["source_file"] for c in r["conditions"]) for r in wuxi)


def test_missing_fact_is_unknown_not_false(kb):
    results = evaluate(kb, {"region": "辽宁省营口市", "standardization_level": 1, "events": []}, date(2026, 11, 22))
    yk = [r for r in results if r["source_file"] == "000_f2471d76c145893c.txt"]
    assert {r["status"] for r in yk} == {"undetermined"}


def test_window_start_is_the_same_calendar_day():
    assert years_before(date(2026, 11, 22), 3) == date(2023, 11, 22)
    assert years_before(date(2024, 2, 29), 1) == date(2023, 2, 28)


def test_cases_cover_every_rule_kind_of_every_seed(kb):
    covered = {(e["source_file"], e["kind"]) for p in CASES for e in json.loads(p.read_text(encoding="utf-8"))["expect"]}
    docs = {d["id"]: d["source_file"] for d in kb["documents"].values()}
    needed = {(docs[r["document_id"]], r["kind"]) for r in kb["rules"]}
    assert needed <= covered, sorted(needed - covered)


def test_qualified_denial_does_not_cover_the_general_condition(kb):
    profile = {"region": "江苏省无锡市", "industries": ["钢铁冶金"], "standardization_level": 2,
               "standardization_in_operation": True,
               "absent_events": [{"type": "administrative_penalty", "within_years": 3, "major": True},
                                 {"type": "dishonest_act", "within_years": 3},
                                 {"type": "accident", "within_years": 3, "fatal": True}]}
    results = evaluate(kb, profile, date(2026, 11, 22))
    assert doc_status(results, "003_de71b19c54652fc1.txt", "incentive") == "undetermined"


def test_province_only_is_unknown_for_a_city_document(kb):
    results = evaluate(kb, {"region": "江苏省", "events": []}, date(2026, 11, 22))
    assert doc_status(results, "003_de71b19c54652fc1.txt", "incentive") == "undetermined"


def test_credit_repair_lifts_earlier_blacklisting(kb):
    events = [{"type": "blacklisted", "date": "2025-05-01"}, {"type": "credit_repaired", "date": "2025-09-01"}]
    results = evaluate(kb, {"region": "陈巴尔虎旗", "events": events}, date(2026, 11, 22))
    chen = [r for r in results if r["source_file"] == "001_9ae7228be791c7b7.txt" and r["status"] == "applies"]
    assert not any("行业禁入" in m["text"] for r in chen for m in r["measures"])
