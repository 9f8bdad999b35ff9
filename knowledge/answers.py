"""Replies that quote the KB: an article by its label, the clauses that answer a question, a place's or a
department's measures, two documents side by side, a procedure. Each returns (reply, citations).

Quotes are whole sentences (a long clause is cut after a sentence or a clause-ending mark, never mid-word);
long lists give a count and the first items, and name how to ask for the rest.
"""
from __future__ import annotations

import json
import re
import sqlite3
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Optional

from nlp.canonical import simplified

from .kbindex import short_place

NLP_DATA = Path(__file__).resolve().parent.parent / "nlp" / "data"
KIND_CN = {"incentive": "激励", "penalty": "惩戒", "other": "其他"}
LIST_TOP = 8          # items shown of a long list; the rest on request
QUOTE_CHARS = 160     # a quoted clause longer than this is cut after a sentence


@lru_cache(maxsize=1)
def query_words() -> dict:
    return json.loads((NLP_DATA / "query_words.json").read_text(encoding="utf-8"))


# ---- quoting ------------------------------------------------------------------------------------

def whole_sentences(text: str, limit: int = QUOTE_CHARS) -> str:
    """The text up to `limit` characters, ending after a sentence (。；) or, failing that, a clause (，：)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    for marks in ("。；;！？", "，,：:、"):
        cut = max((text.rfind(m, 0, limit) for m in marks), default=-1)
        if cut >= limit // 3:
            return text[:cut + 1] + "…"
    return text[:limit] + "…"


def printed_path(path: list) -> str:
    """Labels as a reader writes a reference: 二、（一）第1项 / 第六条（五）."""
    out = []
    for i, label in enumerate(path):
        if re.fullmatch(r"[一二三四五六七八九十]+", label):
            out.append(label + ("、" if i < len(path) - 1 else ""))
        elif label.isdigit():
            out.append(f"第{label}项")
        else:
            out.append(label)
    return "".join(out)


def doc_name(doc: dict) -> str:
    """《title》, or the file a page without a title came from."""
    return f"《{doc['title']}》" if doc.get("title") else f"文件“{doc['source_file']}”"


def clause_ref(doc: dict, path: list) -> str:
    return doc_name(doc) + printed_path(path)


def cite(item: dict, doc: dict, quote: Optional[str] = None) -> dict:
    return {"source_file": doc["source_file"], "document_id": doc["id"], "title": doc.get("title"),
            "version": doc.get("version"), "path": item.get("path", []), "quote": quote or item["text"]}


def without_label(text: str, path: list) -> str:
    """Clause text without its own printed label at the start (the reference names it)."""
    if path:
        label = re.escape(path[-1])
        text = re.sub(rf"^\s*{label}\s*[、．.]?\s*", "", text)
    return text


# ---- clause search ------------------------------------------------------------------------------

def query_tokens(text: str) -> list[str]:
    """The words of a question that name what it asks about (jieba words, question words dropped)."""
    from nlp.pipeline import shared_jieba
    stop = set(query_words()["stopwords"])
    out = []
    for t in shared_jieba().cut(simplified(text)):
        t = t.strip()
        if not t or re.fullmatch(r"[\W_]+", t) or t in stop or (len(t) < 2 and not t.isdigit()):
            continue
        if t not in out:
            out.append(t)
    return out


def _fts(db, sql: str, args: list):
    try:
        return db.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return []


def document_frequency(db, word: str) -> int:
    rows = _fts(db, "SELECT count(*) FROM clause_search_fts WHERE clause_search_fts MATCH ?",
                ['"' + word.replace('"', '""') + '"'])
    return rows[0][0] if rows else 0


def concepts_of(words: list[str]) -> list[list[str]]:
    """Each question word with the other wordings a clause may use for it (query_words.json synonyms)."""
    syn = query_words()["synonyms"]
    return [[w, *[x for x in syn.get(w, []) if x != w]] for w in words]


def rank_clauses(db, kb: dict, words: list[str], doc_ids: Optional[list[str]] = None,
                 must_any: Optional[list[str]] = None) -> list[tuple[float, dict]]:
    """Clauses best covering the question's words (each weighted by how rare it is among clauses; a word is
    covered by any of its wordings), best first. Candidates come from the FTS index; `must_any` keeps only
    clauses holding one of those words."""
    if not words:
        return []
    import math
    total = max(1, len(kb["clauses"]))
    concepts = concepts_of(words)
    weight = {c[0]: math.log(1 + total / (1 + document_frequency(db, c[0]))) * (3 if must_any and c[0] in must_any else 1)
              for c in concepts}
    every = list(dict.fromkeys(x for c in concepts for x in c))
    match = " OR ".join('"' + w.replace('"', '""') + '"' for w in every)
    rows = _fts(db, "SELECT s.clause_id FROM clause_search_fts JOIN clause_search s ON s.rowid = clause_search_fts.rowid "
                    "WHERE clause_search_fts MATCH ? ORDER BY bm25(clause_search_fts) LIMIT 400", [match])
    ids = [r[0] for r in rows]
    if doc_ids is not None or not ids:  # a scope, or an index that lost its FTS table: a scan of the scope
        ids = list(dict.fromkeys(ids + [c["id"] for c in kb["clauses"].values()
                                        if (doc_ids is None or c["document_id"] in doc_ids)
                                        and any(w in simplified(c["text"]) for w in every)]))
    scored = []
    full = sum(weight.values())
    for cid in ids:
        c = kb["clauses"].get(cid)
        if c is None or (doc_ids is not None and c["document_id"] not in doc_ids):
            continue
        text = simplified(c["text"])
        if must_any and not any(w in text for w in must_any):
            continue
        got = sum(weight[con[0]] * (1 if con[0] in text else 0.8) for con in concepts if any(x in text for x in con))
        if got:  # the preamble (no label) only when no numbered clause says it
            scored.append((got / full - len(text) / 1e6 - (0.2 if not c["path"] else 0), c))
    scored.sort(key=lambda x: -x[0])
    return scored


def scoped_tokens(kb: dict, question: str, doc_ids: Optional[list[str]]) -> list[str]:
    """The question's words, without the places and title words that only say which documents are meant."""
    from nlp.regions import find_regions
    words = query_tokens(question)
    if not doc_ids:
        return words
    titles = "".join(kb["documents"][d].get("title") or "" for d in doc_ids)
    return [w for w in words if not find_regions(w) and w not in titles or len(words) == 1]


