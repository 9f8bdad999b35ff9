"""Facts an enterprise states about itself in a chat message, as a partial profile.

`parse_facts(message, as_of)` returns only the keys the message states (see the shared
contract profile.md), plus `absent_events` (what the speaker denies), `_hypothetical` and `_said`.
Phrases, word lists and time expressions are data: nlp/data/fact_patterns.jsonl and
nlp/data/event_terms.tsv. This module reads them once and applies them.

Who speaks. Facts come only from statements the speaker makes about their own enterprise. The message
is read as canonical (simplified) text (`nlp.canonical`, same length, so every offset is an offset
in the message as typed), split into sentences and clauses, and a clause yields nothing when it is
- about another party (lexicon `other_party`: 供应商, 隔壁企业, 同行…, or hearsay 听说…): that clause
  and the rest of its sentence, until a clause speaks for the speaker again (lexicon `self_marker`:
  我们/我司/本公司…, or `own_firm` opening the clause: "公司去年…");
- a rule, not the speaker: a generic subject (lexicon `generic_head`: …的企业 / 一级企业 / 被列入黑名单的,
  with no self marker or copula before it) in a question sentence, or followed by a rule modal
  (`rule_modal`: 会/将/应当/不得/就…) or a hypothetical (企业如果…). Such a subject is one case, and
  what is said of it is stated, when the sentence goes on, before it asks, with clauses attributing facts
  to it (a fact pattern or an event term; no rule modal, hypothetical or condition `condition_tail` in
  them, none a restrictive …的): "无锡的危化品经营企业，构成重大危险源，标准化二级，三年内没失信，有什么
  激励？" describes an enterprise, "严重失信的企业，有哪些惩戒？" asks a rule; or when it is supposed as
  one (`hypothetical` and `individual_marker` before it: "假如一家营口企业标准化只有二级…");
- in a question, a topic: a clause naming only events ("一般事故和较大事故，…分别记入什么…？": event
  terms, their kinds, lexicon `topic_filler`) right before the question, with no speaker in it;
- a question (a question mark, or a `question_strong` cue; an `ask_verbs` word makes only its own clause
  one): only the part before its first cue (`question_cue`) may state something, and only when that part
  speaks for the speaker (self marker, own-firm word or `hypothetical` word in it) and the cue asks
  about consequences (能/会/哪些…), not about the proposition itself (`proposition_cue`: 吗/是否/有没有…).

Negation. A negation word is read on token boundaries, or at the start of a token jieba fused with the
verb it negates (没上过黑名单: 没上, lexicon `negated_verb`). A negation before a trigger in its clause (or, after it, `都没有`/`从来没发生过` with nothing
but coordination and filler between, lexicons `post_negation_gap` / `post_negation_tail`) denies
it; a negation inside a trigger phrase (逾期还没整改完) is part of the term. `此后再没有…`
(lexicon `after_marker`) denies only after the time of the event told before it; `没有其他处罚`
(`except_words`) denies nothing. A denial with no time of its own takes the window of the denials before
it ("近三年没有失信，也没上过黑名单"), never the time of an event told in between.

Events. A trigger is an event term (event_terms.tsv) or phrase (`event_phrase`); its fields, count and time
come from the text up to the next trigger of its statement. "1月和3月各被罚了一次" (`distributive`) tells
one event per coordinated time. A vague time is resolved only as far as it is known: 去年年底 is 去年.

`_said` keeps the words each fact came from, in the user's own script, trimmed of punctuation, so the
dialogue can say "我理解的情况：…" and the user can correct one:
    {"<fact key>": "<clause>", ..., "events": ["<words of events[0]>", ...],
     "absent_events": ["<words of absent_events[0]>", ...]}
`events` / `absent_events` are aligned index by index with the lists of the result; region and
industries are included. Like every underscore key, it is dropped from profiles by the dialogue.
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

from nlp.canonical import PrintedMap, canonical
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
KEY_ORDER = (*(k for k in facts() if k not in ("events", "attested")), "events", "absent_events",
             "_hypothetical", "_said")
EVENT_FIELD_ORDER = ("type", "date", "date_from", "date_to", "fatalities", "severity",
                     "responsible", "major", "authority", "subject")

_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;\n]*")
_CLAUSE = re.compile(r"[^，,：:]+[，,：:]*")
_MACRO = re.compile(r"\{([A-Z]+)\}")
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_TRIM = " \t\r\n，,。.！!？?；;：:、~～…"


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
    flags: frozenset = frozenset()


@dataclass(frozen=True)
class Patterns:
    facts: tuple[Pattern, ...]
    fact_vetoes: dict[str, tuple[Pattern, ...]]
    times: tuple[Pattern, ...]
    attrs: dict[str, tuple[Pattern, ...]]
    counts: tuple[Pattern, ...]
    vetoes: dict[str, tuple[Pattern, ...]]
    phrases: tuple[Pattern, ...]
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
                   obj.get("value_from", ""), obj.get("resolve", ""), obj.get("where", ""), obj.get("n"),
                   frozenset(obj.get("flags", ())))


@lru_cache(maxsize=1)
def patterns() -> Patterns:
    macros: dict[str, str] = {}
    facts, times, phrases, lexicons = [], [], [], {}
    keyed: dict[str, dict[str, list]] = {"event_attr": {}, "event_veto": {}, "fact_veto": {}}
    counts: list = []
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
            elif kind == "event_phrase":
                phrases.append(_pattern(obj, macros, lineno))
            elif kind in keyed:
                p = _pattern(obj, macros, lineno)
                keyed[kind].setdefault(p.event or p.key, []).append(p)
            elif kind == "event_count":
                counts.append(_pattern(obj, macros, lineno))
            else:
                raise ReadError(PATTERNS_FILE, f"unknown kind {kind!r}", lineno)
    freeze = lambda d: {k: tuple(v) for k, v in d.items()}
    return Patterns(tuple(facts), freeze(keyed["fact_veto"]), tuple(times), freeze(keyed["event_attr"]),
                    tuple(counts), freeze(keyed["event_veto"]), tuple(phrases), lexicons)


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


SUBSTRING_LEXICONS = frozenset({"self_marker", "other_party", "generic_head", "after_marker", "individual_marker"})
# lexicons whose words are whole tokens: each is added to jieba so that a word is found on token boundaries
TOKEN_LEXICONS = ("negation", "hypothetical", "question_cue", "question_strong", "self_marker", "other_party",
                  "generic_head", "rule_modal", "after_marker", "ask_verbs")


@lru_cache(maxsize=1)
def _tokenizer():
    from nlp.pipeline import shared_jieba
    tk = shared_jieba()
    # multi-word terms only: boosting single characters such as 无 would split 无锡
    for w in {*event_terms(), *(w for name in TOKEN_LEXICONS for w in lexicon(name))}:
        if len(w) > 1:
            tk.add_word(w)
    return tk


@lru_cache(maxsize=1)
def _jionlp():
    with contextlib.redirect_stdout(io.StringIO()):  # jionlp prints a banner on import
        import jionlp
    return jionlp


_NOT_HERE = re.compile(r"不在|不是|并非|不属于")


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
    run_end: int    # end of the speaker's statement this clause belongs to (next clause dropped, or sentence end)


@dataclass
class Doc:
    text: str                       # canonical text, offsets equal to the message's
    said: PrintedMap                # canonical span → the words as the user typed them
    as_of: dt.date
    clauses: list[Clause]
    bounds: frozenset[int]          # jieba token boundaries
    sentence_ends: list[int]
    triggers: list["Trigger"] = field(default_factory=list)
    times: list["TimeExpr"] = field(default_factory=list)
    negations: list[tuple[int, int, str]] = field(default_factory=list)

    def words(self, start: int, end: int) -> str:
        """The message's own words at [start, end), trimmed of punctuation."""
        return self.said.printed[start:end].strip(_TRIM)


