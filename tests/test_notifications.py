"""Dynamic management (营口 四): an event recorded for an enterprise stops its incentives at once and starts the
penalties it triggers, a credit repair restores them — one notification per measure and department printed in the
clause, with its citation; over the CLI and over HTTP (token required)."""
from __future__ import annotations

import json

import httpx
import pytest
from typer.testing import CliRunner

from api.cli import app
from knowledge.registry import Registry
from knowledge.registry_import import check_character
from test_api import serving  # the uvicorn-in-a-thread helper

AS_OF = "2026-11-22"
WUXI_DOC = "003_de71b19c54652fc1"
WUXI_TITLE = "无锡市安全生产领域信用管理暂行办法（试行）"
EMERGENCY = "县（市、区）级以上应急管理部门"
# the bodies 第六条 and 第十条 of the 无锡 办法 name, as printed
NOTIFIED = ["发展和改革", "科技", "工业和信息化", "财政", "人力资源社会保障", "行政审批部门", "工会组织",
            "证券监督管理机构", "有关金融机构"]
FISCAL_INCENTIVE = "在财政性资金补助、创业扶持等政府优惠政策实施中，予以支持。"
FISCAL_PENALTY = "依法限制参与政府采购活动。"
TOKEN = "s3cret-token"


def code(body: str) -> str:
    return body + check_character(body)


FIRMS = {
    "accident": code("91320281MA1W0101" + "1"),
    "dishonest": code("91320281MA1W0102" + "1"),
    "unclear": code("91320281MA1W0103" + "1"),
    "blacklist": code("91320281MA1W0104" + "1"),
    "http": code("91320281MA1W0105" + "1"),
}


def cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def registry(tmp_path):
    """无锡 hazardous-chemicals storage firms that meet 第四条 (the incentives apply) with no events yet."""
    f = tmp_path / "firms.csv"
    header = "统一社会信用代码,企业名称,所在地,所属行业,标准化等级,是否持续运行标准化,是否重大危险源,从业人员\n"
    rows = "".join(f"{c},无锡{k}公司,江苏省无锡市江阴市,危险化学品储存,二级,是,是,60\n" for k, c in FIRMS.items())
    f.write_text(header + rows, encoding="utf-8")
    path = tmp_path / "firms.registry.sqlite"
    out = cli("registry", "import", f, "--registry", path)
    assert out.exit_code == 0, out.output
    return path


def record(registry, kb_path, firm, *args):
    out = cli("registry", "event", FIRMS[firm], "--db", kb_path, "--registry", registry, "--as-of", AS_OF,
              "--json", *args)
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def by_action(notes, action, kind):
    return [n for n in notes if n["action"] == action and n["kind"] == kind]


def test_fatal_accident_stops_incentives_and_starts_penalties(registry, kb_path):
    out = record(registry, kb_path, "accident", "--type", "accident", "--date", "2026-05-01", "--fatalities", "1",
                 "--responsible", "--by", "王芳")
    assert out["event"]["type"] == "accident" and out["event"]["recorded_by"] == "王芳"
    stops = by_action(out["notifications"], "stop", "incentive")
    # every incentive of 第五条 and 第六条 stops, told to each department its clause prints
    assert {n["department"] for n in stops} == {EMERGENCY, *NOTIFIED}
    assert {n["measure_text"] for n in stops if n["department"] == EMERGENCY} == {
        "在制定执法检查计划时，减少执法检查频次。", "根据安全生产风险水平，下调安全生产责任保险费率。",
        "在申请安全生产政策性资金、评先评优活动中，予以支持。", "作为安全生产典型示范企业加以宣传推广。"}
    fiscal = [n for n in stops if n["department"] == "财政" and n["measure_text"] == FISCAL_INCENTIVE]
    assert len(fiscal) == 1
    n = fiscal[0]
    assert n["citation"] == {"source_file": f"{WUXI_DOC}.txt", "document_id": WUXI_DOC, "title": WUXI_TITLE,
                             "version": 1, "path": ["第六条", "（四）"], "quote": FISCAL_INCENTIVE}
    assert (n["status_before"], n["status_after"]) == ("applies", "does_not_apply")
    assert "发生过造成人员死亡的生产安全责任事故（2026-05-01）" in n["because"]
    assert n["event_id"] == out["event"]["id"] and n["acknowledged_at"] is None
    # the penalties of 第八条–第十条 start, 第十条's for the same departments
    starts = by_action(out["notifications"], "start", "penalty")
    assert {tuple(n["citation"]["path"]) for n in starts if n["department"] == EMERGENCY} == {
        ("第八条", "（一）"), ("第八条", "（二）"), ("第九条", "（一）"), ("第九条", "（二）")}
    procurement = [n for n in starts if n["measure_text"] == FISCAL_PENALTY]
    assert {n["department"] for n in procurement} == set(NOTIFIED)
    assert procurement[0]["citation"]["path"] == ["第十条", "（五）"]
    assert len(out["notifications"]) == 4 + 8 * 9 + 4 + 9 * 9
    # the text reply says it per clause, departments named
    text = cli("registry", "event", FIRMS["unclear"], "--db", kb_path, "--registry", registry, "--as-of", AS_OF,
               "--type", "accident", "--date", "2026-05-01", "--fatalities", "2", "--responsible").stdout
    assert "停止激励 12 项，实施惩戒 13 项；通知 10 个部门" in text
    assert f"第六条（四） {FISCAL_INCENTIVE}" in text and "→ 发展和改革、科技、工业和信息化、财政" in text


