"""The web page in a real headless Chromium (Debian's `chromium`, driven by Playwright; no browser download)
against a real server on loopback over a temporary seeds KB: ask, see a cited answer, open a citation, correct a
fact and see the answer change, answer a follow-up, reload, browse a document's clause tree, filter the 措施清单
and export it, the 行为清单, the read-only staff view with a version diff, and the page at 375 px.
Each step asserts what is on the page; a screenshot of each view is written to a temporary folder (or to
$XINYI_WEB_SCREENSHOTS). Skips only when Chromium or Playwright cannot be found."""
from __future__ import annotations

import csv
import io
import os
import re
import shutil
from pathlib import Path

import httpx
import pytest

from test_api import serving  # uvicorn in a thread on a free loopback port
from knowledge.ingest import ingest_paths

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'")
expect = sync_api.expect

CHROMIUM = os.environ.get("XINYI_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found ({CHROMIUM}): apt-get install -y chromium", allow_module_level=True)

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AS_OF = "2026-11-22"
WUXI_TITLE = "无锡市安全生产领域信用管理暂行办法（试行）"
QUESTION = ("我们是无锡的一家危险化学品储存企业，构成重大危险源，安全生产标准化二级并持续运行，三年内没有失信行为、"
            "没有受过行政处罚、没有发生亡人事故。可以享受什么激励？")
VERDICT_12 = f"结论：按《{WUXI_TITLE}》，可以享受 12 项激励措施。"
ROOT = Path(__file__).resolve().parent.parent
LEVEL_2 = "（四）安全生产标准化等级达到二级及以上水平"
LEVEL_1 = "（四）安全生产标准化等级达到一级水平"


@pytest.fixture(scope="module")
def base(kb_path, tmp_path_factory):
    with serving(kb_path, sessions_path=tmp_path_factory.mktemp("web") / "sessions.sqlite") as url:
        yield url


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    wanted = os.environ.get("XINYI_WEB_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # a fresh user-data-dir
            executable_path=CHROMIUM, headless=True, args=ARGS, viewport={"width": 1280, "height": 900},
            locale="zh-CN", accept_downloads=True)
        context.set_default_timeout(30_000)
        yield context
        context.close()


@pytest.fixture()
def page(browser):
    """A fresh tab; every page error and console error (a CSP violation, a failed request) fails the test."""
    pg = browser.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.problems = problems  # a test expecting one takes it off
    yield pg
    pg.evaluate("() => localStorage.clear()")
    pg.close()
    assert not problems, problems


def open_page(page, base: str, view: str = "", width: int = 1280) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{base}/?as_of={AS_OF}" + (f"#{view}" if view else ""))
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def shot(page, shots: Path, name: str) -> None:
    path = shots / f"{name}.png"
    page.evaluate("() => window.scrollTo(0, 0)")  # sticky panels where a reader first sees them
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{path} looks empty"


def assistant(page):
    return page.locator("#log article.turn.assistant")


# ---- chat ----------------------------------------------------------------------------------------------

