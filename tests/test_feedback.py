"""Push lists and feedback (庄河 发起-响应-反馈): `xinyi registry push` gives each department the measures that
apply to the registry's enterprises, with clause and due day; departments answer (executed / not_applicable /
refused); open and overdue items per department — over the CLI, the batch matcher's record_push_items and HTTP."""
from __future__ import annotations

import json
from datetime import date

import httpx
import pytest
from typer.testing import CliRunner

from api.cli import app
from knowledge.registry import Registry, RegistryError, record_push_items
from knowledge.registry_import import check_character
from test_api import serving  # the uvicorn-in-a-thread helper

AS_OF = "2026-11-22"
DUE = "2026-12-22"  # AS_OF + 30 days
TODAY = date.today().isoformat()  # feedback cannot predate the push, which is recorded now
WUXI_TITLE = "无锡市安全生产领域信用管理暂行办法（试行）"
FISCAL_INCENTIVE = "在财政性资金补助、创业扶持等政府优惠政策实施中，予以支持。"
FISCAL_PENALTY = "依法限制参与政府采购活动。"
TOKEN = "feedback-token"


def code(body: str) -> str:
    return body + check_character(body)


GOOD = code("91320281MA1W0201" + "1")      # meets 第四条: the incentives apply
FATAL = code("91320281MA1W0202" + "1")     # a responsible fatal accident: 第八条–第十条 apply
ELSEWHERE = code("91210200MA1W0203" + "1")  # 大连, a steel works: nothing of the seeds applies


def cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def registry(tmp_path, kb_path):
    f = tmp_path / "firms.csv"
    f.write_text("统一社会信用代码,企业名称,所在地,所属行业,标准化等级,是否持续运行标准化,是否重大危险源\n"
                 f"{GOOD},无锡守信公司,江苏省无锡市江阴市,危险化学品储存,二级,是,是\n"
                 f"{FATAL},无锡事故公司,江苏省无锡市,危险化学品储存,二级,是,是\n"
                 f"{ELSEWHERE},大连某公司,辽宁省大连市,钢铁冶金,,,\n", encoding="utf-8")
    path = tmp_path / "firms.registry.sqlite"
    assert cli("registry", "import", f, "--registry", path).exit_code == 0
    out = cli("registry", "event", FATAL, "--db", kb_path, "--registry", path, "--as-of", AS_OF, "--type", "accident",
              "--date", "2026-05-01", "--fatalities", "1", "--responsible")
    assert out.exit_code == 0, out.output
    return path


@pytest.fixture
def pushed(registry, kb_path):
    out = cli("registry", "push", "--db", kb_path, "--registry", registry, "--as-of", AS_OF, "--json")
    assert out.exit_code == 0, out.output
    return registry, json.loads(out.stdout)


def items(registry, *args):
    out = cli("feedback", "--registry", registry, "--json", *args)
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_push_gives_each_department_its_measures(pushed, kb_path):
    registry, summary = pushed
    # GOOD: 第五条 4 measures for 应急管理部门 + 第六条 8 × 9 bodies; FATAL: 第八条/第九条 4 + 第十条 9 × 9
    assert (summary["enterprises"], summary["pushed"], summary["already"]) == (3, 76 + 85, 0)
    assert summary["due_on"] == DUE and "财政" in summary["departments"]
    again = cli("registry", "push", "--db", kb_path, "--registry", registry, "--as-of", AS_OF)
    assert again.exit_code == 0
    assert again.stdout.strip() == (f"按 {AS_OF} 施行的政策，3 家企业：新推送 0 项措施（涉及 10 个部门），已推送过的 161 项未"
                                    f"重复；反馈期限 {DUE}")
    fiscal = items(registry, "--department", "财政局", "--as-of", AS_OF)
    assert {(p["credit_code"], p["kind"]) for p in fiscal} == {(GOOD, "incentive"), (FATAL, "penalty")}
    assert ELSEWHERE not in {p["credit_code"] for p in items(registry)}
    grant = [p for p in fiscal if p["measure_text"] == FISCAL_INCENTIVE][0]
    assert grant["citation"]["path"] == ["第六条", "（四）"] and grant["citation"]["title"] == WUXI_TITLE
    assert (grant["status"], grant["due_on"], grant["overdue"], grant["feedback"]) == ("open", DUE, False, None)