def test_department_lists_what_it_must_do(registry, kb_path):
    record(registry, kb_path, "accident", "--type", "accident", "--date", "2026-05-01", "--fatalities", "1",
           "--responsible")
    out = cli("notifications", "--registry", registry, "--department", "财政局", "--open")
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    assert lines[0] == "财政（17 条，17 条待确认）"
    assert f"停止激励 {FIRMS['accident']} 无锡accident公司：{FISCAL_INCENTIVE}" in out.stdout
    assert f"依据《{WUXI_TITLE}》第六条（四）；事件 #1（2026-05-01 生产安全事故）" in out.stdout
    assert f"实施惩戒 {FIRMS['accident']} 无锡accident公司：{FISCAL_PENALTY}" in out.stdout
    assert "减少执法检查频次" not in out.stdout  # 应急管理部门's, not 财政's
    rows = json.loads(cli("notifications", "--registry", registry, "--department", "人社局", "--json").stdout)
    assert {r["department"] for r in rows} == {"人力资源社会保障"} and len(rows) == 17
    first = rows[0]["id"]
    out = cli("notifications", "--registry", registry, "--ack", first, "--by", "人社局李四")
    assert out.exit_code == 0 and f"通知 #{first} 已确认" in out.stdout
    still = json.loads(cli("notifications", "--registry", registry, "--department", "人社局", "--open",
                           "--json").stdout)
    assert len(still) == 16 and first not in {r["id"] for r in still}
    assert cli("notifications", "--registry", registry, "--ack", 99999).exit_code == 1


def test_credit_repair_restores_incentives(registry, kb_path):
    stopped = record(registry, kb_path, "dishonest", "--type", "dishonest_act", "--date", "2026-03-01")
    assert {n["action"] for n in stopped["notifications"]} == {"stop"}
    assert len({n["measure_id"] for n in stopped["notifications"]}) == 12
    restored = record(registry, kb_path, "dishonest", "--type", "credit_repaired", "--date", "2026-06-01")
    starts = restored["notifications"]
    assert {(n["action"], n["kind"]) for n in starts} == {("start", "incentive")}
    assert {n["measure_id"] for n in starts} == {n["measure_id"] for n in stopped["notifications"]}
    fiscal = [n for n in starts if n["department"] == "财政" and n["measure_text"] == FISCAL_INCENTIVE][0]
    assert (fiscal["status_before"], fiscal["status_after"]) == ("does_not_apply", "applies")
    assert fiscal["citation"]["path"] == ["第六条", "（四）"]
    text = cli("notifications", "--registry", registry, "--department", "财政", "--enterprise",
               FIRMS["dishonest"]).stdout
    assert f"给予激励 {FIRMS['dishonest']} 无锡dishonest公司：{FISCAL_INCENTIVE}" in text
    assert "完成信用修复" in text and "停止激励" in text


def test_blacklisting_and_removal(registry, kb_path):
    listed = record(registry, kb_path, "blacklist", "--type", "blacklisted", "--date", "2026-02-01")
    assert {n["action"] for n in listed["notifications"]} == {"stop"}
    lifted = record(registry, kb_path, "blacklist", "--type", "credit_repaired", "--date", "2026-08-01",
                    "--note", "移出名单")
    assert {n["action"] for n in lifted["notifications"]} == {"start"} and len(lifted["notifications"]) == 76


def test_unsettled_responsibility_stops_incentives_but_starts_no_penalty(registry, kb_path):
    out = record(registry, kb_path, "unclear", "--type", "accident", "--date", "2026-05-01", "--fatalities", "1")
    assert {(n["action"], n["kind"], n["status_after"]) for n in out["notifications"]} == \
        {("stop", "incentive", "undetermined")}
    again = record(registry, kb_path, "unclear", "--type", "occupational_disease_case", "--date", "2026-06-01")
    assert again["notifications"] == []  # nothing more changes
    text = cli("registry", "event", FIRMS["unclear"], "--db", kb_path, "--registry", registry, "--as-of", AS_OF,
               "--type", "occupational_disease_case", "--date", "2026-07-01").stdout
    assert "适用的措施没有变化，无需通知部门" in text


