"""Facts an enterprise states about itself in a chat message, as a partial profile.

`parse_facts(message, as_of)` returns only the keys the message states (see the shared
contract profile.md), plus `absent_events` (what the speaker denies) and `_hypothetical`.
Phrases, word lists and time expressions are data: nlp/data/fact_patterns.jsonl and
nlp/data/event_terms.tsv. This module reads them once and applies them.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Optional

from nlp.industries import find_industries
from nlp.profile_schema import event_fields, facts
from nlp.types import ReadError

DATA_DIR = os.path.join(os.path.dirname(__file__), "data")
PATTERNS_FILE = os.path.join(DATA_DIR, "fact_patterns.jsonl")
EVENT_TERMS_FILE = os.path.join(DATA_DIR, "event_terms.tsv")
IGNORE = "_ignore"
INT_KEYS = frozenset(k for k, d in {**facts(), **event_fields()}.items()
                     if d["type"] == "count" or all(isinstance(c, int) for c in d.get("choices", ["x"])))
MAX_COUNT = 10  # "两次" makes two event dicts; a stated count above this is capped
KEY_ORDER = (*(k for k in facts() if k not in ("events", "attested")), "events", "absent_events", "_hypothetical")
EVENT_FIELD_ORDER = ("type", "date", "date_from", "date_to", "fatalities", "severity",
                     "responsible", "major", "authority", "subject")

_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;\n]*")
_CLAUSE = re.compile(r"[^，,：:]+[，,：:]*")
_MACRO = re.compile(r"\{([A-Z]+)\}")
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


# ---------------------------------------------------------------- data

@dataclass(frozen=True)
class Pattern:
    kind: str
    regex: re.Pattern
    key: str = ""         # fact key, or event field for event_attr
    event: str = ""
    value: Any = None
    value_from: str = ""
    resolve: str = ""
    where: str = ""
    n: Optional[int] = None


@dataclass(frozen=True)
class Patterns:
    facts: tuple[Pattern, ...]
    times: tuple[Pattern, ...]
    attrs: dict[str, tuple[Pattern, ...]]
    counts: tuple[Pattern, ...]
    vetoes: dict[str, tuple[Pattern, ...]]
    lexicons: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Term:
    type: str
    flags: frozenset[str]


def _expand(regex: str, macros: dict[str, str], lineno: int) -> str:
    def sub(m: re.Match) -> str:
        if m.group(1) not in macros:
            raise ReadError(PATTERNS_FILE, f"unknown macro {{{m.group(1)}}}", lineno)
        return macros[m.group(1)]
    return _MACRO.sub(sub, regex)


def _pattern(obj: dict, macros: dict[str, str], lineno: int) -> Pattern:
    try:
        rx = re.compile(_expand(obj["regex"], macros, lineno))
    except (KeyError, re.error) as e:
        raise ReadError(PATTERNS_FILE, f"bad or missing regex: {e}", lineno) from e
    key = obj.get("key") or obj.get("field") or ""
    return Pattern(obj["kind"], rx, key, obj.get("event", ""), obj.get("value"),
                   obj.get("value_from", ""), obj.get("resolve", ""), obj.get("where", ""), obj.get("n"))


@lru_cache(maxsize=1)
def patterns() -> Patterns:
    macros: dict[str, str] = {}
    facts, times, lexicons = [], [], {}
    attrs: dict[str, list] = {}
    counts: list = []
    vetoes: dict[str, list] = {}
    with open(PATTERNS_FILE, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise ReadError(PATTERNS_FILE, f"not JSON: {e}", lineno) from e
            kind = obj.get("kind")
            if lineno == 1 and "_comment" not in obj:
                raise ReadError(PATTERNS_FILE, "first line must carry the provenance in \"_comment\"", 1)
            if kind is None:
                continue
            if kind == "macro":
                macros[obj["name"]] = _expand(obj["regex"], macros, lineno)
            elif kind == "lexicon":
                lexicons[obj["name"]] = tuple(obj["words"])
            elif kind == "fact":
                facts.append(_pattern(obj, macros, lineno))
            elif kind == "time":
                times.append(_pattern(obj, macros, lineno))
            elif kind == "event_attr":
                attrs.setdefault(obj["event"], []).append(_pattern(obj, macros, lineno))
            elif kind == "event_count":
                counts.append(_pattern(obj, macros, lineno))
            elif kind == "event_veto":
                vetoes.setdefault(obj["event"], []).append(_pattern(obj, macros, lineno))
            else:
                raise ReadError(PATTERNS_FILE, f"unknown kind {kind!r}", lineno)
    freeze = lambda d: {k: tuple(v) for k, v in d.items()}
    return Patterns(tuple(facts), tuple(times), freeze(attrs), tuple(counts), freeze(vetoes), lexicons)


def lexicon(name: str) -> tuple[str, ...]:
    try:
        return patterns().lexicons[name]
    except KeyError:
        raise ReadError(PATTERNS_FILE, f"no lexicon named {name!r}") from None


@lru_cache(maxsize=1)
def event_terms() -> dict[str, Term]:
    terms: dict[str, Term] = {}
    with open(EVENT_TERMS_FILE, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) not in (2, 3):
                raise ReadError(EVENT_TERMS_FILE, "expected type<TAB>term|term…[<TAB>flags]", lineno)
            flags = frozenset(x.strip() for x in cols[2].split(",") if x.strip()) if len(cols) == 3 else frozenset()
            for t in cols[1].split("|"):
                if t.strip():
                    terms[t.strip()] = Term(cols[0].strip(), flags)
    return terms


@lru_cache(maxsize=1)
def _tokenizer():
    from nlp.pipeline import shared_jieba
    tk = shared_jieba()
    # multi-word terms only: boosting single characters such as 无 would split 无锡
    for w in {*event_terms(), *lexicon("negation"), *lexicon("hypothetical"), *lexicon("question_cue")}:
        if len(w) > 1:
            tk.add_word(w)
    return tk


@lru_cache(maxsize=1)
def _jionlp():
    with contextlib.redirect_stdout(io.StringIO()):  # jionlp prints a banner on import
        import jionlp
    return jionlp


_NOT_HERE = re.compile(r"不在|不是|并非|不属于")


def _stated_regions(text: str) -> list[str]:
    """Places the speaker is in: '我们不在无锡，在江阴' → the 江阴 one (a clause saying 不在/不是 a place is a denial)."""
    find = _find_regions()
    kept, denied = [], []
    for clause in re.split(r"[，,。；;！!？?]", text):
        found = find(clause)
        target = denied if _NOT_HERE.search(clause) else kept
        target += [r for r in found if r not in target]
    return kept or denied


@lru_cache(maxsize=1)
def _find_regions():
    from nlp.regions import find_regions
    return find_regions


# ---------------------------------------------------------------- text layout

@dataclass(frozen=True)
class Clause:
    start: int      # the statement part: a question's part from its first cue on is dropped
    end: int
    sentence: int


@dataclass
class Doc:
    text: str
    as_of: dt.date
    clauses: list[Clause]
    bounds: frozenset[int]          # jieba token boundaries
    sentence_ends: list[int]
    triggers: list["Trigger"] = field(default_factory=list)
    times: list["TimeExpr"] = field(default_factory=list)
    negations: list[tuple[int, int, str]] = field(default_factory=list)


@lru_cache(maxsize=None)
def _alternation(words: tuple[str, ...]) -> re.Pattern:
    return re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))


def _words_at_bounds(text: str, start: int, end: int, words: tuple[str, ...], bounds) -> list[tuple[int, int, str]]:
    """Occurrences of `words` in text[start:end] that begin and end on jieba token boundaries (无锡 holds no 无)."""
    if not words:
        return []
    rx = _alternation(words)
    return [(m.start(), m.end(), m.group()) for m in rx.finditer(text, start, end)
            if m.start() in bounds and m.end() in bounds]


def _is_question(text: str, bounds, start: int, end: int, last_in_sentence: bool, sentence_end: str) -> bool:
    if last_in_sentence and re.search(r"[？?]", sentence_end):
        return True
    return bool(_words_at_bounds(text, start, end, lexicon("question_strong"), bounds))


def _layout(text: str, bounds: frozenset[int]) -> tuple[list[Clause], list[int]]:
    clauses, ends = [], []
    for si, s in enumerate(_SENTENCE.finditer(text)):
        body_end = s.start() + len(s.group().rstrip("。！？!?；;\n"))
        ends.append(body_end)
        parts = list(_CLAUSE.finditer(text, s.start(), body_end))
        for ci, c in enumerate(parts):
            start, end = c.start(), c.start() + len(c.group().rstrip("，,：:"))
            if _is_question(text, bounds, start, end, ci == len(parts) - 1, s.group()[body_end - s.start():]):
                cues = _words_at_bounds(text, start, end, lexicon("question_cue"), bounds)
                end = min((a for a, _, _ in cues), default=start)
            if end > start:
                clauses.append(Clause(start, end, si))
    return clauses, ends


def _doc(message: str, as_of: dt.date) -> Doc:
    text = message.translate(_FULLWIDTH)
    bounds = {0, len(text)}
    for _, a, b in _tokenizer().tokenize(text):
        bounds.update((a, b))
    clauses, ends = _layout(text, frozenset(bounds))
    doc = Doc(text, as_of, clauses, frozenset(bounds), ends)
    doc.triggers = _triggers(doc)
    doc.times = _times(doc)
    inside = lambda a: any(t.start <= a < t.end for t in doc.triggers)
    doc.negations = [n for c in clauses
                     for n in _words_at_bounds(text, c.start, c.end, lexicon("negation"), doc.bounds)
                     if not inside(n[0])]
    return doc


def _clause_of(doc: Doc, pos: int) -> Optional[Clause]:
    return next((c for c in doc.clauses if c.start <= pos < c.end), None)


# ---------------------------------------------------------------- numbers and dates

def _number(s: str) -> Optional[int]:
    if s.isdigit():
        return int(s)
    import cn2an
    try:
        return int(cn2an.cn2an(s, "smart"))
    except (ValueError, KeyError, TypeError):
        return None


def _minus_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 - n, 12)
    m += 1
    last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, m, min(d.day, last))


def _month_span(d: dt.date) -> tuple[dt.date, dt.date]:
    first = d.replace(day=1)
    return first, _minus_months(first, -1) - dt.timedelta(days=1)


def _calendar(expr: str, as_of: dt.date) -> Optional[tuple[dt.date, dt.date]]:
    base = dt.datetime.combine(as_of, dt.time(12)).timestamp()
    try:
        res = _jionlp().parse_time(expr.replace("份", ""), time_base=base)
    except Exception:  # jionlp raises bare ValueErrors and worse on strings it does not know
        return None
    if res.get("type") not in ("time_point", "time_span"):
        return None
    a, b = (dt.date.fromisoformat(t[:10]) for t in res["time"][:2])
    return a, b


def _resolve_time(p: Pattern, m: re.Match, as_of: dt.date) -> Optional[tuple[dt.date, dt.date, Optional[int]]]:
    n = p.n if p.n is not None else (_number(m.group("n")) if "n" in p.regex.groupindex else None)
    if p.resolve == "calendar":
        span = _calendar(m.group(), as_of)
        return (*span, None) if span else None
    if p.resolve == "last_month":
        return (*_month_span(_minus_months(as_of, 1)), None)
    if p.resolve == "this_month":
        return (*_month_span(as_of), None)
    if n is None:
        return None
    if p.resolve == "months_ago":
        return (*_month_span(_minus_months(as_of, n)), None)
    if p.resolve == "years_ago":
        return dt.date(as_of.year - n, 1, 1), dt.date(as_of.year - n, 12, 31), None
    if p.resolve == "days_ago":
        d = as_of - dt.timedelta(days=n)
        return d, d, None
    if p.resolve == "within_years":
        return _minus_months(as_of, 12 * n), as_of, n
    if p.resolve == "within_months":
        return _minus_months(as_of, n), as_of, None
    raise ReadError(PATTERNS_FILE, f"unknown time resolver {p.resolve!r}")


@dataclass(frozen=True)
class TimeExpr:
    start: int
    end: int
    date_from: dt.date
    date_to: dt.date
    within_years: Optional[int]

    def as_fields(self, as_of: dt.date) -> dict[str, str]:
        to = as_of if self.date_from <= as_of < self.date_to else self.date_to  # 今年 means up to today
        if self.date_from == to:
            return {"date": to.isoformat()}
        return {"date_from": self.date_from.isoformat(), "date_to": to.isoformat()}


def _drop_contained(spans: list[tuple]) -> list[tuple]:
    """Drop every (start, end, …) lying inside a strictly longer one."""
    return [s for s in spans
            if not any(o[0] <= s[0] and s[1] <= o[1] and o[1] - o[0] > s[1] - s[0] for o in spans)]


def _dates_something_else(text: str, end: int) -> bool:
    """"2019年成立": a time that dates the company (or its grading), not an event."""
    rest = text[end:end + 8].lstrip("的就才已正式")
    return any(rest.startswith(w) for w in lexicon("time_not_event"))


def _times(doc: Doc) -> list[TimeExpr]:
    found = []
    for c in doc.clauses:
        for p in patterns().times:
            for m in p.regex.finditer(doc.text, c.start, c.end):
                found.append((m.start(), m.end(), p, m))
    out = []
    for a, b, p, m in sorted(_drop_contained(found), key=lambda x: x[0]):
        if out and a < out[-1].end or _dates_something_else(doc.text, b):
            continue
        r = _resolve_time(p, m, doc.as_of)
        if r:
            out.append(TimeExpr(a, b, *r))
    return out


# ---------------------------------------------------------------- scalar facts

def _fact_value(p: Pattern, m: re.Match) -> Any:
    if not p.value_from:
        return p.value
    raw = m.group(p.value_from)
    if p.key in INT_KEYS:
        return _number(raw)
    choices = facts().get(p.key, {}).get("choices")
    return raw.upper() if choices and raw.upper() in choices else raw


def _scalar_facts(doc: Doc) -> dict[str, Any]:
    by_key: dict[str, list] = {}
    for c in doc.clauses:
        clause = doc.text[c.start:c.end]
        for p in patterns().facts:
            for m in p.regex.finditer(clause):
                value = _fact_value(p, m)
                if value is not None:
                    by_key.setdefault(p.key, []).append((c.start + m.start(), c.start + m.end(), value))
    # the last statement wins (a correction follows what it corrects); a match inside a longer
    # one for the same key is part of it (有重大危险源 inside 没有重大危险源)
    return {k: max(_drop_contained(v), key=lambda s: s[0])[2] for k, v in by_key.items()}


# ---------------------------------------------------------------- events

@dataclass(frozen=True)
class Trigger:
    start: int
    end: int
    term: Term


def _triggers(doc: Doc) -> list[Trigger]:
    terms = event_terms()
    longest = max(map(len, terms))
    out = []
    for c in doc.clauses:
        i = c.start
        while i < c.end:
            hit = next((j for j in range(min(c.end, i + longest), i, -1) if doc.text[i:j] in terms), None)
            if hit is None:
                i += 1
                continue
            out.append(Trigger(i, hit, terms[doc.text[i:hit]]))
            i = hit
    return out


def _negation_of(doc: Doc, t: Trigger, clause: Clause) -> Optional[tuple[int, int, str]]:
    """The negation governing `t`: the nearest one before it in its clause, not cut off by 但/却/…"""
    before = [n for n in doc.negations if clause.start <= n[0] and n[1] <= t.start]
    if not before:
        return None
    neg = before[-1]
    gap = doc.text[neg[1]:t.start]
    return None if any(b in gap for b in lexicon("negation_barrier")) else neg


def _window(doc: Doc, i: int, clause: Clause) -> tuple[int, int]:
    """Text that describes trigger i: from the previous trigger in its clause to the next one in its sentence."""
    t = doc.triggers[i]
    prev = [x.end for x in doc.triggers[:i] if x.end <= t.start and x.end > clause.start]
    start = max(prev, default=clause.start)
    nxt = [x.start for x in doc.triggers[i + 1:] if (c := _clause_of(doc, x.start)) and c.sentence == clause.sentence]
    return start, min(nxt, default=doc.sentence_ends[clause.sentence])


def _event_time(doc: Doc, t: Trigger, clause: Clause) -> Optional[TimeExpr]:
    same_sentence = [x for x in doc.times if (c := _clause_of(doc, x.start)) and c.sentence == clause.sentence]
    before = [x for x in same_sentence if x.end <= t.start]
    if before:
        return before[-1]
    return next((x for x in same_sentence if clause.start <= x.start < clause.end), None)


def _denial_time(doc: Doc, t: Trigger, clause: Clause, neg: tuple[int, int, str]) -> Optional[TimeExpr]:
    in_clause = [x for x in doc.times if clause.start <= x.start < clause.end]
    if in_clause:
        return in_clause[0]
    if neg[2] in lexicon("never_negation"):
        return None
    # "近三年没有…，也没有新发职业病": a window carries on to later denials
    return next((x for x in reversed(doc.times) if x.end <= t.start), None)


def _attrs(event_type: str, text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in patterns().attrs.get(event_type, ()):
        if p.key in out:
            continue
        m = p.regex.search(text)
        if m:
            out[p.key] = _fact_value(p, m)
    return out


def _count(event_type: str, pre: str, post: str) -> Optional[int]:
    """How many events one mention stands for, when stated ("受到2次…", "两起…", "职业病3例")."""
    mine = [p for p in patterns().counts if p.event in ("", event_type)]
    for p in (p for p in mine if p.where == "before"):
        ms = list(p.regex.finditer(pre))
        if ms:
            return _number(ms[-1].group("n"))
    for p in (p for p in mine if p.where == "after"):
        m = p.regex.search(post)
        if m:
            return _number(m.group("n"))
    return None


def _event(t: Trigger, text: str, time: Optional[TimeExpr], as_of: dt.date) -> dict[str, Any]:
    ev: dict[str, Any] = {"type": t.term.type}
    if time:
        ev.update(time.as_fields(as_of))
    ev.update(_attrs(t.term.type, text))
    if t.term.type == "accident":
        if "fatal" in t.term.flags and "fatalities" not in ev:
            ev["fatalities"] = 1  # 亡人事故: at least one death
        if "responsible" in t.term.flags:
            ev.setdefault("responsible", True)
    if "major" in t.term.flags:
        ev["major"] = True
    return {k: ev[k] for k in EVENT_FIELD_ORDER if k in ev}


def _denial(t: Trigger, segment: str, time: Optional[TimeExpr], as_of: dt.date) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": t.term.type}
    if time is None:
        entry["within_years"] = None
    elif time.within_years is not None:
        entry["within_years"] = time.within_years
    else:  # a calendar span ("去年没有…") is not a window counted back from today
        entry.update(time.as_fields(as_of))
    if "fatal" in t.term.flags or any(w in segment for w in lexicon("fatal_words")):
        entry["fatal"] = True
    for flag in ("responsible", "major"):
        if flag in t.term.flags:
            entry[flag] = True
    return entry


def _denied_subjects(event_type: str, text: str) -> list[Optional[str]]:
    """Whom a denial is about: "主要负责人和分管安全负责人都没有失信行为" denies for each person named.

    Without a person named the denial is the speaker's own and carries no subject.
    """
    found: list[tuple[int, str]] = []
    for p in (p for p in patterns().attrs.get(event_type, ()) if p.key == "subject"):
        found += [(m.start(), p.value) for m in p.regex.finditer(text)]
        text = p.regex.sub(lambda m: "\0" * len(m.group()), text)  # 分管安全的副总经理 is not also a 总经理
    subjects = list(dict.fromkeys(v for _, v in sorted(found)))
    return subjects if set(subjects) - {"unit"} else [None]


def _events(doc: Doc) -> tuple[list[dict], list[dict]]:
    events: list[list[dict]] = []          # one group of dicts per trigger ("两次" makes two)
    last_group: dict[tuple[int, str], list[dict]] = {}
    absent: list[dict] = []
    for i, t in enumerate(doc.triggers):
        if t.term.type == IGNORE:
            continue
        clause = _clause_of(doc, t.start)
        neg = _negation_of(doc, t, clause)
        w_start, w_end = _window(doc, i, clause)
        window = doc.text[w_start:w_end]
        if neg and "negated" not in t.term.flags:
            seg_start = max(neg[1], w_start)
            entry = _denial(t, doc.text[seg_start:t.end], _denial_time(doc, t, clause, neg), doc.as_of)
            for subject in _denied_subjects(t.term.type, doc.text[clause.start:t.start]):
                one = entry if subject is None else {**entry, "subject": subject}
                if one not in absent:
                    absent.append(one)
            continue
        if "negated" in t.term.flags and not neg:
            continue
        if any(p.regex.search(window) for p in patterns().vetoes.get(t.term.type, ())):
            continue
        pre, post = doc.text[w_start:t.start], doc.text[t.end:w_end]
        count = _count(t.term.type, pre, post)
        ev = _event(t, window, _event_time(doc, t, clause), doc.as_of)
        group_key = (clause.sentence, t.term.type)
        fresh = count is not None or any(w in pre for w in lexicon("new_event"))
        if not fresh and group_key in last_group:
            for e in last_group[group_key]:  # a second mention of the same event adds detail
                for k, v in ev.items():
                    e.setdefault(k, v)
            continue
        group = [dict(ev) for _ in range(max(1, min(count or 1, MAX_COUNT)))]
        events.append(group)
        last_group[group_key] = group
    ordered = [{k: e[k] for k in EVENT_FIELD_ORDER if k in e} for g in events for e in g]
    return ordered, absent


# ---------------------------------------------------------------- public API

def _statement_text(doc: Doc) -> str:
    return "，".join(doc.text[c.start:c.end] for c in doc.clauses)


def parse_facts(message: str, as_of: dt.date) -> dict:
    """The profile facts `message` states, and only those (see module doc)."""
    doc = _doc(message, as_of)
    facts: dict[str, Any] = _scalar_facts(doc)
    regions = _stated_regions(doc.text)
    if regions:
        facts["region"] = regions[0]
    industries = find_industries(_statement_text(doc))
    if industries:
        facts["industries"] = industries
    events, absent = _events(doc)
    if events:
        facts["events"] = events
    if absent:
        facts["absent_events"] = absent
    if _words_at_bounds(doc.text, 0, len(doc.text), lexicon("hypothetical"), doc.bounds):
        facts["_hypothetical"] = True
    return {k: facts[k] for k in KEY_ORDER if k in facts}
