"""Chat sessions over real HTTP (uvicorn on loopback, a KB built from corpus/): kept in their own file while the
KB stays byte for byte as it was, GET and DELETE /v1/sessions/{id}, follow-up turns, and turns of one session
sent at the same time to two servers sharing the files."""
from __future__ import annotations

import hashlib
import shutil
import sqlite3
import threading
from pathlib import Path

import httpx
import pytest

from test_api import serving  # the uvicorn-in-a-thread helper

AS_OF = "2026-11-22"


@pytest.fixture()
def kb(kb_path, tmp_path) -> Path:
    """A copy of the seeds KB in a folder of its own, so the default session file beside it is this test's."""
    db = tmp_path / "kb.sqlite"
    shutil.copy(kb_path, db)
    return db


def post(base: str, message: str, session_id: str | None = None) -> dict:
    body = {"message": message, "as_of": AS_OF, **({"session_id": session_id} if session_id else {})}
    r = httpx.post(f"{base}/v1/chat", json=body, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(path: Path, sql: str, args=()) -> list[tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def test_chat_writes_the_session_file_and_leaves_the_kb_unchanged(kb):
    legacy = rows(kb, "SELECT (SELECT COUNT(*) FROM sessions), (SELECT COUNT(*) FROM turns)")
    before = sha256(kb)
    with serving(kb) as base:
        first = post(base, "我们在无锡，是危险化学品储存企业，标准化二级")
        second = post(base, "近三年没有失信行为、行政处罚和亡人事故", first["session_id"])
        session = httpx.get(f"{base}/v1/sessions/{first['session_id']}", timeout=30).json()
    sid = first["session_id"]
    assert second["session_id"] == sid and second["facts"]["standardization_level"] == 2
    assert sha256(kb) == before
    assert not kb.with_name("kb.sqlite-wal").exists() and not kb.with_name("kb.sqlite-journal").exists()
    # the KB's old session tables (migration 0002) hold nothing written now
    assert rows(kb, "SELECT (SELECT COUNT(*) FROM sessions), (SELECT COUNT(*) FROM turns)") == legacy
    assert rows(kb, "SELECT COUNT(*) FROM turns WHERE session_id = ?", [sid]) == [(0,)]
    store = kb.with_name("kb.sessions.sqlite")
    assert rows(store, "SELECT n, message FROM turns WHERE session_id = ? ORDER BY n", [sid]) == [
        (1, "我们在无锡，是危险化学品储存企业，标准化二级"), (2, "近三年没有失信行为、行政处罚和亡人事故")]
    assert '"region": "江苏省无锡市"' in rows(store, "SELECT facts FROM sessions WHERE id = ?", [sid])[0][0]
    assert rows(store, "PRAGMA journal_mode") == [("wal",)]
    assert session["facts"] == second["facts"]
    assert [t["n"] for t in session["turns"]] == [1, 2] and session["turns"][1]["reply"] == second["reply"]


def test_sessions_path_setting_and_an_old_kb_with_session_rows(kb, tmp_path):
    with sqlite3.connect(kb) as conn:  # a KB from before: a conversation kept in its own tables
        conn.execute("INSERT INTO sessions (id, facts, created_at, updated_at) VALUES ('old1', '{}', 'x', 'x')")
    before = sha256(kb)
    elsewhere = tmp_path / "chat" / "sessions.sqlite"
    with serving(kb, sessions_path=elsewhere) as base:
        out = post(base, "我们在无锡，标准化二级，能享受什么激励？")
        assert httpx.get(f"{base}/v1/sessions/{out['session_id']}", timeout=30).status_code == 200
    assert out["facts"]["region"] == "江苏省无锡市"
    assert sha256(kb) == before
    assert rows(elsewhere, "SELECT COUNT(*) FROM turns") == [(1,)]
    assert not kb.with_name("kb.sessions.sqlite").exists()


def test_a_session_file_that_cannot_be_made_is_503(kb, tmp_path):
    (tmp_path / "a_file").write_text("")
    with serving(kb, sessions_path=tmp_path / "a_file" / "sessions.sqlite") as base:
        r = httpx.post(f"{base}/v1/chat", json={"message": "我们在无锡"}, timeout=60)
        assert r.status_code == 503 and r.json()["error"].startswith("session store unavailable: ")
        assert httpx.get(f"{base}/v1/sessions/abc", timeout=30).status_code == 404


def test_delete_forgets_the_conversation(kb):
    with serving(kb) as base, httpx.Client(base_url=base, timeout=60) as client:
        first = post(base, "我们在无锡，是危险化学品储存企业，标准化二级")
        sid = first["session_id"]
        assert client.get(f"/v1/sessions/{sid}").json()["facts"]["region"] == "江苏省无锡市"
        r = client.delete(f"/v1/sessions/{sid}")
        assert r.status_code == 204 and r.content == b""
        gone = client.get(f"/v1/sessions/{sid}")
        assert gone.status_code == 404 and gone.json()["field"] == "session_id"
        assert gone.json()["error"].startswith(f"unknown session {sid!r}")
        assert client.delete(f"/v1/sessions/{sid}").status_code == 404
        again = client.post("/v1/chat", json={"message": "我们有60名员工", "session_id": sid, "as_of": AS_OF})
        assert again.status_code == 404 and again.json()["field"] == "session_id"  # a forgotten id is not revived
    assert rows(kb.with_name("kb.sessions.sqlite"), "SELECT COUNT(*) FROM turns WHERE session_id = ?", [sid]) == [(0,)]


def test_unknown_or_malformed_session_id(kb):
    with serving(kb) as base, httpx.Client(base_url=base, timeout=30) as client:
        for method in ("GET", "DELETE"):
            r = client.request(method, "/v1/sessions/nosuchsession")
            assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
            assert r.json()["field"] == "session_id" and r.json()["error"].startswith("unknown session 'nosuchsession'")
            r = client.request(method, "/v1/sessions/" + "x" * 65)
            assert r.status_code == 422 and r.json()["field"] == "session_id"
        assert "/v1/sessions/{session_id}" in client.get("/openapi.json").json()["paths"]
    assert not kb.with_name("kb.sessions.sqlite").exists()  # looking up a session creates no file


def attested(out: dict) -> list[dict]:
    return [q for q in out["question_details"] if q["field"] == "attested"]


def test_bare_yes_answers_the_attestation_question(kb):
    # The Yingkou seed has no condition that only an attestation decides (it asks 公开承诺 and 新发职业病);
    # 陈巴尔虎旗's “信易+安全” plan does: 信用程度较高的企业, then 信用较好的企业.
    with serving(kb) as base:
        first = post(base, "我们是陈巴尔虎旗的企业，近三年没有失信行为、行政处罚和亡人事故，能享受哪些激励？")
        asked = attested(first)
        assert [q["question"] for q in asked] == ["贵单位是否属于信用程度较高的企业？"]
        assert first["questions"][-1] == asked[0]["question"]
        second = post(base, "是", first["session_id"])
        assert second["facts"]["attested"] == {asked[0]["key"]: True}
        assert asked[0]["question"] not in second["questions"]
        assert "开通绿色通道" in second["reply"]
        nxt = attested(second)
        assert [q["question"] for q in nxt] == ["贵单位是否属于信用较好的企业？"]
        third = post(base, "是", first["session_id"])
    assert third["facts"]["attested"] == {asked[0]["key"]: True, nxt[0]["key"]: True}
    assert third["questions"] == [] and "减少抽查" in third["reply"]
    assert third["facts"]["region"] == "内蒙古自治区呼伦贝尔市陈巴尔虎旗"


def test_a_date_completes_the_event_told_before(kb):
    with serving(kb) as base:
        first = post(base, "我们在陈巴尔虎旗，我们去年发生过一起事故")
        assert first["facts"]["events"] == [{"type": "accident", "date_from": "2025-01-01", "date_to": "2025-12-31"}]
        second = post(base, "事故是2025年12月5日发生的", first["session_id"])
        third = post(base, "事故是2025年12月5日发生的", first["session_id"])  # told again: still one
    assert second["facts"]["events"] == [{"type": "accident", "date": "2025-12-05"}]
    assert third["facts"]["events"] == [{"type": "accident", "date": "2025-12-05"}]
    assert "2025-12-05有生产安全事故" in second["reply"]


def test_details_told_later_complete_the_event_and_a_bare_no_answers_the_last_question(kb):
    chen = "001_9ae7228be791c7b7.txt"
    with serving(kb) as base:
        first = post(base, "我们是陈巴尔虎旗的企业，去年出过一起事故")
        second = post(base, "一般事故，死了一个人，认定是责任事故", first["session_id"])
        assert len(second["facts"]["events"]) == 1  # completed, not a second accident
        assert second["facts"]["events"][0] == {"type": "accident", "date_from": "2025-01-01", "date_to": "2025-12-31",
                                                "fatalities": 1, "severity": "一般", "responsible": True}
        assert any(r["source_file"] == chen and r["status"] == "applies" and
                   any("纳入县不良信用记录" in m["text"] for m in r["measures"]) for r in second["results"])
        last = second["question_details"][-1]  # the one yes/no question, asked last
        third = post(base, "没有", first["session_id"])
    if last["field"] == "attested":
        assert third["facts"]["attested"] == {last["key"]: False}
    else:
        assert third["facts"].get("absent_events")
    assert last["question"] not in third["questions"]
    assert third["facts"]["events"] == second["facts"]["events"]


def test_a_bare_no_answers_the_event_question_asked_last(kb):
    yingkou = "000_f2471d76c145893c.txt"
    with serving(kb) as base:
        first = post(base, "我们是营口的企业，标准化一级，已经公开承诺，近三年没有失信行为、行政处罚和亡人事故，"
                           "没上过失信黑名单，能享受哪些激励？")
        assert any("职业病" in q for q in first["questions"]) and "职业病" in first["questions"][-1]
        second = post(base, "没有", first["session_id"])
    assert {"type": "occupational_disease_case", "within_years": 3} in second["facts"]["absent_events"]
    assert any(r["source_file"] == yingkou and r["kind"] == "incentive" and r["status"] == "applies"
               for r in second["results"])
    assert not any("职业病" in q for q in second["questions"])


def test_a_correction_replaces_the_level_and_changes_the_reply(kb):
    wuxi = "003_de71b19c54652fc1.txt"
    with serving(kb) as base:
        first = post(base, "我们在无锡，是构成重大危险源的危险化学品经营企业，标准化二级并持续运行，"
                           "近三年没有失信行为、行政处罚和亡人事故，能享受哪些激励？")
        second = post(base, "说错了，我们是三级", first["session_id"])

    def wuxi_incentive(out):
        return {r["status"] for r in out["results"] if r["source_file"] == wuxi and r["kind"] == "incentive"}
    assert first["facts"]["standardization_level"] == 2 and "applies" in wuxi_incentive(first)
    assert second["facts"] == {**first["facts"], "standardization_level": 3}
    assert wuxi_incentive(second) == {"undetermined"}
    assert "安全生产标准化三级" in second["reply"] and "下调安全生产责任保险费率" not in second["reply"]
    assert any("排名" in q for q in second["questions"])


FACT_TURNS = {"我们是标准化二级": ("standardization_level", 2), "我们在无锡": ("region", "江苏省无锡市"),
              "我们是危险化学品储存企业": ("industries", ["危险化学品储存"]), "我们有60名员工": ("employees", 60),
              "我们构成重大危险源": ("major_hazard_source", True)}


def test_turns_of_one_session_sent_at_once_to_two_servers_keep_every_fact(kb):
    """Two workers on the same KB and session file; each round sends five turns of one new session at the same
    instant. Without the save's compare-and-swap most rounds lose facts (each turn would write the facts it
    started from plus its own)."""
    with serving(kb) as one, serving(kb) as two:
        post(one, "你好"), post(two, "你好")  # warm both
        for round_ in range(3):
            sid = post((one, two)[round_ % 2], "你好")["session_id"]  # ids are the server's
            start = threading.Barrier(len(FACT_TURNS))
            errors: list[str] = []

            def send(i: int, message: str) -> None:
                start.wait()
                r = httpx.post(f"{(one, two)[i % 2]}/v1/chat", timeout=60,
                               json={"message": message, "session_id": sid, "as_of": AS_OF})
                if r.status_code != 200:
                    errors.append(r.text)
            threads = [threading.Thread(target=send, args=(i, m)) for i, m in enumerate(FACT_TURNS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert errors == []
            session = httpx.get(f"{one}/v1/sessions/{sid}", timeout=30).json()
            assert session["facts"] == dict(FACT_TURNS.values()), f"round {round_}"
            assert sorted(t["message"] for t in session["turns"]) == sorted(["你好", *FACT_TURNS])
            assert [t["n"] for t in session["turns"]] == [1, 2, 3, 4, 5, 6]
