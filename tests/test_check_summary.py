"""check's summaries (knowledge/check.py): a document that excludes the enterprise by place or scope, or that no
stated fact can decide, is one result per kind instead of its rules one by one — and says exactly what the full
evaluation (`full=True`, xinyi check --full) says about it. Checked on real text: the seeds, the real pages and a
slice of the law library, for profiles that reach every predicate kind and window boundary."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from knowledge.check import check_profile
from knowledge.db import open_db
from knowledge.queries import load_kb

sys.path.insert(0, str(Path(__file__).parent))
import match_profiles  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REALDOCS, LAWREF = SHARED / "realdocs" / "docs", SHARED / "lawref" / "docs"
AS_OF = date(2026, 11, 22)
LAWS = 40  # every n-th law of the library, so the slice spans its sources and regions


@pytest.fixture(scope="module")
def mixed_kb(tmp_path_factory) -> Path:
    from knowledge.ingest import ingest_paths
    if not REALDOCS.is_dir() or not LAWREF.is_dir():
        pytest.skip("../shared/realdocs and ../shared/lawref are needed")
    laws = sorted(LAWREF.glob("*.txt"))
    picked = laws[::max(1, len(laws) // LAWS)][:LAWS]
    db = tmp_path_factory.mktemp("mixed") / "kb.sqlite"
    report = ingest_paths([ROOT / "corpus", *sorted(REALDOCS.iterdir()), *picked], db)
    assert report["documents"], report["errors"]
    return db


def by_document_kind(results: list[dict]) -> dict[tuple, list[dict]]:
    out = defaultdict(list)
    for r in results:
        out[(r["document_id"], r["kind"])].append(r)
    return out


def status_of(rows: list[dict]) -> str:
    statuses = {r["status"] for r in rows}
    return next(s for s in ("applies", "undetermined", "does_not_apply") if s in statuses)


def measures_of(rows: list[dict]) -> set[str]:
    return {m["id"] for r in rows if r["status"] == "applies" for m in r["measures"]}


def disagreements(db: Path, profile: dict) -> list[str]:
    short = by_document_kind(check_profile(db, profile, AS_OF)["results"])
    full = by_document_kind(check_profile(db, profile, AS_OF, full=True)["results"])
    out = []
    if short.keys() != full.keys():
        out.append(f"document kinds differ: {sorted(short.keys() ^ full.keys())[:3]}")
    for key in short.keys() & full.keys():
        rows, every = short[key], full[key]
        if status_of(rows) != status_of(every) or measures_of(rows) != measures_of(every):
            out.append(f"{key}: {status_of(rows)} vs full {status_of(every)}")
        summary = [r for r in rows if r.get("summary")]
        if not summary:
            if [(r["rule_id"], r["status"]) for r in rows] != [(r["rule_id"], r["status"]) for r in every]:
                out.append(f"{key}: rule by rule, yet not the full evaluation's rules")
            continue
        (s,) = summary
        want = {"excluded": "does_not_apply", "undecided": "undetermined"}[s["summary"]]
        if s["rules"] != len(every) or {r["status"] for r in every} != {want}:
            out.append(f"{key}: summarised {s['summary']} over {s['rules']} rules; full has "
                       f"{sorted({r['status'] for r in every})} over {len(every)}")
        if s["rule_id"] != every[0]["rule_id"]:
            out.append(f"{key}: the summary names {s['rule_id']}, not the first rule {every[0]['rule_id']}")
    return out


def test_a_summary_says_what_the_full_evaluation_says(mixed_kb):
    kb = load_kb(open_db(mixed_kb, readonly=True))
    profiles = match_profiles.sample(kb, AS_OF, 120, seed=5)
    found = {p["credit_code"]: d for p in profiles if (d := disagreements(mixed_kb, p))}
    assert not found, list(found.items())[:3]


def test_summaries_bound_the_answer_by_documents_not_rules(mixed_kb):
    profile = json.loads((ROOT / "examples" / "wuxi_hazchem.json").read_text(encoding="utf-8"))
    short = check_profile(mixed_kb, profile, AS_OF)["results"]
    full = check_profile(mixed_kb, profile, AS_OF, full=True)["results"]
    summarised = [r for r in short if r.get("summary")]
    assert {r["summary"] for r in summarised} == {"excluded", "undecided"}
    # every summary is one result per document and kind, however many rules that document holds
    assert len(summarised) == len({(r["document_id"], r["kind"]) for r in summarised})
    assert sum(r["rules"] for r in summarised) > 2 * len(summarised)
    assert len(short) < len(full)
    excluded = next(r for r in summarised if r["summary"] == "excluded")
    assert excluded["conditions"][0]["status"] == "not_met" and excluded["conditions"][0]["citation"]


def test_cli_full_lists_every_rule(mixed_kb, tmp_path):
    profile = tmp_path / "p.json"
    profile.write_text((ROOT / "examples" / "wuxi_hazchem.json").read_text(encoding="utf-8"), encoding="utf-8")

    def run(*extra):
        p = subprocess.run([sys.executable, "-m", "api.cli", "check", "--db", str(mixed_kb), "--profile",
                            str(profile), "--as-of", AS_OF.isoformat(), *extra], cwd=ROOT, capture_output=True,
                           text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)["results"]
    short, full = run(), run("--full")
    assert not any(r.get("summary") for r in full)
    assert len(full) == sum(r.get("rules", 1) for r in short)
