"""Batch matching at scale: `xinyi match` over generated profiles, beside the per-profile Python loop and a
hand-written DuckDB query for three rules over the same Parquet (the yardstick the compiler is held to).

    .venv/bin/python bench/match_speed.py [--profiles 1000000]

Figures: match of N profiles × every rule of the seeds (end to end: `xinyi match` in its own process, Parquet
and CSV written; peak RSS of that process), its rate against the Python loop (knowledge.evaluate over 2,000 of
the same profiles), and match restricted to three rules against bench/match_yardstick.sql on the same file
(min of 3 runs each, in one process, so both see the same machine). The yardstick's and the compiler's verdicts
for those rules are compared row by row before any time is reported.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AS_OF = date(2026, 11, 22)
YARDSTICK_RULES = ("004_c1031d100ed34c3a-r005", "001_9ae7228be791c7b7-r006", "002_eeefe34df8205f46-r004")
REGIONS = ["江苏省无锡市江阴市", "江苏省无锡市", "江苏省无锡市宜兴市", "辽宁省营口市", "辽宁省营口市鲅鱼圈区",
           "辽宁省大连市庄河市", "辽宁省大连市", "内蒙古自治区呼伦贝尔市陈巴尔虎旗", "安徽省淮南市", "安徽省淮南市潘集区",
           "浙江省湖州市安吉县", "北京市朝阳区", "广东省深圳市南山区", "四川省成都市"]
INDUSTRIES = ["危险化学品储存", "危险化学品经营", "化工", "钢铁冶金", "铝加工", "木质粉尘", "金属粉尘", "建筑施工",
              "餐饮", "煤矿"]
EVENTS = ["accident", "administrative_penalty", "dishonest_act", "refused_order", "blacklisted", "credit_repaired",
          "other_violation", "overdue_hidden_danger"]
TARGETS = {"match_1m_s": 60.0, "match_vs_python_loop": 100.0, "match_vs_yardstick": 2.0}


def sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v + "'" for v in values) + "]"


def pick(values: list[str], *salt: int) -> str:
    return f"{sql_list(values)}[1 + CAST(hash(i, {', '.join(map(str, salt))}) % {len(values)} AS INTEGER)]"


def generate(path: Path, n: int) -> None:
    """n profiles as Parquet: regions in and out of the seeds' places, facts now and then unknown, 0–3 events
    over six years (one history in ten unknown), deterministic in n."""
    import duckdb
    flag = lambda salt, pct: f"CASE WHEN hash(i, {salt}) % 10 = 0 THEN NULL ELSE hash(i, {salt}, 1) % 100 < {pct} END"
    event = (f"{{'type': {pick(EVENTS, 20).replace('hash(i, 20)', 'hash(i, j, 20)')}, "
             "'date': DATE '2020-06-01' + CAST(hash(i, j, 21) % 2400 AS INTEGER), "
             "'fatalities': CAST(hash(i, j, 22) % 3 AS BIGINT), "
             "'severity': ['一般', '较大', '重大'][1 + CAST(hash(i, j, 23) % 3 AS INTEGER)], "
             "'responsible': hash(i, j, 24) % 4 > 0, 'major': hash(i, j, 25) % 5 = 0, "
             "'authority': ['应急管理局', '市场监督管理局', '安全监管监察部门'][1 + CAST(hash(i, j, 26) % 3 AS INTEGER)]}")
    query = f"""
        SELECT printf('91%016d', i) AS credit_code, '企业' || i AS name, {pick(REGIONS, 1)} AS region,
               CASE WHEN hash(i, 2) % 10 = 0 THEN NULL ELSE [{pick(INDUSTRIES, 3)}] END AS industries,
               CAST(5 + hash(i, 4) % 500 AS BIGINT) AS employees,
               CASE WHEN hash(i, 5) % 5 = 0 THEN NULL ELSE CAST(1 + hash(i, 5, 1) % 3 AS BIGINT) END AS standardization_level,
               {flag(6, 70)} AS standardization_in_operation, {flag(7, 50)} AS major_hazard_source,
               {flag(8, 60)} AS public_commitment, {flag(9, 10)} AS credit_model_enterprise,
               {flag(10, 20)} AS key_hazardous_process,
               CASE WHEN hash(i, 11) % 10 = 0 THEN NULL
                    ELSE list_transform(range(CAST(hash(i, 12) % 4 AS BIGINT)), lambda j: {event}) END AS events
        FROM range({n}) t(i)"""
    duckdb.sql(f"COPY ({query}) TO '{path}' (FORMAT parquet)")


def python_rows(path: Path, limit: int) -> list[dict]:
    """The first `limit` profiles of the Parquet file as contract profiles (for the Python loop)."""
    import duckdb
    rel = duckdb.sql(f"SELECT * FROM '{path}' LIMIT {limit}")
    cols = rel.columns
    out = []
    for row in rel.fetchall():
        p = {k: v for k, v in zip(cols, row) if v is not None}
        if "events" in p:
            p["events"] = [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in e.items() if v is not None}
                           for e in p["events"]]
        out.append(p)
    return out


def match_process(db: Path, profiles: Path, out: Path) -> tuple[float, float, dict]:
    """Seconds and peak RSS (MB) of `xinyi match` in a process of its own."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "api.cli", "match", "--db", str(db), "--profiles", str(profiles),
                           "--as-of", AS_OF.isoformat(), "--out", str(out), "--json"],
                          cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    elapsed = time.perf_counter() - t
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024, json.loads(done.stdout)