def test_feedback_closes_an_item(pushed):
    registry, _ = pushed
    fiscal = items(registry, "--department", "财政局", "--open")
    grant = [p for p in fiscal if p["measure_text"] == FISCAL_INCENTIVE][0]
    out = cli("feedback", grant["id"], "--status", "executed", "--date", TODAY, "--note", "补助已拨付",
              "--by", "财政局张三", "--registry", registry)
    assert out.exit_code == 0, out.output
    assert out.stdout.strip() == (f"推送事项 #{grant['id']}（{GOOD} 无锡守信公司，财政：{FISCAL_INCENTIVE}）反馈：已执行"
                                  f"（{TODAY}，财政局张三）")
    still = items(registry, "--department", "财政局", "--open")
    assert grant["id"] not in {p["id"] for p in still} and len(still) == len(fiscal) - 1
    done = [p for p in items(registry, "--department", "财政局") if p["id"] == grant["id"]][0]
    assert done["status"] == "executed" and done["feedback"]["note"] == "补助已拨付"
    assert done["feedback"]["by"] == "财政局张三" and done["overdue"] is False
    # a later answer replaces the status, the earlier one is kept
    cli("feedback", grant["id"], "--status", "refused", "--date", TODAY, "--registry", registry)
    assert [p for p in items(registry, "--department", "财政") if p["id"] == grant["id"]][0]["status"] == "refused"
    with Registry(registry) as reg:
        assert [r["status"] for r in reg.db["feedback"].rows_where("push_item_id = ?", [grant["id"]])] == \
            ["executed", "refused"]


def test_feedback_refusals(pushed):
    registry, _ = pushed
    first = items(registry)[0]["id"]
    out = cli("feedback", first, "--status", "done", "--date", TODAY, "--registry", registry)
    assert out.exit_code == 2 and "--status: expected executed, not_applicable, refused" in out.stderr
    out = cli("feedback", first, "--status", "executed", "--registry", registry)
    assert out.exit_code == 2 and "--date" in out.stderr
    out = cli("feedback", first, "--status", "executed", "--date", "2020-01-01", "--registry", registry)
    assert out.exit_code == 2 and "before the item was pushed" in out.stderr
    out = cli("feedback", 99999, "--status", "executed", "--date", TODAY, "--registry", registry)
    assert out.exit_code == 1 and "no push item #99999" in out.stderr
    out = cli("feedback", "--status", "executed", "--registry", registry)
    assert out.exit_code == 2


def test_open_and_overdue_per_department(pushed):
    registry, _ = pushed
    out = cli("feedback", "--open", "--department", "财政局", "--overdue", "--as-of", "2027-01-15",
              "--registry", registry)
    assert out.exit_code == 0
    lines = out.stdout.splitlines()
    assert lines[0] == "财政（17 项，17 项逾期）"
    assert f"[逾期] {GOOD} 无锡守信公司 激励：{FISCAL_INCENTIVE}" in out.stdout
    assert f"[逾期] {FATAL} 无锡事故公司 惩戒：{FISCAL_PENALTY}" in out.stdout
    assert f"依据《{WUXI_TITLE}》第十条（五），期限 {DUE}" in out.stdout
    out = cli("feedback", "--open", "--department", "财政局", "--overdue", "--as-of", "2026-12-01",
              "--registry", registry)
    assert out.stdout.strip() == "没有逾期未反馈的推送事项（财政局）"
    late = items(registry, "--overdue", "--as-of", "2027-01-15")
    assert len(late) == 161 and all(p["overdue"] and p["status"] == "open" for p in late)
    one = late[0]["id"]
    cli("feedback", one, "--status", "not_applicable", "--date", TODAY, "--registry", registry)
    assert one not in {p["id"] for p in items(registry, "--overdue", "--as-of", "2027-01-15")}


def test_record_push_items_for_the_batch_matcher(registry):
    """What `xinyi match` hands over: dicts, citation nested or flat; an item pushed before is not doubled."""
    row = {"credit_code": GOOD, "measure_id": "003_de71b19c54652fc1-m007", "department": "财政",
           "document_id": "003_de71b19c54652fc1", "version": 1, "rule_id": "003_de71b19c54652fc1-r000",
           "citation": {"source_file": "003_de71b19c54652fc1.txt", "path": ["第六条", "（四）"],
                        "quote": FISCAL_INCENTIVE, "title": WUXI_TITLE},
           "due_on": date(2027, 1, 31), "kind": "incentive", "measure_text": FISCAL_INCENTIVE, "pushed_by": "match"}
    flat = {**{k: v for k, v in row.items() if k != "citation"}, "department": "科技",
            "source_file": "003_de71b19c54652fc1.txt", "path": ["第六条", "（四）"], "quote": FISCAL_INCENTIVE}
    with Registry(registry) as reg:
        assert record_push_items(reg, iter([row, flat])) == {"pushed": 2, "already": 0}
    assert record_push_items(registry, [dict(row)]) == {"pushed": 0, "already": 1}  # by path, as `xinyi match` may
    with Registry(registry) as reg:
        listed = reg.push_items(department="财政")
        assert len(listed) == 1 and listed[0]["citation"]["path"] == ["第六条", "（四）"]
        assert listed[0]["due_on"] == "2027-01-31" and listed[0]["pushed_by"] == "match"
        with pytest.raises(RegistryError, match="not in the registry"):
            record_push_items(reg, [{**row, "department": "工会组织"},
                                    {**row, "credit_code": "91350100M000100Y43"}])
        with pytest.raises(RegistryError, match="lacks measure_id"):
            record_push_items(reg, [{**row, "measure_id": None}])
        assert len(reg.push_items()) == 2  # the refused batches wrote nothing


