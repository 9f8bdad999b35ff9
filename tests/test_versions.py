"""One document, many versions (issue 9, first step): validity dates, revisions recognised under another file
name, as_of picking the version in force, diff between versions, remove keeping the history."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from conftest import CORPUS, ROOT
from knowledge.check import check_profile
from knowledge.db import open_db
from knowledge.diff import document_diff
from knowledge.ingest import ingest_paths
from knowledge.queries import export_kb, load_kb
from knowledge.versions import find_matches, pick_version, validity_notes
from nlp.metadata import read_validity

SHARED = ROOT.parent / "shared"
LAWREF = SHARED / "lawref" / "docs"
REALDOCS = SHARED / "realdocs" / "docs"
BJ_2016 = LAWREF / "北京__北京市安全生产条例.txt"
BJ_2022 = LAWREF / "北京__北京市安全生产条例(2022-05-25).txt"
SD = sorted(REALDOCS.glob("i09_*2018*.txt")) + sorted(REALDOCS.glob("i10_*xiuding_xize*.txt"))
WUXI = CORPUS / "003_de71b19c54652fc1.txt"
XINYI = [sys.executable, "-c", "from api.cli import main; main()"]

needs_shared = pytest.mark.skipif(not (BJ_2016.exists() and BJ_2022.exists() and len(SD) == 2),
                                  reason="../shared revision pairs not here")


def run(*args):
    return subprocess.run([*XINYI, *map(str, args)], capture_output=True, text=True, cwd=ROOT)


def ingest(db: Path, *files: Path, replaces: str | None = None) -> list[dict]:
    report = ingest_paths(list(files), db, replaces=replaces)
    assert not report["errors"], report["errors"]
    return report["documents"]


def versions_of(db: Path) -> dict[str, list[dict]]:
    from knowledge.store import stored_versions
    return stored_versions(open_db(db, readonly=True))


# ---- validity ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, issued, want", [
    ("本办法自2024年5月20日起施行，有效期5年。", None, ("2024-05-20", "2029-05-20", False, 0)),
    ("本办法自印发之日起施行。", "2021-03-04", ("2021-03-04", None, False, 0)),
    ("本办法自202X年XX月XX日起执行。", "2021-03-04", (None, None, False, 1)),
    ("本办法自2019年1月1日起试行，有效期2年。", None, ("2019-01-01", "2021-01-01", True, 0)),
    ("红名单有效期为3年。本办法自2020年1月1日起施行。", None, ("2020-01-01", None, False, 0)),
])
def test_validity_from_the_text(text, issued, want):
    v = read_validity(text, "某市安全生产守信联合激励办法", issued, None)
    assert (v.effective_from, v.expires, v.trial, len(v.warnings)) == want


def test_trial_title_and_replaced_text():
    v = read_validity("本办法自2020年1月1日起施行，原《无锡市安全生产守信激励办法（试行）》同时废止。",
                      "无锡市安全生产守信激励办法（试行）", None, None)
    assert v.trial and v.replaces == []  # its own title is not something it replaces
    v = read_validity("本细则自2020年1月1日起施行，原《无锡市安全生产守信激励办法（试行）》同时废止。",
                      "无锡市安全生产守信激励细则", None, None)
    assert v.replaces == ["无锡市安全生产守信激励办法（试行）"]


def test_placeholder_date_is_unknown_with_a_warning_and_a_note():
    versions = [{"effective_from": None, "issued_on": None, "trial": 1, "validity_warnings": ["施行日期未写明"]}]
    assert validity_notes(versions, 0, date(2024, 1, 1)) == ["该文件为试行，施行日期未写明"]


def test_version_in_force():
    vs = [{"effective_from": "2011-09-01"}, {"effective_from": "2022-08-01"}]
    assert pick_version(vs, date(2020, 1, 1)) == 0
    assert pick_version(vs, date(2022, 8, 1)) == 1
    assert pick_version(vs, date(2001, 1, 1)) == 0  # before every version: the first, noted as not yet in force
    assert "尚未施行" in "".join(validity_notes(vs, 0, date(2001, 1, 1)))
    assert "由第2版取代" in "".join(validity_notes(vs, 0, date(2020, 1, 1)))
    undated = [{"issued_on": "2018-09-30"}, {}]  # an undated revision counts from its predecessor
    assert pick_version(undated, date(2018, 1, 1)) == 0
    assert pick_version(undated, date(2023, 1, 1)) == 1
    expired = [{"effective_from": "2019-01-01", "expires": "2021-01-01", "trial": 1}]
    assert validity_notes(expired, 0, date(2022, 1, 1)) == ["该文件为试行", "该文件已于2021-01-01到期"]


def test_two_equal_candidates_are_both_reported():
    stored = {"a": [{"title": "某市安全生产守信联合激励办法", "jurisdiction": "江苏省无锡市"}],
              "b": [{"title": "某市安全生产守信联合激励办法（试行）", "jurisdiction": "江苏省苏州市"}]}
    matches = find_matches({"title": "某市安全生产守信联合激励办法（2021年修订）", "jurisdiction": None}, stored)
    assert [m.document_id for m in matches] == ["a", "b"]
    assert not find_matches({"title": "北京市实施《水法》办法"}, {"x": [{"title": "北京市实施《气象法》办法"}]})


# ---- the 北京 条例: 2016 and 2022 --------------------------------------------------------------

@needs_shared
@pytest.mark.parametrize("order", [(BJ_2016, BJ_2022), (BJ_2022, BJ_2016)], ids=["2016-first", "2022-first"])
def test_beijing_2022_is_version_2_whichever_arrives_first(tmp_path, order):
    db = tmp_path / "kb.sqlite"
    ingest(db, order[0])
    second = ingest(db, order[1])[0]
    assert second["status"] == "updated" and second["matched_by"] == "title"
    [(doc_id, vs)] = versions_of(db).items()
    assert [v["source_file"] for v in vs] == [BJ_2016.name, BJ_2022.name]
    assert [v["effective_from"] for v in vs] == ["2011-09-01", "2022-08-01"]
    assert vs[0]["superseded_on"] == "2022-08-01" and vs[1]["superseded_on"] is None
    kb = export_kb(open_db(db, readonly=True))
    current = [d for d in kb["documents"] if d["id"] == doc_id]
    assert current[0]["version"] == 2 and current[0]["source_file"] == BJ_2022.name
    # every version's extraction stays in export, the earlier one as DOC@v1
    assert {d["source_file"] for d in kb["documents"]} == {BJ_2016.name, BJ_2022.name}
    assert any(c["document_id"] == f"{doc_id}@v1" for c in kb["clauses"])
    assert len({c["id"] for c in kb["clauses"]}) == len(kb["clauses"])
    # ingesting either file again changes nothing
    before = json.dumps(kb, ensure_ascii=False)
    assert {r["status"] for r in ingest(db, BJ_2016, BJ_2022)} == {"unchanged"}
    assert json.dumps(export_kb(open_db(db, readonly=True)), ensure_ascii=False) == before


@pytest.fixture(scope="module")
def beijing(tmp_path_factory) -> tuple[Path, str]:
    if not (BJ_2016.exists() and BJ_2022.exists()):
        pytest.skip("../shared not here")
    db = tmp_path_factory.mktemp("bj") / "kb.sqlite"
    ingest(db, BJ_2022, BJ_2016)
    [doc_id] = versions_of(db)
    return db, doc_id


@needs_shared
def test_beijing_diff_names_renumbered_added_and_removed_articles(beijing):
    db, doc_id = beijing
    d = document_diff(open_db(db, readonly=True), doc_id)
    assert (d["from"]["version"], d["to"]["version"]) == (1, 2)
    moved = {(r["old"]["where"], r["new"]["where"]) for r in d["clauses"]["renumbered"]}
    assert ("第十八条（一）", "第十五条（一）") in moved       # 安全生产教育和培训制度, word for word
    assert any(c["old"]["where"] == "第九十八条" and c["new"]["where"] == "第六十六条"  # 本条例自…起施行
               for c in d["clauses"]["changed"])
    assert d["clauses"]["added"] and d["clauses"]["removed"]
    assert all(c["old"]["text"] and c["new"]["text"] for c in d["clauses"]["changed"])
    assert "改号" in d["summary"] and "新增" in d["summary"] and "删去" in d["summary"]
    cli = run("diff", "--db", db, doc_id, "--from", "1", "--to", "2", "--json")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["summary"] == d["summary"]
    assert run("diff", "--db", db, doc_id, "--from", "7").returncode == 1


BEIJING = {"region": "北京市", "industries": ["危险化学品储存"], "events": []}


@needs_shared
@pytest.mark.parametrize("as_of, source, version", [("2020-01-01", BJ_2016.name, 1), ("2023-01-01", BJ_2022.name, 2)])
def test_beijing_as_of_answers_from_the_version_in_force(beijing, as_of, source, version):
    db, doc_id = beijing
    day = date.fromisoformat(as_of)
    kb = load_kb(open_db(db, readonly=True), day)
    assert kb["documents"][doc_id]["source_file"] == source
    assert all(c["document_id"] == doc_id for c in kb["clauses"].values())
    results = check_profile(db, BEIJING, day)["results"]
    assert results and {(r["source_file"], r["document_version"]) for r in results} == {(source, version)}
    cites = {m["citation"]["source_file"] for r in results for m in r["measures"]}
    assert cites == {source}
    if version == 1:
        assert "第1版自2022-08-01起由第2版取代" in results[0]["validity_notes"]
    out = run("check", "--db", db, "--profile", write_profile(db.parent, BEIJING), "--as-of", as_of)
    assert out.returncode == 0, out.stderr
    assert {r["document_version"] for r in json.loads(out.stdout)["results"]} == {version}


def write_profile(folder: Path, profile: dict) -> Path:
    p = folder / "profile.json"
    p.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    return p


# ---- the 山东 细则: 2018 and its revision --------------------------------------------------------

@needs_shared
@pytest.mark.parametrize("first", [0, 1], ids=["2018-first", "revision-first"])
def test_shandong_revision_is_version_2_whichever_arrives_first(tmp_path, first):
    db = tmp_path / "kb.sqlite"
    ingest(db, SD[first])
    ingest(db, SD[1 - first])
    [(doc_id, vs)] = versions_of(db).items()
    assert [v["source_file"] for v in vs] == [SD[0].name, SD[1].name]
    kb = load_kb(open_db(db, readonly=True), date(2023, 1, 1))
    assert kb["documents"][doc_id]["source_file"] == SD[1].name
    assert load_kb(open_db(db, readonly=True), date(2018, 1, 1))["documents"][doc_id]["source_file"] == SD[0].name
    d = document_diff(open_db(db, readonly=True), doc_id)
    assert d["summary"] != "无实质变化"


# ---- a revised 无锡 第四条: 二级 → 一级 ------------------------------------------------------------

LEVEL_2 = "（四）安全生产标准化等级达到二级及以上水平"
LEVEL_1 = "（四）安全生产标准化等级达到一级水平"


@pytest.fixture()
def wuxi_revised(tmp_path) -> tuple[Path, str]:
    text = WUXI.read_text(encoding="utf-8")
    assert LEVEL_2 in text
    db = tmp_path / "kb.sqlite"
    ingest(db, WUXI)
    revised = tmp_path / "wuxi_2024_revised.txt"
    revised.write_text(text.replace(LEVEL_2, LEVEL_1), encoding="utf-8")
    return db, revised


def test_wuxi_revision_is_version_2_and_its_diff_names_the_threshold(wuxi_revised):
    db, revised = wuxi_revised
    [r] = ingest(db, revised)
    assert (r["document_id"], r["version"], r["matched_by"]) == ("003_de71b19c54652fc1", 2, "title")
    [(doc_id, vs)] = versions_of(db).items()
    kb = export_kb(open_db(db, readonly=True))
    current = [m for m in kb["measures"] if m["document_id"] == doc_id]
    old = [m for m in kb["measures"] if m["document_id"] == f"{doc_id}@v1"]
    assert len(current) == len(old) > 0
    d = document_diff(open_db(db, readonly=True), doc_id)
    assert not d["measures"]["added"] and not d["measures"]["removed"]
    [changed] = d["conditions"]["changed"]
    assert changed["old"]["where"] == changed["new"]["where"] == "第四条（四）"
    assert changed["thresholds"][0]["direction"] == "提高"
    assert "第四条（四） 安全生产标准化等级门槛由二级提高到一级" in d["summary"]
    # a level-2 enterprise: the incentives applied under version 1, not under version 2
    wuxi = json.loads((ROOT / "examples" / "wuxi_hazchem.json").read_text(encoding="utf-8"))
    results = check_profile(db, wuxi, date(2026, 11, 22))["results"]
    assert {r["document_version"] for r in results} == {2}
    assert "applies" not in {r["status"] for r in results if r["kind"] == "incentive"}


def test_replaces_settles_a_doubtful_case(tmp_path):
    db = tmp_path / "kb.sqlite"
    ingest(db, WUXI)
    other = tmp_path / "renamed.txt"
    other.write_text(WUXI.read_text(encoding="utf-8").replace("守信联合激励", "守信激励", 1), encoding="utf-8")
    out = run("ingest", other, "--db", db, "--replaces", "003_de71b19c54652fc1")
    assert out.returncode == 0, out.stderr
    [r] = json.loads(out.stdout)["documents"]
    assert (r["document_id"], r["version"], r["matched_by"]) == ("003_de71b19c54652fc1", 2, "explicit")
    bad = run("ingest", other, "--db", db, "--replaces", "no_such_doc")
    assert bad.returncode == 1 and "no_such_doc" in bad.stderr


def test_ambiguous_match_is_reported_and_kept_new(tmp_path, monkeypatch):
    import knowledge.store as store
    from knowledge.versions import Match
    db = tmp_path / "kb.sqlite"
    ingest(db, CORPUS / "000_f2471d76c145893c.txt", CORPUS / "001_9ae7228be791c7b7.txt")
    monkeypatch.setattr(store, "find_matches", lambda new, stored, exclude=None: [
        Match("000_f2471d76c145893c", "title"), Match("001_9ae7228be791c7b7", "title")])
    [r] = ingest(db, WUXI)
    assert (r["status"], r["document_id"], r["version"]) == ("added", "003_de71b19c54652fc1", 1)
    assert r["ambiguous"] == ["000_f2471d76c145893c", "001_9ae7228be791c7b7"]


def test_ambiguity_is_said_on_stderr(tmp_path, monkeypatch):
    import knowledge.store as store
    from typer.testing import CliRunner
    from api.cli import app
    from knowledge.versions import Match
    db = tmp_path / "kb.sqlite"
    ingest(db, CORPUS / "000_f2471d76c145893c.txt", CORPUS / "001_9ae7228be791c7b7.txt")
    monkeypatch.setattr(store, "find_matches", lambda new, stored, exclude=None: [
        Match("000_f2471d76c145893c", "title"), Match("001_9ae7228be791c7b7", "title")])
    out = CliRunner().invoke(app, ["ingest", str(WUXI), "--db", str(db)])
    assert out.exit_code == 0
    assert "might revise 000_f2471d76c145893c or 001_9ae7228be791c7b7" in out.stderr
    assert "--replaces" in out.stderr


# ---- remove ----------------------------------------------------------------------------------

def test_remove_takes_a_document_out_of_answers_and_keeps_its_history(tmp_path):
    db = tmp_path / "kb.sqlite"
    ingest(db, CORPUS)
    doc_id = "003_de71b19c54652fc1"
    wuxi = json.loads((ROOT / "examples" / "wuxi_hazchem.json").read_text(encoding="utf-8"))
    assert any(r["document_id"] == doc_id for r in check_profile(db, wuxi, date(2026, 11, 22))["results"])
    out = run("remove", "--db", db, doc_id, "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["changed"] is True
    assert not any(r["document_id"] == doc_id for r in check_profile(db, wuxi, date(2026, 11, 22))["results"])
    kb = export_kb(open_db(db, readonly=True))
    [doc] = [d for d in kb["documents"] if d["id"] == doc_id]
    assert doc["retired_at"]
    assert any(m["document_id"] == doc_id for m in kb["measures"])  # its rows, for audit
    assert doc_id not in load_kb(open_db(db, readonly=True))["documents"]
    dbh = open_db(db, readonly=True)
    assert dbh.execute("SELECT count(*) FROM clause_search WHERE document_id = ?", [doc_id]).fetchone()[0] == 0
    assert dbh.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    [r] = ingest(db, WUXI)
    assert r["status"] == "unchanged" and r["retired"]
    assert run("remove", "--db", db, "nothing_here").returncode == 1


def test_seeds_twice_export_byte_identical(tmp_path):
    db = tmp_path / "kb.sqlite"
    ingest(db, CORPUS)
    first = run("export", "--db", db).stdout
    ingest(db, CORPUS)
    assert run("export", "--db", db).stdout == first
    copy = tmp_path / "again"
    shutil.copytree(CORPUS, copy)
    assert {r["status"] for r in ingest(db, copy)} == {"unchanged"}
    assert run("export", "--db", db).stdout == first


# ---- the API ---------------------------------------------------------------------------------

def test_api_versions_diff_and_as_of(wuxi_revised):
    from fastapi.testclient import TestClient
    from api.app import Settings, create_app
    db, revised = wuxi_revised
    ingest(db, revised)
    client = TestClient(create_app(Settings(db_path=db)))
    doc_id = "003_de71b19c54652fc1"
    vs = client.get(f"/v1/documents/{doc_id}/versions")
    assert vs.status_code == 200 and [v["version"] for v in vs.json()] == [1, 2]
    d = client.get(f"/v1/documents/{doc_id}/diff", params={"from": 1, "to": 2})
    assert d.status_code == 200 and "门槛由二级提高到一级" in d.json()["summary"]
    assert client.get(f"/v1/documents/{doc_id}/diff", params={"from": 5}).status_code == 404
    assert client.get("/v1/documents/nothing/diff").status_code == 404
    old = client.get(f"/v1/documents/{doc_id}", params={"version": 1})
    assert old.status_code == 200 and old.json()["version"] == 1
    assert any("二级" in c["text"] for c in old.json()["conditions"])
    wuxi = json.loads((ROOT / "examples" / "wuxi_hazchem.json").read_text(encoding="utf-8"))
    r = client.post("/v1/check", json={"profile": wuxi, "as_of": "2026-11-22"})
    assert r.status_code == 200 and {x["document_version"] for x in r.json()["results"]} == {2}


@needs_shared
def test_cached_kb_as_of_for_chat(beijing):
    from knowledge.queries import cached_kb
    db, doc_id = beijing
    assert cached_kb(db, date(2020, 1, 1))["documents"][doc_id]["version"] == 1
    assert cached_kb(db, date(2023, 1, 1))["documents"][doc_id]["version"] == 2
    assert cached_kb(db)["documents"][doc_id]["version"] == 2  # without as_of: the current versions, as before
