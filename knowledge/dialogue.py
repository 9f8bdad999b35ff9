"""Chat turns: intent, facts merged across turns (a correction replaces), which question decides most.

`ask(db_path, message, session_id, as_of)` → the contract shape {session_id, reply, facts, questions, results,
citations}. The KB is only read; sessions live in their own SQLite file (knowledge/sessions.py), so a
conversation survives a restart.
"""
from __future__ import annotations

import json
import re
import uuid
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Optional

from nlp.departments import canonical_department
from nlp.facts import parse_facts
from nlp.regions import contains

from nlp.predicates import attestation_only
from nlp.profile_schema import facts as declared_facts

from .evaluate import attestation_question, describe_event, evaluate, evaluate_predicate, labels, show
from .queries import cached_kb
from .sessions import SessionConflict, SessionStore, resolve_path

NLP_DATA = Path(__file__).resolve().parent.parent / "nlp" / "data"
KIND_CN = {"incentive": "激励", "penalty": "惩戒", "other": "其他"}

@lru_cache(maxsize=1)
def intent_cues() -> dict[str, re.Pattern]:
    raw = json.loads((NLP_DATA / "intents.json").read_text(encoding="utf-8"))
    return {k: re.compile(v) for k, v in raw.items() if not k.startswith("_")}

# ---- facts across turns ---------------------------------------------------------------------

def merge_facts(old: dict, new: dict, correction: bool = False) -> dict:
    """Later statements replace earlier ones; events accumulate (a correction replaces the event it corrects);
    a stated event lifts an earlier denial of its type."""
    merged = {k: v for k, v in old.items() if not k.startswith("_")}
    for key, value in new.items():
        if key.startswith("_"):
            continue
        if key == "events":
            merged["events_stated"] = merge_events(merged.get("events_stated", []), value, correction)
        elif key == "attested":
            merged["attested"] = {**merged.get("attested", {}), **value}
        elif key == "absent_events":
            kept = [a for a in merged.get("absent_events", []) if a["type"] not in {v["type"] for v in value}]
            merged["absent_events"] = [*kept, *value]
        else:
            merged[key] = value
    if new.get("_asked_kind"):
        merged["_asked_kind"] = new["_asked_kind"]
    elif old.get("_asked_kind"):
        merged["_asked_kind"] = old["_asked_kind"]
    stated = {e["type"] for e in new.get("events", []) if not new.get("_hypothetical")}
    if stated and merged.get("absent_events"):
        merged["absent_events"] = [a for a in merged["absent_events"] if a["type"] not in stated]
    return merged

def merge_events(old: list[dict], new: list[dict], correction: bool = False) -> list[dict]:
    """A new statement that only adds a day to an event told before ("事故是2025年12月5日发生的")
    completes that event; the same event told twice is kept once; a correction ("不对，事故是2021年发生的")
    replaces the latest event of its type."""
    events = [dict(e) for e in old]
    for ev in new:
        if ev in events:
            continue
        if correction:
            same = [i for i, e in enumerate(events) if e.get("type") == ev.get("type")]
            if same:
                kept = {k: v for k, v in events[same[-1]].items() if k not in ("date", "date_from", "date_to")}
                events[same[-1]] = {**kept, **ev}
                continue
        target = next((e for e in events if e.get("type") == ev.get("type") and not e.get("date")
                       and date_fits(e, ev.get("date"))
                       and all(e.get(k) in (None, v) for k, v in ev.items() if k not in ("date", "date_from", "date_to"))),
                      None) if ev.get("date") else None
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

# ---- intents --------------------------------------------------------------------------------

QUESTION_PART = re.compile(r"[^。！!；;，,]*(?:？|\?|吗|什么|哪些|哪个|能否|是否|可否|会怎样|会怎么样|有何)[^。！!；;]*")

def asked_kind(message: str) -> Optional[str]:
    """激励 or 惩戒, from the question itself (not from facts such as 没有受过行政处罚)."""
    asked = " ".join(QUESTION_PART.findall(message))
    if not asked:
        return None
    inc, pen = intent_cues()["kind_incentive"].search(asked), intent_cues()["kind_penalty"].search(asked)
    if inc and not pen:
        return "incentive"
    if pen and not inc:
        return "penalty"
    return None

