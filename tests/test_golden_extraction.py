"""Golden files of the clause tree, metadata and extraction for each seed document."""
import pytest

from nlp.document import parse_document
from nlp.readers import read_document
from golden_util import check_golden
from conftest import CORPUS

SEEDS = sorted(p.name for p in CORPUS.glob("*.txt"))


def parsed(name):
    return parse_document(read_document(CORPUS / name))


@pytest.mark.parametrize("name", SEEDS)
def test_clause_tree(name):
    doc = parsed(name)
    tree = [{"path": c.path, "style": c.style, "heading": c.heading, "text": c.text[:80]} for c in doc.clauses]
    check_golden(f"{name}.tree.json", tree)


@pytest.mark.parametrize("name", SEEDS)
def test_extraction(name):
    doc = parsed(name)
    out = {
        "metadata": {"title": doc.title, "doc_number": doc.doc_number, "issuer": doc.issuer,
                     "jurisdiction": doc.jurisdiction, "issued_on": doc.issued_on},
        "measures": [{"path": m.path, "kind": m.kind, "text": m.text, "departments": m.departments}
                     for m in doc.measures],
        "conditions": [{"path": c.path, "role": c.role, "text": c.text, "predicate": c.predicate}
                       for c in doc.conditions],
        "rules": [{"kind": r.kind, "combinator": r.combinator, "conditions": len(r.condition_ids),
                   "measures": len(r.measure_ids)} for r in doc.rules],
        "warnings": doc.warnings,
    }
    check_golden(f"{name}.extract.json", out)


def test_metadata_of_the_seeds():
    meta = {n: parsed(n) for n in SEEDS}
    assert meta["000_f2471d76c145893c.txt"].title.startswith("营口市关于对安全生产领域守信")  # titled by its 附件
    assert meta["001_9ae7228be791c7b7.txt"].doc_number == "陈应急发〔2023〕148号"
    assert meta["001_9ae7228be791c7b7.txt"].jurisdiction == "内蒙古自治区呼伦贝尔市陈巴尔虎旗"
    assert meta["002_eeefe34df8205f46.txt"].issuer == "淮南市安全生产委员会办公室"
    assert meta["003_de71b19c54652fc1.txt"].issued_on is None  # 202X年XX月XX日 is no date
    assert meta["004_c1031d100ed34c3a.txt"].jurisdiction == "辽宁省大连市庄河市"
    assert meta["004_c1031d100ed34c3a.txt"].issued_on == "2017-08-07"  # the 落款, not the web page's 发布日期


def test_misnumbering_is_kept_and_reported():
    doc = parsed("000_f2471d76c145893c.txt")
    labels = [c.path for c in doc.clauses if len(c.path) == 2 and c.path[0] == "二"]
    assert ["二", "（十）"] in labels and ["二", "（十二）"] in labels
    assert any("（十）" in w and "13" in w for w in doc.warnings)


def test_ocr_noise_and_bookmarks_are_dropped():
    yk = parsed("000_f2471d76c145893c.txt")
    wx = parsed("003_de71b19c54652fc1.txt")
    assert not any("Handwritten" in c.text for c in yk.clauses)
    assert not any("bookmark" in c.text for c in wx.clauses)


def test_cross_references_become_rules():
    doc = parsed("003_de71b19c54652fc1.txt")
    by_id = {c.id: c for c in doc.conditions}
    penalty = [r for r in doc.rules if r.kind == "penalty"]
    paths = sorted(tuple(by_id[cid].path[-1] for cid in r.condition_ids) for r in penalty)
    assert ("（五）", "（六）", "（七）", "（八）") in paths
    assert ("（一）", "（二）", "（三）", "（四）", "（九）") in paths
