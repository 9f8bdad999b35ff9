"""Batch matching (knowledge/match.py, `xinyi match`): the compiled DuckDB rules decide exactly what the reference
evaluator decides, rule by rule and condition by condition, on samples that reach every predicate kind and every
window boundary; the command writes results, undetermined rows and one push list per department."""
from __future__ import annotations

import collections
import csv
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from knowledge import match
from knowledge.evaluate import evaluate
from knowledge.profile import validate_profile

sys.path.insert(0, str(Path(__file__).parent))
import match_profiles  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REALDOCS = ROOT.parent / "shared" / "realdocs" / "docs"
AS_OF = date(2026, 11, 22)
STATUS = {True: "met", False: "not_met", None: "unknown"}


def compiled_statuses(kb: dict, profiles: list[dict], as_of: date):
    import duckdb
    con = duckdb.connect()
    con.register("input", match.profiles_table((p["credit_code"], p) for p in profiles))
    run = match.run(kb, "input", as_of, con=con)
    cols = [d[0] for d in con.execute("SELECT * FROM statuses LIMIT 0").description]
    rows = {r[1]: dict(zip(cols, r)) for r in con.execute("SELECT * FROM statuses").fetchall()}
    return run.plan, rows


def disagreements(kb: dict, profiles: list[dict], as_of: date):
    """(profile, rule, compiled, reference) for every rule whose status or any condition's status differs."""
    plan, rows = compiled_statuses(kb, profiles, as_of)
    out, seen = [], collections.defaultdict(set)
    for p in profiles:
        reference = {r["rule_id"]: r for r in evaluate(kb, p, as_of)}
        row = rows[p["credit_code"]]
        for rule in plan.rules:
            ref = reference[rule["rule"]["id"]]
            columns = [c for _, c in [*rule["gates"], *rule["conditions"]]]
            got = (match.STATUS_NAMES[row[rule["column"]]], [STATUS[row[c]] for c in columns])
            want = (ref["status"], [c["status"] for c in ref["conditions"]])
            for c in columns:
                seen[c].add(STATUS[row[c]])
            if got != want:
                out.append((p["credit_code"], rule["rule"]["id"], got, want))
    assert len(reference) == len(plan.rules), "every rule of the KB is compiled"
    return out, seen


def test_match_equals_check_on_every_profile_of_a_seed_sample(kb):
    profiles = [validate_profile(p) for p in match_profiles.sample(kb, AS_OF, 2000, seed=11)]
    wrong, seen = disagreements(kb, profiles, AS_OF)
    assert not wrong, wrong[:5]
    # the sample reaches each condition's three values, so agreement is not agreement on "unknown" alone
    assert all(len(v) >= 2 for v in seen.values())
    assert sum(len(v) == 3 for v in seen.values()) >= 0.95 * len(seen)


def test_match_equals_check_on_the_window_edges_of_another_day(kb):
    """29 February and a year start: years_before moves the edge, the SQL must move with it."""
    for as_of in (date(2028, 2, 29), date(2027, 1, 1)):
        profiles = [validate_profile(p) for p in match_profiles.sample(kb, as_of, 400, seed=as_of.toordinal())]
        wrong, _ = disagreements(kb, profiles, as_of)
        assert not wrong, (as_of, wrong[:5])


@pytest.mark.skipif(not REALDOCS.is_dir(), reason="../shared/realdocs not present")
def test_match_equals_check_on_real_pages(tmp_path_factory):
    from knowledge.db import open_db
    from knowledge.ingest import ingest_paths
    from knowledge.queries import load_kb
    db = tmp_path_factory.mktemp("realmatch") / "kb.sqlite"
    assert not ingest_paths([REALDOCS], db)["errors"]
    real = load_kb(open_db(db, readonly=True), AS_OF)
    profiles = [validate_profile(p) for p in match_profiles.sample(real, AS_OF, 300, seed=5)]
    wrong, seen = disagreements(real, profiles, AS_OF)
    assert not wrong, wrong[:5]
    assert len(seen) > 40 and sum(len(v) >= 2 for v in seen.values()) >= 0.8 * len(seen)