def test_chat_cites_opens_a_clause_and_a_corrected_fact_changes_the_answer(page, base, shots):
    open_page(page, base)
    expect(page.get_by_role("link", name="咨询")).to_have_attribute("aria-current", "page")
    page.get_by_label("您的问题").fill(QUESTION)
    page.get_by_label("您的问题").press("Control+Enter")  # the keyboard sends
    first = assistant(page).nth(0)
    expect(first.locator(".verdict")).to_have_text(VERDICT_12)
    expect(page.locator("#log")).to_have_attribute("aria-live", "polite")
    # each measure with its department and its citation
    expect(first.locator("li.measure")).to_have_count(12)
    insurance = first.locator("li.measure", has_text="下调安全生产责任保险费率")
    expect(insurance).to_have_attribute("data-departments", "县（市、区）级以上应急管理部门")
    group = first.locator(".dept-group", has=page.locator("li.measure", has_text="下调安全生产责任保险费率"))
    expect(group.locator("> .departments")).to_have_text(
        "实施部门：县（市、区）级以上应急管理部门")
    group = first.locator(".dept-group", has=page.locator("li.measure", has_text="下调工伤保险费率"))
    expect(group.locator("> .departments")).to_contain_text("人力资源社会保障")
    # a citation opens to the clause's full text and the document version
    summary = insurance.locator("details.citation > summary")
    expect(summary).to_have_text(f"依据：《{WUXI_TITLE}》第五条（二）")
    summary.click()
    view = insurance.locator(".clause-view")
    expect(view.locator(".clause-label")).to_have_text("第五条（二）")
    expect(view.locator(".clause-text")).to_have_text("（二）根据安全生产风险水平，下调安全生产责任保险费率。")
    expect(view.locator("mark")).to_have_text("根据安全生产风险水平，下调安全生产责任保险费率。")
    expect(view.locator(".doc-version")).to_contain_text(f"出自《{WUXI_TITLE}》，第 1 版，文件 003_de71b19c54652fc1.txt")
    expect(view.locator(".doc-version .badge")).to_have_text("试行")
    expect(first.locator(".note")).to_contain_text("该办法为试行，施行日期未写明")
    # what the assistant understood
    facts = page.locator("#facts-list")
    expect(page.get_by_label("所在地区", exact=True)).to_have_value("江苏省无锡市")
    expect(page.get_by_label("所属行业", exact=True)).to_have_value("危险化学品储存")
    level = page.get_by_label("安全生产标准化等级", exact=True)
    expect(level.locator("option:checked")).to_have_text("二级")
    expect(facts).to_contain_text("近3年没有亡人事故")
    shot(page, shots, "chat_desktop")

    # correct a fact: the answer is re-run at once
    level.select_option(label="三级")
    second = assistant(page).nth(1)
    expect(page.locator("#log .turn.user.correction")).to_have_text("更正情况：安全生产标准化等级改为三级")
    expect(second.locator(".verdict")).to_have_text(f"结论：按《{WUXI_TITLE}》，激励措施能否适用还不能确定，需要补充信息。")
    expect(second.locator("li.measure")).to_have_count(0)
    expect(page.get_by_label("安全生产标准化等级", exact=True).locator("option:checked")).to_have_text("三级")
    question = second.locator(".followups > li", has_text="贵单位在应急管理部门的考核评分中是否排名靠前？")
    expect(question.locator(".why")).to_contain_text("第四条（四）")
    shot(page, shots, "chat_corrected")

    # a yes/no follow-up is a button
    question.get_by_role("button", name="是", exact=True).click()
    third = assistant(page).nth(2)
    expect(third.locator(".verdict")).to_have_text(VERDICT_12)
    expect(page.locator("#log .turn.user").last).to_have_text("是")
    expect(page.get_by_label("是否在应急管理部门考核评分中排名靠前", exact=True).locator("option:checked")).to_have_text("是")

    # remove a fact
    page.get_by_role("button", name="删除：是否在应急管理部门考核评分中排名靠前").click()
    expect(assistant(page)).to_have_count(4)
    expect(assistant(page).nth(3).locator(".verdict")).to_contain_text("还不能确定")
    expect(page.get_by_label("是否在应急管理部门考核评分中排名靠前", exact=True)).to_have_count(0)

    # the conversation survives a reload
    sid = page.evaluate("() => localStorage.getItem('xinyi.session')")
    assert sid and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{21}", sid)  # issued by the server (knowledge.sessions)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#chat-status")).to_have_text("已恢复上次的对话（4 轮）。")
    expect(page.locator("#log .turn.user").first).to_have_text(QUESTION)
    expect(assistant(page)).to_have_count(4)
    expect(assistant(page).nth(0).locator(".verdict")).to_have_text(VERDICT_12)
    expect(assistant(page).nth(3).locator(".followups")).to_contain_text("是否排名靠前")  # the last turn in full
    expect(page.get_by_label("安全生产标准化等级", exact=True).locator("option:checked")).to_have_text("三级")
    expect(page.locator("#log .answer-buttons:visible")).to_have_count(1)  # only the question asked last
    shot(page, shots, "chat_restored")

    # 新对话
    page.get_by_role("button", name="新对话").click()
    expect(assistant(page)).to_have_count(0)
    expect(page.locator("#facts-empty")).to_be_visible()
    expect(page.locator("#facts-list > li")).to_have_count(0)
    assert page.evaluate("() => localStorage.getItem('xinyi.session')") is None
    expect(page.get_by_label("您的问题")).to_be_focused()


