"""Fact extraction from chat messages (nlp/facts.py) and the industry vocabulary (nlp/industries.py)."""
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time

import pytest

from nlp.facts import EVENT_TERMS_FILE, PATTERNS_FILE, parse_facts
from nlp.industries import DATA_FILE as INDUSTRIES_FILE, canonical, find_industries, industry_matches

D = dt.date(2026, 11, 22)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES_DIR = "/work/shared/eval/cases"
ABSENT = object()  # the key must not be in the result

A01_FACTS = {
    "region": "辽宁省营口市",
    "standardization_level": 1,
    "public_commitment": True,
    "absent_events": [
        {"type": "dishonest_act", "within_years": 3},
        {"type": "administrative_penalty", "within_years": 3},
        {"type": "accident", "within_years": 3, "fatal": True},
        {"type": "occupational_disease_case", "within_years": 3},
    ],
}
A02_FACTS = {
    "region": "江苏省无锡市",
    "industries": ["危险化学品储存"],
    "standardization_level": 2,
    "standardization_in_operation": True,
    "major_hazard_source": True,
    "absent_events": [
        {"type": "dishonest_act", "within_years": 3},
        {"type": "administrative_penalty", "within_years": 3},
        {"type": "accident", "within_years": 3, "fatal": True},
    ],
}


def facts_of(message, as_of=D):
    """parse_facts without `_said` (the words each fact came from, tested in test_fact_sentences.py)."""
    return {k: v for k, v in parse_facts(message, as_of).items() if k != "_said"}


def _case(name):
    path = os.path.join(CASES_DIR, name)
    if not os.path.exists(path):
        pytest.skip(f"{path} not present")
    with open(path, encoding="utf-8") as f:
        case = json.load(f)
    return case["question"], dt.date.fromisoformat(case["as_of"])


@pytest.mark.parametrize("name, expected", [
    ("a01_yingkou_chat.json", A01_FACTS),
    ("a02_wuxi_chat.json", A02_FACTS),
])
def test_eval_case_questions(name, expected):
    question, as_of = _case(name)
    assert facts_of(question, as_of) == expected


def test_a05_question_is_not_a_claim():
    # "能纳入联合激励对象吗？" asks; it neither recognises the enterprise nor states a commitment
    question, as_of = _case("a05_yingkou_missing_commitment.json")
    facts = parse_facts(question, as_of)
    assert facts["standardization_level"] == 1
    assert "credit_model_enterprise" not in facts and "public_commitment" not in facts


def _acc(**kw):
    return {"type": "accident", **kw}


def _pen(**kw):
    return {"type": "administrative_penalty", **kw}


