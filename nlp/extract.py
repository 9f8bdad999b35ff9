"""Clause tree → measures, departments, conditions and rules.

These shapes carry measures in this genre, all recognised by cues kept as data
(data/measure_cues.json, data/measure_verbs.tsv):
  * a list announced by its intro: 可以采取下列激励措施：（一）…（二）…
  * a 措施清单 table: 序号 | 惩戒措施 | 依据 | 实施单位
  * a section closed by 实施单位：/ 牵头单位： whose items (or paragraph) are the measures
  * enumerated items under a heading that announces measures, or under 对守信激励对象：
  * sentences in prose: 对信用较好的企业减少抽查…；采取A、B、C等联合惩戒措施；X的，纳入…
Conditions come from lists announced the same way (须同时符合下列条件 / 存在下列失信行为之一 / 下列…适用本办法),
from the targets of measure sentences (对<condition>的企业…) and from exclusions (…的，不被确定为联合激励对象).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Optional

from .classifier import measure_kind
from .datafiles import compile_pattern, load_lines, load_regex_map, vocabulary
from .departments import canonical_department, looks_like_department, split_department_list
from .labels import chinese_number
from .predicates import attestation, parse_predicate
from .structure import trailer_departments
from .types import Clause, Condition, Measure, Rule

DATA = Path(__file__).parent / "data"
CN_NUM = "[一二三四五六七八九十百零〇两\\d]+"
ITEM_REF = re.compile(rf"第(?P<art>{CN_NUM})条(?P<items>(?:[和、及与]?第[（(]?{CN_NUM}[）)]?项(?:至第[（(]?{CN_NUM}[）)]?项)?)+)")
ITEM_RANGE = re.compile(rf"第[（(]?({CN_NUM})[）)]?项(?:至第[（(]?({CN_NUM})[）)]?项)?")
PATH_REF = re.compile(
    r"本(?:办法|方案|意见|规定|细则|清单|通知)(?P<path>(?:第[一二三四五六七八九十百\d]+[章节条]|[一二三四五六七八九十]+(?=[（(\d第])"
    r"|[（(][一二三四五六七八九十\d]+[）)]|\d+(?=[^\d项]))+)中?(?P<items>(?:[、和及与至]?第?[（(]?[一二三四五六七八九十\d]+[）)]?项?)+)情形")
PATH_TOKEN = re.compile(r"第([一二三四五六七八九十百\d]+)[章节条]|[（(]([一二三四五六七八九十\d]+)[）)]|([一二三四五六七八九十]+)|(\d+)")
MEASURE_REF = re.compile(rf"本(?:办法|规定|细则|方案)第(?P<art>{CN_NUM})条规定的[^，,。；;]{{0,8}}措施")


ENTERPRISE_NOUN = compile_pattern("{{ENTERPRISE}}", "extract: enterprise noun")


@lru_cache(maxsize=1)
def cues() -> dict[str, re.Pattern]:
    return load_regex_map(DATA / "measure_cues.json")


@lru_cache(maxsize=1)
def verb_lexicon() -> tuple[tuple[re.Pattern, str], ...]:
    path = DATA / "measure_verbs.tsv"
    rows = []
    for lineno, line in load_lines(path):
        phrase, _, kind = line.partition("\t")
        if kind.strip() not in {"incentive", "penalty", "other"}:
            raise ValueError(f"{path}:{lineno}: kind must be incentive, penalty or other")
        rows.append((compile_pattern(phrase.strip(), f"{path}:{lineno}"), kind.strip()))
    return tuple(rows)


@lru_cache(maxsize=1)
def any_verb() -> re.Pattern:
    """Every verb phrase of the lexicon in one pattern: its leftmost match starts where the earliest of them does."""
    return re.compile("|".join(f"(?:{pat.pattern})" for pat, _ in verb_lexicon()))


def verb_kinds(text: str) -> list[str]:
    """Kinds of the measure verbs in `text`, in order of appearance."""
    if not any_verb().search(text):
        return []
    hits = []
    for pat, kind in verb_lexicon():
        for m in pat.finditer(text):
            hits.append((m.start(), kind))
    return [k for _, k in sorted(hits)]


@lru_cache(maxsize=16384)
def polarity(text: str) -> Optional[str]:
    kinds = verb_kinds(text)
    if not kinds:
        return None
    inc, pen, oth = kinds.count("incentive"), kinds.count("penalty"), kinds.count("other")
    if inc > pen and inc >= oth:
        return "incentive"
    if pen > inc and pen >= oth:
        return "penalty"
    if oth and oth >= max(inc, pen):
        return "other"
    return kinds[0]


def cue_kind(text: str) -> Optional[str]:
    inc, pen = bool(cues()["incentive_cue"].search(text)), bool(cues()["penalty_cue"].search(text))
    if inc and not pen:
        return "incentive"
    if pen and not inc:
        return "penalty"
    if inc and pen:
        # "对失信行为的…约束和惩戒" vs "守信联合激励和失信联合惩戒": the later, governing noun decides
        i = max(m.end() for m in cues()["incentive_cue"].finditer(text))
        p = max(m.end() for m in cues()["penalty_cue"].finditer(text))
        return "incentive" if i > p else "penalty"
    return None


def condition_polarity(text: str) -> Optional[str]:
    if cues()["repair_condition"].search(text):
        return "other"
    neg = cues()["negative_condition"].search(text)
    pos = cues()["positive_condition"].search(text)
    if neg and re.match(r"^(?:无|未|没有|不存在)", text):
        return "other" if not pos else "incentive"
    if pos and not neg:
        return "incentive"
    if neg and not pos:
        return "penalty"
    return None


ROLE_OF_KIND = {"incentive": "incentive_eligibility", "penalty": "penalty_trigger", "other": "other"}


@dataclass
class Group:
    """Conditions read from one list, with how they combine."""
    clause: Clause
    role: str
    combinator: str
    conditions: list[Condition] = field(default_factory=list)


@dataclass
class MeasureSet:
    kind: str
    measures: list[Measure]
    condition_ids: list[str] = field(default_factory=list)
    combinator: str = "all"
    ref_measure_articles: list[int] = field(default_factory=list)
    explicit: bool = False   # conditions stated with the measures (own target or cross reference)


class Extractor:
    def __init__(self, doc_id: str, clauses: list[Clause]):
        self.doc_id = doc_id
        self.clauses = clauses
        self.by_id = {c.id: c for c in clauses}
        self.measures: list[Measure] = []
        self.conditions: list[Condition] = []
        self.groups: list[Group] = []
        self.sets: list[MeasureSet] = []
        self.exclusions: list[Condition] = []
        self.consumed: set[str] = set()
        self.exclusion_sentences: set[str] = set()
        self.prose_only: dict[str, list[str]] = {}
        self.warnings: list[str] = []
        self.subject: list[str] = []     # who acts in the sentences read so far (各单位要…)
        self.listings: list[Group] = []  # who enters a named list (…的，一律列入黑名单)

    # ---- helpers -------------------------------------------------------------------------------
    def ancestors(self, clause: Clause) -> list[Clause]:
        out, cur = [], clause
        while cur.parent_id:
            cur = self.by_id[cur.parent_id]
            out.append(cur)
        return out

    def context_kind(self, clause: Clause, own_only: bool = False) -> Optional[str]:
        chain = [clause] if own_only else [clause, *self.ancestors(clause)]
        for c in chain:
            if c.heading and cues()["repair_condition"].search(c.heading):
                return "other"
            k = cue_kind(c.heading) if c.heading else None
            if k:
                return k
        return None

    def announced_kind(self) -> Optional[str]:
        """The kind a document announces before its first clause when it is one-sided (…制定以下激励政策：)."""
        pre = next((c for c in self.clauses if c.style == "preamble"), None)
        if pre is None:
            return None
        text = "".join(pre.body)
        inc, pen = cues()["incentive_cue"].search(text), cues()["penalty_cue"].search(text)
        return cue_kind(text) if bool(inc) != bool(pen) else None

    def own_text(self, clause: Clause) -> str:
        return "".join(clause.body)

    def new_condition(self, clause: Clause, role: str, text: str, group: str = "",
                      predicate: Optional[dict] = None) -> Condition:
        text = text.strip().strip("；;，,")
        if predicate is None:
            predicate = parse_predicate(text, role) or attestation(text)
        cond = Condition(id=f"{self.doc_id}-k{len(self.conditions):03d}", clause_id=clause.id, path=clause.path,
                         role=role, text=text, predicate=predicate, group=group)
        self.conditions.append(cond)
        return cond

    def new_measure(self, clause: Clause, kind: str, text: str, departments: list[str]) -> Measure:
        text = text.strip().strip("；;，,")
        m = Measure(id=f"{self.doc_id}-m{len(self.measures):03d}", clause_id=clause.id, path=clause.path,
                    kind=kind, text=text, departments=list(departments),
                    department_ids=sorted({d for d in (canonical_department(x) for x in departments) if d}))
        self.measures.append(m)
        return m

    def is_catch_all(self, text: str) -> bool:
        return bool(cues()["catch_all"].search(text))

    # ---- departments ---------------------------------------------------------------------------
    def responsibility_departments(self, clause: Clause) -> list[str]:
        """Trailer (实施单位：…) or parenthetical (…按各自职责推进) of the clause or its ancestors."""
        for c in [clause, *self.ancestors(clause)]:
            for t in c.trailers:
                depts = trailer_departments(t)
                if depts:
                    return split_department_list(depts)
            for para in c.body:
                m = cues()["responsibility"].search(para)
                if m:
                    names = [n for n in split_department_list(m.group("list")) if looks_like_department(n)]
                    if names:
                        return names
        return []

    def notified_departments(self, text: str) -> list[str]:
        m = cues()["notify_list"].search(text)
        if not m:
            return []
        return [n for n in split_department_list(m.group("list")) if looks_like_department(n) or len(n) <= 10]

    def subject_departments(self, text: str) -> list[str]:
        m = cues()["subject_dept"].search(text)
        if m and looks_like_department(m.group("dept")):
            return [re.sub(r"^(?:鼓励|引导|支持|推动|督促)", "", m.group("dept"))]
        return []

    def departments_for(self, clause: Clause, intro: str, before: str) -> list[str]:
        """Who carries out a measure: trailer/parenthetical, else a 通报 list before it, else the subject."""
        depts = self.responsibility_departments(clause)
        if depts:
            return depts
        m = cues()["executor_list"].search(intro + before) or cues()["subject_list"].search(intro + before)
        if m:
            names = [n for n in split_department_list(m.group("list"))
                     if looks_like_department(n) and not re.match(r"^(?:上述|前述|其|该|相关|有关|各)", n)]
            if names:
                return names
        notified = self.notified_departments(intro + before)
        if notified:
            return notified
        return self.subject_departments(before) or self.subject_departments(intro)

    # ---- conditions lists ----------------------------------------------------------------------
    def read_condition_lists(self) -> None:
        c = cues()
        for clause in self.clauses:
            intro = self.own_text(clause)
            if not clause.children or not intro:
                continue
            role, comb = None, None
            if c["scope_list"].search(intro) or (clause.heading and c["scope_heading"].search(clause.heading)):
                role, comb = "scope", "any"
            elif c["condition_list_all"].search(intro) and c["repair_condition"].search(intro):
                role, comb = "other", "all"  # 同时符合下列条件的，可以申请信用修复
            elif c["condition_list_all"].search(intro):
                role, comb = ROLE_OF_KIND.get(cue_kind(intro) or self.context_kind(clause) or "incentive"), "all"
            elif m := c["condition_list_any"].search(intro):
                kind = cue_kind(m.group(0) + intro) or self.context_kind(clause) or "penalty"
                role, comb = ROLE_OF_KIND[kind], "any"
            elif c["object_list"].search(intro) and "对象" in (clause.heading + intro):
                kind = cue_kind(clause.heading + intro)  # 联合惩戒对象…具体包括：（一）…
                if kind in ("incentive", "penalty"):
                    role, comb = ROLE_OF_KIND[kind], "all" if kind == "incentive" else "any"
            if role is None:
                continue
            group = Group(clause, role, comb)
            for ch in clause.children:
                if ch.parent_id != clause.id:
                    continue
                group.conditions.append(self.new_condition(ch, role, self.own_text(ch) or ch.text, clause.id))
                self.consumed.add(ch.id)
            self.consumed.add(clause.id)
            self.groups.append(group)

    # ---- measure lists -------------------------------------------------------------------------
    def read_measure_lists(self) -> None:
        c = cues()
        for clause in self.clauses:
            intro = self.own_text(clause)
            m = c["list_intro"].search(intro)
            if not m or not clause.children:
                continue
            kind = (cue_kind(m.group("cue") or m.group("cue2") or "") or cue_kind(intro) or self.context_kind(clause)
                    or "other")
            depts = self.departments_for(clause, "", intro)
            ms = MeasureSet(kind=kind, measures=[])
            for ch in clause.children:
                if ch.parent_id != clause.id:
                    continue
                text, own_depts = item_departments(self.own_text(ch) or ch.text)
                self.consumed.add(ch.id)
                if self.is_catch_all(text):
                    continue
                ms.measures.append(self.new_measure(ch, kind, text, own_depts or depts))
            self.consumed.add(clause.id)
            refs = self.condition_refs(intro)
            if refs:
                ms.condition_ids, ms.combinator, ms.explicit = refs, "any", True
            elif not self.has_list_group(kind):
                # 本通告29家…二级企业享受以下9项激励措施：the lead-in's subject says who receives them
                who = lead_in_subject(intro[:m.start()])
                if who:
                    cond = self.new_condition(clause, ROLE_OF_KIND.get(kind, "other"), who)
                    ms.condition_ids, ms.explicit = [cond.id], True
            ms.ref_measure_articles = [chinese_number(x) for x in MEASURE_REF.findall(intro)]
            self.sets.append(ms)

    def read_trailer_sections(self) -> None:
        for clause in self.clauses:
            if not clause.trailers or clause.id in self.consumed:
                continue
            kind = self.context_kind(clause) or "other"
            depts = self.responsibility_departments(clause)
            ms = MeasureSet(kind=kind, measures=[])
            items = self.leaf_items(clause)
            if items:
                for ch, group_kind in items:
                    text, own_depts = item_departments(self.own_text(ch) or ch.text)
                    self.consumed.add(ch.id)
                    if self.is_catch_all(text):
                        continue
                    k = polarity(text) if polarity(text) in ("incentive", "penalty") else (group_kind or kind)
                    m = self.new_measure(ch, k, text, own_depts or depts)
                    if k == kind:
                        ms.measures.append(m)
                    else:
                        self.sets.append(MeasureSet(kind=k, measures=[m]))
            else:
                for para in clause.body:
                    if para == clause.heading or self.is_catch_all(para) or reads_as_heading(para):
                        continue
                    if any(self.find_target(seg) for sent in sentences(para) for seg in segments(sent)):
                        # 对守信企业…；对失信企业…: read sentence by sentence, with the section's departments
                        self.prose_only.setdefault(clause.id, []).append(para)
                        continue
                    refs = self.condition_refs(para)
                    m = self.new_measure(clause, kind, para, depts)
                    if refs:  # 对属于本清单一（三）1、2项情形的，…: conditions named by reference
                        self.sets.append(MeasureSet(kind=kind, measures=[m], condition_ids=refs, combinator="any",
                                                    explicit=True))
                    else:
                        ms.measures.append(m)
            self.consumed.add(clause.id)
            if ms.measures:
                self.sets.append(ms)

    def read_child_lists(self) -> None:
        """Enumerated items under a heading that announces measures (…激励/惩戒…), each item a measure."""
        for clause in self.clauses:
            if clause.id in self.consumed or clause.style == "preamble":
                continue
            items = [ch for ch in clause.children if ch.parent_id == clause.id and not ch.children]
            if len(items) < 2 or any(ch.id in self.consumed for ch in items):
                continue
            # short one-sentence items; paragraphs with their own targets are read as prose instead
            stripped = [item_departments(self.own_text(ch))[0] for ch in items]
            if any(len(sentences(t)) > 1 or len(t) > 90 for t in stripped):
                continue
            kind = self.context_kind(clause, own_only=True) or cue_kind(self.own_text(clause))
            texts = [item_departments(self.own_text(ch) or ch.text) for ch in items]
            with_verbs = sum(polarity(t) is not None for t, _ in texts)
            addressed = bool(cues()["target_intro"].match(self.own_text(clause).strip()))  # 对守信激励对象：
            if kind is None and all(polarity(t) in ("incentive", "penalty") for t, _ in texts):
                kind = self.context_kind(clause)  # every item says itself what it is
            if kind is None or (with_verbs * 2 <= len(items) and not addressed):
                continue
            intro = self.own_text(clause)
            depts = self.departments_for(clause, "", intro)
            if not depts and texts[-1][1] and not any(d for _, d in texts[:-1]):
                depts = texts[-1][1]  # （…按职责分工负责） after the last item speaks for the whole list
            for ch, (text, own_depts) in zip(items, texts):
                self.consumed.add(ch.id)
                if self.is_catch_all(text):
                    continue
                k = polarity(text) if polarity(text) in ("incentive", "penalty") and not addressed else kind
                m = self.new_measure(ch, k, text, own_depts or leading_departments(text)
                                     or self.responsibility_departments(ch) or depts)
                self.sets.append(MeasureSet(kind=k, measures=[m]))
            self.consumed.add(clause.id)

    def leaf_items(self, clause: Clause) -> list[tuple[Clause, Optional[str]]]:
        """The items of a section, descending through group headers such as '1.对守信激励对象：' (whose cue
        says what kind their items are)."""
        out: list[tuple[Clause, Optional[str]]] = []
        for ch in (c for c in clause.children if c.parent_id == clause.id):
            if ch.children:
                self.consumed.add(ch.id)
                group_kind = cue_kind(self.own_text(ch))
                out += [(leaf, group_kind or k) for leaf, k in self.leaf_items(ch)]
            else:
                out.append((ch, None))
        return out

    def read_tables(self) -> None:
        """A 措施清单 table (序号 | 措施 | 依据 | 实施单位): each row a measure, its departments from the row."""
        for clause in self.clauses:
            header = next((p for p in clause.body if "\t" in p and table_columns(p)), None)
            if header is None:
                continue
            measure_col, dept_col, cells_in_header = table_columns(header)
            kind = self.context_kind(clause) or "other"
            rows = [(ch, ch.body[0].split("\t") if ch.body else []) for ch in clause.children
                    if ch.parent_id == clause.id and ch.style == "row"]
            for ch, cells in rows:
                offset = cells_in_header - len(cells)  # the 序号 cell became the row's label
                mi, di = measure_col - offset, dept_col - offset
                if not (0 <= mi < len(cells)) or self.is_catch_all(cells[mi]):
                    self.consumed.add(ch.id)
                    continue
                text = cells[mi].strip()
                depts = split_department_list(cells[di]) if 0 <= di < len(cells) else []
                k = polarity(text) if polarity(text) in ("incentive", "penalty") else kind
                self.sets.append(MeasureSet(kind=k, measures=[self.new_measure(ch, k, text, depts)]))
                self.consumed.add(ch.id)
            if rows:
                self.consumed.add(clause.id)

    def read_scope_sentences(self) -> None:
        for clause in self.clauses:
            for sent in (x for para in clause.body for x in sentences(para)):
                m = cues()["scope_sentence"].match(sent.strip())
                if m:
                    cond = self.new_condition(clause, "scope", sent.strip().rstrip("。"), f"{clause.id}-scope")
                    self.groups.append(Group(clause, "scope", "any", [cond]))

    # ---- prose ---------------------------------------------------------------------------------
    def read_exclusions(self) -> None:
        for clause in self.clauses:
            for sent in sentences(self.own_text(clause)):
                m = cues()["exclusion"].search(last_clause_of(sent))
                if m:
                    self.exclusion_sentences.add(sent)
                    cond_text = re.sub(r"^(?:确保|保证|对于?)", "", m.group("cond"))
                    excluded = parse_predicate(cond_text) or attestation(cond_text)
                    self.exclusions.append(self.new_condition(
                        clause, "incentive_eligibility", sent_tail(sent, cond_text), "exclusion", {"not": excluded}))
                    continue
                m = cues()["removal"].search(sent)
                if m:  # 有效期内被列为失信主体的，由…移出守信激励对象名单: a condition of staying an incentive object
                    cond_text = m.group("cond").strip()
                    excluded = parse_predicate(cond_text) or attestation(cond_text)
                    self.exclusions.append(self.new_condition(
                        clause, "incentive_eligibility", cond_text, "exclusion", {"not": excluded}))

    def announced_lists(self) -> dict[str, tuple[int, str]]:
        """Measure lists whose items are not the intro's children: paragraphs after a lead-in ending in ：
        (…制定以下激励政策：), or the top-level clauses after it. clause id → (first item paragraph, kind)."""
        out: dict[str, tuple[int, str]] = {}
        top = [c for c in self.clauses if c.parent_id is None]
        for clause in self.clauses:
            if clause.children:
                continue
            paragraphs = prose_paragraphs(clause)
            at = next((i for i, p in enumerate(paragraphs) if cues()["measure_lead_in"].search(p)), None)
            if at is None:
                continue
            kind = cue_kind(paragraphs[at]) or self.context_kind(clause) or "other"
            if at + 1 < len(paragraphs):
                out[clause.id] = (at + 1, kind)
            if clause in top:
                for sib in top[top.index(clause) + 1:]:
                    out.setdefault(sib.id, (0, kind))
        return out

    def read_prose(self) -> None:
        listed = self.announced_lists()
        for clause in self.clauses:
            paragraphs = prose_paragraphs(clause)
            if clause.id in self.prose_only:
                paragraphs = self.prose_only[clause.id]
            elif clause.id in self.consumed:
                # a list's intro was read with the list; a paragraph after the list (款) is prose of its own
                paragraphs = paragraphs[1:] if clause.children and len(paragraphs) > 1 else []
                if not paragraphs:
                    continue
            own_kind = self.context_kind(clause, own_only=True)
            first_item, list_kind = listed.get(clause.id, (len(paragraphs), None))
            last: Optional[MeasureSet] = None
            since_trailer: list[Measure] = []
            seen = ""
            self.subject = []
            for i, para in enumerate(paragraphs):
                in_list = i >= first_item
                depts = trailer_departments(para)
                if depts:  # (责任单位：…) after an item: who carries out the measures above it
                    for m in since_trailer:
                        m.departments = m.departments or split_department_list(depts)
                    since_trailer = []
                    continue
                if reads_as_heading(para) or (clause.style == "preamble" and not in_list
                                              and not re.search(r"[，,。；;]", para)):
                    continue  # a heading, or a title line among a notice's parts
                for sent in sentences(para):
                    if sent in self.exclusion_sentences:
                        continue
                    subject = sentence_subject(sent)
                    if subject:
                        self.subject = subject
                    for n, seg in enumerate(segments(sent)):
                        before = seen
                        seen += seg
                        if last and last.measures and (cues()["anaphoric_target"].search(seg)
                                                       or (n > 0 and continues(last.measures[-1].text, seg))):
                            # 对符合条件的… / …不足抵免的，可…: the same measure goes on
                            mm = last.measures[-1]
                            joint = "" if mm.text.endswith(("。", "；", ";")) else ("；" if n > 0 else "。")
                            mm.text = f"{mm.text}{joint}{seg.strip('。；;')}"
                            continue
                        # a sentence that named its target sets the kind of the ones after it (…；机构要实行重点监察)
                        kind = (list_kind if in_list else None) or own_kind
                        carried = last.kind if last and last.kind in ("incentive", "penalty") else None
                        # a preamble states purpose: only a sentence naming whom it acts on, or a listed item, counts
                        found = self.prose_segment(clause, seg, before, kind,
                                                   clause.style == "preamble" and not in_list, in_list, carried)
                        if found:
                            last = found[-1]
                            since_trailer += [m for f in found for m in f.measures]

    def find_target(self, seg: str) -> Optional[tuple[int, int, str]]:
        """(start, end, condition) of the enterprise a prose segment addresses: 对X的企业 / 将X纳入 / X的，…"""
        c = cues()
        for name in ("target", "provide_target", "put_target", "group_reference", "target_bare", "target_np",
                     "subject_target", "discovery_target"):
            m = next((x for x in c[name].finditer(seg) if opens_phrase(seg, x.start())
                      and not inside_book_title(seg, x.start())), None)
            if m:
                end = m.end() if name != "put_target" else m.end("subj")
                # the condition names whom it is about: 列入黑名单的煤矿企业, not 列入黑名单
                cond = m.group("cond") + ("的" if m.group(0)[m.end("cond") - m.start():].startswith("的") else "") \
                    + m.group("subj") if "subj" in m.groupdict() and m.group("subj") else m.group("cond")
                return m.start(), end, cond
        hits = [m for m in c["conditional"].finditer(seg)
                if polarity(m.group("rest")) or c["repair_condition"].search(m.group("rest"))]
        if hits and re.match(r"(?:也|还)?可", hits[-1].group("rest")) \
                and polarity(seg[:hits[-1].start("cond")]) in ("incentive", "penalty"):
            return None  # a measure already stated, then "…不足抵免的，可…": a proviso of it, not a new target
        if hits:
            m = hits[-1]
            start = condition_start(seg, m.start("cond"))
            return start, m.start("rest"), re.sub(r"^对于?", "", seg[start:m.end("cond")])
        return None

    def prose_segment(self, clause: Clause, seg: str, before: str, own_kind: Optional[str],
                      target_required: bool = False, listed: bool = False,
                      carried: Optional[str] = None) -> list[MeasureSet]:
        seg = seg.strip().rstrip("；;")
        target = self.find_target(seg)
        if target:
            start, act_start, cond_text = target
            head = seg[start:act_start]
            lead = seg[:start]
            act = seg[act_start:]
            if polarity(act) is None and not cues()["enumerated_actions"].search(act):
                if cond_text and cues()["repair_condition"].search(cond_text + act):
                    self.target_conditions(clause, cond_text, "other")  # who may apply for credit repair
                return []
            if cues()["listing_only"].search(re.sub(r"^[（(][^（）()]{0,12}[）)]", "", act)):
                # …的，一律列入黑名单: who enters the list, not a measure taken against them
                kind = cue_kind(act) or own_kind
                entered = self.target_conditions(clause, cond_text, kind)
                self.listings.append(Group(clause, ROLE_OF_KIND.get(kind or "", "other"), "any", entered))
                return []
            # the target stays in the text (it says whom), with the words of its phrase before it (鼓励金融机构对…)
            phrase_start = max(seg.rfind("，", 0, start), seg.rfind(",", 0, start)) + 1
            display_from = phrase_start
        elif target_required:
            return []
        else:
            cond_text = None
            own_kind = own_kind or carried  # no target of its own: the sentence before said whom, and what kind
            phrases = re.split(r"(?<=[，,])", seg)
            if listed and (polarity(seg) in (own_kind, "other")
                           or (polarity(seg) is None and measure_kind(seg) == own_kind)):
                first = 0  # an item of an announced measure list: the whole statement is the measure
            else:
                first = next((i for i, ph in enumerate(phrases)
                              if verb_at_start(strip_subject(ph)) and polarity(ph) == own_kind), None)
            if own_kind is None or first is None:
                return []
            lead = "".join(phrases[:first])
            act = "".join(phrases[first:])
            opening = leading_departments(act)
            act = act[len(act) - len(strip_subject(act)):] if first == 0 else act
            act_start = display_from = len(seg) - len(act)
        if target:
            opening = leading_departments(act.lstrip("，,"))
        depts = (self.responsibility_departments(clause) or opening
                 or self.departments_for(clause, "", before + lead + "对") or list(self.subject))
        group = cond_text and cues()["group_name"].match(cond_text)
        if group and self.has_list_group(cue_kind(cond_text)):
            conds = []  # 对守信激励对象…: the document's own list of conditions says who that is
        else:
            conds = self.target_conditions(clause, cond_text) if cond_text else []
        out: list[MeasureSet] = []
        for n, piece in enumerate(split_measure_pieces(act)):
            if self.is_catch_all(piece) and len(piece) < 30:
                continue
            kind = polarity(piece)
            if kind in (None, "other") and n == 0:
                kind = (condition_polarity(cond_text) if cond_text else None) or own_kind or kind
            kind = kind or measure_kind(piece) or "other"  # the learned reader decides only what the rules leave open
            offset = act.find(piece)
            text = seg[display_from:act_start + offset + len(piece)] if n == 0 else piece
            piece_depts = depts
            if offset > 0 and not self.responsibility_departments(clause):
                piece_depts = (leading_departments(piece) or
                               self.departments_for(clause, "", before + lead + act[:offset]) or depts)
            m = self.new_measure(clause, kind, text, piece_depts)
            piece_conds = conds
            if n > 0 and cond_text and polarity(piece) and condition_polarity(cond_text) not in (None, kind, "other"):
                embedded = re.search(r"(?P<cond>[^，,。；;的]{2,14})的(?:企业|市场主体|主体)", piece)
                piece_conds = []
                if embedded:
                    cond = embedded.group("cond")
                    for pat, _ in verb_lexicon():
                        cond = pat.sub("", cond, count=1) if pat.match(cond) else cond
                    piece_conds = self.target_conditions(clause, cond, kind)
            for x in piece_conds:
                x.role = "other" if cues()["repair_condition"].search(x.text) else ROLE_OF_KIND.get(kind, "other")
            out.append(MeasureSet(kind=kind, measures=[m], explicit=bool(piece_conds),
                                  condition_ids=[x.id for x in piece_conds],
                                  combinator="any" if len(piece_conds) > 1 else "all"))
        self.sets.extend(out)
        return out

    def has_list_group(self, kind: Optional[str]) -> bool:
        role = ROLE_OF_KIND.get(kind or "", "")
        return any(g.role == role for g in self.groups)

    def target_conditions(self, clause: Clause, cond_text: str, kind: Optional[str] = None) -> list[Condition]:
        # 对A和B企业: two targets, two conditions; A或B is one condition whose predicate reads the alternatives
        cond_text = cond_text.strip()
        if len(condition_parts(cond_text)) > 1:
            role = ROLE_OF_KIND.get(kind or condition_polarity(cond_text) or "other", "other")
            return [self.new_condition(clause, role, p) for p in condition_parts(cond_text)]
        # the subject noun after the last 的 is shared by the parts (A和B的人员 is one condition)
        head, de, noun = cond_text.rpartition("的")
        parts = [p for p in re.split(r"和|以及", head if de else cond_text) if len(p) >= 2] or [cond_text]
        parts = [p + de + noun for p in parts] if de and len(parts) > 1 else parts if not de else [cond_text]
        if any(len(p) < 3 or p.startswith("对") for p in parts) or "及其" in cond_text:
            parts = [cond_text]
        role = ROLE_OF_KIND.get(kind or condition_polarity(cond_text) or "other", "other")
        return [self.new_condition(clause, role, p) for p in parts]

    def clause_at(self, tokens: list[tuple[str, int]]) -> Optional[Clause]:
        """The clause a printed path points at (第八条 / 二（三）1): articles are found at any depth."""
        level = [c for c in self.clauses if c.parent_id is None and c.style != "preamble"]
        found = None
        for kind, n in tokens:
            pool = [c for c in self.clauses if c.style == "article"] if kind == "article" else level
            found = next((c for c in pool if chinese_number(c.label) == n), None)
            if found is None:
                return None
            level = [c for c in found.children if c.parent_id == found.id]
        return found

    def path_refs(self, text: str) -> list[str]:
        ids = []
        for m in PATH_REF.finditer(text):
            tokens = []
            for art, paren, cn, digit in PATH_TOKEN.findall(m.group("path")):
                n = chinese_number(art or paren or cn or digit)
                if n is not None:
                    tokens.append(("article" if art else "label", n))
            items = m.group("items")
            if items[:1] in "、和及与" and tokens:  # 一（三）1、2项: the last number opens the item list
                items = str(tokens.pop()[1]) + items
            target = self.clause_at(tokens)
            if target is None:
                self.warnings.append(f"cross reference 本…{m.group('path')} not found")
                continue
            wanted: set[int] = set()
            for part in re.split(r"[、和及与]", items):
                bounds = [chinese_number(x) for x in re.findall(r"[一二三四五六七八九十\d]+", part)]
                bounds = [b for b in bounds if b is not None]
                if len(bounds) == 2 and "至" in part:
                    wanted.update(range(bounds[0], bounds[1] + 1))
                elif bounds:
                    wanted.update(bounds)
            for ch in target.children:
                if chinese_number(ch.label) in wanted:
                    ids += [cond.id for cond in self.conditions if cond.clause_id == ch.id]
        return ids

    def condition_refs(self, text: str) -> list[str]:
        ids = self.path_refs(text)
        for m in ITEM_REF.finditer(text):
            art = chinese_number(m.group("art"))
            wanted: set[int] = set()
            for a, b in ITEM_RANGE.findall(m.group("items")):
                lo = chinese_number(a) or 0
                hi = chinese_number(b) if b else lo
                wanted.update(range(lo, (hi or lo) + 1))
            article = next((c for c in self.clauses if c.style == "article" and chinese_number(c.label) == art), None)
            if article is None:
                self.warnings.append(f"cross reference to 第{m.group('art')}条 not found")
                continue
            items = [ch for ch in article.children if chinese_number(ch.label) in wanted]
            for ch in items:
                ids += [cond.id for cond in self.conditions if cond.clause_id == ch.id]
        return list(dict.fromkeys(ids))

    # ---- rules ---------------------------------------------------------------------------------
    def on_list_only(self, cond_ids: list[str]) -> bool:
        """Do these conditions only say the enterprise is on a list (列入黑名单的煤矿企业)?"""
        by_id = {c.id: c for c in self.conditions}
        return bool(cond_ids) and all(by_id.get(i) and names_list_membership(by_id[i].predicate) for i in cond_ids)

    def build_rules(self) -> list[Rule]:
        rules: list[Rule] = []
        entry = [c for g in self.listings for c in g.conditions]
        for g in self.groups:
            if g.role == "penalty_trigger" and g.combinator == "any" and cues()["lists_into"].search(g.clause.text):
                entry += [c for c in g.conditions if c not in entry]
        for g in self.listings:
            if not any(x.role == g.role for x in self.groups):
                self.groups.append(g)  # a document whose only trigger list is a 凡…的，一律列入 sentence
        eligibility = {g.role: g for g in self.groups if g.role != "scope"}
        for ms in self.sets:
            measures = list(ms.measures)
            for art in ms.ref_measure_articles:
                for other in self.sets:
                    if other is ms:
                        continue
                    if any(self.article_number(m.clause_id) == art for m in other.measures):
                        measures = [*other.measures, *measures]
            if ms.explicit:
                cond_ids, comb = ms.condition_ids, ms.combinator
            else:
                g = eligibility.get(ROLE_OF_KIND.get(ms.kind, ""))
                if g is None:
                    continue
                cond_ids, comb = [x.id for x in g.conditions], g.combinator
            if ms.kind == "incentive" and self.exclusions and comb == "all":
                cond_ids = [*cond_ids, *[x.id for x in self.exclusions]]
            if ms.kind not in ("incentive", "penalty") or not cond_ids:
                continue
            if ms.kind == "penalty" and entry and comb == "all" and self.on_list_only(cond_ids):
                # 对列入黑名单的企业，…: on the list already, or meeting what the document lists it for
                cond_ids, comb = [*cond_ids, *[c.id for c in entry if c.id not in cond_ids]], "any"
            key = (ms.kind, comb, tuple(cond_ids))
            existing = next((r for r in rules if (r.kind, r.combinator, tuple(r.condition_ids)) == key), None)
            if existing:
                existing.measure_ids += [m.id for m in measures if m.id not in existing.measure_ids]
            else:
                rules.append(Rule(id=f"{self.doc_id}-r{len(rules):03d}", kind=ms.kind, combinator=comb,
                                  condition_ids=list(cond_ids), measure_ids=[m.id for m in measures],
                                  clause_id=measures[0].clause_id if measures else ""))
        return rules

    def article_number(self, clause_id: str) -> Optional[int]:
        c = self.by_id.get(clause_id)
        while c is not None:
            if c.style == "article":
                return chinese_number(c.label)
            c = self.by_id.get(c.parent_id) if c.parent_id else None
        return None

    def run(self) -> tuple[list[Measure], list[Condition], list[Rule], list[str]]:
        self.read_condition_lists()
        self.read_measure_lists()
        self.read_tables()
        self.read_trailer_sections()
        self.read_child_lists()
        self.read_scope_sentences()
        self.read_exclusions()
        self.read_prose()
        rules = self.build_rules()
        return self.measures, self.conditions, rules, self.warnings


def table_columns(header: str) -> Optional[tuple[int, int, int]]:
    """(measure column, department column, number of cells) of a table header row, or None."""
    cells = [c.strip() for c in header.split("\t")]
    measure = next((i for i, c in enumerate(cells) if cues()["table_measure_header"].search(c)
                    and not cues()["table_department_header"].search(c)), None)
    dept = next((i for i, c in enumerate(cells) if cues()["table_department_header"].search(c)), None)
    if measure is None or dept is None:
        return None
    return measure, dept, len(cells)


def leading_departments(text: str) -> list[str]:
    """'区住房和城乡建设局、区交通运输局依法限制…' → the bodies that open the sentence as its subject."""
    m = cues()["leading_departments"].match(text.strip())
    if not m:
        return []
    names = split_department_list(m.group("list"))
    return names if names and all(looks_like_department(n) and not re.match(r"^(?:上述|其)", n) for n in names) else []


def item_departments(text: str) -> tuple[str, list[str]]:
    """'限制参与政府采购活动。（责任单位：县财政局）' → ('限制参与政府采购活动。', ['县财政局'])."""
    text = text.strip()
    m = cues()["item_responsibility"].search(text)
    if m:
        return text[:m.start()].strip(), split_department_list(m.group("list") or m.group("list2"))
    m = cues()["item_plain_departments"].search(text)
    if m:  # '…。（发展改革委、财政局）' in national memoranda: a bare list of bodies closes the item
        names = split_department_list(m.group("list"))
        if names and all(canonical_department(n) for n in names):
            return text[:m.start()].strip(), names
    m = cues()["responsibility"].search(text)
    if m and m.end() >= len(text.rstrip("。")) - 1:
        names = [n for n in split_department_list(m.group("list")) if looks_like_department(n)]
        return text[:m.start()].strip(), names
    return text, []


def condition_start(seg: str, start: int) -> int:
    """Where the condition of "…X的，<measure>" begins: a phrase before X that sets its time belongs to it
    (用人单位在被评为…后，连续三年…零增长的，…; …恢复生产后，再次发生…的，…); 凡 opens a list of them."""
    whenever = seg.rfind("凡", 0, start)
    if whenever >= 0 and opens_phrase(seg, whenever) and not polarity(seg[whenever:start]):
        return whenever
    while start > 0:
        prev = max(seg.rfind("，", 0, start - 1), seg.rfind(",", 0, start - 1))
        phrase = seg[prev + 1:start - 1]
        if not re.search(r"(?:后|时|期间|以来|之日起)$", phrase) or start - prev > 60:
            break
        start = prev + 1
    return start


def condition_parts(cond_text: str) -> list[str]:
    """凡A，B，经…仍C…的: the alternatives a 凡 sentence lists, a phrase going on (经/且/并/仍…) kept with its own."""
    body = re.sub(r"^凡", "", cond_text)
    if body == cond_text or not re.search(r"[，,]", body):
        return [cond_text]
    parts: list[str] = []
    for ph in re.split(r"[，,]", body):
        if parts and re.match(r"(?:经|且|并|仍|但|又|或|导致|造成)", ph):
            parts[-1] += "，" + ph
        elif ph.strip():
            parts.append(ph.strip())
    return parts


def inside_book_title(text: str, pos: int) -> bool:
    """《…关于对守信企业实施联合激励…》 names a document; what it says is not said here."""
    return text.count("《", 0, pos) > text.count("》", 0, pos)


def opens_phrase(text: str, pos: int) -> bool:
    """对/将/为 at `pos` starts the phrase (not 和对失信行为负有直接责任的… inside an object, not 银企对接)."""
    if cues()["not_a_target"].match(text[pos:]):
        return False
    if any(text.endswith(w, 0, pos) for w in vocabulary()["AVOID"]):
        return False  # 避免对已修复的主体继续实施惩戒: what must not be done
    return pos == 0 or text[pos - 1] not in "和及与、或的就"  # 就对…达成一致意见 names a topic


def sentences(text: str) -> list[str]:
    return [s for s in re.findall(r"[^。！？!?]+[。！？!?]?", text) if s.strip("。 ")]


def segments(sentence: str) -> list[str]:
    return [s for s in re.findall(r"[^；;]+[；;]?", sentence) if s.strip("；; 。")]


def last_clause_of(sent: str) -> str:
    parts = re.split(r"(?<=[，,])", sent)
    # the exclusion sentence form "…，确保已被纳入…名单的，不被确定为…": keep the last two comma parts
    return "".join(parts[-2:]) if len(parts) >= 2 else sent


def sent_tail(sent: str, cond: str) -> str:
    i = sent.find(cond)
    return sent[i:].strip("。；;") if i >= 0 else cond


def prose_paragraphs(clause: Clause) -> list[str]:
    """A clause's paragraphs without its heading line; a heading that opens the first sentence is dropped too."""
    paragraphs = [p for p in clause.body if p != clause.heading]
    if paragraphs and clause.heading and paragraphs[0].startswith(clause.heading + "。"):
        paragraphs[0] = paragraphs[0][len(clause.heading) + 1:]
    return paragraphs