# ---- over HTTP ----------------------------------------------------------------------------------

EVENT = {"type": "accident", "date": "2026-05-01", "fatalities": 1, "responsible": True, "by": "王芳",
         "as_of": AS_OF}


def test_http_event_needs_the_token(registry, kb_path):
    url = f"/v1/enterprises/{FIRMS['http']}/events"
    with serving(kb_path, registry_path=registry) as base, httpx.Client(base_url=base, timeout=60) as client:
        r = client.post(url, json=EVENT)
        assert r.status_code == 403 and r.json() == {"error": "writes are disabled: set XINYI_TOKEN",
                                                     "field": "authorization"}
    with serving(kb_path, registry_path=registry, write_token=TOKEN) as base, \
            httpx.Client(base_url=base, timeout=60) as client:
        r = client.post(url, json=EVENT)
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert r.json()["field"] == "authorization"
        r = client.post(url, json=EVENT, headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401
        r = client.post(url, json={**EVENT, "fatalities": -1}, headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401  # refused before the body is looked at
        with Registry(registry) as reg:
            assert reg.events_of(FIRMS["http"]) == []  # nothing was written


def test_http_event_answers_with_notifications(registry, kb_path):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with serving(kb_path, registry_path=registry, write_token=TOKEN) as base, \
            httpx.Client(base_url=base, timeout=60) as client:
        r = client.get(f"/v1/enterprises/{FIRMS['http']}")
        assert r.status_code == 200 and r.json()["profile"]["events"] == []
        assert r.json()["profile"]["standardization_level"] == 2
        r = client.post(f"/v1/enterprises/{FIRMS['http']}/events", json=EVENT, headers=auth)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["event"]["fatalities"] == 1 and body["event"]["recorded_by"] == "王芳" and body["as_of"] == AS_OF
        fiscal = [n for n in body["notifications"] if n["department"] == "财政" and n["action"] == "stop"]
        assert {n["measure_text"] for n in fiscal} >= {FISCAL_INCENTIVE}
        assert fiscal[0]["citation"]["title"] == WUXI_TITLE
        r = client.get("/v1/notifications", params={"department": "财政局", "open": "true"})
        assert r.status_code == 200
        listed = r.json()
        assert {(n["action"], n["kind"]) for n in listed} == {("stop", "incentive"), ("start", "penalty")}
        assert any(n["measure_text"] == FISCAL_PENALTY and n["citation"]["path"] == ["第十条", "（五）"]
                   for n in listed)
        assert all(n["department"] == "财政" for n in listed)
        r = client.get(f"/v1/enterprises/{FIRMS['http']}")
        assert r.json()["events"][0]["type"] == "accident"
        assert r.json()["profile"]["events"] == [{"type": "accident", "date": "2026-05-01", "fatalities": 1,
                                                  "responsible": True}]
        # bad input, in the error shape
        r = client.post(f"/v1/enterprises/{FIRMS['http']}/events", json={**EVENT, "fatality": 2}, headers=auth)
        assert r.status_code == 422 and r.json()["field"] == "fatality"
        r = client.post(f"/v1/enterprises/{FIRMS['http']}/events", json={**EVENT, "date": "2026-12-30"},
                        headers=auth)
        assert r.status_code == 422 and r.json()["field"] == "date" and "after the day" in r.json()["error"]
        r = client.post(f"/v1/enterprises/{FIRMS['http']}/events", json={**EVENT, "date": 20260501}, headers=auth)
        assert r.status_code == 422 and r.json()["field"] == "date"
        r = client.post("/v1/enterprises/91350100M000100Y43/events", json=EVENT, headers=auth)
        assert r.status_code == 404 and "no enterprise" in r.json()["error"]
        assert client.get("/v1/enterprises/91350100M000100Y43").status_code == 404
        first = listed[0]["id"]
        r = client.post(f"/v1/notifications/{first}/acknowledge", json={"by": "财政局张三"})
        assert r.status_code == 401
        r = client.post(f"/v1/notifications/{first}/acknowledge", json={"by": "财政局张三"}, headers=auth)
        assert r.status_code == 200 and r.json()["acknowledged_by"] == "财政局张三"
        r = client.get("/v1/notifications", params={"department": "财政局", "open": "true"})
        assert first not in {n["id"] for n in r.json()} and len(r.json()) == len(listed) - 1
