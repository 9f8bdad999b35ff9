"""evaluate(kb, profile, as_of) → results: a pure function over the typed predicates, in three values.

A condition is met / not_met / unknown; a missing fact is unknown, never false or zero. A rule `applies`
when its combinator is satisfied, `does_not_apply` as soon as a required condition fails (even if others
are unknown), `undetermined` otherwise. A document's jurisdiction and scope gate all of its rules.
"""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any, Optional

from nlp.departments import canonical_department
from nlp.predicates import grammar
from nlp.profile_schema import event_fields, event_types, facts, schema
from nlp.regions import contains, resolve_region

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"


@lru_cache(maxsize=1)
@lru_cache(maxsize=1)
def labels() -> dict:
    """The wording of facts and events, as the profile declaration (nlp/data/profile_schema.json) gives it."""
    ev, d = event_types(), schema()["defaults"]
    return {"facts": {k: {"label": v["label"], "question": v.get("question", f"请补充：{v['label']}")}
                      for k, v in facts().items()},
            "events": {k: v["label"] for k, v in ev.items()},
            "event_fields": {k: v["label"] for k, v in event_fields().items()},
            "event_verbs": {**{k: v["verb"] for k, v in ev.items() if "verb" in v}, "_default": d["verb"]},
            "event_question_suffix": {**{k: v["question_suffix"] for k, v in ev.items() if "question_suffix" in v},
                                      "_default": d["question_suffix"]},
            "status_events": [k for k, v in ev.items() if v.get("status")]}


def fact_label(field: str) -> str:
    return labels()["facts"].get(field, {}).get("label", field)


def event_label(kind: str) -> str:
    return labels()["events"].get(kind, kind)


def years_before(d: date, years: int = 0, months: int = 0) -> date:
    """The same calendar day `years`/`months` earlier (29 Feb → 28 Feb): the first day inside the window."""
    total = d.year * 12 + (d.month - 1) - years * 12 - months
    y, m = divmod(total, 12)
    if y < date.min.year:  # a window reaching before year 1: every day counts
        return date.min
    m += 1
    for day in range(d.day, 0, -1):  # at most 31 tries: the loop always ends
        try:
            return date(y, m, day)
        except ValueError:
            continue
    return date(y, m, 1)


def parse_day(value: Any) -> Optional[date]:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


# ---- three-valued logic -----------------------------------------------------------------------

def all3(values: list[str]) -> str:
    if NOT_MET in values:
        return NOT_MET
    return MET if all(v == MET for v in values) else UNKNOWN


def any3(values: list[str]) -> str:
    if MET in values:
        return MET
    return NOT_MET if values and all(v == NOT_MET for v in values) else UNKNOWN


def not3(value: str) -> str:
    return {MET: NOT_MET, NOT_MET: MET}.get(value, UNKNOWN)


# ---- predicate evaluation ---------------------------------------------------------------------

CMP = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<=": lambda a, b: a <= b,
       ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, ">": lambda a, b: a > b}