@lru_cache(maxsize=None)
def _alternation(words: tuple[str, ...]) -> re.Pattern:
    return re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))


def _words_at_bounds(text: str, start: int, end: int, words: tuple[str, ...], bounds) -> list[tuple[int, int, str]]:
    """Occurrences of `words` in text[start:end] that begin and end on jieba token boundaries (无锡 holds no 无)."""
    if not words or start >= end:
        return []
    rx = _alternation(words)
    return [(m.start(), m.end(), m.group()) for m in rx.finditer(text, start, end)
            if m.start() in bounds and m.end() in bounds]


def _has(text: str, bounds, start: int, end: int, name: str) -> bool:
    """Whether a word of lexicon `name` is in text[start:end]: on token boundaries for the lexicons of short
    function words (会, 是, 能…), anywhere for the naming ones (我们, 供应商, 企业, 此后…)."""
    if name in SUBSTRING_LEXICONS:
        return start < end and bool(_alternation(lexicon(name)).search(text, start, end))
    return bool(_words_at_bounds(text, start, end, lexicon(name), bounds))


def _speaks(text: str, bounds, start: int, end: int) -> bool:
    """Whether text[start:end] names the speaker: a self marker (我们, 我司…), or a clause opening with a bare
    word for one's own firm (own_firm: "公司去年被罚过款", "单位没有重大危险源")."""
    return _has(text, bounds, start, end, "self_marker") or any(
        text.startswith(w, start) and start + len(w) <= end for w in lexicon("own_firm"))


@lru_cache(maxsize=1)
def _strong_cues() -> tuple[str, ...]:
    """Cues that make a clause a question without a question mark: question_strong and every cue holding one. They are unambiguous words, so they are found anywhere: jieba's 怎么样 or 是否会 hide
    their 怎么 / 是否 from token boundaries."""
    strong = lexicon("question_strong")
    return (*strong, *(w for w in lexicon("question_cue") if any(s in w for s in strong)))