def answer_passages(db, kb: dict, question: str, doc_ids: Optional[list[str]] = None,
                    extra: Optional[list[str]] = None, must_any: Optional[list[str]] = None,
                    topic: Optional[str] = None, top: int = 3,
                    with_conditions: bool = False, kind: Optional[str] = None,
                    min_cover: Optional[float] = None) -> tuple[str, list[dict], bool]:
    """What the documents say about the question: the clauses covering its words best. Returns
    (reply, citations, found); found is False when nothing covers enough of the question."""
    words = scoped_tokens(kb, question, doc_ids)
    words += [w for w in (must_any or []) if w in simplified(question) and w not in words]
    scored = rank_clauses(db, kb, words, doc_ids, must_any)
    if kind:  # 对失信企业的…: clauses whose measures are all of the other kind say nothing about this one
        scored = [(sc, c) for sc, c in scored if kind in clause_kinds(kb, c) or not clause_kinds(kb, c)]
    # a topic's own words already hold every candidate to the subject, so less of the question must be covered
    if not scored or scored[0][0] < (min_cover if min_cover is not None else (0.34 if must_any else 0.5)):
        what = topic or "、".join(query_tokens(question)[:4]) or "这个问题"
        scope = "、".join(doc_name(kb["documents"][d]) for d in doc_ids) if doc_ids else "已收录的文件"
        return f"{scope}中没有找到关于“{what}”的规定。", [], False
    best = scored[0][0]
    keep = [c for s, c in scored if s >= best * 0.75][:top]
    lines, cits = [], []
    for c in keep:
        doc = kb["documents"][c["document_id"]]
        text = without_label(c["text"], c["path"])
        kids = children(kb, c)
        if len(text) < 24 and kids:  # a heading: what it heads says it
            text = f"{text.rstrip('。：:')}——" + "".join(without_label(k["text"], k["path"]) for k in kids[:2])
            cits += [cite(k, doc) for k in kids[:2]]
        lead = lead_in(kb, c)
        if lead:  # an item is read with the sentence that introduces it (…属于第七条第五项至第八项情形的，采取下列措施：)
            text = f"{whole_sentences(without_label(lead['text'], lead['path']), 160)}……{text}"
            cits.append(cite(lead, doc))
        lines.append(f"{clause_ref(doc, c['path'])}规定：{whole_sentences(text, 320)}")
        cits.append(cite(c, doc))
        if with_conditions:  # 享受的条件: the conditions of the rules the clause's measures belong to
            conds = rule_conditions(kb, c)
            if conds:
                lines.append("  适用条件：" + "；".join(f"{whole_sentences(x['text'], 60).rstrip('。；;')}（{printed_path(x['path'])}）"
                                                    for x in conds[:6]))
                cits += [cite(x, doc) for x in conds]
    return "\n".join(lines), cits, True