def test_follow_up_choice_buttons_an_added_fact_and_the_day(page, base, shots):
    open_page(page, base)
    page.get_by_label("您的问题").fill("我们是无锡的一家危险化学品储存企业，构成重大危险源。三年内没有失信行为、没有受过行政处罚、"
                                   "没有发生亡人事故。能享受什么激励？")
    page.get_by_role("button", name="发送").click()
    first = assistant(page).nth(0)
    expect(first.locator(".verdict")).to_contain_text("还不能确定")
    level_q = first.locator(".followups > li", has_text="贵单位的安全生产标准化等级是几级")
    expect(level_q.get_by_role("button")).to_have_text(["一级", "二级", "三级"])
    level_q.get_by_role("button", name="二级").click()
    expect(page.locator("#log .turn.user").nth(1)).to_have_text("安全生产标准化二级")
    second = assistant(page).nth(1)
    expect(second.locator(".verdict")).to_contain_text("还不能确定")
    expect(page.get_by_label("安全生产标准化等级", exact=True).locator("option:checked")).to_have_text("二级")
    # a fact added in the panel
    page.get_by_label("情况", exact=True).select_option(label="是否持续进行安全生产标准化运行")
    page.locator("#add-fact").get_by_label("是否持续进行安全生产标准化运行").select_option(label="是")
    page.get_by_role("button", name="添加").click()
    expect(page.locator("#log .turn.user.correction").last).to_have_text(
        "更正情况：补充“是否持续进行安全生产标准化运行”：是")
    expect(assistant(page).nth(2).locator(".verdict")).to_have_text(VERDICT_12)
    expect(page.locator("#facts-list").get_by_label("是否持续进行安全生产标准化运行", exact=True)).to_be_visible()
    # another day answers again
    page.get_by_label("评估日期").fill("2026-12-01")
    page.get_by_label("评估日期").dispatch_event("change")
    expect(page.locator("#log .turn.user.correction").last).to_have_text("更正情况：评估日期改为2026-12-01")
    expect(assistant(page).nth(3).locator(".verdict")).to_have_text(VERDICT_12)
    shot(page, shots, "chat_followups")


def test_a_question_about_a_clause_cites_it(page, base):
    open_page(page, base)
    page.get_by_label("您的问题").fill("容缺受理出自哪条？")
    page.get_by_role("button", name="发送").click()
    reply = assistant(page).nth(0)
    expect(reply.locator(".verdict")).not_to_be_empty()
    cites = reply.locator(".citations details.citation")
    expect(cites.first).to_be_visible()
    cites.first.locator("summary").click()
    expect(cites.first.locator(".clause-text")).to_contain_text("容缺")
    expect(cites.first.locator(".doc-version")).to_contain_text("第 1 版")


# ---- documents ---------------------------------------------------------------------------------------