def _is_question(text: str, start: int, end: int, last_in_sentence: bool, sentence_end: str) -> bool:
    if last_in_sentence and re.search(r"[？?]", sentence_end):
        return True
    return bool(_alternation(_strong_cues()).search(text, start, end))


def _statement_end(text: str, bounds, start: int, end: int) -> int:
    """Where the statement part of a question clause ends: before its first cue, when what precedes the cue
    speaks for the speaker ("我们去年被罚过款还能…") or supposes ("如果…会怎样"); else nothing is stated."""
    cues = _words_at_bounds(text, start, end, lexicon("question_cue") + lexicon("ask_verbs"), bounds)
    if not cues:
        return start
    cue_start, _, cue = cues[0]
    supposed = _has(text, bounds, start, cue_start, "hypothetical")
    if not supposed and (cue in lexicon("proposition_cue") or cue in lexicon("ask_verbs")
                         or not _speaks(text, bounds, start, cue_start)):
        return start
    return cue_start


def _nominal_de(text: str, bounds, start: int, end: int) -> list[tuple[int, int, str]]:
    """A 的 ending a noun phrase with no noun (被列入黑名单的, 发生过事故的): at the clause end or right
    before a rule modal or question cue."""
    nexts = lexicon("rule_modal") + lexicon("question_cue")
    out = []
    for m in re.finditer("的", text[start:end]):
        a = start + m.start()
        b = a + 1
        if b == end or any(x[0] == b for x in _words_at_bounds(text, b, end, nexts, bounds)):
            out.append((a, b, "的"))
    return out


def _speaker_parts(text: str, bounds, parts: list[tuple[int, int]], tail: str, sentence_end: int
                   ) -> list[tuple[int, int]]:
    """The (start, end) of each clause of a sentence that speaks for the speaker (see the module doc)."""
    questions = [_is_question(text, a, b, i == len(parts) - 1, tail) for i, (a, b) in enumerate(parts)]
    asking = any(questions)
    # what the sentence tells before it asks: its clauses up to the first question clause
    first_question = next((a for (a, _), q in zip(parts, questions) if q), sentence_end)
    # an ask verb makes its own clause a question, not the sentence: "想确认一下：有家企业已经…" goes on to state
    questions = [q or _has(text, bounds, a, b, "ask_verbs") for q, (a, b) in zip(questions, parts)]
    told = [(a, b) for (a, b), q in zip(parts, questions) if a < first_question and not q]
    out: list[tuple[int, int]] = []
    excluded = False    # inside the scope of another party, hearsay or a rule
    speaking = False    # an earlier clause of the sentence speaks for the speaker
    for (a, b), question in zip(parts, questions):
        if _speaks(text, bounds, a, b):
            excluded = False  # "别的公司被罚了，我们没有": the speaker speaks again
        if _has(text, bounds, a, b, "other_party") \
                or _rule_clause(text, bounds, a, b, sentence_end, asking, speaking, told):
            excluded = True
        if excluded:
            speaking = False
            continue
        if asking and not speaking and told and (a, b) == told[-1] and _topic_only(text, bounds, a, b):
            continue  # "一般事故和较大事故，分别记入什么…？": what the question is about, not a statement
        speaking = speaking or _speaks(text, bounds, a, b)
        end = _statement_end(text, bounds, a, b) if question else b
        if end > a:
            out.append((a, end))
    return out


def _rule_clause(text: str, bounds, start: int, end: int, sentence_end: int, asking: bool, speaking: bool,
                 told: list[tuple[int, int]] = ()) -> bool:
    """A clause about enterprises in general, i.e. about a rule: "严重失信的企业有哪些惩戒", "企业如果…",
    "被列入黑名单的企业将…". Its head (企业, 单位, a nominal 的) has no self marker or copula before it
    (我们是…企业, 作为一级企业 speak for the speaker) and is no bare predicate of a speaker named before
    ("我们在江阴，做危化品仓储的，…"); and the sentence asks, or a rule modal or a hypothetical follows it.

    A head is one case, not enterprises in general, when it is supposed as one ("假如一家营口企业…": a
    `hypothetical` and an `individual_marker` before it in its clause), or when what the sentence tells
    after it, before it asks (`told`), attributes facts to it with no rule modal or hypothetical: "无锡的
    危化品经营企业，构成重大危险源，标准化二级，三年内没失信，有什么激励？" describes a case."""
    heads = [(m.start(), m.end(), m.group()) for m in _alternation(lexicon("generic_head")).finditer(text, start, end)]
    heads += _nominal_de(text, bounds, start, end)
    for h_start, h_end, _ in sorted(heads):
        if _speaks(text, bounds, start, h_end) or _has(text, bounds, start, h_start, "copula"):
            continue
        if speaking and h_end == end:
            continue
        if _has(text, bounds, start, h_start, "hypothetical") and _has(text, bounds, start, h_start, "individual_marker"):
            continue
        if _describes(text, bounds, h_end, told):
            continue
        if asking or _has(text, bounds, h_end, sentence_end, "rule_modal") \
                or _has(text, bounds, h_end, end, "hypothetical"):
            return True
    return False


