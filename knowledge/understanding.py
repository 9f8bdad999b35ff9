"""What a chat message names and asks: the KB's documents, places, departments and labels it names
(knowledge/kbindex.py), the facts it states about the speaker (nlp/facts.py, with what names the KB or
another enterprise kept out), and which kind of question it is (route). Cues are data: nlp/data/intents.json,
nlp/data/query_words.json.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Optional

from nlp.canonical import simplified
from nlp.facts import parse_facts
from nlp.regions import find_regions

from .answers import query_tokens, query_words
from .evaluate import labels
from .kbindex import Mention, LabelRef, department_mentions, documents_of_places, kb_index, label_refs, title_mentions

NLP_DATA = Path(__file__).resolve().parent.parent / "nlp" / "data"

@lru_cache(maxsize=1)
def intent_cues() -> dict[str, re.Pattern]:
    raw = json.loads((NLP_DATA / "intents.json").read_text(encoding="utf-8"))
    return {k: re.compile(v) for k, v in raw.items() if not k.startswith("_")}


QUESTION_PART = re.compile(r"[^。！!；;，,]*(?:？|\?|吗|什么|哪些|哪个|能否|是否|可否|会怎样|会怎么样|有何)[^。！!；;]*")
CJK = re.compile(r"[\u4e00-\u9fff]")

def asked_kind(message: str) -> Optional[str]:
    """激励 or 惩戒, from the question itself (not from facts such as 没有受过行政处罚)."""
    asked = " ".join(QUESTION_PART.findall(message))
    if not asked:
        return None
    return kind_in(asked)

def kind_in(message: str) -> Optional[str]:
    inc, pen = intent_cues()["kind_incentive"].search(message), intent_cues()["kind_penalty"].search(message)
    return "incentive" if inc and not pen else ("penalty" if pen and not inc else None)

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
        if len(t) >= 2 and not (quoted and not [w for w in query_tokens(t) if not is_general(w) and not find_regions(w)]):
            terms.append(t)
    return quoted + terms

@dataclass
class Named:
    """What a message names that the KB holds."""
    titles: list[Mention]
    places: list[list[str]]           # documents of each place named, in order
    departments: list[Mention]
    labels: list[LabelRef]

    def documents(self) -> Optional[list[str]]:
        ids = list(dict.fromkeys([m.value for m in self.titles] + [d for g in self.places for d in g]))
        if self.titles:  # a title settles it; a place inside it adds nothing
            ids = list(dict.fromkeys(m.value for m in self.titles))
        return ids or None

def named_in(kb: dict, message: str) -> Named:
    ix = kb_index(kb)
    titles = title_mentions(ix, message)
    depts = department_mentions(ix, message)
    rest = mask(message, titles + depts)
    return Named(titles, documents_of_places(ix, rest) if not titles else [], depts, label_refs(message))

def department_places(kb: dict, message: str, named: Named) -> Optional[list[str]]:
    """The documents of the place a department's own name holds ("无锡市财政局" → the 无锡 documents)."""
    for m in named.departments:
        groups = documents_of_places(kb_index(kb), message[max(0, m.start - 6):m.end])
        if groups:
            return groups[0]
    return named.documents()

def mask(message: str, mentions: list[Mention]) -> str:
    """The message with KB names (titles, departments) blanked: a place inside 《无锡市…办法》 or 无锡市财政局
    says nothing about where the speaker is."""
    text = simplified(message)
    if len(text) != len(message):
        return message
    chars = list(message)
    for m in mentions:
        chars[m.start:m.end] = "＿" * (m.end - m.start)
    return "".join(chars)

def particular_words(message: str, named: Named) -> list[str]:
    """Words of a question beyond a place, a title and the measures in general ("信用良好" in
    "北京市安全生产条例对信用良好的生产经营单位有什么规定"): it asks about something in particular."""
    text = mask(message, named.titles)
    words = [w for w in query_tokens(text) if not is_general(w) and not re.fullmatch(r"＿+", w)]
    return [w for w in words if not find_regions(w)]

@lru_cache(maxsize=4096)
def is_general(word: str) -> bool:
    """A word made only of the general words of a question about measures (守信联合激励 = 守信+联合+激励)."""
    general = set(query_words()["overview_words"])
    ok = [True] + [False] * len(word)
    for i in range(len(word)):
        if ok[i]:
            for w in general:
                if word.startswith(w, i):
                    ok[i + len(w)] = True
    return ok[-1]