SUBSET_CASES = [
    # regions: bare city, county, province+city, banner
    ("我们是无锡的一家企业", D, {"region": "江苏省无锡市", "industries": ABSENT}),
    ("我们在江阴，做危化品仓储", D, {"region": "江苏省无锡市江阴市", "industries": ["危险化学品储存"]}),
    ("公司位于辽宁省营口市", D, {"region": "辽宁省营口市"}),
    ("我们是陈巴尔虎旗的煤矿企业", D, {"region": "内蒙古自治区呼伦贝尔市陈巴尔虎旗", "industries": ["煤矿"]}),
    ("无锡的企业去年发生过事故", D,
     {"region": "江苏省无锡市", "events": [_acc(date_from="2025-01-01", date_to="2025-12-31")],
      "absent_events": ABSENT}),
    # industries
    ("我们是危化品企业", D, {"industries": ["危险化学品"]}),
    ("我们是危险化学品生产、储存企业", D, {"industries": ["危险化学品生产", "危险化学品储存"]}),
    ("10人以上的金属、木质粉尘企业", D, {"industries": ["金属粉尘", "木质粉尘"], "employees": ABSENT}),
    ("构成重大危险源的冶金等工贸企业", D, {"industries": ["冶金"], "major_hazard_source": True}),
    ("我们不是化工企业，是家具厂", D, {"industries": ["家具制造"]}),
    ("我们涉及硝化工艺", D, {"key_hazardous_process": True, "industries": ABSENT}),
    ("我们主要是做钢铁的", D, {"industries": ["钢铁冶金"], "_hypothetical": ABSENT}),
    # numerals
    ("员工一百二十人", D, {"employees": 120}),
    ("员工80多人", D, {"employees": 80}),
    ("我们只有8名员工", D, {"employees": 8}),
    ("我们有两百名职工，是港口装卸企业", D, {"employees": 200, "industries": ["港口装卸"]}),
    ("去年发生事故，死亡1人", D,
     {"employees": ABSENT, "events": [_acc(date_from="2025-01-01", date_to="2025-12-31", fatalities=1)]}),
    # standardization
    ("安全生产标准化达到一级水平", D, {"standardization_level": 1}),
    ("我们是三级达标企业", D, {"standardization_level": 3}),
    ("标准化等级为二级，一直持续进行安全生产标准化运行", D,
     {"standardization_level": 2, "standardization_in_operation": True}),
    ("标准化二级，但没有持续运行", D, {"standardization_level": 2, "standardization_in_operation": False}),
    # booleans and their negations
    ("考核评分排名靠前", D, {"assessment_top_ranked": True}),
    ("考核排名比较靠后", D, {"assessment_top_ranked": False}),
    ("我们没有重大危险源", D, {"major_hazard_source": False}),
    ("厂区不构成重大危险源", D, {"major_hazard_source": False}),
    ("有两处重大危险源", D, {"major_hazard_source": True}),
    ("我们涉及重点监管危险化工工艺", D, {"key_hazardous_process": True, "industries": ABSENT}),
    ("不涉及重点监管危险化工工艺", D, {"key_hazardous_process": False}),
    ("还没有向社会公开承诺", D, {"public_commitment": False}),
    ("已签署安全生产承诺书", D, {"public_commitment": True}),
    ("去年已被评为诚信示范企业", D, {"credit_model_enterprise": True}),
    ("我们还不是守信激励对象", D, {"credit_model_enterprise": False}),
    # dates
    ("去年被罚款一次", D, {"events": [_pen(date_from="2025-01-01", date_to="2025-12-31")]}),
    ("今年一月发生了一起一般事故", D,
     {"events": [_acc(date_from="2026-01-01", date_to="2026-01-31", severity="一般")]}),
    ("2024年5月3日发生一起较大生产安全事故，造成3人死亡", D,
     {"events": [_acc(date="2024-05-03", fatalities=3, severity="较大")]}),
    ("2024年5月受到应急管理局的行政处罚", D,
     {"events": [_pen(date_from="2024-05-01", date_to="2024-05-31", authority="应急管理部门")]}),
    ("上个月被罚款了", dt.date(2025, 3, 15), {"events": [_pen(date_from="2025-02-01", date_to="2025-02-28")]}),
    ("3个月前发生过一起事故，无人员伤亡", D,
     {"events": [_acc(date_from="2026-08-01", date_to="2026-08-31", fatalities=0)]}),
    ("近三年发生过一次亡人事故", dt.date(2024, 2, 29),
     {"events": [_acc(date_from="2021-02-28", date_to="2024-02-29", fatalities=1)]}),
    ("我们2019年成立，受过一次处罚", D, {"events": [_pen()]}),
    # severities and responsibility
    ("前年发生过一起重大事故", D,
     {"events": [_acc(date_from="2024-01-01", date_to="2024-12-31", severity="重大")]}),
    ("发生了一起死亡事故，属于较大事故", D, {"events": [_acc(fatalities=1, severity="较大")]}),
    ("去年发生一起事故，是责任事故", D,
     {"events": [_acc(date_from="2025-01-01", date_to="2025-12-31", responsible=True)]}),
    ("去年发生一起较大事故，今年又发生一起一般事故", D,
     {"events": [_acc(date_from="2025-01-01", date_to="2025-12-31", severity="较大"),
                 _acc(date_from="2026-01-01", date_to="2026-11-22", severity="一般")]}),
    # counts
    ("一年内受到2次重大行政处罚", D,
     {"events": [_pen(date_from="2025-11-22", date_to="2026-11-22", major=True)] * 2}),
    ("发生过两起亡人责任事故", D, {"events": [_acc(fatalities=1, responsible=True)] * 2}),
    ("去年新发职业病2例", D,
     {"events": [{"type": "occupational_disease_case", "date_from": "2025-01-01", "date_to": "2025-12-31"}] * 2}),
    # subjects
    ("主要负责人去年有安全生产失信行为", D,
     {"events": [{"type": "dishonest_act", "date_from": "2025-01-01", "date_to": "2025-12-31",
                  "subject": "principal"}]}),
    ("分管安全的副总经理有失信记录", D, {"events": [{"type": "dishonest_act", "subject": "safety_lead"}]}),
    ("我们企业有过失信行为", D, {"events": [{"type": "dishonest_act", "subject": "unit"}]}),
    ("主要负责人和分管安全负责人近三年都没有失信行为", D,
     {"absent_events": [{"type": "dishonest_act", "within_years": 3, "subject": "principal"},
                        {"type": "dishonest_act", "within_years": 3, "subject": "safety_lead"}]}),
    # negation and its coordination
    ("没有失信行为、行政处罚和亡人事故", D,
     {"absent_events": [{"type": "dishonest_act", "within_years": None},
                        {"type": "administrative_penalty", "within_years": None},
                        {"type": "accident", "within_years": None, "fatal": True}],
      "events": ABSENT}),
    ("三年内无失信行为，也没有受过重大行政处罚", D,
     {"absent_events": [{"type": "dishonest_act", "within_years": 3},
                        {"type": "administrative_penalty", "within_years": 3, "major": True}]}),
    ("从未发生过事故", D, {"absent_events": [{"type": "accident", "within_years": None}]}),
    ("没有失信行为但受过一次行政处罚", D,
     {"absent_events": [{"type": "dishonest_act", "within_years": None}], "events": [_pen()]}),
    ("近三年未发生造成人员死亡的生产安全责任事故，未发现新发职业病病例", D,
     {"absent_events": [{"type": "accident", "within_years": 3, "fatal": True, "responsible": True},
                        {"type": "occupational_disease_case", "within_years": 3}]}),
    ("去年没有发生事故", D,
     {"absent_events": [{"type": "accident", "date_from": "2025-01-01", "date_to": "2025-12-31"}]}),
    ("近两年没有被列入黑名单", D, {"absent_events": [{"type": "blacklisted", "within_years": 2}]}),
    # hypotheticals
    ("如果去年发生了一起亡人事故，会怎样？", D,
     {"_hypothetical": True, "events": [_acc(date_from="2025-01-01", date_to="2025-12-31", fatalities=1)]}),
    ("万一被列入黑名单会有什么后果？", D, {"_hypothetical": True, "events": [{"type": "blacklisted"}]}),
    ("要是受到两次重大行政处罚呢？", D, {"_hypothetical": True, "events": [_pen(major=True)] * 2}),
    # the other event types
    ("存在重大事故隐患逾期未整改的情况", D, {"events": [{"type": "overdue_hidden_danger"}]}),
    ("去年拒不执行现场处理措施决定", D,
     {"events": [{"type": "refused_order", "date_from": "2025-01-01", "date_to": "2025-12-31"}]}),
    ("新建项目没有做安全评价", D, {"events": [{"type": "missing_safety_review"}], "absent_events": ABSENT}),
    ("新建项目都做了安全评价", D, {"events": ABSENT, "absent_events": ABSENT}),
    ("在停产整顿期间仍然生产", D, {"events": [{"type": "operated_while_suspended"}]}),
    ("取得许可证后不具备安全生产条件仍然生产", D, {"events": [{"type": "license_conditions_lost"}]}),
    ("负责人涉嫌安全生产犯罪被移送公安机关", D, {"events": [{"type": "criminal_referral"}]}),
    ("今年3月已经完成信用修复", D,
     {"events": [{"type": "credit_repaired", "date_from": "2026-03-01", "date_to": "2026-03-31"}]}),
    ("正在申请信用修复", D, {"events": ABSENT}),
    # name
    ("我们是无锡某某化工有限公司", D, {"name": "无锡某某化工有限公司", "region": "江苏省无锡市",
                                "industries": ["化工"]}),
    ("我们是一家化工公司", D, {"name": ABSENT, "industries": ["化工"]}),
]


