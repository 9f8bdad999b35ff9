"""Reliability and security of the HTTP API (issue 11): session ids issued by the server, busy → 503 with
Retry-After, a KB removed or left with a hot journal, the chat rate limit, CORS, the bind address, the read
token, and the answer log without personal data."""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import knowledge.db as kbdb
import knowledge.dialogue as dialogue
import knowledge.registry as registry_module
import knowledge.sessions as sessions_module
from api.app import Settings, create_app, origins
from api.cli import app as cli_app
from api.limits import ChatRate
from knowledge.registry_import import check_character
from test_api import serving

AS_OF = "2026-11-22"
WUXI = {"region": "江苏省无锡市", "industries": ["危险化学品储存"], "major_hazard_source": True, "employees": 60,
        "standardization_level": 2, "standardization_in_operation": True, "events": []}


@pytest.fixture()
def kb(kb_path, tmp_path) -> Path:
    """A copy of the seeds KB in a folder of its own (its session and registry files are this test's)."""
    db = tmp_path / "kb.sqlite"
    shutil.copy(kb_path, db)
    return db


def client_of(kb: Path, **settings) -> TestClient:
    return TestClient(create_app(Settings(db_path=kb, **settings)))


def chat(client, message: str, session_id: str | None = None, **extra):
    body = {"message": message, "as_of": AS_OF, **({"session_id": session_id} if session_id else {})}
    return client.post("/v1/chat", json=body, **extra)


def xinyi(*args):
    return CliRunner().invoke(cli_app, [str(a) for a in args])


def session_ids(kb: Path) -> list[str]:
    path = kb.with_name("kb.sessions.sqlite")
    if not path.exists():
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM sessions")]
    finally:
        conn.close()


# ---- 1. session ids are the server's --------------------------------------------------------------------

def test_a_new_conversation_gets_an_unguessable_id_and_a_guessed_one_is_404(kb):
    with client_of(kb) as client:
        first, second = chat(client, "我们在无锡，标准化二级"), chat(client, "我们在无锡")
        assert first.status_code == second.status_code == 200
        sid = first.json()["session_id"]
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", sid) and sid != second.json()["session_id"]  # 128 random bits
        assert chat(client, "我们有60名员工", sid).json()["facts"]["employees"] == 60  # an issued id continues
        # an id the server never issued is refused, and nothing is made under it
        for guess in ("victim-0001", "abc"):
            r = chat(client, "我们有60名员工", guess)
            assert r.status_code == 404, r.text
            assert r.json()["field"] == "session_id" and r.json()["error"].startswith(f"unknown session {guess!r}")
            assert client.get(f"/v1/sessions/{guess}").status_code == 404
            assert client.delete(f"/v1/sessions/{guess}").status_code == 404
            put = client.put(f"/v1/sessions/{guess}/facts", json={"facts": {"employees": 5}})
            assert put.status_code == 404 and put.json()["field"] == "session_id"
        assert sorted(session_ids(kb)) == sorted([sid, second.json()["session_id"]])


def test_issued_ids_are_random_and_never_look_like_an_option():
    from knowledge.sessions import new_session_id
    ids = {new_session_id() for _ in range(5000)}
    assert len(ids) == 5000
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{21}", i) for i in ids)  # `xinyi sessions show ID`


def test_a_guessed_id_before_any_session_file_makes_none(kb):
    with client_of(kb) as client:
        r = chat(client, "你好", "victim-0001")
    assert r.status_code == 404 and r.json()["field"] == "session_id"
    assert not kb.with_name("kb.sessions.sqlite").exists()


def test_cli_ask_refuses_an_unknown_session_in_one_line_and_continues_an_issued_one(kb):
    out = xinyi("ask", "--db", kb, "--as-of", AS_OF, "--session", "victim-0001", "我们有60名员工")
    assert out.exit_code == 1 and out.stdout == ""
    assert out.stderr.startswith("xinyi: unknown session 'victim-0001'") and out.stderr.count("\n") == 1
    first = xinyi("ask", "--db", kb, "--as-of", AS_OF, "我们在无锡，标准化二级")
    sid = json.loads(first.stdout)["session_id"]
    again = xinyi("ask", "--db", kb, "--as-of", AS_OF, "--session", sid, "我们有60名员工")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["facts"]["standardization_level"] == 2
    assert "victim-0001" not in session_ids(kb)


# ---- 2. busy is 503 with Retry-After; turns of one session are serialised --------------------------------