def yardstick(con, profiles: Path) -> list[tuple]:
    sql = (Path(__file__).parent / "match_yardstick.sql").read_text(encoding="utf-8")
    sql = sql.replace("{profiles}", str(profiles)).replace("{as_of}", AS_OF.isoformat())
    con.execute(f"CREATE OR REPLACE TEMP TABLE yard AS {sql}")
    return con.execute("SELECT credit_code, rule_id, status FROM yard WHERE status <> 'does_not_apply'").fetchall()


def compiled_three(con, kb: dict, profiles: Path) -> list[tuple]:
    from knowledge import match
    run = match.run(kb, match.parquet_source(con, profiles), AS_OF, con=con, rule_ids=set(YARDSTICK_RULES))
    match.long_statuses(con, run.plan)
    ids = {r["column"]: r["rule"]["id"] for r in run.plan.rules}
    rows = con.execute("SELECT key, rule_column, status FROM rule_statuses WHERE status > 0").fetchall()
    return [(k, ids[c], match.STATUS_NAMES[s]) for k, c, s in rows]


def best_of(fn, repeats: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def figures(n: int = 1_000_000) -> list[tuple[str, float, float | None, bool]]:
    import duckdb
    from knowledge.db import open_db
    from knowledge.evaluate import evaluate
    from knowledge.ingest import ingest_paths
    from knowledge.queries import load_kb
    tmp = Path(tempfile.mkdtemp(prefix="xinyi-match-bench-"))
    db = tmp / "kb.sqlite"
    ingest_paths([ROOT / "corpus"], db)
    kb = load_kb(open_db(db, readonly=True), AS_OF)
    profiles = tmp / "profiles.parquet"
    t = time.perf_counter()
    generate(profiles, n)
    sys.stderr.write(f"bench: {n} profiles generated in {time.perf_counter() - t:.1f} s\n")

    sample = python_rows(profiles, 2000)
    evaluate(kb, sample[0], AS_OF)
    loop_s, _ = best_of(lambda: [evaluate(kb, p, AS_OF) for p in sample], 1)
    loop_rate = len(sample) / loop_s

    match_s, peak_mb, summary = match_process(db, profiles, tmp / "out")
    sys.stderr.write(f"bench: match {n} profiles: {match_s:.1f} s, peak RSS {peak_mb:.0f} MB, "
                     f"{summary['applies']} applies, {summary['undetermined']} undetermined\n")

    con = duckdb.connect()
    yard_s, yard_rows = best_of(lambda: yardstick(con, profiles))
    three_s, three_rows = best_of(lambda: compiled_three(con, kb, profiles))
    if sorted(yard_rows) != sorted(three_rows):
        raise RuntimeError(f"yardstick and compiler disagree: {len(yard_rows)} vs {len(three_rows)} rows")
    scale = 1_000_000 / n
    return [
        ("match_1m_s", match_s * scale, TARGETS["match_1m_s"], False),
        ("match_profiles_per_s", n / match_s, None, True),
        ("python_loop_profiles_per_s", loop_rate, None, True),
        ("match_vs_python_loop", (n / match_s) / loop_rate, TARGETS["match_vs_python_loop"], True),
        ("match_3_rules_s", three_s * scale, None, False),
        ("yardstick_3_rules_s", yard_s * scale, None, False),
        ("match_vs_yardstick", three_s / yard_s, TARGETS["match_vs_yardstick"], False),
        ("match_peak_rss_mb", peak_mb, None, False),
    ]


def print_figures(rows) -> None:
    print(f"{'figure':30} {'measured':>12} {'target':>12} {'ratio':>8}")
    for name, value, target, higher in rows:
        if target is None:
            print(f"{name:30} {value:12.2f} {'—':>12} {'—':>8}")
        else:
            ratio = target / value if higher else value / target
            print(f"{name:30} {value:12.2f} {target:12.2f} {ratio:8.2f}")


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    print_figures(figures(parser.parse_args().profiles))
