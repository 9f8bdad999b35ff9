"""Real policy pages (../shared/realdocs, read in place): extraction quality, typed predicates, and every rule
decidable once the enterprise answers the conditions no pattern reads (attestations)."""
import json
import sys
from datetime import date
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
REALDOCS = SHARED / "realdocs"
pytestmark = pytest.mark.skipif(not (REALDOCS / "gold.json").exists(), reason="../shared/realdocs not present")

AS_OF = date(2026, 12, 1)


@pytest.fixture(scope="module")
def parsed():
    from nlp.document import parse_document
    from nlp.readers import read_document
    return {f.name: parse_document(read_document(f)) for f in sorted((REALDOCS / "docs").iterdir())}


@pytest.fixture(scope="module")
def real_kb(tmp_path_factory):
    from knowledge.db import open_db
    from knowledge.ingest import ingest_paths
    from knowledge.queries import load_kb
    db = tmp_path_factory.mktemp("real") / "kb.sqlite"
    report = ingest_paths([REALDOCS / "docs"], db)
    assert not report["errors"], report["errors"]
    return load_kb(open_db(db, readonly=True))


def covers():
    sys.path.insert(0, str(SHARED / "eval"))
    from score import covers as c
    return c


def recall(parsed, key):
    gold = json.loads((REALDOCS / "gold.json").read_text(encoding="utf-8"))[key]
    cov = covers()
    found = sum(any(cov(g["text"], p.text) for p in getattr(parsed[g["source_file"]], key)) for g in gold)
    return found / len(gold)


def test_measures_and_conditions_of_real_pages_are_found(parsed):
    assert recall(parsed, "measures") >= 0.9
    assert recall(parsed, "conditions") >= 0.8


def test_most_conditions_of_real_pages_get_a_typed_predicate(parsed):
    from nlp.predicates import attestation_only
    conds = [c for d in parsed.values() for c in d.conditions]
    typed = sum(not attestation_only(c.predicate) for c in conds)
    assert typed / len(conds) >= 0.7, f"{typed}/{len(conds)}"


def attestation_keys(node) -> list[str]:
    if not isinstance(node, dict):
        return []
    own = [node["attested"]] if "attested" in node else []
    return own + [k for child in [*node.get("all", []), *node.get("any", []), node.get("not")]
                  for k in attestation_keys(child)]


def complete_profile(kb: dict, jurisdiction, answer: bool) -> dict:
    """Every profile fact stated, a complete (empty) history, every attestation answered."""
    keys = {k for c in kb["conditions"].values() for k in attestation_keys(c["predicate"])}
    return {"region": jurisdiction if jurisdiction != "全国" else "北京市", "industries": ["煤矿"], "employees": 50,
            "standardization_level": 1, "standardization_in_operation": True, "assessment_top_ranked": False,
            "major_hazard_source": False, "key_hazardous_process": False, "public_commitment": True,
            "credit_model_enterprise": False, "events": [], "attested": {k: answer for k in keys}}


@pytest.mark.parametrize("answer", [True, False])
def test_every_rule_of_every_real_page_is_decided_once_attestations_are_answered(real_kb, answer):
    from knowledge.evaluate import evaluate
    undecided = []
    for doc in real_kb["documents"].values():
        one = {**real_kb, "documents": {doc["id"]: doc}}
        for r in evaluate(one, complete_profile(real_kb, doc.get("jurisdiction"), answer), AS_OF):
            if r["status"] not in ("applies", "does_not_apply"):
                undecided.append((doc["source_file"], r["rule_id"],
                                  [c["because"] for c in r["conditions"] if c["status"] == "unknown"]))
    rules = [r for r in real_kb["rules"]]
    assert rules and not undecided, undecided[:5]


def test_an_unanswered_attestation_is_asked_in_the_clauses_own_words(real_kb):
    from knowledge.evaluate import evaluate_predicate
    attested = [c for c in real_kb["conditions"].values() if "attested" in (c["predicate"] or {})]
    assert attested
    c = attested[0]
    status, because = evaluate_predicate(c["predicate"], {}, AS_OF)
    assert status == "unknown" and "贵单位是否" in because and c["predicate"]["text"].rstrip("的")[-6:] in because
    key = c["predicate"]["attested"]
    assert evaluate_predicate(c["predicate"], {"attested": {key: True}}, AS_OF)[0] == "met"
    assert evaluate_predicate(c["predicate"], {"attested": {key: False}}, AS_OF)[0] == "not_met"


def test_a_traditional_page_is_quoted_in_traditional_and_keyed_like_simplified(parsed):
    from nlp.predicates import attestation_key
    trad = parsed["p10_chongqing_meikuang_heimingdan_zhidu.txt"]
    assert any("煤礦" in c.text for c in trad.conditions)
    for c in trad.conditions:
        if "attested" in c.predicate:
            assert c.predicate["attested"] == attestation_key(c.predicate["text"])


def test_item_classifier_is_shipped_and_reads_kinds(tmp_path):
    from nlp.classifier import model, rebuild
    m = model()
    assert m is not None, "nlp/data/item_classifier.json missing: run `xinyi train-classifier`"
    assert m.predict("对失信企业依法从重处罚，列为重点监管对象")[0] == "measure_penalty"
    assert m.predict("对守信企业减少执法检查频次，优先安排财政资金")[0] == "measure_incentive"
    report = rebuild(Path(__file__).resolve().parent.parent, tmp_path / "model.json")
    assert report["documents"] >= 20 and report["lodo_accuracy_measure_condition_neither"] >= 0.75
