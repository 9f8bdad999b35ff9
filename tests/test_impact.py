"""xinyi impact: which enterprises' results change between two versions of a document, and how — over a profile
file (CSV or JSONL); a revised 无锡 第四条 (二级 → 一级) takes the incentives from a level-2 enterprise."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from conftest import CORPUS, ROOT
from knowledge.db import open_db
from knowledge.impact import ImpactError, impact, read_profiles
from knowledge.ingest import ingest_paths

WUXI = CORPUS / "003_de71b19c54652fc1.txt"
DOC = "003_de71b19c54652fc1"
LEVEL_2 = "（四）安全生产标准化等级达到二级及以上水平"
LEVEL_1 = "（四）安全生产标准化等级达到一级水平"
DAY = date(2026, 11, 22)
CSV = """name,region,industries,employees,major_hazard_source,standardization_level,standardization_in_operation,events,notes
二级储存公司,江苏省无锡市江阴市,危险化学品储存,60,true,2,true,[],
一级储存公司,江苏省无锡市,危险化学品储存,80,是,一级,true,[],旗舰
人数写错的公司,江苏省无锡市,危险化学品储存,六十,true,2,true,[],
等级不明的公司,江苏省无锡市,危险化学品储存,60,true,,true,[],
大连公司,辽宁省大连市,危险化学品储存,60,true,2,true,[],
"""


@pytest.fixture(scope="module")
def revised_kb(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("impact")
    revised = tmp / "wuxi_2024_revised.txt"
    revised.write_text(WUXI.read_text(encoding="utf-8").replace(LEVEL_2, LEVEL_1), encoding="utf-8")
    db = tmp / "kb.sqlite"
    report = ingest_paths([WUXI, revised], db)
    assert not report["errors"] and report["documents"][1]["version"] == 2
    (tmp / "firms.csv").write_text(CSV, encoding="utf-8")
    wuxi = json.loads((ROOT / "examples" / "wuxi_hazchem.json").read_text(encoding="utf-8"))
    (tmp / "firms.jsonl").write_text("\n".join([json.dumps(wuxi, ensure_ascii=False), "{not json",
                                                json.dumps({**wuxi, "standardization_level": 1}, ensure_ascii=False),
                                                json.dumps({**wuxi, "employees": -3})]) + "\n", encoding="utf-8")
    return db


def test_a_level_2_enterprise_loses_the_incentives_when_the_threshold_rises(revised_kb):
    rows, errors, warnings = read_profiles(revised_kb.parent / "firms.csv")
    assert [line for line, _ in rows] == [2, 3, 5, 6]
    assert errors == [{"line": 4, "error": "column 'employees' must be a non-negative integer, got '六十'"}]
    assert warnings and "notes" in warnings[0]
    assert rows[1][1]["standardization_level"] == 1 and rows[1][1]["major_hazard_source"] is True
    assert "standardization_level" not in rows[2][1]  # an empty cell is unknown, not zero
    out = impact(open_db(revised_kb, readonly=True), DOC, rows, None, None, DAY)
    assert (out["from"]["version"], out["to"]["version"], out["profiles"], out["unchanged"]) == (1, 2, 4, 3)
    [c] = out["changed"]
    assert (c["line"], c["name"]) == (2, "二级储存公司")
    assert not c["gains"] and len(c["loses"]) == 12 and {m["kind"] for m in c["loses"]} == {"incentive"}
    assert {m["old"] for m in c["loses"]} == {"applies"}
    assert {m["where"] for m in c["loses"]} >= {"第五条（一）", "第六条（八）"}
    [d] = c["decided_by"]
    assert d["where"] == "第四条（四）" and d["old"]["status"] == "met" and d["new"]["status"] != "met"
    assert "一级" in d["new"]["text"] and "二级" in d["old"]["text"]
    assert c["summary"].startswith("不再享有 12 项激励措施") and "第四条（四）" in c["summary"]


def test_back_from_2_to_1_the_same_enterprise_gains_them(revised_kb):
    rows, _, _ = read_profiles(revised_kb.parent / "firms.csv")
    out = impact(open_db(revised_kb, readonly=True), DOC, rows, 2, 1, DAY)
    [c] = out["changed"]
    assert c["name"] == "二级储存公司" and len(c["gains"]) == 12 and not c["loses"]


def test_jsonl_profiles_and_bad_lines(revised_kb):
    rows, errors, _ = read_profiles(revised_kb.parent / "firms.jsonl")
    assert [line for line, _ in rows] == [1, 3]
    assert [e["line"] for e in errors] == [2, 4] and "employees" in errors[1]["error"]
    out = impact(open_db(revised_kb, readonly=True), DOC, rows, None, None, DAY)
    assert [c["line"] for c in out["changed"]] == [1]


def test_unknown_version_or_document(revised_kb):
    with pytest.raises(ImpactError, match="no version 3"):
        impact(open_db(revised_kb, readonly=True), DOC, [], 1, 3, DAY)
    with pytest.raises(ImpactError, match="no document"):
        impact(open_db(revised_kb, readonly=True), "nosuch", [], None, None, DAY)


def test_cli(revised_kb):
    f = revised_kb.parent / "firms.csv"
    out = CliRunner().invoke(app, ["impact", DOC, "--db", str(revised_kb), "--profiles", str(f),
                                   "--as-of", "2026-11-22"])
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    assert lines[0] == f"{DOC}: 第1版 → 第2版，4 家企业，1 家结果有变化，3 家不变"
    assert lines[1].startswith("第2行 二级储存公司：不再享有 12 项激励措施")
    assert "line 4" in out.stderr and "skipped" in out.stderr
    data = json.loads(CliRunner().invoke(app, ["impact", DOC, "--db", str(revised_kb), "--profiles", str(f),
                                               "--as-of", "2026-11-22", "--json"]).stdout)
    assert data["errors"][0]["line"] == 4 and len(data["changed"]) == 1
    out = CliRunner().invoke(app, ["impact", DOC, "--db", str(revised_kb), "--profiles", "nosuch.csv"])
    assert out.exit_code == 1 and "no such file" in out.output
