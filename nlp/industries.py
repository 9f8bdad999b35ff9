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


def _elided_siblings(text: str, start: int, end: int, canon: str) -> tuple[list[str], list[str]]:
    """Siblings named by ellipsis before and after a match: 金属、木质粉尘 / 危险化学品生产、储存."""
    seps = _lexicon("coordination")
    before: list[str] = []
    after: list[str] = []
    names = vocabulary().broader.keys()
    pos = end
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
    return before, after


def _negated(text: str, start: int) -> bool:
    clause_start = max((m.end() for m in _CLAUSE_BREAK.finditer(text, 0, start)), default=0)
    return any(neg in text[clause_start:start] for neg in _lexicon("industry_negation"))


def find_industries(text: str) -> list[str]:
    """Canonical industries named in `text`, most specific only, in order of mention.

    "危险化学品储存企业" → ["危险化学品储存"]; a term denied in its clause ("我们不是化工企业") is skipped.
    """
    found: list[str] = []
    for start, end, canon in _scan(text):
        if canon == SHADOW or _negated(text, start):
            continue
        before, after = _elided_siblings(text, start, end, canon)
        for term in [*before, canon, *after]:
            if term not in found:
                found.append(term)
    return [t for t in found if not any(t in ancestors(o) for o in found if o != t)]