def test_documents_validity_and_clause_tree_with_what_was_extracted(page, base, shots):
    open_page(page, base, "documents")
    cards = page.locator(".doc-card")
    expect(cards).to_have_count(5)
    wuxi = cards.filter(has_text=WUXI_TITLE)
    expect(wuxi.locator(".badge.validity")).to_have_text("试行")
    expect(cards.filter(has_text="庄政发〔2017〕22号").locator(".badge.validity")).to_have_text("现行有效")
    shot(page, shots, "documents_list")
    wuxi.get_by_role("link").click()
    expect(page.locator("#doc-title")).to_have_text(WUXI_TITLE)
    expect(page.locator("#doc-title")).to_be_focused()
    meta = page.locator(".doc-meta")
    expect(meta).to_contain_text("江苏省无锡市")
    expect(meta).to_contain_text("第 1 版（共 1 版）")
    expect(meta).to_contain_text("59 个条款，25 项措施，19 个条件，3 条规则")
    tree = page.get_by_role("list", name="条款结构")
    article5 = tree.locator("details.clause[data-path='第五条']")
    expect(article5.locator("> summary")).to_have_text("第五条激励措施1")
    article5.locator("> summary").click()
    item2 = article5.locator("details.clause[data-path='第五条（二）']")
    expect(item2.locator("> summary .badge")).to_have_text("1 项措施")
    item2.locator("> summary").click()
    expect(item2.locator(".clause-text")).to_have_text("（二）根据安全生产风险水平，下调安全生产责任保险费率。")
    measure = item2.locator(".extracted-measure")
    expect(measure).to_contain_text("激励措施 根据安全生产风险水平，下调安全生产责任保险费率。")
    expect(measure.locator(".departments")).to_have_text("　实施部门：县（市、区）级以上应急管理部门")
    # a condition with its predicate in words
    article4 = tree.locator("details.clause[data-path='第四条']")
    article4.locator("> summary").click()
    item4 = article4.locator("details.clause[data-path='第四条（四）']")
    item4.locator("> summary").click()
    cond = item4.locator(".extracted-condition")
    expect(cond.locator(".badge.role")).to_have_text("守信激励条件")
    expect(cond.locator(".predicate")).to_contain_text("满足其一：")
    expect(cond.locator(".predicate")).to_contain_text("安全生产标准化等级：二级及以上")
    expect(cond.locator(".predicate")).to_contain_text("持续进行安全生产标准化运行：是")
    shot(page, shots, "document_tree")
    page.get_by_role("button", name="全部展开").click()
    expect(tree.locator("details.clause[data-path='第八条（一）']")).to_have_attribute("open", "")
    # an attestation-only condition says that the enterprise must confirm it
    page.get_by_role("link", name="← 返回文件列表").click()
    cards.filter(has_text="“信易+安全”守信激励实施方案").get_by_role("link").click()
    page.get_by_role("button", name="全部展开").click()
    expect(page.locator(".extracted-condition .badge.attest").first).to_have_text("需企业确认")


# ---- 措施清单 and 行为清单 ----------------------------------------------------------------------------------

def test_measures_filter_by_department_and_kind_and_export_csv(page, base, shots):
    everything = httpx.get(f"{base}/v1/measures").json()
    finance = httpx.get(f"{base}/v1/measures", params={"department": "财政局"}).json()
    assert 0 < len(finance) < len(everything)
    open_page(page, base, "measures")
    rows = page.locator("#measure-table tbody tr")
    expect(rows).to_have_count(len(everything))
    page.get_by_label("实施部门", exact=True).fill("财政局")
    page.get_by_label("实施部门", exact=True).press("Enter")
    expect(page.locator("#measures-status")).to_have_text(f"按实施部门“财政局”筛选，共 {len(finance)} 项措施。")
    expect(rows).to_have_count(len(finance))
    departments = rows.locator("td.departments").all_inner_texts()
    assert len(departments) == len(finance) and all("财政" in d for d in departments), departments
    expect(rows.filter(has_text="在实施财政性资金项目安排时")).to_have_count(1)
    expect(rows.filter(has_text="减少执法检查频次")).to_have_count(0)  # an 应急管理部门 measure is gone
    shot(page, shots, "measures_finance")
    # by kind as well
    page.locator("#view-measures").get_by_label("类别", exact=True).select_option(label="惩戒")
    penalties = [m for m in finance if m["kind"] == "penalty"]
    expect(rows).to_have_count(len(penalties))
    assert set(rows.locator(".badge.kind").all_inner_texts()) == {"惩戒"}
    # the CSV holds what is shown
    with page.expect_download() as info:
        page.get_by_role("button", name="导出 CSV").click()
    download = info.value
    assert download.suggested_filename == "措施清单_财政局.csv"
    raw = Path(download.path()).read_bytes().decode("utf-8")
    assert raw.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(raw.lstrip("\ufeff"))))
    assert table[0] == ["事项", "实施部门", "措施", "依据条款"]
    assert [r[2] for r in table[1:]] == [m["text"] for m in penalties]
    assert all("财政" in r[1] for r in table[1:])
    # a row's clause opens in a dialog, and Escape brings the focus back
    page.locator("#view-measures").get_by_label("类别", exact=True).select_option(label="全部")
    row = rows.filter(has_text="在实施财政性资金项目安排时")
    button = row.get_by_role("button")
    button.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".clause-text")).to_contain_text("在实施财政性资金项目安排时")
    expect(dialog.locator(".doc-version")).to_contain_text("营口市关于对安全生产领域守信生产经营单位")
    shot(page, shots, "measures_clause_dialog")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()