def _describes(text: str, bounds, head_end: int, told: list[tuple[int, int]]) -> bool:
    """Whether the told clauses after the head's own clause attribute facts to the head (a fact pattern or an
    event term matches) and state no rule: no rule modal, hypothetical or other party in them, none a
    condition ("…失信以后", "…的时候": lexicon `condition_tail`)."""
    pieces = [(a, b) for a, b in told if a >= head_end]
    if not pieces or any(_has(text, bounds, a, b, name) for a, b in pieces
                         for name in ("rule_modal", "hypothetical", "other_party")):
        return False
    if any(text[a:b].rstrip(_TRIM).endswith(w) for a, b in pieces for w in lexicon("condition_tail")):
        return False
    # "…企业，构成重大危险源的，有哪些要求？": a clause ending in a nominal 的 restricts the head, it attributes nothing
    return any(_attributes(text, a, b) for a, b in pieces if not _nominal_de(text, bounds, a, b))


def _attributes(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] states a profile fact or tells (or denies) an event, as its words go."""
    piece = text[start:end].strip(_TRIM)
    if any(p.regex.search(piece) for p in patterns().facts):
        return True
    return any(term.type != IGNORE for _, _, term in _span_triggers(text, start, end))


def _topic_only(text: str, bounds, start: int, end: int) -> bool:
    """A clause that only names events (an event term, its kind: "一般事故和较大事故", "失信行为和行政处罚"),
    with no verb, time, count or negation: in a question, the topic asked about."""
    found = _span_triggers(text, start, end)
    if not any(term.type != IGNORE for _, _, term in found):
        return False
    rest = text[start:end]
    spans = [(a - start, b - start) for a, b, _ in found]
    for ps in patterns().attrs.values():
        for p in ps:
            spans += [m.span() for m in p.regex.finditer(rest) if p.key != "subject"]
    rest = "".join(ch for i, ch in enumerate(rest) if not any(a <= i < b for a, b in spans))
    return _only_words(rest, lexicon("coordination") + lexicon("topic_filler"))


def _layout(text: str, bounds: frozenset[int]) -> tuple[list[Clause], list[int]]:
    clauses, ends = [], []
    for si, s in enumerate(_SENTENCE.finditer(text)):
        body_end = s.start() + len(s.group().rstrip("。！？!?；;\n"))
        ends.append(body_end)
        parts = [(c.start(), c.start() + len(c.group().rstrip("，,：:")))
                 for c in _CLAUSE.finditer(text, s.start(), body_end)]
        parts = [p for p in parts if p[1] > p[0]]
        kept = dict(_speaker_parts(text, bounds, parts, s.group()[body_end - s.start():], body_end))
        for i, (a, _) in enumerate(parts):
            if a in kept:
                clauses.append(Clause(a, kept[a], si, _run_end(parts, kept, i)))
    return clauses, ends


def _run_end(parts: list[tuple[int, int]], kept: dict[int, int], i: int) -> int:
    """Where the statement that clause i belongs to ends: it runs on through the next clauses while each is
    kept whole (a clause dropped or cut short by a question ends it)."""
    while kept[parts[i][0]] == parts[i][1] and i + 1 < len(parts) and parts[i + 1][0] in kept:
        i += 1
    return kept[parts[i][0]]


def _doc(message: str, as_of: dt.date) -> Doc:
    typed = message.translate(_FULLWIDTH)
    text = canonical(typed)  # simplified script, widened punctuation: same length, same offsets
    bounds = {0, len(text)}
    for _, a, b in _tokenizer().tokenize(text):
        bounds.update((a, b))
    clauses, ends = _layout(text, frozenset(bounds))
    doc = Doc(text, PrintedMap(text, message), as_of, clauses, frozenset(bounds), ends)
    doc.triggers = _triggers(doc)
    doc.times = _times(doc)
    inside = lambda a: any(t.start <= a < t.end for t in doc.triggers)
    doc.negations = [n for c in clauses for n in _negations(text, c.start, c.end, doc.bounds) if not inside(n[0])]
    return doc


def _negations(text: str, start: int, end: int, bounds) -> list[tuple[int, int, str]]:
    """Negation words in text[start:end] on token boundaries, and those jieba fused with the verb they negate:
    a token 没上 / 没进 / 未上 (lexicon `negated_verb`: the rest of the token) begins with the negation 没 / 未."""
    found = _words_at_bounds(text, start, end, lexicon("negation"), bounds)
    verbs = lexicon("negated_verb")
    for m in _alternation(lexicon("negation")).finditer(text, start, end):
        if m.start() not in bounds or m.end() in bounds:
            continue
        token_end = min((x for x in bounds if x > m.end()), default=end)
        if text[m.end():token_end] in verbs:
            found.append((m.start(), m.end(), m.group()))
    return sorted(set(found))


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
        res = _jionlp().parse_time(expr.replace("份", "").replace("的", ""), time_base=base)
        if res.get("type") not in ("time_point", "time_span"):
            return None
        a, b = (dt.date.fromisoformat(t[:10]) for t in res["time"][:2])
    except Exception:  # jionlp raises bare ValueErrors and worse on strings it does not know; 'inf' ends
        return None
    return a, b


def _recent_month(month: Optional[int], as_of: dt.date) -> Optional[tuple[dt.date, dt.date]]:
    """A month named without its year ("5月份"): the latest such month not after as_of."""
    if month is None or not 1 <= month <= 12:
        return None
    year = as_of.year if month <= as_of.month else as_of.year - 1
    return _month_span(dt.date(year, month, 1))


def _resolve_time(p: Pattern, m: re.Match, as_of: dt.date) -> Optional[tuple[dt.date, dt.date, Optional[int]]]:
    n = p.n if p.n is not None else (_number(m.group("n")) if "n" in p.regex.groupindex else None)
    if p.resolve == "calendar":
        span = _calendar(m.group(), as_of)
        return (*span, None) if span else None
    if p.resolve == "year_of":  # 去年年底: honestly only "some time in that year"
        span = _calendar(m.group("y"), as_of)
        return (dt.date(span[0].year, 1, 1), dt.date(span[0].year, 12, 31), None) if span else None
    if p.resolve == "since":    # 去年以来, 2023年以来: from its start up to today
        span = _calendar(m.group("y"), as_of)
        return (span[0], as_of, None) if span and span[0] <= as_of else None
    if p.resolve == "last_month":
        return (*_month_span(_minus_months(as_of, 1)), None)
    if p.resolve == "this_month":
        return (*_month_span(as_of), None)
    if n is None:
        return None
    if p.resolve == "recent_month":
        span = _recent_month(n, as_of)
        return (*span, None) if span else None
    if p.resolve == "months_ago":
        return (*_month_span(_minus_months(as_of, n)), None)
    if p.resolve == "years_ago_season":
        span = _calendar(f"{as_of.year - n}年{m.group('s')}", as_of)
        return (*span, None) if span else None
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
        if r and p.resolve == "recent_month" and out:
            r = _month_of_year_before(doc.text, out[-1], a, r)
        if r:
            out.append(TimeExpr(a, b, *r))
    return out


def _month_of_year_before(text: str, prev: "TimeExpr", start: int, r: tuple) -> tuple:
    """"去年1月和3月": a bare month coordinated right after a month of a named year is of that year."""
    one_month = prev.date_from.day == 1 and _month_span(prev.date_from)[1] == prev.date_to
    if not one_month or not _only_words(text[prev.end:start], lexicon("coordination")):
        return r
    a, b = _month_span(r[0].replace(year=prev.date_from.year))
    return a, b, None


# ---------------------------------------------------------------- scalar facts

def _fact_value(p: Pattern, m: re.Match) -> Any:
    if not p.value_from:
        return p.value
    raw = m.group(p.value_from)
    if p.key in INT_KEYS:
        return _number(raw)
    choices = facts().get(p.key, {}).get("choices")
    return raw.upper() if choices and raw.upper() in choices else raw


def _vetoed(key: str, clause: str, start: int, end: int) -> bool:
    """A match overlapped by a veto of its key: 还没达到二级, 准备申报一级 state no level."""
    return any(v.start() < end and start < v.end()
               for p in patterns().fact_vetoes.get(key, ()) for v in p.regex.finditer(clause))


def _scalar_facts(doc: Doc) -> dict[str, tuple[Any, Clause]]:
    by_key: dict[str, list] = {}
    for c in doc.clauses:
        clause = doc.text[c.start:c.end]
        for p in patterns().facts:
            for m in p.regex.finditer(clause):
                value = _fact_value(p, m)
                if value is not None and not _vetoed(p.key, clause, m.start(), m.end()):
                    by_key.setdefault(p.key, []).append((c.start + m.start(), c.start + m.end(), value, c))
    # the last statement wins (a correction follows what it corrects); a match inside a longer
    # one for the same key is part of it (有重大危险源 inside 没有重大危险源)
    return {k: max(_drop_contained(v), key=lambda s: s[0])[2:] for k, v in by_key.items()}


def _stated_regions(doc: Doc) -> list[tuple[str, Clause]]:
    """Places the speaker is in: '我们不在无锡，在江阴' → the 江阴 one (a clause saying 不在/不是 a place is a denial)."""
    find = _find_regions()
    kept, denied = [], []
    for c in doc.clauses:
        clause = doc.text[c.start:c.end]
        target = denied if _NOT_HERE.search(clause) else kept
        target += [(r, c) for r in find(clause) if r not in {x for x, _ in target}]
    return kept or denied


def _stated_industries(doc: Doc) -> tuple[list[str], Optional[tuple[int, int]]]:
    """Industries the statement clauses name, and the span of the clauses naming them."""
    industries = find_industries("，".join(doc.text[c.start:c.end] for c in doc.clauses))
    naming = [c for c in doc.clauses if find_industries(doc.text[c.start:c.end])]
    return industries, ((naming[0].start, naming[-1].end) if industries and naming else None)


# ---------------------------------------------------------------- events

@dataclass(frozen=True)
class Trigger:
    start: int
    end: int
    term: Term


def _span_triggers(text: str, start: int, end: int) -> list[tuple[int, int, Term]]:
    """Every event term and phrase occurring in text[start:end], overlapping ones included."""
    terms = event_terms()
    longest = max(map(len, terms))
    found: list[tuple[int, int, Term]] = []
    for i in range(start, end):
        hit = next((j for j in range(min(end, i + longest), i, -1) if text[i:j] in terms), None)
        if hit is not None:
            found.append((i, hit, terms[text[i:hit]]))
    for p in patterns().phrases:
        found += [(m.start(), m.end(), Term(p.event, p.flags)) for m in p.regex.finditer(text, start, end)]
    return found


def _triggers(doc: Doc) -> list[Trigger]:
    """Event terms (event_terms.tsv) and phrases (event_phrase patterns) in the statement clauses:
    leftmost, a term inside a longer one being part of it."""
    found: list[tuple[int, int, Term]] = []
    for c in doc.clauses:
        found += _span_triggers(doc.text, c.start, c.end)
    out: list[Trigger] = []
    for a, b, term in sorted(_drop_contained(found), key=lambda x: (x[0], x[0] - x[1])):
        if not out or a >= out[-1].end:
            out.append(Trigger(a, b, term))
    return out


def _negation_of(doc: Doc, t: Trigger, clause: Clause) -> Optional[tuple[int, int, str]]:
    """The negation governing `t`: the nearest one before it in its clause, not cut off by 但/却/…;
    else one after it with only coordination and filler between ("事故、处罚都没有", "亡人事故从未发生过")."""
    before = [n for n in doc.negations if clause.start <= n[0] and n[1] <= t.start]
    if before:
        neg = before[-1]
        gap = doc.text[neg[1]:t.start]
        return None if any(b in gap for b in lexicon("negation_barrier")) else neg
    after = [n for n in doc.negations if t.end <= n[0] and n[1] <= clause.end]
    if not after:
        return None
    neg = after[0]
    gap = "".join(doc.text[i] for i in range(t.end, neg[0])
                  if not any(x.start <= i < x.end for x in doc.triggers))
    tail = doc.text[neg[1]:clause.end]
    fill = lexicon("post_negation_gap") + lexicon("coordination")
    return neg if _only_words(gap, fill) and _only_words(tail, lexicon("post_negation_tail")) else None


def _only_words(s: str, words: tuple[str, ...]) -> bool:
    """Whether `s` is nothing but `words` (and spaces)."""
    return not _alternation(words).sub("", s).strip() if words else not s.strip()


def _window(doc: Doc, i: int, clause: Clause) -> tuple[int, int]:
    """Text that describes trigger i: from the previous trigger in its clause to the next one in its statement."""
    t = doc.triggers[i]
    prev = [x.end for x in doc.triggers[:i] if x.end <= t.start and x.end > clause.start]
    start = max(prev, default=clause.start)
    nxt = [x.start for x in doc.triggers[i + 1:] if x.start < clause.run_end]
    return start, min(nxt, default=clause.run_end)


def _event_time(doc: Doc, t: Trigger, clause: Clause, w_end: int) -> Optional[TimeExpr]:
    """The time of an event: the last one before it in its clause; else the first after it in what tells it
    (a clause of its own: "罚款倒是有一次，是去年的"); else the last one before it in its sentence."""
    same_sentence = [x for x in doc.times if (c := _clause_of(doc, x.start)) and c.sentence == clause.sentence]
    before = [x for x in same_sentence if x.end <= t.start]
    in_clause = [x for x in before if x.start >= clause.start]
    if in_clause:
        return in_clause[-1]
    others = [x for x in doc.triggers if x.start != t.start and x.term.type != IGNORE]
    after = [x for x in same_sentence if t.end <= x.start < w_end
             and not any((c := _clause_of(doc, x.start)) and c.start <= o.start < c.end for o in others)]
    if after:
        return after[0]
    return before[-1] if before else None


def _denial_time(doc: Doc, t: Trigger, clause: Clause, neg: tuple[int, int, str]) -> Optional[TimeExpr]:
    in_clause = [x for x in doc.times if clause.start <= x.start < clause.end]
    if in_clause:
        return in_clause[0]
    if neg[2] in lexicon("never_negation"):
        return None
    # "近三年没有…，也没有新发职业病": a window carries on to later denials, but not the time of an event told
    # in between ("只是去年被罚过一次款，没有被列入过任何失信名单": 去年 dates the fine, not the denial)
    return next((x for x in reversed(doc.times) if x.end <= t.start and not _dates_told_event(doc, x)), None)


def _dates_told_event(doc: Doc, x: "TimeExpr") -> bool:
    """Whether time `x` shares its clause with an event told (not denied)."""
    c = _clause_of(doc, x.start)
    for o in doc.triggers:
        if c is None or not c.start <= o.start < c.end or o.term.type == IGNORE:
            continue
        neg = _negation_of(doc, o, c)
        if (neg is None) == ("negated" not in o.term.flags):
            return True
    return False


def _attrs(event_type: str, text: str) -> tuple[dict[str, Any], int]:
    """The fields read from `text`, and where in it the last one read ends."""
    out: dict[str, Any] = {}
    last = 0
    for p in patterns().attrs.get(event_type, ()):
        if p.key in out:
            continue
        m = p.regex.search(text)
        if m:
            out[p.key] = _fact_value(p, m)
            last = max(last, m.end())
    return out, last


def _count(event_type: str, pre: str, post: str) -> Optional[int]:
    """How many events one mention stands for, when stated ("受到2次…", "两起…", "罚过一次款", "职业病3例").
    `pre` runs up to the end of the trigger, so a count inside a trigger phrase is read too."""
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


def _event(t: Trigger, fields: dict[str, Any], time: Optional[TimeExpr], as_of: dt.date) -> dict[str, Any]:
    ev: dict[str, Any] = {"type": t.term.type}
    if time:
        ev.update(time.as_fields(as_of))
    ev.update(fields)
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


@dataclass
class Group:
    """The event dicts one mention stands for ("两次" makes two), the span of words telling them, and their time."""
    events: list[dict]
    span: tuple[int, int]
    time: Optional[TimeExpr]
    sentence: int
    start: int


@dataclass
class Events:
    events: list[Group] = field(default_factory=list)
    absent: list[tuple[dict, tuple[int, int]]] = field(default_factory=list)

    def deny(self, entry: dict, span: tuple[int, int]) -> None:
        if entry not in [e for e, _ in self.absent]:
            self.absent.append((entry, span))

    def last_before(self, pos: int, sentence: Optional[int] = None) -> Optional[Group]:
        return next((g for g in reversed(self.events) if g.start < pos and sentence in (None, g.sentence)), None)


def _after_time(doc: Doc, clause: Clause, upto: int, found: Events) -> tuple[bool, Optional[TimeExpr]]:
    """"此后再没有…": whether the clause speaks of the time after the event told before, and that time,
    from the day after the event's (None when that is unknown: the denial is then not stated)."""
    if not _has(doc.text, doc.bounds, clause.start, upto, "after_marker"):
        return False, None
    prev = found.last_before(clause.start)
    if prev is None or prev.time is None or prev.time.date_to >= doc.as_of:
        return True, None
    return True, TimeExpr(clause.start, upto, prev.time.date_to + dt.timedelta(days=1), doc.as_of, None)


