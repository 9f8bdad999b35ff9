"""xinyi review: what most needs a person's eye, worst first, each with document, clause path and a reason."""
from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from api.cli import app
from conftest import CORPUS
from knowledge.db import open_db
from knowledge.ingest import ingest_paths
from knowledge.queries import export_kb
from knowledge.review import SEVERITY, review
from nlp.predicates import attestation_only

CUT = """某市安全生产领域失信联合惩戒实施办法
第一条 生产经营单位有下列情形之一的，列入安全生产失信联合惩戒对象：
（一）发生较大及以上生产安全责任事故的。
（二）拒不执行应急管理部门作出的现场处理措施决定的。
"""
NOTICE = """关于报送材料的通知
请各单位于月底前报送年度总结材料。
"""


def test_seeds_review_worst_first_with_a_reason_for_each(kb_path):
    items = review(open_db(kb_path, readonly=True))
    assert items and [x["severity"] for x in items] == sorted((x["severity"] for x in items), reverse=True)
    for x in items:
        assert x["document_id"] and x["where"] and x["reason"] and x["kind"] in SEVERITY
    export = export_kb(open_db(kb_path, readonly=True))
    no_dept = {m["id"] for m in export["measures"] if not m["departments"]}
    assert {x["item_id"] for x in items if x["kind"] == "measure_without_departments"} == no_dept
    att = {c["id"] for c in export["conditions"] if attestation_only(c["predicate"])}
    assert {x["item_id"] for x in items if x["kind"] == "attestation_only"} == att
    first = next(x for x in items if x["kind"] == "attestation_only")
    assert first["reason"].startswith("条件未能解析") and first["path"]


def test_documents_with_few_findings_come_first(tmp_path):
    cut, notice = tmp_path / "cut.txt", tmp_path / "notice.txt"
    cut.write_text(CUT, encoding="utf-8")
    notice.write_text(NOTICE, encoding="utf-8")
    db = tmp_path / "kb.sqlite"
    shutil.copy(CORPUS / "003_de71b19c54652fc1.txt", tmp_path / "003_de71b19c54652fc1.txt")
    report = ingest_paths([tmp_path / "003_de71b19c54652fc1.txt", cut, notice], db)
    assert not report["errors"]
    items = review(open_db(db, readonly=True))
    assert [(x["kind"], x["source_file"]) for x in items[:2]] == [("no_findings", "notice.txt"),
                                                                  ("no_measures", "cut.txt")]
    assert "没有措施" in items[1]["reason"] and items[1]["where"] == "（全文）"
    out = CliRunner().invoke(app, ["review", "--db", str(db), "--limit", "1"])
    assert out.exit_code == 0
    [line] = out.output.splitlines()
    assert line.startswith("[no_findings] notice （全文）: 没有找到任何措施或条件")
    data = json.loads(CliRunner().invoke(app, ["review", "--db", str(db), "--json"]).output)
    assert data == items


def test_a_retired_document_is_not_reviewed(tmp_path):
    notice = tmp_path / "notice.txt"
    notice.write_text(NOTICE, encoding="utf-8")
    db = tmp_path / "kb.sqlite"
    [doc] = ingest_paths([notice], db)["documents"]
    assert review(open_db(db, readonly=True))
    assert CliRunner().invoke(app, ["remove", "--db", str(db), doc["document_id"]]).exit_code == 0
    assert review(open_db(db, readonly=True)) == []
    assert "nothing to review" in CliRunner().invoke(app, ["review", "--db", str(db)]).output