def clause_kinds(kb: dict, clause: dict) -> set[str]:
    ids = {clause["id"], *(k["id"] for k in children(kb, clause))}
    return {m["kind"] for m in kb["measures"].values() if m["clause_id"] in ids}


def lead_in(kb: dict, clause: dict) -> Optional[dict]:
    """The parent clause that introduces this item, when its text ends by announcing a list (：/下列/如下)."""
    parent = kb["clauses"].get(clause.get("parent_id") or "")
    if not parent:
        return None
    own = without_label(parent["text"], parent["path"]).strip()
    return parent if own.endswith(("：", ":")) or re.search(r"(?:下列|以下|如下)[^。]{0,12}$", own) else None


def rule_conditions(kb: dict, clause: dict) -> list[dict]:
    """The conditions of every rule that gives one of the clause's measures (or its items' measures)."""
    ids = {clause["id"], *(k["id"] for k in children(kb, clause))}
    measures = {m["id"] for m in kb["measures"].values() if m["clause_id"] in ids}
    cids = dict.fromkeys(cid for r in kb["rules"] if measures & set(r["measure_ids"]) for cid in r["condition_ids"])
    return [kb["conditions"][cid] for cid in cids if cid in kb["conditions"]]


# ---- articles by label --------------------------------------------------------------------------

def children(kb: dict, clause: dict) -> list[dict]:
    return [c for c in kb["clauses"].values() if c["parent_id"] == clause["id"]]


def answer_article(kb: dict, clauses: list[dict]) -> tuple[str, list[dict]]:
    """The full text of the clauses a label names (with their items), each cited."""
    lines, cits = [], []
    for c in clauses[:3]:
        doc = kb["documents"][c["document_id"]]
        body = [without_label(c["text"], c["path"])] + [k["text"] for k in children(kb, c)]
        lines.append(f"{clause_ref(doc, c['path'])}原文：" + "\n".join(x for x in body if x.strip()))
        cits.append(cite(c, doc, c["text"]))
        cits += [cite(k, doc) for k in children(kb, c)]
    if len(clauses) > 3:
        lines.append(f"另有 {len(clauses) - 3} 个文件有同一编号的条款；请说明是哪份文件。")
    return "\n".join(lines), cits


# ---- measures listed -------------------------------------------------------------------------