def _deny(doc: Doc, t: Trigger, clause: Clause, neg: tuple[int, int, str], w_start: int, found: Events) -> None:
    # the words the negation covers: from it to the trigger ("没有造成死亡的…事故"), or the trigger alone
    # when the negation follows ("失信行为、亡人事故都没有": 亡人 is not said of 失信行为)
    segment = doc.text[max(neg[1], w_start):t.end] if neg[0] < t.start else doc.text[t.start:t.end]
    if any(w in doc.text[min(neg[0], t.start):max(t.end, neg[1])] for w in lexicon("except_words")):
        return  # "没有其他处罚": some other than the one told, which is no denial of the type
    after, since = _after_time(doc, clause, min(neg[0], t.start), found)
    if after and since is None:
        return
    time = since or _denial_time(doc, t, clause, neg)
    entry = _denial(t, segment, time, doc.as_of)
    by = _attrs(t.term.type, doc.text[clause.start:t.start])[0].get("authority")
    if by:  # "安全监管部门从没处罚过我们" denies that body's penalties only
        entry = {**entry, "authority": by}
    for subject in _denied_subjects(t.term.type, doc.text[clause.start:t.start]):
        found.deny(entry if subject is None else {**entry, "subject": subject}, (clause.start, clause.end))


def _distributed_times(doc: Doc, t: Trigger, clause: Clause) -> list[TimeExpr]:
    """"今年1月和3月各被罚了一次", "2024年、2025年分别发生一起事故": coordinated times before a trigger
    told of each of them (lexicon distributive between the last time and the trigger); else []."""
    before = [x for x in doc.times if clause.start <= x.start and x.end <= t.start]
    if len(before) < 2 or not _has(doc.text, doc.bounds, before[-1].end, t.start, "distributive"):
        return []
    run = [before[-1]]
    for x in reversed(before[:-1]):
        if not _only_words(doc.text[x.end:run[0].start], lexicon("coordination")):
            break
        run.insert(0, x)
    return run if len(run) > 1 else []