def test_conditions_list_by_role(page, base, shots):
    everything = httpx.get(f"{base}/v1/conditions").json()
    triggers = [c for c in everything if c["role"] == "penalty_trigger"]
    open_page(page, base, "conditions")
    rows = page.locator("#condition-table tbody tr")
    expect(rows).to_have_count(len(everything))
    page.locator("#view-conditions").get_by_label("类别", exact=True).select_option(label="失信惩戒情形")
    expect(rows).to_have_count(len(triggers))
    assert set(rows.locator("td:nth-child(2)").all_inner_texts()) == {"失信惩戒情形"}
    expect(page.locator("#conditions-status")).to_have_text(f"共 {len(triggers)} 个条件。")
    expect(rows.locator(".badge.attest").first).to_have_text("需企业确认")
    expect(rows.filter(has_text="被纳入失信联合惩戒对象名单").first).to_be_visible()
    shot(page, shots, "conditions_penalty")


# ---- staff -----------------------------------------------------------------------------------------------

def test_staff_view_is_read_only_with_review_list(page, base, shots):
    review = httpx.get(f"{base}/v1/review").json()
    open_page(page, base, "staff")
    expect(page.locator(".notice")).to_contain_text("本服务只读。")
    rows = page.locator("#review-table tbody tr")
    expect(rows).to_have_count(len(review))
    expect(rows.first).to_contain_text("措施不在任何规则中")
    expect(page.locator("#diff-status")).to_have_text("目前每份文件都只有一个版本，没有可对比的修订。")
    expect(page.locator("#diff-form")).to_be_hidden()
    shot(page, shots, "staff")


@pytest.fixture(scope="module")
def revised_base(tmp_path_factory):
    """The seeds with 无锡 第四条（四） revised from 二级 to 一级: version 2 of that document."""
    folder = tmp_path_factory.mktemp("revised")
    db = folder / "kb.sqlite"
    assert not ingest_paths([ROOT / "corpus"], db)["errors"]
    text = (ROOT / "corpus" / "003_de71b19c54652fc1.txt").read_text(encoding="utf-8")
    assert LEVEL_2 in text
    revised = folder / "wuxi_2024_revised.txt"
    revised.write_text(text.replace(LEVEL_2, LEVEL_1), encoding="utf-8")
    assert not ingest_paths([revised], db)["errors"]
    with serving(db, sessions_path=folder / "sessions.sqlite") as url:
        yield url


def test_staff_version_diff_and_an_older_version(page, revised_base, shots):
    open_page(page, revised_base, "staff")
    expect(page.locator("#diff-form")).to_be_visible()
    expect(page.locator("#view-staff").get_by_label("文件", exact=True).locator("option:checked")).to_have_text(WUXI_TITLE.removeprefix("关于"))
    expect(page.get_by_label("旧版本", exact=True).locator("option:checked")).to_have_text("第 1 版")
    expect(page.get_by_label("新版本", exact=True).locator("option:checked")).to_have_text("第 2 版")
    expect(page.locator(".diff-summary")).to_contain_text("第四条（四） 安全生产标准化等级门槛由二级提高到一级")
    changed = page.locator(".diff-list li.changed").first
    expect(changed.locator(".old")).to_contain_text("二级及以上水平")
    expect(changed.locator(".new")).to_contain_text("一级水平")
    shot(page, shots, "staff_diff")
    # the document lists both versions, and version 1 can be browsed
    page.goto(f"{revised_base}/?as_of={AS_OF}#documents/003_de71b19c54652fc1")
    expect(page.locator(".doc-meta")).to_contain_text("第 2 版（共 2 版）")
    page.get_by_role("link", name="第 1 版").click()
    expect(page.locator(".doc-meta")).to_contain_text("第 1 版（共 2 版）")
    page.get_by_role("button", name="全部展开").click()
    expect(page.locator("details.clause[data-path='第四条（四）'] .clause-text").first).to_contain_text("二级及以上水平")


