"""The session store (knowledge/sessions.py), the KB cache chat reads through, and `xinyi sessions`."""
from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

import knowledge.dialogue as dialogue
from knowledge.dialogue import ask
from knowledge.queries import cached_kb
from knowledge.sessions import (MIGRATIONS, SessionConflict, SessionError, SessionStore, default_path,
                                resolve_path)

AS_OF = date(2026, 11, 22)


@pytest.fixture()
def kb(kb_path, tmp_path) -> Path:
    db = tmp_path / "kb.sqlite"
    shutil.copy(kb_path, db)
    return db


def test_default_path_is_beside_the_kb(tmp_path):
    assert default_path(tmp_path / "kb.sqlite") == tmp_path / "kb.sessions.sqlite"
    assert default_path("data/xinyi.db") == Path("data/xinyi.sessions.sqlite")
    assert resolve_path("kb.sqlite", tmp_path / "s.sqlite") == tmp_path / "s.sqlite"
    with pytest.raises(SessionError, match="knowledge base itself"):
        resolve_path(tmp_path / "kb.sqlite", tmp_path / "." / "kb.sqlite")


def test_migrations_recorded_once_and_wal(tmp_path):
    path = tmp_path / "s.sqlite"
    with SessionStore(path) as store:
        assert store.migrate() == []  # applied on open
    conn = sqlite3.connect(path)
    assert [r[0] for r in conn.execute("SELECT name FROM _migrations")] == [n for n, _ in MIGRATIONS]
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")} >= {"sessions", "turns"}
    fk = conn.execute("PRAGMA foreign_key_list(turns)").fetchone()
    assert fk[2] == "sessions" and fk[6] == "CASCADE"
    conn.close()


def test_refuses_files_that_are_not_a_session_store(kb, tmp_path):
    with pytest.raises(SessionError, match="not a session store"):
        SessionStore(kb)  # the KB: its _migrations are a knowledge base's
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(SessionError, match="not a session store"):
        SessionStore(other)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(SessionError, match="cannot use this file"):
        SessionStore(junk)


def test_save_load_get_delete(tmp_path):
    with SessionStore(tmp_path / "s.sqlite") as store:
        assert store.load("a") == {} and store.get("a") is None
        assert store.save_turn("a", {"region": "江苏省无锡市"}, "我们在无锡", {"reply": "好", "questions": []}) == 1
        assert store.save_turn("a", {"region": "江苏省无锡市", "employees": 60}, "60人", {"reply": "…"}) == 2
        assert store.load("a") == {"region": "江苏省无锡市", "employees": 60}
        got = store.get("a")
        assert got["facts"] == {"region": "江苏省无锡市", "employees": 60}
        assert [(t["n"], t["message"]) for t in got["turns"]] == [(1, "我们在无锡"), (2, "60人")]
        assert got["turns"][0]["reply"] == {"reply": "好", "questions": []}
        assert store.delete("a") is True and store.delete("a") is False
        assert store.get("a") is None and store.load("a") == {}
        assert store.db.execute("SELECT COUNT(*) FROM turns").fetchone() == (0,)


def test_a_save_that_raced_another_turn_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    with SessionStore(path) as a, SessionStore(path) as b:
        a.save_turn("s", {"standardization_level": 2}, "二级", {})
        assert a.load("s") == b.load("s") == {"standardization_level": 2}
        b.save_turn("s", {"standardization_level": 2, "region": "江苏省无锡市"}, "在无锡", {})
        with pytest.raises(SessionConflict):  # a started from facts that are no longer there
            a.save_turn("s", {"standardization_level": 2, "employees": 60}, "60人", {})
        assert b.load("s") == {"standardization_level": 2, "region": "江苏省无锡市"}
        merged = {**a.load("s"), "employees": 60}
        assert a.save_turn("s", merged, "60人", {}) == 3
        # a new session two turns start at once: the second to save sees the first's row
        assert a.load("new") == b.load("new") == {}
        a.save_turn("new", {"employees": 60}, "60人", {})
        with pytest.raises(SessionConflict):
            b.save_turn("new", {"region": "江苏省无锡市"}, "在无锡", {})
        # a delete in between counts too
        b.load("s")
        a.delete("s")
        with pytest.raises(SessionConflict):
            b.save_turn("s", {"employees": 1}, "x", {})


