"""Personal data in chat (nlp/privacy.py): masked in what a session stores and in what a reply echoes.

The table tests/data/privacy_sentences.jsonl holds messages as enterprises type them, each with the text it must
become: phone numbers, 身份证 numbers, e-mail addresses and names with titles masked; 统一社会信用代码, dates,
amounts, counts, article numbers, 文号 and job titles without a name left as they are; simplified and traditional.
"""
from __future__ import annotations

import contextlib
import io
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from knowledge.dialogue import ask
from knowledge.sessions import SessionStore
from nlp import privacy

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "tests" / "data" / "privacy_sentences.jsonl"
ROWS = [json.loads(line) for line in TABLE.read_text(encoding="utf-8").splitlines() if line.strip()]
AS_OF = date(2026, 11, 22)


def test_table_is_balanced():
    kinds = {r["class"] for r in ROWS}
    assert {"mobile", "landline", "id_card", "email", "name", "keep"} <= kinds
    assert sum(r["class"] == "keep" for r in ROWS) >= 25
    assert sum(r["class"] != "keep" for r in ROWS) >= 30
    assert all(r["text"] == r["masked"] for r in ROWS if r["class"] == "keep")
    assert all(r["text"] != r["masked"] for r in ROWS if r["class"] != "keep")


@pytest.mark.parametrize("row", ROWS, ids=[f"{n}-{r['class']}" for n, r in enumerate(ROWS, 1)])
def test_sentence_masked_as_expected(row):
    got = privacy.mask(row["text"])
    assert got == row["masked"], f"{row['text']!r} → {got!r}, expected {row['masked']!r}"
    assert privacy.mask(got) == got  # nothing left to find once masked


def test_masks_by_kind():
    assert privacy.mask("13812345678") == "138****5678"
    assert privacy.mask("320203199001011234") == "3202**********1234"
    assert privacy.mask("王经理") == "王**经理"
    assert privacy.mask("wang@example.com") == "w***@example.com"
    found = privacy.find("王芳经理的手机是13812345678")
    assert [(f.kind, f.text, f.masked) for f in found] == [("name", "王芳", "王**"),
                                                          ("mobile", "13812345678", "138****5678")]


def test_only_the_kinds_asked():
    text = "王芳经理，13812345678，0411-87654321"
    assert privacy.mask(text, kinds=("mobile",)) == "王芳经理，138****5678，0411-87654321"
    assert privacy.mask_mobiles("（联系电话:89706139）") == "（联系电话:89706139）"


def test_switched_off(monkeypatch):
    monkeypatch.setenv("XINYI_PRIVACY", "off")
    assert privacy.mask("13812345678") == "13812345678"


def test_the_patterns_are_jionlps():
    """The phone, 身份证 and e-mail finds are exactly jionlp's extractors' (before the checks added on top)."""
    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp
    for row in ROWS:
        view = privacy.fold(row["text"])
        for name, extract, pad in (("CELL_PHONE_PATTERN", None, "#"), ("ID_CARD_PATTERN", jionlp.extract_id_card, "#"),
                                   ("EMAIL_PATTERN", jionlp.extract_email, "龥")):
            ours = [view[s:e] for s, e in privacy._jionlp_finds(name, view, pad)]
            if extract is None:
                theirs = [d["text"] for d in jionlp.extract_phone_number(view, detail=True) if d["type"] == "cell_phone"]
            else:
                theirs = extract(view)
            assert ours == theirs, (name, row["text"])
        landline = [view[s:e] for s, e in privacy._jionlp_finds("LANDLINE_PHONE_PATTERN", view)]
        assert landline == [d["text"] for d in jionlp.extract_phone_number(view, detail=True)
                            if d["type"] == "landline_phone"], row["text"]