def _lead_in(doc: Doc, i: int, clause: Clause, w_start: int) -> Optional[int]:
    """Where the clauses before an event's word begin, when they belong to its sentence and tell no event of
    their own (no trigger since the sentence began); None when there are none."""
    same = [c for c in doc.clauses if c.sentence == clause.sentence and c.start < clause.start]
    if not same or any(x.term.type != IGNORE and x.end <= doc.triggers[i].start and x.start >= same[0].start
                       for x in doc.triggers[:i]):
        return None
    return same[0].start


def _tell(doc: Doc, i: int, t: Trigger, clause: Clause, w_start: int, w_end: int,
          last_group: dict, found: Events) -> None:
    window = doc.text[w_start:w_end]
    if any(p.regex.search(window) for p in patterns().vetoes.get(t.term.type, ())):
        return
    pre, post = doc.text[w_start:t.end], doc.text[t.end:w_end]
    count = _count(t.term.type, pre, post)
    fields, last = _attrs(t.term.type, window)
    lead = _lead_in(doc, i, clause, w_start)
    if lead is not None:  # "死了一个工人，事故调查认定是…责任事故": details told before the event's word
        fields = {**_attrs(t.term.type, doc.text[lead:w_start])[0], **fields}
    each = _distributed_times(doc, t, clause)
    time = _event_time(doc, t, clause, w_end)
    start = min(clause.start, (each or [time])[0].start if time else clause.start)
    end = max(clause.end, w_start + last)
    end = (_clause_of(doc, end - 1) or clause).end
    group_key = (clause.sentence, t.term.type)
    fresh = bool(each) or count is not None or any(w in doc.text[w_start:t.start] for w in lexicon("new_event"))
    if not fresh and group_key in last_group:
        g = last_group[group_key]
        for e in g.events:  # a second mention of the same event adds detail
            for k, v in _event(t, fields, time, doc.as_of).items():
                e.setdefault(k, v)
        g.span = (min(g.span[0], start), max(g.span[1], end))
        return
    for when in each or [time]:
        ev = _event(t, fields, when, doc.as_of)
        g = Group([dict(ev) for _ in range(max(1, min(count or 1, MAX_COUNT)))], (start, end), when,
                  clause.sentence, t.start)
        found.events.append(g)
    last_group[group_key] = g


