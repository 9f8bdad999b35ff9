"""Chat turns: facts merged across turns (a correction replaces), the answer to each kind of question, the session.

`ask(db_path, message, session_id, as_of)` → the contract shape {session_id, reply, facts, questions, results,
citations, understood}. A message is first resolved against what the KB holds (document titles, places,
departments, article labels: knowledge/kbindex.py, knowledge/understanding.py); facts come only from what the speaker states about the
enterprise, each kept with the words it came from, and the reply opens with them (我理解的情况) — personal data
in them (phone numbers, 身份证, e-mail, 王芳经理) masked, in what is stored and what is echoed. Questions
about the documents (an article, a department's duties, a place's measures, a comparison, a procedure, what a
clause says) are answered from the clauses (knowledge/answers.py), never with help text instead of an answer.
The KB is only read; sessions live in their own SQLite file (knowledge/sessions.py), so a conversation
survives a restart and publishing the KB publishes nothing an enterprise said.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Optional

from nlp import privacy
from nlp.canonical import simplified
from nlp.predicates import attestation_only
from nlp.profile_schema import event_fields, facts as declared_facts

from .answers import (LIST_TOP, KIND_CN, answer_article, answer_compare, answer_conditions, answer_department,
                      answer_overview, answer_passages, answer_scope, answer_validity, cite, clause_ref, doc_name,
                      measure_lines, printed_path, query_words, whole_sentences)
from .db import open_db
from .evaluate import evaluate, labels, show
from .followups import answer_to_last, event_label_of, follow_up_questions, relevant
from .kbindex import Mention, clauses_at, short_place
from .queries import cached_kb
from .sessions import SessionConflict, SessionStore, new_session_id, resolve_path
from .understanding import (QUESTION_PART, YES_NO, Named, asked_kind, department_places, intent_cues, is_general,
                            kind_in, named_in, other_party_case, own_department, particular_words, real_part, route, split_supposition,
                            statement_facts, states_facts, yes_or_no)

# ---- facts across turns ---------------------------------------------------------------------

def merge_facts(old: dict, new: dict, correction: bool = False, new_event: bool = False) -> dict:
    """Later statements replace earlier ones; events accumulate (a correction replaces the event it corrects,
    a detail completes the event it belongs to); a stated event lifts an earlier denial of its type.
    The words each fact came from (`_said`) follow the fact, with personal data masked (nlp/privacy.py:
    王芳经理 → 王**经理, 13812345678 → 138****5678); the facts themselves were read from the words as typed."""
    merged = {k: v for k, v in old.items() if not k.startswith("_") or k in ("_said", "_attested_text")}
    said = {**old.get("_said", {})}
    new_said = privacy.mask_deep(new.get("_said") or {})  # the words are echoed and stored: personal data masked
    for key, words in new_said.items():
        if key == "absent_events":  # kept by event type: a later denial of a type replaces the earlier one
            said["absent"] = {**said.get("absent", {}),
                              **{a["type"]: w for a, w in zip(new.get("absent_events", []), words) if w}}
        elif key != "events":
            said[key] = words
    if new.get("_events_replace") is not None:
        merged["events_stated"] = new["_events_replace"]
    for key, value in new.items():
        if key.startswith("_"):
            continue
        if key == "events":
            before = merged.get("events_stated", [])
            merged["events_stated"] = merge_events(before, value, correction, new_event)
            words = new_said.get("events") or []
            kept_words = list(said.get("events", [])) + [None] * (len(before) - len(said.get("events", [])))
            for ev, w in zip(value, words + [None] * len(value)):
                if ev in merged["events_stated"][len(before):] and w:
                    kept_words.append(w)
            said["events"] = kept_words
        elif key == "attested":
            merged["attested"] = {**merged.get("attested", {}), **value}
        elif key == "absent_events":
            kept = [a for a in merged.get("absent_events", []) if a["type"] not in {v["type"] for v in value}]
            merged["absent_events"] = [*kept, *value]
        else:
            merged[key] = value
    if said:
        merged["_said"] = said
    if new.get("_asked_kind"):
        merged["_asked_kind"] = new["_asked_kind"]
    elif old.get("_asked_kind"):
        merged["_asked_kind"] = old["_asked_kind"]
    stated = [e for e in new.get("events", []) if not new.get("_hypothetical")]
    if stated and merged.get("absent_events"):
        merged["absent_events"] = [a for a in merged["absent_events"] if not any(contradicts(e, a) for e in stated)]
    return merged

def contradicts(event: dict, denial: dict) -> bool:
    """Does a stated event contradict a denial? Only when the denial covers it: "安全监管部门从没处罚过我们" stands
    beside "被生态环境局罚过一次款"."""
    if event.get("type") != denial.get("type"):
        return False
    for key in ("authority", "major", "severity", "responsible", "subject"):
        if denial.get(key) not in (None, "unit") and event.get(key) != denial[key]:
            return False
    if denial.get("date_from") and (event.get("date") or event.get("date_to") or "9999") < denial["date_from"]:
        return False  # "2022年5月…，那以后再没出过事": the denial starts after the event
    return not (denial.get("fatal") and not event.get("fatalities"))

def merge_events(old: list[dict], new: list[dict], correction: bool = False, new_event: bool = False) -> list[dict]:
    """A new statement that only adds a day to an event told before ("事故是2025年12月5日发生的")
    completes that event, and so does one that adds details without a date ("一般事故，死了一个人，认定是
    责任事故") unless it says it is another one (又/另一起); the same event told twice is kept once; a
    correction ("不对，事故是2021年发生的") replaces the latest event of its type."""
    events = [dict(e) for e in old]
    for ev in new:
        if ev in events:
            continue
        if not new_event and not correction and not (ev.get("date") or ev.get("date_from")):
            same = [e for e in events[:len(old)] if e.get("type") == ev.get("type")
                    and all(e.get(k) in (None, v) for k, v in ev.items())]
            if same:
                same[-1].update({k: v for k, v in ev.items() if v is not None})
                continue
        if correction:
            same = [i for i, e in enumerate(events) if e.get("type") == ev.get("type")]
            if same:
                dated = ev.get("date") or ev.get("date_from")  # a correction without a day keeps the day told
                kept = {k: v for k, v in events[same[-1]].items() if not dated or k not in ("date", "date_from", "date_to")}
                events[same[-1]] = {**kept, **ev}
                continue
        # a day, or a month inside the span told before ("今年出了一起事故" … "3月份的事"), completes that event
        lo, hi = ev.get("date") or ev.get("date_from"), ev.get("date") or ev.get("date_to")
        target = next((e for e in events[:len(old)] if e.get("type") == ev.get("type") and not e.get("date")
                       and date_fits(e, lo) and date_fits(e, hi)
                       and all(e.get(k) in (None, v) for k, v in ev.items() if k not in ("date", "date_from", "date_to"))),
                      None) if lo and not new_event else None
        if target is None:
            events.append(dict(ev))
            continue
        target.pop("date_from", None)
        target.pop("date_to", None)
        target.update({k: v for k, v in ev.items() if v is not None})
    return events

def date_fits(event: dict, day: Optional[str]) -> bool:
    lo, hi = event.get("date_from"), event.get("date_to")
    return day is not None and (lo is None or lo <= day) and (hi is None or day <= hi)

def public_facts(facts: dict) -> dict:
    """Facts as the profile contract names them (stated events under `events`)."""
    out = {k: v for k, v in facts.items() if not k.startswith("_") and k != "events_stated"}
    if facts.get("events_stated"):
        out["events"] = facts["events_stated"]
    return out

def profile_of(facts: dict) -> dict:
    """A check profile from chat facts: stated events are known, denials cover the rest; history stays open."""
    profile = {k: v for k, v in facts.items() if k not in ("events_stated",)}
    if facts.get("events_stated"):
        profile["known_events"] = facts["events_stated"]
    return profile

# ---- what the message names and asks ---------------------------------------------------------

# ---- the enterprise's case ------------------------------------------------------------------------

def understood(facts: dict) -> str:
    """我理解的情况：each fact as understood, with the words it came from, so one can be corrected."""
    said = facts.get("_said") or {}
    items = []
    for key, decl in declared_facts().items():
        value, form = facts.get(key), decl.get("said")
        if value is None or value == [] or not form or key == "attested":
            continue
        text = (form[0] if value else form[1]) if isinstance(form, list) else \
            form.format("、".join(value) if isinstance(value, list) else show(key, value))
        items.append((text, said.get(key)))
    for i, a in enumerate(facts.get("absent_events", [])):
        span = f"近{a['within_years']}年" if a.get("within_years") else (
            f"{a['date_from']}至{a['date_to']}" if a.get("date_from") else "")
        what = "亡人事故" if a.get("fatal") else event_label_of(a["type"])
        who = event_fields()["subject"].get("choice_labels", {}).get(a.get("subject"), "") \
            if a.get("subject") not in (None, "unit") else ""
        items.append((f"{span}{who}没有{what}", (said.get("absent") or {}).get(a["type"])))
    for i, ev in enumerate(facts.get("events_stated", [])):
        words = (said.get("events") or [])[i] if i < len(said.get("events") or []) else None
        if ev.get("type") in labels()["status_events"]:
            items.append((f"已{event_label_of(ev['type'])}", words))
            continue
        when = ev.get("date") or (f"{ev['date_from']}至{ev['date_to']}" if ev.get("date_from") else "日期未说明")
        detail = "，".join(x for x in (
            f"死亡{ev['fatalities']}人" if ev.get("fatalities") else "",
            f"{ev['severity']}事故" if ev.get("severity") else "",
            "责任事故" if ev.get("responsible") else "", "重大行政处罚" if ev.get("major") else "") if x)
        items.append((f"{when}有{event_label_of(ev['type'])}" + (f"（{detail}）" if detail else ""), words))
    for key, yes in (facts.get("attested") or {}).items():
        items.append((("确认" if yes else "否认") + "：" + (facts.get("_attested_text") or {}).get(key, "条款所述情形"),
                      None))
    if not items:
        return ""
    lines = [f"· {text}" + (f"（您说：“{words}”）" if words else "") for text, words in items]
    return "我理解的情况：\n" + "\n".join(lines)

def measures_asked(words: list[str], results: list[dict]) -> list[tuple[dict, dict]]:
    """Measures a yes/no question is about ("会不会上浮安责险费率？"): those sharing most of its words."""
    out = []
    need = max(2, sum(map(len, words)) / 2)  # most of what the question names
    for r in results:
        for m in r["measures"]:
            hit = sum(len(w) for w in words if w in m["text"])
            if hit >= need:
                out.append((hit, r, m))
    if not out:
        return []
    best = max(h for h, _, _ in out)
    return [(r, m) for h, r, m in out if h >= best]


def verdict_line(message: str, results: list[dict], named: Named, kind: Optional[str]) -> Optional[str]:
    """The direct answer to a yes/no question: about a measure it names (会 / 不会 / 还不能确定, with the
    measure), or about the kind it asks (会被列为失信联合惩戒对象吗 → 会 / 不会 / 还不能确定)."""
    asked = "，".join(q for q in QUESTION_PART.findall(simplified(message)) if YES_NO.search(q))
    if not asked:
        return None
    words = particular_words(asked, named)
    hits = measures_asked(words, results) if words else []
    if hits:
        statuses = {r["status"] for r, _ in hits}
        what = whole_sentences(hits[0][1]["text"], 60).rstrip("。")
        can = "能" if hits[0][0]["kind"] == "incentive" else "会"
        if "applies" in statuses:
            return f"{can}。按您说的情况，适用“{what}”。"
        if statuses == {"does_not_apply"}:
            return f"不{can}。按您说的情况，“{what}”不适用于贵单位。"
        return f"还不能确定“{what}”是否适用，取决于下面要补充的信息。"
    if words or not kind:
        return None
    statuses = {r["status"] for r in results if r["kind"] == kind}
    if not statuses:
        return None
    what = "享受守信激励" if kind == "incentive" else "受到失信惩戒"
    if "applies" in statuses:
        return f"{'能' if kind == 'incentive' else '会'}。按您说的情况，贵单位{'可以' if kind == 'incentive' else '会'}{what}。"
    if statuses == {"does_not_apply"}:
        return f"{'不能' if kind == 'incentive' else '不会'}。按您说的情况，贵单位不{'能' if kind == 'incentive' else '会'}{what}。"
    return f"还不能确定贵单位是否{'能' if kind == 'incentive' else '会'}{what}，取决于下面要补充的信息。"

def answer_eligibility(kb: dict, results: list[dict], kind: Optional[str], dept: Optional[Mention] = None,
                       limit: Optional[int] = LIST_TOP) -> str:
    """Verdict first (how many measures apply, from which documents), then the measures grouped by
    department, each cited; then documents still open and those excluded."""
    by_doc: dict[str, list[dict]] = {}
    for r in relevant(results):
        if kind and r["kind"] != kind:
            continue
        by_doc.setdefault(r["document_id"], []).append(r)
    kinds = [kind] if kind else ["incentive", "penalty"]
    if not by_doc:
        regions = {c["text"] for r in results for c in r["conditions"] if c["text"].startswith("适用地域")}
        if results and all(any(c["text"].startswith("适用地域") and c["status"] == "not_met" for c in r["conditions"])
                           for r in results):
            return "已收录的文件都不适用于贵单位所在地区（" + "、".join(sorted(x.split("：", 1)[1] for x in regions)) + \
                "）；如地区有误，请告诉我所在的省、市、县。"
        what = "、".join(KIND_CN[k] for k in kinds)
        return f"适用于贵单位所在地区的文件没有规定{what}措施。"
    lines, verdicts = [], []
    for rs in by_doc.values():
        doc = kb["documents"][rs[0]["document_id"]]
        said = []
        for k in kinds:
            group = [r for r in rs if r["kind"] == k]
            if not group:
                continue
            applying = [m for r in group if r["status"] == "applies" for m in r["measures"]]
            if dept is not None:
                from nlp.departments import canonical_department
                applying = [m for m in applying if any(canonical_department(n) == dept.value for n in m["departments"])]
            applying = list({m["id"]: m for m in applying}.values())
            pending = [r for r in group if r["status"] == "undetermined"]
            what = f"{KIND_CN[k]}措施"
            if applying:
                said.append(f"{'可以享受' if k == 'incentive' else '适用'} {len(applying)} 项{what}")
                lines.append(f"{doc_name(doc)}适用的{what}：")
                lines += measure_lines(kb, [{**m, "document_id": doc["id"], "path": m["citation"]["path"]}
                                            for m in applying], limit)
            elif pending:
                manual = [c["text"].rstrip("。；;") for r in pending for c in r["conditions"]
                          if c["status"] == "unknown" and attestation_only(c.get("predicate")) and not c.get("field")
                          and not c.get("alternatives")]
                open_count = sum(c["status"] == "unknown" for r in pending for c in r["conditions"])
                if manual and len(manual) == open_count:
                    names = "、".join(dict.fromkeys(f"“{whole_sentences(m, 30)}”" for m in manual[:3]))
                    said.append(f"{what}取决于{names}等情形，需由认定部门核实")
                else:
                    said.append(f"{what}能否适用还不能确定，需要补充信息")
            else:
                failed = [c for r in group for c in r["conditions"] if c["status"] == "not_met"][:1]
                why = f"（{failed[0]['because']}，依据{clause_ref(doc, failed[0]['citation']['path'])}）" if failed else ""
                said.append(f"{what}不适用{why}")
        if said:
            verdicts.append(f"按{doc_name(doc)}，" + "；".join(said))
    head = "结论：" + "。\n".join(verdicts) + "。"
    return "\n".join([head, *lines])

def change_hint(cond: dict, as_of: date) -> str:
    """What would change a failing condition: when an event leaves its window, or what level is required."""
    node = cond.get("predicate") or {}
    days = re.findall(r"\d{4}-\d{2}-\d{2}", cond.get("because", ""))
    found = re.search(r"(\d{4}-\d{2}-\d{2})", days[-1]) if days else None  # the event's day, after the window's
    if "not" in node and "event" in (node["not"] or {}) and found:
        within = node["not"].get("within") or {}
        if within.get("years") or within.get("months"):
            day = date.fromisoformat(found.group(1))
            y, m = divmod(day.month - 1 + within.get("months", 0), 12)
            until = day.replace(year=day.year + within.get("years", 0) + y, month=m + 1) if day.day <= 28 else \
                day.replace(year=day.year + within.get("years", 0) + y, month=m + 1, day=28)
            return f"这条记录到{until.year}年{until.month}月{until.day}日满{within.get('years') or within.get('months')}{'年' if within.get('years') else '个月'}，此后不再影响这项条件"
    if "fact" in node and node.get("op") in ("<=", ">=", "==") and node["fact"] in declared_facts():
        decl = declared_facts()[node["fact"]]
        shown = show(node["fact"], node["value"])
        return f"{decl['label']}达到{shown}" + ("及以上" if node.get("op") != "==" else "") + "后即可满足"
    return ""

def answer_why_not(kb: dict, results: list[dict], kind: Optional[str], as_of: date) -> str:
    lines = []
    for r in relevant(results):
        if r["status"] != "does_not_apply" or (kind and r["kind"] != kind):
            continue
        doc = kb["documents"][r["document_id"]]
        for c in [c for c in r["conditions"] if c["status"] == "not_met"][:2]:
            hint = change_hint(c, as_of)
            lines.append(f"{doc_name(doc)}的{KIND_CN[r['kind']]}措施不适用：{c['because']}（依据{clause_ref(doc, c['citation']['path'])}："
                         f"“{whole_sentences(c['text'], 60)}”）" + (f"；{hint}" if hint else "") + "。")
    if lines:
        return "\n".join(dict.fromkeys(lines))
    return "按您目前说的情况，没有哪项条件明确不满足；能否适用还取决于下面这些信息。"

def supposed_branch(kb: dict, facts: dict, new: dict, as_of: date, kind: Optional[str]):
    """For a supposed event whose yes/no qualifiers (责任事故, 重大行政处罚) the user left open and which would
    decide a rule, the answer if they hold: (what is supposed, results), or None."""
    flags = [f for f, d in event_fields().items() if d["type"] == "boolean"]
    supposed = [e for e in facts.get("events_stated", []) if e in new.get("events", []) or
                any(e.get("type") == n.get("type") for n in new.get("events", []))]
    open_flags = [(e, f) for e in supposed for f in flags if e.get(f) is None and
                  (f != "major" or e.get("type") == "administrative_penalty")
                  and (f != "responsible" or e.get("type") == "accident")]
    if not open_flags:
        return None
    events = [dict(e) for e in facts.get("events_stated", [])]
    for e, f in open_flags:
        events[facts["events_stated"].index(e)][f] = True
    variant = {**facts, "events_stated": events}
    profile = with_partial_events({**profile_of(variant), "events_partial": events})
    before = {r["rule_id"]: r["status"] for r in evaluate(kb, with_partial_events(
        {**profile_of(facts), "events_partial": facts.get("events_stated", [])}), as_of)}
    results = evaluate(kb, profile, as_of)
    if not any(r["status"] == "applies" and before.get(r["rule_id"]) != "applies" and (not kind or r["kind"] == kind)
               for r in results):
        return None
    label = "、".join(dict.fromkeys(event_label_of(e["type"]) + "被认定为" + event_fields()[f]["label"].removeprefix("是否为")
                                    for e, f in open_flags))
    return label, results

def lead_in_citations(kb: dict, citations: list[dict]) -> list[dict]:
    """The sentences that introduce the cited items (…属于第七条第五项至第八项情形的，采取下列措施：): they say
    why those measures and not others apply."""
    from .answers import lead_in
    by_path = {(c["document_id"], tuple(c["path"])): c for c in kb["clauses"].values()}
    out = []
    for cit in citations:
        clause = by_path.get((cit.get("document_id"), tuple(cit.get("path") or [])))
        lead = lead_in(kb, clause) if clause else None
        if lead:
            out.append(cite(lead, kb["documents"][lead["document_id"]]))
    return out

def related_passages(db, kb: dict, message: str, named: Named, results: list[dict]) -> tuple[str, list[dict]]:
    """When the question itself names something in particular ("为什么不能享受容缺受理？", "激励还能继续吗"),
    the clauses of the documents that apply to the enterprise that speak of it."""
    asked = "，".join(QUESTION_PART.findall(simplified(message)))
    if not asked or not particular_words(asked, named):
        return "", []
    docs = list(dict.fromkeys(r["document_id"] for r in relevant(results))) or None
    # a why-not often names several measures at once: each clause need cover only a part of the question
    reply, cits, found = answer_passages(db, kb, " ".join(particular_words(asked, named)), docs,
                                         kind=kind_in(simplified(message)), min_cover=0.25)
    return (reply, cits) if found else ("", [])

def failed_citations(results: list[dict], kind: Optional[str]) -> list[dict]:
    return [c["citation"] for r in relevant(results) if r["status"] == "does_not_apply" and (not kind or r["kind"] == kind)
            for c in r["conditions"] if c["status"] == "not_met" and c["citation"].get("path")]


# ---- one turn ---------------------------------------------------------------------------------------

HELP = ("我可以帮您：① 根据企业情况判断能享受哪些守信激励、会受到哪些失信惩戒（例如：“我们是无锡的危化品企业，"
        "标准化二级，三年内没有事故和处罚，能享受什么？”）；② 查某项措施出自哪份文件哪一条（“容缺受理出自哪条？”）；"
        "③ 查某个部门负责哪些措施（“市财政局负责哪些激励措施？”）；④ 查某条的原文（“无锡办法第十条的内容”）；"
        "⑤ 假设发生某事会怎样（“如果发生一起亡人事故会怎样？”）。")
NOT_CHINESE = ("目前只能理解中文提问。Only questions in Chinese are understood for now — for example: "
               "“我们是无锡的危化品企业，标准化二级，能享受哪些激励？”")

def answer_where(kb: dict, terms: list[str], docs: Optional[list[str]] = None) -> tuple[str, list[dict]]:
    lines, citations = [], []
    for term in terms:
        hits = find_passages(kb, term)
        if docs:  # "陈巴尔虎旗的方案里…": in the documents named, when they hold it
            hits = [h for h in find_passages(kb, term, docs)] or hits
        found = [cite(h, kb["documents"][h["document_id"]]) for h in hits]
        if not found:
            lines.append(f"在已收录的文件中没有找到“{term}”。")
            continue
        lines.append(f"“{term}”出自以下条款：")
        for c in found:
            ref = (f"《{c['title']}》" if c["title"] else f"文件“{c['source_file']}”") + printed_path(c["path"])
            lines.append(f"· {ref}：{whole_sentences(sentence_with(c['quote'], term), 140)}")
        citations += found
    return "\n".join(lines), citations

def sentence_with(text: str, term: str) -> str:
    """The sentence of a clause that says the term (or all its words); the clause from its start otherwise."""
    words = [w for w in token_set(term) if not is_general(w)] or [term]
    for sentence in re.findall(r"[^。；;]+[。；;]?", text):
        plain = simplified(sentence)
        if term in plain or all(w in plain for w in words):
            return sentence.strip()
    return text

def token_set(text: str) -> set[str]:
    from nlp.pipeline import shared_jieba
    return {t for t in shared_jieba().cut(text) if len(t) >= 2}

def find_passages(kb: dict, term: str, docs: Optional[list[str]] = None) -> list[dict]:
    """Measures (then clauses) that contain the term; failing that, those sharing most of its words."""
    measures = [m for m in kb["measures"].values() if docs is None or m["document_id"] in docs]
    clauses = [c for c in kb["clauses"].values() if c["path"] and (docs is None or c["document_id"] in docs)]
    words = [w for w in token_set(term) if not is_general(w)] or list(token_set(term))
    # the clause that says it — in these words, or in all of its words with others between ("减少执法检查频次"
    # / "减少对其安全生产执法检查的频次") — not the ones above it
    holding = [c for c in clauses if term in simplified(c["text"])
               or (len(words) >= 2 and all(w in simplified(c["text"]) for w in words))]
    parents = {c["parent_id"] for c in holding}
    hits = [c for c in holding if c["id"] not in parents]
    if hits:
        return hits
    words = token_set(term)
    if not words:
        return []
    scored = []
    for item in [*measures, *clauses]:
        score = sum(len(w) for w in words if w in item["text"])
        if score:
            scored.append((score, item))
    if not scored:
        return []
    best = max(s for s, _ in scored)
    if best < min(4, sum(len(w) for w in words)):
        return []
    keep = [item for s, item in scored if s >= best * 0.8]
    measure_clauses = {m["clause_id"] for m in keep if "kind" in m}
    return [x for x in keep if "kind" in x or x["id"] not in measure_clauses][:6]

def answer_departments(kb: dict, kind: Optional[str]) -> tuple[str, list[dict]]:
    """The 措施清单 by department: which bodies carry out how many measures."""
    from nlp.departments import canonical_department
    counts: dict[str, dict] = {}
    for m in kb["measures"].values():
        if kind and m["kind"] != kind:
            continue
        for name in m["departments"]:
            entry = counts.setdefault(canonical_department(name) or name, {"names": set(), "measures": []})
            entry["names"].add(name)
            entry["measures"].append(m)
    if not counts:
        return "已收录的文件中没有写明实施部门的措施。", []
    what = f"{KIND_CN[kind]}措施" if kind else "措施"
    lines = [f"负责{what}的部门共 {len(counts)} 个（按措施数量排序）："]
    ranked = sorted(counts.items(), key=lambda kv: -len(kv[1]["measures"]))
    for canon, e in ranked[:15]:
        lines.append(f"· {'、'.join(sorted(e['names'])[:3])}：{len(e['measures'])} 项")
    if len(ranked) > 15:
        lines.append(f"……另有 {len(ranked) - 15} 个部门。")
    lines.append("可以继续问：“某某部门负责哪些措施？”")
    cits = [cite(e["measures"][0], kb["documents"][e["measures"][0]["document_id"]]) for _, e in ranked[:15]]
    return "\n".join(lines), cits

def answer_procedure(db, kb: dict, procedure: str, message: str, docs: Optional[list[str]]) -> tuple[str, list[dict]]:
    p = query_words()["procedures"][procedure]
    particular = particular_words(message, Named([], [], [], []))
    reply, cits, found = answer_passages(db, kb, " ".join(particular) or message, docs, must_any=p["words"],
                                         topic=p["label"])
    if found:
        return f"关于{p['label']}，文件是这样规定的：\n" + reply, cits
    scope = "、".join(doc_name(kb["documents"][d]) for d in docs) if docs else "已收录的文件"
    return f"{scope}没有写明{p['label']}的具体程序，可以向发布文件的部门咨询。", []

TURN_TRIES = 8

def ask(db_path: str | Path, message: str, session_id: Optional[str] = None, as_of: Optional[date] = None,
        sessions_path: Optional[Path] = None) -> dict:
    """One turn. The session is kept beside the KB (kb.sessions.sqlite) unless sessions_path says where; a turn
    that raced another turn of its session is re-run on the facts that one saved, so neither is lost. A new
    conversation (no session_id) gets its id here; an id the session file does not hold is UnknownSession."""
    cached_kb(db_path)  # KBError before any session file is made
    with SessionStore(resolve_path(db_path, sessions_path), create=not session_id) as store:
        for _ in range(TURN_TRIES - 1):
            try:
                return turn(db_path, store, message, session_id, as_of)
            except SessionConflict:
                continue
        return turn(db_path, store, message, session_id, as_of)

def turn(db_path: str | Path, store: SessionStore, message: str, session_id: Optional[str],
         as_of: Optional[date]) -> dict:
    as_of = as_of or date.today()
    session_id, old = load_session(store, session_id)
    kb = cached_kb(db_path, as_of)  # each document at the version in force on as_of
    db = open_db(db_path, readonly=True)  # the FTS index, for questions about what the clauses say
    try:
        return answer_turn(db, kb, store, message, session_id, old, as_of)
    finally:
        db.conn.close()

def answer_turn(db, kb: dict, store: SessionStore, message: str, session_id: str, old: dict, as_of: date) -> dict:
    named = named_in(kb, message)
    new = statement_facts(message, named, as_of, own_department(message, named, old))
    answer = yes_or_no(message) if old.get("_last_question") else None
    if answer is not None:  # 是 / 没有 to the question asked last
        new = answer_to_last(old["_last_question"], answer, old, as_of)
    kind_now = asked_kind(message)
    if kind_now:
        new["_asked_kind"] = kind_now
    correction = bool(intent_cues()["correction"].search(message))
    for ev in new.get("events", []):
        if ev.get("type") in labels()["status_events"] and not (ev.get("date") or ev.get("date_from")):
            ev["date"] = as_of.isoformat()  # "被列入了黑名单": a status the enterprise has now
    intent, info = route(message, new, old, named) if answer is None else ("eligibility", {})
    other = other_party_case(message, named, as_of) if intent in ("passages", "unknown", "overview", "conditions") \
        else None
    if other:  # "我们的供应商去年出了亡人事故，这种企业还能评上吗": answered for that enterprise, never kept
        intent = "other_case"
    if intent not in ("eligibility", "why_not", "what_if"):
        new = {k: v for k, v in new.items() if k.startswith("_") and k != "_said"}  # a question about the documents
    new_event = bool(intent_cues()["new_event"].search(message))
    if new.get("_hypothetical"):
        # "如果发生…会怎样": answered with the supposed facts, but the session keeps only what is real
        supposed = {**new, "events": [{**e, "date": e.get("date") or (None if e.get("date_from") else as_of.isoformat())}
                                      for e in new.get("events", [])]}
        real = {k: v for k, v in statement_facts(real_part(message), named, as_of).items()
                if k != "_hypothetical"} if intent == "what_if" else {}
        # what the supposition itself says, read on its own, changes the stated facts ("现在二级，要是升到一级")
        change = {k: v for k, v in statement_facts(split_supposition(message)[1], named, as_of).items()
                  if not k.startswith("_") and k not in ("events", "absent_events")}
        facts = merge_facts(old, {**supposed, **real, **change})
        kept = merge_facts(old, {**real, **{k: v for k, v in new.items() if k == "_asked_kind"}})
    else:
        facts = kept = merge_facts(old, new, correction, new_event)
    if other:
        facts = merge_facts({}, other)
    results: list[dict] = []
    citations: list[dict] = []
    questions: list[dict] = []
    listing = None
    speaker = old.get("_speaker")
    if intent == "not_chinese":
        reply = NOT_CHINESE
    elif intent == "more":
        listing = old["_list"]
        reply, citations = replay_list(db, kb, listing)
        listing = None
    elif intent == "article":
        found = clauses_at(kb, named.labels, info["docs"]) or ([] if info["docs"] else clauses_at(kb, named.labels))
        if found:
            reply, citations = answer_article(kb, found)
        else:
            scope = "、".join(doc_name(kb["documents"][d]) for d in info["docs"]) if info["docs"] else "已收录的文件"
            reply = f"{scope}中没有找到这一条。"
    elif intent == "where":
        reply, citations = answer_where(kb, info["terms"], named.documents())
    elif intent == "conditions":
        scope = info["docs"] or list(kb["documents"])
        reply, citations = answer_conditions(kb, scope, info["kind"])
    elif intent == "compare":
        if particular_words(message, named):  # 两地在“容缺受理”上有什么不同: what each says about it
            reply, citations = compare_passages(db, kb, message, info["groups"])
        else:
            reply, citations = answer_compare(kb, info["groups"], info["kind"])
    elif intent == "department":
        dept = info["dept"]
        printed = info.get("printed") or simplified(message)[dept.start:dept.end]
        scope = department_places(kb, message, named) or old.get("_scope")
        listing = {"intent": "department", "canon": dept.value, "printed": printed, "kind": info["kind"], "docs": scope}
        if intent_cues()["self_as_department"].search(simplified(message)):
            speaker = {"canon": dept.value, "printed": printed}
        reply, citations = replay_list(db, kb, listing, LIST_TOP)
    elif intent == "departments":
        reply, citations = answer_departments(kb, info["kind"])
    elif intent == "scope":
        reply, citations = answer_scope(kb, info["docs"])
    elif intent == "validity":
        reply, citations = answer_validity(db, kb, info["docs"] or list(kb["documents"]))
    elif intent == "procedure":
        reply, citations = answer_procedure(db, kb, info["procedure"], message, info["docs"])
    elif intent == "overview":
        listing = {"intent": "overview", "docs": info["docs"] or list(kb["documents"]), "kind": info["kind"]}
        reply, citations = replay_list(db, kb, listing, LIST_TOP if len(listing["docs"]) == 1 else 3)
    elif intent == "passages":
        particular = particular_words(message, named)
        reply, citations, _ = answer_passages(db, kb, " ".join(particular) if particular else message, info["docs"],
                                              with_conditions=bool(intent_cues()["asks_conditions"].search(message)))
    elif intent == "unknown" and not states_facts(facts):
        reply = HELP
    else:
        profile = with_partial_events({**profile_of(facts), **({"events_partial": facts["events_stated"]}
                                                                if facts.get("events_stated") else {})})
        results = evaluate(kb, profile, as_of)
        kind = "penalty" if intent == "what_if" and not facts.get("_asked_kind") else facts.get("_asked_kind")
        if intent == "other_case":
            kind = asked_kind(message) or kind_in(message)
        dept = named.departments[-1] if named.departments else None
        if intent == "why_not":
            body = answer_why_not(kb, results, kind, as_of)
        else:
            body = answer_eligibility(kb, results, kind, dept, limit=15)
        conditional = []
        if intent == "what_if":  # 如果发生一起亡人事故: and if it is found to be a responsible accident?
            branch = supposed_branch(kb, facts, new, as_of, kind)
            if branch:
                label, branch_results = branch
                body += f"\n如果这起{label}：\n" + answer_eligibility(kb, branch_results, kind, dept, limit=15)
                conditional = [m["citation"] for r in branch_results if r["status"] == "applies"
                               and (not kind or r["kind"] == kind) for m in r["measures"]]
        verdict = verdict_line(message, relevant(results), named, kind)
        # what was understood opens the reply when this message told something (and on a bare answer)
        told = (states_facts({k: v for k, v in new.items() if k != "events"}) if new.get("_hypothetical")
                else states_facts(new)) or not states_facts(old)
        if intent == "other_case":
            told = False
            verdict = verdict_line(message, relevant(results), named, kind)
            if verdict:
                verdict = verdict.replace("贵单位", "这家企业")
        parts = [understood(kept) if told else None, verdict,
                 ("假如发生您所说的情况：" if intent == "what_if" else None),
                 ("按您所说那家企业的情况（只用于回答这个问题，不记入贵单位的情况）：" if intent == "other_case" else None),
                 body]
        reply = "\n".join(p for p in parts if p)
        scope = relevant(results)
        if intent == "other_case":
            questions = []
        elif kind:
            questions = follow_up_questions([r for r in scope if r["kind"] == kind], profile, as_of)
        else:  # someone describing the enterprise wants its benefits first; penalties only when nothing else is open
            questions = (follow_up_questions([r for r in scope if r["kind"] == "incentive"], profile, as_of)
                         or follow_up_questions([r for r in scope if r["kind"] == "penalty"], profile, as_of))
        notes = list(dict.fromkeys(f"{doc_name(kb['documents'][r['document_id']])}：{n}" for r in relevant(results)
                                   if not kind or r["kind"] == kind for n in r.get("validity_notes") or []))
        if notes:
            reply += "\n说明：" + "；".join(notes) + "。"
        related, related_cits = related_passages(db, kb, message, named, results) \
            if intent in ("why_not", "what_if") else ("", [])
        if related:
            reply += "\n相关条款：\n" + related
        if intent == "other_case":
            open_qs = follow_up_questions([r for r in relevant(results) if not kind or r["kind"] == kind], profile, as_of)
            if open_qs:
                reply += "\n要判断这家企业，还需要知道：" + "".join(
                    f"\n· {q['question'].replace('贵单位', '这家企业')}（{q['why']}）" for q in open_qs)
            citations_open = [q["citation"] for q in open_qs]
        else:
            citations_open = []
        if questions:
            reply += "\n还需要您补充：" + "".join(f"\n· {q['question']}（{q['why']}）" for q in questions)
        applying = [r for r in results if r["status"] == "applies" and (not kind or r["kind"] == kind)]
        citations = ([m["citation"] for r in applying for m in r["measures"]]
                     + [c["citation"] for r in applying for c in r["conditions"]
                        if c["status"] == "met" and c["citation"].get("path")]) \
            or failed_citations(results, kind) or [q["citation"] for q in questions]
        decided = [c["citation"] for r in relevant(results) if r["status"] == "undetermined"
                   and (not kind or r["kind"] == kind) for c in r["conditions"]
                   if c["status"] == "met" and c["citation"].get("path") and not c["text"].startswith("适用")]
        citations += related_cits + conditional + lead_in_citations(kb, citations) + decided + citations_open
    kept = {k: v for k, v in kept.items() if k not in ("_last_question", "_list", "_speaker", "_scope")}
    if old.get("_scope") and not named.documents():
        kept["_scope"] = old["_scope"]
    if questions:
        kept["_last_question"] = {"key": questions[-1].pop("_ref"), "field": questions[-1]["field"]}
        kept["_attested_text"] = {**kept.get("_attested_text", {}),
                                  **{q["key"]: q["question"].removeprefix("贵单位是否").rstrip("？")
                                     for q in questions if q["field"] == "attested"}}
    for q in questions:
        q.pop("_ref", None)
    if listing:
        kept["_list"] = listing
    if speaker:
        kept["_speaker"] = speaker
    scope_now = named.documents() or (info.get("docs") if isinstance(info.get("docs"), list) else None)
    if scope_now:
        kept["_scope"] = scope_now
    # personal data the user typed is masked wherever the reply repeats it; a quoted clause keeps its words,
    # but not a mobile number (nlp/privacy.py)
    reply = privacy.mask_echo(reply, message)
    out = {"session_id": session_id, "intent": intent, "reply": reply,
           "facts": public_facts(kept),
           "understood": privacy.mask_echo(understood(kept), message),
           "questions": [q["question"] for q in questions], "question_details": questions,
           "results": privacy.mask_deep(results, privacy.mask_mobiles),
           "citations": privacy.mask_deep(dedupe(citations), privacy.mask_mobiles)}
    save_turn(store, session_id, kept, message, {"reply": reply, "questions": out["questions"]})
    return out

def compare_passages(db, kb: dict, message: str, groups: list[list[str]]) -> tuple[str, list[dict]]:
    """Each document's clauses on what a comparison asks about, side by side."""
    lines, cits = [], []
    for docs in groups:
        doc = kb["documents"][docs[0]]
        place = short_place(doc.get("jurisdiction"))
        reply, found_cits, found = answer_passages(db, kb, " ".join(particular_words(message, Named([], [], [], []))),
                                                   docs, top=2, kind=kind_in(simplified(message)),
                                                   with_conditions=bool(intent_cues()["asks_conditions"].search(message)))
        lines.append(f"{place or doc_name(doc)}：" + ("\n" + reply if found else f"{doc_name(doc)}没有相关规定。"))
        cits += found_cits
    return "\n".join(lines), cits

def dedupe(citations: list[dict]) -> list[dict]:
    seen, out = set(), []
    for c in citations:
        key = (c.get("document_id") or c.get("source_file"), tuple(c.get("path") or []), c.get("quote"))
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out

def replay_list(db, kb: dict, listing: dict, limit: Optional[int] = None) -> tuple[str, list[dict]]:
    """A list answer (a department's measures, a place's measures), whole when asked for the rest."""
    if listing["intent"] == "department":
        return answer_department(kb, listing["canon"], listing["printed"], listing["kind"], listing["docs"], limit)
    return answer_overview(kb, [d for d in listing["docs"] if d in kb["documents"]], listing["kind"], limit)

# ---- sessions -----------------------------------------------------------------------------------

def load_session(store: SessionStore, session_id: Optional[str]) -> tuple[str, dict]:
    """A session the store issued (UnknownSession for any other id), or a new one with a fresh random id."""
    if session_id:
        return session_id, store.load(session_id, known=True)
    return new_session_id(), {}

def save_turn(store: SessionStore, session_id: str, facts: dict, message: str, reply: dict) -> None:
    store.save_turn(session_id, facts, message, reply)  # SessionConflict if another turn saved meanwhile

def with_partial_events(profile: dict) -> dict:
    """Stated events without a full history: the events list is not complete, so it stays unknown,
    except where the speaker denied a type (absent_events) — handled by the evaluator."""
    p = dict(profile)
    known = p.pop("known_events", None)
    partial = p.pop("events_partial", None)
    if "events" not in p and (known or partial):
        # what was stated is known to exist; the evaluator treats events as complete only for denied types
        p["stated_events"] = known or partial
    return p