def test_import_is_cheap_and_silent():
    """Masking neither imports jionlp (2 s of dictionaries and a banner on stdout) nor prints anything."""
    code = ("import sys\nfrom nlp import privacy\n"
            "print(privacy.mask('手机13812345678，王芳经理，wang@example.com，320203199001011234'))\n"
            "assert 'jionlp' not in sys.modules, 'jionlp imported'\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "手机138****5678，王**经理，w***@example.com，3202**********1234"


def test_fast():
    privacy.mask("王芳经理")  # jieba loaded once
    texts = [r["text"] for r in ROWS]
    t = time.perf_counter()
    for _ in range(5):
        for text in texts:
            privacy.mask(text)
    per = (time.perf_counter() - t) / (5 * len(texts))
    assert per < 0.02, f"{per * 1000:.1f} ms per message"


CJK_TEXT = st.text(alphabet=st.sampled_from(list("王李张陈经理局长总主任联系人：，。的是手机电话号码安全车间项目一二三")
                                            + list("0123456789-@.ab ")), max_size=40)


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(CJK_TEXT)
def test_masking_is_idempotent(text):
    once = privacy.mask(text)
    assert privacy.mask(once) == once


# ---- chat: what is stored, what is echoed -------------------------------------------------------------

MESSAGE = ("我是王芳经理，手机13812345678，身份证320203199001011234。我们是无锡的危化品企业，标准化二级，"
           "三年内没有事故和处罚，能享受什么？")
PLAIN = "我们是无锡的危化品企业，标准化二级，三年内没有事故和处罚，能享受什么？"


@pytest.fixture()
def kb(kb_path, tmp_path) -> Path:
    db = tmp_path / "kb.sqlite"
    shutil.copy(kb_path, db)
    return db


def stored_text(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        rows = [r for t in ("sessions", "turns") for r in conn.execute(f"SELECT * FROM {t}")]
    finally:
        conn.close()
    return json.dumps(rows, ensure_ascii=False)


def test_chat_stores_and_echoes_masked(kb, tmp_path):
    sessions = tmp_path / "s.sqlite"
    out = ask(kb, MESSAGE, as_of=AS_OF, sessions_path=sessions)
    for secret in ("13812345678", "320203199001011234", "王芳"):
        assert secret not in out["reply"] and secret not in out["understood"]
        assert secret not in stored_text(sessions), secret
    assert "王**经理" in stored_text(sessions) and "138****5678" in stored_text(sessions)
    assert out["reply"].startswith("我理解的情况")
    with SessionStore(sessions) as store:
        got = store.get(out["session_id"])
    assert got["turns"][0]["message"].startswith("我是王**经理，手机138****5678，身份证3202**********1234。")
    said = json.dumps(got["facts"]["_said"], ensure_ascii=False)
    assert "13812345678" not in said


def test_masking_does_not_change_what_is_understood(kb, tmp_path):
    """The facts and results are those of the message as typed (and of the message without the personal data)."""
    masked = ask(kb, MESSAGE, as_of=AS_OF, sessions_path=tmp_path / "a.sqlite")
    plain = ask(kb, PLAIN, as_of=AS_OF, sessions_path=tmp_path / "b.sqlite")
    assert masked["facts"] == plain["facts"]
    assert [(r["rule_id"], r["status"]) for r in masked["results"]] == \
        [(r["rule_id"], r["status"]) for r in plain["results"]]
    assert masked["citations"] == plain["citations"]
    assert [q for q in masked["questions"]] == [q for q in plain["questions"]]


def test_unmasked_when_switched_off(kb, tmp_path, monkeypatch):
    monkeypatch.setenv("XINYI_PRIVACY", "off")
    sessions = tmp_path / "s.sqlite"
    ask(kb, MESSAGE, as_of=AS_OF, sessions_path=sessions)
    assert "13812345678" in stored_text(sessions)


def test_a_later_turn_keeps_earlier_words_masked(kb, tmp_path):
    sessions = tmp_path / "s.sqlite"
    first = ask(kb, "我们是无锡的危化品企业，联系人王芳，电话0510-82345678", as_of=AS_OF, sessions_path=sessions)
    second = ask(kb, "标准化二级，能享受什么？", first["session_id"], as_of=AS_OF, sessions_path=sessions)
    assert "82345678" not in stored_text(sessions) and "王芳" not in stored_text(sessions)
    assert "82345678" not in second["reply"]


def test_session_store_masks_whatever_the_caller(tmp_path):
    with SessionStore(tmp_path / "s.sqlite") as store:
        store.save_turn("x", {"region": "江苏省无锡市", "_said": {"region": "我在无锡，手机13812345678"}},
                        "张三局长让我问：手机13812345678", {"reply": "…"})
        got = store.get("x")
    assert got["turns"][0]["message"] == "张**局长让我问：手机138****5678"
    assert got["facts"] == {"region": "江苏省无锡市", "_said": {"region": "我在无锡，手机138****5678"}}


DOC = """某市安全生产诚信管理试行办法

第一条 为推进安全生产诚信体系建设，制定本办法。
第二条 本办法由市应急管理局负责解释，联系人：张三，手机13812345678，办公电话0411-87654321。
第三条 本办法自2026年1月1日起施行。
"""


def test_quoted_clause_keeps_its_words_but_not_a_mobile(tmp_path):
    """A document's text is stored as printed (the KB is not masked); an answer quoting a clause that holds a
    mobile number masks that number only — the office phone and the name are the document's."""
    from knowledge.db import open_db
    from knowledge.ingest import ingest_paths
    doc = tmp_path / "mobile_doc.txt"
    doc.write_text(DOC, encoding="utf-8")
    db = tmp_path / "kb.sqlite"
    assert not ingest_paths([doc], db)["errors"]
    conn = open_db(db, readonly=True)
    texts = [r[0] for r in conn.execute("SELECT text FROM clauses")]
    conn.conn.close()
    assert any("13812345678" in t for t in texts)
    out = ask(db, "第二条的内容是什么", as_of=AS_OF, sessions_path=tmp_path / "s.sqlite")
    assert "138****5678" in out["reply"] and "13812345678" not in out["reply"]
    assert "0411-87654321" in out["reply"] and "张三" in out["reply"]
    quotes = json.dumps(out["citations"], ensure_ascii=False)
    assert "13812345678" not in quotes and "138****5678" in quotes
