"""Staff corrections that survive (issue 9, step 2): recorded with who / when / why, kept apart from extraction,
keyed by the clause's content, applied after every re-extraction and re-ingest, stale when their clause changed,
marked in export and in answers."""
from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from conftest import CORPUS, ROOT
from knowledge.check import check_profile
from knowledge.corrections import CorrectionError, list_corrections, record
from knowledge.db import open_db
from knowledge.ingest import ingest_paths
from knowledge.queries import export_kb

WUXI = CORPUS / "003_de71b19c54652fc1.txt"
DOC = "003_de71b19c54652fc1"
LEVEL_2 = "（四）安全生产标准化等级达到二级及以上水平"
LEVEL_1 = "（四）安全生产标准化等级达到一级水平"
INSURANCE = "根据安全生产风险水平，下调安全生产责任保险费率。"
PUBLICITY = "作为安全生产典型示范企业加以宣传推广。"
ADDED = "优先推荐参加安全生产评优评先活动"
PROFILE = json.loads((ROOT / "examples" / "wuxi_hazchem.json").read_text(encoding="utf-8"))
DAY = date(2026, 11, 22)


def cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def ingest(db: Path, *files: Path) -> list[dict]:
    report = ingest_paths(list(files), db)
    assert not report["errors"], report["errors"]
    return report["documents"]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("corr") / "base.sqlite"
    ingest(db, WUXI)
    return db


@pytest.fixture()
def kb(base, tmp_path) -> Path:
    db = tmp_path / "kb.sqlite"
    shutil.copy(base, db)
    return db


def correct_four(db: Path) -> None:
    """Four corrections through the command, as staff would make them."""
    for args in (["--clause", "第五条（四）", "--drop-measure", "--why", "宣传推广不是激励措施"],
                 ["--clause", "第五条（二）", "--departments", "应急管理局、人民银行", "--why", "费率由人民银行协同"],
                 ["--clause", "第五条", "--add-measure", ADDED, "--kind", "incentive", "--departments", "应急管理局",
                  "--why", "漏抽的措施"],
                 ["--clause", "第四条（四）", "--attestation", "安全生产标准化等级达到二级及以上并持续运行",
                  "--why", "考核评分一项无从核实"]):
        out = cli("correct", "--db", db, DOC, *args, "--by", "王芳", "--json")
        assert out.exit_code == 0, out.output
        assert json.loads(out.output)["status"] == "applied"


def measures_of(db: Path, doc_id: str = DOC) -> dict[str, dict]:
    return {m["text"]: m for m in export_kb(open_db(db, readonly=True))["measures"] if m["document_id"] == doc_id}


def test_corrections_change_the_kb_and_say_who_when_why(kb):
    before = measures_of(kb)
    correct_four(kb)
    after = measures_of(kb)
    assert PUBLICITY in before and PUBLICITY not in after
    assert after[INSURANCE]["departments"] == ["应急管理局", "人民银行"]
    assert after[INSURANCE]["corrected"]["by"] == "王芳" and after[INSURANCE]["corrected"]["why"] == "费率由人民银行协同"
    assert after[INSURANCE]["corrected"]["at"]
    assert after[ADDED]["kind"] == "incentive" and after[ADDED]["path"] == ["第五条"] and "corrected" in after[ADDED]
    assert "corrected" not in after["下调工伤保险费率。"]
    export = export_kb(open_db(kb, readonly=True))
    assert [c["action"] for c in export["corrections"]] == ["drop_measure", "set_measure", "add_measure",
                                                            "set_condition"]
    [cond] = [c for c in export["conditions"] if c.get("corrected")]
    assert cond["predicate"]["attested"].startswith("att-") and cond["path"] == ["第四条", "（四）"]
    # answers: the added measure joins the incentive rule and carries corrected (chat can say 校正)
    results = check_profile(kb, {**PROFILE, "attested": {cond["predicate"]["attested"]: True}}, DAY)["results"]
    [incentive] = [r for r in results if r["kind"] == "incentive"]
    assert incentive["status"] == "applies"
    shown = {m["text"]: m for m in incentive["measures"]}
    assert PUBLICITY not in shown
    assert shown[ADDED]["corrected"]["by"] == "王芳" and shown[ADDED]["citation"]["corrected"]["why"] == "漏抽的措施"
    assert "corrected" not in shown["下调工伤保险费率。"]
    assert any(c.get("corrected") for c in incentive["conditions"])


def test_corrections_survive_a_reextraction_after_the_extractor_changed(kb, monkeypatch):
    correct_four(kb)
    before = json.dumps(export_kb(open_db(kb, readonly=True)), ensure_ascii=False)
    monkeypatch.setattr("knowledge.store.extractor_version", lambda: "a-newer-extractor")
    [r] = ingest(kb, WUXI)
    assert r["status"] == "reextracted"
    after = export_kb(open_db(kb, readonly=True))
    assert {c["status"] for c in after["corrections"]} == {"applied"}
    assert json.dumps(after, ensure_ascii=False) == before  # the same KB: every correction applied again
    [r] = ingest(kb, WUXI)  # and the same text again changes nothing
    assert r["status"] == "unchanged"


