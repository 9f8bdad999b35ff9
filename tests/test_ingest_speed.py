"""The faster ingest gives the same KB: the block-reusing segmenter gives segment()'s tokens, parse workers give
the sequential run's rows, an unchanged text is answered without being parsed, jieba's dictionary cache is
jieba's own state, and each table a document is deleted from has an index on document_id."""
import json
import shutil
import sqlite3
import sys

import pytest

from conftest import CORPUS, ROOT

HELDOUT = ROOT / "tests" / "heldout" / "docs"


def test_segmenter_gives_segment_tokens():
    from nlp.pipeline import Segmenter, segment
    texts = [line for p in sorted(CORPUS.glob("*.txt")) for line in p.read_text(encoding="utf-8").splitlines()]
    texts += ["ABC abc 123.5% 中文English混合 C++ a-b", "   ", "", "遼寧省營口市安全生產誠信企業", "第一条　为了加强安全生产工作"]
    seg = Segmenter()
    assert [seg(t) for t in texts] == [segment(t) for t in texts]
    assert [seg(t) for t in texts] == [segment(t) for t in texts]  # from what it kept


def test_segmenter_follows_a_dictionary_change():
    from nlp.pipeline import Segmenter, segment, shared_jieba
    seg = Segmenter()
    text = "企业纳入信易贷白名单管理"
    assert seg(text) == segment(text)
    shared_jieba().add_word("信易贷白名单")
    try:
        assert seg(text) == segment(text)
    finally:
        shared_jieba().del_word("信易贷白名单")


def rows(db):
    con = sqlite3.connect(db)
    try:
        out = {}
        for t in ("documents", "document_versions", "clauses", "measures", "conditions", "rules", "clause_search",
                  "measure_departments", "version_clauses", "version_measures"):
            cols = [r[1] for r in con.execute(f"PRAGMA table_info([{t}])") if r[1] not in ("ingested_at",)]
            out[t] = sorted(con.execute(f"SELECT {', '.join(f'[{c}]' for c in cols)} FROM [{t}]").fetchall(),
                            key=repr)
        return out
    finally:
        con.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parse workers are forked")
def test_parse_workers_write_what_one_process_writes(tmp_path):
    from knowledge.ingest import ingest_paths
    folder = tmp_path / "docs"
    folder.mkdir()
    for p in [*sorted(CORPUS.glob("*.txt")), *sorted(HELDOUT.glob("*"))]:
        shutil.copy(p, folder / p.name)
    revised = (CORPUS / "003_de71b19c54652fc1.txt").read_text(encoding="utf-8")
    (folder / "zz_wuxi_revised.txt").write_text(revised.replace("二级及以上", "一级"), encoding="utf-8")
    (folder / "zz_wuxi_copy.txt").write_text(revised, encoding="utf-8")  # the same text under another name
    one, many = tmp_path / "one.sqlite", tmp_path / "many.sqlite"
    a = ingest_paths([folder], one, workers=0)
    b = ingest_paths([folder], many, workers=2)
    assert len(a["documents"]) >= 8
    for r in (a, b):
        r.pop("db")
    assert a == b
    assert rows(one) == rows(many)
    again = ingest_paths([folder], many, workers=2)
    assert {d["status"] for d in again["documents"]} == {"unchanged"}


def test_unchanged_text_is_not_parsed_again(tmp_path, monkeypatch):
    import knowledge.ingest as ingest
    db = tmp_path / "kb.sqlite"
    first = ingest.ingest_paths([CORPUS], db)

    def no_parse(raw):
        raise AssertionError(f"{raw.source_file} parsed again")
    monkeypatch.setattr(ingest, "parse_document", no_parse)
    second = ingest.ingest_paths([CORPUS], db)
    assert [d["status"] for d in second["documents"]] == ["unchanged"] * 5
    for a, b in zip(first["documents"], second["documents"]):  # the same report, from what was stored
        assert {k: v for k, v in a.items() if k != "status"} == {k: v for k, v in b.items() if k != "status"}


def test_document_tables_are_indexed_on_document_id(kb_path):
    con = sqlite3.connect(kb_path)
    try:
        for table in ("clauses", "measures", "conditions", "rules", "clause_search", "measure_departments",
                      "entities"):
            plan = " ".join(r[-1] for r in con.execute(
                f"EXPLAIN QUERY PLAN DELETE FROM [{table}] WHERE document_id = 'x'"))
            assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, (table, plan)
    finally:
        con.close()


def test_dictionary_cache_is_jiebas_own_state(tmp_path):
    """A cold process loading the pickled dictionary segments as one that built it from dict.txt + userdict."""
    import subprocess
    code = ("import json; from nlp.pipeline import shared_jieba, segment; shared_jieba(); "
            "print(json.dumps([segment(l) for l in open('corpus/003_de71b19c54652fc1.txt', encoding='utf-8')]))")
    env = {"PYTHONPATH": str(ROOT), "XINYI_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    built = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    assert list((tmp_path / "cache").glob("jieba-*.pickle"))
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(built.stdout) == json.loads(loaded.stdout)