def assert_busy(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    assert r.json() == {"error": "busy, try again", "field": None} and r.headers["retry-after"] == "1"


def test_a_locked_session_file_is_503_busy_with_retry_after(kb, monkeypatch):
    monkeypatch.setattr(sessions_module, "BUSY_TIMEOUT_S", 0.2)
    with client_of(kb) as client:
        sid = chat(client, "我们在无锡").json()["session_id"]
        holder = sqlite3.connect(kb.with_name("kb.sessions.sqlite"), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another writer holding the session file's lock
        try:
            assert_busy(chat(client, "我们有60名员工", sid))
            assert_busy(chat(client, "你好"))
            assert client.get(f"/v1/sessions/{sid}").status_code == 200  # readers of a WAL file are not held
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert chat(client, "我们有60名员工", sid).json()["facts"]["employees"] == 60  # nothing was lost


def test_a_locked_kb_is_503_busy_never_500(kb, monkeypatch):
    monkeypatch.setattr(kbdb, "READ_TIMEOUT_S", 0.2)
    with client_of(kb) as client:
        assert chat(client, "容缺受理出自哪条？").status_code == 200  # the KB cached
        holder = sqlite3.connect(kb, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # an ingest committing (rollback-journal mode: readers wait)
        try:
            assert_busy(client.get("/v1/documents"))
            assert_busy(client.post("/v1/check", json={"profile": WUXI, "as_of": AS_OF}))
            assert_busy(chat(client, "容缺受理出自哪条？"))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert client.get("/v1/documents").status_code == 200


def test_a_locked_registry_is_503_busy(kb, tmp_path, monkeypatch):
    monkeypatch.setattr(registry_module, "BUSY_TIMEOUT_S", 0.2)
    code = "91320281MA1W00011"
    code += check_character(code)
    firms = tmp_path / "firms.jsonl"
    firms.write_text(json.dumps({"credit_code": code, "name": "无锡某公司", "region": "江苏省无锡市"},
                                ensure_ascii=False) + "\n", encoding="utf-8")
    assert xinyi("registry", "import", firms, "--db", kb).exit_code == 0
    with client_of(kb, write_token="t0ken") as client:
        holder = sqlite3.connect(kb.with_name("kb.registry.sqlite"), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            r = client.post(f"/v1/enterprises/{code}/events", headers={"Authorization": "Bearer t0ken"},
                            json={"type": "accident", "date": "2026-05-01", "as_of": AS_OF})
            assert_busy(r)
        finally:
            holder.execute("ROLLBACK")
            holder.close()


FACT_TURNS = {"我们是标准化二级": ("standardization_level", 2), "我们在无锡": ("region", "江苏省无锡市"),
              "我们是危险化学品储存企业": ("industries", ["危险化学品储存"]), "我们有60名员工": ("employees", 60),
              "我们构成重大危险源": ("major_hazard_source", True)}


def test_turns_of_one_session_at_once_in_one_server_wait_for_each_other(kb, monkeypatch):
    """With the compare-and-swap's retries taken away (TURN_TRIES 1), turns sent at the same instant to one
    server still all succeed and keep every fact: the server runs them one after another."""
    monkeypatch.setattr(dialogue, "TURN_TRIES", 1)
    with serving(kb) as base:
        for round_ in range(2):
            sid = httpx.post(f"{base}/v1/chat", json={"message": "你好", "as_of": AS_OF}, timeout=60).json()["session_id"]
            start, answers = threading.Barrier(len(FACT_TURNS)), []

            def send(message: str) -> None:
                start.wait()
                answers.append(httpx.post(f"{base}/v1/chat", timeout=60,
                                          json={"message": message, "session_id": sid, "as_of": AS_OF}))
            threads = [threading.Thread(target=send, args=(m,)) for m in FACT_TURNS]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert [r.status_code for r in answers] == [200] * len(FACT_TURNS), [r.text for r in answers]
            session = httpx.get(f"{base}/v1/sessions/{sid}", timeout=30).json()
            assert session["facts"] == dict(FACT_TURNS.values()), f"round {round_}"
            assert [t["n"] for t in session["turns"]] == [1, 2, 3, 4, 5, 6]


# ---- 3. a KB removed, unusable, or left with a hot journal ----------------------------------------------

def test_a_kb_removed_under_a_running_server_is_503_and_never_recreated(kb):
    with client_of(kb) as client:
        assert chat(client, "我们在无锡").status_code == 200
        kb.unlink()
        for r in (chat(client, "容缺受理出自哪条？"), client.post("/v1/check", json={"profile": WUXI}),
                  client.get("/v1/documents"), client.get("/v1/measures")):
            assert r.status_code == 503, r.text
            assert r.json()["error"].startswith("knowledge base unavailable: ") and "not found" in r.json()["error"]
        assert not kb.exists() and not kb.with_name("kb.sqlite-journal").exists()
        kb.write_bytes(b"not a database at all" * 100)  # replaced by something unusable
        r = chat(client, "容缺受理出自哪条？")
        assert r.status_code == 503 and r.json()["error"].startswith("knowledge base unavailable: ")


WRITER = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA cache_size = 1")      # spill to the file mid-transaction: the journal becomes hot
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE documents SET title = 'half-written'")
conn.execute("DELETE FROM clauses")
print("mid-transaction", flush=True)
sys.stdin.read()                            # killed here
"""


def test_a_hot_journal_left_by_a_killed_writer_is_rolled_back_on_a_read_only_open(kb):
    before = xinyi("export", "--db", kb)
    assert before.exit_code == 0, before.stderr
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(kb)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "mid-transaction"
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.wait(10)
    journal = kb.with_name("kb.sqlite-journal")
    assert journal.exists() and journal.stat().st_size > 0
    plain = sqlite3.connect(f"file:{kb}?mode=ro", uri=True)  # what a read-only open met before
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        plain.execute("SELECT COUNT(*) FROM documents").fetchone()
    plain.close()
    after = xinyi("export", "--db", kb)
    assert after.exit_code == 0, after.stderr
    assert json.loads(after.stdout) == json.loads(before.stdout)  # as before the killed transaction
    assert not journal.exists() or journal.stat().st_size == 0
    with client_of(kb) as client:
        assert client.get("/v1/documents").status_code == 200


def test_a_hot_journal_in_a_read_only_folder_is_a_clear_error(kb, tmp_path, monkeypatch):
    from knowledge.db import KBError, connect_readonly
    err = sqlite3.OperationalError("attempt to write a readonly database")
    err.sqlite_errorname = "SQLITE_READONLY_ROLLBACK"
    monkeypatch.setattr(kbdb.os, "access", lambda path, mode: False)
    with pytest.raises(KBError, match="cannot be rolled back in a read-only folder"):
        kbdb.roll_back_hot_journal(kb, err)
    assert connect_readonly(kb).close() is None  # no journal: the usual open


# ---- 4. the chat rate limit ------------------------------------------------------------------------------

def test_chat_is_rate_limited_per_client_with_retry_after(kb):
    with client_of(kb, chat_rate_per_minute=3) as client:
        blank = [client.post("/v1/chat", json={"message": " "}) for _ in range(3)]
        assert [r.status_code for r in blank] == [422] * 3  # each turn counts, even a refused one
        r = chat(client, "你好")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert r.json()["field"] is None and r.json()["error"].startswith("too many chat turns")
        assert client.get("/v1/documents").status_code == 200  # reads are not limited
        assert client.put("/v1/sessions/abc/facts", json={"facts": {}}).status_code == 429
    with client_of(kb, chat_rate_per_minute=0) as client:  # 0: off
        assert [client.post("/v1/chat", json={"message": " "}).status_code for _ in range(70)] == [422] * 70


def test_token_bucket_refills_and_keeps_clients_apart():
    now = [0.0]
    rate = ChatRate(3, clock=lambda: now[0])
    assert [rate.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert rate.take("a") == pytest.approx(20.0)  # one turn every 20 s at 3 a minute
    assert rate.take("b") == 0.0
    now[0] = 20.0
    assert rate.take("a") == 0.0 and rate.take("a") > 0
    rate.MAX_CLIENTS = 2
    for c in "cdef":
        rate.take(c)
    assert len(rate._buckets) <= 2
    assert ChatRate(0).take("a") == 0.0


def test_settings_from_env(monkeypatch):
    monkeypatch.setenv("XINYI_CHAT_RATE", "12")
    monkeypatch.setenv("XINYI_CORS_ORIGINS", "https://a.example/, https://b.example ,")
    monkeypatch.setenv("XINYI_READ_TOKEN_REQUIRED", "1")
    s = Settings.from_env()
    assert (s.chat_rate_per_minute, s.cors_origins, s.read_token_required) == (
        12, ("https://a.example", "https://b.example"), True)
    for name in ("XINYI_CHAT_RATE", "XINYI_CORS_ORIGINS", "XINYI_READ_TOKEN_REQUIRED"):
        monkeypatch.delenv(name)
    s = Settings.from_env()
    assert (s.chat_rate_per_minute, s.cors_origins, s.read_token_required) == (60, (), False)
    monkeypatch.setenv("XINYI_CHAT_RATE", "lots")
    with pytest.raises(ValueError, match="XINYI_CHAT_RATE"):
        Settings.from_env()
    assert origins("") == ()


# ---- 5. CORS, bind address, read token -------------------------------------------------------------------

def test_cors_is_off_unless_configured(kb):
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    with client_of(kb) as client:
        r = client.get("/v1/documents", headers={"Origin": "https://evil.example"})
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
        assert "access-control-allow-origin" not in client.options("/v1/chat", headers=preflight).headers
    with client_of(kb, cors_origins=("https://office.example",)) as client:
        ok = client.get("/v1/documents", headers={"Origin": "https://office.example"})
        assert ok.headers["access-control-allow-origin"] == "https://office.example"
        pre = client.options("/v1/chat", headers={**preflight, "Origin": "https://office.example"})
        assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "https://office.example"
        other = client.get("/v1/documents", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_serve_binds_loopback_unless_told(kb, monkeypatch):
    import uvicorn
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    monkeypatch.delenv("XINYI_TOKEN", raising=False)
    monkeypatch.delenv("XINYI_READ_TOKEN_REQUIRED", raising=False)
    assert xinyi("serve", "--db", kb).exit_code == 0
    assert calls[-1]["host"] == "127.0.0.1" and calls[-1]["access_log"] is False
    out = xinyi("serve", "--db", kb, "--host", "0.0.0.0")
    assert out.exit_code == 0 and calls[-1]["host"] == "0.0.0.0" and "open to anyone" in out.stderr
    monkeypatch.setenv("XINYI_READ_TOKEN_REQUIRED", "1")
    out = xinyi("serve", "--db", kb)
    assert out.exit_code == 2 and "XINYI_TOKEN" in out.stderr and len(calls) == 2


def test_reads_are_open_by_default_and_closable(kb):
    with client_of(kb) as client:
        assert client.get("/v1/documents").status_code == 200
    token = {"Authorization": "Bearer s3cret"}
    with client_of(kb, write_token="s3cret", read_token_required=True) as client:
        for method, path, body in (("GET", "/v1/documents", None), ("GET", "/v1/measures", None),
                                   ("GET", "/v1/clauses/search?q=海关", None), ("GET", "/v1/review", None),
                                   ("GET", "/v1/sessions/abc", None),
                                   ("POST", "/v1/chat", {"message": "你好"}),
                                   ("POST", "/v1/check", {"profile": WUXI})):
            r = client.request(method, path, json=body)
            assert r.status_code == 401 and r.json()["field"] == "authorization", (path, r.text)
            wrong = client.request(method, path, json=body, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            assert client.request(method, path, json=body, headers=token).status_code in (200, 404), path
        assert client.get("/").status_code == 200  # the page holds no data
        spec = client.get("/openapi.json").json()
        assert "401" in spec["paths"]["/v1/documents"]["get"]["responses"]
    with client_of(kb, read_token_required=True) as client:  # required, but the server has none
        assert client.get("/v1/documents").status_code == 403


# ---- 6. one log line per answer, nothing personal in it --------------------------------------------------

def test_one_log_line_per_answer_without_what_was_asked(kb, caplog):
    secret_words, secret_name = "我们是秘密词汇甲乙丙的企业", "保密企业某某某"
    with client_of(kb) as client, caplog.at_level(logging.INFO):
        caplog.clear()
        sid = chat(client, secret_words).json()["session_id"]
        client.post("/v1/check", json={"profile": {**WUXI, "name": secret_name}, "as_of": AS_OF})
        client.get(f"/v1/sessions/{sid}")
        client.get("/v1/clauses/search", params={"q": "秘密查询"})
    lines = [r for r in caplog.records if r.name == "xinyi"]
    assert [r.endpoint for r in lines] == ["POST /v1/chat", "POST /v1/check", "GET /v1/sessions/{session_id}",
                                           "GET /v1/clauses/search"]
    assert [r.status for r in lines] == [200, 200, 200, 200]
    for r in lines:
        assert re.fullmatch(r"answer \S+ \S+ kb=[0-9a-f]{12} status=\d+ ms=\d+", r.getMessage()), r.getMessage()
        assert r.ms >= 0 and r.kb == lines[0].kb
    text = "\n".join(r.getMessage() for r in caplog.records if r.name != "httpx")  # httpx: this test's client
    for secret in ("秘密", secret_name, sid, "无锡", "危险化学品"):
        assert secret not in text


def test_a_fault_of_ours_is_500_in_the_error_shape_and_its_message_is_not_logged(kb, caplog, monkeypatch):
    import api.routes.chat as chat_route

    def broken(*args, **kwargs):
        raise ValueError("秘密 the message text")
    monkeypatch.setattr(chat_route, "ask", broken)
    with client_of(kb) as client, caplog.at_level(logging.INFO):
        r = chat(client, "我们是秘密企业")
    assert r.status_code == 500 and r.json() == {
        "error": "internal error (ValueError); the request was not carried out", "field": None}
    text = "\n".join(r.getMessage() for r in caplog.records if r.name != "httpx")
    assert "秘密" not in text and "internal error ValueError at" in text
    assert [x.status for x in caplog.records if x.name == "xinyi" and hasattr(x, "status")] == [500]


# ---- serving while an ingest writes --------------------------------------------------------------------

LOCKER = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=0.2, isolation_level=None)
try:
    conn.execute("BEGIN EXCLUSIVE")
    print("took the lock")
except sqlite3.OperationalError as exc:
    print(exc)
"""


def test_the_kb_stamp_leaves_a_readers_lock_in_place(kb):
    """Reading the KB's change counter must not open and close the file: a close drops every POSIX lock this
    process holds on it, and a writer elsewhere could then commit under a reader mid-query ("database disk
    image is malformed" under load, bench/load_chat.py)."""
    from knowledge.queries import kb_stamp
    reader = sqlite3.connect(f"file:{kb}?mode=ro", uri=True, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM clauses").fetchone()  # holds SHARED until COMMIT
        for _ in range(3):
            kb_stamp(kb)
        other = subprocess.run([sys.executable, "-c", LOCKER, str(kb)], capture_output=True, text=True, timeout=30)
        assert other.stdout.strip() == "database is locked", other.stdout + other.stderr
        reader.execute("COMMIT")
    finally:
        reader.close()
    first = kb_stamp(kb)
    with sqlite3.connect(kb) as conn:
        conn.execute("UPDATE documents SET title = title || '（修订）'")
    assert kb_stamp(kb) != first  # still sees every commit
    replaced = kb.with_name("other.sqlite")
    shutil.copy(kb, replaced)
    os.replace(replaced, kb)  # another file under the same name: read afresh
    assert kb_stamp(kb)[2] == kbdb.change_counter(kb)


def test_chat_turns_take_slots_in_the_order_they_came():
    import time
    from api.limits import NoSlot, TurnSlots
    slots, order = TurnSlots(1, wait_s=5), []
    first = slots.hold()
    first.__enter__()

    def turn(name: str) -> None:
        with slots.hold():
            order.append(name)
    threads = []
    for name in "abcd":
        t = threading.Thread(target=turn, args=(name,))
        t.start()
        threads.append(t)
        while slots.waiting < len(threads):  # each queued before the next comes
            time.sleep(0.005)
    first.__exit__(None, None, None)
    for t in threads:
        t.join(10)
    assert order == ["a", "b", "c", "d"]
    quick = TurnSlots(1, wait_s=0.05)
    with quick.hold():
        with pytest.raises(NoSlot):
            with quick.hold():
                pass
    assert quick.waiting == 0
    with TurnSlots(0).hold(), TurnSlots(0).hold():  # 0: no cap
        pass


def test_no_chat_slot_in_time_is_503_busy(kb, monkeypatch):
    from api.limits import NoSlot

    def full(self):
        raise NoSlot("no chat turn slot came free in 30 s")
    monkeypatch.setattr("api.limits.TurnSlots.hold", full)
    with client_of(kb) as client:
        assert_busy(chat(client, "你好"))
    monkeypatch.setenv("XINYI_CHAT_CONCURRENCY", "3")
    assert Settings.from_env().chat_concurrency == 3


def test_writers_of_one_process_queue_for_the_session_file_instead_of_timing_out(tmp_path, monkeypatch):
    """Threads of one server saving turns at once wait for each other on a lock of the process; SQLite's busy
    timeout (here 0.05 s, shorter than one save) is left for other processes."""
    import time
    from knowledge.sessions import SessionStore, new_session_id
    path = tmp_path / "s.sqlite"
    SessionStore(path).close()
    monkeypatch.setattr(sessions_module, "BUSY_TIMEOUT_S", 0.05)
    slow = SessionStore._facts_json

    def slow_read(self, session_id):  # a save that takes a while, as under load
        time.sleep(0.08)
        return slow(self, session_id)
    monkeypatch.setattr(SessionStore, "_facts_json", slow_read)
    failures, start = [], threading.Barrier(6)

    def save(i: int) -> None:
        with SessionStore(path) as store:
            start.wait()
            try:
                store.save_turn(new_session_id(), {"employees": i}, "我们有员工", {"reply": ""})
            except Exception as exc:  # noqa: BLE001
                failures.append(repr(exc))
    threads = [threading.Thread(target=save, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert failures == []
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM sessions").fetchone() == (6,)
    conn.close()
