"""Structural levels of a law (编 > 分编 > 章 > 节 > 条) in the clause tree.

The fixture is written here; the second part reads a few real laws from ../shared/lawref in place (never copied).
"""
import json
import random
import re
import unicodedata
from pathlib import Path

import pytest

from nlp.document import parse_document
from nlp.types import RawText

LAWREF = Path(__file__).resolve().parent.parent.parent / "shared" / "lawref"

CODE = """示范法典
2024年1月1日 示范会议通过
第一编　总则
第一章　基本规定
第一条 为了示范，制定本法。
第二条 本法适用于示范活动。
第二章 主体
第一节 一般规定
第三条 主体依法享有权利。
第二节　特别规定
第四条 特别主体应当遵守下列规定：
（一）依法登记；
（二）按时报告。
第五条 特别主体不得从事禁止的活动。
第二编 合同
第一分编　通则
第三章 一般规定
第六条 合同依法成立。
第二分编 典型合同
第四章 买卖合同
第七条 买卖合同是出卖人转移标的物所有权的合同。
第七条之一 买卖合同的特别规定另行制定。
第三编 附则
第一千零一条 本法自公布之日起施行。
"""

# a local regulation that starts without 第一章 and whose articles are followed by its next chapter; a chapter
# whose sections start at 第二节; an article that follows a sentence list item of the previous article
REGULATION = """示范条例
第一条 为了示范，制定本条例。
第二条 本条例适用于本市。
第二章  管理
第三条 主管部门应当履行下列职责：
（一）制定规划；
（二）监督检查。
第二节 专项管理
第四条 专项管理另行规定。
第三章法律责任
第五条 违反本条例的，依法处理。
"""


def paths(text: str) -> dict[str, list[str]]:
    doc = parse_document(RawText(source_file="fixture.txt", format="txt", text=text))
    return {c.label: c.path for c in doc.clauses if c.style in ("part", "subpart", "chapter", "section", "article")}


def test_code_levels_nest_by_rank():
    p = paths(CODE)
    assert p["第一条"] == ["第一编", "第一章", "第一条"]
    assert p["第二条"] == ["第一编", "第一章", "第二条"]
    assert p["第二章"] == ["第一编", "第二章"]
    assert p["第三条"] == ["第一编", "第二章", "第一节", "第三条"]
    assert p["第四条"] == ["第一编", "第二章", "第二节", "第四条"]
    assert p["第五条"] == ["第一编", "第二章", "第二节", "第五条"]  # not under （二）
    assert p["第二编"] == ["第二编"]
    assert p["第六条"] == ["第二编", "第一分编", "第三章", "第六条"]
    assert p["第七条"] == ["第二编", "第二分编", "第四章", "第七条"]
    assert p["第七条之一"] == ["第二编", "第二分编", "第四章", "第七条之一"]
    assert p["第一千零一条"] == ["第三编", "第一千零一条"]


def test_items_stay_under_their_article():
    doc = parse_document(RawText(source_file="fixture.txt", format="txt", text=CODE))
    items = [c.path for c in doc.clauses if c.style == "paren_cn"]
    assert items == [["第一编", "第二章", "第二节", "第四条", "（一）"], ["第一编", "第二章", "第二节", "第四条", "（二）"]]


def test_chapter_after_articles_is_a_sibling_not_a_child():
    p = paths(REGULATION)
    assert p["第二条"] == ["第二条"]
    assert p["第二章"] == ["第二章"]             # not ['第二条', '第二章']
    assert p["第三条"] == ["第二章", "第三条"]
    assert p["第二节"] == ["第二章", "第二节"]   # a section closes the article and its items, stays in its chapter
    assert p["第四条"] == ["第二章", "第二节", "第四条"]
    assert p["第三章"] == ["第三章"]             # closes 第二节 too
    assert p["第五条"] == ["第三章", "第五条"]


def _label(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


@pytest.mark.skipif(not (LAWREF / "tree_gold.json").exists(), reason="../shared/lawref not present")
def test_real_laws_paths_match_gold():
    gold = json.loads((LAWREF / "tree_gold.json").read_text(encoding="utf-8"))["documents"]
    # laws with several levels (编, 节) plus a fixed random handful
    def levels(n):
        return {x[-1] for a in gold[n]["articles"] for x in a["path"][:-1]}
    multi = sorted(n for n in gold if {"编", "节"} <= levels(n) and (LAWREF / "docs" / n).exists())[:3]
    sections = sorted(n for n in gold if "节" in levels(n) and n not in multi and (LAWREF / "docs" / n).exists())
    names = multi + random.Random(7).sample(sections, min(4, len(sections)))
    assert names
    total = ok = 0
    for n in names:
        raw = RawText(source_file=n, format="txt", text=(LAWREF / "docs" / n).read_text(encoding="utf-8"))
        doc = parse_document(raw)
        by_label: dict[str, list[list[str]]] = {}
        for c in doc.clauses:
            if c.style == "article":
                by_label.setdefault(_label(c.label), []).append([_label(x) for x in c.path])
        for a in gold[n]["articles"]:
            g = [_label(x) for x in a["path"]]
            total += 1
            ok += any(p[-len(g):] == g for p in by_label.get(g[-1], []))
    # the gold follows the source's Markdown heading marks, which are wrong in a few laws (a 节 above a 章);
    # the text's own levels must still agree almost everywhere
    assert ok / total >= 0.98, (ok, total, names)
