"""The enterprise registry: import from CSV (Chinese headers, GBK), JSONL and Parquet; bad rows reported by line and
skipped; nothing half-imported; events appended, never edited; show; the profiles the batch matcher reads."""
from __future__ import annotations

import json
import sqlite3
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from api.cli import app
from knowledge.queries import cached_kb
from knowledge.registry import (Registry, RegistryError, enterprise_profile, registry_profiles, resolve_path,
                                stored_facts)
from knowledge.registry_import import check_character, credit_code_problem
from nlp.profile_schema import event_fields

DAY = date(2026, 11, 22)


def code(body: str) -> str:
    """A valid 统一社会信用代码 from its first 17 characters."""
    return body + check_character(body)


WUXI = code("91320281MA1W0001" + "1")
SECOND = code("91320281MA1W0002" + "1")
LEVEL4 = code("91320281MA1W0004" + "1")
BAD_CHECK = WUXI[:-1] + ("0" if WUXI[-1] != "0" else "1")


def cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def reg_path(tmp_path):
    return tmp_path / "firms.registry.sqlite"


def write_gbk_csv(path):
    rows = [["统一社会信用代码", "企业名称", "所在地区", "所属行业", "安全生产标准化等级", "职工人数", "是否重大危险源",
             "标准化持续运行", "备注"],
            [WUXI, "无锡某危险化学品储存有限公司", "江苏省无锡市江阴市", "危险化学品储存", "二级", "60人", "是", "是", "老客户"],
            [SECOND, "无锡第二化工有限公司", "江苏省无锡市", "危险化学品储存；化工", "3", "120", "否", "", ""],
            [BAD_CHECK, "校验位错误公司", "江苏省无锡市", "化工", "二级", "10", "是", "是", ""],
            [LEVEL4, "四级公司", "江苏省无锡市", "化工", "四级", "10", "是", "是", ""]]
    text = "\n".join(",".join(r) for r in rows) + "\n"
    path.write_bytes(text.encode("gbk"))
    return path


# ---- credit codes ---------------------------------------------------------------------------------

def test_credit_code_check_digit_per_gb32100():
    for real in ("91350100M000100Y43", "91440300708461136T"):  # printed on real business licences
        assert credit_code_problem(real) is None
    assert "expected 3" in credit_code_problem("91350100M000100Y44")
    assert "17 characters" in credit_code_problem("91350100M000100Y4")
    assert "cannot appear" in credit_code_problem("91350100M000100IO3")
    assert "region code" in credit_code_problem(code("91AB0100M00010" + "0Y4"))


# ---- import -------------------------------------------------------------------------------------

def test_gbk_csv_with_chinese_headers(tmp_path, reg_path):
    f = write_gbk_csv(tmp_path / "企业名录.csv")
    out = cli("registry", "import", f, "--registry", reg_path)
    assert out.exit_code == 1, out.output  # rows were skipped
    assert out.stdout.strip() == "企业名录.csv: imported 2 (2 new, 0 updated), skipped 2"
    assert f"line 4: 统一社会信用代码 '{BAD_CHECK}': check character is {BAD_CHECK[-1]}, expected {WUXI[-1]}" \
           in out.stderr
    assert "line 5: 安全生产标准化等级 (standardization_level) '四级': expected 一级, 二级 or 三级 (skipped)" in out.stderr
    assert "columns not read" in out.stderr and "备注" in out.stderr
    with Registry(reg_path) as reg:
        assert enterprise_profile(reg, WUXI) == {
            "credit_code": WUXI, "name": "无锡某危险化学品储存有限公司", "region": "江苏省无锡市江阴市",
            "industries": ["危险化学品储存"], "employees": 60, "standardization_level": 2,
            "standardization_in_operation": True, "major_hazard_source": True, "events": []}
        second = enterprise_profile(reg, SECOND)
        assert second["industries"] == ["危险化学品储存", "化工"] and second["standardization_level"] == 3
        assert second["major_hazard_source"] is False and "standardization_in_operation" not in second  # empty: unknown
        # a refused row leaves nothing behind, not even its good cells
        assert reg.enterprise_row(LEVEL4) is None and reg.enterprise_row(BAD_CHECK) is None
        assert reg.count_enterprises() == 2


