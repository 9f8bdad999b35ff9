"""The endpoints the web page adds: GET / and /static/*, PUT /v1/sessions/{id}/facts, GET /v1/profile/schema and
GET /v1/review (in-process client; the browser tests are tests/test_web_page.py)."""
from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from api.app import Settings, create_app
from knowledge.db import open_db
from knowledge.queries import cached_kb
from knowledge.session_facts import RERUN_MESSAGE, stored_facts
from knowledge.understanding import named_in, route, statement_facts

AS_OF = "2026-11-22"
WUXI = "003_de71b19c54652fc1"
QUESTION = ("我们是无锡的一家危险化学品储存企业，构成重大危险源，安全生产标准化二级并持续运行，三年内没有失信行为、"
            "没有受过行政处罚、没有发生亡人事故。可以享受什么激励？")


@pytest.fixture(scope="module")
def client(kb_path, tmp_path_factory):
    sessions = tmp_path_factory.mktemp("web_sessions") / "s.sqlite"
    with TestClient(create_app(Settings(db_path=kb_path, sessions_path=sessions))) as c:
        yield c


def wuxi_incentive(reply: dict) -> str:
    [rule] = [r for r in reply["results"] if r["document_id"] == WUXI and r["kind"] == "incentive"]
    return rule["status"]


def first_turn(client) -> dict:
    r = client.post("/v1/chat", json={"message": QUESTION, "as_of": AS_OF})
    assert r.status_code == 200
    reply = r.json()
    assert wuxi_incentive(reply) == "applies"
    return reply


# ---- the page ----------------------------------------------------------------------------------------