def department_mentions(message: str) -> list[str]:
    """Department names in a question, as printed: '营口的市人社局在…' → ['市人社局']."""
    names = []
    for m in intent_cues()["org_name"].finditer(message):
        name = re.split(r"[的，,。；;按在对]", m.group(0))[-1]
        name = re.sub(r"^(?:请问|那么|那|我想问|想问)", "", name)
        if len(name) >= 2 and canonical_department(name):
            names.append(name)
    return names

def search_terms(message: str) -> list[str]:
    """What a 'where is it written' question asks about: quoted terms, else the phrases before the question."""
    quoted = [m.group("term") for m in intent_cues()["quoted"].finditer(message)]
    head = intent_cues()["where"].split(message)[0]
    parts = [p for p in re.split(r"[、，,；;。？?和及]", head) if p.strip()]
    terms = []
    for part in parts:
        if any(q in part for q in quoted):
            continue  # the quoted term stands for this part
        t = intent_cues()["where_filler"].sub("", part).strip()
        if len(t) >= 2:
            terms.append(t)
    return quoted + terms

def detect_intent(message: str, facts: dict) -> tuple[str, dict]:
    c = intent_cues()
    if c["where"].search(message) and not c["self_description"].search(message):
        terms = search_terms(message)
        if terms:
            return "where", {"terms": terms}
    if c["departments_overview"].search(message):
        return "departments", {"kind": asked_kind(message) or kind_in(message)}
    depts = department_mentions(message)
    # staff asking for an enterprise they describe ("有家企业…标准化一级…") want that enterprise's answer
    describes_enterprise = any(k not in ("region", "name") and not k.startswith("_") for k in facts)
    if depts and c["department_cue"].search(message) and not c["self_description"].search(message) \
            and not describes_enterprise:
        return "department", {"dept": depts[-1], "kind": kind_in(message)}
    if c["why_not"].search(message):
        return "why_not", {}
    if facts.get("_hypothetical"):
        return "what_if", {}
    if c["eligibility"].search(message) or any(not k.startswith("_") for k in facts):
        return "eligibility", {}
    return "unknown", {}

def kind_in(message: str) -> Optional[str]:
    inc, pen = intent_cues()["kind_incentive"].search(message), intent_cues()["kind_penalty"].search(message)
    return "incentive" if inc and not pen else ("penalty" if pen and not inc else None)

# ---- answers ----------------------------------------------------------------------------------

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

def clause_ref(title: Optional[str], path: list) -> str:
    return f"《{title}》{printed_path(path)}" if title else printed_path(path)

def doc_name(title: Optional[str], source_file: str) -> str:
    """《title》, or the file a page without a title came from."""
    return f"《{title}》" if title else f"文件“{source_file}”"

def cite(m: dict, doc: dict) -> dict:
    return {"source_file": doc["source_file"], "document_id": doc["id"], "title": doc.get("title"),
            "version": doc.get("version"), "path": m.get("path", []), "quote": m["text"]}

def token_set(text: str) -> set[str]:
    from nlp.pipeline import shared_jieba
    return {t for t in shared_jieba().cut(text) if len(t) >= 2}

def find_passages(kb: dict, term: str) -> list[dict]:
    """Measures (then clauses) that contain the term; failing that, those sharing most of its words."""
    hits = [m for m in kb["measures"].values() if term in m["text"]]
    if not hits:
        hits = [c for c in kb["clauses"].values() if term in c["text"] and c["path"]]
    if hits:
        return hits
    words = token_set(term)
    if not words:
        return []
    scored = []
    for item in [*kb["measures"].values(), *[c for c in kb["clauses"].values() if c["path"]]]:
        score = sum(len(w) for w in words if w in item["text"])
        if score:
            scored.append((score, item))
    if not scored:
        return []
    best = max(s for s, _ in scored)
    if best < min(4, sum(len(w) for w in words)):
        return []
    keep = [item for s, item in scored if s >= best * 0.8]
    # a measure and the clause holding it are one place: keep the measure
    measure_clauses = {m["clause_id"] for m in keep if "kind" in m}
    return [x for x in keep if "kind" in x or x["id"] not in measure_clauses][:6]

