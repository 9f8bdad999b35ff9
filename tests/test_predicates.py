"""Condition wording → typed predicate: table-driven over wordings from the seeds and ordinary policy writing."""
import pytest

from nlp.predicates import parse_predicate

CASES = [
    ("生产经营单位3年内未发生安全生产失信行为。", {"not": {"event": {"type": "dishonest_act"}, "within": {"years": 3}}}),
    ("3年内未发生亡人生产安全责任事故。",
     {"not": {"event": {"type": "accident", "fatalities": {">=": 1}, "responsible": True}, "within": {"years": 3}}}),
    ("一年内受到2次及以上安全生产重大行政处罚的。",
     {"event": {"type": "administrative_penalty", "major": True}, "within": {"years": 1}, "at_least": 2}),
    ("10人以上的金属、木质粉尘企业。",
     {"all": [{"fact": "employees", "op": ">=", "value": 10}, {"industry_any": ["金属粉尘", "木质粉尘"]}]}),
    ("构成重大危险源的危险化学品生产、储存、经营企业。",
     {"all": [{"fact": "major_hazard_source", "op": "==", "value": True},
              {"industry_any": ["危险化学品生产", "危险化学品储存", "危险化学品经营"]}]}),
    ("安全生产标准化等级达到二级及以上水平且持续进行安全生产标准化运行的，或者经无锡市应急管理局考核评分排名靠前一定比列的。",
     {"any": [{"all": [{"fact": "standardization_level", "op": "<=", "value": 2},
                       {"fact": "standardization_in_operation", "op": "==", "value": True}]},
              {"fact": "assessment_top_ranked", "op": "==", "value": True}]}),
    ("发生较大及以上生产安全责任事故的", {"event": {"type": "accident", "severity": {"at_least": "较大"}, "responsible": True}}),
    ("连续三年无不良信用记录", {"not": {"event": {"type": "bad_credit_record"}, "within": {"years": 3}}}),
    ("在被责令停产停业整顿或者暂扣许可证期间，仍然从事生产经营活动的。", {"event": {"type": "operated_while_suspended"}}),
    ("诚信典型", {"fact": "credit_model_enterprise", "op": "==", "value": True}),
    ("信用较差", None),  # a credit grade the profile does not carry: never a guess
    ("连续两年双重预防机制数字化运行评估结果为优秀的", None),
]


@pytest.mark.parametrize("text,expected", CASES, ids=[t[:12] for t, _ in CASES])
def test_predicate(text, expected):
    assert parse_predicate(text) == expected


def test_an_unreadable_alternative_is_attested_and_the_readable_one_counts():
    p = parse_predicate("发生较大及以上生产安全责任事故，或者被评为县级以上文明单位后又被撤销称号的")
    assert p["any"][0]["event"]["severity"] == {"at_least": "较大"}
    assert p["any"][1]["attested"].startswith("att-") and "文明单位" in p["any"][1]["text"]


def test_deaths_of_at_least_n_read_as_fatalities():
    p = parse_predicate("一年内累计发生死亡3人及以上生产安全责任事故的")
    assert p["event"]["fatalities"] == {">=": 3} and p["within"] == {"years": 1}


def test_attestation_key_is_stable_across_script_and_punctuation():
    from nlp.predicates import attestation_key
    assert attestation_key("拒不執行監察監管指令的") == attestation_key("拒不执行监察监管指令的")
    assert attestation_key("A，B") == attestation_key("A,B")
    assert attestation_key("拒不执行监察监管指令") != attestation_key("拒不执行整改指令")


def test_negation_is_local():
    # 无锡 contains 无; a negation must stand right before what it denies
    p = parse_predicate("经无锡市应急管理局考核评分排名靠前一定比列的")
    assert p == {"fact": "assessment_top_ranked", "op": "==", "value": True}


@pytest.mark.parametrize("text,expected", [
    ("已列入市级红名单的", {"fact": "credit_model_enterprise", "op": "==", "value": True}),
    ("被列入安全生产失信重点关注名单的", {"event": {"type": "watchlisted"}}),
    ("安全生产信用等级为B级及以上的", {"fact": "credit_grade", "op": "<=", "value": "B"}),
    ("获得市级及以上安全生产先进单位称号的", {"fact": "safety_honours", "op": "==", "value": True}),
    ("暂扣、吊销安全生产许可证的", {"event": {"type": "license_revoked"}}),
    ("瞒报、谎报、迟报生产安全事故的", {"event": {"type": "concealed_accident"}}),
    ("发生群发性职业病危害事件的", {"event": {"type": "occupational_disease_case"}}),
    ("抗拒安全生产行政执法的", {"event": {"type": "obstructed_inspection"}}),
])
def test_concepts_of_real_rules_are_typed(text, expected):
    assert parse_predicate(text) == expected