def reads_as_heading(paragraph: str) -> bool:
    """A short line with no sentence punctuation names what follows (、将…挂钩 whose numeral was lost)."""
    p = paragraph.strip()
    return len(p) <= 40 and not re.search(r"[，,。；;：:]", p)


def names_list_membership(predicate: Optional[dict]) -> bool:
    """A predicate that is being on a (black)list, perhaps of one industry."""
    if not isinstance(predicate, dict):
        return False
    if "all" in predicate:
        parts = predicate["all"]
        return any(names_list_membership(p) for p in parts) and all(
            names_list_membership(p) or "industry_any" in p for p in parts)
    return predicate.get("event", {}).get("type") == "blacklisted"


def lead_in_subject(before: str) -> Optional[str]:
    """The enterprises a lead-in names as receiving its list: the phrase right before 享受/给予…以下措施."""
    phrase = re.split(r"[，,。；;：:]", before.strip())[-1].strip()
    phrase = re.sub(r"^(?:对于?|凡|经[^，,]{0,20}?的)", "", phrase)
    if len(phrase) < 4 or not ENTERPRISE_NOUN.search(phrase) or looks_like_department(phrase):
        return None
    return phrase


def verb_phrases(text: str) -> set[str]:
    return {pat.pattern for pat, _ in verb_lexicon() if pat.search(text)}


