"""What a chat message can name that the KB holds: documents (by title, short title or place), departments,
article labels. Built once per loaded KB; questions are resolved against it, not against sentence patterns.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from rapidfuzz import fuzz

from nlp.canonical import simplified
from nlp.departments import canonical_department
from nlp.labels import chinese_number
from nlp.regions import contains, find_regions, region_levels

# a title's own wrapping, dropped to get the short names people use (中华人民共和国安全生产法 → 安全生产法)
_TITLE_NOISE = re.compile(r"^(?:中华人民共和国)|[（(](?:试行|暂行|修订|征求意见稿|\d{4}年[^）)]*)[）)]$")
_LEVEL = re.compile(r"^(?:省|市|县|区|旗|自治区|州)")


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    value: str        # document id, department name as the KB prints it, …


@dataclass
class KBIndex:
    titles: dict[str, list[str]] = field(default_factory=dict)        # document id → names a user may write
    places: dict[str, Optional[str]] = field(default_factory=dict)    # document id → jurisdiction
    departments: dict[str, set[str]] = field(default_factory=dict)    # canonical → names as printed in the KB


def title_names(title: Optional[str]) -> list[str]:
    """The title and the shorter forms people write: without 中华人民共和国, without （试行）, without a leading
    place when what remains still names a document ("北京市安全生产条例" stays whole: its place is its name)."""
    if not title:
        return []
    t = simplified(re.sub(r"\s+", "", title))
    names = [t]
    short = _TITLE_NOISE.sub("", t)
    while short != t:
        t, short = short, _TITLE_NOISE.sub("", short)
    if t not in names:
        names.append(t)
    return [n for n in names if len(n) >= 4]


def build_index(kb: dict) -> KBIndex:
    ix = KBIndex()
    for d in kb["documents"].values():
        ix.titles[d["id"]] = title_names(d.get("title"))
        ix.places[d["id"]] = d.get("jurisdiction")
    for m in kb["measures"].values():
        for name in m["departments"]:
            ix.departments.setdefault(canonical_department(name) or name, set()).add(name)
    return ix


def kb_index(kb: dict) -> KBIndex:
    """The index of a loaded KB, built on first use and kept with it."""
    if "_index" not in kb:
        kb["_index"] = build_index(kb)
    return kb["_index"]


def title_mentions(ix: KBIndex, message: str) -> list[Mention]:
    """Documents the message names by title: exactly, in 《》 loosely (a few characters off), or by a short form."""
    text = simplified(message)
    found: list[Mention] = []
    for doc_id, names in ix.titles.items():
        for name in names:
            i = text.find(name)
            if i >= 0:
                found.append(Mention(i, i + len(name), doc_id))
                break
    for m in re.finditer(r"[《〈](?P<t>[^》〉]{2,60})[》〉]", text):
        if any(f.start <= m.start("t") < f.end for f in found):
            continue
        best = max(((fuzz.ratio(m.group("t"), n), doc_id) for doc_id, names in ix.titles.items() for n in names),
                   default=(0, None))
        if best[0] >= 80:
            found.append(Mention(m.start(), m.end(), best[1]))
    # a longer title that contains a shorter one found at the same place wins
    found = [f for f in found if not any(o.start <= f.start and f.end <= o.end and o.end - o.start > f.end - f.start
                                         for o in found)]
    return sorted(found, key=lambda f: f.start)


def documents_of_places(ix: KBIndex, message: str) -> list[list[str]]:
    """For each place the message names, in order, the documents whose jurisdiction is that place or within it."""
    out = []
    for region in find_regions(simplified(message)):
        docs = [d for d, place in ix.places.items() if place and (place == region or contains(region, place)
                                                                      or contains(place, region))]
        narrow = [d for d in docs if ix.places[d] and (ix.places[d] == region or contains(region, ix.places[d]))]
        if narrow or docs:
            out.append(narrow or docs)
    return out


def short_place(jurisdiction: Optional[str]) -> str:
    """营口市 for 辽宁省营口市: the lowest level, as people name a place."""
    if not jurisdiction:
        return ""
    levels = [x for x in region_levels(jurisdiction) if x]
    return levels[-1] if levels else jurisdiction


# ---- article labels ---------------------------------------------------------------------------

_NUM = "[零〇一二两三四五六七八九十百千\\d]+"
ARTICLE_REF = re.compile(
    rf"第(?P<art>{_NUM})条(?P<supp>之[一二三四五六七八九十]+)?|第(?P<part>{_NUM})(?:部分|章|节)"
    rf"|[（(](?P<paren>{_NUM})[）)](?:项|款)?|第(?P<item>{_NUM})(?:项|款|点)|(?P<top>[一二三四五六七八九十]+)、")


@dataclass(frozen=True)
class LabelRef:
    kind: str       # article | part | paren | item | top
    number: int
    supplement: str = ""


def label_refs(message: str) -> list[LabelRef]:
    refs = []
    for m in ARTICLE_REF.finditer(message):
        kind = next(k for k in ("art", "part", "paren", "item", "top") if m.group(k))
        n = chinese_number(m.group(kind))
        if n:
            refs.append(LabelRef({"art": "article"}.get(kind, kind), n, m.group("supp") or ""))
    return refs


def path_label_kind(label: str) -> tuple[str, Optional[int]]:
    if "条" in label:
        return "article", chinese_number(label.replace("第", "").split("条")[0]) if "之" not in label else None
    if re.search(r"[章节编]$", label):
        return "part", chinese_number(label)
    if re.match(r"[（(]", label):
        return "paren", chinese_number(label)
    if label.isdigit():
        return "item", int(label)
    return "top", chinese_number(label)


# how a reference may be written for a label of each printed kind: 第三条 for an 三、 of a document without
# articles, 第（二）项 / 第二项 for （二）, 第2项 for 2
_COMPATIBLE = {"article": {"article", "top"}, "part": {"part", "top"}, "top": {"top"},
               "paren": {"paren", "item"}, "item": {"item", "paren"}}


def label_matches(ref: LabelRef, label: str) -> bool:
    kind, n = path_label_kind(label)
    if ref.supplement:
        return label.endswith(ref.supplement) and "条" in label and chinese_number(label.split("条")[0]) == ref.number
    return n == ref.number and kind in _COMPATIBLE[ref.kind]


def clauses_at(kb: dict, refs: list[LabelRef], doc_ids: Optional[list[str]] = None) -> list[dict]:
    """Clauses whose path ends with the referenced labels (the last reference on the last label, the ones
    before it on labels above), in the given documents or any; exact kinds first."""
    if not refs:
        return []
    hits = []
    for c in kb["clauses"].values():
        if doc_ids is not None and c["document_id"] not in doc_ids:
            continue
        path = c["path"]
        if not path or not label_matches(refs[-1], path[-1]):
            continue
        above, rest = list(path[:-1]), refs[:-1]
        ok = True
        for ref in reversed(rest):
            while above and not label_matches(ref, above[-1]):
                above.pop()
            if not above:
                ok = False
                break
            above.pop()
        if ok:
            hits.append(c)
    exact = [c for c in hits if path_label_kind(c["path"][-1])[0] == refs[-1].kind]
    if hits or len(refs) > 1:
        return exact or hits
    # "第7条" of a document whose items are numbered 7、: the number, whatever the label's kind
    return [c for c in kb["clauses"].values() if c["path"] and (doc_ids is None or c["document_id"] in doc_ids)
            and path_label_kind(c["path"][-1])[1] == refs[-1].number]


def department_mentions(ix: KBIndex, message: str) -> list[Mention]:
    """Departments the message names, resolved against the KB's own department names (fuzzy: 市财政局 ≈
    财政局 ≈ 无锡市财政局; 人社局 ≈ 人力资源和社会保障局)."""
    text = simplified(message)
    found = []
    for m in re.finditer(r"[\u4e00-\u9fff（）()、]{1,30}?(?:委员会|管理局|监督管理局|分局|支行|局|委|办公室|办|中心|海关|"
                         r"银行|工会|妇联|团委|贸促会|协会|法院|检察院|部门|机构|机关|组织)(?![\u4e00-\u9fff]{0,1}(?:企业|单位))",
                         text):
        name = _trim_department(m.group(0))
        if len(name) < 2:
            continue
        canon = canonical_department(name)
        if canon and canon in ix.departments:
            start = m.end() - len(name)
            found.append(Mention(start, m.end(), canon))
    return found


_LEAD = re.compile(r"^.*?(?:我是|我们是|作为|我在|我们|请问|那么|想问|问一下|问问|对于|关于|的|在|是|对|和|与|被|由|没|未|向|受|经|给|按|让)"
                   r"(?=[\u4e00-\u9fff]{2,})")


def _trim_department(name: str) -> str:
    """The department part of a run of Chinese ending in 局/委/…: what follows the last 的/是/在/我们…,
    and no place in front that is not part of the name ("无锡市财政局" keeps 无锡市)."""
    prev = None
    while prev != name:
        prev, name = name, _LEAD.sub("", name)
    return name
