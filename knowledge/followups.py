"""Follow-up questions: only what decides an undetermined rule, the detail of an event already told before a
new topic, one yes/no question a turn (asked last); and what a bare 是 / 没有 to it means.
"""
from __future__ import annotations

import json
from datetime import date
from typing import Optional

from nlp.predicates import grammar
from nlp.profile_schema import event_fields, facts as declared_facts

from .answers import printed_path, whole_sentences
from .evaluate import (attestation_question, describe_event, evaluate_predicate, event_in_window, event_match,
                       family, labels, years_before)

# ---- follow-up questions ------------------------------------------------------------------------

def unknown_fields(cond: dict, profile: Optional[dict] = None, as_of: Optional[date] = None) -> list[tuple[str, str]]:
    """(key, question) for each profile fact that would decide an unknown condition: only the parts of its
    predicate that are themselves unknown."""
    if cond.get("field"):
        f = cond["field"]
        return [(f, labels()["facts"].get(f, {}).get("question", f"请补充：{f}"))]
    out: list[tuple[str, str]] = []
    profile = profile or {}

    def unknown(node) -> bool:
        return as_of is None or evaluate_predicate(node, profile, as_of)[0] == "unknown"

    def walk(node):
        if not isinstance(node, dict) or not unknown(node):
            return
        for key in ("all", "any"):
            for n in node.get(key, []):
                walk(n)
        if "not" in node:
            walk(node["not"])
        if "fact" in node:
            f = node["fact"]
            out.append((f, labels()["facts"].get(f, {}).get("question", f"请补充：{f}")))
        if "industry_any" in node:
            out.append(("industries", labels()["facts"]["industries"]["question"]))
        if "event" in node:
            out.append(event_question(node, profile, as_of or date.today()))
        if "attested" in node:
            out.append((f"attested:{node['attested']}", attestation_question(node["text"])))
    walk(cond.get("predicate"))
    for alt in cond.get("alternatives", []):
        if alt["status"] == "unknown":
            out.extend(unknown_fields(alt, profile, as_of))
    return out

def event_window(node: dict, as_of: date) -> Optional[date]:
    want = node["event"]
    within = node.get("within") or ({"years": grammar()["default_within_years"][want["type"]]}
                                    if want["type"] in grammar()["default_within_years"] else None)
    return years_before(as_of, within.get("years", 0), within.get("months", 0)) if within else None

def event_question(node: dict, profile: dict, as_of: date) -> tuple[str, str]:
    """The one thing that decides an event condition: for an event already told, the detail still missing —
    its date only when the month or year told does not settle the window, else its severity, whether it was
    a responsible accident, the deaths; for an event not told, whether there was one."""
    want = node["event"]
    start = event_window(node, as_of)
    stated = profile.get("stated_events") or profile.get("events") or []
    members, _ = family(want["type"])
    candidates = []
    for i, ev in enumerate(stated):
        if ev.get("type") not in members or event_match(ev, want, start, as_of) is not None:
            continue
        known = sum(1 for k in want if k != "type" and ev.get(k) is not None)
        candidates.append((known, i, ev))
    if candidates:  # the event told most about is the one to complete
        _, i, ev = max(candidates, key=lambda c: (c[0], -c[1]))
        what = event_label_of(ev["type"])
        if event_in_window(ev, start, as_of) is None:
            since = f"（{start.year}年{start.month}月{start.day}日以后发生的才计入）" if start else ""
            return f"date:{i}", f"请告诉我这起{what}发生的具体日期（年月日）{since}。"
        for field in ("severity", "responsible", "fatalities", "major", "authority"):
            if field in want and ev.get(field) is None:
                ask = event_fields()[field].get("question", "这起{event}的" + event_fields()[field]["label"] + "是？")
                return f"event_field:{i}:{field}", ask.format(event=what)
    within = node.get("within") or {}
    span = f"近{within['years']}年" if "years" in within else (f"近{within['months']}个月" if within else "")
    verbs, suffixes = labels()["event_verbs"], labels()["event_question_suffix"]
    verb = verbs.get(want["type"], verbs["_default"])
    suffix = suffixes.get(want["type"], suffixes["_default"])
    key = f"event:{json.dumps({'event': want, 'within': within}, sort_keys=True, ensure_ascii=False)}"
    return key, f"{span}贵单位是否{verb}{describe_event(want)}{suffix}？"

def event_label_of(kind: str) -> str:
    return labels()["events"].get(kind, kind)

def decided_elsewhere(rule: dict, results: list[dict]) -> bool:
    """An incentive is moot for an enterprise a penalty rule of the same document already applies to
    (诚信典型 is not asked of a blacklisted company)."""
    return rule["kind"] == "incentive" and any(
        r["document_id"] == rule["document_id"] and r["kind"] == "penalty" and r["status"] == "applies" for r in results)

