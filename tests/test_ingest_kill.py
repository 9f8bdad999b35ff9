"""Crash safety (issue 9): ingest of the seeds and a revision is killed with SIGKILL at random points; every time
the file passes `PRAGMA integrity_check` and the FTS integrity check, and every document is wholly at one version
(its plain rows are exactly its current version's rows, and each recorded version's rows are complete).

The ingest runs in a forked child of this (warmed-up) process, so a run takes about a second and every kill falls
inside it. Two starting points alternate: an empty file, and a KB of the seeds with a staff correction whose
extractor is marked old (so the run re-reads every seed, re-applies the correction and adds the revision).
KILLS runs here; `bench/ingest_kill.py` runs more.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from conftest import CORPUS

KILLS = int(os.environ.get("XINYI_KILLS", "10"))
SEED = 9
LEVEL_2 = "（四）安全生产标准化等级达到二级及以上水平"
LEVEL_1 = "（四）安全生产标准化等级达到一级水平"
WUXI = "003_de71b19c54652fc1"
TABLES = ("clauses", "measures", "conditions", "rules")

pytestmark = pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "fork"), reason="needs fork")


def run_ingest(db: Path, files: list[Path]) -> None:
    from knowledge.ingest import ingest_paths
    report = ingest_paths(files, db)
    assert not report["errors"], report["errors"]


def forked(db: Path, files: list[Path], kill_after: float | None) -> float | None:
    """Ingest in a child process; SIGKILL it after `kill_after` seconds. None when it was killed mid-run, else the
    seconds the run took."""
    pid = os.fork()
    if pid == 0:  # the child: ingest and leave without running any of pytest's teardown
        code = 0
        try:
            from knowledge.ingest import ingest_paths
            ingest_paths(files, db)
        except BaseException:  # noqa: BLE001
            code = 1
        os._exit(code)
    began = time.monotonic()
    if kill_after is None:
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        return time.monotonic() - began
    deadline = began + kill_after
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return time.monotonic() - began
        time.sleep(0.002)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return None
    assert os.waitstatus_to_exitcode(status) == 0  # it finished just before the kill
    return time.monotonic() - began


def version_content(con: sqlite3.Connection) -> dict[str, dict]:
    """content hash → every row of that version (without the version number), table by table."""
    out = {}
    for doc_id, version, chash in con.execute("SELECT document_id, version, content_hash FROM document_versions "
                                               "WHERE extractor IS NOT NULL"):
        out[chash] = {t: rows(con, f"version_{t}", "document_id = ? AND version = ?", [doc_id, version])
                      for t in TABLES}
    return out


def rows(con: sqlite3.Connection, table: str, where: str, args: list) -> list[tuple]:
    cols = [r[1] for r in con.execute(f"PRAGMA table_info([{table}])") if r[1] != "version"]
    names = ", ".join(f"[{c}]" for c in cols)
    return sorted(con.execute(f"SELECT {names} FROM [{table}] WHERE {where}", args).fetchall(), key=repr)


def check_consistent(db: Path, reference: dict[str, dict]) -> None:
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "clause_search_fts" not in tables:
            return  # killed before the first migration was committed
        con.execute("INSERT INTO clause_search_fts(clause_search_fts) VALUES('integrity-check')")
        if "version_clauses" not in tables:
            return
        for chash, stored in version_content(con).items():
            assert stored == reference[chash], f"version {chash[:8]} is not complete"
        for doc_id, version, chash in con.execute("SELECT id, version, content_hash FROM documents"):
            top = con.execute("SELECT max(version), count(*) FROM document_versions WHERE document_id = ?",
                              [doc_id]).fetchone()
            assert top == (version, version), doc_id
            vh = con.execute("SELECT content_hash FROM document_versions WHERE document_id = ? AND version = ?",
                             [doc_id, version]).fetchone()[0]
            assert vh == chash, doc_id
            for t in TABLES:  # the plain rows are exactly the current version's
                assert rows(con, t, "document_id = ?", [doc_id]) == \
                    rows(con, f"version_{t}", "document_id = ? AND version = ?", [doc_id, version]), (doc_id, t)
            search = {r[0] for r in con.execute("SELECT clause_id FROM clause_search WHERE document_id = ?", [doc_id])}
            live = {r[0] for r in con.execute("SELECT id FROM clauses WHERE document_id = ?", [doc_id])}
            assert search == live, doc_id
        orphans = con.execute("SELECT count(*) FROM clause_search WHERE document_id NOT IN "
                              "(SELECT id FROM documents)").fetchone()[0]
        assert orphans == 0
    finally:
        con.close()


def stage(db: Path) -> tuple:
    """How far a run got: (documents, versions, versions read by the current extractor)."""
    con = sqlite3.connect(db)
    try:
        if "version_clauses" not in {r[0] for r in con.execute("SELECT name FROM sqlite_master")}:
            return (0, 0, 0)  # killed during the first migrations
        return con.execute("SELECT count(DISTINCT document_id), count(*), sum(extractor != 'old') "
                           "FROM document_versions").fetchone()
    finally:
        con.close()


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    """The files, the two starting points, a complete run of each (the reference rows of every version, by content
    hash) and how long each takes."""
    from knowledge.corrections import record
    from knowledge.db import open_db
    tmp = tmp_path_factory.mktemp("kill")
    revised = tmp / "wuxi_revised.txt"
    revised.write_text((CORPUS / f"{WUXI}.txt").read_text(encoding="utf-8").replace(LEVEL_2, LEVEL_1),
                       encoding="utf-8")
    files = [CORPUS, revised]
    base = tmp / "base.sqlite"
    run_ingest(base, [CORPUS])
    db = open_db(base)
    record(db, WUXI, {"clause": "第五条（四）", "drop_measure": True}, "王芳", "宣传推广不是激励措施")
    record(db, WUXI, {"clause": "第五条（二）", "departments": "应急管理局、人民银行"}, "王芳", "部门漏抽")
    db.execute("UPDATE documents SET extractor = 'old'")
    db.execute("UPDATE document_versions SET extractor = 'old'")
    db.conn.commit()
    db.conn.close()
    starts = {"empty": None, "reextract": base}
    reference, took = {}, {}
    for name, start in starts.items():
        target = tmp / f"ref-{name}.sqlite"
        if start:
            shutil.copy(start, target)
        took[name] = forked(target, files, None)
        con = sqlite3.connect(target)
        reference[name] = version_content(con)
        con.close()
        check_consistent(target, reference[name])
    return tmp, files, starts, reference, took


def test_reference_runs_hold_both_versions_and_the_corrections(setting):
    tmp, _, _, reference, _ = setting
    con = sqlite3.connect(tmp / "ref-reextract.sqlite")
    assert con.execute("SELECT count(*) FROM document_versions WHERE document_id = ?", [WUXI]).fetchone()[0] == 2
    assert con.execute("SELECT count(*) FROM version_measures WHERE corrected IS NOT NULL").fetchone()[0] == 2
    assert {r[0] for r in con.execute("SELECT status FROM corrections")} == {"applied"}
    con.close()


def test_sigkill_mid_ingest_leaves_every_document_at_one_version(setting):
    tmp, files, starts, reference, took = setting
    rng = random.Random(SEED)
    killed, states = 0, set()
    for i in range(KILLS):
        name = ("empty", "reextract")[i % 2]
        db = tmp / f"kill-{i}.sqlite"
        if starts[name]:
            shutil.copy(starts[name], db)
        ran = forked(db, files, rng.uniform(0.0, took[name]))
        if ran is None:
            killed += 1
        else:  # it finished first (the machine got faster than when timed): time the next ones by this run
            took[name] = min(took[name], ran)
        if db.exists():
            check_consistent(db, reference[name])
            states.add(stage(db))
            # and the next ingest completes what the killed one began
            forked(db, files, None)
            check_consistent(db, reference[name])
            con = sqlite3.connect(db)
            assert con.execute("SELECT count(*) FROM document_versions WHERE document_id = ?",
                               [WUXI]).fetchone()[0] == 2
            con.close()
        db.unlink(missing_ok=True)
    # the kills fell before and after the commit: a batch of documents is one transaction (a savepoint each),
    # so nothing in between can be seen
    assert len(states) >= 2, states
    assert killed >= KILLS * 0.5, f"only {killed} of {KILLS} runs were killed mid-ingest"
