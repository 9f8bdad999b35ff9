"""The profile is declared once (nlp/data/profile_schema.json): whatever names a fact or an event type —
predicate patterns, chat patterns, validation, explanations, OpenAPI — names a declared one."""
import json
from pathlib import Path

import pytest

from knowledge.profile import ProfileError, profile_json_schema, validate_profile
from nlp.profile_schema import event_types, facts

DATA = Path(__file__).resolve().parent.parent / "nlp" / "data"


def rows(name):
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith('{"_comment"')]


def names_in(node, found):
    if isinstance(node, dict):
        if "fact" in node:
            found["facts"].add(node["fact"])
        if "event" in node:
            found["events"].add(node["event"]["type"])
        for v in node.values():
            names_in(v, found)
    elif isinstance(node, list):
        for v in node:
            names_in(v, found)
    return found


def test_predicate_patterns_name_declared_facts_and_events():
    found = names_in([r["node"] for r in rows("predicate_patterns.jsonl")], {"facts": set(), "events": set()})
    assert found["facts"] <= set(facts()), found["facts"] - set(facts())
    assert found["events"] <= set(event_types()), found["events"] - set(event_types())


def test_chat_patterns_name_declared_facts_and_events():
    for r in rows("fact_patterns.jsonl"):
        if r.get("kind") == "fact":
            assert r["key"] in facts(), r["key"]
        if r.get("type"):
            assert r["type"] in event_types(), r["type"]


def test_every_fact_has_a_label_and_every_askable_fact_a_question():
    for name, decl in facts().items():
        assert decl["label"], name
        if name not in ("name", "credit_code"):
            assert decl["question"].endswith("？"), name


@pytest.mark.parametrize("profile,field", [
    ({"credit_grade": "E"}, "credit_grade"),
    ({"standardization_level": 4}, "standardization_level"),
    ({"safety_honours": "yes"}, "safety_honours"),
    ({"attested": {"att-1": "是"}}, "attested"),
    ({"events": [{"type": "license_revoked", "date": "2025-13-01"}]}, "events[0].date"),
])
def test_validation_follows_the_declaration(profile, field):
    with pytest.raises(ProfileError, match=field.replace("[", r"\[").replace("]", r"\]")):
        validate_profile(profile)


def test_openapi_schema_is_the_declaration():
    js = profile_json_schema()
    assert set(js["properties"]) == set(facts())
    assert js["properties"]["credit_grade"]["enum"] == ["A", "B", "C", "D"]
    assert js["properties"]["employees"]["title"] == facts()["employees"]["label"]
    assert "license_revoked" in js["properties"]["events"]["items"]["properties"]["type"]["enum"]