def test_page_is_served_with_a_policy_that_loads_nothing_from_elsewhere(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
    html = r.text
    assert '<html lang="zh-CN">' in html and "/static/app.js" in html and "/static/app.css" in html
    assert "http://" not in html and "https://" not in html  # no CDN, no font service
    for name, kind in (("app.js", "javascript"), ("app.css", "text/css"), ("favicon.svg", "image/svg+xml")):
        s = client.get(f"/static/{name}")
        assert s.status_code == 200 and kind in s.headers["content-type"], name
        assert "https://" not in s.text and "http://" not in s.text.replace("http://www.w3.org/2000/svg", "")
    assert client.head("/").status_code == 200
    assert client.get("/static/nothing.js").status_code == 404


def test_page_script_never_writes_markup():
    from api.routes.web import STATIC
    js = (STATIC / "app.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in js, sink


def test_static_files_are_package_data():
    import tomllib
    from api.routes.web import STATIC
    root = STATIC.parent.parent
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert "static/*" in data["tool"]["setuptools"]["package-data"]["api"]
    assert any(x.startswith("playwright==") for x in data["project"]["optional-dependencies"]["test"])
    assert {p.name for p in STATIC.iterdir()} >= {"index.html", "app.js", "app.css"}


# ---- PUT /v1/sessions/{id}/facts -----------------------------------------------------------------------

def test_a_corrected_fact_changes_the_answer_at_once(client):
    first = first_turn(client)
    sid = first["session_id"]
    facts = {**first["facts"], "standardization_level": 3}
    r = client.put(f"/v1/sessions/{sid}/facts", json={"facts": facts, "as_of": AS_OF})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["session_id"] == sid and second["intent"] == "eligibility"
    assert second["facts"]["standardization_level"] == 3 and second["facts"]["region"] == "江苏省无锡市"
    assert wuxi_incentive(second) != "applies"
    assert "可以享受 12 项激励措施" not in second["reply"]
    # the words of an unchanged fact are kept, those of the changed one are not
    assert "地区：江苏省无锡市（您说：“我们是无锡的一家危险化学品储存企业”）" in second["understood"]
    assert "安全生产标准化三级\n" in second["understood"] + "\n"
    # stored: the session and a following chat turn use the corrected facts
    s = client.get(f"/v1/sessions/{sid}").json()
    assert s["facts"]["standardization_level"] == 3
    assert [t["message"] for t in s["turns"]] == [QUESTION, RERUN_MESSAGE]
    back = client.put(f"/v1/sessions/{sid}/facts", json={"facts": first["facts"], "as_of": AS_OF}).json()
    assert wuxi_incentive(back) == "applies" and "可以享受 12 项激励措施" in back["reply"]


def test_a_removed_fact_is_forgotten(client):
    first = first_turn(client)
    sid = first["session_id"]
    facts = {k: v for k, v in first["facts"].items() if k != "absent_events"}
    out = client.put(f"/v1/sessions/{sid}/facts", json={"facts": facts, "as_of": AS_OF}).json()
    assert "absent_events" not in out["facts"] and wuxi_incentive(out) == "undetermined"
    assert out["questions"], "the history is unknown again, so it is asked"
    # one denial of three removed
    facts = {**first["facts"], "absent_events": first["facts"]["absent_events"][:2]}
    out = client.put(f"/v1/sessions/{sid}/facts", json={"facts": facts, "as_of": AS_OF}).json()
    assert len(out["facts"]["absent_events"]) == 2 and wuxi_incentive(out) == "undetermined"


@pytest.mark.parametrize("facts,field", [
    ({"standardization_level": 5}, "standardization_level"),
    ({"employees": -1}, "employees"),
    ({"major_hazard_source": "是"}, "major_hazard_source"),
    ({"events": [{"type": "flood"}]}, "events[0].type"),
    ({"absent_events": [{"type": "accident", "within_years": "三"}]}, "absent_events[0].within_years"),
    ({"absent_events": [{"type": "nothing"}]}, "absent_events[0].type"),
    ({"favourite_colour": "红"}, "favourite_colour"),
])
def test_bad_facts_are_refused_naming_the_field(client, facts, field):
    sid = first_turn(client)["session_id"]
    r = client.put(f"/v1/sessions/{sid}/facts", json={"facts": facts})
    assert r.status_code == 422 and r.json()["field"] == field, r.json()
    assert client.get(f"/v1/sessions/{sid}").json()["facts"]["standardization_level"] == 2  # unchanged


def test_facts_of_an_unknown_or_bad_session(client):
    r = client.put("/v1/sessions/nosuchsession/facts", json={"facts": {}})
    assert r.status_code == 404 and r.json()["field"] == "session_id"
    assert client.put("/v1/sessions/../facts", json={"facts": {}}).status_code in (404, 422)
    assert client.put("/v1/sessions/a%20b/facts", json={"facts": {}}).status_code == 422
    sid = first_turn(client)["session_id"]
    assert client.put(f"/v1/sessions/{sid}/facts", json={"facts": [], "as_of": AS_OF}).status_code == 422
    assert client.put(f"/v1/sessions/{sid}/facts", json={"facts": {}, "as_of": 20261122}).status_code == 422


def test_the_rerun_turn_states_nothing_and_asks_about_the_case(kb_path):
    """The turn a correction is recorded as must not add facts of its own and must route to the case."""
    kb = cached_kb(kb_path, date.fromisoformat(AS_OF))
    named = named_in(kb, RERUN_MESSAGE)
    new = statement_facts(RERUN_MESSAGE, named, date.fromisoformat(AS_OF))
    assert not [k for k in new if not k.startswith("_")]
    assert route(RERUN_MESSAGE, new, {"standardization_level": 3}, named)[0] == "eligibility"


def test_stored_facts_keep_the_words_of_unchanged_facts():
    old = {"region": "江苏省无锡市", "standardization_level": 2, "events_stated": [{"type": "accident", "date": "2025-01-02"}],
           "absent_events": [{"type": "dishonest_act", "within_years": 3}, {"type": "accident", "within_years": 3, "fatal": True}],
           "_said": {"region": "无锡的", "standardization_level": "二级", "events": ["去年出过事故"],
                     "absent": {"dishonest_act": "没有失信", "accident": "没有亡人事故"}},
           "_asked_kind": "incentive", "_last_question": {"key": "x", "field": "y"}}
    new = {"region": "江苏省无锡市", "standardization_level": 3, "events": [{"type": "accident", "date": "2025-01-02"}],
           "absent_events": [{"type": "dishonest_act", "within_years": 3}]}
    out = stored_facts(old, new)
    assert out["_said"] == {"region": "无锡的", "events": ["去年出过事故"], "absent": {"dishonest_act": "没有失信"}}
    assert out["events_stated"] == new["events"] and "events" not in out
    assert out["_asked_kind"] == "incentive" and "_last_question" not in out


# ---- reads for the page ----------------------------------------------------------------------------------

def test_profile_schema_has_the_labels_the_page_shows(client):
    s = client.get("/v1/profile/schema").json()
    level = s["facts"]["standardization_level"]
    assert level["label"] == "安全生产标准化等级" and level["choices"] == [1, 2, 3]
    assert level["choice_labels"] == {"1": "一级", "2": "二级", "3": "三级"}
    assert s["facts"]["major_hazard_source"]["type"] == "boolean"
    assert s["events"]["blacklisted"] == {"label": "被纳入失信联合惩戒对象名单", "status": True}
    assert s["event_fields"]["severity"]["choices"] == ["一般", "较大", "重大", "特别重大"]


def test_review_list_is_read_only_and_worst_first(client, kb_path):
    from knowledge.review import review
    r = client.get("/v1/review")
    assert r.status_code == 200
    items = r.json()
    assert items == review(open_db(kb_path, readonly=True))[:200]
    assert [i["severity"] for i in items] == sorted((i["severity"] for i in items), reverse=True)
    assert client.get("/v1/review", params={"limit": 2}).json() == items[:2]
    assert client.get("/v1/review", params={"limit": 0}).status_code == 422
    assert client.post("/v1/review").status_code == 405