def test_utf8_csv_with_map_and_reimport_upserts(tmp_path, reg_path):
    f = tmp_path / "firms.csv"
    f.write_text(f"信用代码,单位,地址,行业,从业人员,标准化等级\n{WUXI},无锡某公司,江苏省无锡市,\"危险化学品储存，化工\","
                 "一百二十,二级\n", encoding="utf-8-sig")
    out = cli("registry", "import", f, "--registry", reg_path, "--map", "单位=name", "--json")
    assert out.exit_code == 0, out.output
    summary = json.loads(out.stdout)
    assert (summary["imported"], summary["inserted"], summary["skipped"]) == (1, 1, 0)
    with Registry(reg_path) as reg:
        p = enterprise_profile(reg, WUXI)
    assert (p["name"], p["region"], p["employees"], p["industries"]) == \
        ("无锡某公司", "江苏省无锡市", 120, ["危险化学品储存", "化工"])
    again = tmp_path / "levels.csv"
    again.write_text(f"统一社会信用代码,安全生产标准化等级,是否重大危险源\n{WUXI.lower()},一级,是\n", encoding="utf-8")
    out = cli("registry", "import", again, "--registry", reg_path)
    assert out.exit_code == 0 and "imported 1 (0 new, 1 updated), skipped 0" in out.stdout
    with Registry(reg_path) as reg:
        p = enterprise_profile(reg, WUXI)
        assert reg.enterprise_row(WUXI)["source"] == "levels.csv"
    assert (p["standardization_level"], p["major_hazard_source"], p["name"], p["employees"]) == \
        (1, True, "无锡某公司", 120)  # facts the second file does not hold are kept


def test_jsonl(tmp_path, reg_path):
    f = tmp_path / "firms.jsonl"
    lines = [json.dumps({"credit_code": WUXI, "name": "无锡某公司", "region": "江苏省无锡市", "employees": 60,
                         "major_hazard_source": True, "standardization_level": 2}, ensure_ascii=False),
             "",
             '{"credit_code": "not json',
             json.dumps({"统一社会信用代码": SECOND, "企业名称": "第二", "从业人数": -3}, ensure_ascii=False),
             json.dumps({"企业名称": "无代码公司"}, ensure_ascii=False),
             json.dumps({"统一社会信用代码": WUXI, "企业名称": "重复"}, ensure_ascii=False)]
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = cli("registry", "import", f, "--registry", reg_path, "--json")
    assert out.exit_code == 1
    summary = json.loads(out.stdout)
    assert summary["imported"] == 1
    errors = {e["line"]: e["error"] for e in summary["errors"]}
    assert set(errors) == {3, 4, 5, 6}
    assert errors[3].startswith("not valid JSON")
    assert errors[4] == "从业人数 (employees) -3: expected a non-negative whole number"
    assert errors[5] == "no 统一社会信用代码 (credit_code)"
    assert "again (first at line 1)" in errors[6]
    assert "line 4: 从业人数 (employees) -3" in out.stderr
    with Registry(reg_path) as reg:
        assert enterprise_profile(reg, WUXI)["name"] == "无锡某公司"
        assert reg.enterprise_row(SECOND) is None


def test_parquet(tmp_path, reg_path):
    f = tmp_path / "firms.parquet"
    pq.write_table(pa.table({
        "统一社会信用代码": [WUXI, None, SECOND],
        "企业名称": ["无锡某公司", "无代码", "第二"],
        "所属行业": [["危险化学品储存"], ["化工"], ["化工", "钢铁冶金"]],
        "从业人员": [60, 5, 300],
        "是否重大危险源": [True, False, None],
    }), f)
    out = cli("registry", "import", f, "--registry", reg_path)
    assert out.exit_code == 1
    assert "imported 2 (2 new, 0 updated), skipped 1" in out.stdout
    assert "row 2: no 统一社会信用代码 (credit_code) (skipped)" in out.stderr
    with Registry(reg_path) as reg:
        assert enterprise_profile(reg, WUXI)["industries"] == ["危险化学品储存"]
        third = enterprise_profile(reg, SECOND)
    assert third["industries"] == ["化工", "钢铁冶金"] and third["employees"] == 300
    assert "major_hazard_source" not in third