def _elliptic_denials(doc: Doc, found: Events) -> None:
    """"罚过一次款，之后再也没有过": a clause with no trigger denying, after its time, the event told before it."""
    for c in doc.clauses:
        if any(c.start <= t.start < c.end for t in doc.triggers):
            continue
        negs = [n for n in doc.negations if c.start <= n[0] < c.end]
        if not negs or not _only_words(doc.text[negs[0][1]:c.end], lexicon("post_negation_tail")):
            continue
        after, since = _after_time(doc, c, negs[0][0], found)
        prev = found.last_before(c.start, c.sentence)
        if after and since and prev:
            entry = {"type": prev.events[0]["type"], **since.as_fields(doc.as_of)}
            found.deny(entry, (c.start, c.end))


def _events(doc: Doc) -> Events:
    found = Events()
    last_group: dict[tuple[int, str], Group] = {}
    for i, t in enumerate(doc.triggers):
        if t.term.type == IGNORE:
            continue
        clause = _clause_of(doc, t.start)
        neg = _negation_of(doc, t, clause)
        w_start, w_end = _window(doc, i, clause)
        if neg and "negated" not in t.term.flags:
            _deny(doc, t, clause, neg, w_start, found)
        elif neg or "negated" not in t.term.flags:
            _tell(doc, i, t, clause, w_start, w_end, last_group, found)
    _elliptic_denials(doc, found)
    return found