def follow_up_questions(results: list[dict], profile: Optional[dict] = None,
                        as_of: Optional[date] = None) -> list[dict]:
    """Only what decides an undetermined rule, the fact that decides most rules first."""
    weight: dict[str, dict] = {}
    for r in results:
        if r["status"] != "undetermined" or decided_elsewhere(r, results):
            continue
        for cond in r["conditions"]:
            if cond["status"] != "unknown":
                continue
            for key, question in dict.fromkeys(unknown_fields(cond, profile, as_of)):
                field = key.split(":")[0]
                entry = weight.setdefault(key, {"field": "events" if field in ("event", "date", "event_field") else field,
                                                "question": question, "rules": set(), "condition": cond,
                                                "title": r.get("document_title"), "key": key})
                entry["rules"].add(r["rule_id"])
    # a detail of what the user already told comes before a new topic
    ordered = sorted(weight.values(), key=lambda e: (not e["key"].startswith(("date:", "event_field:")),
                                                      -len(e["rules"]), e["field"] != "region"))
    # one yes/no question a turn, asked last, so that a bare 是 / 没有 answers it unambiguously
    open_ended = [e for e in ordered if not is_yes_no(e["key"])][:2]
    yes_no = [e for e in ordered if is_yes_no(e["key"])][:1]
    ordered = open_ended + yes_no
    questions = []
    places = sorted({r["conditions"][0]["text"].split("：", 1)[-1] for r in results
                     if r["conditions"] and r["conditions"][0]["text"].startswith("适用地域")})
    for e in ordered[:3]:
        cond = e["condition"]
        cit = cond["citation"]
        ref = (f"《{e['title']}》" if e["title"] else f"文件“{cit['source_file']}”") + printed_path(cit["path"])
        why = f"依据{ref}：{whole_sentences(cond['text'].rstrip('。；;'), 60)}"
        if e["field"] == "region":
            why = f"各文件只适用于本地区（{'、'.join(places)}），所在地决定哪些文件适用"
        questions.append({"question": e["question"], "field": e["field"], "rules": len(e["rules"]), "why": why,
                          "citation": cit, "key": e["key"].split(":", 1)[1] if e["field"] == "attested" else e["key"],
                          "_ref": e["key"]})
    return questions

def is_yes_no(key: str) -> bool:
    """Is the question behind this key answered by 是 / 没有 (an attestation, whether an event happened, a
    yes/no detail of one, a boolean fact)?"""
    kind, _, rest = key.partition(":")
    if kind in ("attested", "event"):
        return True
    if kind == "event_field":
        return event_fields()[rest.split(":")[1]]["type"] == "boolean"
    return declared_facts().get(kind, {}).get("type") == "boolean"

def relevant(results: list[dict]) -> list[dict]:
    """Documents whose jurisdiction does not exclude the enterprise."""
    excluded = {r["document_id"] for r in results
                if any(c["text"].startswith("适用地域") and c["status"] == "not_met" for c in r["conditions"])}
    return [r for r in results if r["document_id"] not in excluded]


# ---- a bare answer to the question asked last -------------------------------------------------------

def answer_to_last(last: dict, yes: bool, facts: dict, as_of: date) -> dict:
    """The facts a bare 是 / 没有 gives, for the question asked last (its key says what it asked)."""
    key = last["key"]
    kind, _, rest = key.partition(":")
    if kind == "attested":
        return {"attested": {rest: yes}}
    if kind == "event":
        spec = json.loads(rest)
        want, within = spec["event"], spec.get("within") or {}
        if yes:
            start = years_before(as_of, within.get("years", 0), within.get("months", 0)) if within else None
            ev = {k: v for k, v in want.items() if not isinstance(v, dict)}
            if start:
                ev.update({"date_from": start.isoformat(), "date_to": as_of.isoformat()})
            return {"events": [ev]}
        denial = {"type": want["type"], "within_years": within.get("years")}
        if isinstance(want.get("fatalities"), dict):
            denial["fatal"] = True
        for flag in ("responsible", "major"):
            if want.get(flag):
                denial[flag] = True
        return {"absent_events": [denial]}
    if kind == "event_field":
        i, field = rest.split(":")
        events = [dict(e) for e in facts.get("events_stated", [])]
        if int(i) < len(events):
            value = yes if event_fields()[field]["type"] == "boolean" else (0 if field == "fatalities" and not yes else None)
            if value is not None:
                events[int(i)][field] = value
                return {"_events_replace": events}
        return {}
    decl = declared_facts().get(kind)
    if decl and decl["type"] == "boolean":
        return {kind: yes}
    return {}