def test_nothing_half_imported(reg_path):
    """The good rows go in one transaction: a failure on the second leaves the first unwritten too."""
    with Registry(reg_path) as reg:
        with pytest.raises(sqlite3.Error):
            reg.upsert_enterprises([{"credit_code": WUXI, "name": "第一"},
                                    {"credit_code": SECOND, "name": object()}])  # cannot be stored
        assert reg.enterprise_row(WUXI) is None and reg.count_enterprises() == 0


def test_file_and_usage_errors(tmp_path, reg_path, kb_path):
    f = tmp_path / "nocode.csv"
    f.write_text("企业名称,所在地\n某公司,无锡\n", encoding="utf-8")
    out = cli("registry", "import", f, "--registry", reg_path)
    assert out.exit_code == 1 and "no column for 统一社会信用代码" in out.stderr and "--map" in out.stderr
    assert cli("registry", "import", f, "--registry", reg_path, "--map", "企业名称").exit_code == 2
    out = cli("registry", "import", f, "--registry", reg_path, "--map", "企业名称=company")
    assert out.exit_code == 2 and "not a profile key" in out.stderr
    assert cli("registry", "import", tmp_path / "missing.csv", "--registry", reg_path).exit_code == 2
    (tmp_path / "firms.xlsx").write_bytes(b"PK")
    out = cli("registry", "import", tmp_path / "firms.xlsx", "--registry", reg_path)
    assert out.exit_code == 1 and "expected .csv, .jsonl or .parquet" in out.stderr
    out = cli("registry", "import", f)
    assert out.exit_code == 2 and "--registry" in out.stderr
    with pytest.raises(RegistryError, match="knowledge base itself"):
        resolve_path(kb_path, kb_path)
    out = cli("registry", "import", f, "--registry", kb_path)  # the KB is never taken for a registry
    assert out.exit_code == 1 and "not an enterprise registry" in out.stderr


def test_default_path_beside_the_kb(tmp_path):
    kb = tmp_path / "xinyi.sqlite"
    assert resolve_path(kb) == tmp_path / "xinyi.registry.sqlite"


def test_columns_follow_the_profile_declaration(reg_path):
    with Registry(reg_path) as reg:
        enterprise_cols = {c.name for c in reg.db["enterprises"].columns}
        event_cols = {c.name for c in reg.db["events"].columns}
        assert reg.db.journal_mode == "wal"
        assert reg.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert set(stored_facts()) <= enterprise_cols and "events" not in enterprise_cols
    assert set(event_fields()) <= event_cols


# ---- events and show ----------------------------------------------------------------------------

@pytest.fixture
def imported(tmp_path, reg_path):
    cli("registry", "import", write_gbk_csv(tmp_path / "firms.csv"), "--registry", reg_path)
    return reg_path


def test_events_appended_never_edited(imported, kb_path):
    kb = cached_kb(kb_path, DAY)
    with Registry(imported) as reg:
        first = reg.record_event(WUXI, {"type": "accident", "date": "2026-05-01", "fatalities": 1}, kb, DAY, by="王芳")
        reg.record_event(WUXI, {"type": "administrative_penalty", "date": "2026-06-01",
                                "authority": "应急管理部门"}, kb, DAY, note="罚款")
        events = reg.events_of(WUXI)
        assert [(e["type"], e["date"], e["recorded_by"], e["note"]) for e in events] == [
            ("accident", "2026-05-01", "王芳", None), ("administrative_penalty", "2026-06-01", None, "罚款")]
        assert enterprise_profile(reg, WUXI)["events"] == [
            {"type": "accident", "date": "2026-05-01", "fatalities": 1},
            {"type": "administrative_penalty", "date": "2026-06-01", "authority": "应急管理部门"}]
        with pytest.raises(sqlite3.IntegrityError, match="appended, never edited"):
            reg.db.execute("UPDATE events SET fatalities = 0 WHERE id = ?", [first["event"]["id"]])
        with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
            reg.db.execute("DELETE FROM events")
        assert enterprise_profile(reg, SECOND)["events"] == []