def test_http_push_items_and_feedback(pushed):
    registry, _ = pushed
    with serving(registry.parent / "unused-kb.sqlite", registry_path=registry, write_token=TOKEN) as base, \
            httpx.Client(base_url=base, timeout=60) as client:
        r = client.get("/v1/push-items", params={"department": "财政局", "open": "true"})
        assert r.status_code == 200
        fiscal = r.json()
        assert len(fiscal) == 17 and {p["department"] for p in fiscal} == {"财政"}
        grant = [p for p in fiscal if p["measure_text"] == FISCAL_INCENTIVE][0]
        assert grant["citation"]["quote"] == FISCAL_INCENTIVE and grant["status"] == "open"
        url = f"/v1/push-items/{grant['id']}/feedback"
        body = {"status": "executed", "date": TODAY, "note": "已拨付", "by": "财政局张三"}
        r = client.post(url, json=body)
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        auth = {"Authorization": f"Bearer {TOKEN}"}
        r = client.post(url, json={**body, "status": "done"}, headers=auth)
        assert r.status_code == 422 and r.json()["field"] == "status"
        r = client.post(url, json={**body, "date": "2020-01-01"}, headers=auth)
        assert r.status_code == 422 and r.json()["field"] == "date"
        r = client.post("/v1/push-items/99999/feedback", json=body, headers=auth)
        assert r.status_code == 404 and r.json() == {"error": "no push item #99999", "field": "item_id"}
        r = client.post(url, json=body, headers=auth)
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "executed" and r.json()["feedback"]["by"] == "财政局张三"
        r = client.get("/v1/push-items", params={"department": "财政局", "open": "true"})
        assert grant["id"] not in {p["id"] for p in r.json()} and len(r.json()) == 16
        r = client.get("/v1/push-items", params={"department": "财政局", "overdue": "true", "as_of": "2027-01-15"})
        assert len(r.json()) == 16 and all(p["overdue"] for p in r.json())
        r = client.get("/v1/push-items", params={"overdue": "true", "as_of": "2026-12-01"})
        assert r.json() == []
        r = client.get("/v1/push-items", params={"as_of": "not-a-day"})
        assert r.status_code == 422 and r.json()["field"] == "as_of"
    with serving(registry.parent / "unused-kb.sqlite", registry_path=registry) as base, \
            httpx.Client(base_url=base, timeout=60) as client:
        r = client.post(url, json=body, headers=auth)
        assert r.status_code == 403 and r.json()["error"] == "writes are disabled: set XINYI_TOKEN"


def test_an_event_withdraws_the_pushed_measures_it_stops(pushed, kb_path):
    registry, _ = pushed
    event = ["registry", "event", GOOD, "--db", kb_path, "--registry", registry, "--as-of", AS_OF]
    assert cli(*event, "--type", "dishonest_act", "--date", "2026-06-01").exit_code == 0
    fiscal = items(registry, "--department", "财政局", "--as-of", AS_OF)
    grant = [p for p in fiscal if p["measure_text"] == FISCAL_INCENTIVE][0]
    assert (grant["status"], grant["overdue"]) == ("withdrawn", False)
    still = items(registry, "--department", "财政局", "--open", "--overdue", "--as-of", "2027-01-15")
    assert {p["credit_code"] for p in still} == {FATAL}  # 财政 is no longer chased for GOOD's incentives
    out = cli("feedback", "--department", "财政局", "--as-of", AS_OF, "--registry", registry)
    assert f"[已撤回（措施已停止）] {GOOD} 无锡守信公司 激励：{FISCAL_INCENTIVE}" in out.stdout
    assert cli(*event, "--type", "credit_repaired", "--date", "2026-09-01").exit_code == 0
    grant = [p for p in items(registry, "--department", "财政局", "--open", "--as-of", AS_OF)
             if p["measure_text"] == FISCAL_INCENTIVE][0]
    assert grant["status"] == "open"  # restored: the department acts on it again