def continues(measure_text: str, seg: str) -> bool:
    """A later part of one sentence that adds to the measure before it: a proviso (…的，可…) or the same
    action again without a target of its own (…抵免；…可按照10%比例抵免)."""
    s = seg.strip()
    if cues()["proviso"].search(s):
        return True
    if sentence_subject(s) or leading_departments(s):
        return False  # …；区自然资源局依法限制…: another body's measure
    own = verb_phrases(s)
    return bool(own) and own <= verb_phrases(measure_text) and not cues()["conditional"].search(s)


def sentence_subject(sent: str) -> list[str]:
    """The body a sentence opens with when it says who acts (各单位要…, 市政府对…): the doer of its measures."""
    m = cues()["sentence_subject"].match(sent.strip())
    if not m:
        return []
    name = m.group("body") or m.group("dept")  # 鼓励金融机构…: the body encouraged is the one that acts
    return [name] if looks_like_department(name) or name in vocabulary()["AUTHORITY"] else []


def strip_subject(text: str) -> str:
    t = text.strip()
    lead = cues()["leading_departments"].match(t)
    if lead and leading_departments(t):
        t = t[lead.end():]
    m = cues()["sentence_subject_strip"].match(t)
    return t[m.end():] if m else t


def verb_at_start(text: str) -> bool:
    """A verb phrase of the lexicon begins within the first three characters (of the first eight)."""
    m = any_verb().search(text[:8])
    return m is not None and m.start() <= 2