def test_a_correction_whose_clause_changed_is_stale_after_a_revision(kb, tmp_path):
    correct_four(kb)
    revised = tmp_path / "wuxi_2024_revised.txt"
    revised.write_text(WUXI.read_text(encoding="utf-8").replace(LEVEL_2, LEVEL_1), encoding="utf-8")
    [r] = ingest(kb, revised)
    assert r["version"] == 2
    status = {c["action"]: c for c in list_corrections(open_db(kb, readonly=True))}
    assert status["set_condition"]["status"] == "stale"
    assert "第四条（四）" in status["set_condition"]["status_note"] and "改动" in status["set_condition"]["status_note"]
    assert {status[a]["status"] for a in ("drop_measure", "set_measure", "add_measure")} == {"applied"}
    # the unchanged clauses of version 2 still carry their corrections; 第四条（四） is as the extractor read it
    after = measures_of(kb)
    assert PUBLICITY not in after and after[INSURANCE]["departments"] == ["应急管理局", "人民银行"] and ADDED in after
    export = export_kb(open_db(kb, readonly=True))
    [cond] = [c for c in export["conditions"] if c["document_id"] == DOC and c["path"] == ["第四条", "（四）"]]
    assert "corrected" not in cond and "attested" not in json.dumps(cond["predicate"])
    # version 1 keeps its correction
    [old] = [c for c in export["conditions"] if c["document_id"] == f"{DOC}@v1" and c["path"] == ["第四条", "（四）"]]
    assert old["corrected"]["by"] == "王芳"
    out = cli("correct", "--db", kb, "--list")
    assert out.exit_code == 0
    [line] = [x for x in out.output.splitlines() if "[stale]" in x]
    assert "第四条（四）" in line
    review = json.loads(cli("review", "--db", kb, "--json").output)
    assert review[0]["kind"] == "stale_correction" and review[0]["where"] == "第四条（四）"


def test_a_renumbered_clause_keeps_its_correction(kb, tmp_path):
    correct_four(kb)
    lines = WUXI.read_text(encoding="utf-8").splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("第五条"))
    end = next(i for i, x in enumerate(lines) if x.startswith("第六条"))
    nums = "一二三四五六七八九"
    items = [x for x in lines[start + 1:end]]
    renumbered = ["（一）对守信企业开通行政审批绿色通道。"] + [
        f"（{nums[k + 1]}）" + x.split("）", 1)[1] for k, x in enumerate(items)]
    revised = tmp_path / "wuxi_renumbered.txt"
    revised.write_text("\n".join([*lines[:start + 1], *renumbered, *lines[end:]]) + "\n", encoding="utf-8")
    [r] = ingest(kb, revised)
    assert r["version"] == 2
    status = {c["action"]: c for c in list_corrections(open_db(kb, readonly=True))}
    assert status["set_measure"]["status"] == "applied" and status["set_measure"]["now_at"] == "第五条（三）"
    assert "改号" in status["set_measure"]["status_note"]
    assert status["drop_measure"]["status"] == "applied"
    after = measures_of(kb)
    assert after[INSURANCE]["departments"] == ["应急管理局", "人民银行"] and PUBLICITY not in after
    assert after[INSURANCE]["path"] == ["第五条", "（三）"]


def test_a_reviewed_corrections_file(kb, tmp_path):
    f = tmp_path / "corrections.yaml"
    f.write_text(f"""\
by: 李明（复核）
document: {DOC}
corrections:
  - clause: 第五条（二）
    measure: 下调安全生产责任保险费率
    kind: other
    why: 费率调整不是联合激励
  - clause: 第四条（一）
    condition: 3年内未发生安全生产失信行为
    predicate: {{"not": {{"event": {{"type": "dishonest_act"}}, "within": {{"years": 2}}}}}}
    why: 原文件后来改为两年
  - clause: 第九十九条
    drop_measure: true
    why: 不存在的条款
  - clause: 第五条（一）
    kind: 好的
    why: 错误的类别
""", encoding="utf-8")
    out = cli("correct", "--db", kb, "--file", f, "--json")
    assert out.exit_code == 1
    report = json.loads(out.stdout)
    assert "entry 3" in out.stderr
    assert [c["status"] for c in report["corrections"]] == ["applied", "applied"]
    assert [e["entry"] for e in report["errors"]] == [3, 4]
    assert "第九十九条" in report["errors"][0]["error"] and "kind" in report["errors"][1]["error"]
    assert {c["by"] for c in report["corrections"]} == {"李明（复核）"}
    export = export_kb(open_db(kb, readonly=True))
    [m] = [m for m in export["measures"] if m["text"] == INSURANCE]
    assert m["kind"] == "other" and m["corrected"]["why"] == "费率调整不是联合激励"
    [c] = [c for c in export["conditions"] if c["path"] == ["第四条", "（一）"]]
    assert c["predicate"]["not"]["within"] == {"years": 2} and c["corrected"]["by"] == "李明（复核）"
    # applying the reviewed file again records nothing twice
    again = json.loads(cli("correct", "--db", kb, "--file", f, "--json").stdout)
    assert [c["recorded"] for c in again["corrections"]] == [False, False]
    assert len(list_corrections(open_db(kb, readonly=True))) == 2