def answer_where(kb: dict, terms: list[str]) -> tuple[str, list[dict]]:
    lines, citations = [], []
    for term in terms:
        found = [cite(h, kb["documents"][h["document_id"]]) for h in find_passages(kb, term)]
        if not found:
            lines.append(f"在已收录的文件中没有找到“{term}”。")
            continue
        lines.append(f"“{term}”出自以下条款：")
        for c in found:
            lines.append(f"· {clause_ref(c['title'], c['path'])}：{c['quote'][:60]}")
        citations += found
    return "\n".join(lines), citations

def department_matches(query: str, names: list[str]) -> bool:
    want = canonical_department(query)
    core = re.sub(r"^[市县区省旗]", "", query)
    return any(core in n or (want is not None and canonical_department(n) == want) for n in names)

def answer_department(kb: dict, dept: str, kind: Optional[str], region: Optional[str] = None) -> tuple[str, list[dict]]:
    hits = [m for m in kb["measures"].values() if department_matches(dept, m["departments"])
            and (kind is None or m["kind"] == kind)]
    if region:  # 营口的市人社局: the documents of that place, when it has any
        local = [m for m in hits if contains(kb["documents"][m["document_id"]].get("jurisdiction") or "", region)]
        hits = local or hits
    citations = [cite(m, kb["documents"][m["document_id"]]) for m in hits]
    what = f"{KIND_CN[kind]}措施" if kind else "措施"
    if not citations:
        return f"没有找到由{dept}负责的{what}。", []
    lines = [f"{dept}负责的{what}共 {len(citations)} 项："]
    for c in citations:
        lines.append(f"· {c['quote'][:60]}（{clause_ref(c['title'], c['path'])}）")
    return "\n".join(lines), citations

def answer_departments(kb: dict, kind: Optional[str]) -> tuple[str, list[dict]]:
    """The 措施清单 by department: which bodies carry out how many measures, in which documents."""
    counts: dict[str, dict] = {}
    for m in kb["measures"].values():
        if kind and m["kind"] != kind:
            continue
        for name in m["departments"]:
            entry = counts.setdefault(canonical_department(name) or name, {"names": set(), "measures": 0, "docs": set()})
            entry["names"].add(name)
            entry["measures"] += 1
            entry["docs"].add(kb["documents"][m["document_id"]]["title"])
    if not counts:
        return "已收录的文件中没有写明实施部门的措施。", []
    what = f"{KIND_CN[kind]}措施" if kind else "措施"
    lines = [f"负责{what}的部门（按措施数量排序）："]
    for canon, e in sorted(counts.items(), key=lambda kv: -kv[1]["measures"])[:15]:
        lines.append(f"· {canon}（文中写作：{'、'.join(sorted(e['names'])[:3])}）：{e['measures']} 项")
    lines.append("可以继续问：“某某部门负责哪些措施？”")
    return "\n".join(lines), []

def unknown_fields(cond: dict, profile: Optional[dict] = None, as_of: Optional[date] = None) -> list[tuple[str, str]]:
    """(key, question) for each profile fact that would decide an unknown condition: only the parts of its
    predicate that are themselves unknown, and the date of an event whose date is too vague to place."""
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
            out.append(event_question(node, profile))
        if "attested" in node:
            out.append((f"attested:{node['attested']}", attestation_question(node["text"])))
    walk(cond.get("predicate"))
    for alt in cond.get("alternatives", []):
        if alt["status"] == "unknown":
            out.extend(unknown_fields(alt, profile, as_of))
    return out

def event_question(node: dict, profile: dict) -> tuple[str, str]:
    want = node["event"]
    what = describe_event(want)
    vague = [e for e in profile.get("stated_events") or profile.get("events") or []
             if e.get("type") == want["type"] and not e.get("date")]
    if vague:  # we know it happened; only its day decides whether it falls inside the window
        return f"date:{want['type']}", f"请告诉我这起{event_label_of(want['type'])}发生的具体日期（年月日）。"
    within = node.get("within") or {}
    span = f"近{within['years']}年" if "years" in within else (f"近{within['months']}个月" if within else "")
    verbs, suffixes = labels()["event_verbs"], labels()["event_question_suffix"]
    verb = verbs.get(want["type"], verbs["_default"])
    suffix = suffixes.get(want["type"], suffixes["_default"])
    key = f"event:{want['type']}:{json.dumps(want, sort_keys=True, ensure_ascii=False)}"
    return key, f"{span}贵单位是否{verb}{what}{suffix}？"