@pytest.mark.parametrize("sentence, as_of, expected", SUBSET_CASES, ids=[c[0] for c in SUBSET_CASES])
def test_stated_facts(sentence, as_of, expected):
    facts = parse_facts(sentence, as_of)
    for key, value in expected.items():
        if value is ABSENT:
            assert key not in facts, f"{key} should be absent: {facts}"
        else:
            assert facts.get(key) == value, f"{key}: {facts}"


EXACT_CASES = [
    # corrections parse to just the corrected key (the dialogue layer merges)
    ("其实是二级", {"standardization_level": 2}),
    ("不对，我们有重大危险源", {"major_hazard_source": True}),
    ("不对，其实是80人", {"employees": 80}),
    ("更正一下，我们没有重大危险源", {"major_hazard_source": False}),
    ("不对，是持续运行的", {"standardization_in_operation": True}),
    # questions state nothing
    ("能享受哪些激励措施？", {}),
    ("我们有没有资格？", {}),
    # a question about enterprises in general (…的企业 + a question) is a rule, not the speaker
    ("无锡的企业能纳入守信激励对象吗？", {}),
    ("", {}),
]


@pytest.mark.parametrize("sentence, expected", EXACT_CASES, ids=[c[0] or "empty" for c in EXACT_CASES])
def test_only_stated_keys(sentence, expected):
    assert facts_of(sentence) == expected