# ---------------------------------------------------------------- public API

def parse_facts(message: str, as_of: dt.date) -> dict:
    """The profile facts `message` states, and only those, with the words each came from (see module doc)."""
    doc = _doc(message, as_of)
    out: dict[str, Any] = {}
    said: dict[str, Any] = {}
    for key, (value, clause) in _scalar_facts(doc).items():
        out[key], said[key] = value, doc.words(clause.start, clause.end)
    regions = _stated_regions(doc)
    if regions:
        out["region"], said["region"] = regions[0][0], doc.words(regions[0][1].start, regions[0][1].end)
    industries, span = _stated_industries(doc)
    if industries:
        out["industries"], said["industries"] = industries, doc.words(*span)
    found = _events(doc)
    if found.events:
        out["events"] = [{k: e[k] for k in EVENT_FIELD_ORDER if k in e} for g in found.events for e in g.events]
        said["events"] = [doc.words(*g.span) for g in found.events for _ in g.events]
    if found.absent:
        out["absent_events"] = [e for e, _ in found.absent]
        said["absent_events"] = [doc.words(*span) for _, span in found.absent]
    if _words_at_bounds(doc.text, 0, len(doc.text), lexicon("hypothetical"), doc.bounds):
        out["_hypothetical"] = True
    if said:
        out["_said"] = said
    return {k: out[k] for k in KEY_ORDER if k in out}