def own_department(message: str, named: Named, session: dict) -> Optional[str]:
    """The department a speaker who is one says "我们局" for (this message's 我是…局的, else the session's)."""
    c = intent_cues()
    if not c["our_bureau"].search(message):
        return None
    speaker = c["self_as_department"].search(simplified(message))
    own = [simplified(message)[d.start:d.end] for d in named.departments
           if speaker and speaker.start() <= d.start < speaker.end()]
    if not own and named.departments and named.departments[0].start < c["our_bureau"].search(message).start():
        own = [simplified(message)[named.departments[0].start:named.departments[0].end]]  # "营口市应急管理局这边…我局"
    return own[0] if own else (session.get("_speaker") or {}).get("printed")

def statement_facts(message: str, named: Named, as_of: date, own: Optional[str] = None) -> dict:
    """parse_facts over the message with document titles blanked; a place or an industry that only occurs
    inside a department's name (无锡市财政局, 市交通运输局) says nothing about the speaker; "被我们局处罚过"
    from a speaker who is a department names that department."""
    def read(mentions: list[Mention]) -> dict:
        text = mask(message, mentions)
        return parse_facts(intent_cues()["our_bureau"].sub(own, text) if own else text, as_of)
    new = read(named.titles)
    if named.departments:
        outside = read(named.titles + named.departments)
        for key in ("region", "industries"):
            if key in new and key not in outside:
                new.pop(key)
                (new.get("_said") or {}).pop(key, None)
            elif key in outside:  # "我是营口市应急管理局的，鲅鱼圈区有家企业…": the enterprise's place
                new[key] = outside[key]
                if (outside.get("_said") or {}).get(key):
                    new.setdefault("_said", {})[key] = outside["_said"][key]
    return new

def other_party_case(message: str, named: Named, as_of: date) -> Optional[dict]:
    """The facts of the other enterprise a question describes (供应商/同行/朋友的公司…), read as if its speaker
    said them — for answering that question only; None when the message describes no other enterprise."""
    from nlp.facts import lexicon
    text = simplified(message)
    words = sorted(lexicon("other_party"), key=len, reverse=True)
    other = intent_cues()["other_enterprise"]
    if not intent_cues()["asks"].search(text) or not (any(w in text for w in words) or other.search(text)):
        return None
    rx = re.compile("|".join(map(re.escape, words)))
    as_speaker = other.sub("我们", rx.sub("我们", text))
    case = {k: v for k, v in statement_facts(as_speaker, named, as_of).items() if k != "_hypothetical"}
    if not states_facts(case):
        return None
    for ev in case.get("events", []):
        if ev.get("type") in labels()["status_events"] and not (ev.get("date") or ev.get("date_from")):
            ev["date"] = as_of.isoformat()
    places = [p for p in find_regions(text)]
    if "region" not in case and len(places) == 1:  # "…在庄河会被怎么惩戒": the place the question asks about
        case["region"] = places[0]
    return case

def split_supposition(message: str) -> tuple[str, str]:
    """(what a message states, what it supposes): in each sentence, the part before 如果/假如/要是… and the part
    after the cue word ("现在是二级。要是我们升到一级，…" → "现在是二级。", "我们升到一级，…")."""
    from nlp.facts import lexicon
    cue = re.compile("|".join(map(re.escape, sorted(lexicon("hypothetical"), key=len, reverse=True))))
    stated, supposed = [], []
    for sentence in re.findall(r"[^。！？!?；;\n]+[。！？!?；;\n]*", message):
        m = cue.search(sentence)
        stated.append(sentence[:m.start()] if m else sentence)
        if m:
            supposed.append(sentence[m.end():])
    return "".join(stated), "".join(supposed)

def real_part(message: str) -> str:
    """A message without what it supposes."""
    return split_supposition(message)[0]

def states_facts(facts: dict) -> bool:
    return any(not k.startswith("_") for k in facts)

