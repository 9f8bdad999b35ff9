"""The classes of input real pages bring (issue 7), each with a small fixture written here in the shape real
pages take: traditional script, web punctuation, lists announced in words, inline-only structure, fragments."""
from nlp.document import parse_document
from nlp.types import RawText


def parse(text: str, name: str = "page.txt"):
    return parse_document(RawText(source_file=name, format="txt", text=text))


def texts(items) -> str:
    return " | ".join(x.text for x in items)


# ------------------------------------------------------------------ 1. traditional characters, 2. web punctuation

SIMPLIFIED = """某市安全生产守信激励办法
第三条 对守信生产经营单位，采取下列激励措施：
（一）减少执法检查频次；
（二）在财政资金项目安排中优先支持。
第四条 生产经营单位有下列情形之一的，不得列为守信生产经营单位：
（一）一年内发生较大及以上生产安全责任事故的；
（二）瞒报、谎报生产安全事故的。
"""
TRADITIONAL = """某市安全生產守信激勵辦法
第三條 對守信生產經營單位,採取下列激勵措施:
(一)減少執法檢查頻次;
(二)在財政資金項目安排中優先支持.
第四條 生產經營單位有下列情形之一的,不得列為守信生產經營單位:
(一)一年內發生較大及以上生產安全責任事故的;
(二)瞞報、謊報生產安全事故的.
"""


def test_traditional_web_copy_extracts_like_the_simplified_original_and_is_quoted_as_printed():
    a, b = parse(SIMPLIFIED), parse(TRADITIONAL)
    assert len(a.measures) == len(b.measures) == 2
    assert len(a.conditions) == len(b.conditions)
    assert [m.path for m in a.measures] == [["第三条", "（一）"], ["第三条", "（二）"]]
    assert [m.path for m in b.measures] == [["第三條", "(一)"], ["第三條", "(二)"]]
    assert "減少執法檢查頻次" in texts(b.measures)  # the stored quote is the page's own script
    assert [c.predicate for c in a.conditions] == [c.predicate for c in b.conditions]


def test_indentation_with_full_width_spaces_is_layout_not_text():
    indented = "\n".join("\u3000\u3000" + ln for ln in SIMPLIFIED.splitlines())
    assert texts(parse(indented).measures) == texts(parse(SIMPLIFIED).measures)


# ------------------------------------------------------------------ 3. measure lists announced in words

def test_items_after_a_lead_in_are_measures_when_they_are_top_level_siblings():
    doc = parse("某区安全生产标准化激励措施\n为调动企业创建积极性，制定以下激励政策：\n"
                "一、落实工伤保险浮动费率\n对一级标准化企业，工伤保险费率下浮一档。\n（责任单位：区人力社保局）\n"
                "二、优化监管执法\n对达标企业原则上不纳入年度执法计划，减少执法检查。\n")
    assert len(doc.measures) == 2 and all(m.kind == "incentive" for m in doc.measures)
    assert doc.measures[0].departments == ["区人力社保局"]


def test_inline_items_announced_by_a_colon_are_measures_even_when_the_page_is_cut():
    doc = parse("本通告所列企业享受以下5项激励措施：一是原则上不纳入各级年度执法计划，减少执法检")
    assert [m.path for m in doc.measures] == [["一是"]]
    assert doc.measures[0].text.startswith("原则上不纳入")


def test_supervision_measures_of_a_blacklist_rule_are_read_with_their_body():
    doc = parse("二、对列入黑名单的煤矿企业，要实施停产整顿；煤矿安全监察机构要实行重点监察，加大执法处罚力度。\n")
    assert len(doc.measures) == 2 and {m.kind for m in doc.measures} == {"penalty"}
    assert doc.measures[1].departments == ["煤矿安全监察机构"]
    assert any("列入黑名单的煤矿企业" in c.text for c in doc.conditions)


def test_listing_into_the_blacklist_is_who_enters_it_not_a_measure():
    doc = parse("一、凡煤矿企业一年内发生两次一般死亡事故，拒不执行监察监管指令，经限期整改仍达不到合格标准，"
                "隐瞒事故的，一律列入安全生产“黑名单”，并予以公示。\n")
    assert doc.measures == []
    got = [c.text for c in doc.conditions]
    # the 经… phrase goes on with the one before it
    assert got[1:] == ["拒不执行监察监管指令，经限期整改仍达不到合格标准", "隐瞒事故"]
    assert doc.conditions[-1].predicate == {"event": {"type": "concealed_accident"}}