def event_label_of(kind: str) -> str:
    return labels()["events"].get(kind, kind)

def follow_up_questions(results: list[dict], profile: Optional[dict] = None,
                        as_of: Optional[date] = None) -> list[dict]:
    """Only what decides an undetermined rule, the fact that decides most rules first."""
    weight: dict[str, dict] = {}
    for r in results:
        if r["status"] != "undetermined":
            continue
        for cond in r["conditions"]:
            if cond["status"] != "unknown":
                continue
            for key, question in dict.fromkeys(unknown_fields(cond, profile, as_of)):
                entry = weight.setdefault(key, {"field": key.split(":")[0] if not key.startswith("event") else
                                                "events", "question": question, "rules": set(), "condition": cond,
                                                "title": r.get("document_title"), "key": key})
                entry["rules"].add(r["rule_id"])
    ordered = sorted(weight.values(), key=lambda e: (-len(e["rules"]), e["field"] != "region"))
    # one yes/no question a turn, asked last, so that a bare 是 / 没有 answers it
    facts_first = [e for e in ordered if e["field"] != "attested"][:2]
    attest = [e for e in ordered if e["field"] == "attested"][:1]
    ordered = (facts_first + attest) if attest else ordered[:3]
    questions = []
    places = sorted({r["conditions"][0]["text"].split("：", 1)[-1] for r in results
                     if r["conditions"] and r["conditions"][0]["text"].startswith("适用地域")})
    for e in ordered[:3]:
        cond = e["condition"]
        ref = clause_ref(e["title"], cond["citation"]["path"]) if cond["citation"]["path"] else doc_name(e["title"], cond["citation"]["source_file"])
        why = f"依据{ref}：{cond['text'].rstrip('。；;')[:40]}"
        if e["field"] == "region":
            why = f"各文件只适用于本地区（{'、'.join(places)}），所在地决定哪些文件适用"
        questions.append({"question": e["question"], "field": e["field"], "rules": len(e["rules"]), "why": why,
                          "citation": cond["citation"],
                          **({"key": e["key"].split(":", 1)[1]} if e["field"] == "attested" else {})})
    return questions

def relevant(results: list[dict]) -> list[dict]:
    """Documents whose jurisdiction does not exclude the enterprise."""
    excluded = {r["document_id"] for r in results
                if any(c["text"].startswith("适用地域") and c["status"] == "not_met" for c in r["conditions"])}
    return [r for r in results if r["document_id"] not in excluded]

def facts_summary(facts: dict) -> str:
    """What was understood, in one line, so the enterprise can correct it ("其实是二级")."""
    parts = []
    for key, decl in declared_facts().items():
        value, said = facts.get(key), decl.get("said")
        if value is None or value == [] or not said:
            continue
        if isinstance(said, list):
            parts.append(said[0] if value else said[1])
        else:
            parts.append(said.format("、".join(value) if isinstance(value, list) else show(key, value)))
    denied = [a for a in facts.get("absent_events", [])]
    if denied:
        spans = {a.get("within_years") for a in denied}
        span = f"近{spans.pop()}年" if len(spans) == 1 and None not in spans else ""
        parts.append(f"{span}没有" + "、".join("亡人事故" if a.get("fatal") else event_label_of(a["type"]) for a in denied))
    for ev in facts.get("events_stated", []):
        if ev.get("type") in labels()["status_events"]:
            parts.append(f"已{event_label_of(ev['type'])}")
            continue
        when = ev.get("date") or (f"{ev['date_from']}至{ev['date_to']}" if ev.get("date_from") else "日期未说明")
        parts.append(f"{when}有{event_label_of(ev['type'])}")
    return "根据您提供的情况（" + "；".join(parts) + "）：" if parts else ""