def route(message: str, new: dict, session: dict, named: Named) -> tuple[str, dict]:
    """The intent of a message and what it is about. Questions about the documents come before the
    enterprise's own case unless the message describes the enterprise."""
    c = intent_cues()
    message = simplified(message)
    # "营口的市人社局…": a place that qualifies a department or a document is not where the speaker is; a
    # question that does not speak of "we" asks about the documents first
    question_only = bool(c["asks"].search(message)) and not c["self_description"].search(message)
    spans = [m.span() for m in QUESTION_PART.finditer(message)]
    asked_depts = [d for d in named.departments if any(a <= d.start < b for a, b in spans)]
    # a place alone in a question that does not speak of "we" ("无锡对守信企业有哪些激励？") scopes the documents
    place_only = question_only and not any(k not in ("region",) and not k.startswith("_") for k in new)
    stated = any(not k.startswith("_") and (k != "region" or not (named.titles or place_only))
                 for k in new) \
        and not (question_only and asked_depts and not c["described_enterprise"].search(message))
    case = stated and c["described_enterprise"].search(message)  # staff describing an enterprise (有家企业…它能…)
    about_documents = not stated or (question_only and not case)
    kind = asked_kind(message) or kind_in(message)
    docs = named.documents() or session.get("_scope")
    if not CJK.search(message):
        return "not_chinese", {}
    # 我是无锡市财政局的，…我们要做什么 — unless staff describe an enterprise and ask about it
    speaker = c["self_as_department"].search(message)
    own = [d for d in named.departments if speaker and speaker.start() <= d.start < speaker.end()]
    if own and not case:
        return "department", {"dept": own[0], "kind": kind}
    if c["our_department"].search(message) and session.get("_speaker") and not case:  # 我们局自己…
        return "department", {"dept": Mention(0, 0, session["_speaker"]["canon"]), "kind": kind,
                              "printed": session["_speaker"]["printed"]}
    if c["more"].match(message.strip()) and session.get("_list"):
        return "more", {}
    if named.labels and not stated and (docs or c["article_content"].search(message)):
        return "article", {"docs": docs}
    if c["where"].search(message) and not (stated and c["self_description"].search(message)):
        terms = search_terms(message)
        if terms:
            return "where", {"terms": terms}
    groups = [g for g in named.places] + [[m.value] for m in named.titles]
    if c["compare"].search(message) and len(groups) >= 2:
        return "compare", {"groups": groups, "kind": kind}
    if asked_depts and about_documents and (c["department_cue"].search(message) or c["self_as_department"].search(message)
                                             or c["overview"].search(message) or "做什么" in message
                                             or re.search(r"(?:要|应当?|需要|得)(?:做|干|承担|履行|落实)", message)):
        return "department", {"dept": asked_depts[-1], "kind": kind}
    if c["departments_overview"].search(message):
        return "departments", {"kind": kind}
    if c["scope"].search(message) and about_documents and docs:
        return "scope", {"docs": docs}
    if c["validity"].search(message) and about_documents and (named.documents() or c["names_document"].search(message)):
        return "validity", {"docs": docs}
    if c["conditions_overview"].search(message) and about_documents and not particular_words(message, named) \
            and (kind or docs):
        return "conditions", {"docs": docs, "kind": kind}
    procedure = next((k for k, p in query_words()["procedures"].items() if re.search(p["cue"], message)), None)
    if procedure and about_documents:
        return "procedure", {"procedure": procedure, "docs": docs}
    if c["why_not"].search(message) and (stated or states_facts(session)):
        return "why_not", {}
    if new.get("_hypothetical"):
        return "what_if", {}
    if stated:
        return "eligibility", {}
    if states_facts(session) and (c["eligibility"].search(message) or kind_in(message) or YES_NO.search(message)) \
            and not named.documents():
        return "eligibility", {}
    if c["overview"].search(message) and (kind or docs) and not particular_words(message, named):
        return "overview", {"docs": docs, "kind": kind}
    if c["asks"].search(message) and query_tokens(message):
        return "passages", {"docs": docs}
    return "unknown", {}


YES_NO = re.compile(r"会不会|能不能|可不可以|是不是|是否|能否|可否|有没有|还能|吗")

def yes_or_no(message: str) -> Optional[bool]:
    """A bare answer to a yes/no question (是 / 对 / 有 … 没有 / 不是 / 否), or None when it says more."""
    m = intent_cues()["bare_answer"].match(message.strip())
    if not m:
        return None
    return m.group("yes") is not None