# ---- narrow screens and the keyboard ---------------------------------------------------------------------

def test_375_px_wide_without_sideways_scrolling(page, base, shots):
    open_page(page, base, width=375)
    page.get_by_label("您的问题").fill(QUESTION)
    page.get_by_role("button", name="发送").click()
    expect(assistant(page).nth(0).locator(".verdict")).to_have_text(VERDICT_12)
    assistant(page).nth(0).locator("details.citation > summary").first.click()
    expect(assistant(page).nth(0).locator(".clause-view").first).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    shot(page, shots, "chat_375")
    # the tabs by keyboard
    page.get_by_role("link", name="政策文件").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".doc-card")).to_have_count(5)
    expect(page.locator("#documents-h")).to_be_focused()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    shot(page, shots, "documents_375")
    page.locator(".doc-card", has_text=WUXI_TITLE).get_by_role("link").click()
    page.get_by_role("button", name="全部展开").click()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    shot(page, shots, "document_tree_375")
    page.get_by_role("link", name="措施清单").click()
    expect(page.locator("#measure-table tbody tr").first).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    shot(page, shots, "measures_375")
    # typography: one CJK font stack, quotes never cut across lines
    style = page.evaluate("() => { const s = getComputedStyle(document.body); "
                          "return [s.fontFamily, s.lineBreak, s.wordBreak]; }")
    assert style == ['"PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif', "strict", "normal"]


def test_data_is_inserted_as_text_never_as_markup(page, base):
    """A message that looks like markup comes back as the same text, and nothing runs."""
    open_page(page, base)
    trap = "<img src=x onerror=\"document.body.dataset.pwned='1'\"><b>粗体</b>我们是无锡的企业"
    page.get_by_label("您的问题").fill(trap)
    page.get_by_role("button", name="发送").click()
    expect(assistant(page)).to_have_count(1)
    expect(page.locator("#log .turn.user").first).to_have_text(trap)
    expect(page.locator("#log img, #log b")).to_have_count(0)
    assert page.evaluate("() => document.body.dataset.pwned") is None


def test_a_forgotten_session_starts_afresh(page, base):
    open_page(page, base)
    page.evaluate("() => localStorage.setItem('xinyi.session', 'gone000000ab')")
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#chat-status")).to_have_text("上次的对话已不存在，请重新提问。")
    assert page.evaluate("() => localStorage.getItem('xinyi.session')") is None
    assert page.problems == ["console error: Failed to load resource: the server responded with a status of 404 (Not Found)"]
    page.problems.clear()


def test_a_session_the_server_forgot_mid_conversation_starts_a_new_one(page, base):
    """Session ids are the server's: a message sent with one it no longer holds is 404, and the page starts a
    new conversation with the next message instead of sending the dead id again."""
    import httpx
    open_page(page, base)
    page.locator("#ask-input").fill("我们在无锡")
    page.get_by_role("button", name="发送").click()
    expect(assistant(page)).to_have_count(1)
    sid = page.evaluate("() => localStorage.getItem('xinyi.session')")
    assert httpx.delete(f"{base}/v1/sessions/{sid}", timeout=30).status_code == 204
    page.locator("#ask-input").fill("我们有60名员工")
    page.get_by_role("button", name="发送").click()
    expect(page.locator("#chat-status")).to_have_text("这次对话已不存在，请重新提问（将开始新对话）。")
    assert page.evaluate("() => localStorage.getItem('xinyi.session')") is None
    page.locator("#ask-input").fill("我们有60名员工")
    page.get_by_role("button", name="发送").click()
    expect(assistant(page)).to_have_count(2)
    fresh = page.evaluate("() => localStorage.getItem('xinyi.session')")
    assert fresh and fresh != sid
    assert page.problems == ["console error: Failed to load resource: the server responded with a status of 404 (Not Found)"]
    page.problems.clear()