def split_measure_pieces(act: str) -> list[str]:
    """One measure, or several: an enumeration of actions (采取A、B、C等措施) and a change of polarity split it."""
    out: list[str] = []
    en = cues()["enumerated_actions"].search(act)
    if en:
        items = [x.strip() for x in re.split(r"[、，,]", en.group("list")) if x.strip()]
        if len(items) >= 2 and sum(polarity(x) is not None for x in items) * 2 > len(items):
            rest = act[en.end():].lstrip("，,")
            out = items
            act = rest if polarity(rest) in ("incentive", "penalty") else ""
    for p in re.split(r"[，,](?=另一方面|同时对|对其)", act):
        cur, cur_kind = "", None
        for ph in re.split(r"(?<=[，,])", p):
            k = polarity(ph)
            if cur and k and cur_kind and k != cur_kind and "other" not in (k, cur_kind):
                out.append(cur)
                cur, cur_kind = ph, k
            else:
                cur += ph
                cur_kind = cur_kind or k
        if cur:
            out.append(cur)
    return [t.strip("，, 。") for t in out if t.strip("，, 。")]


def extract(doc_id: str, clauses: list[Clause]) -> tuple[list[Measure], list[Condition], list[Rule], list[str]]:
    return Extractor(doc_id, clauses).run()
