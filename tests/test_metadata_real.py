"""Document metadata on copies of real web pages: info boxes, cover notices, lead lines, fragments.

Each class of page has a small fixture written here (made-up documents in the shapes real pages take);
the last test reads ../shared/realdocs in place, when it is there, and scores metadata like the scorer.
"""
import difflib
import json
import re
import unicodedata
from pathlib import Path

import pytest

from nlp.document import parse_document
from nlp.regions import find_regions
from nlp.types import RawText

REALDOCS = Path(__file__).resolve().parent.parent.parent / "shared" / "realdocs"


def parse(text: str, name: str = "fixture.txt"):
    return parse_document(RawText(source_file=name, format="txt", text=text))


# --------------------------------------------------------------- the metadata each page shape gives

PAGES = [
    ('repeated_title_and_empty_number_are_not_the_title',
     "两江新区企业安全生产信用激励措施\n\n（〔〕号）\n\n两江新区企业安全生产\n\n信用激励措施\n\n"
      "为优化营商环境，调动企业积极性，制定以下激励措施：\n一、对守信企业减少检查频次。\n",
     {'title': '两江新区企业安全生产信用激励措施', 'doc_number': None, 'jurisdiction': '重庆市'}),
    ('info_box_rows_are_fields',
     "標題: 中華人民共和國交通運輸部令(第5號)交通運輸安全生產信用管理辦法\n"
      "索引號: 000-2022-001 發文字號: 第5號 發文單位: 交通運輸部\n"
      "公文種類: 部令\n成文日期: 2022年03月01日 發布日期: 2022年03月09日\n\n"
      "交通運輸安全生產信用管理辦法\n第一章 總則\n第一條 為了加強信用建設，制定本辦法。\n",
     {'title': '交通運輸安全生產信用管理辦法', 'doc_number': '第5號', 'issuer': '交通運輸部', 'issued_on': '2022-03-01', 'jurisdiction': '全国'}),
    ('title_with_number_page_stamp_and_publish_rows',
     "河南省应急厅关于加强安全生产失信惩戒工作的通知 (豫应急〔2020〕12号)\n"
      "2020-04-02 10:15  点击:881\n"
      "发布单位:河南省应急管理厅,河南省发展改革委\n发布文号:豫应急〔2020〕12号\n发布日期:2020-04-01\n"
      "各市有关部门:\n为贯彻落实有关部署，现通知如下:\n一、严格认定标准。\n",
     {'title': '河南省应急厅关于加强安全生产失信惩戒工作的通知', 'doc_number': '豫应急〔2020〕12号', 'issuer': '河南省应急管理厅', 'issued_on': '2020-04-01', 'jurisdiction': '河南省'}),
    ('lead_line_with_number_issuer_and_date',
     "《浙江省生产经营单位安全生产不良记录管理办法(试行)》(浙安办〔2018〕9号)"
      "浙江省安全生产委员会办公室于2018年5月3日发布\n"
      "第二条 本办法适用于本省生产经营单位。\n第三条 有下列情形之一的，纳入不良记录：\n（一）瞒报事故的；\n",
     {'title': '浙江省生产经营单位安全生产不良记录管理办法(试行)', 'doc_number': '浙安办〔2018〕9号', 'issuer': '浙江省安全生产委员会办公室', 'issued_on': '2018-05-03', 'jurisdiction': '浙江省'}),
    ('year_number',
     "广州市应急管理局关于公布安全生产标准化一级企业的公告\n\n    2022年第7号\n\n"
      "根据有关规定，经评审，现予公告。\n",
     {'title': '广州市应急管理局关于公布安全生产标准化一级企业的公告', 'doc_number': '2022年第7号', 'issuer': '广州市应急管理局', 'jurisdiction': '广东省广州市'}),
    ('joint_signature_with_seals_and_title_unlike_the_quoted_one',
     "各市、县（区）有关部门：\n"
      "为推进诚信体系建设，自治区应急管理厅、发展和改革委员会联合制定了《广西壮族自治区安全生产信用管理暂行办法》。"
      "现印发给你们，请认真贯彻执行。\n"
      "自治区应急管理厅（代章） 自治区发展和改革委员会\n自治区财政厅 自治区总工会（代章）\n"
      "2019年3月1日\n广西壮族自治区工贸企业安全生产信用\n管理暂行办法\n第一章 总 则\n"
      "第一条 为推进安全生产诚信体系建设，制定本办法。\n",
     {'title': '广西壮族自治区工贸企业安全生产信用管理暂行办法', 'issuer': '自治区应急管理厅', 'issued_on': '2019-03-01', 'jurisdiction': '广西壮族自治区'}),
    ('dated_cover_signature_and_two_line_title',
     "《关于建立安全生产诚信激励和惩戒制度的实施细则》已经局长办公会议研究通过，现予以印发，请认真贯彻执行。\n"
      "河北省应急管理厅\n2020年9月30日\n关于建立安全生产诚信激励\n和惩戒制度的实施细则\n"
      "为认真贯彻落实有关文件精神，制定本细则。\n一、适用范围\n",
     {'title': '关于建立安全生产诚信激励和惩戒制度的实施细则', 'issuer': '河北省应急管理厅', 'issued_on': '2020-09-30', 'jurisdiction': '河北省'}),
    ('quoted_notice_title_starting_the_first_line',
     "《国家矿山安全监察局关于加强矿山安全生产失信惩戒的通知》为进一步发挥失信惩戒作用，现提出以下要求：\n"
      "一、严格认定。各单位要严格执行认定标准。\n国家矿山安全监察局\n2021年5月6日\n",
     {'title': '国家矿山安全监察局关于加强矿山安全生产失信惩戒的通知', 'issuer': '国家矿山安全监察局', 'issued_on': '2021-05-06', 'jurisdiction': '全国'}),
    ('cited_law_at_the_start_is_not_a_title',
     "《安全生产条例》第十条规定，生产经营单位应当履行主体责任。\n一、落实主体责任。\n",
     {'title': None}),
    ('signature_date_broken_by_a_wrap',
     "泰州市安全生产信用管理办法\n第一条 为加强信用管理，制定本办法。\n泰州市人民政府\n2017年8月\n7日\n",
     {'issuer': '泰州市人民政府', 'issued_on': '2017-08-07'}),
    ('fragment_jurisdiction_from_the_places_it_names',
     "第一条 为贯彻落实《山东省人民政府关于加强安全生产工作的意见》和《烟台市人民政府关于加强企业安全生产工作的意见》要求，"
      "制定本制度。\n第二条 本制度适用于本市行政区域内的生产经营单位。\n",
     {'title': None, 'jurisdiction': '山东省烟台市'}),
    ('fragment_without_places_has_no_jurisdiction',
     "第二条 新区黑名单由新区安委会办公室负责统一管理。\n第三条 列入黑名单的期限为1年。\n",
     {'jurisdiction': None}),
    ('signature_and_date_on_one_line',
     "徐州市安全生产信用管理办法\n第一条 为加强信用管理，制定本办法。\n徐州市人民政府办公室  2018年11月14日\n",
     {'issuer': '徐州市人民政府办公室', 'issued_on': '2018-11-14', 'jurisdiction': '江苏省徐州市'}),
]