def group_by_department(measures: list[dict]) -> dict[str, list[dict]]:
    """Measures under the departments that carry them out, as the document writes them; a measure the
    document gives no department keeps its own group."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for m in measures:
        names = m["departments"]
        label = "、".join(names) if len(names) <= 6 else "、".join(names[:6]) + f"等 {len(names)} 个部门"
        groups[label].append(m)
    return dict(groups)


def measure_lines(kb: dict, measures: list[dict], limit: Optional[int] = LIST_TOP) -> list[str]:
    """· measure（《title》clause）, grouped under 【department】; at most `limit` measures."""
    lines, shown = [], 0
    for dept, items in group_by_department(measures).items():
        if limit is not None and shown >= limit:
            break
        lines.append(f"【{dept}】" if dept else "【文件未写明实施部门】")
        for m in items:
            if limit is not None and shown >= limit:
                break
            doc = kb["documents"][m["document_id"]]
            mark = "，校正" if m.get("corrected") else ""  # a staff correction added or changed it
            lines.append(f"  · {whole_sentences(m['text'], 120)}（{clause_ref(doc, m['path'])}{mark}）")
            shown += 1
    if limit is not None and len(measures) > limit:
        lines.append(f"以上列出 {limit} 项，其余 {len(measures) - limit} 项可以回复“列出全部”查看，或按部门继续问。")
    return lines


def measure_citations(kb: dict, measures: list[dict]) -> list[dict]:
    return [cite(m, kb["documents"][m["document_id"]]) for m in measures]


def answer_overview(kb: dict, doc_ids: list[str], kind: Optional[str], limit: Optional[int] = LIST_TOP,
                    place: Optional[str] = None) -> tuple[str, list[dict]]:
    """The measures of these documents (of one kind when asked), per document, grouped by department."""
    what = f"{KIND_CN[kind]}措施" if kind else "激励和惩戒措施"
    lines, cits = [], []
    for d in doc_ids:
        doc = kb["documents"][d]
        ms = [m for m in kb["measures"].values() if m["document_id"] == d and (kind is None or m["kind"] == kind)]
        if not ms:
            lines.append(f"{doc_name(doc)}没有写明{what}。")
            continue
        lines.append(f"{doc_name(doc)}规定的{what}共 {len(ms)} 项：")
        lines += measure_lines(kb, ms, limit)
        cits += measure_citations(kb, ms)
    if not doc_ids:
        where = f"{place}的" if place else ""
        return f"已收录的文件中没有{where}文件。", []
    return "\n".join(lines), cits


def answer_department(kb: dict, canon: str, printed: str, kind: Optional[str], doc_ids: Optional[list[str]] = None,
                      limit: Optional[int] = LIST_TOP) -> tuple[str, list[dict]]:
    """What a department must do: the measures it carries out (in the documents of its place when it names
    one), then those the documents give to 各有关部门."""
    from nlp.departments import canonical_department
    what = f"{KIND_CN[kind]}措施" if kind else "措施"

    def pick(test) -> list[dict]:
        return [m for m in kb["measures"].values() if (kind is None or m["kind"] == kind)
                and (doc_ids is None or m["document_id"] in doc_ids) and any(test(n) for n in m["departments"])]
    own = pick(lambda n: canonical_department(n) == canon)
    shared = [m for m in pick(lambda n: canonical_department(n) in ("各有关部门", "有关部门", "各部门")) if m not in own]
    if not own and not shared:
        scope = "在这些文件中" if doc_ids else "在已收录的文件中"
        return f"{scope}没有找到由{printed}负责实施的{what}。", []
    lines = []
    if own:
        lines.append(f"{printed}负责实施的{what}共 {len(own)} 项：")
        lines += measure_lines(kb, own, limit)
    if shared:
        lines.append(f"此外，以下 {len(shared)} 项由各有关部门共同实施，{printed}也在其中：")
        lines += measure_lines(kb, shared, limit)
    return "\n".join(lines), measure_citations(kb, own + shared)


def answer_compare(kb: dict, groups: list[list[str]], kind: Optional[str]) -> tuple[str, list[dict]]:
    """Two (or more) documents side by side: for the kind asked, the conditions each sets and how many
    measures it gives."""
    lines, cits = [], []
    kinds = [kind] if kind else ["incentive", "penalty"]
    for doc_ids in groups:
        for d in doc_ids:
            doc = kb["documents"][d]
            place = short_place(doc.get("jurisdiction"))
            lines.append(f"{place}（{doc_name(doc)}）：" if place else f"{doc_name(doc)}：")
            for k in kinds:
                rules = [r for r in kb["rules"] if r["document_id"] == d and r["kind"] == k]
                conds = list(dict.fromkeys(cid for r in rules for cid in r["condition_ids"]))
                ms = [m for m in kb["measures"].values() if m["document_id"] == d and m["kind"] == k]
                if not rules and not ms:
                    lines.append(f"  {KIND_CN[k]}：文件未规定。")
                    continue
                lines.append(f"  {KIND_CN[k]}条件（{len(conds)} 项）：")
                for cid in conds[:6]:
                    c = kb["conditions"][cid]
                    lines.append(f"    · {whole_sentences(c['text'], 80)}（{printed_path(c['path'])}）")
                    cits.append(cite(c, doc))
                if len(conds) > 6:
                    lines.append(f"    ……另有 {len(conds) - 6} 项")
                lines.append(f"  {KIND_CN[k]}措施共 {len(ms)} 项。")
                cits += measure_citations(kb, ms[:3])
    return "\n".join(lines), cits


def answer_conditions(kb: dict, doc_ids: list[str], kind: Optional[str]) -> tuple[str, list[dict]]:
    """The 行为清单 of these documents: the conditions under which the measures of a kind apply."""
    lines, cits = [], []
    kinds = [kind] if kind else ["incentive", "penalty"]
    for d in doc_ids:
        doc = kb["documents"][d]
        for k in kinds:
            conds = list(dict.fromkeys(cid for r in kb["rules"] if r["document_id"] == d and r["kind"] == k
                                       for cid in r["condition_ids"] if cid in kb["conditions"]))
            if not conds:
                continue
            label = "适用守信激励的情形" if k == "incentive" else "列为失信惩戒对象的情形"
            lines.append(f"{doc_name(doc)}{label}（{len(conds)} 项）：")
            for cid in conds[:12]:
                c = kb["conditions"][cid]
                lines.append(f"  · {whole_sentences(c['text'], 100)}（{printed_path(c['path'])}）")
                cits.append(cite(c, doc))
            if len(conds) > 12:
                lines.append(f"  ……另有 {len(conds) - 12} 项")
    if not lines:
        return "这些文件没有写明适用条件。", []
    return "\n".join(lines), cits


def answer_validity(db, kb: dict, doc_ids: list[str]) -> tuple[str, list[dict]]:
    """When each document was issued and takes effect, as the KB read it, with the clause that says so."""
    lines, cits = [], []
    for d in doc_ids:
        doc = kb["documents"][d]
        parts = []
        if doc.get("issued_on"):
            parts.append(f"印发日期 {doc['issued_on']}")
        if doc.get("effective_from"):
            parts.append(f"施行日期 {doc['effective_from']}")
        if doc.get("title") and "试行" in doc["title"]:
            parts.append("为试行文件")
        said = "；".join(parts) if parts else "文件未写明印发和施行日期"
        lines.append(f"{doc_name(doc)}：{said}。")
        reply, found_cits, found = answer_passages(db, kb, "起施行", [d],
                                                   must_any=["起施行", "有效期", "起执行", "同时废止", "之日起实施"], top=1)
        if found:
            lines.append("  " + reply)
            cits += found_cits
        else:
            cits.append({"source_file": doc["source_file"], "document_id": doc["id"], "title": doc.get("title"),
                         "version": doc.get("version"), "path": [], "quote": doc.get("title") or doc["source_file"]})
    return "\n".join(lines), cits


def answer_scope(kb: dict, doc_ids: list[str]) -> tuple[str, list[dict]]:
    """Whom each document applies to: its scope conditions (适用范围), else its jurisdiction."""
    lines, cits = [], []
    for d in doc_ids:
        doc = kb["documents"][d]
        scope = [c for c in kb["conditions"].values() if c["document_id"] == d and c["role"] == "scope"]
        where = f"（适用地域：{doc['jurisdiction']}）" if doc.get("jurisdiction") else ""
        if not scope:
            lines.append(f"{doc_name(doc)}没有单列适用范围{where}。")
            continue
        lines.append(f"{doc_name(doc)}适用于下列生产经营单位之一{where}：")
        for c in scope:
            lines.append(f"  · {whole_sentences(c['text'], 100)}（{printed_path(c['path'])}）")
            cits.append(cite(c, doc))
    return "\n".join(lines), cits