def test_ask_reruns_a_turn_that_raced_another(kb, monkeypatch):
    first = ask(kb, "我们在无锡，标准化二级", None, AS_OF)
    sid = first["session_id"]
    real = SessionStore.save_turn
    raced = []

    def save_after_a_rival(self, session_id, facts, message, reply):
        if not raced:  # another worker saves a turn of this session between this turn's load and save
            raced.append(message)
            with SessionStore(self.path) as rival:
                rival_facts = rival.load(session_id)
                rival.save_turn(session_id, {**rival_facts, "employees": 60}, "我们有60名员工", {"reply": ""})
        return real(self, session_id, facts, message, reply)
    monkeypatch.setattr(SessionStore, "save_turn", save_after_a_rival)
    out = ask(kb, "我们构成重大危险源", sid, AS_OF)
    assert raced == ["我们构成重大危险源"]
    assert out["facts"]["employees"] == 60 and out["facts"]["major_hazard_source"] is True
    assert out["facts"]["standardization_level"] == 2
    with SessionStore(default_path(kb)) as store:
        assert [t["message"] for t in store.get(sid)["turns"]] == ["我们在无锡，标准化二级", "我们有60名员工",
                                                                  "我们构成重大危险源"]


def test_ask_gives_up_after_repeated_conflicts(kb, monkeypatch):
    from knowledge.dialogue import TURN_TRIES
    sid = ask(kb, "你好", None, AS_OF)["session_id"]
    tries = []

    def always(self, *args):
        tries.append(1)
        raise SessionConflict(sid)
    monkeypatch.setattr(SessionStore, "save_turn", always)
    with pytest.raises(SessionConflict):
        ask(kb, "我们在无锡", sid, AS_OF)
    assert len(tries) == TURN_TRIES  # the loser re-ran its turn several times before giving up


def test_ask_needs_a_kb_and_makes_no_session_file_without_one(tmp_path):
    from knowledge.db import KBError
    with pytest.raises(KBError):
        ask(tmp_path / "none.sqlite", "你好", None, AS_OF)
    assert list(tmp_path.iterdir()) == []


def test_cached_kb_reuses_until_the_file_changes(kb):
    first = cached_kb(kb)
    assert cached_kb(kb) is first and cached_kb(str(kb.parent / "." / kb.name)) is first
    title = first["documents"]["003_de71b19c54652fc1"]["title"]
    with sqlite3.connect(kb) as conn:  # a write (as a re-ingest makes), within the same instant
        conn.execute("UPDATE documents SET title = ? WHERE id = '003_de71b19c54652fc1'", [title + "（修订）"])
    again = cached_kb(kb)
    assert again is not first and again["documents"]["003_de71b19c54652fc1"]["title"] == title + "（修订）"
    assert cached_kb(kb) is again


def test_ask_sees_a_reingest(kb, tmp_path):
    before = ask(kb, "容缺受理出自哪条？", None, AS_OF)
    assert before["citations"]
    from knowledge.ingest import ingest_paths
    extra = tmp_path / "new" / "notice.txt"
    extra.parent.mkdir()
    extra.write_text("某市安全生产守信激励办法\n一、对守信企业，实行“容缺受理”和“绿色通道”。\n", encoding="utf-8")
    assert not ingest_paths([extra], kb)["errors"]
    after = ask(kb, "容缺受理出自哪条？", None, AS_OF)
    assert "notice.txt" in {c["source_file"] for c in after["citations"]} - {c["source_file"] for c in before["citations"]}


def xinyi(*args):
    """The CLI in this process (typer's runner): the NLP is warm, so no 2-second start per call."""
    from typer.testing import CliRunner
    from api.cli import app
    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_ask_and_sessions_delete(kb, tmp_path):
    sessions = tmp_path / "chat.sqlite"
    out = xinyi("ask", "--db", kb, "--sessions", sessions, "--as-of", "2026-11-22", "我们在无锡，标准化二级")
    assert out.exit_code == 0, out.stderr
    sid = json.loads(out.stdout)["session_id"]
    assert sessions.exists() and not default_path(kb).exists()
    show = xinyi("sessions", "show", "--sessions", sessions, sid, "--json")
    assert show.exit_code == 0, show.stderr
    assert json.loads(show.stdout)["facts"] == {"region": "江苏省无锡市", "standardization_level": 2}
    gone = xinyi("sessions", "delete", "--sessions", sessions, sid)
    assert gone.exit_code == 0 and gone.stdout.startswith(f"deleted session {sid} (1 turns)")
    again = xinyi("sessions", "delete", "--sessions", sessions, sid, "--json")
    assert again.exit_code == 1 and again.stdout == "" and f"no session with id '{sid}'" in again.stderr
    # by the KB: the default file beside it
    sid2 = ask(kb, "我们在无锡", None, AS_OF)["session_id"]
    out = xinyi("sessions", "delete", "--db", kb, sid2, "--json")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout) == {"session_id": sid2, "deleted": True, "turns": 1,
                                      "sessions_path": str(default_path(kb))}
    assert xinyi("sessions", "delete", sid2).exit_code == 2  # neither --db nor --sessions