@pytest.mark.parametrize("text, expected", [
    ("危险化学品储存企业", ["危险化学品储存"]),
    ("危化品企业", ["危险化学品"]),
    ("危化品，主要是危化品储存", ["危险化学品储存"]),
    ("使用危险化学品的化工企业", ["危险化学品使用", "化工"]),
    ("钢铁冶金、深井铸造（铝加工）企业", ["钢铁冶金", "深井铸造"]),
    ("取得危险化学品安全生产许可证", []),
    # a denied industry is no industry, and what is coordinated with it neither
    ("不使用危险化学品", []),
    ("也不涉及危化品", []),
    ("没有金属或木质粉尘", []),
    ("金属、木质粉尘都没有", []),
    ("危化品和危险化工工艺都不涉及", []),
    ("不使用危险化学品的化工企业", ["化工"]),
    ("没有重大危险源的化工企业", ["化工"]),
    ("我们在无锡做化工", ["化工"]),
    ("有木粉尘", ["木质粉尘"]),
    # industries no document lists, so that a scope can say "not in it"
    ("食品加工厂", ["食品加工"]),
    ("水产加工企业", ["食品加工"]),
    ("做五金件的", ["机械"]),
    ("物流公司", ["物流"]),
    ("木材、食品加工企业", ["木材加工", "食品加工"]),
])
def test_find_industries(text, expected):
    assert find_industries(text) == expected


@pytest.mark.parametrize("profile_term, rule_term, expected", [
    ("危险化学品储存", "危险化学品储存", True),
    ("危险化学品储存", "危险化学品", True),
    ("危化品仓储", "危化品", True),
    ("深井铸造", "冶金", True),
    ("木质粉尘", "工贸", True),
    ("食品加工", "工贸", True),
    ("食品加工", "化工", False),
    ("物流", "交通运输", True),
    ("物流", "危险化学品储存", False),
    ("危险化学品", "危险化学品储存", False),
    ("化工", "钢铁冶金", False),
    ("化工", "危险化学品", False),
])
def test_industry_matches(profile_term, rule_term, expected):
    assert industry_matches(profile_term, rule_term) is expected


def test_an_industry_outside_a_scope_reads_not_in_it():
    # knowledge.evaluate.industry_relation: vocabulary terms by their broader terms; a food factory is a 工贸
    # (轻工) enterprise, so it is in none of 无锡 第二条's industry lists but the 工贸 one
    from knowledge.evaluate import MET, NOT_MET, industry_relation
    [food] = find_industries("我们是一家食品加工厂")
    assert [industry_relation(food, t) for t in ("钢铁冶金", "深井铸造", "金属粉尘", "木质粉尘", "化工",
                                                  "危险化学品生产")] == [NOT_MET] * 6
    assert industry_relation(food, "工贸") == MET


def test_canonical():
    assert canonical("危化品") == "危险化学品"
    assert canonical(" 危险化学品仓储 ") == "危险化学品储存"
    assert canonical("航天") == "航天"


def test_data_files_are_documented_data():
    with open(INDUSTRIES_FILE, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines[0].startswith("#") and "语料" in lines[0]
    assert all(len(l.split("\t")) in (2, 3) for l in lines[1:] if l.strip())
    with open(EVENT_TERMS_FILE, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines[0].startswith("#")
    types = {l.split("\t")[0] for l in lines[1:] if l.strip()}
    assert types == {"accident", "administrative_penalty", "dishonest_act", "occupational_disease_case",
                     "criminal_referral", "overdue_hidden_danger", "refused_order", "missing_safety_review",
                     "operated_while_suspended", "license_conditions_lost", "blacklisted", "credit_repaired",
                     "bad_credit_record", "concealed_accident", "obstructed_inspection", "unlicensed_operation",
                     "license_revoked", "watchlisted", "_ignore"}
    with open(PATTERNS_FILE, encoding="utf-8") as f:
        objs = [json.loads(l) for l in f if l.strip()]
    assert "_comment" in objs[0]
    assert {o["kind"] for o in objs[1:]} >= {"macro", "lexicon", "fact", "time", "event_attr", "event_count"}


def test_fast_after_first_call():
    msg = _case("a02_wuxi_chat.json")[0]
    parse_facts(msg, D)
    times = []
    for _ in range(20):
        t = time.perf_counter()
        parse_facts(msg, D)
        times.append(time.perf_counter() - t)
    assert statistics.median(times) < 0.02 and sorted(times)[-2] < 0.05, times  # one GC pause allowed


def test_nothing_printed_on_stdout():
    # jionlp prints a banner on import; the CLI prints JSON on stdout
    code = ("import datetime; from nlp.facts import parse_facts; "
            "parse_facts('我们是无锡的企业，去年3月发生一起事故', datetime.date(2026, 11, 22))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""


@pytest.mark.parametrize("sentence,region", [
    ("我们不在无锡，在江阴", "江苏省无锡市江阴市"),
    ("我们不是营口的企业，是庄河的", "辽宁省大连市庄河市"),
    ("我们在江阴，不是化工企业", "江苏省无锡市江阴市"),
])
def test_denied_place_is_not_the_region(sentence, region):
    assert parse_facts(sentence, D)["region"] == region