# ------------------------------------------------------------------ 4. condition lists announced otherwise

def test_decimal_looking_item_label_keeps_its_number():
    doc = parse("第五条 符合下列条件的企业，纳入红名单：\n1.安全生产标准化达到二级以上；\n"
                "2.依法参加工伤保险；\n3.3年内未受到安全监管监察部门作出的行政处罚。\n")
    paths = [c.path for c in doc.conditions]
    assert ["第五条", "3"] in paths
    third = next(c for c in doc.conditions if c.path == ["第五条", "3"])
    assert third.text.startswith("3年内") and third.predicate["not"]["within"] == {"years": 3}


def test_behaviour_list_announced_by_one_of_is_a_trigger_list():
    doc = parse("第四条 生产经营单位有下列行为之一的，视情形纳入市级安全生产失信黑名单：\n"
                "（一）抗拒安全生产行政执法的；\n（二）暂扣、吊销安全生产许可证的。\n")
    assert [c.role for c in doc.conditions] == ["penalty_trigger", "penalty_trigger"]
    assert doc.conditions[1].predicate == {"event": {"type": "license_revoked"}}


def test_scope_sentences_in_other_words():
    doc = parse("第二条 本制度适用于本市行政区域内的生产经营单位。\n"
                "第四条 安全生产领域失信行为主体包括生产经营单位及其主要负责人。\n")
    assert [c.role for c in doc.conditions] == ["scope", "scope"]


# ------------------------------------------------------------------ 5. inline-only structure, 6. fragments

def test_a_page_with_no_labels_is_read_as_one_passage_not_refused():
    doc = parse("对列入黑名单的企业，要实施停产整顿，在停产整顿期间不得进行生产经营活动。")
    assert doc.title is None and any("no clause structure" in w for w in doc.warnings)
    assert len(doc.measures) == 1


def test_a_fragment_starting_mid_document_has_no_title_and_keeps_its_labels():
    doc = parse("第二十条 对严重失信主体，依法实施联合惩戒，限制其参与评先评优。\n"
                "第二十一条 本办法自2024年1月1日起施行。有效期至")
    assert doc.title is None
    assert [c.path for c in doc.clauses][:2] == [["第二十条"], ["第二十一条"]]
    assert doc.measures and doc.measures[0].path == ["第二十条"]


def test_measures_for_listed_enterprises_apply_to_what_the_document_lists_them_for():
    from datetime import date
    from knowledge.evaluate import evaluate
    doc = parse("一、凡煤矿企业一年内发生两次一般死亡事故，隐瞒事故的，一律列入安全生产“黑名单”，并予以公示。\n"
                "二、对列入“黑名单”的煤矿企业，要实施停产整顿。\n", "blacklist.txt")
    kb = {"documents": {"d": {"id": "d", "source_file": "blacklist.txt", "title": None, "jurisdiction": None}},
          "rules": [{"id": r.id, "document_id": "d", "kind": r.kind, "combinator": r.combinator,
                     "condition_ids": r.condition_ids, "measure_ids": r.measure_ids} for r in doc.rules],
          "conditions": {c.id: {"id": c.id, "document_id": "d", "role": c.role, "text": c.text,
                                "predicate": c.predicate, "path": c.path} for c in doc.conditions},
          "measures": {m.id: {"id": m.id, "kind": m.kind, "text": m.text, "departments": m.departments,
                              "path": m.path} for m in doc.measures}}
    concealed = {"industries": ["煤矿"], "events": [{"type": "concealed_accident", "date": "2026-03-01"}]}
    clean = {"industries": ["煤矿"], "events": []}
    status = lambda p: {r["status"] for r in evaluate(kb, p, date(2026, 12, 1))}
    assert status(concealed) == {"applies"} and status(clean) == {"does_not_apply"}


def test_a_traditional_page_names_its_place_in_its_script_and_matches_either():
    from nlp.regions import contains
    doc = parse("營口市安全生產守信聯合激勵辦法\n第三條 對守信企業,減少執法檢查頻次.\n")
    assert doc.jurisdiction == "遼寧省營口市"
    assert contains(doc.jurisdiction, "辽宁省营口市") and contains(doc.jurisdiction, "營口")
    assert parse("全國安全生產嚴重失信主體名單管理辦法\n第二條 本辦法適用於全國.\n").jurisdiction in (None, "全国")