@pytest.mark.parametrize("spec, by, why, message", [
    ({"clause": "第五条（二）", "kind": "incentive"}, None, "x", "by"),
    ({"clause": "第五条（二）", "kind": "incentive"}, "王芳", "", "why"),
    ({"clause": "第五条", "kind": "incentive"}, "王芳", "x", "没有可校正"),
    ({"clause": "第五条（二）"}, "王芳", "x", "nothing to correct"),
    ({"clause": "第四条（一）", "predicate": '{"colour": "red"}'}, "王芳", "x", "predicate"),
    ({"clause": "第四条（一）", "predicate": "{not json"}, "王芳", "x", "predicate"),
    ({"clause": "第四条（一）", "role": "boss"}, "王芳", "x", "role"),
    ({"clause": "第五条（二）", "measure": "不存在的措施", "kind": "penalty"}, "王芳", "x", "没有"),
])
def test_a_correction_that_cannot_be_recorded_says_why(kb, spec, by, why, message):
    with pytest.raises(CorrectionError, match=message):
        record(open_db(kb), DOC, spec, by, why)
    assert list_corrections(open_db(kb, readonly=True)) == []


def test_cli_refusals(kb):
    out = cli("correct", "--db", kb, DOC, "--clause", "第五条（二）", "--kind", "incentive", "--why", "x")
    assert out.exit_code == 2 and "--by" in out.output
    out = cli("correct", "--db", kb, "nosuchdoc", "--clause", "第五条（二）", "--kind", "incentive", "--by", "a",
              "--why", "x")
    assert out.exit_code == 2 and "nosuchdoc" in out.output
    out = cli("correct", "--db", kb, "--list")
    assert out.exit_code == 0 and "no corrections" in out.output
    # an item id from review works in place of a clause path
    m = measures_of(kb)[INSURANCE]
    out = cli("correct", "--db", kb, DOC, "--item", m["id"], "--kind", "other", "--by", "王芳", "--why", "x", "--json")
    assert out.exit_code == 0 and json.loads(out.output)["where"] == "第五条（二）"


def test_a_vanished_clause_and_a_measure_the_extractor_now_finds(kb, tmp_path):
    corr = record(open_db(kb), DOC, {"clause": "第六条（五）", "add_measure": "下调工伤保险费率。", "kind": "incentive"},
                  "王芳", "以为漏抽")
    assert corr["status"] == "obsolete" and "不再需要" in corr["status_note"]
    assert list(measures_of(kb)).count("下调工伤保险费率。") == 1
    correct_four(kb)
    revised = tmp_path / "wuxi_without_publicity.txt"
    revised.write_text("\n".join(x for x in WUXI.read_text(encoding="utf-8").splitlines()
                                 if PUBLICITY not in x) + "\n", encoding="utf-8")
    ingest(kb, revised)
    status = {c["action"]: c for c in list_corrections(open_db(kb, readonly=True))}
    assert status["drop_measure"]["status"] == "stale" and status["drop_measure"]["status_note"] == "第五条（四） 条款已删去"


def test_an_older_text_arriving_later_moves_the_status_version_up(tmp_path):
    text = WUXI.read_text(encoding="utf-8")
    new, old = tmp_path / "wuxi_2024.txt", tmp_path / "wuxi_2020.txt"
    new.write_text(text + "第九十条 本办法自2024年1月1日起施行。\n", encoding="utf-8")
    old.write_text(text.replace(PUBLICITY, "作为典型加以宣传。") + "第九十条 本办法自2020年1月1日起施行。\n",
                   encoding="utf-8")
    db = tmp_path / "kb.sqlite"
    [r] = ingest(db, new)
    record(open_db(db), r["document_id"], {"clause": "第五条（二）", "kind": "other"}, "王芳", "x")
    [o] = ingest(db, old)
    assert (o["document_id"], o["version"], o["current"]) == (r["document_id"], 1, False)
    [c] = list_corrections(open_db(db, readonly=True))
    assert (c["status"], c["status_version"]) == ("applied", 2)
    # the older version holds the clause too, so it carries the correction
    export = export_kb(open_db(db, readonly=True))
    kinds = {m["document_id"]: m["kind"] for m in export["measures"] if m["text"] == INSURANCE}
    assert kinds == {r["document_id"]: "other", f"{r['document_id']}@v1": "other"}


def test_chat_marks_a_corrected_measure(kb):
    from knowledge.dialogue import ask
    correct_four(kb)
    first = ask(kb, "我们在无锡，是构成重大危险源的危险化学品储存企业，近三年没有失信行为、行政处罚和亡人事故，能享受哪些激励？",
                None, DAY)
    asked = [q for q in first["question_details"] if q["field"] == "attested"]
    assert asked and first["questions"][-1] == asked[0]["question"]
    again = ask(kb, "是", first["session_id"], DAY)
    line = next(x for x in again["reply"].splitlines() if ADDED in x)
    assert "校正" in line
    assert any(c.get("corrected") for c in again["citations"] if ADDED in c["quote"])