@pytest.mark.parametrize("name,text,expected", PAGES, ids=[c[0] for c in PAGES])
def test_page_metadata(name, text, expected):
    doc = parse(text)
    assert {k: getattr(doc, k) for k in expected} == expected


# --------------------------------------------------------------- a cover notice before the document

def test_title_after_cover_notice_with_undated_signature():
    doc = parse("各乡镇人民政府，市政府各部门：\n"
                "《余姚市安全生产标准化企业奖励办法》已经市政府研究通过，现印发给你们，请认真贯彻执行。\n"
                "余姚市人民政府办公室\n（此件公开发布）\n余姚市安全生产标准化企业奖励办法\n第一章 总则\n"
                "第一条 为激发企业积极性，制定本办法。\n")
    assert doc.title == "余姚市安全生产标准化企业奖励办法"
    assert doc.issuer == "余姚市人民政府办公室"
    assert doc.issued_on is None
    assert doc.jurisdiction == "浙江省宁波市余姚市"
    assert not any("余姚市人民政府办公室" == c.text for c in doc.clauses)


# --------------------------------------------------------------- fragments

@pytest.mark.parametrize("text", [
    "第二十条 县级以上应急管理部门应当建立失信行为台账。\n第二十一条 本办法所称失信行为，是指下列行为：\n（一）瞒报事故的；\n",
    "（一）发生较大以上生产安全责任事故的；\n（二）一年内发生两起一般事故的；\n（三）拒不执行监管指令的。\n",
    "一、凡煤矿企业一年内发生两次死亡事故的，一律列入黑名单，并予以公示。\n二、对列入黑名单的企业实施停产整顿。\n",
])
def test_fragment_has_no_title(text):
    doc = parse(text)
    assert doc.title is None
    assert doc.doc_number is None
    assert doc.issued_on is None


def test_region_alias_data():
    assert find_regions("北京城市副中心安全生产") == ["北京市通州区"]


# --------------------------------------------------------------- real pages, read where they are

def _norm(s):
    s = unicodedata.normalize("NFKC", s or "")
    s = re.sub(r"\s+", "", s)
    s = re.sub(r"^[（(]?[一二三四五六七八九十\d]+[)）、.．，]?", "", s)
    return s.strip("。；;，,：:")


def _same_title(g, p):
    g, p = _norm(g), _norm(p)
    if not g or not p:
        return False
    if g == p or (g in p and len(p) <= 1.6 * len(g) + 12) or (p in g and len(g) <= 1.6 * len(p) + 12):
        return True
    return difflib.SequenceMatcher(None, g, p, autojunk=False).ratio() >= 0.85


@pytest.mark.skipif(not (REALDOCS / "gold.json").exists(), reason="../shared/realdocs not present")
def test_realdocs_metadata_accuracy():
    from nlp.readers import read_document
    gold = json.loads((REALDOCS / "gold.json").read_text(encoding="utf-8"))["documents"]
    fields = hits = 0
    misses = []
    for name, want in sorted(gold.items()):
        doc = parse_document(read_document(REALDOCS / "docs" / name))
        for key, value in want.items():
            got = getattr(doc, key, None)
            fields += 1
            if value is None:
                ok = got in (None, "")
            else:
                ok = bool(got) and (_norm(str(value)) == _norm(str(got)) or (key == "title" and _same_title(value, got)))
            hits += ok
            if not ok:
                misses.append(f"{name[:3]} {key}: {got!r} (gold {value!r})")
    accuracy = hits / max(fields, 1)
    assert accuracy >= 0.9, f"metadata accuracy {accuracy:.3f}: " + "; ".join(misses)