def xinyi(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def matched(kb, kb_path, tmp_path_factory):
    folder = tmp_path_factory.mktemp("match")
    profiles = match_profiles.sample(kb, AS_OF, 300, seed=3)
    wuxi = {"credit_code": "91320281MA1W0000X1", "name": "无锡某危化品储存有限公司", "region": "江苏省无锡市江阴市",
            "industries": ["危险化学品储存"], "standardization_level": 2, "standardization_in_operation": True,
            "major_hazard_source": True, "public_commitment": True, "events": []}
    lines = [json.dumps(p, ensure_ascii=False) for p in [wuxi, *profiles]]
    lines.insert(5, "{not json")
    lines.insert(9, json.dumps({"credit_code": "X", "standardization_level": "二级"}, ensure_ascii=False))
    source = folder / "profiles.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = folder / "out"
    done = xinyi("match", "--db", str(kb_path), "--profiles", str(source), "--as-of", AS_OF.isoformat(),
                 "--out", str(out), "--json")
    return {"done": done, "out": out, "profiles": [wuxi, *profiles], "kb": kb}


def test_match_reports_bad_lines_by_number_and_goes_on(matched):
    done = matched["done"]
    assert done.returncode == 1
    assert "profiles.jsonl: line 6: skipped" in done.stderr
    assert "line 10: skipped — field 'standardization_level' must be one of 1, 2, 3" in done.stderr
    summary = json.loads(done.stdout)
    assert summary["profiles"] == len(matched["profiles"]) and summary["skipped_lines"] == 2


def test_match_writes_who_gets_what_as_the_reference_decides(matched):
    out, kb = matched["out"], matched["kb"]
    with open(out / "matched.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    got = {(r["enterprise"], r["rule_id"]) for r in rows}
    want = {(p["credit_code"], r["rule_id"]) for p in matched["profiles"] for r in evaluate(kb, p, AS_OF)
            if r["status"] == "applies"}
    assert got == want and got
    wuxi = [r for r in rows if r["enterprise"] == "91320281MA1W0000X1"]
    assert wuxi and all(r["document_id"].startswith("003_") and r["kind"] == "incentive" for r in wuxi)
    import duckdb
    undetermined = duckdb.sql(f"SELECT enterprise, rule_id, deciding_conditions FROM '{out / 'undetermined.parquet'}'")
    pending = {(e, r): d for e, r, d in undetermined.fetchall()}
    want_pending = {(p["credit_code"], r["rule_id"]): [c for c in r["conditions"] if c["status"] == "unknown"]
                    for p in matched["profiles"] for r in evaluate(kb, p, AS_OF) if r["status"] == "undetermined"}
    assert set(pending) == set(want_pending)
    assert all(len(d) == len(want_pending[k]) > 0 for k, d in pending.items())  # what to ask, never empty


def test_match_push_list_per_department_cites_the_clause(matched):
    out = matched["out"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    finance = out / "push" / "财政部门.csv"
    assert finance.exists() and summary["push_lists"]["财政部门"]["items"] > 0
    with open(finance, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert all("财政" in r["department"] for r in rows)
    assert any(r["enterprise"] == "91320281MA1W0000X1" and r["document_id"].startswith("003_") and r["clause"]
               for r in rows)
    with open(out / "measures.csv", encoding="utf-8") as f:
        measures = {r["measure_id"]: r for r in csv.DictReader(f)}
    assert all(measures[r["measure_id"]]["citation"].startswith("《") for r in rows)
    assert sum(v["items"] for v in summary["push_lists"].values()) >= summary["applies"]


def test_match_reads_parquet_profiles_and_refuses_a_wrong_column(kb, kb_path, tmp_path):
    import pyarrow.parquet as pq
    profiles = match_profiles.sample(kb, AS_OF, 200, seed=8)
    table = match.profiles_table((p["credit_code"], p) for p in profiles).drop(["key"])
    pq.write_table(table, tmp_path / "p.parquet")
    done = xinyi("match", "--db", str(kb_path), "--profiles", str(tmp_path / "p.parquet"), "--as-of", "2026-11-22",
                 "--out", str(tmp_path / "out"), "--json", "--no-csv")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    want = sum(r["status"] == "applies" for p in profiles for r in evaluate(kb, p, AS_OF))
    assert summary["profiles"] == 200 and summary["applies"] == want
    assert not list((tmp_path / "out").glob("*.csv"))
    import pyarrow as pa
    pq.write_table(pa.table({"credit_code": ["A"], "standardization_level": ["二级"]}), tmp_path / "bad.parquet")
    done = xinyi("match", "--db", str(kb_path), "--profiles", str(tmp_path / "bad.parquet"), "--out", str(tmp_path / "o2"))
    errors = [line for line in done.stderr.splitlines() if not line.startswith("xinyi: match:")]  # not progress
    assert done.returncode == 2 and len(errors) == 1 and "bad.parquet" in errors[0] and "standardization_level" in errors[0]
    assert not (tmp_path / "o2").exists()  # nothing half-written


def test_match_over_the_registry_records_push_items_feedback_follows(kb_path, tmp_path):
    """registry import → match --registry --record → the departments' open items (xinyi feedback --open)."""
    from knowledge.registry import Registry
    from knowledge.registry_import import check_character
    code = "91320281MA1W0009" + "1"
    code += check_character(code)
    firms = tmp_path / "firms.csv"
    firms.write_text("统一社会信用代码,企业名称,所在地区,所属行业,安全生产标准化等级,是否重大危险源,标准化持续运行\n"
                     f"{code},无锡某危险化学品储存有限公司,江苏省无锡市江阴市,危险化学品储存,二级,是,是\n", encoding="utf-8")
    reg = tmp_path / "kb.registry.sqlite"
    assert xinyi("registry", "import", str(firms), "--registry", str(reg)).returncode == 0
    done = xinyi("match", "--db", str(kb_path), "--registry", str(reg), "--record", "--as-of", "2026-11-22",
                 "--out", str(tmp_path / "out"), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    # the registry holds no events for it: its history is complete and empty, so the 无锡 incentives apply
    assert summary["profiles"] == 1 and summary["applies"] >= 1
    assert summary["recorded"]["pushed"] == sum(v["items"] for v in summary["push_lists"].values()) > 0
    with Registry(reg, create=False) as r:
        items = r.push_items(department="财政局", open_only=True)
    assert items and all(i["credit_code"] == code and i["due_on"] == "2026-12-22" for i in items)
    again = xinyi("match", "--db", str(kb_path), "--registry", str(reg), "--record", "--as-of", "2026-11-22",
                  "--out", str(tmp_path / "out"), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["recorded"]["pushed"] == 0  # pushed once, not twice