def answer_eligibility(results: list[dict], kind: Optional[str]) -> str:
    lines = []
    by_doc: dict[str, list[dict]] = {}
    for r in relevant(results):
        if kind and r["kind"] != kind:
            continue
        by_doc.setdefault(r["document_id"], []).append(r)
    if not by_doc:
        return "根据您提供的地区，已收录的文件都不适用于贵单位；如地区有误，请告诉我所在的省、市、县。"
    for rs in by_doc.values():
        title = rs[0]["document_title"]
        name = doc_name(title, rs[0]["source_file"])
        for k in ("incentive", "penalty"):
            group = [r for r in rs if r["kind"] == k]
            if not group:
                continue
            applying = [r for r in group if r["status"] == "applies"]
            pending = [r for r in group if r["status"] == "undetermined"]
            if applying:
                lines.append(f"{name}：适用以下{KIND_CN[k]}措施——")
                by_dept: dict[str, list[str]] = {}
                for r in applying:
                    for m in r["measures"]:
                        dept = "、".join(m["departments"]) or "（未写明实施部门）"
                        by_dept.setdefault(dept, []).append(
                            f"{m['text'][:50]}（{clause_ref(title, m['citation']['path'])}）")
                for dept, items in by_dept.items():
                    lines.append(f"  【{dept}】")
                    lines.extend(f"    · {x}" for x in items)
            elif pending:
                manual = [c["text"].rstrip("。；;") for r in pending for c in r["conditions"]
                          if c["status"] == "unknown" and attestation_only(c.get("predicate")) and not c.get("field")
                          and not c.get("alternatives")]
                if manual and len(manual) == sum(c["status"] == "unknown" for r in pending for c in r["conditions"]):
                    names = "、".join(dict.fromkeys(f"“{m[:20]}”" for m in manual))
                    lines.append(f"{name}：{KIND_CN[k]}措施取决于{names}等条件，需由认定部门核实，无法自动判断。")
                else:
                    lines.append(f"{name}：{KIND_CN[k]}措施能否适用，还需要补充信息。")
            else:
                failed = [c for r in group for c in r["conditions"] if c["status"] == "not_met"][:1]
                why = f"（{failed[0]['because']}，依据{clause_ref(title, failed[0]['citation']['path'])}）" \
                    if failed else ""
                lines.append(f"{name}：{KIND_CN[k]}措施不适用{why}。")
    return "\n".join(lines)

def answer_why_not(results: list[dict]) -> str:
    lines = []
    for r in relevant(results):
        if r["status"] != "does_not_apply":
            continue
        failed = [c for c in r["conditions"] if c["status"] == "not_met"]
        for c in failed[:2]:
            lines.append(f"{doc_name(r['document_title'], r['source_file'])}{KIND_CN[r['kind']]}规则不适用：{c['because']}"
                         f"（{clause_ref(r['document_title'], c['citation']['path'])}：{c['text'][:40]}）")
    return "\n".join(dict.fromkeys(lines)) or "目前没有哪条规则因条件不满足而被排除；能否适用还取决于下面这些信息。"

HELP = ("我可以帮您：① 根据企业情况判断能享受哪些守信激励、会受到哪些失信惩戒（例如：“我们是无锡的危化品企业，"
        "标准化二级，三年内没有事故和处罚，能享受什么？”）；② 查某项措施出自哪份文件哪一条（“容缺受理出自哪条？”）；"
        "③ 查某个部门负责哪些措施（“市财政局负责哪些激励措施？”）；④ 假设发生某事会怎样（“如果发生一起亡人事故会怎样？”）。")

# ---- sessions -----------------------------------------------------------------------------------

def load_session(store: SessionStore, session_id: Optional[str]) -> tuple[str, dict]:
    if session_id:
        return session_id, store.load(session_id)
    return uuid.uuid4().hex[:12], {}

def save_turn(store: SessionStore, session_id: str, facts: dict, message: str, reply: dict) -> None:
    store.save_turn(session_id, facts, message, reply)  # SessionConflict if another turn saved meanwhile

TURN_TRIES = 8