def show(field: str, value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    decl = facts().get(field, {})
    named = decl.get("choice_labels", {}).get(str(value))
    return named or f"{value}{decl.get('unit', '')}"


def eval_fact(node: dict, profile: dict) -> tuple[str, str]:
    field, op, want = node["fact"], node.get("op", "=="), node.get("value")
    have = profile.get(field)
    if have is None:
        return UNKNOWN, f"尚不清楚{fact_label(field)}"
    try:
        ok = CMP[op](have, want)
    except TypeError:
        return UNKNOWN, f"{fact_label(field)}的取值无法比较：{have}"
    better_low = facts().get(field, {}).get("better") == "lower"  # 一级 / A级 is the best
    need = {"==": "", "<=": "及以上" if better_low else "及以下", ">=": "及以上"}.get(op, op)
    return (MET if ok else NOT_MET), f"{fact_label(field)}为{show(field, have)}（要求：{show(field, want)}{need}）"


def industry_relation(have: str, want: str) -> str:
    """met when the enterprise's industry is the rule's or narrower; unknown when it is broader
    (危险化学品 vs a rule on 危险化学品储存); not_met otherwise."""
    from nlp.industries import ancestors, canonical, vocabulary
    h, w = canonical(have), canonical(want)
    known = vocabulary().aliases
    if h == w or w in ancestors(h):
        return MET
    if h in ancestors(w):
        return UNKNOWN
    if h not in known.values() or w not in known.values():  # outside the vocabulary: compare the words
        return MET if (w in h or h in w) else NOT_MET
    return NOT_MET


def eval_industry(node: dict, profile: dict) -> tuple[str, str]:
    terms, have = node["industry_any"], profile.get("industries")
    if have is None:
        return UNKNOWN, f"尚不清楚所属行业（本条适用于：{'、'.join(terms)}）"
    relations = {(h, t): industry_relation(h, t) for h in have for t in terms}
    hit = sorted({h for (h, _), r in relations.items() if r == MET})
    if hit:
        return MET, f"所属行业“{'、'.join(hit)}”属于{'、'.join(terms)}"
    if UNKNOWN in relations.values():
        return UNKNOWN, f"所属行业“{'、'.join(have)}”是否属于{'、'.join(terms)}，需要更具体的行业信息"
    return NOT_MET, f"所属行业“{'、'.join(have) or '无'}”不属于{'、'.join(terms)}"


def family(kind: str) -> tuple[list[str], dict]:
    g = grammar()
    members = g["families"].get(kind, [kind])
    return members, g["family_filters"].get(kind, {})


def field_matches(field: str, want: Any, have: Any) -> Optional[bool]:
    if have is None:
        return None
    if isinstance(want, dict):
        order = grammar()["severity_order"]
        if "at_least" in want:  # 较大及以上
            return have in order and want["at_least"] in order and order.index(have) >= order.index(want["at_least"])
        return all(CMP[op](have, v) for op, v in want.items())
    if field == "authority":
        return canonical_department(str(have)) == canonical_department(str(want)) or str(want) in str(have)
    return have == want


def event_in_window(ev: dict, start: Optional[date], end: date) -> Optional[bool]:
    """Is the event inside [start, end]? A date range only partly inside is unknown; an event after
    `end` (as_of) has not happened yet."""
    d = parse_day(ev.get("date"))
    if d:
        return d <= end and (start is None or start <= d)
    lo, hi = parse_day(ev.get("date_from")), parse_day(ev.get("date_to"))
    if lo and lo > end:
        return False
    if hi and start and hi < start:
        return False
    if start is None:
        return True if (hi is None or hi <= end) else None
    if lo and lo >= start and (hi or end) <= end:
        return True
    return None


def event_match(ev: dict, want: dict, start: Optional[date], end: date) -> Optional[bool]:
    members, filters = family(want["type"])
    if ev.get("type") not in members:
        return False
    verdicts = []
    for field, value in {**filters.get(ev.get("type"), {}), **{k: v for k, v in want.items() if k != "type"}}.items():
        verdicts.append(field_matches(field, value, ev.get(field)))
    verdicts.append(event_in_window(ev, start, end))
    if False in verdicts:
        return False
    return None if None in verdicts else True


QUALIFIERS = ("major", "severity", "responsible", "authority", "subject")


def denial_covers(denial: dict, want: dict, years: Optional[float]) -> bool:
    """A denial decides a query only when it is at least as broad: 'no major penalty' says nothing about
    penalties in general, 'no fatal accident' nothing about non-fatal ones."""
    span = denial.get("within_years")
    if span is not None and (years is None or span < years):
        return False
    for key in QUALIFIERS:
        # the unit's own denial ("公司…没有失信行为") covers a question about the unit, which names no subject
        if key == "subject" and denial.get(key) == "unit" and want.get(key) in (None, "unit"):
            continue
        if key == "authority" and denial.get(key) and want.get(key) and field_matches(key, want[key], denial[key]):
            continue
        if key in denial and denial[key] is not None and want.get(key) != denial[key]:
            return False
    if denial.get("fatal") and not isinstance(want.get("fatalities"), dict):
        return False
    return True


def absent_covers(profile: dict, want: dict, years: Optional[float]) -> bool:
    """Has the speaker denied every event type of this family, broadly enough and for at least this long?"""
    denied = profile.get("absent_events") or []
    members, _ = family(want["type"])
    if len(members) > 1:
        members = [m for m in members if m != want["type"]]  # a family is covered through its members

    def covered(member: str) -> bool:
        for d in denied:
            d_members, _ = family(d.get("type", ""))
            if (member in d_members or d.get("type") == member) and denial_covers(d, want, years):
                return True
        return False
    return bool(members) and all(covered(m) for m in members)


def repaired_before(events: list[dict], as_of: date) -> Optional[date]:
    """The latest completed credit repair (信用修复): dishonesty before it no longer counts."""
    days = [parse_day(e.get("date")) for e in events if e.get("type") == "credit_repaired"]
    days = [d for d in days if d and d <= as_of]
    return max(days) if days else None


REPAIRABLE = {"dishonest_act", "blacklisted", "bad_credit_record"}


def describe_event(want: dict) -> str:
    text = event_label(want["type"])
    if isinstance(want.get("severity"), dict):
        text = f"{want['severity'].get('at_least')}及以上{text}"
    elif want.get("severity"):
        text = f"{want['severity']}{text}"
    if want.get("responsible"):
        text = text.replace("生产安全事故", "生产安全责任事故")
    if isinstance(want.get("fatalities"), dict):
        text = f"造成人员死亡的{text}"
    if want.get("major"):
        text = f"重大{text}"
    if want.get("authority"):
        text = f"{want['authority']}作出的{text}"
    return text


def eval_event(node: dict, profile: dict, as_of: date) -> tuple[str, str]:
    want = node["event"]
    within = node.get("within") or ({"years": grammar()["default_within_years"][want["type"]]}
                                    if want["type"] in grammar()["default_within_years"] else None)
    need = node.get("at_least", 1)
    start = years_before(as_of, within.get("years", 0), within.get("months", 0)) if within else None
    span = (f"{within['years']}年内" if "years" in within else f"{within['months']}个月内") if within else ""
    window_text = f"（{start.isoformat()} 至 {as_of.isoformat()}）" if start else ""
    what = describe_event(want)
    events = profile.get("events")
    if events is None:
        stated = [ev for ev in profile.get("stated_events") or [] if event_match(ev, want, start, as_of)]
        if len(stated) >= need:
            dates = "、".join(str(e.get("date") or e.get("date_from") or "日期不详") for e in stated)
            return MET, f"据您所述，{span}{window_text}发生过{what}（{dates}）"
        span_years = (within.get("years") or within.get("months", 0) / 12) if within else None
        if absent_covers(profile, want, span_years):
            return NOT_MET, f"据您所述，{span}{window_text}没有{what}"
        return UNKNOWN, f"尚不清楚{span}{window_text}是否有{what}" if span else f"尚不清楚是否有{what}"
    definite, possible = [], []
    repaired = repaired_before(events, as_of) if want["type"] in REPAIRABLE else None
    for ev in events:
        if repaired and ev.get("type") != "credit_repaired" and (parse_day(ev.get("date")) or as_of) <= repaired:
            continue
        verdict = event_match(ev, want, start, as_of)
        if verdict:
            definite.append(ev)
        elif verdict is None:
            possible.append(ev)
    count = "" if need == 1 else f"{need}次及以上"
    if len(definite) >= need:
        dates = "、".join(str(e.get("date") or e.get("date_from") or "日期不详") for e in definite)
        return MET, f"{span}{window_text}发生过{count}{what}（{dates}）"
    if len(definite) + len(possible) >= need:
        scope = f"{span}{window_text}的" if span else ""
        return UNKNOWN, f"已有记录是否属于{scope}{what}尚不确定，需要补充日期或细节"
    if span:
        return NOT_MET, f"{span}{window_text}没有{count}{what}"
    return NOT_MET, f"没有{count}{what}的记录"


def attestation_question(wording: str) -> str:
    """贵单位是否……？ in the clause's own words, without the 凡/对 that opened it or the 的 that closed it."""
    w = re.sub(r"^(?:凡|对于?|如|若)", "", wording.strip()).rstrip("。；;，,的 ")
    w = re.sub(r"^(?:生产经营单位|企业|用人单位|单位)(?=[^及和、])", "", w)
    # …的煤矿 / …的生产经营单位 names a kind of enterprise: is the enterprise one of them
    verb = "属于" if re.search(r"的[^的，,]{0,8}(?:企业|单位|煤矿|煤礦|主体|企業|單位)$", w) else ""
    return f"贵单位是否{verb}{w}？"


def evaluate_predicate(node: Optional[dict], profile: dict, as_of: date) -> tuple[str, str]:
    if node is None:
        return UNKNOWN, "该条件的表述无法自动判断，需要人工核实"
    if "all" in node or "any" in node:
        parts = [evaluate_predicate(n, profile, as_of) for n in node.get("all") or node.get("any")]
        status = (all3 if "all" in node else any3)([s for s, _ in parts])
        shown = [b for s, b in parts if s == status] or [b for _, b in parts]
        return status, "；".join(shown)
    if "not" in node:
        status, because = evaluate_predicate(node["not"], profile, as_of)
        return not3(status), because
    if "fact" in node:
        return eval_fact(node, profile)
    if "industry_any" in node:
        return eval_industry(node, profile)
    if "event" in node:
        return eval_event(node, profile, as_of)
    if "attested" in node:
        answer = (profile.get("attested") or {}).get(node["attested"])
        if answer is None:
            return UNKNOWN, f"需要贵单位确认：{attestation_question(node['text'])}"
        return (MET if answer else NOT_MET), f"贵单位{'确认' if answer else '否认'}：{node['text']}"
    if "unparsed" in node:  # knowledge bases built before attestations
        return UNKNOWN, f"“{node['unparsed'][:30]}”需要人工核实"
    return UNKNOWN, "未知的条件类型"


# ---- documents and rules ----------------------------------------------------------------------

def citation(doc: dict, path: list, quote: str) -> dict:
    return {"source_file": doc["source_file"], "document_id": doc["id"], "title": doc.get("title"),
            "version": doc.get("version"), "path": path, "quote": quote}


def jurisdiction_verdict(jur: str, region: Optional[str]) -> dict:
    """status, because (and field) of a jurisdiction for a region: the same for every document of that place."""
    if not region:
        return {"status": UNKNOWN, "because": f"尚不清楚贵单位所在地区（本文件适用于{jur}）", "field": "region"}
    inside = contains(jur, region)
    full = resolve_region(region) or region
    if inside is False and full != jur and contains(region, jur):  # 江苏省 for a 无锡市 document
        return {"status": UNKNOWN, "because": f"{full}范围较大，需要知道是否在{jur}", "field": "region"}
    if inside is None:
        return {"status": UNKNOWN, "because": f"无法识别地区“{region}”", "field": "region"}
    if inside:
        return {"status": MET, "because": f"{full}在{jur}范围内"}
    return {"status": NOT_MET, "because": f"{full}不在{jur}范围内"}


def jurisdiction_result(doc: dict, profile: dict, verdicts: Optional[dict] = None) -> Optional[dict]:
    """The jurisdiction gate of a document for the profile's region; `verdicts` (jurisdiction → verdict) keeps
    each place's verdict for the rest of one evaluation, so the region is resolved once per place."""
    jur = doc.get("jurisdiction")
    if not jur:
        return None
    verdict = verdicts.get(jur) if verdicts is not None else None
    if verdict is None:
        verdict = jurisdiction_verdict(jur, profile.get("region"))
        if verdicts is not None:
            verdicts[jur] = verdict
    out = {"text": f"适用地域：{jur}", "status": verdict["status"], "because": verdict["because"],
           "citation": citation(doc, [], doc.get("title") or doc["source_file"])}
    if "field" in verdict:
        out["field"] = verdict["field"]
    return out


def condition_result(cond: dict, doc: dict, profile: dict, as_of: date) -> dict:
    status, because = evaluate_predicate(cond.get("predicate"), profile, as_of)
    out = {"id": cond["id"], "text": cond["text"], "role": cond["role"], "status": status, "because": because,
           "predicate": cond.get("predicate"), "citation": citation(doc, cond["path"], cond["text"])}
    if cond.get("corrected"):  # a staff correction set it (校正): who, when, why
        out["corrected"] = out["citation"]["corrected"] = cond["corrected"]
    return out


def measure_result(m: dict, doc: dict) -> dict:
    out = {"id": m["id"], "kind": m["kind"], "text": m["text"], "departments": m["departments"],
           "citation": citation(doc, m["path"], m["text"])}
    if m.get("corrected"):  # added or changed by a staff correction (校正): who, when, why
        out["corrected"] = out["citation"]["corrected"] = m["corrected"]
    return out


def rule_status(combinator: str, gates: list[str], statuses: list[str]) -> str:
    own = (any3 if combinator == "any" else all3)(statuses)
    overall = all3([*gates, own])
    return {MET: "applies", NOT_MET: "does_not_apply"}[overall] if overall != UNKNOWN else "undetermined"


def by_document(kb: dict) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """Each document's rules and scope conditions, in KB order: kept by load_kb (knowledge/queries.py index_kb)
    for a cached KB, grouped here for one built otherwise."""
    if "rules_by_doc" in kb and "scope_by_doc" in kb:
        return kb["rules_by_doc"], kb["scope_by_doc"]
    rules: dict[str, list[dict]] = {}
    for r in kb["rules"]:
        rules.setdefault(r["document_id"], []).append(r)
    scope: dict[str, list[dict]] = {}
    for c in kb["conditions"].values():
        if c["role"] == "scope":
            scope.setdefault(c["document_id"], []).append(c)
    return rules, scope


def document_head(doc: dict) -> dict:
    return {"source_file": doc["source_file"], "document_id": doc["id"], "document_title": doc.get("title"),
            "document_version": doc.get("version"), "validity_notes": doc.get("validity_notes", [])}


def rule_kinds(rules: list[dict], kb: dict) -> dict[str, dict]:
    """kind → {"rules", "measures", "first"} of a document's rules, in rule order (what a summary says)."""
    out: dict[str, dict] = {}
    for r in rules:
        k = out.setdefault(r["kind"], {"rules": 0, "measure_ids": set(), "first": r["id"]})
        k["rules"] += 1
        k["measure_ids"] |= {m for m in r["measure_ids"] if m in kb["measures"]}
    return {kind: {"rules": k["rules"], "measures": len(k["measure_ids"]), "first": k["first"]}
            for kind, k in out.items()}


def excluded_results(doc: dict, kinds: dict[str, dict], gate: dict) -> list[dict]:
    """A document whose jurisdiction or scope excludes the enterprise, summarised: one result per kind of its
    rules, does_not_apply, with the excluding condition cited (its rules are not listed one by one)."""
    return [{**document_head(doc), "rule_id": k["first"], "kind": kind, "combinator": None,
             "status": "does_not_apply", "summary": "excluded", "rules": k["rules"], "measure_count": k["measures"],
             "conditions": [gate], "measures": []} for kind, k in kinds.items()]


def undecided_results(doc: dict, kinds: dict[str, dict], gates: list[dict], unknown: int) -> list[dict]:
    """A document none of whose conditions anything the profile states can decide (each is answered by the
    enterprise attesting the clause's words): one undetermined result per kind, not its rules one by one."""
    note = f"贵单位的情况未涉及本文件的任何条件：{unknown}项条件需贵单位确认（xinyi check --full 逐条列出）"
    return [{**document_head(doc), "rule_id": k["first"], "kind": kind, "combinator": None,
             "status": "undetermined", "summary": "undecided", "rules": k["rules"], "measure_count": k["measures"],
             "unknown_conditions": unknown, "note": note, "conditions": list(gates), "measures": []}
            for kind, k in kinds.items()]


def evaluate_document(doc: dict, rules: list[dict], scope: list[dict], kb: dict, profile: dict, as_of: date,
                      verdicts: dict, summarise: bool = False, jr: Optional[dict] = None,
                      fixed: Optional[dict] = None, measured: Optional[dict] = None) -> list[dict]:
    """One document's results: each rule with its conditions (gates first) and measures, each cited; with
    `summarise`, a document its place or scope excludes is one result per kind (excluded_results). `fixed`:
    condition id → its result, for conditions whose result the profile cannot change (kept by the caller);
    `measured`: measure id → its measure_result (the same for every profile, kept by the caller)."""

    def condition_result_of(c: dict) -> dict:
        if fixed is not None:
            hit = fixed.get(c["id"])
            if hit is not None:
                return hit
        return condition_result(c, doc, profile, as_of)
    gates = []
    jr = jr or jurisdiction_result(doc, profile, verdicts)
    if jr:
        gates.append(jr)
        if summarise and jr["status"] == NOT_MET:
            return excluded_results(doc, rule_kinds(rules, kb), jr)
    if scope:
        parts = [condition_result_of(c) for c in scope]
        status = any3([p["status"] for p in parts])
        deciding = [p for p in parts if p["status"] == status] if status != NOT_MET else parts
        gates.append({"text": "适用范围：" + "；".join(p["text"].rstrip("。；;") for p in parts), "status": status,
                      "because": "；".join(p["because"] for p in deciding),
                      "citation": citation(doc, parts[0]["citation"]["path"][:-1] or parts[0]["citation"]["path"],
                                           "；".join(p["text"].rstrip("。；;") for p in parts)),
                      "alternatives": parts})
        if summarise and status == NOT_MET:
            return excluded_results(doc, rule_kinds(rules, kb), gates[-1])
    results = []
    for rule in rules:
        conds = [condition_result_of(kb["conditions"][cid])
                 for cid in rule["condition_ids"] if cid in kb["conditions"]]
        status = rule_status(rule["combinator"], [g["status"] for g in gates], [c["status"] for c in conds])
        measures = [kb["measures"][mid] for mid in rule["measure_ids"] if mid in kb["measures"]]
        results.append({
            **document_head(doc),
            "rule_id": rule["id"], "kind": rule["kind"],
            "combinator": rule["combinator"], "status": status,
            "conditions": [*gates, *conds],
            "measures": [measured[m["id"]] if measured is not None and m["id"] in measured
                         else measure_result(m, doc) for m in measures],
        })
    return results


def evaluate(kb: dict, profile: dict, as_of: date, summarise: bool = False) -> list[dict]:
    """Every rule of every document, with its conditions (gates first) and measures, each cited. With
    `summarise`, a document whose jurisdiction or scope excludes the enterprise is one result per kind
    (excluded_results) and its rules are not evaluated."""
    results = []
    rules_by_doc, scope_by_doc = by_document(kb)
    verdicts: dict[str, dict] = {}  # jurisdiction → verdict for this profile's region
    for doc in kb["documents"].values():
        rules = rules_by_doc.get(doc["id"])
        if rules:
            results.extend(evaluate_document(doc, rules, scope_by_doc.get(doc["id"], []), kb, profile, as_of,
                                             verdicts, summarise))
    return results
