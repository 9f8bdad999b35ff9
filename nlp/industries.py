"""Industry vocabulary: canonical terms, their aliases and which term is broader than which.

The vocabulary is data (nlp/data/industries.tsv); this module only reads and matches it.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from nlp.types import ReadError

DATA_FILE = os.path.join(os.path.dirname(__file__), "data", "industries.tsv")
SHADOW = "-"  # canonical of rows that only hide phrases which contain an industry word
_CLAUSE_BREAK = re.compile(r"[，,。；;！!？?\n]")


@dataclass(frozen=True)
class Vocabulary:
    aliases: dict[str, str]             # alias -> canonical (or SHADOW)
    broader: dict[str, tuple[str, ...]]  # canonical -> its direct broader terms
    max_alias: int


def _parse_row(line: str, lineno: int) -> tuple[str, list[str], list[str]]:
    cols = line.rstrip("\n").split("\t")
    if len(cols) not in (2, 3) or not cols[0].strip():
        raise ReadError(DATA_FILE, "expected canonical<TAB>alias|alias…[<TAB>broader,…]", lineno)
    canon = cols[0].strip()
    aliases = [a.strip() for a in cols[1].split("|") if a.strip()]
    broader = [b.strip() for b in cols[2].split(",") if b.strip()] if len(cols) == 3 else []
    return canon, aliases, broader


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    aliases: dict[str, str] = {}
    broader: dict[str, tuple[str, ...]] = {}
    with open(DATA_FILE, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            canon, alias_list, parents = _parse_row(line, lineno)
            if canon != SHADOW:
                broader[canon] = tuple(parents)
                aliases[canon] = canon
            for a in alias_list:
                aliases[a] = canon
    for canon, parents in broader.items():
        for p in parents:
            if p not in broader:
                raise ReadError(DATA_FILE, f"{canon}: broader term {p!r} is not a canonical term")
    return Vocabulary(aliases, broader, max(map(len, aliases)))


def canonical(term: str) -> str:
    """The canonical name of an industry term or alias; an unknown term comes back stripped."""
    t = term.strip()
    return vocabulary().aliases.get(t, t) if vocabulary().aliases.get(t) != SHADOW else t


@lru_cache(maxsize=None)
def ancestors(term: str) -> frozenset[str]:
    """Every term broader than `term` (transitively), not including itself."""
    out: set[str] = set()
    for p in vocabulary().broader.get(canonical(term), ()):
        out |= {p} | ancestors(p)
    return frozenset(out)


def industry_matches(profile_term: str, rule_term: str) -> bool:
    """True when the enterprise's industry is the rule's industry or a specialisation of it.

    Directional: a 危险化学品储存 enterprise is covered by a rule about 危险化学品, but an
    enterprise known only as 危险化学品 is not known to be covered by a rule about 危险化学品储存.
    """
    p, r = canonical(profile_term), canonical(rule_term)
    return p == r or r in ancestors(p)


def _longest_at(text: str, i: int) -> tuple[str, int] | None:
    voc = vocabulary()
    for j in range(min(len(text), i + voc.max_alias), i, -1):
        canon = voc.aliases.get(text[i:j])
        if canon is not None:
            return canon, j
    return None


def _scan(text: str) -> list[tuple[int, int, str]]:
    """Leftmost-longest, non-overlapping alias matches as (start, end, canonical)."""
    found, i = [], 0
    while i < len(text):
        hit = _longest_at(text, i)
        if hit:
            found.append((i, hit[1], hit[0]))
            i = hit[1]
        else:
            i += 1
    return found


def _lexicon(name: str) -> tuple[str, ...]:
    from nlp.facts import lexicon  # the word lists live with the fact patterns; imported late (facts imports us)
    return lexicon(name)


def _elided_siblings(text: str, start: int, end: int, canon: str) -> tuple[list[str], list[str], int, int]:
    """Siblings named by ellipsis before and after a match: 金属、木质粉尘 / 危险化学品生产、储存; and the
    span the coordination covers."""
    seps = _lexicon("coordination")
    before: list[str] = []
    after: list[str] = []
    names = vocabulary().broader.keys()
    pos, first = end, start
    while pos < len(text) and text[pos] in seps:  # 危险化学品生产、储存、经营
        nxt = None
        for other in names:
            prefix = os.path.commonprefix([canon, other])
            tail = other[len(prefix):]
            if len(prefix) >= 2 and tail and text.startswith(tail, pos + 1):
                if nxt is None or len(tail) > len(nxt[1]):
                    nxt = (other, tail)
        if nxt is None:
            break
        after.append(nxt[0])
        pos += 1 + len(nxt[1])
    for other in names:  # 金属、木质粉尘: the shared head comes last
        suffix = os.path.commonprefix([canon[::-1], other[::-1]])[::-1]
        head = other[: len(other) - len(suffix)]
        if len(suffix) >= 2 and head and start - len(head) - 1 >= 0 \
                and text[start - 1] in seps and text[start - 1 - len(head):start - 1] == head:
            before.append(other)
            first = min(first, start - 1 - len(head))
    return before, after, first, pos


def _clause_span(text: str, start: int, end: int) -> tuple[int, int]:
    a = max((m.end() for m in _CLAUSE_BREAK.finditer(text, 0, start)), default=0)
    m = _CLAUSE_BREAK.search(text, end)
    return a, (m.start() if m else len(text))


@lru_cache(maxsize=1)
def _denial_patterns() -> tuple[re.Pattern, re.Pattern]:
    alt = lambda name: "|".join(map(re.escape, sorted(_lexicon(name), key=len, reverse=True)))
    neg, verb, gap = alt("industry_denial"), alt("industry_denial_verb"), alt("industry_denial_gap")
    return (re.compile(f"(?:{neg})(?:{verb})*$"),
            re.compile(f"^(?:{gap})*(?:{neg})(?:{verb})*(?:过|了|的)?$"))


def _negated(text: str, start: int, end: int) -> bool:
    """Whether the industry words at text[start:end] are denied: after a copula negation in their clause
    ("我们不是化工企业"), right after a negated verb ("不使用危险化学品", "没有金属或木质粉尘", "也不涉及危化品"),
    or followed by one ending the clause ("危化品也不涉及", "金属粉尘都没有")."""
    clause_start, clause_end = _clause_span(text, start, end)
    prefix = text[clause_start:start]
    if any(neg in prefix for neg in _lexicon("industry_negation")):
        return True
    before, after = _denial_patterns()
    return bool(before.search(prefix.strip()) or after.match(text[end:clause_end].strip()))


def find_industries(text: str) -> list[str]:
    """Canonical industries named in `text`, most specific only, in order of mention.

    "危险化学品储存企业" → ["危险化学品储存"]; a term denied in its clause ("我们不是化工企业", "不使用危险化学品",
    "没有金属或木质粉尘") is skipped, with the terms coordinated with it ("危化品和危险化工工艺都不涉及").
    """
    seps = _lexicon("coordination")
    groups: list[list] = []  # coordinated mentions: [start, end, [terms]]
    for start, end, canon in _scan(text):
        terms, first, last = [], start, end
        if canon != SHADOW:
            before, after, first, last = _elided_siblings(text, start, end, canon)
            terms = [*before, canon, *after]
        if groups and _only_words(text[groups[-1][1]:first], seps) and first >= groups[-1][1]:
            groups[-1][1] = max(groups[-1][1], last)
            groups[-1][2] += terms
        else:
            groups.append([first, last, terms])
    found: list[str] = []
    for start, end, terms in groups:
        if _negated(text, start, end):
            continue
        found += [t for t in terms if t not in found]
    return [t for t in found if not any(t in ancestors(o) for o in found if o != t)]


def _only_words(s: str, words: tuple[str, ...]) -> bool:
    """Whether `s` is nothing but `words` (or empty)."""
    for w in sorted(words, key=len, reverse=True):
        s = s.replace(w, "")
    return not s.strip()