def ask(db_path: str | Path, message: str, session_id: Optional[str] = None, as_of: Optional[date] = None,
        sessions_path: Optional[Path] = None) -> dict:
    """One turn. The session is kept beside the KB (kb.sessions.sqlite) unless sessions_path says where; a turn
    that raced another turn of its session is re-run on the facts that one saved, so neither is lost."""
    cached_kb(db_path)  # KBError before any session file is made
    with SessionStore(resolve_path(db_path, sessions_path)) as store:
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
    new = parse_facts(message, as_of)
    answer = yes_or_no(message) if old.get("_last_attested") else None
    if answer is not None:  # 是 / 没有 to the yes/no question asked last
        new = {"attested": {old["_last_attested"]: answer}}
    kind_now = asked_kind(message)
    if kind_now:
        new["_asked_kind"] = kind_now
    correction = bool(intent_cues()["correction"].search(message))
    for ev in new.get("events", []):
        if ev.get("type") in labels()["status_events"] and not (ev.get("date") or ev.get("date_from")):
            ev["date"] = as_of.isoformat()  # "被列入了黑名单": a status the enterprise has now
    if new.get("_hypothetical"):
        # "如果发生…会怎样": answered with the supposed facts, but the session keeps only what is real
        supposed = {**new, "events": [{**e, "date": e.get("date") or (None if e.get("date_from") else as_of.isoformat())}
                                      for e in new.get("events", [])]}
        facts = merge_facts(old, supposed)
        kept = merge_facts(old, {k: v for k, v in new.items() if k == "_asked_kind"})
    else:
        facts = kept = merge_facts(old, new, correction)
    intent, info = detect_intent(message, new)
    kb = cached_kb(db_path)
    results: list[dict] = []
    citations: list[dict] = []
    questions: list[dict] = []
    if intent == "where":
        reply, citations = answer_where(kb, info["terms"])
    elif intent == "department":
        reply, citations = answer_department(kb, info["dept"], info["kind"], new.get("region"))
    elif intent == "departments":
        reply, citations = answer_departments(kb, info["kind"])
    elif intent == "unknown" and not any(k for k in facts if not k.startswith("_")):
        reply = HELP
    else:
        profile = profile_of(facts)
        if facts.get("events_stated"):
            profile["events_partial"] = facts["events_stated"]
        profile = with_partial_events(profile)
        results = evaluate(kb, profile, as_of)
        kind = "penalty" if intent == "what_if" else facts.get("_asked_kind")
        reply = answer_why_not(results) if intent == "why_not" else answer_eligibility(results, kind)
        summary = facts_summary(kept)
        if summary:
            reply = summary + "\n" + reply
        if intent == "what_if":
            reply = "假如发生您所说的情况：\n" + reply
        scope = relevant(results)
        if kind:
            questions = follow_up_questions([r for r in scope if r["kind"] == kind], profile, as_of)
        else:  # someone describing the enterprise wants its benefits first; penalties only when nothing else is open
            questions = (follow_up_questions([r for r in scope if r["kind"] == "incentive"], profile, as_of)
                         or follow_up_questions([r for r in scope if r["kind"] == "penalty"], profile, as_of))
        if questions:
            reply += "\n还需要您补充：" + "".join(f"\n· {q['question']}（{q['why']}）" for q in questions)
        citations = [m["citation"] for r in results if r["status"] == "applies" for m in r["measures"]]
    asked = [q["key"] for q in questions if q.get("key")]
    kept = {**kept, "_last_attested": asked[-1]} if asked else {k: v for k, v in kept.items() if k != "_last_attested"}
    out = {"session_id": session_id, "intent": intent, "reply": reply,
           "facts": public_facts(kept),
           "questions": [q["question"] for q in questions], "question_details": questions,
           "results": results, "citations": citations}
    save_turn(store, session_id, kept, message, {"reply": reply, "questions": out["questions"]})
    return out

def yes_or_no(message: str) -> Optional[bool]:
    """A bare answer to a yes/no question (是 / 对 / 有 … 没有 / 不是 / 否), or None when it says more."""
    m = intent_cues()["bare_answer"].match(message.strip())
    if not m:
        return None
    return m.group("yes") is not None

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