def test_event_cli_validates_with_profile_rules(imported, kb_path):
    base = ["registry", "event", WUXI, "--db", kb_path, "--registry", imported, "--as-of", "2026-11-22"]
    out = cli(*base, "--type", "accident", "--date", "2026-05-01", "--fatalities", "-1")
    assert out.exit_code == 2 and out.stderr.strip() == "xinyi: --fatalities: must be a non-negative integer"
    out = cli(*base, "--type", "flood", "--date", "2026-05-01")
    assert out.exit_code == 2 and "--type: must be one of accident" in out.stderr
    out = cli(*base, "--type", "accident", "--date", "2026-05-01", "--severity", "小")
    assert out.exit_code == 2 and "--severity: must be one of 一般, 较大, 重大, 特别重大" in out.stderr
    out = cli(*base, "--type", "accident")
    assert out.exit_code == 2 and "needs its date" in out.stderr
    out = cli(*base, "--type", "accident", "--date", "2026-12-01")
    assert out.exit_code == 2 and "after the day it is judged on (2026-11-22)" in out.stderr
    out = cli("registry", "event", LEVEL4, "--db", kb_path, "--registry", imported, "--type", "accident",
              "--date", "2026-05-01")
    assert out.exit_code == 1 and "import it first" in out.stderr
    out = cli(*base, "--type", "dishonest_act", "--date", "2026-07-01", "--subject", "主要负责人", "--by", "李")
    assert out.exit_code == 0, out.output
    assert "已记录事件 #1" in out.stdout and "安全生产失信行为（行为主体 主要负责人）" in out.stdout
    with Registry(imported) as reg:
        assert reg.events_of(WUXI)[0]["subject"] == "principal"  # the label is stored as its value


def test_show(imported, kb_path):
    out = cli("registry", "show", SECOND, "--registry", imported)
    assert out.exit_code == 0
    assert out.stdout.splitlines()[0] == f"{SECOND} 无锡第二化工有限公司"
    assert "  所属行业：危险化学品储存、化工" in out.stdout and "  安全生产标准化等级：三级" in out.stdout
    assert "  是否构成重大危险源：否" in out.stdout
    assert "事件：无记录" in out.stdout
    cli("registry", "event", SECOND, "--db", kb_path, "--registry", imported, "--as-of", "2026-11-22",
        "--type", "accident", "--date", "2026-03-02", "--fatalities", "1", "--severity", "一般", "--responsible",
        "--by", "王芳")
    out = cli("registry", "show", SECOND, "--registry", imported)
    assert "事件（1 件）：" in out.stdout
    assert "#1 2026-03-02 生产安全事故（死亡人数 1，事故等级 一般，是否为责任事故 是） — 王芳" in out.stdout
    data = json.loads(cli("registry", "show", SECOND.lower(), "--registry", imported, "--json").stdout)
    assert data["profile"]["events"] == [{"type": "accident", "date": "2026-03-02", "fatalities": 1,
                                          "severity": "一般", "responsible": True}]
    assert data["events"][0]["recorded_by"] == "王芳" and data["name"] == "无锡第二化工有限公司"
    out = cli("registry", "show", LEVEL4, "--registry", imported)
    assert out.exit_code == 1 and "no enterprise" in out.stderr
    out = cli("registry", "show", WUXI, "--registry", imported.parent / "none.sqlite")
    assert out.exit_code == 1 and "no registry here" in out.stderr


def test_registry_profiles_stream_in_code_order(imported, kb_path):
    kb = cached_kb(kb_path, DAY)
    with Registry(imported) as reg:
        reg.record_event(SECOND, {"type": "blacklisted", "date": "2026-01-05"}, kb, DAY)
        reg.record_event(SECOND, {"type": "credit_repaired", "date": "2026-09-01"}, kb, DAY)
    got = list(registry_profiles(imported))
    assert [c for c, _ in got] == sorted([WUXI, SECOND])
    profiles = dict(got)
    assert profiles[WUXI]["events"] == [] and profiles[WUXI]["employees"] == 60
    assert [e["type"] for e in profiles[SECOND]["events"]] == ["blacklisted", "credit_repaired"]
    with Registry(imported) as reg:
        assert profiles[SECOND] == enterprise_profile(reg, SECOND)
    with pytest.raises(RegistryError, match="no registry here"):
        list(registry_profiles(imported.parent / "none.sqlite"))


def test_a_kb_given_as_registry_is_left_untouched(kb_path):
    before = kb_path.read_bytes()
    with pytest.raises(RegistryError, match="not an enterprise registry"):
        Registry(kb_path)
    assert kb_path.read_bytes() == before
    assert sqlite3.connect(kb_path).execute("PRAGMA journal_mode").fetchone()[0] != "wal"
